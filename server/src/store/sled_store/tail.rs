//! Each board's newest events, held in memory until they fill a chunk (ADR 0011).
//!
//! sled's own work per insert (finding the leaf, copying it, logging the change, writing its
//! buffers out) was most of the writer's time and most of the process's CPU per event, as much
//! as raw sled inserting the same records. So the writer no longer inserts an event into sled
//! on its own. A group's frame in the commit log is what makes its events durable (ADR 0007);
//! applying the group now puts each event at the end of its board's *tail* here, and once a
//! tail holds [`CHUNK_EVENTS`] events or [`CHUNK_BYTES`] bytes of records, the writer inserts
//! them into sled as one chunk (the format of ADR 0008) and only then takes them out of the
//! tail. A checkpoint writes every tail, however short, as a chunk before it makes sled durable
//! and starts the log's next generation, so an event leaves the log only once sled holds it;
//! after a crash, opening applies the log's frames again, as events, skipping those a chunk
//! already holds.
//!
//! Invariants:
//!
//! - sled holds a prefix of each board's stream, and the board's tail the events after it, in
//!   order: a chunk goes into sled before its events leave the tail.
//! - Every event below a board's durable head is in sled or in the tail: the syncer publishes a
//!   head only once the writer has applied the groups below it (see `writer`).
//!
//! A reader therefore takes the tail's records first (cheap clones of shared buffers) and then
//! reads sled: whatever left the tail in between is in sled by then. What it finds in both is
//! the same event, read once.

use super::*;
use crate::store::sled_store::chunks::{CHUNK_BYTES, CHUNK_EVENTS};

/// A record held in a tail: its seq, its key, and its bytes, shared with readers.
pub(super) type TailRecord = (u64, [u8; record::EVENT_KEY_LEN], Arc<Vec<u8>>);

/// The tails of every board written since the last checkpoint.
#[derive(Default)]
pub(super) struct Tails {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    boards: HashMap<BoardId, Tail>,
    /// Events put into tails since the store opened: orders the tails by their oldest event.
    pushed: u64,
}

#[derive(Default)]
struct Tail {
    records: Vec<TailRecord>,
    /// Bytes of the records.
    bytes: usize,
    /// [`Inner::pushed`] when the tail's first record came.
    since: u64,
}

impl Tail {
    fn is_full(&self) -> bool {
        self.records.len() >= CHUNK_EVENTS || self.bytes >= CHUNK_BYTES
    }
}

impl Tails {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is a push or a drain of one board's tail, so a panic elsewhere cannot
        // leave a tail half-changed.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether appending a record of `len` bytes would take the board's tail past a chunk's
    /// bytes, so that the tail has to be written as a chunk first.
    pub(super) fn would_overflow(&self, board: BoardId, len: usize) -> bool {
        self.lock().boards.get(&board).is_some_and(|tail| !tail.records.is_empty() && tail.bytes + len > CHUNK_BYTES)
    }

    /// Puts an event at the end of its board's tail; true once the tail fills a chunk.
    pub(super) fn push(&self, board: BoardId, seq: u64, key: [u8; record::EVENT_KEY_LEN], value: Vec<u8>) -> bool {
        let mut inner = self.lock();
        inner.pushed += 1;
        let pushed = inner.pushed;
        let tail = inner.boards.entry(board).or_insert_with(|| Tail { since: pushed, ..Tail::default() });
        debug_assert!(tail.records.last().is_none_or(|(last, ..)| *last + 1 == seq), "a tail is in stream order");
        tail.bytes += value.len();
        tail.records.push((seq, key, Arc::new(value)));
        tail.is_full()
    }

    /// The board's tail, from `from` on (a clone of each record's handle, not of its bytes).
    pub(super) fn records(&self, board: BoardId, from: u64) -> Vec<TailRecord> {
        let inner = self.lock();
        let Some(tail) = inner.boards.get(&board) else { return Vec::new() };
        let start = tail.records.partition_point(|(seq, ..)| *seq < from);
        tail.records[start..].to_vec()
    }

