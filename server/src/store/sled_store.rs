//! The sled-backed event store: one sled tree, one writer thread, a real `fdatasync` per group.
//!
//! # Shape
//!
//! All events and command records live in sled's default tree (key layout in
//! [`super::record`]), so the events of an append and its command record go in with one atomic
//! `apply_batch`. Every write goes through a single writer thread that owns the sequence
//! numbers: [`EventStore::append`] checks the request and encodes its events' records on the
//! caller's thread (everything that needs no sequence number), sends them over a channel and
//! returns a ticket. The writer takes one request, drains whatever else is already queued
//! (group commit), plans the whole group into one batch (sequence numbers, checksums, command
//! records), applies it, flushes sled, and then calls `fdatasync` on sled's `db` file through a
//! handle of its own. Only then are the appends answered, so one sync is
//! shared by every append that arrived while the previous sync was running. The appends of one
//! [`EventStore::append_all`] (a board's batch of commands) travel as one request, so they are
//! always in the same group.
//!
//! sled 0.34's own `flush` ends in `sync_file_range`, which writes the pages out but neither
//! flushes the drive's cache nor the file's size, so it survives a process crash but not a
//! power cut; that is why the writer syncs the file itself. The handle is opened by the store,
//! not borrowed from sled: since Linux 4.13 a write-back error is reported once to every open
//! file description, so sled's background flusher, which logs and forgets its own fsync errors,
//! cannot swallow an error before our sync sees it.
//!
//! A failed apply, flush or sync puts the store into a failed state for good: after a failed
//! fsync the kernel may already have dropped the dirty pages and marked them clean, so a retry
//! that succeeds proves nothing ("fsyncgate"). The process has to restart and recover from what
//! is really on disk.
//!
//! # Damage sled hides: the acknowledgement watermark
//!
//! sled checks a CRC on every log message, but when recovery meets a damaged message it takes
//! it for the torn tail of a crash, stops there, and overwrites the rest of that segment: every
//! later write is gone and sled opens without a word. To notice, the store keeps its own count
//! of acknowledged events in the file `acknowledged` next to sled's files (format in
//! [`super::record`]). The writer raises it after every successful sync (a plain write, with an
//! `fdatasync` of its own at most once a second and at shutdown), so it never exceeds what is
//! durable in sled, and since the store never deletes, finding fewer events than it says is
//! damage. After a power cut the file may lag behind, which only weakens the check; it never
//! raises a false alarm. The data sled overwrote is lost either way: the check turns silent loss
//! into a refusal to start, and the remedy is a backup.
//!
//! To say *whose* events sled dropped, the writer also keeps each board's acknowledged head in
//! the file `acknowledged-heads` (one checksummed slot per board, rewritten in place after every
//! sync and made durable with the watermark, the heads first). A board whose stream ends before
//! its recorded head lost acknowledged events; what the boards named account for is not counted
//! against the store as a whole.
//!
//! # Quarantine
//!
//! Opening checks everything (see [`StoreOptions::check_on_open`]). Damage that names a board (a
//! record that fails its checksum, a gap, a bad command record, acknowledged events missing from
//! that board, a node of sled's tree holding that board's records that sled cannot read) puts the
//! board in quarantine: the store opens, and every read, head, command lookup and append of that
//! board answers [`StoreError::Damaged`] with the damage found, so nothing is ever served or
//! written on top of it, not even from a snapshot (which is loaded only after the head is read).
//! Damage that names no board (sled cannot open its files, the watermark is unreadable, events
//! are missing that no board accounts for, keys the store never writes, a node sled cannot read
//! that holds no known board's records) refuses the whole store. Damage found later, by a read,
//! quarantines its board from then on.
//!
//! # Durable visibility
//!
//! Reads go straight to sled from the caller's thread, but they never show events that are not
//! durable yet: sled makes a batch visible as soon as it is applied, before the sync. The store
//! keeps a map of durable heads (the `watch` senders behind [`EventStore::subscribe`]); the
//! invariant is that a board either has an entry holding its durable head, or has no unsynced
//! events in sled. The writer adds an entry for every board of a group before applying the
//! group's batch and raises it after the sync; readers cap what they return at that head.
//!
//! # Handles and shutdown
//!
//! [`SledStore`] is a cheap handle around an `Arc`; clone it freely. When the last clone is
//! dropped, the writer answers everything already queued, stops, and is joined, and then sled
//! is closed (which releases its lock on the directory).

use super::record::{self, EnvelopeRef, ParsedKey, RecordError, UnsealedRecord};
use super::release::{OpenedSled, Release};
use super::{
    AppendOutcome, AppendRequest, AppendTicket, CommandRecord, Damage, EventStore, ExpectedVersion,
    MAX_EVENTS_PER_APPEND, MAX_RECORD_BYTES, RecordedEvent, StoreError,
};
use crate::durable::sync_directory;
use kipina_proto::{BoardId, CommandId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// sled's segment size. sled writes any log message larger than a quarter of a segment to its
/// own file under `blobs/`; 8 MiB puts that threshold at 2 MiB, far above the largest leaf node
/// this store makes (a few dozen records of at most [`MAX_RECORD_BYTES`]), so everything lives
/// in the `db` file that the writer syncs.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;
/// The most appends one group commit takes.
const MAX_GROUP_REQUESTS: usize = 1024;
/// The most record bytes one group commit gathers before it is committed, so a burst of large
/// appends cannot build an unbounded batch in memory. A single append may still exceed it.
const MAX_GROUP_BYTES: usize = 16 * 1024 * 1024;
/// The file holding the acknowledgement watermark, inside the store's directory.
const WATERMARK_FILE: &str = "acknowledged";
/// How often the writer makes the watermark file durable. It is a lower bound, so it may lag;
/// syncing it at every group would double the cost of a commit. A writer with nothing to do
/// syncs what is left after this long, so the watermark never lags an idle store for longer.
const WATERMARK_SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// The file holding each board's acknowledged head, inside the store's directory.
const HEADS_FILE: &str = "acknowledged-heads";

/// How a [`SledStore`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Let appends that arrive while a sync is running share the next sync. Turning it off
    /// makes every request pay for its own sync (the appends of one `append_all` still share
    /// one); that is only useful to measure the difference.
    pub group_commit: bool,
    /// Verify every stored record when opening (its checksum, the gap-free sequence numbers,
    /// the command records and the acknowledgement watermark), quarantine every board with
    /// damage, and refuse to open when there is damage that names no board (see the module
    /// docs). Decoding every envelope is left to [`SledStore::verify`].
    pub check_on_open: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { group_commit: true, check_on_open: true }
    }
}

/// Counters of what the writer did since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Appends that stored events (retries answered `AlreadyAppended` are not counted).
    pub appends: u64,
    /// Events stored.
    pub events: u64,
    /// `fdatasync` calls on the `db` file that completed successfully.
    pub syncs: u64,
    /// The events the acknowledgement count (`acknowledged`) covered when it was last synced: it
    /// catches up with the acknowledged events within a second, also when no append follows.
    pub watermark_durable: u64,
}

/// Hooks around the writer's durability sync, for tests that need to hold a sync open or make
/// it fail. Not for production use.
#[doc(hidden)]
pub trait SyncHook: Send + Sync + 'static {
    /// Called after the group's batch is applied and flushed, right before the `fdatasync`.
    /// An error is treated exactly like a failed sync.
    fn before_sync(&self) -> io::Result<()> {
        Ok(())
    }

    /// Called right after the `fdatasync` succeeded and was counted, before any append of the
    /// group is answered.
    fn after_sync(&self) {}
}

/// The default hook, which does nothing.
struct NoHook;

impl SyncHook for NoHook {}

/// The durable event store on sled. A cheap handle: clones share one store.
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

/// What the handles share. Dropping it stops the writer and closes sled.
struct Inner {
    dir: PathBuf,
    db: sled::Db,
    /// Damage found while opening without a check (an unreadable watermark), for `verify`.
    open_damage: Vec<Damage>,
    /// Boards that are not served, with what is wrong with each.
    quarantine: Mutex<BTreeMap<BoardId, Vec<Damage>>>,
    shared: Arc<Shared>,
    /// The way to the writer; taken out on drop so the writer sees the channel close.
    sender: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    /// Last, so it drops after `db`: waits until sled has let go of the directory.
    release: Release,
}

