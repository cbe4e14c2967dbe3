//! The writer and the syncer: two threads, so that the next group is planned and written while
//! the last one is being synced (pipelining).
//!
//! The **writer** takes a request and every other one already queued (group commit), plans the
//! group (sequence numbers, checksums, command ids: each command is looked up and noted in the
//! command index in one step, [`CommandIndex::find_or_note`]), writes its records as one frame
//! of the commit log ([`super::log`], ADR 0007), and hands the group to the syncer; then, while
//! the syncer syncs the frame, it applies the records: each goes to the end of its board's tail,
//! and a tail that fills a chunk goes into sled as one entry, without flushing sled
//! ([`super::tail`], ADR 0011). Then it counts the group as applied ([`Applied`]) and goes
//! straight on with the next group. When the log is full it first checkpoints: every tail into
//! sled as a chunk, then sled's flush and an `fdatasync` of sled's file make everything applied
//! durable in sled, and the log starts a new generation. A group too large for the log is
//! written to sled as events (after its boards' tails) and synced there instead.
//!
//! The **syncer** takes every group handed to it so far and makes them durable with one
//! `fdatasync` of the commit log, a sync that began after each of them was written; then it
//! waits until the writer has applied those groups, so that a reader finds in the tails or sled
//! every event below a durable head; then it raises the acknowledgement files, publishes the new
//! durable heads and answers every append of those groups, in order. sled is not what makes a group
//! durable (the log is, and opening applies the log's frames to sled again), so applying need
//! not come before the sync, only before the answers; applying while the sync runs takes the
//! sync off a group's wait. While it syncs, the writer has the next groups written, and
//! they share the next sync. With `group_commit` off it syncs each group on its own. A lone
//! append when no group is waiting for the syncer is applied, synced and answered by the writer
//! itself, which saves it the syncer's wake-up (one writer's latency); the syncer's state is
//! behind a lock both threads take, and answers stay in order because nothing earlier is
//! unanswered then.
//!
//! (Applying on a third thread was measured, when it meant an insert into sled per event, and
//! was slower on two cores: 256 writers went from about 88,000 to about 66,000 events/s with
//! glibc's allocator, and, measured again with mimalloc, from 150,000-187,000 to 110,000-123,000
//! (`kipina-bench appends --writers 256`, two runs each): the process spent 11-13 µs per event
//! instead of 7.6-9.9. The tails of ADR 0011 took the writer from about 5.5 µs per event to
//! about 2.)
//!
//! A failed write, apply, checkpoint or sync fails the store for good (see the module docs): the
//! thread that saw it records why in [`Shared::failure`], and from then on every group planned
//! or handed over is answered as failed, even should a later sync succeed.

use super::*;

/// The most groups written but not yet synced. The writer waits when the syncer is this far
/// behind, so memory stays bounded when the disk is slow.
const MAX_UNSYNCED_GROUPS: usize = 64;

/// The writer thread's state: the only code that writes to sled.
pub(super) struct Writer {
    pub(super) db: sled::Db,
    pub(super) dir: PathBuf,
    /// The head of each board the writer has looked at, including appends not yet synced.
    pub(super) heads: HashMap<BoardId, u64>,
    pub(super) shared: Arc<Shared>,
    pub(super) group_commit: bool,
    /// The commit log every group is written to first.
    pub(super) log: CommitLog,
    /// What makes sled durable, at a checkpoint and for a group too large for the log.
    pub(super) sled_sync: SledSync,
    /// How far the writer has applied the groups written (shared with the syncer).
    pub(super) applied: Arc<Applied>,
    /// The test hook, also the syncer's.
    pub(super) hook: Arc<dyn SyncHook>,
    /// Where settled heads go at each checkpoint.
    /// Where settled heads go at each checkpoint; `None` when the compaction is off, so the
    /// writer keeps no account of them.
    pub(super) compaction: Option<Arc<Compaction>>,
    /// The head of each board applied to sled since the last checkpoint: settled at the next.
    pub(super) unsettled: HashMap<BoardId, u64>,
}