    /// The whole tail of a board, to be written as a chunk; it stays in the tail until
    /// [`Tails::written`] takes it out.
    pub(super) fn to_write(&self, board: BoardId) -> Vec<TailRecord> {
        self.records(board, 0)
    }

    /// Takes out the board's first `count` records, now in sled.
    pub(super) fn written(&self, board: BoardId, count: usize) {
        let mut inner = self.lock();
        if let Some(tail) = inner.boards.get_mut(&board) {
            let count = count.min(tail.records.len());
            tail.bytes -= tail.records[..count].iter().map(|(_, _, value)| value.len()).sum::<usize>();
            tail.records.drain(..count);
            if tail.records.is_empty() {
                inner.boards.remove(&board);
            }
        }
    }

    /// The boards that have a tail, the one with the oldest event first: a checkpoint writes
    /// them in this order, so sled's log keeps events in about the order they were stored, and
    /// what sled drops after damage in its log is what came last.
    pub(super) fn boards(&self) -> Vec<BoardId> {
        let inner = self.lock();
        let mut boards: Vec<(u64, BoardId)> = inner.boards.iter().map(|(board, tail)| (tail.since, *board)).collect();
        boards.sort_unstable();
        boards.into_iter().map(|(_, board)| board).collect()
    }

    /// Each tail's first seq and its number of events.
    pub(super) fn extents(&self) -> HashMap<BoardId, (u64, u64)> {
        self.lock()
            .boards
            .iter()
            .filter_map(|(board, tail)| Some((*board, (tail.records.first()?.0, tail.records.len() as u64))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn board() -> BoardId {
        BoardId::from_uuid(Uuid::from_u128(7))
    }

    #[test]
    fn a_tail_fills_at_a_chunk_and_gives_its_records_from_a_seq() {
        let tails = Tails::default();
        for seq in 1..CHUNK_EVENTS as u64 {
            assert!(!tails.push(board(), seq, record::event_key(board(), seq), vec![0; 10]), "not full at {seq}");
        }
        assert!(tails.push(board(), CHUNK_EVENTS as u64, record::event_key(board(), CHUNK_EVENTS as u64), vec![0; 10]));
        let from_ten: Vec<u64> = tails.records(board(), 10).iter().map(|(seq, ..)| *seq).collect();
        assert_eq!(from_ten, (10..=CHUNK_EVENTS as u64).collect::<Vec<_>>());
        tails.written(board(), 20);
        assert_eq!(tails.records(board(), 0).first().map(|(seq, ..)| *seq), Some(21));
        tails.written(board(), CHUNK_EVENTS);
        assert!(tails.boards().is_empty(), "an empty tail is gone");
    }

    #[test]
    fn a_record_that_would_take_the_tail_past_a_chunks_bytes_is_told() {
        let tails = Tails::default();
        assert!(!tails.would_overflow(board(), CHUNK_BYTES * 2), "an empty tail takes any record");
        tails.push(board(), 1, record::event_key(board(), 1), vec![0; CHUNK_BYTES - 10]);
        assert!(!tails.would_overflow(board(), 10));
        assert!(tails.would_overflow(board(), 11));
    }

    #[test]
    fn the_tail_with_the_oldest_event_comes_first() {
        let tails = Tails::default();
        let boards: Vec<BoardId> = [5, 3, 9].into_iter().map(|n| BoardId::from_uuid(Uuid::from_u128(n))).collect();
        for (seq, board) in [(1, 0), (1, 1), (2, 0), (1, 2)] {
            tails.push(boards[board], seq, record::event_key(boards[board], seq), vec![1]);
        }
        assert_eq!(tails.boards(), boards);
        // Once the first board's tail is written, a new event starts it afresh, as the newest.
        tails.written(boards[0], 2);
        tails.push(boards[0], 3, record::event_key(boards[0], 3), vec![1]);
        assert_eq!(tails.boards(), [boards[1], boards[2], boards[0]]);
    }
}
