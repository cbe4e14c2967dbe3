//! The search indexes of the boards searched lately, each for the board version it was built
//! from, the builds under way (one build per board version, however many search at once), and
//! each board's latest whole segment, which the index of a newer version is updated from.
//!
//! An index whose board has moved on is replaced on the next search: by an update of the
//! board's latest whole segment (only what changed since it is folded), or, for a board with
//! none yet, by a build from scratch. Searches that arrive while it is made wait for it instead
//! of reading the board again. When an update has grown to a fair part of the board, one search
//! starts a [`Compaction`] off the request path, whose whole segment the later updates start
//! from. Only a few boards are kept, the least lately searched going first, so a server with
//! many boards holds the indexes of the few people are searching now.

use super::index::Index;
use super::segment::Segment;
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
    /// Nobody has it: the caller makes it and sends it here (for the others to use), from
    /// `base` (the board's latest whole segment) with only what changed since, when there is one.
    Build { sender: watch::Sender<Option<Arc<Index>>>, base: Option<Arc<Segment>> },
}

#[derive(Debug)]
struct Entry {
    board: BoardId,
    version: u64,
    index: Building,
    /// The board's latest whole segment.
    base: Option<Arc<Segment>>,
    /// Whether a compaction for the board is under way.
    compacting: bool,
}

/// The segment of the later board version of the two.
fn newer(kept: Option<Arc<Segment>>, other: Option<Arc<Segment>>) -> Option<Arc<Segment>> {
    match (kept, other) {
        (Some(kept), Some(other)) => Some(if other.version() > kept.version() { other } else { kept }),
        (kept, other) => kept.or(other),
    }
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

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The index of `board` at `version`: built, being built, or to be built by the caller
    /// (who is then registered as its builder). Quick: called on the board's task.
    pub fn slot(&self, board: BoardId, version: u64) -> Slot {
        let mut entries = self.entries();
        if let Some(position) = entries.iter().position(|entry| entry.board == board) {
            let mut entry = entries.remove(position);
            let built = entry.index.borrow().as_ref().map(|index| Arc::clone(index.main()));
            entry.base = newer(entry.base.take(), built);
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
            let base = entry.base.clone();
            if entry.version > version && !abandoned {
                // Read from an older state than the one kept (cannot happen through the board's
                // task, whose version only grows): made for this search alone.
                entries.push(entry);
                return Slot::Build { sender: watch::channel(None).0, base };
            }
            let (sender, index) = watch::channel(None);
            entries.push(Entry { board, version, index, base: entry.base, compacting: entry.compacting });
            return Slot::Build { sender, base };
        }
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        let (sender, index) = watch::channel(None);
        entries.push(Entry { board, version, index, base: None, compacting: false });
        Slot::Build { sender, base: None }
    }

    /// Registers a compaction of `board`'s index, unless one is under way (or the board is no
    /// longer kept).
    pub fn start_compaction(self: &Arc<Self>, board: BoardId) -> Option<Compaction> {
        let mut entries = self.entries();
        let entry = entries.iter_mut().find(|entry| entry.board == board)?;
        if entry.compacting {
            return None;
        }
        entry.compacting = true;
        Some(Compaction { cache: Arc::clone(self), board, done: false })
    }

    fn compaction_ended(&self, board: BoardId, segment: Option<Arc<Segment>>) {
        let mut entries = self.entries();
        if let Some(entry) = entries.iter_mut().find(|entry| entry.board == board) {
            entry.compacting = false;
            entry.base = newer(entry.base.take(), segment);
        }
    }
}

/// A compaction under way: [`Compaction::finish`] hands the cache the new whole segment;
/// dropped unfinished (its builder panicked), it lets another start.
#[derive(Debug)]
pub struct Compaction {
    cache: Arc<IndexCache>,
    board: BoardId,
    done: bool,
}

impl Compaction {
    /// The board's new whole segment, which later updates start from.
    pub fn finish(mut self, segment: Arc<Segment>) {
        self.done = true;
        self.cache.compaction_ended(self.board, Some(segment));
    }
}

impl Drop for Compaction {
    fn drop(&mut self) {
        if !self.done {
            self.cache.compaction_ended(self.board, None);
        }
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
            Slot::Build { sender, .. } => {
                sender.send_replace(Some(index(version)));
            }
            other => panic!("expected to build {version}, got {other:?}"),
        }
    }

    #[test]
    fn an_index_is_built_once_per_board_version() {
        let cache = IndexCache::new();
        let Slot::Build { sender, .. } = cache.slot(board(1), 5) else { panic!("the first search builds") };
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
        assert!(matches!(cache.slot(board(1), 5), Slot::Build { .. }));
        assert!(matches!(cache.slot(board(1), 6), Slot::Ready(_)));
    }

    #[test]
    fn a_build_whose_builder_failed_is_started_again() {
        let cache = IndexCache::new();
        let Slot::Build { sender, .. } = cache.slot(board(1), 5) else { panic!("the first search builds") };
        let Slot::Pending(waiting) = cache.slot(board(1), 5) else { panic!("the second waits") };
        drop(sender);
        assert!(waiting.has_changed().is_err(), "the waiting search learns that no index comes");
        assert!(matches!(cache.slot(board(1), 5), Slot::Build { .. }));
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
        assert!(matches!(cache.slot(board(1), 1), Slot::Build { .. }), "board 1 was the least lately searched");
        assert!(matches!(cache.slot(board(100), 1), Slot::Ready(_)));
    }

    fn base_of(slot: Slot) -> Option<u64> {
        match slot {
            Slot::Build { base, .. } => base.map(|base| base.version()),
            other => panic!("expected to build, got {other:?}"),
        }
    }

    #[test]
    fn a_newer_version_is_made_from_the_latest_whole_segment() {
        let cache = Arc::new(IndexCache::new());
        assert_eq!(base_of(cache.slot(board(1), 5)), None, "nothing to start from yet");
        build(&cache, board(1), 6);
        // Version 7 starts from the segment of 6; so does 8, while nobody searched 7's.
        let Slot::Build { sender: seven, base } = cache.slot(board(1), 7) else { panic!("7 is made") };
        assert_eq!(base.map(|base| base.version()), Some(6));
        assert_eq!(base_of(cache.slot(board(1), 8)), Some(6));
        drop(seven);
        // One compaction at a time; its segment is what later versions start from.
        let compaction = cache.start_compaction(board(1)).expect("the first compaction starts");
        assert!(cache.start_compaction(board(1)).is_none(), "one is under way");
        compaction.finish(Arc::new(Segment::empty(8)));
        assert_eq!(base_of(cache.slot(board(1), 9)), Some(8));
        // A compaction whose builder failed lets another start, and the base stays.
        drop(cache.start_compaction(board(1)).expect("a second compaction starts"));
        assert!(cache.start_compaction(board(1)).is_some());
        assert_eq!(base_of(cache.slot(board(1), 10)), Some(8));
        assert!(cache.start_compaction(board(2)).is_none(), "a board not kept is not compacted");
    }
}
