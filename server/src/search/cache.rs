//! The search indexes of the boards searched lately, each for the board version it was built
//! from. An index whose board has moved on is built again on its next search; only a few boards
//! are kept, the least lately searched going first, so a server with many boards holds the
//! indexes of the few people are searching now.

use super::index::Index;
use kipina_proto::BoardId;
use std::sync::{Arc, Mutex};

/// How many boards' indexes are kept.
pub const CAPACITY: usize = 8;

/// Boards' indexes, the most lately used last.
#[derive(Debug, Default)]
pub struct IndexCache {
    entries: Mutex<Vec<(BoardId, Arc<Index>)>>,
}

impl IndexCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `board` at `version`, if one is kept.
    pub fn get(&self, board: BoardId, version: u64) -> Option<Arc<Index>> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let position = entries.iter().position(|(id, index)| *id == board && index.version() == version)?;
        let entry = entries.remove(position);
        let index = Arc::clone(&entry.1);
        entries.push(entry);
        Some(index)
    }

    /// Keeps `index` for `board`, unless a newer one is kept already (two searches may build
    /// at once, and the slower may have read an older version).
    pub fn put(&self, board: BoardId, index: Arc<Index>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(position) = entries.iter().position(|(id, _)| *id == board) {
            if entries[position].1.version() > index.version() {
                return;
            }
            entries.remove(position);
        }
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        entries.push((board, index));
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

    #[test]
    fn an_index_is_found_only_for_its_version_and_newer_ones_win() {
        let cache = IndexCache::new();
        cache.put(board(1), index(5));
        assert!(cache.get(board(1), 5).is_some());
        assert!(cache.get(board(1), 6).is_none(), "the board moved on");
        assert!(cache.get(board(2), 5).is_none());
        cache.put(board(1), index(7));
        cache.put(board(1), index(6));
        assert!(cache.get(board(1), 7).is_some(), "an older build finishing late does not replace a newer one");
        assert!(cache.get(board(1), 6).is_none());
    }

    #[test]
    fn the_least_lately_searched_board_goes_first() {
        let cache = IndexCache::new();
        for number in 0..CAPACITY as u128 {
            cache.put(board(number), index(1));
        }
        assert!(cache.get(board(0), 1).is_some(), "board 0 is now the latest searched");
        cache.put(board(100), index(1));
        assert!(cache.get(board(0), 1).is_some());
        assert!(cache.get(board(1), 1).is_none(), "board 1 was the least lately searched");
        assert!(cache.get(board(100), 1).is_some());
    }
}