/// Makes what was applied to sled durable: sled's flush, then `fdatasync` of its file and of
/// any blob file it wrote.
pub(super) struct SledSync {
    /// Our own handle on sled's `db` file, for `fdatasync`.
    pub(super) db_file: File,
    pub(super) dir: PathBuf,
    /// Blob files already synced; sled writes a blob file once and never changes it.
    pub(super) synced_blobs: HashSet<OsString>,
}

/// The syncer thread's state: the only code that syncs the commit log and answers appends.
pub(super) struct Syncer {
    /// A handle on the commit log's file, for `fdatasync`.
    pub(super) log_file: File,
    pub(super) dir: PathBuf,
    pub(super) watermark: Watermark,
    pub(super) shared: Arc<Shared>,
    pub(super) hook: Arc<dyn SyncHook>,
    pub(super) group_commit: bool,
    /// How far the writer has applied the groups handed over.
    pub(super) applied: Arc<Applied>,
}

/// The appends of one group commit and their records, one frame of the log and one sled batch.
#[derive(Default)]
pub(super) struct Group {
    /// The records to store, key and value, in order.
    pub(super) entries: Vec<([u8; record::EVENT_KEY_LEN], Vec<u8>)>,
    /// Encoded bytes of the records.
    pub(super) bytes: usize,
    /// Whether the group stores anything.
    pub(super) writes: bool,
    pub(super) answers: Vec<(Reply, Result<AppendOutcome, StoreError>)>,
    /// The commands the group's appends noted in the command index, in case the group is
    /// refused before it is written ([`CommandIndex::forget`]).
    pub(super) noted: Vec<(BoardId, CommandId)>,
    /// The answers (by index) of retries of a command planned earlier in this same group: they
    /// stand or fall with it.
    pub(super) retries_within: Vec<usize>,
    /// Each board written by the group: its durable head before and its head after the group.
    pub(super) boards: HashMap<BoardId, (u64, u64)>,
    pub(super) appends: u64,
    pub(super) events: u64,
    /// The number of events of each append stored, in order (`entries` holds them one after
    /// another).
    pub(super) runs: Vec<usize>,
}

/// A group on its way from the writer to the syncer: written to the commit log (or not, when it
/// wrote nothing or writing failed), waiting for its sync and its answers.
pub(super) struct Written {
    /// The group's number, counted by the writer from 1; see [`Applied`].
    pub(super) number: u64,
    pub(super) answers: Vec<(Reply, Result<AppendOutcome, StoreError>)>,
    pub(super) boards: HashMap<BoardId, (u64, u64)>,
    pub(super) appends: u64,
    pub(super) events: u64,
    /// Whether the group holds events, which need a sync before they are answered.
    pub(super) writes: bool,
}

/// A group's records on their way into sled, after its frame went to the log.
pub(super) struct ToApply {
    entries: Vec<([u8; record::EVENT_KEY_LEN], Vec<u8>)>,
    /// Each board's head once the group is applied (left empty for a group in the log, whose
    /// events go into the tails).
    heads: Vec<(BoardId, u64)>,
    runs: Vec<usize>,
    appends: u64,
    /// Whether the frame went to the log; a group too large for it is synced in sled instead.
    logged: bool,
}

/// How far the writer has applied the groups it wrote: the syncer answers a group only once its
/// records are in sled, because readers read sled up to the durable heads it publishes.
#[derive(Default)]
pub(super) struct Applied {
    state: Mutex<AppliedState>,
    changed: Condvar,
}

#[derive(Default)]
struct AppliedState {
    /// Every group numbered up to this one is applied (or failed, see [`Shared::failure`]).
    through: u64,
    /// The writer stopped (a panic while applying): nothing more will be applied.
    stopped: bool,
}

