//! A board's older events in chunks (ADR 0008): reading the entries of a board's stream, which
//! are events and chunks of events, and the compaction that makes the chunks.
//!
//! # Reading
//!
//! A board's key range holds its chunks and then its events, in stream order (the key layout is
//! in [`super::record`]). Every read of a stream goes through [`each_in_entry`], which hands over
//! the records of one entry, an event's own or each of a chunk's, with the event key each was
//! checksummed under. A compaction may run while a range is read: it writes the chunk before it
//! removes the chunk's events, the last one first, so at every step a reader finds each event
//! either as itself or inside the chunk, and may meet a chunk whose first events it has already
//! read as events (also after a crash, see below). Those are skipped (`from`), so a reader never
//! sees an event twice or misses one.
//!
//! # Compaction in place (off by default)
//!
//! Chunks are best written offline by `kipina compact` ([`super::rewrite`]): compacting in
//! place grew sled's file from 906 MB to about 6 GB on the benchmark's data set, because sled
//! 0.34 does not give the space of old versions back, and sled overwrites every free segment
//! of its file when it opens. So it runs only when [`StoreOptions::compaction`] asks for it
//! (`kipina serve --compact-when-quiet-ms`); the trials run with it, so it stays correct.
//!
//! Since ADR 0011 the writer puts new events into chunks itself, straight from its boards'
//! tails ([`super::tail`]); what is left stored one entry per event is older data, what opening
//! applied from the commit log, and groups too large for the log. A thread of the lowest
//! priority rewrites each board's *settled* events of that kind after its last chunk into chunks
//! of up to [`CHUNK_EVENTS`] events and [`CHUNK_BYTES`] bytes of records: it inserts the chunk,
//! then removes its events from the last one back. Settled means durable in sled and no longer in
//! the commit log: what opening found (opening applies the log and starts a new generation), and
//! the groups too large for the log that the writer stored at each checkpoint since. The log's
//! frames are applied to sled again at the next open, and only the current generation's, so an
//! event in a chunk is never written again as an event of its own. sled recovers a prefix of its
//! operations after a crash or a power cut, so what it keeps of a chunk's writing is nothing, or
//! the chunk and some of its first events, which read whole (see above); the thread removes such
//! leftovers when it next looks at the board. One sled batch per chunk would keep it whole, but a batch takes sled's
//! global lock, which held up the writer's inserts behind this thread of the lowest priority:
//! 256 writers fell from about 75,000 to 24,000-32,000 events/s (`kipina-bench appends`).
//!
//! It writes a chunk only when the store has written nothing for a moment
//! ([`StoreOptions::compaction_quiet`], a quarter of a second by default): under a steady stream
//! of appends it waits, and catches up in the pauses. Measured on two cores, compacting beside
//! 256 writers took their rate from about 75,000 to about 32,000 events/s, also without sled's
//! global lock (`kipina-bench appends`).
//!
//! The thread starts once the background check after opening is done, so the two do not load
//! the same cold nodes side by side while the first boards are loaded. Only a board's full runs
//! are compacted. Each event's record is checked (checksum, seq) before it goes into a chunk;
//! the first problem stops the board's compaction, and the damage stays where the checks find
//! it. A board in quarantine is left alone.

use super::*;

/// The most events in one chunk.
pub(super) const CHUNK_EVENTS: usize = 64;
/// The most record bytes in one chunk; a chunk ends before the event that would exceed it (a
/// chunk holds at least one event). It keeps a leaf of sled's tree to a few hundred kilobytes,
/// which sled copies whole on every change to it.
pub(super) const CHUNK_BYTES: usize = 64 * 1024;

/// Hands each record of one entry of `board`'s stream with `seq >= from` to `each`, in order:
/// the event's own record, or each of a chunk's, with the event key it was checksummed under.
/// Records before `from` are skipped (see the module docs). A key that is not an entry of the
/// board's stream, or a chunk whose header does not check, is `malformed`, with the problem in
/// words. Returns what `each` last answered (`Continue` for an entry with nothing from `from`).
pub(super) fn each_in_entry<E>(
    board: BoardId,
    key: &[u8],
    value: &[u8],
    from: u64,
    mut each: impl FnMut(u64, &[u8], &[u8]) -> Result<ControlFlow<()>, E>,
    malformed: impl FnOnce(String) -> E,
) -> Result<ControlFlow<()>, E> {
    match record::parse_key(key) {
        Ok(ParsedKey::Event { board: key_board, seq }) if key_board == board => {
            if seq < from {
                return Ok(ControlFlow::Continue(()));
            }
            each(seq, key, value)
        }
        Ok(ParsedKey::Chunk { board: key_board, last }) if key_board == board => {
            if last < from {
                return Ok(ControlFlow::Continue(()));
            }
            let chunk = record::decode_chunk(key, value)
                .map_err(|error| malformed(format!("the chunk of events up to seq {last}: {error}")))?;
            for (seq, event_key, record) in chunk.records() {
                if seq >= from && each(seq, &event_key, record)?.is_break() {
                    return Ok(ControlFlow::Break(()));
                }
            }
            Ok(ControlFlow::Continue(()))
        }
        Ok(other) => Err(malformed(format!("unexpected key {other:?} inside the stream"))),
        Err(error) => Err(malformed(format!("malformed key {key:02x?}: {error}"))),
    }
}

