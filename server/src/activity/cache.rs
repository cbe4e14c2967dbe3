//! A projection per board, kept between requests and brought up to the log's head on each read.
//!
//! The cache is only a shortcut: dropping an entry (to stay within [`CAPACITY`] boards, or
//! because a read panicked half-way) means the next read folds the board's log from the start.
//! Everything here blocks (it reads the store): call it from `web::block`, never from async code.

use super::Projection;
use crate::engine::{Engine, HistoryError};
use crate::store::EventStore;
use kipina_proto::BoardId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How many boards' projections are kept (each holds a copy of its board's state); the least
/// recently read goes first.
const CAPACITY: usize = 16;
/// How many facts are read from the log at a time while catching up.
const CHUNK: u64 = 4_096;

#[derive(Debug)]
struct Entry {
    projection: Arc<Mutex<Projection>>,
    last_read: u64,
}

/// Every board's activity projection, shared by all requests.
#[derive(Debug, Default)]
pub struct ActivityCache {
    entries: Mutex<HashMap<BoardId, Entry>>,
    reads: std::sync::atomic::AtomicU64,
}

impl ActivityCache {
    /// Runs `read` on the board's projection as of the log's head now; `None` when the board
    /// does not exist.
    pub fn read<S: EventStore, R>(
        &self,
        engine: &Engine<S>,
        board: BoardId,
        read: impl FnOnce(&Projection) -> R,
    ) -> Result<Option<R>, HistoryError> {
        let head = engine.store().head(board)?;
        if head == 0 {
            return Ok(None);
        }
        let projection = self.entry(board);
        let mut guard = match projection.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A read panicked while folding: start this board again from its first event.
                let mut guard = poisoned.into_inner();
                *guard = Projection::default();
                projection.clear_poison();
                guard
            }
        };
        while guard.head() < head {
            let from = guard.head() + 1;
            let to = head.min(from + CHUNK - 1);
            let facts = engine.history(board, from, to)?;
            if facts.is_empty() {
                break;
            }
            for fact in &facts {
                guard.fold(fact);
            }
        }
        Ok(Some(read(&guard)))
    }

    /// The board's projection, made empty on first use.
    fn entry(&self, board: BoardId) -> Arc<Mutex<Projection>> {
        let now = self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !entries.contains_key(&board) && entries.len() >= CAPACITY {
            let oldest = entries.iter().min_by_key(|(_, entry)| entry.last_read).map(|(board, _)| *board);
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        let entry = entries.entry(board).or_insert_with(|| Entry { projection: Arc::default(), last_read: now });
        entry.last_read = now;
        Arc::clone(&entry.projection)
    }
}

#[cfg(test)]
mod tests {
    //! The cache over a real store: it folds only what is new, and forgets the board read longest ago.

    use super::{ActivityCache, CAPACITY};
    use crate::data_dir::DataDir;
    use crate::engine::Engine;
    use kipina_domain::testing::{ALICE, FACILITATOR, IDEAS, add_card, add_column, card, create_board, join};
    use kipina_domain::{BoardState, Context};
    use kipina_proto::{BoardId, Command, CommandId, ParticipantId, Role, Timestamp};
    use uuid::Uuid;

    fn run(engine: &Engine, board: BoardId, state: &mut BoardState, actor: ParticipantId, command: Command) {
        let context = Context { actor, at: Timestamp(1_800_000_000_000 + i64::try_from(state.version).unwrap_or(0)) };
        engine
            .execute(board, state, CommandId(Uuid::now_v7()), context, &command)
            .unwrap_or_else(|error| panic!("{command:?}: {error}"));
    }

    #[test]
    fn a_read_folds_what_arrived_since_the_last_one_and_old_boards_are_forgotten() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = Engine::open(&DataDir::new(dir.path())).expect("the engine opens");
        let cache = ActivityCache::default();
        let board = BoardId(Uuid::now_v7());
        assert_eq!(cache.read(&engine, board, |projection| projection.head()).expect("read"), None, "no board yet");

        let mut state = BoardState::default();
        run(&engine, board, &mut state, FACILITATOR, create_board());
        run(&engine, board, &mut state, FACILITATOR, add_column(IDEAS, "Ideat"));
        let first = cache.read(&engine, board, |projection| projection.head()).expect("read");
        assert_eq!(first, Some(state.version));
        run(&engine, board, &mut state, ALICE, join("Aino", Role::Participant));
        run(&engine, board, &mut state, ALICE, add_card(card(1), IDEAS, "Kyläkoulu"));
        let (head, newest) = cache
            .read(&engine, board, |projection| {
                let page = projection.page(crate::projection::views::Viewer::Observer, &super::super::Query::newest(1));
                (projection.head(), page.items[0].card)
            })
            .expect("read")
            .expect("the board");
        assert_eq!((head, newest), (state.version, Some(card(1))));
        let folded = cache.read(&engine, board, |projection| projection.state().clone()).expect("read");
        assert_eq!(folded.as_ref(), Some(&state), "the same state as the one executing the commands");

        for _ in 0..CAPACITY {
            let other = BoardId(Uuid::now_v7());
            run(&engine, other, &mut BoardState::default(), FACILITATOR, create_board());
            cache.read(&engine, other, |_| ()).expect("read");
        }
        let entries = cache.entries.lock().expect("not poisoned");
        assert_eq!(entries.len(), CAPACITY);
        assert!(!entries.contains_key(&board), "the board read longest ago went first");
    }
}
