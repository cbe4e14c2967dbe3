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

/// How many boards' projections are kept; the least recently read goes first.
const CAPACITY: usize = 64;
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