/// What the writer and the store's handles tell the compaction thread, and what it says back.
#[derive(Default)]
pub(super) struct Compaction {
    state: Mutex<CompactionState>,
    changed: Condvar,
}

#[derive(Default)]
struct CompactionState {
    /// Each board's settled head not yet taken by the thread.
    settled: HashMap<BoardId, u64>,
    /// Whether the thread is working on boards it took.
    busy: bool,
    stop: bool,
    /// Whether the thread has ended (or was never started).
    ended: bool,
    /// Chunks written since the store opened.
    chunks: u64,
    /// Events moved into those chunks.
    events: u64,
}

impl Compaction {
    fn lock(&self) -> MutexGuard<'_, CompactionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes boards' settled heads: every event up to each is durable in sled and no longer in
    /// the commit log.
    pub(super) fn settle(&self, heads: impl IntoIterator<Item = (BoardId, u64)>) {
        let mut state = self.lock();
        let mut any = false;
        for (board, head) in heads {
            let settled = state.settled.entry(board).or_insert(0);
            *settled = (*settled).max(head);
            any = true;
        }
        if any {
            self.changed.notify_all();
        }
    }

    /// Asks the thread to stop after the chunk it is writing.
    pub(super) fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }

    /// Marks the thread as ended, waking anyone waiting for it to be idle.
    pub(super) fn end(&self) {
        let mut state = self.lock();
        state.ended = true;
        state.busy = false;
        self.changed.notify_all();
    }

    /// Waits until the thread has compacted everything settled so far (or has ended), and
    /// returns the chunks and the events in them written since the store opened.
    pub(super) fn wait_idle(&self) -> (u64, u64) {
        let mut state = self.lock();
        while !state.ended && (state.busy || !state.settled.is_empty()) {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        (state.chunks, state.events)
    }

    /// The chunks, and the events in them, written since the store opened.
    pub(super) fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.chunks, state.events)
    }

    fn stopping(&self) -> bool {
        self.lock().stop
    }

    /// Waits for `period`, or until asked to stop; says whether asked to stop.
    fn sleep(&self, period: Duration) -> bool {
        let deadline = Instant::now() + period;
        let mut state = self.lock();
        while !state.stop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        state.stop
    }

    /// Waits for settled heads to work on; `None` once asked to stop.
    fn take(&self) -> Option<HashMap<BoardId, u64>> {
        let mut state = self.lock();
        state.busy = false;
        self.changed.notify_all();
        while state.settled.is_empty() && !state.stop {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        if state.stop {
            return None;
        }
        state.busy = true;
        Some(std::mem::take(&mut state.settled))
    }

    fn count(&self, events: usize) {
        let mut state = self.lock();
        state.chunks += 1;
        state.events += events as u64;
    }
}

/// Starts the compaction thread (see the module docs).
pub(super) fn spawn_compaction(
    db: sled::Db,
    dir: PathBuf,
    checks: Arc<Checks>,
    compaction: Arc<Compaction>,
    shared: Arc<Shared>,
    quiet: Duration,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("kipina-store-compact".into()).spawn(move || {
        lower_priority();
        // The background check reads everything once after opening; the compaction starts
        // after it, so the two do not load the same cold nodes side by side while boards are
        // being loaded, and it finds sled's cache warm.
        checks.wait_until_finished();
        let written = shared.written.load(Ordering::Acquire);
        let mut compactor = Compactor {
            db,
            dir,
            given_up: HashSet::new(),
            shared,
            quiet,
            written,
        };
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while let Some(settled) = compaction.take() {
                let mut boards: Vec<(BoardId, u64)> = settled.into_iter().collect();
                boards.sort_unstable();
                for (board, settled) in boards {
                    if compaction.stopping() {
                        break;
                    }
                    if checks.quarantined().contains_key(&board) || compactor.given_up.contains(&board) {
                        continue;
                    }
                    if let Err(problem) = compactor.board(board, settled, &compaction) {
                        tracing::warn!(%board, %problem, dir = %compactor.dir.display(), "not compacting the board's events");
                        compactor.given_up.insert(board);
                    }
                }
            }
        }));
        if stopped.is_err() {
            tracing::error!(dir = %compactor.dir.display(), "the event store's compaction panicked; events stay as they are");
        }
        compaction.end();
    })
}

/// The compaction thread's state.
struct Compactor {
    db: sled::Db,
    dir: PathBuf,
    /// Boards met with something compaction does not touch (damage, a full disk), until the
    /// next open.
    given_up: HashSet<BoardId>,
    /// What the writer has written, to tell whether the store is busy.
    shared: Arc<Shared>,
    /// How long the store must have written nothing before a chunk is written.
    quiet: Duration,
    /// The writer's count of appends written when last looked at.
    written: u64,
}

