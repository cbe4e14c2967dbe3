//! `kipina compact`: the event store rewritten, offline, into a fresh sled with every board's
//! full runs of events in chunks (ADR 0008), and swapped in atomically.
//!
//! Compacting in place (the background thread of [`super::chunks`]) leaves sled's file several
//! times larger than its data: sled 0.34 writes every change at the end of its log and never
//! gives the space of the old versions back to the file system, and it overwrites every free
//! segment when it opens. Writing the entries once, in key order, into a new sled leaves a file
//! about the size of the data.
//!
//! The steps, each safe to interrupt:
//! 0. Unless the file system has room for a copy beside the store, nothing happens.
//! 1. The store is opened as the server opens it (the commit log applied, the keys checked),
//!    every record is checked, and it is closed cleanly (the commit log left empty). Damage
//!    anywhere stops here: nothing is rewritten on top of it.
//! 2. The entries are written in key order into a new sled in `events.compacting` next to the
//!    store (a leftover of an interrupted run is removed first), each record checked again on
//!    the way; the store's own files (acknowledgements, commit log) are copied; everything is
//!    synced. The old store stays locked meanwhile, so no server can start on it.
//! 3. The new store is opened for inspection and verified, and each board's head compared with
//!    the old one's.
//! 4. The two directories are exchanged in one `renameat2(RENAME_EXCHANGE)` and their parent is
//!    synced: before it the old store is whole and in place, after it the new one. Then the old
//!    one is removed.

use super::*;
use crate::durable::sync_directory;

/// When the server rewrites its store as it stops (`kipina serve`, ADR 0008): only once enough
/// events have gathered outside chunks, and only when the rewrite should take no longer than a
/// service manager waits for a stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TidyPolicy {
    /// Events outside chunks there must be at least, and at least a quarter of all events: the
    /// rewrite copies the whole store, so it runs less often as the store grows.
    pub min_outside_chunks: u64,
    /// The longest the rewrite may be expected to take, from the size of sled's file.
    pub budget: std::time::Duration,
}

impl Default for TidyPolicy {
    fn default() -> Self {
        Self { min_outside_chunks: 10_000, budget: std::time::Duration::from_secs(30) }
    }
}

/// What a rewrite is expected to get through, at the least: 905 MB took 7.3 s on a quiet
/// machine of two cores (BENCHMARKS.md); half that rate leaves room for a busy one.
pub const TIDY_BYTES_PER_SECOND: u64 = 60_000_000;

impl TidyPolicy {
    /// Whether a store with `estimate` and a `db` file of `db_bytes` is tidied, or why not.
    pub fn decide(&self, estimate: crate::store::TidyEstimate, db_bytes: u64) -> Result<(), String> {
        let crate::store::TidyEstimate { outside_chunks, events, last_rewrite_interrupted } = estimate;
        if last_rewrite_interrupted {
            // A service manager that kills every stop before the rewrite ends would have it
            // start again at every stop; it is tried again at the stop after this one.
            return Err(
                "the last rewrite was interrupted (a stop killed before it ended?), so this stop does not try \
                        again; give the stop more time, or run `kipina compact` while the server is stopped"
                    .to_owned(),
            );
        }
        if outside_chunks < self.min_outside_chunks || outside_chunks.saturating_mul(4) < events {
            return Err(format!("{outside_chunks} of {events} events are outside chunks: not worth a rewrite yet"));
        }
        let expected = std::time::Duration::from_secs_f64(db_bytes as f64 / TIDY_BYTES_PER_SECOND as f64);
        if expected > self.budget {
            return Err(format!(
                "{outside_chunks} of {events} events are outside chunks, but rewriting {} MB could take about {} s, \
                 longer than {} s: run `kipina compact` while the server is stopped",
                db_bytes / 1_000_000,
                expected.as_secs(),
                self.budget.as_secs()
            ));
        }
        Ok(())
    }
}

/// What a rewrite did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewriteReport {
    pub boards: u64,
    pub events: u64,
    /// Chunks in the new store.
    pub chunks: u64,
    /// Events in those chunks.
    pub chunked_events: u64,
    /// The size of sled's `db` file before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Why a rewrite did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the event store has damage, so it is not rewritten (run `kipina verify`): {}", describe(.0))]
    Damaged(Vec<Damage>),
    #[error("the rewritten event store did not verify, so it was not swapped in: {0}")]
    NotEqual(String),
    #[error(
        "the rewrite needs room for a whole copy of the event log beside it: {} MB free where {} is, {} MB \
         needed; nothing was changed",
        .available / 1_000_000,
        .dir.display(),
        .needed / 1_000_000
    )]
    NoRoom { dir: PathBuf, available: u64, needed: u64 },
    #[error(
        "the file system holding {} cannot swap two directories in one step (renameat2 with \
         RENAME_EXCHANGE: {error}), which the rewrite needs to be safe from a crash; nothing was changed",
        .dir.display()
    )]
    NoExchange { dir: PathBuf, error: io::Error },
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