impl Applied {
    fn state(&self) -> MutexGuard<'_, AppliedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark(&self, number: u64) {
        let mut state = self.state();
        state.through = state.through.max(number);
        drop(state);
        self.changed.notify_all();
    }

    fn stop(&self) {
        self.state().stopped = true;
        self.changed.notify_all();
    }

    /// Waits until group `number` is applied; false if the writer stopped before it was.
    /// `blocking` is called once if it has to wait.
    fn wait_for(&self, number: u64, blocking: impl FnOnce()) -> bool {
        let mut state = self.state();
        if state.through < number && !state.stopped {
            blocking();
        }
        while state.through < number && !state.stopped {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.through >= number
    }
}

/// Tells the syncer that the writer stopped, however it stops (a panic included), so that it
/// never waits for a group that will not be applied.
struct StopsApplied(Arc<Applied>);

impl Drop for StopsApplied {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The board's head as the writer knows it (`heads`), loaded from sled the first time.
fn known_head(heads: &mut HashMap<BoardId, u64>, db: &sled::Db, board: BoardId) -> Result<u64, StoreError> {
    if let Some(head) = heads.get(&board) {
        return Ok(*head);
    }
    let head = stored_head(db, board)?;
    heads.insert(board, head);
    Ok(head)
}

/// Records the store's failure, once, for `/health` and for both threads.
fn fail(shared: &Shared, failure: String) -> String {
    let mut recorded = shared.failure.lock().unwrap_or_else(PoisonError::into_inner);
    if recorded.is_none() {
        tracing::error!(%failure, "the event store stops accepting writes");
        *recorded = Some(failure);
    }
    recorded.clone().unwrap_or_default()
}

/// Why the store stopped accepting writes, if it has.
fn failed(shared: &Shared) -> Option<String> {
    shared.failure.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

impl Writer {
    /// Runs the writer and, beside it, the syncer; returns once both have answered everything.
    pub(super) fn run(mut self, receiver: &mpsc::Receiver<Job>, syncer: Syncer) {
        let (to_syncer, syncer_receiver) = mpsc::sync_channel(MAX_UNSYNCED_GROUPS);
        // However the writer stops (a panic included), the syncer stops waiting for it.
        let _stops = StopsApplied(Arc::clone(&self.applied));
        let syncer = Arc::new(Mutex::new(syncer));
        // Groups handed to the syncer and not yet answered.
        let in_flight = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (syncer, in_flight) = (Arc::clone(&syncer), Arc::clone(&in_flight));
            std::thread::Builder::new()
                .name("kipina-store-sync".into())
                .spawn(move || Syncer::run(&syncer, &in_flight, &syncer_receiver))
        };
        let thread = match thread {
            Ok(thread) => thread,
            Err(error) => {
                let failure = fail(&self.shared, format!("cannot start the store's sync thread: {error}"));
                for job in receiver.iter() {
                    for (_, reply) in job.appends {
                        let _ = reply.send(Err(StoreError::Failed(failure.clone())));
                    }
                }
                return;
            }
        };
        // `recv` hands out everything queued before it reports the closed channel, so every
        // append sent before the last handle was dropped is answered.
        let mut number = 0;
        while let Ok(job) = receiver.recv() {
            number += 1;
            let mut group = Group::default();
            self.add(&mut group, job);
            while self.group_commit && group.answers.len() < MAX_GROUP_REQUESTS && group.bytes < MAX_GROUP_BYTES {
                match receiver.try_recv() {
                    Ok(job) => self.add(&mut group, job),
                    Err(_) => break,
                }
            }
            // A lone append with nothing else waiting for a sync is applied, synced and answered
            // right here: handing it to the syncer would only add a thread's wake-up to its wait.
            // Every earlier group has been answered, so answers stay in order.
            let lone = group.answers.len() == 1 && in_flight.load(Ordering::Acquire) == 0;
            let (written, to_apply) = self.write(group, number);
            if lone {
                self.apply_group(to_apply, number);
                lock(&syncer).commit(vec![written]);
                continue;
            }
            in_flight.fetch_add(1, Ordering::AcqRel);
            if to_syncer.send(written).is_err() {
                // The syncer only stops early by panicking; its groups' senders are dropped, so
                // their callers hear "the writer stopped before answering".
                break;
            }
            // While the syncer syncs the group's frame.
            self.apply_group(to_apply, number);
        }
        drop(to_syncer);
        if thread.join().is_err() {
            tracing::error!("the event store's sync thread panicked");
        }
        // A clean stop leaves the log empty, so the next open has nothing to apply.
        if failed(&self.shared).is_none()
            && !self.log.is_empty()
            && let Err(error) = self.checkpoint()
        {
            tracing::warn!(%error, dir = %self.dir.display(), "cannot checkpoint the commit log at shutdown");
        }
    }

    /// Plans a job's appends into the group, in order, and notes their answers, to be sent after
    /// the sync. Once one of them does not append, the ones after it are skipped (a chain; see
    /// [`EventStore::append_all`]).
    pub(super) fn add(&mut self, group: &mut Group, job: Job) {
        let failure = failed(&self.shared);
        let mut stopped = false;
        for (append, reply) in job.appends {
            let answer = match &failure {
                Some(failure) => Err(StoreError::Failed(failure.clone())),
                None if stopped => Err(StoreError::Skipped),
                None => self.plan(group, append),
            };
            stopped |= !matches!(answer, Ok(AppendOutcome::Appended { .. }));
            group.answers.push((reply, answer));
        }
    }

    pub(super) fn plan(&mut self, group: &mut Group, append: EncodedAppend) -> Result<AppendOutcome, StoreError> {
        let EncodedAppend { board, command_id, command_fingerprint, expected, records } = append;
        // The caller checked that there is at least one and at most MAX_EVENTS_PER_APPEND.
        let count = records.len();
        let Self { db, heads, shared, .. } = self;
        // One look into the index per command: an earlier append (of this group too) that stored
        // it is found, and a new one is noted under the same lock.
        let found = shared.commands.find_or_note(db, board, command_id, || {
            let head = known_head(heads, db, board)?;
            let matches = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => head == 0,
                ExpectedVersion::Exact(expected) => head == expected,
            };
            if !matches {
                return Err(StoreError::Conflict { board, expected, actual: head });
            }
            // `count` is at most MAX_EVENTS_PER_APPEND, so it fits in a u64.
            let last = head
                .checked_add(count as u64)
                .ok_or_else(|| StoreError::InvalidAppend(format!("board {board} has no sequence numbers left")))?;
            Ok(CommandRecord { first: head + 1, last, fingerprint: command_fingerprint })
        })?;
        let command = match found {
            commands::Found::Stored(command) if command.fingerprint == command_fingerprint => {
                if group.boards.get(&board).is_some_and(|(before, _)| command.first > *before) {
                    // `add` pushes this answer next.
                    group.retries_within.push(group.answers.len());
                }
                return Ok(AppendOutcome::AlreadyAppended { first: command.first, last: command.last });
            }
            commands::Found::Stored(_) => return Err(StoreError::IdempotencyConflict { command_id }),
            commands::Found::Noted(command) => command,
        };

        let CommandRecord { first, last, .. } = command;
        let before = first - 1;
        for (seq, unsealed) in (first..=last).zip(records) {
            let key = record::event_key(board, seq);
            group.bytes += unsealed.len();
            let sealed = unsealed.seal(&key);
            group.entries.push((key, sealed));
        }
        group.writes = true;
        group.noted.push((board, command_id));
        group.boards.entry(board).or_insert((before, last)).1 = last;
        group.appends += 1;
        group.events += count as u64;
        group.runs.push(count);
        heads.insert(board, last);
        Ok(AppendOutcome::Appended { first, last })
    }