impl Compactor {
    /// Writes the board's full chunks of events up to `settled`.
    fn board(&mut self, board: BoardId, settled: u64, compaction: &Compaction) -> Result<(), String> {
        // Finding where a board's chunks end reads back over its events: not while the store
        // is busy writing either.
        if !self.wait_until_quiet(compaction) {
            return Ok(());
        }
        // Found again each time: the writer puts its boards' tails into chunks too (ADR 0011),
        // so what was compacted last time may have chunks after it by now.
        let mut done = self.find_compacted(board)?;
        while settled.saturating_sub(done) > 0 && self.wait_until_quiet(compaction) {
            let Some(last) = self.chunk(board, done + 1, settled)? else { break };
            compaction.count(usize::try_from(last - done).unwrap_or(usize::MAX));
            done = last;
        }
        Ok(())
    }

    /// Returns at once when the store has written nothing since the last look; otherwise waits
    /// until it has written nothing for [`Compactor::quiet`]. False once asked to stop.
    fn wait_until_quiet(&mut self, compaction: &Compaction) -> bool {
        loop {
            let written = self.shared.written.load(Ordering::Acquire);
            if written == self.written || self.quiet.is_zero() {
                return !compaction.stopping();
            }
            self.written = written;
            if compaction.sleep(self.quiet) {
                return false;
            }
        }
    }

    /// The last seq of the board already in a chunk, found from the end of its stream: back
    /// over its events to its last chunk (at open its events after the last chunk are fewer than
    /// a chunk, unless it was never compacted). Events of that chunk still stored on their own,
    /// left by a crash between writing the chunk and removing them, are removed now.
    fn find_compacted(&self, board: BoardId) -> Result<u64, String> {
        let (start, end) = KeyRange::Events.bounds(board);
        let mut last_chunk = None;
        for item in self.db.range(start..end).rev() {
            let (key, value) = item.map_err(|error| error.to_string())?;
            if let Ok(ParsedKey::Chunk { .. }) = record::parse_key(&key) {
                let chunk = record::decode_chunk(&key, &value).map_err(|error| format!("its last chunk: {error}"))?;
                last_chunk = Some((chunk.first(), chunk.last()));
                break;
            }
        }
        let Some((first, last)) = last_chunk else { return Ok(0) };
        let leftovers: Vec<sled::IVec> = self
            .db
            .range(record::event_key(board, first)..record::event_key(board, last))
            .keys()
            .collect::<Result<_, _>>()
            .map_err(|error| error.to_string())?;
        for key in leftovers.iter().rev() {
            self.db.remove(key).map_err(|error| format!("removing an event its chunk holds: {error}"))?;
        }
        Ok(last)
    }

    /// Writes one chunk of the board's events from `first`, if a full one is settled: one sled
    /// batch that inserts the chunk and removes its events. Returns the chunk's last seq.
    fn chunk(&self, board: BoardId, first: u64, settled: u64) -> Result<Option<u64>, String> {
        let mut records: Vec<(sled::IVec, sled::IVec)> = Vec::with_capacity(CHUNK_EVENTS);
        let mut bytes = 0usize;
        let mut full = false;
        for item in self.db.range(record::event_key(board, first)..=record::event_key(board, settled)) {
            let (key, value) = item.map_err(|error| error.to_string())?;
            let expected = first + records.len() as u64;
            match record::parse_key(&key) {
                Ok(ParsedKey::Event { board: key_board, seq }) if key_board == board && seq == expected => {}
                other => return Err(format!("at seq {expected} the stream holds {other:?}, not the event")),
            }
            record::check_event(&key, &value).map_err(|error| format!("seq {expected}: {error}"))?;
            if !records.is_empty() && bytes + value.len() > CHUNK_BYTES {
                full = true;
                break;
            }
            bytes += value.len();
            records.push((key, value));
            if records.len() == CHUNK_EVENTS {
                full = true;
                break;
            }
        }
        if !full {
            return Ok(None);
        }
        let last = first + records.len() as u64 - 1;
        let key = record::chunk_key(board, last);
        let borrowed: Vec<&[u8]> = records.iter().map(|(_, value)| &value[..]).collect();
        let chunk = record::encode_chunk(&key, first, &borrowed);
        crate::disk_space::check(&self.dir, chunk.len()).map_err(|full| full.to_string())?;
        // The chunk first, then its events from the last one back: whatever a reader (or a
        // crash) meets in between is some of the first events and then the chunk, which reads
        // whole. Single operations rather than one sled batch, which would take sled's global
        // lock and hold up the writer's inserts while this thread of the lowest priority runs.
        self.db.insert(&key[..], chunk).map_err(|error| format!("writing a chunk failed: {error}"))?;
        for (key, _) in records.iter().rev() {
            self.db.remove(key).map_err(|error| format!("removing an event now in its chunk failed: {error}"))?;
        }
        Ok(Some(last))
    }
}