fn describe(damage: &[Damage]) -> String {
    damage.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The directory a rewrite of the store in `dir` is written to before it is swapped in.
pub fn rewrite_dir(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("events"));
    name.push(".compacting");
    dir.with_file_name(name)
}

/// Removes what a rewrite that was interrupted left beside the store in `dir` (the copy it was
/// writing, or the old store it had swapped out): never a store to use, and as large as one.
/// Called once the store's lock is held, so no rewrite of it is running. Returns whether there
/// was such a leftover.
pub(super) fn remove_leftover(dir: &Path) -> bool {
    let leftover = rewrite_dir(dir);
    match std::fs::remove_dir_all(&leftover) {
        Ok(()) => {
            tracing::info!(leftover = %leftover.display(), "removed what an interrupted rewrite of the event store left");
            if let Some(parent) = leftover.parent()
                && let Err(error) = sync_directory(parent)
            {
                tracing::warn!(%error, "cannot sync the data directory");
            }
            true
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => false,
        Err(error) => {
            tracing::warn!(
                leftover = %leftover.display(),
                %error,
                "cannot remove what an interrupted rewrite of the event store left; it takes room and nothing else"
            );
            true
        }
    }
}

/// Rewrites the store in `dir` with its events in chunks (see the module docs). The store must
/// not be open anywhere else.
pub fn rewrite(dir: &Path) -> Result<RewriteReport, RewriteError> {
    let bytes_before = std::fs::metadata(dir.join("db"))?.len();
    // Room for the copy beside the original, and the reserve the server keeps, before anything
    // is written. A file system that cannot say is let through; a write that fails leaves the
    // original as it is.
    let needed = crate::disk_space::reserve(usize::try_from(bytes_before).unwrap_or(usize::MAX));
    if let Ok(available) = crate::disk_space::available(dir)
        && available < needed
    {
        return Err(RewriteError::NoRoom { dir: dir.to_path_buf(), available, needed });
    }
    // 1. Opened as the server opens it, checked throughout, closed cleanly.
    let heads = {
        let store = SledStore::open(dir, StoreOptions { background_check: true, ..StoreOptions::default() })?;
        store.wait_for_background_check();
        let mut damage: Vec<Damage> = store.damaged_boards().into_iter().flat_map(|(_, damage)| damage).collect();
        damage.extend(store.unpinned_damage().unwrap_or_default());
        if !damage.is_empty() {
            return Err(RewriteError::Damaged(damage));
        }
        let mut heads = BTreeMap::new();
        for board in store.boards()? {
            heads.insert(board, store.head(board)?);
        }
        heads
    };

    // 2. Written into a new sled next to it, while the old one stays locked.
    let target = rewrite_dir(dir);
    if target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    let mut report = {
        let old = open_sled(dir)?;
        crate::durable::ensure_dir(&target)?;
        let report = {
            let new = open_sled(&target)?;
            let report = copy_in_chunks(&old.db, &new.db)?;
            new.db.flush().map_err(StoreError::from)?;
            report
        };
        for file in [WATERMARK_FILE, HEADS_FILE, log::LOG_FILE] {
            let from = dir.join(file);
            if from.exists() {
                std::fs::copy(&from, target.join(file))?;
                File::open(target.join(file))?.sync_all()?;
            }
        }
        for file in ["db", "conf"] {
            File::open(target.join(file))?.sync_all()?;
        }
        sync_directory(&target.join("blobs"))?;
        sync_directory(&target)?;
        report
    };

    // 3. The new store verified, and its heads compared with the old ones.
    {
        let store = SledStore::open_for_inspection(&target)?;
        let damage = store.verify();
        if !damage.is_empty() {
            return Err(RewriteError::NotEqual(describe(&damage)));
        }
        let mut found = BTreeMap::new();
        for board in store.boards()? {
            found.insert(board, store.head(board)?);
        }
        if found != heads {
            return Err(RewriteError::NotEqual(format!(
                "{} boards with heads {:?}, where the store had {} with {:?}",
                found.len(),
                found.values().take(5).collect::<Vec<_>>(),
                heads.len(),
                heads.values().take(5).collect::<Vec<_>>()
            )));
        }
    }

    // 4. Swapped in atomically, then the old one removed.
    let parent = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    if let Err(error) =
        rustix::fs::renameat_with(rustix::fs::CWD, &target, rustix::fs::CWD, dir, rustix::fs::RenameFlags::EXCHANGE)
    {
        // Nothing was renamed: the copy goes, the store stays as it was.
        std::fs::remove_dir_all(&target)?;
        return Err(RewriteError::NoExchange { dir: dir.to_path_buf(), error: error.into() });
    }
    sync_directory(&parent)?;
    // A server started on the new store in this moment removes the old one too.
    match std::fs::remove_dir_all(&target) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error.into()),
        _ => {}
    }
    sync_directory(&parent)?;
    report.boards = heads.len() as u64;
    report.bytes_before = bytes_before;
    report.bytes_after = std::fs::metadata(dir.join("db"))?.len();
    Ok(report)
}