/// State the writer thread and the handles both use.
struct Shared {
    /// The durable head of each board that has an entry; see the module docs for the invariant.
    heads: Mutex<HashMap<BoardId, watch::Sender<u64>>>,
    appends: AtomicU64,
    events: AtomicU64,
    syncs: AtomicU64,
    watermark_durable: AtomicU64,
    /// Why the writer stopped accepting writes, once it has.
    failure: Mutex<Option<String>>,
    /// Events acknowledged over the store's whole life, as far as known (see the module docs).
    acknowledged: AtomicU64,
}

impl Shared {
    /// Locks the head map. A poisoned lock is taken over: every change to the map is a single
    /// insert or send, so a panic elsewhere cannot have left it half-changed.
    fn heads(&self) -> MutexGuard<'_, HashMap<BoardId, watch::Sender<u64>>> {
        self.heads.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the writer sends the answer to one append.
type Reply = oneshot::Sender<Result<AppendOutcome, StoreError>>;

/// Appends waiting for the writer, planned in order into one group (one sled batch and one
/// sync): one from [`EventStore::append`], or a board's batch from [`EventStore::append_all`].
struct Job {
    appends: Vec<(EncodedAppend, Reply)>,
}

/// What the writer needs of an append: the request without its events, which the caller has
/// already encoded.
struct EncodedAppend {
    board: BoardId,
    command_id: CommandId,
    command_fingerprint: u32,
    expected: ExpectedVersion,
    /// The events' records, in order, checked for size; only their checksums are left to fill
    /// in, once the writer has decided their sequence numbers.
    records: Vec<UnsealedRecord>,
}

impl EncodedAppend {
    /// Checks an append and encodes its events, on the caller's thread: the writer thread, which
    /// every append of the store goes through, is left only what must be serial.
    fn encode(request: AppendRequest, reply: Reply) -> Result<(Self, Reply), (Reply, StoreError)> {
        let count = request.events.len();
        if count == 0 {
            return Err((reply, StoreError::InvalidAppend("an append needs at least one event".into())));
        }
        if count > MAX_EVENTS_PER_APPEND {
            return Err((
                reply,
                StoreError::InvalidAppend(format!(
                    "{count} events in one append, at most {MAX_EVENTS_PER_APPEND} are allowed"
                )),
            ));
        }
        let mut records = Vec::with_capacity(count);
        for (index, event) in request.events.iter().enumerate() {
            let unsealed = match UnsealedRecord::encode(&EnvelopeRef::of(&request, event)) {
                Ok(unsealed) => unsealed,
                Err(error) => {
                    return Err((
                        reply,
                        StoreError::InvalidAppend(format!("event {index} cannot be encoded: {error}")),
                    ));
                }
            };
            if unsealed.len() > MAX_RECORD_BYTES {
                let problem = format!(
                    "event {index} ({}) encodes to {} bytes, at most {MAX_RECORD_BYTES} are allowed",
                    event.event_type,
                    unsealed.len()
                );
                return Err((reply, StoreError::InvalidAppend(problem)));
            }
            records.push(unsealed);
        }
        let append = EncodedAppend {
            board: request.board,
            command_id: request.command_id,
            command_fingerprint: request.command_fingerprint,
            expected: request.expected,
            records,
        };
        Ok((append, reply))
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, the store's own directory.
    ///
    /// With `check_on_open` every record's checksum is verified first: boards with damage are
    /// quarantined ([`SledStore::damaged_boards`]), and damage that names no board is refused
    /// with [`StoreError::Damaged`]. A directory held by another process gives [`StoreError::Locked`].
    pub fn open(dir: &Path, options: StoreOptions) -> Result<SledStore, StoreError> {
        Self::open_with_sync_hook(dir, options, Arc::new(NoHook))
    }

    /// Opens the store without checking it, so damage can be reported with [`SledStore::verify`]
    /// instead of refused. For the `verify` command; the server itself opens with [`SledStore::open`].
    ///
    /// This is not a read-only open: sled's recovery writes to its files (after damage in its
    /// log, it overwrites the rest of the segment), and the store creates its watermark file
    /// when it is missing. Copy the directory first to keep the damaged original.
    pub fn open_for_inspection(dir: &Path) -> Result<SledStore, StoreError> {
        Self::open(dir, StoreOptions { check_on_open: false, ..StoreOptions::default() })
    }

    /// Opens the store with hooks around every durability sync. For tests only.
    #[doc(hidden)]
    pub fn open_with_sync_hook(
        dir: &Path,
        options: StoreOptions,
        hook: Arc<dyn SyncHook>,
    ) -> Result<SledStore, StoreError> {
        // A new directory's own entry is only durable once its parent is synced.
        crate::durable::ensure_dir(dir)?;

        // `opened` drops as a whole on an early return: sled first, then the wait for its lock.
        let opened = open_sled(dir)?;
        let db = &opened.db;

        // sled creates `conf`, `db` and `blobs/` without syncing them or the directory, so make
        // them durable once before the first append relies on them.
        let db_file = File::options().read(true).write(true).open(dir.join("db"))?;
        db_file.sync_all()?;
        File::open(dir.join("conf"))?.sync_all()?;
        sync_directory(&dir.join("blobs"))?;
        sync_directory(dir)?;

        let (watermark_file, watermark) = open_watermark(dir)?;
        let recorded_heads = read_heads(dir)?;
        let mut open_damage = Vec::new();
        let mut quarantine: BTreeMap<BoardId, Vec<Damage>> = BTreeMap::new();
        let (acknowledged, heads_file) = if options.check_on_open {
            let mut damage = Vec::new();
            let recorded = match watermark {
                Ok(recorded) => recorded,
                Err(problem) => {
                    damage.push(problem);
                    None
                }
            };
            damage.extend(recorded_heads.damage.iter().cloned());
            let acknowledged = Acknowledged { events: recorded, heads: &recorded_heads.heads };
            let report = verify_tree(db, dir, &acknowledged, Depth::Checksums);
            damage.extend(report.damage);
            if damage.iter().any(|item| item.board.is_none()) {
                return Err(StoreError::Damaged(damage));
            }
            for item in damage {
                if let Some(board) = item.board {
                    quarantine.entry(board).or_default().push(item);
                }
            }
            // The heads file starts afresh from what was found, except that a quarantined board
            // keeps the head it was acknowledged at, so its loss is found again at every start.
            let mut heads: BTreeMap<BoardId, u64> = report.heads.into_iter().collect();
            for board in quarantine.keys() {
                if let Some(recorded) = recorded_heads.heads.get(board) {
                    let head = heads.entry(*board).or_insert(0);
                    *head = (*head).max(*recorded);
                }
            }
            // Apart from the quarantined boards' missing events (which their heads keep), the
            // count just taken is exact.
            (report.events, HeadsFile::create(dir, &heads)?)
        } else {
            // Unchecked, the recorded count is kept as it is, so damage it reveals stays visible
            // to the next check. Only an unreadable file starts over from zero, and that is
            // kept for `verify` to report.
            let acknowledged = watermark
                .unwrap_or_else(|problem| {
                    open_damage.push(problem);
                    None
                })
                .unwrap_or(0);
            (acknowledged, HeadsFile::open(dir, &recorded_heads)?)
        };

        let shared = Arc::new(Shared {
            heads: Mutex::new(HashMap::new()),
            appends: AtomicU64::new(0),
            events: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            watermark_durable: AtomicU64::new(acknowledged),
            failure: Mutex::new(None),
            acknowledged: AtomicU64::new(acknowledged),
        });
        let (sender, receiver) = mpsc::channel();
        let writer = Writer {
            db: db.clone(),
            db_file,
            dir: dir.to_path_buf(),
            synced_blobs: HashSet::new(),
            watermark: Watermark {
                file: watermark_file,
                acknowledged,
                heads: heads_file,
                synced_at: Instant::now(),
                unsynced: false,
                durable: acknowledged,
            },
            heads: HashMap::new(),
            shared: Arc::clone(&shared),
            hook,
            group_commit: options.group_commit,
            failure: None,
        };
        let handle =
            std::thread::Builder::new().name("kipina-store-writer".into()).spawn(move || writer.run(&receiver))?;

        tracing::info!(dir = %dir.display(), recovered = db.was_recovered(), "event store open");
        Ok(SledStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                db: opened.db,
                open_damage,
                quarantine: Mutex::new(quarantine),
                shared,
                sender: Some(sender),
                writer: Some(handle),
                release: opened.release,
            }),
        })
    }

    /// Becomes `true` once the last handle is gone: the writer has answered every queued append
    /// and the directory can be opened again.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.inner.release.closed()
    }

    /// What the writer did since the store was opened.
    pub fn stats(&self) -> StoreStats {
        let shared = &self.inner.shared;
        StoreStats {
            appends: shared.appends.load(Ordering::Acquire),
            events: shared.events.load(Ordering::Acquire),
            syncs: shared.syncs.load(Ordering::Acquire),
            watermark_durable: shared.watermark_durable.load(Ordering::Acquire),
        }
    }

    /// Scans everything stored and reports every problem found, each with its board and seq
    /// where the key still says them. An empty list means the data is sound. Meant for a store
    /// that is not being written to (at open, or from the `verify` command): sled's iterators
    /// are not snapshots, so a scan running next to appends may see a batch being applied.
    pub fn verify(&self) -> Vec<Damage> {
        // Loaded before the scan: events are never removed, so everything acknowledged by now
        // must be found by the scan that follows.
        let acknowledged = self.inner.shared.acknowledged.load(Ordering::Acquire);
        let mut damage = self.inner.open_damage.clone();
        let recorded = read_heads(&self.inner.dir).unwrap_or_else(|error| {
            damage.push(Damage {
                board: None,
                seq: None,
                problem: format!("cannot read {}: {error}", self.inner.dir.join(HEADS_FILE).display()),
            });
            RecordedHeads::default()
        });
        damage.extend(recorded.damage.iter().cloned());
        let acknowledged = Acknowledged { events: Some(acknowledged), heads: &recorded.heads };
        damage.extend(verify_tree(&self.inner.db, &self.inner.dir, &acknowledged, Depth::Envelopes).damage);
        damage
    }

    /// Reads a board's events whether or not it is in quarantine, up to the first damaged
    /// record: only for saying which board a damaged one is (its title). Never serve from it.
    pub fn read_for_damage_report(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_sound(board, from_seq, limit)
    }

    /// Why the store stopped accepting writes, if it has: after a failed write or sync nothing
    /// more is acknowledged (a retried sync may report success for data that is gone), until the
    /// server is restarted and recovers from what is durable. Reads go on.
    pub fn failure(&self) -> Option<String> {
        self.inner.shared.failure.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The boards in quarantine, each with the damage found in it, in board order.
    pub fn damaged_boards(&self) -> Vec<(BoardId, Vec<Damage>)> {
        self.quarantined().iter().map(|(board, damage)| (*board, damage.clone())).collect()
    }

    fn quarantined(&self) -> MutexGuard<'_, BTreeMap<BoardId, Vec<Damage>>> {
        // Every change to the map is a single insert, so a panic elsewhere cannot have left it half-changed.
        self.inner.quarantine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses a board in quarantine with the damage found in it.
    fn refuse_damaged(&self, board: BoardId) -> Result<(), StoreError> {
        match self.quarantined().get(&board) {
            Some(damage) => Err(StoreError::Damaged(damage.clone())),
            None => Ok(()),
        }
    }

    /// Quarantines the board of damage a read just found.
    fn quarantine_found<T>(&self, board: BoardId, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(StoreError::Damaged(damage)) = &result {
            let mut quarantine = self.quarantined();
            if let std::collections::btree_map::Entry::Vacant(entry) = quarantine.entry(board) {
                tracing::error!(
                    %board,
                    damage = %damage.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                    "damaged data found in a board; it is quarantined and will not be served"
                );
                entry.insert(damage.clone());
            }
        }
        result
    }

    /// The board's durable head; see the module docs for why this is not simply sled's last key.
    fn durable_head(&self, board: BoardId) -> Result<u64, StoreError> {
        self.refuse_damaged(board)?;
        let result = self.durable_head_sound(board);
        self.quarantine_found(board, result)
    }

    fn durable_head_sound(&self, board: BoardId) -> Result<u64, StoreError> {
        let mut heads = self.inner.shared.heads();
        if let Some(head) = heads.get(&board) {
            return Ok(*head.borrow());
        }
        // No entry means sled holds nothing unsynced for this board. The lock is held while
        // reading, so the writer cannot add unsynced events before the entry exists.
        let head = stored_head(&self.inner.db, board).map_err(|error| self.located(error, Some(board)))?;
        if head > 0 {
            // Caching only boards that exist keeps lookups of made-up board ids from growing the map.
            heads.insert(board, watch::channel(head).0);
        }
        Ok(head)
    }

    /// Turns sled's corruption report into [`StoreError::Damaged`] naming the file.
    fn located(&self, error: StoreError, board: Option<BoardId>) -> StoreError {
        match error {
            StoreError::Sled(sled::Error::Corruption { at, .. }) => StoreError::Damaged(vec![Damage {
                board,
                seq: None,
                problem: format!("{}: {}", self.inner.dir.join("db").display(), corrupt_at(at)),
            }]),
            other => other,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel lets the writer answer what is queued and then return.
        drop(self.sender.take());
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!(dir = %self.dir.display(), "the event store writer panicked");
        }
    }
}

