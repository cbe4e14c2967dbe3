//! The sled-backed event store: one sled tree, each board's events in chunks of up to 64 (one
//! entry each for some, see below), a commit log in front of it, a writer thread and a syncer
//! thread, a real `fdatasync` shared by every group written while the last one ran.
//!
//! # Shape
//!
//! All events live in sled's default tree, with their command id in each record's header (key
//! layout and formats in [`super::record`]; ADR 0005). The writer puts them there in chunks of up
//! to 64 events ([`tail`], ADR 0011; the chunk format of ADR 0008): each board's newest events
//! wait in a *tail* in memory until they fill a chunk or a checkpoint comes. Events are stored
//! one sled entry each where a data directory from before ADR 0011 holds them so, where opening
//! applied the commit log's frames after a crash, and for a group too large for the log; which
//! commands a board holds is learned from the records' headers ([`commands`]). Every write goes
//! through a single writer thread that owns the sequence numbers: [`EventStore::append`] checks
//! the request and encodes its events' records on the caller's thread (everything that needs no
//! sequence number), sends them over a channel and returns a ticket. The writer takes one
//! request, drains whatever else is already queued (group commit), plans the whole group
//! (sequence numbers, checksums, command ids), writes it as one frame of the commit log ([`log`],
//! ADR 0007), hands it to the syncer thread, and applies it (into the tails, a full tail into
//! sled as one chunk, without flushing sled) while the syncer syncs; then it goes on with the
//! next group at once (pipelining; see [`writer`]). The syncer calls `fdatasync` on the commit
//! log, covering every group written so far, waits until the writer has applied them, and only
//! then answers them: one sync is shared by every append written while the previous sync was
//! running. The appends of one [`EventStore::append_all`] (a board's batch of commands) travel
//! as one request, so they are always in the same group.
//!
//! sled 0.34's own `flush` ends in `sync_file_range`, which writes the pages out but neither
//! flushes the drive's cache nor the file's size, so it survives a process crash but not a
//! power cut, and it is a trip to the disk of its own. So sled is made durable only at a
//! checkpoint (its flush, then `fdatasync` of its file through a handle the store opened itself),
//! when the commit log is full, at a clean shutdown, and for a group too large for the log; and
//! opening applies what the log holds beyond that to sled before anything else looks at it. The
//! handles are opened by the store, not borrowed from sled: since Linux 4.13 a write-back error is
//! reported once to every open file description, so sled's background flusher, which logs and
//! forgets its own fsync errors, cannot swallow an error before our sync sees it.
//!
//! A failed write, apply, checkpoint or sync puts the store into a failed state for good: after a
//! failed fsync the kernel may already have dropped the dirty pages and marked them clean, so a
//! retry that succeeds proves nothing ("fsyncgate"). The process has to restart and recover from
//! what is really on disk.
//!
//! # Damage sled hides: the acknowledgement watermark
//!
//! sled checks a CRC on every log message, but when recovery meets a damaged message it takes
//! it for the torn tail of a crash, stops there, and overwrites the rest of that segment: every
//! later write is gone and sled opens without a word. To notice, the store keeps its own count
//! of acknowledged events in the file `acknowledged` next to sled's files (format in
//! [`super::record`]). The syncer raises it after every successful sync (a plain write, with an
//! `fdatasync` of its own at most once a second and at shutdown), so it never exceeds what is
//! durable (in sled, or in the commit log, which opening applies to sled before it checks), and since the store never deletes, finding fewer events than it says is
//! damage. After a power cut the file may lag behind, which only weakens the check; it never
//! raises a false alarm. The data sled overwrote is lost either way: the check turns silent loss
//! into a refusal to start, and the remedy is a backup.
//!
//! To say *whose* events sled dropped, the syncer also keeps each board's acknowledged head in
//! the file `acknowledged-heads` (one checksummed slot per board, rewritten in place after every
//! sync and made durable with the watermark, the heads first). A board whose stream ends before
//! its recorded head lost acknowledged events; what the boards named account for is not counted
//! against the store as a whole.
//!
//! # Quarantine
//!
//! Damage that names a board (a record that fails its checksum, a gap, a bad command record,
//! acknowledged events missing from that board, a node of sled's tree holding that board's
//! records that sled cannot read) puts the board in quarantine: every read, head, command lookup
//! and append of that board answers [`StoreError::Damaged`] with the damage found, so nothing is
//! ever served or written on top of it, not even from a snapshot (which is loaded only after the
//! head is read). Damage that names no board (sled cannot open its files, the watermark is
//! unreadable, events are missing that no board accounts for, keys the store never writes, a
//! node sled cannot read that holds no known board's records) refuses the whole store.
//!
//! # Opening without reading every record (ADR 0006)
//!
//! Opening reads keys, not records (see `checks.rs` and [`StoreOptions::check_on_open`]): each
//! board's stored head is its last key (one seek), and is compared with its acknowledged head,
//! and their sum with the acknowledged count, which finds what sled dropped from the end of its
//! log exactly as a full scan does; the ranges of keys the store never writes must be empty.
//! What that finds is quarantined or refused as above. The rest is checked later, and never
//! after anything of a board is served:
//!
//! - **When a board is first used.** Every read, head, command lookup and append of a board that
//!   has not been checked since opening first reads all of that board's records (checksums, the
//!   gap-free sequence, its command records, its acknowledged head) with the same scan as
//!   `verify`. Loading a board starts with its head, so a board loaded from its snapshot has
//!   its records checked too, though the engine reads none of them.
//! - **In the background.** A thread of the lowest priority scans everything, as opening used
//!   to, and quarantines the boards whose damage it finds (a board already served is refused
//!   from then on). Damage it finds that names no board, which opening would have refused,
//!   stops the store taking writes ([`SledStore::unpinned_damage`]; `/health` answers `503` and
//!   says what to do); reads of the boards that passed their check go on. Nothing is recorded:
//!   the next start finds it again.
//!
//! Damage found later, by a read, quarantines its board from then on. `verify` scans everything
//! in the foreground, decoding every envelope too.
//!
//! # Durable visibility
//!
//! Reads go straight to the board's tail and then sled from the caller's thread ([`tail`]), but
//! they never show events that are not durable yet: an event is in its tail (and a full tail in
//! sled) as soon as its group is applied, before the sync. The store keeps a map of durable
//! heads (the `watch` senders behind [`EventStore::subscribe`]); the invariant is that a board
//! either has an entry holding its durable head, or has no unsynced events in its tail or sled.
//! The writer adds an entry for every board of a group before applying the group, and the
//! syncer raises it after the sync; readers cap what they return at that head.
//!
//! # Handles and shutdown
//!
//! [`SledStore`] is a cheap handle around an `Arc`; clone it freely. When the last clone is
//! dropped, the writer and the syncer answer everything already queued, stop, and are joined, and then sled
//! is closed (which releases its lock on the directory).

