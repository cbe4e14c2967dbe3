//! The search indexes of the boards searched lately, each for the board version it was built
//! from, and the builds under way: one build per board version, however many search at once.
//!
//! An index whose board has moved on is built again on its next search. Searches that arrive
//! while it is being built wait for that build instead of copying the board's texts again. Only
//! a few boards are kept, the least lately searched going first, so a server with many boards
//! holds the indexes of the few people are searching now.

use super::index::Index;
use kipina_proto::BoardId;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// How many boards' indexes are kept.
pub const CAPACITY: usize = 8;

/// Where a board's index at one version will be, once built.
pub type Building = watch::Receiver<Option<Arc<Index>>>;

/// What a search finds for a board version.
#[derive(Debug)]
pub enum Slot {
    /// The index is built.
    Ready(Arc<Index>),
    /// Another search is building it: wait on this.
    Pending(Building),
    /// Nobody has it: the caller builds it and sends it here (for the others to use).
    Build(watch::Sender<Option<Arc<Index>>>),
}

#[derive(Debug)]
struct Entry {
    board: BoardId,
    version: u64,
    index: Building,
}

/// Boards' indexes, the most lately used last.
#[derive(Debug, Default)]
pub struct IndexCache {
    entries: Mutex<Vec<Entry>>,
}

impl IndexCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `board` at `version`: built, being built, or to be built by the caller
    /// (who is then registered as its builder). Quick: called on the board's task.
    pub fn slot(&self, board: BoardId, version: u64) -> Slot {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(position) = entries.iter().position(|entry| entry.board == board) {
            let entry = entries.remove(position);
            // A build whose builder is gone without an index (it panicked) is started again.
            let abandoned = entry.index.borrow().is_none() && entry.index.has_changed().is_err();
            if entry.version == version && !abandoned {
                let built = entry.index.borrow().clone();
                let slot = match built {
                    Some(index) => Slot::Ready(index),
                    None => Slot::Pending(entry.index.clone()),
                };
                entries.push(entry);
                return slot;
            }
            if entry.version > version && !abandoned {
                // Read from an older state than the one kept (cannot happen through the board's
                // task, whose version only grows): built for this search alone.
                entries.push(entry);
                return Slot::Build(watch::channel(None).0);
            }
        }
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        let (sender, index) = watch::channel(None);
        entries.push(Entry { board, version, index });
        Slot::Build(sender)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{Corpus, Index};
    use kipina_proto::Language;

    fn index(version: u64) -> Arc<Index> {
        Arc::new(Index::build(Corpus { version, language: Language::Fi, documents: Vec::new() }))
    }

    fn board(number: u128) -> BoardId {
        BoardId(uuid::Uuid::from_u128(number))
    }

    /// Takes the slot, which must be for the caller to build, and builds it.
    fn build(cache: &IndexCache, board: BoardId, version: u64) {
        match cache.slot(board, version) {
            Slot::Build(sender) => {
                sender.send_replace(Some(index(version)));
            }
            other => panic!("expected to build {version}, got {other:?}"),
        }
    }

    #[test]
    fn an_index_is_built_once_per_board_version() {
        let cache = IndexCache::new();
        let Slot::Build(sender) = cache.slot(board(1), 5) else { panic!("the first search builds") };
        // Searches while it is built wait for it.
        let Slot::Pending(mut waiting) = cache.slot(board(1), 5) else { panic!("the second waits") };
        sender.send_replace(Some(index(5)));
        assert_eq!(waiting.borrow_and_update().as_ref().map(|index| index.version()), Some(5));
        assert!(matches!(cache.slot(board(1), 5), Slot::Ready(index) if index.version() == 5));
        // The board moved on: the next search builds again, for another board too.
        build(&cache, board(1), 6);
        assert!(matches!(cache.slot(board(1), 6), Slot::Ready(_)));
        build(&cache, board(2), 6);
        // An older version than the one kept is built but not kept.
        assert!(matches!(cache.slot(board(1), 5), Slot::Build(_)));
        assert!(matches!(cache.slot(board(1), 6), Slot::Ready(_)));
    }

    #[test]
    fn a_build_whose_builder_failed_is_started_again() {
        let cache = IndexCache::new();
        let Slot::Build(sender) = cache.slot(board(1), 5) else { panic!("the first search builds") };
        let Slot::Pending(waiting) = cache.slot(board(1), 5) else { panic!("the second waits") };
        drop(sender);
        assert!(waiting.has_changed().is_err(), "the waiting search learns that no index comes");
        assert!(matches!(cache.slot(board(1), 5), Slot::Build(_)));
    }

    #[test]
    fn the_least_lately_searched_board_goes_first() {
        let cache = IndexCache::new();
        for number in 0..CAPACITY as u128 {
            build(&cache, board(number), 1);
        }
        assert!(matches!(cache.slot(board(0), 1), Slot::Ready(_)), "board 0 is now the latest searched");
        build(&cache, board(100), 1);
        assert!(matches!(cache.slot(board(0), 1), Slot::Ready(_)));
        assert!(matches!(cache.slot(board(1), 1), Slot::Build(_)), "board 1 was the least lately searched");
        assert!(matches!(cache.slot(board(100), 1), Slot::Ready(_)));
    }
}