impl EventStore for SledStore {
    fn append_all(&self, requests: Vec<AppendRequest>) -> Vec<AppendTicket> {
        let mut tickets = Vec::with_capacity(requests.len());
        let mut appends = Vec::with_capacity(requests.len());
        let mut stopped = false;
        for request in requests {
            if stopped {
                // The chain broke before this one (see the trait).
                tickets.push(AppendTicket::ready(Err(StoreError::Skipped)));
                continue;
            }
            // Nothing is written on top of damage: the next seq may be one that was acknowledged and lost.
            if let Err(damaged) = self.refuse_damaged(request.board) {
                tickets.push(AppendTicket::ready(Err(damaged)));
                stopped = true;
                continue;
            }
            let (reply, ticket) = AppendTicket::channel();
            tickets.push(ticket);
            match EncodedAppend::encode(request, reply) {
                Ok(append) => appends.push(append),
                Err((reply, error)) => {
                    // The ticket's receiver is alive: it was pushed above.
                    let _ = reply.send(Err(error));
                    stopped = true;
                }
            }
        }
        if appends.is_empty() {
            return tickets;
        }
        let job = Job { appends };
        let unsent = match self.inner.sender.as_ref() {
            None => Some((job, "the store is closing")),
            Some(sender) => sender.send(job).err().map(|mpsc::SendError(job)| (job, "the store's writer has stopped")),
        };
        if let Some((job, why)) = unsent {
            // The writer is gone only if it panicked; answer through the returned job's senders.
            for (_, reply) in job.appends {
                let _ = reply.send(Err(StoreError::Failed(why.into())));
            }
        }
        tickets
    }

    fn read(&self, board: BoardId, from_seq: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.refuse_damaged(board)?;
        let result = self.read_sound(board, from_seq, limit);
        self.quarantine_found(board, result)
    }

    fn head(&self, board: BoardId) -> Result<u64, StoreError> {
        self.durable_head(board)
    }