use super::record::{self, EnvelopeRef, ParsedKey, RecordError, UnsealedRecord};
use super::release::{OpenedSled, Release};
use super::{
    AppendOutcome, AppendRequest, AppendTicket, CommandRecord, Damage, EventStore, ExpectedVersion,
    MAX_EVENTS_PER_APPEND, MAX_RECORD_BYTES, RawRecordedEvent, RecordedEvent, StoreError,
};
use crate::durable::sync_directory;
use kipina_proto::{BoardId, CommandId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// sled's segment size. sled writes any log message larger than a quarter of a segment to its
/// own file under `blobs/`; 8 MiB puts that threshold at 2 MiB, far above the largest leaf node
/// this store makes (a few dozen records of at most [`MAX_RECORD_BYTES`]), so everything lives
/// in the `db` file that a checkpoint syncs.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;
/// The most appends one group commit takes.
const MAX_GROUP_REQUESTS: usize = 1024;
/// The most record bytes one group commit gathers before it is committed, so a burst of large
/// appends cannot build an unbounded batch in memory. A single append may still exceed it.
const MAX_GROUP_BYTES: usize = 16 * 1024 * 1024;
/// The file holding the acknowledgement watermark, inside the store's directory.
const WATERMARK_FILE: &str = "acknowledged";
/// How often the syncer makes the watermark file durable. It is a lower bound, so it may lag;
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
    /// Check the stored data (see the module docs): when opening, compare what was
    /// acknowledged with each board's stored head; check every record of a board (its checksum,
    /// the gap-free sequence numbers, the command records) before the board is first served;
    /// quarantine every board with damage, and refuse to open when there is damage that names
    /// no board. Decoding every envelope is left to [`SledStore::verify`]. Off only for
    /// inspection ([`SledStore::open_for_inspection`]).
    pub check_on_open: bool,
    /// With `check_on_open`, also scan everything on a background thread after opening. Off
    /// only in tests that need a board's first use to be the first look at its records.
    pub background_check: bool,
    /// With `check_on_open`, rewrite each board's settled events into chunks on a background
    /// thread (ADR 0008). Off by default: on sled 0.34 it multiplies the size of sled's file
    /// (see the ADR); chunks already written are read either way.
    pub compaction: bool,
    /// How long the store must have written nothing before the compaction writes a chunk, so it
    /// takes nothing from a store that is busy writing (it catches up in the pauses); zero
    /// compacts while writes go on, as the crash and power-cut trials do.
    pub compaction_quiet: Duration,
}

/// The default of [`StoreOptions::compaction_quiet`].
pub const COMPACTION_QUIET: Duration = Duration::from_millis(250);

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            group_commit: true,
            check_on_open: true,
            background_check: true,
            compaction: false,
            compaction_quiet: COMPACTION_QUIET,
        }
    }
}