    /// Writes the group to the commit log; a failure fails the store and the group's appends. A
    /// group refused for want of disk space writes nothing; its answers still go through the
    /// syncer, so every append is answered in the order it was planned. Returns the group for
    /// the syncer, and its records for [`Writer::apply_group`] unless nothing is to be applied.
    fn write(&mut self, group: Group, number: u64) -> (Written, Option<ToApply>) {
        let group = match self.unless_disk_full(group) {
            Ok(group) => group,
            Err(mut refused) => {
                refused.number = number;
                return (refused, None);
            }
        };
        let Group { entries, runs, writes, mut answers, boards, appends, events, .. } = group;
        let mut to_apply = None;
        if writes {
            {
                // Likewise, every board of the group gets a durable-head entry before sled shows
                // its events to readers, so readers cap at the old head until the sync is done.
                let mut heads = self.shared.heads();
                for (board, (before, _)) in &boards {
                    heads.entry(*board).or_insert_with(|| watch::channel(*before).0);
                }
            }
            let logged = match failed(&self.shared) {
                // The syncer failed since the group was planned: write nothing more.
                Some(failure) => Err(failure),
                None => self
                    .log(&entries)
                    .map_err(|error| fail(&self.shared, format!("writing to {} failed: {error}", self.dir.display()))),
            };
            match logged {
                Ok(logged) => {
                    // Only a group stored as events (too large for the log) needs them.
                    let heads = match logged {
                        false => boards.iter().map(|(board, (_, after))| (*board, *after)).collect(),
                        true => Vec::new(),
                    };
                    to_apply = Some(ToApply { entries, heads, runs, appends, logged });
                }
                Err(failure) => {
                    for (_, answer) in &mut answers {
                        *answer = Err(StoreError::Failed(failure.clone()));
                    }
                }
            }
        }
        (Written { number, answers, boards, appends, events, writes }, to_apply)
    }