    fn boards(&self) -> Result<Vec<BoardId>, StoreError> {
        let quarantined: BTreeSet<BoardId> = self.quarantined().keys().copied().collect();
        let mut boards = Vec::new();
        let mut lower = Bound::Included(vec![record::EVENT_PREFIX]);
        loop {
            let next = self
                .inner
                .db
                .range::<Vec<u8>, _>((lower.clone(), Bound::Excluded(vec![record::EVENT_PREFIX + 1])))
                .next();
            let Some(item) = next else { break };
            let board = match item {
                Ok((key, _)) => match record::parse_key(&key) {
                    Ok(ParsedKey::Event { board, .. }) => board,
                    Ok(ParsedKey::Command { .. }) | Err(_) => {
                        return Err(StoreError::Damaged(vec![Damage {
                            board: record::board_of_key(&key),
                            seq: None,
                            problem: format!("malformed event key {key:02x?}"),
                        }]));
                    }
                },
                Err(error) => {
                    // sled cannot read on here: past a quarantined board that is no surprise.
                    let position = match &lower {
                        Bound::Included(key) | Bound::Excluded(key) => key.clone(),
                        Bound::Unbounded => Vec::new(),
                    };
                    let Some(board) = quarantined
                        .iter()
                        .copied()
                        .find(|board| KeyRange::Events.bounds(*board).1.as_slice() > position.as_slice())
                    else {
                        return Err(self.located(error.into(), None));
                    };
                    board
                }
            };
            // A board whose first events are still waiting for their sync does not exist yet.
            if quarantined.contains(&board) || self.durable_head(board)? > 0 {
                boards.push(board);
            }
            lower = Bound::Included(KeyRange::Events.bounds(board).1);
        }
        // A quarantined board may have lost every event.
        boards.extend(quarantined);
        boards.sort_unstable();
        boards.dedup();
        Ok(boards)
    }

    fn command(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.refuse_damaged(board)?;
        let result = self.command_sound(board, command_id);
        self.quarantine_found(board, result)
    }

    fn subscribe(&self, board: BoardId) -> watch::Receiver<u64> {
        let mut heads = self.inner.shared.heads();
        if let Some(head) = heads.get(&board) {
            return head.subscribe();
        }
        // As in `durable_head`, holding the lock keeps the writer from adding unsynced events
        // for this board before the entry exists.
        let head = stored_head(&self.inner.db, board).unwrap_or_else(|error| {
            tracing::error!(%board, %error, "cannot read the head for a subscription; starting it at 0");
            0
        });
        let (sender, receiver) = watch::channel(head);
        heads.insert(board, sender);
        receiver
    }

    fn damage(&self, board: BoardId) -> Option<Vec<Damage>> {
        self.quarantined().get(&board).cloned()
    }

    fn failure(&self) -> Option<String> {
        SledStore::failure(self)
    }

    fn damaged_boards(&self) -> Vec<(BoardId, Vec<Damage>)> {
        SledStore::damaged_boards(self)
    }

    fn quarantine(&self, board: BoardId, damage: Vec<Damage>) {
        let _ = self.quarantine_found::<()>(board, Err(StoreError::Damaged(damage)));
    }
}

impl SledStore {
    /// [`EventStore::read`] of a board not in quarantine.
    fn read_sound(&self, board: BoardId, from_seq: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let head = self.durable_head_sound(board)?;
        let from = from_seq.max(1);
        if limit == 0 || from > head {
            return Ok(Vec::new());
        }
        let last = head.min(from.saturating_add(u64::try_from(limit - 1).unwrap_or(u64::MAX)));
        let damaged = |seq: u64, problem: String| {
            StoreError::Damaged(vec![Damage { board: Some(board), seq: Some(seq), problem }])
        };

        let mut events = Vec::with_capacity(usize::try_from(last - from + 1).unwrap_or(0).min(limit));
        let mut expected = from;
        for item in self.inner.db.range(record::event_key(board, from)..=record::event_key(board, last)) {
            let (key, value) = item.map_err(|error| self.located(error.into(), Some(board)))?;
            let seq = match record::parse_key(&key) {
                Ok(ParsedKey::Event { board: key_board, seq }) if key_board == board => seq,
                Ok(other) => return Err(damaged(expected, format!("unexpected key {other:?} inside the stream"))),
                Err(error) => return Err(damaged(expected, format!("malformed key {key:02x?}: {error}"))),
            };
            if seq != expected {
                return Err(damaged(expected, format!("event missing (the next stored one is seq {seq})")));
            }
            let envelope = record::decode_event(&key, &value).map_err(|error| damaged(seq, error.to_string()))?;
            events.push(RecordedEvent {
                board,
                seq,
                event_id: envelope.id,
                command_id: envelope.command,
                actor: envelope.actor,
                at: envelope.at,
                event_type: envelope.event_type,
                event_version: envelope.v,
                payload: envelope.payload,
            });
            expected += 1;
        }
        if expected <= last {
            return Err(damaged(expected, format!("event missing (the head is seq {head})")));
        }
        Ok(events)
    }

    /// [`EventStore::command`] of a board not in quarantine.
    fn command_sound(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let key = record::command_key(board, command_id);
        let Some(value) = self.inner.db.get(key).map_err(|error| self.located(error.into(), Some(board)))? else {
            return Ok(None);
        };
        let command = record::decode_command(&key, &value).map_err(|error| {
            StoreError::Damaged(vec![Damage {
                board: Some(board),
                seq: None,
                problem: format!("the record of command {command_id}: {error}"),
            }])
        })?;
        // Read after the command, the durable head tells whether its events were synced yet.
        if command.last > self.durable_head(board)? {
            return Ok(None);
        }
        Ok(Some(command))
    }
}

/// Opens sled in `dir`, turning its lock and corruption failures into the store's own errors.
fn open_sled(dir: &Path) -> Result<OpenedSled, StoreError> {
    let db_path = dir.join("db");
    let config = sled::Config::new().path(dir).segment_size(SEGMENT_SIZE);
    // sled 0.34 panics instead of erroring on some damaged files; a panic while opening is
    // reported as damage so the caller gets an answer it can act on.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| OpenedSled::open(&config, dir)));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(sled::Error::Io(error))) if error.to_string().contains("could not acquire lock") => {
            Err(StoreError::Locked(format!("{}: {error}", db_path.display())))
        }
        Ok(Err(sled::Error::Corruption { at, .. })) => Err(damaged_file(&db_path, &corrupt_at(at))),
        Ok(Err(sled::Error::Io(error)))
            if matches!(error.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData) =>
        {
            Err(damaged_file(&db_path, &format!("sled could not read its files: {error}")))
        }
        Ok(Err(sled::Error::ReportableBug(message))) => {
            Err(damaged_file(&db_path, &format!("sled failed while recovering: {message}")))
        }
        Ok(Err(other)) => Err(other.into()),
        Err(panic) => Err(damaged_file(&db_path, &format!("sled panicked while opening: {}", panic_message(&*panic)))),
    }
}

/// sled's words for corrupt data, with where it is when sled says.
fn corrupt_at(at: Option<sled::DiskPtr>) -> String {
    match at {
        Some(at) => format!("sled found corrupt data at {at:?}"),
        None => "sled found corrupt data (a log message or its page-table snapshot fails its checksum or ends early)"
            .to_owned(),
    }
}

fn damaged_file(path: &Path, problem: &str) -> StoreError {
    StoreError::Damaged(vec![Damage { board: None, seq: None, problem: format!("{}: {problem}", path.display()) }])
}

/// The last seq stored in sled for the board (synced or not), 0 when there is none.
fn stored_head(db: &sled::Db, board: BoardId) -> Result<u64, StoreError> {
    let Some(item) = db.scan_prefix(record::event_prefix(board)).next_back() else {
        return Ok(0);
    };
    let (key, _) = item?;
    match record::parse_key(&key) {
        Ok(ParsedKey::Event { seq, .. }) => Ok(seq),
        Ok(ParsedKey::Command { .. }) | Err(_) => Err(StoreError::Damaged(vec![Damage {
            board: Some(board),
            seq: None,
            problem: format!("malformed event key {key:02x?} at the end of the stream"),
        }])),
    }
}