/// Copies every entry of `old` into `new` in key order, each board's events gathered into
/// chunks (all but a last run too short to fill one, which stays one entry per event). Every
/// record is checked on the way; anything but a board's stream is refused.
fn copy_in_chunks(old: &sled::Db, new: &sled::Db) -> Result<RewriteReport, RewriteError> {
    let mut report = RewriteReport::default();
    let mut pending = Pending::default();
    for item in old.iter() {
        let (key, value) = item.map_err(StoreError::from)?;
        let Ok(Some((board, _))) = record::parse_key(&key).map(|parsed| parsed.stream_entry()) else {
            return Err(RewriteError::Damaged(vec![Damage {
                board: record::board_of_key(&key),
                seq: None,
                problem: format!("a key the store does not write: {key:02x?}"),
            }]));
        };
        if pending.board != Some(board) {
            pending.end_board(new)?;
            pending.board = Some(board);
        }
        let from = pending.next;
        let _: ControlFlow<()> = chunks::each_in_entry(
            board,
            &key,
            &value,
            from,
            |seq, key, value| {
                if seq != pending.next {
                    return Err(damaged(board, pending.next, format!("event missing (the next one is seq {seq})")));
                }
                record::check_event(key, value).map_err(|error| damaged(board, seq, error.to_string()))?;
                pending.push(new, seq, value, &mut report)?;
                Ok(ControlFlow::Continue(()))
            },
            |problem| damaged(board, from, problem),
        )?;
    }
    pending.end_board(new)?;
    Ok(report)
}

/// The records of the board being copied that are not written yet.
#[derive(Default)]
struct Pending {
    board: Option<BoardId>,
    /// The seq the next record must have.
    next: u64,
    first: u64,
    records: Vec<Vec<u8>>,
    bytes: usize,
}

impl Pending {
    /// Takes the board's next record, writing a chunk first when it would not fit.
    fn push(&mut self, new: &sled::Db, seq: u64, value: &[u8], report: &mut RewriteReport) -> Result<(), StoreError> {
        if !self.records.is_empty() && self.bytes + value.len() > chunks::CHUNK_BYTES {
            self.write_chunk(new, report)?;
        }
        if self.records.is_empty() {
            self.first = seq;
        }
        self.records.push(value.to_vec());
        self.bytes += value.len();
        self.next = seq + 1;
        report.events += 1;
        if self.records.len() == chunks::CHUNK_EVENTS {
            self.write_chunk(new, report)?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, new: &sled::Db, report: &mut RewriteReport) -> Result<(), StoreError> {
        let Some(board) = self.board else { return Ok(()) };
        let last = self.first + self.records.len() as u64 - 1;
        let key = record::chunk_key(board, last);
        let borrowed: Vec<&[u8]> = self.records.iter().map(Vec::as_slice).collect();
        new.insert(&key[..], record::encode_chunk(&key, self.first, &borrowed))?;
        report.chunks += 1;
        report.chunked_events += self.records.len() as u64;
        self.records.clear();
        self.bytes = 0;
        Ok(())
    }

    /// Writes what is left of the board one entry per event, and starts the next board at seq 1.
    fn end_board(&mut self, new: &sled::Db) -> Result<(), StoreError> {
        if let Some(board) = self.board {
            for (seq, value) in (self.first..).zip(self.records.drain(..)) {
                new.insert(record::event_key(board, seq), value)?;
            }
        }
        *self = Pending { next: 1, ..Pending::default() };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TidyEstimate;

    #[test]
    fn a_stop_tidies_only_enough_events_outside_chunks_in_a_file_it_can_rewrite_in_time() {
        let policy = TidyPolicy { min_outside_chunks: 10_000, budget: std::time::Duration::from_secs(30) };
        let estimate =
            |outside_chunks, events| TidyEstimate { outside_chunks, events, last_rewrite_interrupted: false };
        // Enough, and a quarter or more of all, in a file rewritten in about 1.7 s.
        assert_eq!(policy.decide(estimate(10_000, 40_000), 100_000_000), Ok(()));
        // Too few.
        assert!(policy.decide(estimate(9_999, 9_999), 100_000_000).is_err());
        // Less than a quarter of all: the store was tidied not long ago.
        assert!(policy.decide(estimate(10_000, 40_001), 100_000_000).is_err());
        // A file that would take longer than the budget: the operator is told to compact.
        let refused = policy.decide(estimate(1_000_000, 1_000_000), 31 * TIDY_BYTES_PER_SECOND).unwrap_err();
        assert!(refused.contains("kipina compact"), "{refused}");
        assert_eq!(policy.decide(estimate(1_000_000, 1_000_000), 29 * TIDY_BYTES_PER_SECOND), Ok(()));
        // The last one was killed before it ended: not at this stop.
        let interrupted = TidyEstimate { last_rewrite_interrupted: true, ..estimate(10_000, 10_000) };
        assert!(policy.decide(interrupted, 100_000_000).unwrap_err().contains("interrupted"));
    }
}