    /// Writes the records as one frame of the commit log, after a checkpoint if the log is
    /// full. Returns false for a group too large for the log, which is synced in sled instead.
    fn log(&mut self, entries: &[([u8; record::EVENT_KEY_LEN], Vec<u8>)]) -> Result<bool, StoreError> {
        let pairs = || entries.iter().map(|(key, value)| (&key[..], value.as_slice()));
        let frame = log::frame_len(pairs());
        if !log::fits_empty_log(frame) {
            return Ok(false);
        }
        if !self.log.has_room(frame) {
            self.checkpoint()?;
        }
        self.log.append(pairs())?;
        Ok(true)
    }

    /// Makes everything applied so far durable in sled, and starts the log's next generation.
    /// Every group written to the log so far is applied: the writer applies each group before it
    /// plans the next.
    pub(super) fn checkpoint(&mut self) -> Result<(), StoreError> {
        // Every tail into sled first: the log's next generation no longer holds its events.
        for board in self.shared.tails.boards() {
            self.write_tail(board)?;
        }
        self.sled_sync.sync(&self.db)?;
        self.log.start_generation(self.log.next_generation())?;
        self.shared.checkpoints.fetch_add(1, Ordering::AcqRel);
        // What was applied before is durable in sled now, and no frame of the log holds it any
        // more: the compaction may rewrite it (ADR 0008).
        if let Some(compaction) = &self.compaction {
            compaction.settle(self.unsettled.drain());
        }
        Ok(())
    }

    /// Applies a written group to sled (a failure fails the store, and the syncer answers the
    /// group as failed), then tells the syncer it may answer the group.
    fn apply_group(&mut self, to_apply: Option<ToApply>, number: u64) {
        if let Some(to_apply) = to_apply
            && failed(&self.shared).is_none()
        {
            self.hook.before_apply();
            if let Err(error) = self.apply(to_apply) {
                fail(&self.shared, format!("writing to {} failed: {error}", self.dir.display()));
            }
        }
        self.applied.mark(number);
    }