/// Opens the watermark file, creating it when missing, and reads what it records: `Ok(None)`
/// for a new file, `Err` with the problem when it cannot be read.
fn open_watermark(dir: &Path) -> Result<(File, Result<Option<u64>, Damage>), StoreError> {
    let path = dir.join(WATERMARK_FILE);
    let existed = path.exists();
    let mut file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
    if !existed {
        file.sync_all()?;
        sync_directory(dir)?;
        return Ok((file, Ok(None)));
    }
    let mut bytes = Vec::with_capacity(record::WATERMARK_LEN);
    file.read_to_end(&mut bytes)?;
    let recorded = if bytes.is_empty() {
        // Created but never written: the store stopped before its first acknowledged append.
        Ok(None)
    } else {
        record::decode_watermark(&bytes).map(Some).map_err(|error| Damage {
            board: None,
            seq: None,
            problem: format!("the acknowledgement watermark {} is unreadable: {error}", path.display()),
        })
    };
    Ok((file, recorded))
}

/// What the acknowledged-heads file says.
#[derive(Debug, Default)]
struct RecordedHeads {
    /// The acknowledged head of each board with a readable slot.
    heads: HashMap<BoardId, u64>,
    /// The board in each slot, in file order (`None` for an empty or unreadable slot), so the
    /// writer can go on using the same slots.
    slots: Vec<Option<BoardId>>,
    /// Unreadable slots: damage that names no board, since the board id is in the damaged bytes.
    damage: Vec<Damage>,
}

/// Reads the acknowledged-heads file; a missing file records nothing (a store made before
/// the file existed, or a new one).
fn read_heads(dir: &Path) -> io::Result<RecordedHeads> {
    let path = dir.join(HEADS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(RecordedHeads::default()),
        Err(error) => return Err(error),
    };
    let mut recorded = RecordedHeads::default();
    let mut slots = bytes.chunks_exact(record::HEAD_SLOT_LEN);
    for (index, slot) in slots.by_ref().enumerate() {
        let slot: &[u8; record::HEAD_SLOT_LEN] = slot.try_into().unwrap_or(&[0; record::HEAD_SLOT_LEN]);
        match record::decode_head_slot(slot) {
            Ok(Some((board, head))) => {
                let known = recorded.heads.entry(board).or_insert(0);
                *known = (*known).max(head);
                recorded.slots.push(Some(board));
            }
            Ok(None) => recorded.slots.push(None),
            Err(error) => {
                recorded.slots.push(None);
                recorded.damage.push(Damage {
                    board: None,
                    seq: None,
                    problem: format!(
                        "slot {index} of the acknowledged heads {} is unreadable: {error}",
                        path.display()
                    ),
                });
            }
        }
    }
    if !slots.remainder().is_empty() {
        // Only a new slot being appended when the power went can leave part of one; that loses
        // the record of one board's first acknowledged events, which weakens the check but is
        // no damage to any board.
        tracing::warn!(path = %path.display(), "ignoring a partly written slot at the end of the acknowledged heads");
    }
    Ok(recorded)
}

/// The writer's side of the acknowledged-heads file: one slot per board, rewritten in place.
struct HeadsFile {
    file: File,
    /// The slot of each board.
    slots: HashMap<BoardId, u64>,
    /// The next free slot.
    next: u64,
}

impl HeadsFile {
    /// Writes the file afresh with `heads` (to a new file that then replaces the old one).
    fn create(dir: &Path, heads: &BTreeMap<BoardId, u64>) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let fresh = dir.join(format!("{HEADS_FILE}.new"));
        let mut bytes = Vec::with_capacity(heads.len() * record::HEAD_SLOT_LEN);
        let mut slots = HashMap::with_capacity(heads.len());
        for (index, (board, head)) in (0u64..).zip(heads) {
            bytes.extend_from_slice(&record::encode_head_slot(*board, *head));
            slots.insert(*board, index);
        }
        {
            let mut file = File::create(&fresh)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&fresh, &path)?;
        sync_directory(dir)?;
        let file = File::options().read(true).write(true).open(&path)?;
        Ok(Self { file, next: slots.len() as u64, slots })
    }

    /// Goes on with the file as it is (for inspection, which must not rewrite it).
    fn open(dir: &Path, recorded: &RecordedHeads) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
        let slots =
            (0u64..).zip(&recorded.slots).filter_map(|(index, board)| board.map(|board| (board, index))).collect();
        Ok(Self { file, slots, next: recorded.slots.len() as u64 })
    }

    /// Records `head` as the board's acknowledged head (in the page cache; see `Watermark::sync`).
    fn set(&mut self, board: BoardId, head: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let next = &mut self.next;
        let index = *self.slots.entry(board).or_insert_with(|| {
            *next += 1;
            *next - 1
        });
        self.file.write_all_at(&record::encode_head_slot(board, head), index * record::HEAD_SLOT_LEN as u64)
    }
}

/// What the store has acknowledged, to compare with what a scan finds.
struct Acknowledged<'a> {
    /// Events acknowledged over the store's life, when known.
    events: Option<u64>,
    /// Each board's acknowledged head, as far as recorded.
    heads: &'a HashMap<BoardId, u64>,
}

/// What a scan of all stored data found.
struct VerifyReport {
    damage: Vec<Damage>,
    /// The number of event keys found.
    events: u64,
    /// The last sequence number found of each board.
    heads: HashMap<BoardId, u64>,
    /// The number of events found of each board.
    counts: HashMap<BoardId, u64>,
}

/// How far a scan looks into each event record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Depth {
    /// Format byte and checksum: finds every changed, torn or moved record. What opening checks:
    /// a record that passes is byte for byte what the store wrote, so decoding it at every start
    /// (the larger half of the scan's time) would only re-check our own encoder.
    Checksums,
    /// Also decodes every envelope, as `verify` does.
    Envelopes,
}

/// Scans all stored data; see [`SledStore::verify`]. Finding fewer events than were
/// acknowledged is damage: of the boards whose recorded head is past what is found, and of the
/// store as a whole for whatever those boards do not account for.
fn verify_tree(db: &sled::Db, dir: &Path, acknowledged: &Acknowledged<'_>, depth: Depth) -> VerifyReport {
    // sled 0.34 may panic on data damaged in ways its checks do not foresee; that is damage to
    // report, not a reason to take the caller down.
    let known: BTreeSet<BoardId> = acknowledged.heads.keys().copied().collect();
    let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan_tree(db, dir, depth, &known)));
    let (mut report, unreadable) = scanned.unwrap_or_else(|panic| {
        let damage = vec![Damage {
            board: None,
            seq: None,
            problem: format!("sled panicked while reading {}: {}", dir.join("db").display(), panic_message(&*panic)),
        }];
        (VerifyReport { damage, events: 0, heads: HashMap::new(), counts: HashMap::new() }, BTreeSet::new())
    });
    // Events missing from the boards that say so (lost from the end of a stream, or from a gap
    // in it), counted so the store-wide check below only reports what no board accounts for.
    let mut accounted = 0u64;
    let mut lost: Vec<(BoardId, u64, u64)> = Vec::new();
    for (board, recorded) in acknowledged.heads {
        accounted += recorded.saturating_sub(report.counts.get(board).copied().unwrap_or(0));
        let found = report.heads.get(board).copied().unwrap_or(0);
        if found < *recorded {
            lost.push((*board, found, *recorded));
        }
    }
    lost.sort_unstable();
    for (board, found, recorded) in lost {
        // A board sled could not read all of is reported as that already.
        if unreadable.contains(&board) {
            continue;
        }
        let problem = if found == 0 {
            format!(
                "{recorded} events were acknowledged but none is stored: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or they were deleted",
                dir.join("db").display()
            )
        } else {
            format!(
                "events {}..={recorded} were acknowledged but are not stored: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or they were deleted",
                found + 1,
                dir.join("db").display()
            )
        };
        report.damage.push(Damage { board: Some(board), seq: Some(found + 1), problem });
    }
    if let Some(events) = acknowledged.events.filter(|events| report.events.saturating_add(accounted) < *events) {
        report.damage.push(Damage {
            board: None,
            seq: None,
            problem: format!(
                "{events} events were acknowledged but only {} are stored{}: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or records were deleted",
                report.events,
                if accounted > 0 {
                    format!(" and {accounted} are missing from the boards named")
                } else {
                    String::new()
                },
                dir.join("db").display()
            ),
        });
    }
    report
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message")
}