/// What the compaction (ADR 0008) has written since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactionCounts {
    pub chunks: u64,
    /// The events moved into those chunks.
    pub events: u64,
}

/// Counters of what the writer did since the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Appends that stored events (retries answered `AlreadyAppended` are not counted).
    pub appends: u64,
    /// Events stored.
    pub events: u64,
    /// `fdatasync` calls on the commit log that completed successfully (each acknowledges every
    /// group written before it began).
    pub syncs: u64,
    /// Checkpoints: sled made durable and the commit log started afresh, because it was full.
    pub checkpoints: u64,
    /// Appends written to the commit log and applied (to their boards' tails, or to sled), synced
    /// or still waiting for the syncer (which shares one sync among every group written while the
    /// last sync ran).
    pub written: u64,
    /// Events the writer has put into sled in chunks of its boards' tails (ADR 0011).
    pub chunked: u64,
    /// The events the acknowledgement count (`acknowledged`) covered when it was last synced: it
    /// catches up with the acknowledged events within a second, also when no append follows.
    pub watermark_durable: u64,
}

/// Hooks around the writer's durability sync, for tests that need to hold a sync open or make
/// it fail. Not for production use.
#[doc(hidden)]
pub trait SyncHook: Send + Sync + 'static {
    /// Called after the group is written to the commit log (and maybe before it is applied to
    /// sled), right before the `fdatasync` of the log.
    /// An error is treated exactly like a failed sync.
    fn before_sync(&self) -> io::Result<()> {
        Ok(())
    }

    /// Called right after the `fdatasync` succeeded and was counted, before any append of the
    /// group is answered.
    fn after_sync(&self) {}

    /// Called on the writer's thread right before a written group is applied to sled.
    fn before_apply(&self) {}

    /// Called on the syncer's thread when its groups are synced but not all applied to sled
    /// yet, right before it waits for them.
    fn waiting_for_apply(&self) {}
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
    /// The quarantine and what has been checked (see `checks.rs`).
    checks: Arc<Checks>,
    shared: Arc<Shared>,
    /// The way to the writer; taken out on drop so the writer sees the channel close.
    sender: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    /// The background check of everything, stopped and joined on drop (it holds a handle on sled).
    background: Option<JoinHandle<()>>,
    /// The compaction's state, shared with the writer.
    compaction: Arc<Compaction>,
    /// The compaction thread, stopped and joined on drop (it holds a handle on sled).
    compactor: Option<JoinHandle<()>>,
    /// Opening found what an interrupted rewrite left beside the store (and removed it).
    interrupted_rewrite: bool,
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
    checkpoints: AtomicU64,
    /// Appends the writer has written to the commit log and sled (durable or not yet).
    written: AtomicU64,
    watermark_durable: AtomicU64,
    /// Why the writer stopped accepting writes, once it has.
    failure: Mutex<Option<String>>,
    /// Events acknowledged over the store's whole life, as far as known (see the module docs).
    acknowledged: AtomicU64,
    /// The commands of each board looked at, for retries (see [`commands`]).
    commands: CommandIndex,
    /// Each board's newest events, not in sled yet (see [`tail`]).
    tails: tail::Tails,
    /// Events the writer has put into sled as chunks of its boards' tails.
    chunked: AtomicU64,
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
    /// With `check_on_open` the acknowledged heads are compared with the stored ones first:
    /// boards with damage are quarantined ([`SledStore::damaged_boards`]), and damage that names
    /// no board is refused with [`StoreError::Damaged`]. Every board's records are checked when
    /// it is first used, and everything in the background. A directory held by another process
    /// gives [`StoreError::Locked`].
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
        let interrupted_rewrite = rewrite::remove_leftover(dir);

        // sled creates `conf`, `db` and `blobs/` without syncing them or the directory, so make
        // them durable once before the first append relies on them.
        let db_file = File::options().read(true).write(true).open(dir.join("db"))?;
        db_file.sync_all()?;
        File::open(dir.join("conf"))?.sync_all()?;
        sync_directory(&dir.join("blobs"))?;
        sync_directory(dir)?;
        let mut sled_sync = SledSync { db_file, dir: dir.to_path_buf(), synced_blobs: HashSet::new() };

        // What the commit log holds beyond sled's durable state goes into sled first (ADR 0007).
        let (log, recovered) = CommitLog::open(dir, db, || sled_sync.sync(db))?;
        if recovered.frames > 0 {
            tracing::info!(
                dir = %dir.display(),
                frames = recovered.frames,
                records = recovered.entries,
                "applied the commit log to sled"
            );
        }
        let log_file = log.sync_handle()?;

        // A data directory written before ADR 0005 is rewritten in today's format first.
        let upgraded = upgrade::run(db, &sled_sync.db_file)?;
        if upgraded.boards > 0 || !upgraded.damage.is_empty() {
            tracing::info!(
                dir = %dir.display(),
                boards = upgraded.boards,
                events = upgraded.events,
                not_upgraded = upgraded.damage.len(),
                "upgraded the event store to one sled entry per event (format 2)"
            );
        }

        let (watermark_file, watermark) = open_watermark(dir)?;
        let recorded_heads = read_heads(dir)?;
        let mut open_damage = Vec::new();
        let mut quarantine: BTreeMap<BoardId, Vec<Damage>> = BTreeMap::new();
        let mut acknowledged_heads = HashMap::new();
        let mut settled_at_open = HashMap::new();
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
            damage.extend(upgraded.damage);
            let acknowledged = Acknowledged { events: recorded, heads: &recorded_heads.heads };
            let report = check_at_open(db, dir, &acknowledged);
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
            // Every stored event counts as acknowledged from now on: the heads found stand for
            // the events found (a gap that makes them differ is damage its board's check finds).
            let found: u64 = report.heads.values().sum();
            // Opening applied the commit log to sled and started a new generation: every
            // stored event is settled.
            if options.compaction {
                settled_at_open = report.heads.clone();
            }
            let mut heads: BTreeMap<BoardId, u64> = report.heads.into_iter().collect();
            for board in quarantine.keys() {
                if let Some(recorded) = recorded_heads.heads.get(board) {
                    let head = heads.entry(*board).or_insert(0);
                    *head = (*head).max(*recorded);
                }
            }
            acknowledged_heads = heads.iter().map(|(board, head)| (*board, *head)).collect();
            (found, HeadsFile::create(dir, &heads)?)
        } else {
            // Unchecked, the recorded count is kept as it is, so damage it reveals stays visible
            // to the next check. Only an unreadable file starts over from zero, and that is
            // kept for `verify` to report.
            open_damage.extend(upgraded.damage);
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
            checkpoints: AtomicU64::new(0),
            written: AtomicU64::new(0),
            watermark_durable: AtomicU64::new(acknowledged),
            failure: Mutex::new(None),
            acknowledged: AtomicU64::new(acknowledged),
            commands: CommandIndex::default(),
            tails: tail::Tails::default(),
            chunked: AtomicU64::new(0),
        });
        let (sender, receiver) = mpsc::channel();
        let applied = Arc::new(Applied::default());
        let compaction = Arc::new(Compaction::default());
        compaction.settle(settled_at_open);
        let writer = Writer {
            db: db.clone(),
            dir: dir.to_path_buf(),
            heads: HashMap::new(),
            shared: Arc::clone(&shared),
            group_commit: options.group_commit,
            log,
            sled_sync,
            applied: Arc::clone(&applied),
            hook: Arc::clone(&hook),
            compaction: (options.check_on_open && options.compaction).then(|| Arc::clone(&compaction)),
            unsettled: HashMap::new(),
        };
        let syncer = Syncer {
            log_file,
            dir: dir.to_path_buf(),
            watermark: Watermark {
                file: watermark_file,
                acknowledged,
                heads: heads_file,
                synced_at: Instant::now(),
                unsynced: false,
                durable: acknowledged,
            },
            shared: Arc::clone(&shared),
            hook,
            group_commit: options.group_commit,
            applied,
        };
        let handle = std::thread::Builder::new()
            .name("kipina-store-writer".into())
            .spawn(move || writer.run(&receiver, syncer))?;
        let checks = Arc::new(Checks::new(options.check_on_open, quarantine, acknowledged_heads, acknowledged));
        let background = if options.check_on_open && options.background_check {
            Some(Self::spawn_background_check(db.clone(), dir.to_path_buf(), Arc::clone(&checks))?)
        } else {
            checks.finish();
            None
        };
        let compactor = if options.check_on_open && options.compaction {
            Some(chunks::spawn_compaction(
                db.clone(),
                dir.to_path_buf(),
                Arc::clone(&checks),
                Arc::clone(&compaction),
                Arc::clone(&shared),
                options.compaction_quiet,
            )?)
        } else {
            compaction.end();
            None
        };

        tracing::info!(dir = %dir.display(), recovered = db.was_recovered(), "event store open");
        Ok(SledStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                db: opened.db,
                open_damage,
                checks,
                shared,
                sender: Some(sender),
                writer: Some(handle),
                background,
                compaction,
                compactor,
                interrupted_rewrite,
                release: opened.release,
            }),
        })
    }

    /// Becomes `true` once the last handle is gone: the writer has answered every queued append
    /// and the directory can be opened again.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.inner.release.closed()
    }

    /// Waits until the compaction (ADR 0008) has rewritten every event settled so far into
    /// chunks, and says what it wrote since the store opened. Settled are the events stored when
    /// the store opened and those the commit log's checkpoints have made durable in sled since.
    /// Returns at once when compaction is off. For benchmarks and tests.
    pub fn wait_for_compaction(&self) -> CompactionCounts {
        let (chunks, events) = self.inner.compaction.wait_idle();
        CompactionCounts { chunks, events }
    }

    /// What the writer did since the store was opened.
    pub fn stats(&self) -> StoreStats {
        let shared = &self.inner.shared;
        StoreStats {
            appends: shared.appends.load(Ordering::Acquire),
            events: shared.events.load(Ordering::Acquire),
            syncs: shared.syncs.load(Ordering::Acquire),
            checkpoints: shared.checkpoints.load(Ordering::Acquire),
            written: shared.written.load(Ordering::Acquire),
            chunked: shared.chunked.load(Ordering::Acquire),
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
        // The boards' tails, taken after the count and before the scan (see [`tail`]): sled need
        // not hold what they hold yet. What leaves them meanwhile is in sled by then.
        let tails = self.inner.shared.tails.extents();
        let acknowledged = acknowledged.saturating_sub(tails.values().map(|(_, count)| count).sum());
        let mut heads = recorded.heads.clone();
        for (board, (first, _)) in tails {
            if let Some(head) = heads.get_mut(&board) {
                *head = (*head).min(first - 1);
            }
        }
        let acknowledged = Acknowledged { events: Some(acknowledged), heads: &heads };
        let report = verify_tree(
            &self.inner.db,
            &self.inner.dir,
            &acknowledged,
            Depth::Envelopes,
            Scope::Everything,
            &NEVER_STOP,
        );
        damage.extend(report.damage);
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
        self.inner.checks.quarantined()
    }

    /// Blocks until the background check of everything has ended (at once when there is none).
    /// For tests and tools: the server does not wait for it.
    pub fn wait_for_background_check(&self) {
        self.inner.checks.wait_until_finished();
    }

    /// Whether the background check of everything has ended (or there is none).
    pub fn background_check_finished(&self) -> bool {
        self.inner.checks.finished()
    }

    /// Damage naming no board found by the background check after opening, if any: opening
    /// would have refused it; found later, the store takes no more writes (reads of boards that
    /// were checked go on) until it is restored and restarted.
    pub fn unpinned_damage(&self) -> Option<Vec<Damage>> {
        self.inner.checks.unpinned()
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
            self.inner.checks.quarantine(board, damage);
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
        // The background check and the compaction hold handles on sled: they must end before
        // sled can close. Both are told first: the compaction may be waiting for the check.
        self.compaction.stop();
        self.checks.stop();
        if let Some(compactor) = self.compactor.take()
            && compactor.join().is_err()
        {
            tracing::error!(dir = %self.dir.display(), "the event store's compaction thread panicked");
        }
        if let Some(background) = self.background.take()
            && background.join().is_err()
        {
            tracing::error!(dir = %self.dir.display(), "the event store's background check panicked");
        }
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
        // Damage found after opening that names no board: as opening would have refused the
        // store, nothing more is written.
        let unpinned = self.inner.checks.unpinned();
        for request in requests {
            if stopped {
                // The chain broke before this one (see the trait).
                tickets.push(AppendTicket::ready(Err(StoreError::Skipped)));
                continue;
            }
            if let Some(damage) = &unpinned {
                tickets.push(AppendTicket::ready(Err(StoreError::Damaged(damage.clone()))));
                stopped = true;
                continue;
            }
            // Nothing is written on top of damage: the next seq may be one that was acknowledged
            // and lost. A board not checked yet is checked first.
            if let Err(damaged) = self.admit(request.board) {
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
        self.admit(board)?;
        let result = self.read_sound(board, from_seq, limit);
        self.quarantine_found(board, result)
    }

    fn read_raw(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.refuse_damaged(board)?;
        let result = self.read_raw_sound(board, from_seq, limit, visit);
        self.quarantine_found(board, result)
    }

    fn replay_raw(
        &self,
        board: BoardId,
        from_seq: u64,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.replay(board, from_seq, visit)
    }

    fn head(&self, board: BoardId) -> Result<u64, StoreError> {
        self.admit(board)?;
        self.durable_head(board)
    }

    fn boards(&self) -> Result<Vec<BoardId>, StoreError> {
        // Back from the end, board by board: each seek lands on a board's last key, among the
        // small leaves of its tail, not among its chunks (ADR 0008). Should sled fail to read,
        // the walk forward places the failure.
        let quarantined: BTreeSet<BoardId> = self.quarantined().keys().copied().collect();
        // The tails before sled: a board whose tail is empty by then has all its events in sled.
        let in_tails = self.inner.shared.tails.boards();
        let mut boards = Vec::new();
        let start = vec![record::EVENT_PREFIX];
        let mut upper = vec![record::EVENT_PREFIX + 1];
        loop {
            let last = self
                .inner
                .db
                .range::<Vec<u8>, _>((Bound::Included(start.clone()), Bound::Excluded(upper.clone())))
                .next_back();
            let board = match last {
                None => break,
                Some(Ok((key, _))) => board_of_entry(&key)?,
                Some(Err(_)) => return self.boards_forward(quarantined, in_tails),
            };
            // A board whose first events are still waiting for their sync does not exist yet.
            if quarantined.contains(&board) || self.durable_head(board)? > 0 {
                boards.push(board);
            }
            upper = KeyRange::Events.bounds(board).0;
        }
        self.with_tails(boards, in_tails, quarantined)
    }

    fn command(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.admit(board)?;
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

    fn disk_full(&self) -> Option<String> {
        crate::disk_space::check(&self.inner.dir, 0).err().map(|full| full.to_string())
    }

    fn unpinned_damage(&self) -> Option<Vec<Damage>> {
        SledStore::unpinned_damage(self)
    }

    fn compacted_events(&self) -> u64 {
        self.inner.compaction.counts().1
    }

    fn tidy_estimate(&self) -> Option<crate::store::TidyEstimate> {
        let shared = &self.inner.shared;
        // Found by the background check, plus what was appended since the store opened (an
        // event appended while the check ran may be counted twice: this is an estimate), less
        // what the compaction and the writer (its boards' tails) put into chunks meanwhile.
        let outside_chunks = self
            .inner
            .checks
            .outside_chunks()?
            .saturating_add(shared.events.load(Ordering::Acquire))
            .saturating_sub(self.inner.compaction.counts().1)
            .saturating_sub(shared.chunked.load(Ordering::Acquire));
        let events = shared.acknowledged.load(Ordering::Acquire);
        Some(crate::store::TidyEstimate {
            outside_chunks: outside_chunks.min(events),
            events,
            last_rewrite_interrupted: self.inner.interrupted_rewrite,
        })
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
        let mut events = Vec::new();
        self.each_record(board, from_seq, limit, |seq, key, value| {
            let envelope = record::decode_event(key, value).map_err(|error| damaged(board, seq, error.to_string()))?;
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
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(events)
    }

    /// [`EventStore::read_raw`] of a board not in quarantine.
    fn read_raw_sound(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.each_record(board, from_seq, limit, |seq, key, value| {
            let envelope =
                record::decode_event_raw(key, value).map_err(|error| damaged(board, seq, error.to_string()))?;
            Ok(visit(envelope.recorded(board, seq)))
        })
    }

    /// Walks the board's records with `seq >= from_seq` in order, at most `limit` of them and none
    /// past the durable head, checking that none is missing, and hands each one's seq, key and
    /// value to `record` (which checks and decodes it) until it answers `Break`. Returns the
    /// last seq handed over, 0 for none.
    fn each_record(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
        mut record: impl FnMut(u64, &[u8], &[u8]) -> Result<ControlFlow<()>, StoreError>,
    ) -> Result<u64, StoreError> {
        let head = self.durable_head_sound(board)?;
        let from = from_seq.max(1);
        if limit == 0 || from > head {
            return Ok(0);
        }
        let last = head.min(from.saturating_add(u64::try_from(limit - 1).unwrap_or(u64::MAX)));
        // The tail first, then sled: what leaves the tail meanwhile is in sled by then.
        let tail = self.inner.shared.tails.records(board, from);
        let expected = std::cell::Cell::new(from);
        let mut step = |seq: u64, key: &[u8], value: &[u8]| {
            if seq > last {
                return Ok(ControlFlow::Break(()));
            }
            if seq != expected.get() {
                return Err(damaged(
                    board,
                    expected.get(),
                    format!("event missing (the next stored one is seq {seq})"),
                ));
            }
            expected.set(seq + 1);
            record(seq, key, value)
        };
        // To the end of the board's range: the chunk holding `last` sorts after its event key.
        let end = KeyRange::Events.bounds(board).1;
        for item in self.inner.db.range(record::event_key(board, from).to_vec()..end) {
            if expected.get() > last {
                // Done: the entry after `last` is not read, so damage there does not matter.
                return Ok(last);
            }
            let (key, value) = item.map_err(|error| self.located(error.into(), Some(board)))?;
            let at = expected.get();
            let read =
                chunks::each_in_entry(board, &key, &value, at, &mut step, |problem| damaged(board, at, problem))?;
            if read.is_break() {
                // Either past `last`, or `record` stopped at the seq before `expected`.
                return Ok((expected.get() - 1).min(last));
            }
        }
        for (seq, key, value) in &tail {
            if expected.get() > last {
                return Ok(last);
            }
            // Read from sled already, when it left the tail while sled was read.
            if *seq >= expected.get() && step(*seq, key, value)?.is_break() {
                return Ok((expected.get() - 1).min(last));
            }
        }
        if expected.get() <= last {
            return Err(damaged(board, expected.get(), format!("event missing (the head is seq {head})")));
        }
        Ok(last)
    }

    /// [`EventStore::boards`] walking forward from board to board by their first keys, which
    /// places a failure of sled to read on the quarantined board it belongs to.
    fn boards_forward(
        &self,
        quarantined: BTreeSet<BoardId>,
        in_tails: Vec<BoardId>,
    ) -> Result<Vec<BoardId>, StoreError> {
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
                Ok((key, _)) => board_of_entry(&key)?,
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
        self.with_tails(boards, in_tails, quarantined)
    }

    /// The boards found in sled, with those whose events are all still in their tails (see
    /// [`tail`]) and those in quarantine (which may have lost every event), in order.
    fn with_tails(
        &self,
        mut boards: Vec<BoardId>,
        in_tails: Vec<BoardId>,
        quarantined: BTreeSet<BoardId>,
    ) -> Result<Vec<BoardId>, StoreError> {
        for board in in_tails {
            if !quarantined.contains(&board) && self.durable_head(board)? > 0 {
                boards.push(board);
            }
        }
        boards.extend(quarantined);
        boards.sort_unstable();
        boards.dedup();
        Ok(boards)
    }

    /// [`EventStore::command`] of a board not in quarantine.
    fn command_sound(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let Some(command) = self
            .inner
            .shared
            .commands
            .get(&self.inner.db, board, command_id)
            .map_err(|error| self.located(error, Some(board)))?
        else {
            return Ok(None);
        };
        // Read after the command, the durable head tells whether its events were synced yet.
        if command.last > self.durable_head(board)? {
            return Ok(None);
        }
        Ok(Some(command))
    }
}

/// Damage found at one event of a board.
fn damaged(board: BoardId, seq: u64, problem: String) -> StoreError {
    StoreError::Damaged(vec![Damage { board: Some(board), seq: Some(seq), problem }])
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

/// The board whose stream an entry of the event range belongs to; any other key is damage.
fn board_of_entry(key: &[u8]) -> Result<BoardId, StoreError> {
    match record::parse_key(key).map(|parsed| parsed.stream_entry()) {
        Ok(Some((board, _))) => Ok(board),
        Ok(None) | Err(_) => Err(StoreError::Damaged(vec![Damage {
            board: record::board_of_key(key),
            seq: None,
            problem: format!("malformed event key {key:02x?}"),
        }])),
    }
}

/// The last seq stored in sled for the board (synced or not), 0 when there is none.
fn stored_head(db: &sled::Db, board: BoardId) -> Result<u64, StoreError> {
    let Some(item) = db.scan_prefix(record::event_prefix(board)).next_back() else {
        return Ok(0);
    };
    let (key, _) = item?;
    match record::parse_key(&key).map(|parsed| parsed.stream_entry()) {
        Ok(Some((_, seq))) => Ok(seq),
        Ok(None) | Err(_) => Err(StoreError::Damaged(vec![Damage {
            board: Some(board),
            seq: None,
            problem: format!("malformed event key {key:02x?} at the end of the stream"),
        }])),
    }
}

mod acknowledged;
mod checks;
mod chunks;
mod commands;
mod log;
mod rewrite;
mod scan;
mod space;
mod tail;
mod upgrade;
mod writer;

use acknowledged::*;
pub use checks::CheckCounts;
use checks::*;
use chunks::Compaction;
use commands::CommandIndex;
use log::CommitLog;
pub use rewrite::{RewriteError, RewriteReport, TidyPolicy, rewrite, rewrite_dir};
use scan::*;
use writer::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AppendRequest, NewEvent};
    use kipina_proto::{EventId, ParticipantId, Timestamp};
    use uuid::Uuid;

    fn card(board: BoardId, command: u128, fingerprint: u32, expected: ExpectedVersion) -> AppendRequest {
        AppendRequest {
            board,
            command_id: CommandId(Uuid::from_u128(command)),
            command_fingerprint: fingerprint,
            actor: ParticipantId(Uuid::from_u128(4)),
            at: Timestamp(5),
            expected,
            events: vec![NewEvent {
                event_id: EventId(Uuid::now_v7()),
                event_type: "card_added".into(),
                event_version: 1,
                payload: crate::store::encode_payload(&serde_json::json!({"n": command})).expect("encodes"),
            }],
        }
    }

    /// A retry queued behind its command (the same group) is answered with the command's events,
    /// a different command under the same id is refused, and a retry after a reopen (the index
    /// read from the records) is found too.
    #[test]
    fn retries_are_found_in_the_same_group_and_after_a_reopen() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("events");
        let board = BoardId(Uuid::from_u128(1));
        let answers = |store: &SledStore, requests: Vec<AppendRequest>| -> Vec<String> {
            store.append_all(requests).into_iter().map(|ticket| format!("{:?}", ticket.wait())).collect()
        };
        {
            let store = SledStore::open(&path, StoreOptions::default()).expect("opens");
            let first = card(board, 10, 1, ExpectedVersion::NoStream);
            assert_eq!(
                answers(&store, vec![first.clone(), first]),
                ["Ok(Appended { first: 1, last: 1 })", "Ok(AlreadyAppended { first: 1, last: 1 })"]
            );
            let second = card(board, 11, 1, ExpectedVersion::Exact(1));
            let mut impostor = card(board, 11, 2, ExpectedVersion::Any);
            impostor.command_fingerprint = 2;
            let said = answers(&store, vec![second, impostor]);
            assert_eq!(said[0], "Ok(Appended { first: 2, last: 2 })");
            assert!(said[1].starts_with("Err(IdempotencyConflict"), "{said:?}");
            assert_eq!(store.head(board).expect("a head"), 2);
        }
        let store = SledStore::open(&path, StoreOptions::default()).expect("reopens");
        let retry = card(board, 10, 1, ExpectedVersion::NoStream);
        assert_eq!(answers(&store, vec![retry]), ["Ok(AlreadyAppended { first: 1, last: 1 })"]);
        let next = card(board, 12, 1, ExpectedVersion::Exact(2));
        assert_eq!(answers(&store, vec![next]), ["Ok(Appended { first: 3, last: 3 })"]);
    }

    /// What a crash leaves once the writer has put part of a board's tail into sled as a chunk
    /// (ADR 0011): the log's frames hold every event since the checkpoint, sled the chunk.
    /// Opening applies the frames once: the events the chunk holds are not stored again.
    #[test]
    fn opening_after_a_crash_stores_the_log_beside_the_chunks_of_tails_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("events");
        let board = BoardId(Uuid::from_u128(1));
        // A store made and closed: sled's files, an empty log, the acknowledgement files.
        drop(SledStore::open(&path, StoreOptions::default()).expect("opens"));
        let requests: Vec<AppendRequest> =
            (1..=10u64).map(|seq| card(board, 100 + u128::from(seq), 1, ExpectedVersion::Exact(seq - 1))).collect();
        {
            let opened = open_sled(&path).expect("sled opens");
            let (mut log, _) = CommitLog::open(&path, &opened.db, || Ok(())).expect("the log opens");
            let records: Vec<([u8; record::EVENT_KEY_LEN], Vec<u8>)> = (1..=10u64)
                .zip(&requests)
                .map(|(seq, request)| {
                    let key = record::event_key(board, seq);
                    (key, record::encode_event(&key, &EnvelopeRef::of(request, &request.events[0])).expect("encodes"))
                })
                .collect();
            for (key, value) in &records {
                log.append([(&key[..], value.as_slice())]).expect("a frame");
            }
            let key = record::chunk_key(board, 6);
            let firsts: Vec<&[u8]> = records[..6].iter().map(|(_, value)| value.as_slice()).collect();
            opened.db.insert(&key[..], record::encode_chunk(&key, 1, &firsts)).expect("a chunk");
            opened.db.flush().expect("flushes");
        }
        let store = SledStore::open(&path, StoreOptions::default()).expect("reopens");
        let read: Vec<(u64, CommandId)> =
            store.read(board, 1, 100).expect("reads").iter().map(|event| (event.seq, event.command_id)).collect();
        let written: Vec<(u64, CommandId)> =
            (1..=10u64).zip(requests.iter().map(|request| request.command_id)).collect();
        assert_eq!(read, written);
        assert!(store.verify().is_empty(), "{:?}", store.verify());
        drop(store);
        let opened = open_sled(&path).expect("sled opens");
        let keys: Vec<ParsedKey> = opened
            .db
            .scan_prefix(record::event_prefix(board))
            .keys()
            .map(|key| record::parse_key(&key.expect("reads")).expect("a key the store writes"))
            .collect();
        let mut expected = vec![ParsedKey::Chunk { board, last: 6 }];
        expected.extend((7..=10).map(|seq| ParsedKey::Event { board, seq }));
        assert_eq!(keys, expected, "the chunk, and the events after it from the log");
    }

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
                    payload: crate::store::encode_payload(&serde_json::json!({"n": 1})).expect("encodes"),
                }],
            };
            store.append(request).wait().expect("appends");
        }
        {
            // Our own encoder never writes this: a body that is not JSON, with a valid checksum.
            let opened = open_sled(&path).expect("sled opens");
            let db = &opened.db;
            let key = record::event_key(board, 1);
            let mut bytes = vec![record::FORMAT_V2, 0, 0, 0, 0];
            bytes.extend_from_slice(&[2; 20]);
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