    fn apply(&mut self, to_apply: ToApply) -> Result<(), StoreError> {
        let ToApply { entries, heads, runs, appends, logged } = to_apply;
        if logged {
            // Durable in the log already: each event goes to the end of its board's tail, and a
            // full tail into sled as one chunk ([`super::tail`], ADR 0011).
            for (key, value) in entries {
                let (board, seq) = match record::parse_key(&key) {
                    Ok(ParsedKey::Event { board, seq }) => (board, seq),
                    other => {
                        return Err(StoreError::Failed(format!("the writer planned a key it cannot store: {other:?}")));
                    }
                };
                if self.shared.tails.would_overflow(board, value.len()) {
                    self.write_tail(board)?;
                }
                if self.shared.tails.push(board, seq, key, value) {
                    self.write_tail(board)?;
                }
            }
        } else {
            // Too large for the log: into sled as events, after the tails of its boards (sled
            // holds a prefix of each stream), and durable in sled itself before the syncer
            // answers it. One insert per event, and a sled batch around the events of one
            // append: sled recovers a prefix of its inserts, so it never keeps part of a command.
            let boards: HashSet<BoardId> = heads.iter().map(|(board, _)| *board).collect();
            for board in boards {
                self.write_tail(board)?;
            }
            let mut rest = &entries[..];
            for &count in &runs {
                let (append, after) = rest.split_at(count.min(rest.len()));
                rest = after;
                let mut batch = sled::Batch::default();
                for (key, value) in append {
                    batch.insert(&key[..], value.as_slice());
                }
                self.db.apply_batch(batch)?;
            }
            self.sled_sync.sync(&self.db)?;
            // Events on their own in sled: the compaction may put them into chunks once settled.
            if self.compaction.is_some() {
                for (board, head) in heads {
                    let unsettled = self.unsettled.entry(board).or_insert(0);
                    *unsettled = (*unsettled).max(head);
                }
            }
        }
        self.shared.written.fetch_add(appends, Ordering::AcqRel);
        Ok(())
    }

    /// Writes the board's tail into sled as one chunk, then takes it out of the tail (in that
    /// order: see [`super::tail`]).
    fn write_tail(&mut self, board: BoardId) -> Result<(), StoreError> {
        let records = self.shared.tails.to_write(board);
        let Some(&(first, ..)) = records.first() else { return Ok(()) };
        let last = first + records.len() as u64 - 1;
        let key = record::chunk_key(board, last);
        let borrowed: Vec<&[u8]> = records.iter().map(|(_, _, value)| value.as_slice()).collect();
        self.db.insert(&key[..], record::encode_chunk(&key, first, &borrowed))?;
        self.shared.tails.written(board, records.len());
        self.shared.chunked.fetch_add(records.len() as u64, Ordering::AcqRel);
        Ok(())
    }
}

impl SledSync {
    /// sled's flush, then `fdatasync` of its file and of the blob files it made since.
    pub(super) fn sync(&mut self, db: &sled::Db) -> Result<(), StoreError> {
        db.flush()?;
        self.sync_new_blobs()?;
        self.db_file.sync_data()?;
        Ok(())
    }

    /// Syncs blob files sled wrote since the last look. With the segment size above there
    /// should never be any; this is the safety net should a log message ever be that large.
    fn sync_new_blobs(&mut self) -> io::Result<()> {
        let blobs = self.dir.join("blobs");
        let mut present = HashSet::new();
        let mut synced_any = false;
        for entry in std::fs::read_dir(&blobs)? {
            let entry = entry?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    // sled removes blobs it no longer needs; one gone since the listing needs no sync.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            sync_directory(&blobs)?;
        }
        // Forget blobs sled has removed, so the set does not grow without end.
        self.synced_blobs = present;
        Ok(())
    }
}