/// The scan behind [`verify_tree`]: the report, and the boards sled could not read all of.
fn scan_tree(db: &sled::Db, dir: &Path, depth: Depth, known: &BTreeSet<BoardId>) -> (VerifyReport, BTreeSet<BoardId>) {
    // The two passes read disjoint key ranges, so they run side by side: the command records on
    // a thread of their own, the events here. Whatever the command records claim is compared
    // with the event streams' heads once both are done.
    let (events_pass, commands_pass) = std::thread::scope(|scope| {
        let commands = scope.spawn(|| scan_commands(db, dir, known));
        let events = scan_events(db, dir, depth, known);
        // A panic inside sled on the other thread is re-raised here, for `verify_tree` to report.
        (events, commands.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let EventsPass { mut damage, events, heads, counts, unreadable } = events_pass;
    let commands_pass = if commands_pass.unpinned {
        // Where sled could not read command records it could not pin on a board it knew of,
        // every board with events is known now; command records of any other board would be
        // damage anyway.
        let mut all_known = known.clone();
        all_known.extend(heads.keys().copied());
        scan_commands(db, dir, &all_known)
    } else {
        commands_pass
    };
    let CommandsPass { damage: command_damage, highest_claims, unreadable: unreadable_commands, .. } = commands_pass;
    damage.extend(command_damage);
    let mut unreadable_any = unreadable;
    unreadable_any.extend(unreadable_commands.iter().copied());
    // Only a board with a claim past its head (damage, so rare) has its command records read
    // again, to name every such command.
    for (board, highest) in highest_claims {
        let head = heads.get(&board).copied().unwrap_or(0);
        if highest <= head || unreadable_any.contains(&board) {
            continue;
        }
        let mut prefix = vec![record::COMMAND_PREFIX];
        prefix.extend_from_slice(board.as_bytes());
        for (key, value) in db.scan_prefix(prefix).flatten() {
            let (Ok(ParsedKey::Command { command_id, .. }), Ok(command)) =
                (record::parse_key(&key), record::decode_command(&key, &value))
            else {
                // Reported by the scan already.
                continue;
            };
            if command.last > head {
                damage.push(Damage {
                    board: Some(board),
                    seq: Some(command.last),
                    problem: format!(
                        "command {command_id} claims events {}..={} but the stream ends at seq {head}",
                        command.first, command.last
                    ),
                });
            }
        }
    }
    (VerifyReport { damage, events, heads, counts }, unreadable_any)
}

/// One of the two key ranges each board has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyRange {
    Events,
    Commands,
}

impl KeyRange {
    /// The first key of the board's range, and the first key after it.
    fn bounds(self, board: BoardId) -> (Vec<u8>, Vec<u8>) {
        let prefix = match self {
            KeyRange::Events => record::EVENT_PREFIX,
            KeyRange::Commands => record::COMMAND_PREFIX,
        };
        let mut start = vec![prefix];
        start.extend_from_slice(board.as_bytes());
        let end = successor(&start);
        (start, end)
    }
}

/// The smallest key greater than every key starting with `prefix`.
fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.last_mut() {
        if *last == u8::MAX {
            next.pop();
        } else {
            *last += 1;
            break;
        }
    }
    next
}

/// Whether sled can read every record of the board's range.
fn readable(db: &sled::Db, range: KeyRange, board: BoardId) -> bool {
    let (start, end) = range.bounds(board);
    db.range(start..end).all(|item| item.is_ok())
}

/// After sled failed to read the entry after `position`, the board whose records it could not
/// read, if that can be told: sled keeps keys in nodes covering contiguous key ranges, so the
/// node it could not read holds the next key after `position`. Of the boards in `candidates`,
/// the first whose range does not end before `position` is the one that key belongs to, if it
/// belongs to any known board, and then sled cannot read all of that board. When that board
/// reads, the key belongs to none of them: `None`. When it does not, the node is blamed on it.
/// (A key of a board nobody knows of could share the node; its events are then missing from
/// the count of events found, which the store-wide check reports.)
fn blame(db: &sled::Db, range: KeyRange, position: &[u8], candidates: &BTreeSet<BoardId>) -> Option<BoardId> {
    for board in candidates {
        let (start, end) = range.bounds(*board);
        if end.as_slice() <= position {
            continue;
        }
        if !readable(db, range, *board) {
            return Some(*board);
        }
        if start.as_slice() > position {
            return None;
        }
    }
    None
}

/// Reads every entry from `start` up to `end` in key order, handing each to `visit` (which
/// answers the board the key belongs to, if any). Where sled cannot read on, the records of the
/// board to [`blame`] are skipped after telling `unreadable`; a failure that cannot be pinned on a
/// board ends the walk and is returned.
fn walk(
    db: &sled::Db,
    start: Vec<u8>,
    end: Bound<Vec<u8>>,
    range: KeyRange,
    known: &BTreeSet<BoardId>,
    mut visit: impl FnMut(&[u8], &[u8]) -> Option<BoardId>,
    mut unreadable: impl FnMut(BoardId, String),
) -> Result<(), sled::Error> {
    let mut seen: BTreeSet<BoardId> = BTreeSet::new();
    let mut resume = start;
    loop {
        // The last key read, or where reading started.
        let mut position = resume.clone();
        let mut failure = None;
        for item in db.range::<Vec<u8>, _>((Bound::Included(resume), end.clone())) {
            match item {
                Ok((key, value)) => {
                    if let Some(board) = visit(&key, &value) {
                        seen.insert(board);
                    }
                    position = key.to_vec();
                }
                Err(error) => {
                    // An iterator that failed once cannot be trusted to make progress.
                    failure = Some(error);
                    break;
                }
            }
        }
        let Some(error) = failure else { return Ok(()) };
        let candidates: BTreeSet<BoardId> = known.union(&seen).copied().collect();
        let Some(board) = blame(db, range, &position, &candidates) else { return Err(error) };
        unreadable(board, error.to_string());
        resume = range.bounds(board).1;
        let past_the_end = match &end {
            Bound::Excluded(end) => resume >= *end,
            Bound::Included(end) => resume > *end,
            Bound::Unbounded => false,
        };
        if past_the_end {
            return Ok(());
        }
    }
}

/// What the scan of the event streams found.
struct EventsPass {
    damage: Vec<Damage>,
    events: u64,
    /// The last sequence number found of each board.
    heads: HashMap<BoardId, u64>,
    /// The number of events found of each board.
    counts: HashMap<BoardId, u64>,
    /// Boards sled could not read all events of.
    unreadable: BTreeSet<BoardId>,
}

/// What the scan of everything but events found.
struct CommandsPass {
    damage: Vec<Damage>,
    /// The highest sequence number any sound command record of each board claims, to be
    /// checked against the board's head.
    highest_claims: HashMap<BoardId, u64>,
    /// Boards sled could not read all command records of.
    unreadable: BTreeSet<BoardId>,
    /// Whether sled failed somewhere it could not pin on a board (reported in `damage`).
    unpinned: bool,
}

/// sled's own read failure, as damage of its `db` file.
fn sled_failure(dir: &Path, error: sled::Error) -> Damage {
    Damage { board: None, seq: None, problem: format!("sled could not read {}: {error}", dir.join("db").display()) }
}

/// sled's read failure inside one board's records.
fn unreadable_board(dir: &Path, board: BoardId, seq: Option<u64>, what: &str, error: &str) -> Damage {
    Damage {
        board: Some(board),
        seq,
        problem: format!("sled cannot read the board's {what} in {}: {error}", dir.join("db").display()),
    }
}

/// Pass 1: the event streams, in key order, so each board's events come together and in seq order.
fn scan_events(db: &sled::Db, dir: &Path, depth: Depth, known: &BTreeSet<BoardId>) -> EventsPass {
    let mut damage = Vec::new();
    let mut events = 0u64;
    let mut heads: HashMap<BoardId, u64> = HashMap::new();
    let mut counts: HashMap<BoardId, u64> = HashMap::new();
    let mut unreadable = BTreeSet::new();
    let mut current: Option<(BoardId, u64)> = None;
    let walked = {
        let damage = &mut damage;
        let heads_seen = &mut heads;
        let counts = &mut counts;
        let current = &mut current;
        let visit = |key: &[u8], value: &[u8]| {
            let (board, seq) = match record::parse_key(key) {
                Ok(ParsedKey::Event { board, seq }) => {
                    events += 1;
                    (board, seq)
                }
                Ok(ParsedKey::Command { .. }) => {
                    damage.push(outside_range(key));
                    return None;
                }
                Err(error) => {
                    damage.push(Damage {
                        board: record::board_of_key(key),
                        seq: None,
                        problem: format!("malformed event key {key:02x?}: {error}"),
                    });
                    return record::board_of_key(key);
                }
            };
            let previous = match *current {
                Some((current_board, last)) if current_board == board => last,
                _ => 0,
            };
            if seq != previous + 1 {
                let problem = if previous == 0 {
                    format!("the stream starts at seq {seq} instead of 1")
                } else {
                    format!("events {}..={} are missing", previous + 1, seq - 1)
                };
                damage.push(Damage { board: Some(board), seq: Some(previous + 1), problem });
            }
            let checked = match depth {
                Depth::Checksums => record::check_event(key, value),
                Depth::Envelopes => record::decode_event(key, value).map(|_| ()),
            };
            if let Err(error) = checked {
                damage.push(Damage { board: Some(board), seq: Some(seq), problem: error.to_string() });
            }
            *current = Some((board, seq));
            heads_seen.insert(board, seq);
            *counts.entry(board).or_insert(0) += 1;
            Some(board)
        };
        let mut blamed = Vec::new();
        let walked = walk(
            db,
            vec![record::EVENT_PREFIX],
            Bound::Excluded(vec![record::EVENT_PREFIX + 1]),
            KeyRange::Events,
            known,
            visit,
            |board, error| blamed.push((board, error)),
        );
        (walked, blamed)
    };
    let (walked, blamed) = walked;
    for (board, error) in blamed {
        let next = heads.get(&board).map_or(1, |head| head + 1);
        damage.push(unreadable_board(dir, board, Some(next), "events from here on", &error));
        unreadable.insert(board);
    }
    if let Err(error) = walked {
        damage.push(sled_failure(dir, error));
    }
    EventsPass { damage, events, heads, counts, unreadable }
}

/// Pass 2: everything else, which must be command records pointing inside their stream.
fn scan_commands(db: &sled::Db, dir: &Path, known: &BTreeSet<BoardId>) -> CommandsPass {
    let mut damage = Vec::new();
    let mut highest_claims: HashMap<BoardId, u64> = HashMap::new();
    let mut unreadable = BTreeSet::new();
    let mut unpinned = false;
    // Everything before the events, then everything after them.
    let regions =
        [(Vec::new(), Bound::Excluded(vec![record::EVENT_PREFIX])), (vec![record::EVENT_PREFIX + 1], Bound::Unbounded)];
    for (start, end) in regions {
        let visit = |key: &[u8], value: &[u8]| {
            let (board, command_id) = match record::parse_key(key) {
                Ok(ParsedKey::Command { board, command_id }) => (board, command_id),
                Ok(ParsedKey::Event { .. }) => {
                    damage.push(outside_range(key));
                    return None;
                }
                Err(error) => {
                    let board = if matches!(error, RecordError::UnknownKeyPrefix(_)) {
                        None
                    } else {
                        record::board_of_key(key)
                    };
                    damage.push(Damage { board, seq: None, problem: format!("key {key:02x?}: {error}") });
                    return board;
                }
            };
            match record::decode_command(key, value) {
                Ok(command) => {
                    let highest = highest_claims.entry(board).or_insert(0);
                    *highest = (*highest).max(command.last);
                }
                Err(error) => damage.push(Damage {
                    board: Some(board),
                    seq: None,
                    problem: format!("the record of command {command_id}: {error}"),
                }),
            }
            Some(board)
        };
        let mut blamed = Vec::new();
        let walked = walk(db, start, end, KeyRange::Commands, known, visit, |board, error| {
            blamed.push((board, error));
        });
        for (board, error) in blamed {
            damage.push(unreadable_board(dir, board, None, "command records", &error));
            unreadable.insert(board);
        }
        if let Err(error) = walked {
            damage.push(sled_failure(dir, error));
            unpinned = true;
        }
    }
    CommandsPass { damage, highest_claims, unreadable, unpinned }
}

/// A key from the wrong half of the scan. The ranges make this impossible; should sled ever
/// return one anyway, it is reported rather than trusted.
fn outside_range(key: &[u8]) -> Damage {
    Damage {
        board: record::board_of_key(key),
        seq: None,
        problem: format!("sled returned key {key:02x?} outside the scanned range"),
    }
}

/// The writer thread's state: the only code that writes to sled.
struct Writer {
    db: sled::Db,
    /// Our own handle on sled's `db` file, for `fdatasync`.
    db_file: File,
    dir: PathBuf,
    /// Blob files already synced; sled writes a blob file once and never changes it.
    synced_blobs: HashSet<OsString>,
    watermark: Watermark,
    /// The head of each board the writer has looked at, including appends not yet synced.
    heads: HashMap<BoardId, u64>,
    shared: Arc<Shared>,
    hook: Arc<dyn SyncHook>,
    group_commit: bool,
    /// Why the store stopped accepting writes, once it has.
    failure: Option<String>,
}

/// The appends of one group commit and their single batch.
#[derive(Default)]
struct Group {
    batch: sled::Batch,
    /// Encoded bytes in the batch.
    bytes: usize,
    /// Whether the batch holds anything.
    writes: bool,
    answers: Vec<(Reply, Result<AppendOutcome, StoreError>)>,
    /// Commands stored by earlier appends of this group.
    commands: HashMap<(BoardId, CommandId), CommandRecord>,
    /// Each board written by the group: its durable head before and its head after the group.
    boards: HashMap<BoardId, (u64, u64)>,
    appends: u64,
    events: u64,
}

impl Writer {
    fn run(mut self, receiver: &mpsc::Receiver<Job>) {
        // `recv` hands out everything queued before it reports the closed channel, so every
        // append sent before the last handle was dropped is answered.
        loop {
            let job = if self.watermark.unsynced && self.failure.is_none() {
                match receiver.recv_timeout(WATERMARK_SYNC_INTERVAL) {
                    Ok(job) => job,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Idle: make the last groups' count durable now rather than at the next
                        // append, which may be months away.
                        if let Err(error) = self.watermark.sync() {
                            tracing::error!(%error, dir = %self.dir.display(), "cannot sync the acknowledgement watermark");
                        }
                        self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match receiver.recv() {
                    Ok(job) => job,
                    Err(mpsc::RecvError) => break,
                }
            };
            let mut group = Group::default();
            self.add(&mut group, job);
            while self.group_commit && group.answers.len() < MAX_GROUP_REQUESTS && group.bytes < MAX_GROUP_BYTES {
                match receiver.try_recv() {
                    Ok(job) => self.add(&mut group, job),
                    Err(_) => break,
                }
            }
            self.commit(group);
            self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
        }
        if self.failure.is_none()
            && let Err(error) = self.watermark.sync()
        {
            tracing::error!(
                %error,
                dir = %self.dir.display(),
                "cannot sync the acknowledgement watermark at shutdown"
            );
        }
    }

    /// Plans a job's appends into the group, in order, and notes their answers, to be sent after
    /// the commit. Once one of them does not append, the ones after it are skipped (a chain; see
    /// [`EventStore::append_all`]).
    fn add(&mut self, group: &mut Group, job: Job) {
        let mut stopped = false;
        for (append, reply) in job.appends {
            let answer = match &self.failure {
                Some(failure) => Err(StoreError::Failed(failure.clone())),
                None if stopped => Err(StoreError::Skipped),
                None => self.plan(group, append),
            };
            stopped |= !matches!(answer, Ok(AppendOutcome::Appended { .. }));
            group.answers.push((reply, answer));
        }
    }

    fn plan(&mut self, group: &mut Group, append: EncodedAppend) -> Result<AppendOutcome, StoreError> {
        let EncodedAppend { board, command_id, command_fingerprint, expected, records } = append;
        // The caller checked that there is at least one and at most MAX_EVENTS_PER_APPEND.
        let count = records.len();
        let command_key = record::command_key(board, command_id);
        let stored = match group.commands.get(&(board, command_id)) {
            Some(command) => Some(*command),
            None => self.look_up(board, command_id)?,
        };
        if let Some(command) = stored {
            return if command.fingerprint == command_fingerprint {
                Ok(AppendOutcome::AlreadyAppended { first: command.first, last: command.last })
            } else {
                Err(StoreError::IdempotencyConflict { command_id })
            };
        }

        let head = self.head(board)?;
        let matches = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => head == 0,
            ExpectedVersion::Exact(expected) => head == expected,
        };
        if !matches {
            return Err(StoreError::Conflict { board, expected, actual: head });
        }

        let first = head + 1;
        // `count` is at most MAX_EVENTS_PER_APPEND, so it fits in a u64.
        let last = head
            .checked_add(count as u64)
            .ok_or_else(|| StoreError::InvalidAppend(format!("board {board} has no sequence numbers left")))?;
        for (seq, unsealed) in (first..=last).zip(records) {
            let key = record::event_key(board, seq);
            group.bytes += unsealed.len();
            group.batch.insert(&key[..], unsealed.seal(&key));
        }
        let command = CommandRecord { first, last, fingerprint: command_fingerprint };
        group.batch.insert(&command_key[..], record::encode_command(&command_key, &command));
        group.writes = true;
        group.commands.insert((board, command_id), command);
        group.boards.entry(board).or_insert((head, last)).1 = last;
        group.appends += 1;
        group.events += count as u64;
        self.heads.insert(board, last);
        Ok(AppendOutcome::Appended { first, last })
    }

    /// What sled holds of a command id.
    fn look_up(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let command_key = record::command_key(board, command_id);
        let Some(value) = self.db.get(command_key)? else { return Ok(None) };
        record::decode_command(&command_key, &value).map(Some).map_err(|error| {
            StoreError::Damaged(vec![Damage {
                board: Some(board),
                seq: None,
                problem: format!("the record of command {command_id}: {error}"),
            }])
        })
    }

    /// The board's head as the writer knows it, loaded from sled the first time.
    fn head(&mut self, board: BoardId) -> Result<u64, StoreError> {
        if let Some(head) = self.heads.get(&board) {
            return Ok(*head);
        }
        let head = stored_head(&self.db, board)?;
        self.heads.insert(board, head);
        Ok(head)
    }

    /// Makes the group durable and answers it.
    fn commit(&mut self, group: Group) {
        let Group { batch, writes, answers, boards, appends, events, .. } = group;
        if writes {
            if let Err(error) = self.write(batch, &boards, events) {
                let failure = format!("writing to {} failed: {error}", self.dir.display());
                tracing::error!(%failure, "the event store stops accepting writes");
                // Known as failed (to /health) before anyone hears of it.
                *self.shared.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(failure.clone());
                for (reply, _) in answers {
                    let _ = reply.send(Err(StoreError::Failed(failure.clone())));
                }
                self.failure = Some(failure);
                return;
            }
            self.shared.appends.fetch_add(appends, Ordering::AcqRel);
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
        for (reply, answer) in answers {
            // An append whose caller stopped waiting is stored all the same; nobody to tell.
            let _ = reply.send(answer);
        }
    }

    /// Applies the batch and makes it durable; the steps whose failure fails the store.
    fn write(
        &mut self,
        batch: sled::Batch,
        boards: &HashMap<BoardId, (u64, u64)>,
        events: u64,
    ) -> Result<(), StoreError> {
        {
            // Before sled shows the batch to readers, every board in it must have a durable-head
            // entry, so readers cap at the old head until the sync is done.
            let mut heads = self.shared.heads();
            for (board, (before, _)) in boards {
                heads.entry(*board).or_insert_with(|| watch::channel(*before).0);
            }
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.sync_new_blobs()?;
        self.hook.before_sync()?;
        self.db_file.sync_data()?;
        self.shared.syncs.fetch_add(1, Ordering::AcqRel);
        self.hook.after_sync();
        // Only now are the events durable, so only now may the watermark count them. Should
        // writing the watermark fail, the group is answered as failed although its events are
        // stored; a retry with the same command id then finds them.
        self.watermark.raise(events, boards)?;
        self.shared.acknowledged.fetch_add(events, Ordering::AcqRel);
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

/// The writer's side of the acknowledgement watermark.
struct Watermark {
    file: File,
    acknowledged: u64,
    /// Each board's acknowledged head.
    heads: HeadsFile,
    synced_at: Instant,
    /// Whether counts were written since the last sync.
    unsynced: bool,
    /// What `acknowledged` was at the last sync (for `StoreStats`).
    durable: u64,
}

impl Watermark {
    /// Counts newly durable events, in all and per board: rewrites the files in place and syncs
    /// them when the last sync is old enough. The 16 bytes of the count sit in one disk sector,
    /// and so does each 32-byte slot of the heads; the checksums catch a torn write.
    fn raise(&mut self, events: u64, boards: &HashMap<BoardId, (u64, u64)>) -> io::Result<()> {
        for (board, (_, last)) in boards {
            self.heads.set(*board, *last)?;
        }
        self.acknowledged += events;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&record::encode_watermark(self.acknowledged))?;
        self.unsynced = true;
        if self.synced_at.elapsed() >= WATERMARK_SYNC_INTERVAL {
            self.sync()?;
        }
        Ok(())
    }

    /// Makes both files durable: the heads first, so that after a power cut they never cover
    /// fewer events than the count does, and every loss the count shows is pinned on a board.
    fn sync(&mut self) -> io::Result<()> {
        self.heads.file.sync_data()?;
        self.file.sync_data()?;
        self.synced_at = Instant::now();
        self.unsynced = false;
        self.durable = self.acknowledged;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AppendRequest, NewEvent};
    use kipina_proto::{EventId, ParticipantId, Timestamp};
    use uuid::Uuid;

    /// A record that passes its checksum is opened without decoding; `verify` still decodes it.
    #[test]
    fn opening_checks_checksums_and_verify_also_decodes_envelopes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("events");
        let board = BoardId(Uuid::from_u128(1));
        {
            let store = SledStore::open(&path, StoreOptions::default()).expect("opens");
            let request = AppendRequest {
                board,
                command_id: CommandId(Uuid::from_u128(2)),
                command_fingerprint: 3,
                actor: ParticipantId(Uuid::from_u128(4)),
                at: Timestamp(5),
                expected: ExpectedVersion::NoStream,
                events: vec![NewEvent {
                    event_id: EventId(Uuid::from_u128(6)),
                    event_type: "card_added".into(),
                    event_version: 1,
                    payload: serde_json::json!({"n": 1}),
                }],
            };
            store.append(request).wait().expect("appends");
        }
        {
            // Our own encoder never writes this: a body that is not JSON, with a valid checksum.
            let opened = open_sled(&path).expect("sled opens");
            let db = &opened.db;
            let key = record::event_key(board, 1);
            let mut bytes = vec![record::FORMAT_V1, 0, 0, 0, 0];
            bytes.extend_from_slice(b"not json");
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&key);
            hasher.update(&bytes[record::HEADER_LEN..]);
            bytes[1..record::HEADER_LEN].copy_from_slice(&hasher.finalize().to_be_bytes());
            db.insert(key, bytes).expect("writes");
            db.flush().expect("flushes");
        }
        // Dropping `opened` waited until sled let go of the directory.
        let store = SledStore::open(&path, StoreOptions::default()).expect("a record with a valid checksum opens");
        let damage = store.verify();
        assert_eq!(damage.len(), 1, "{damage:?}");
        assert_eq!((damage[0].board, damage[0].seq), (Some(board), Some(1)));
    }
}