/// Locks the syncer's state. A poisoned lock is taken over: a panic while committing leaves
/// the groups it held unanswered (their callers hear that the writer stopped), not the state
/// half-changed in a way the next commit could trust less.
fn lock(syncer: &Mutex<Syncer>) -> MutexGuard<'_, Syncer> {
    syncer.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Syncer {
    fn run(syncer: &Mutex<Syncer>, in_flight: &AtomicUsize, receiver: &mpsc::Receiver<Written>) {
        loop {
            let first = match receiver.recv_timeout(WATERMARK_SYNC_INTERVAL) {
                Ok(written) => written,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Idle: make the last groups' count durable now rather than at the next
                    // append, which may be months away.
                    lock(syncer).sync_watermark_if_behind();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut groups = vec![first];
            let mut syncer = lock(syncer);
            if syncer.group_commit {
                groups.extend(receiver.try_iter().take(MAX_UNSYNCED_GROUPS));
            }
            let count = groups.len();
            syncer.commit(groups);
            drop(syncer);
            in_flight.fetch_sub(count, Ordering::AcqRel);
        }
        let mut syncer = lock(syncer);
        if failed(&syncer.shared).is_none()
            && let Err(error) = syncer.watermark.sync()
        {
            tracing::error!(
                %error,
                dir = %syncer.dir.display(),
                "cannot sync the acknowledgement watermark at shutdown"
            );
        }
    }

    /// Syncs the watermark files when counts were written since their last sync.
    fn sync_watermark_if_behind(&mut self) {
        if !self.watermark.unsynced || failed(&self.shared).is_some() {
            return;
        }
        if let Err(error) = self.watermark.sync() {
            tracing::error!(%error, dir = %self.dir.display(), "cannot sync the acknowledgement watermark");
        }
        self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
    }

    /// Makes the groups durable with one sync and answers them, in order.
    fn commit(&mut self, groups: Vec<Written>) {
        let writes = groups.iter().any(|group| group.writes);
        if writes {
            let mut boards: HashMap<BoardId, (u64, u64)> = HashMap::new();
            let mut events = 0;
            let last_written = groups.iter().filter(|group| group.writes).map(|group| group.number).max().unwrap_or(0);
            for group in &groups {
                events += group.events;
                for (board, (before, after)) in &group.boards {
                    boards.entry(*board).or_insert((*before, *after)).1 = *after;
                }
            }
            let outcome = match failed(&self.shared) {
                Some(failure) => Err(failure),
                None => self.sync(&boards, events, last_written),
            };
            if let Err(failure) = outcome {
                for group in groups {
                    for (reply, _) in group.answers {
                        let _ = reply.send(Err(StoreError::Failed(failure.clone())));
                    }
                }
                return;
            }
            self.shared.appends.fetch_add(groups.iter().map(|group| group.appends).sum(), Ordering::AcqRel);
            self.shared.events.fetch_add(events, Ordering::AcqRel);
            // The heads are raised before the answers go out, so a writer that got its answer
            // and then reads finds its own events.
            let heads = self.shared.heads();
            for (board, (_, last)) in &boards {
                if let Some(head) = heads.get(board) {
                    head.send_replace(*last);
                }
            }
        }
        self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
        for group in groups {
            for (reply, answer) in group.answers {
                // An append whose caller stopped waiting is stored all the same; nobody to tell.
                let _ = reply.send(answer);
            }
        }
    }

    /// Makes everything written so far durable and waits until the writer has applied it to
    /// sled, up to group `last_written`; the reason the groups fail if they do.
    fn sync(&mut self, boards: &HashMap<BoardId, (u64, u64)>, events: u64, last_written: u64) -> Result<(), String> {
        let (shared, dir) = (Arc::clone(&self.shared), self.dir.clone());
        let failed_to_write =
            |error: StoreError| fail(&shared, format!("writing to {} failed: {error}", dir.display()));
        self.hook.before_sync().map_err(|error| failed_to_write(error.into()))?;
        self.log_file.sync_data().map_err(|error| failed_to_write(error.into()))?;
        self.shared.syncs.fetch_add(1, Ordering::AcqRel);
        self.hook.after_sync();
        if !self.applied.wait_for(last_written, || self.hook.waiting_for_apply()) {
            return Err(fail(&self.shared, "the store's writer stopped before applying its last groups".into()));
        }
        // Applying to sled may have failed since the failure was looked at.
        if let Some(failure) = failed(&self.shared) {
            return Err(failure);
        }
        self.raise_watermark(boards, events).map_err(failed_to_write)
    }

    /// Counts the synced events in the acknowledgement files.
    fn raise_watermark(&mut self, boards: &HashMap<BoardId, (u64, u64)>, events: u64) -> Result<(), StoreError> {
        // Only now are the events durable, so only now may the watermark count them. Should
        // writing the watermark fail, the groups are answered as failed although their events
        // are stored; a retry with the same command id then finds them.
        self.watermark.raise(events, boards)?;
        self.shared.acknowledged.fetch_add(events, Ordering::AcqRel);
        Ok(())
    }
}
