//! Free disk space, looked at before writing: a full disk refuses changes without breaking
//! anything, and takes them again as soon as space is freed (no restart).
//!
//! sled 0.34 cannot go on after a write that fails: the error is kept for good (its "global
//! error") and its memory may already be ahead of its file, so the event store stops accepting
//! changes until a restart (see [`crate::store::sled_store`]). `ENOSPC` must therefore never
//! reach sled. Before the event store's writer applies a group (and before the access records, a
//! participant's key file or a new board's are written), [`check`] reads the free space of the
//! file system with `statvfs(3)` and refuses when it is below [`reserve`]: the writes are
//! answered [`DiskFull`] (to the client: `unavailable`, "the server's disk is full"), nothing
//! reaches the disk, reads go on, and the next write after space is freed goes through.
//!
//! A check cannot see the future: should another program take the space between the check and
//! the write, the `ENOSPC` still reaches sled and the store fails as before (the server's
//! `/health` then says to free space and restart). The reserve makes that window need
//! megabytes written by someone else within a few milliseconds.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// sled's segment size in the event store (the store checks that it is the same).
pub const SEGMENT: u64 = 8 * 1024 * 1024;

/// What to tell a client whose change was refused because the disk is full.
pub const REFUSED: &str = "the server's disk is full; nothing was changed. The board can still be read, and \
     changes are accepted again as soon as disk space is freed on the server (no restart is needed)";

/// The free space a write of `bytes` (the records of one group commit) needs before it starts.
///
/// sled appends every write to the end of its log, in segments of [`SEGMENT`] (8 MiB). One
/// segment covers the log moving on to a fresh segment (the rest of the old one is padding) and
/// the small files around the log (sled's snapshot of its page table, the store's
/// acknowledgement files, the access records, a participant's key file: kilobytes). The group's
/// records are written once as leaf deltas and may be written again when sled consolidates a
/// leaf (it rewrites the whole node, records of earlier groups included) or its segment cleaner
/// moves live pages out of a sparse segment while the group is written: twice the group's bytes,
/// and one more segment for the cleaner's moves. So `2 × 8 MiB + 2 × bytes`: 16 MiB for a
/// single card, at most 48 MiB for the largest group (16 MiB of records). Below it, changes are
/// refused; a disk with less than that free is full for all practical purposes.
pub fn reserve(bytes: usize) -> u64 {
    2 * SEGMENT + 2 * bytes as u64
}

/// A write refused because the file system holding `dir` has too little free space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskFull {
    pub dir: PathBuf,
    /// Free bytes (available to an unprivileged process).
    pub available: u64,
    /// Bytes the write needed free.
    pub needed: u64,
}

impl fmt::Display for DiskFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server's disk is full: {} free where {} is, {} needed to save changes safely; changes are \
             refused (nothing is written, boards are still read) and accepted again as soon as space is freed, \
             without a restart",
            megabytes(self.available),
            self.dir.display(),
            megabytes(self.needed),
        )
    }
}

impl std::error::Error for DiskFull {}

impl From<DiskFull> for io::Error {
    fn from(full: DiskFull) -> io::Error {
        io::Error::new(io::ErrorKind::StorageFull, full)
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The free bytes of the file system holding `dir`, as an unprivileged process may use them
/// (`f_bavail`: root may use the blocks ext4 keeps back, so this is the cautious figure).
pub fn available(dir: &Path) -> io::Result<u64> {
    let shown = rustix::fs::statvfs(dir)?;
    Ok(shown.f_bavail.saturating_mul(shown.f_frsize))
}

/// Directories found short of space at their last check, so that a change of state is logged
/// once rather than at every refusal; `SHORT_COUNT` lets the usual case skip the lock.
static SHORT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static SHORT_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Whether a write of `bytes` into `dir` may go ahead: `Err` when the file system has less than
/// [`reserve`] free. A file system that cannot say (statvfs fails) is let through: the write
/// then meets whatever is wrong itself.
pub fn check(dir: &Path, bytes: usize) -> Result<(), DiskFull> {
    let needed = reserve(bytes);
    let available = match available(dir) {
        Ok(available) => available,
        Err(error) => {
            tracing::debug!(%error, dir = %dir.display(), "cannot read the free disk space");
            return Ok(());
        }
    };
    let short = available < needed;
    if short || SHORT_COUNT.load(Ordering::Acquire) > 0 {
        note(dir, short, available, needed);
    }
    if short { Err(DiskFull { dir: dir.to_owned(), available, needed }) } else { Ok(()) }
}

/// Logs the moment a directory runs short of space and the moment it has room again.
fn note(dir: &Path, short: bool, available: u64, needed: u64) {
    let mut known = SHORT.lock().unwrap_or_else(PoisonError::into_inner);
    let position = known.iter().position(|known| known == dir);
    match (short, position) {
        (true, None) => {
            known.push(dir.to_owned());
            tracing::warn!(
                dir = %dir.display(),
                available = %megabytes(available),
                needed = %megabytes(needed),
                "the disk is full: changes are refused until space is freed"
            );
        }
        (false, Some(position)) => {
            known.swap_remove(position);
            tracing::warn!(dir = %dir.display(), available = %megabytes(available), "disk space freed: changes are accepted again");
        }
        _ => {}
    }
    SHORT_COUNT.store(known.len(), Ordering::Release);
}

/// What a permanent store failure means when it was the disk filling up after all (the check
/// passed, then another program took the space before the write): sled cannot go on after it.
pub fn explain_failure(failure: &str) -> Option<&'static str> {
    // The failure is text by now, in std's words ("No space left on device (os error 28)") or
    // sled's (`Os { code: 28, kind: StorageFull, .. }`).
    let enospc = io::Error::from(rustix::io::Errno::NOSPC).to_string();
    let description = enospc.split(" (os error").next().unwrap_or(&enospc);
    (failure.contains(description) || failure.contains("StorageFull")).then_some(
        "the disk filled up while the store was writing (the space was taken after the server checked it), \
         and the store cannot go on after a failed write: free disk space, then restart the server",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_two_segments_and_twice_the_group() {
        assert_eq!(reserve(0), 16 * 1024 * 1024);
        assert_eq!(reserve(1000), 16 * 1024 * 1024 + 2000);
    }

    #[test]
    fn a_disk_with_room_passes_and_a_refusal_says_what_it_needed() {
        let dir = tempfile::tempdir().unwrap();
        let free = available(dir.path()).unwrap();
        if free > reserve(1) {
            assert_eq!(check(dir.path(), 1), Ok(()));
        }
        // A group larger than the disk is refused, saying why.
        let huge = usize::try_from(free / 2 + 1).unwrap_or(usize::MAX);
        let refused = check(dir.path(), huge).unwrap_err();
        assert_eq!(refused.needed, reserve(huge));
        let said = refused.to_string();
        assert!(said.starts_with("the server's disk is full") && said.contains("without a restart"), "{said}");
        // Room again (for a small write) is noted as such.
        if free > reserve(1) {
            assert_eq!(check(dir.path(), 1), Ok(()));
            assert!(!SHORT.lock().unwrap().contains(&dir.path().to_owned()));
        }
        let error: io::Error = refused.into();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn a_failure_from_enospc_is_explained() {
        let enospc = io::Error::from(rustix::io::Errno::NOSPC);
        let failure = format!("writing to /data failed: i/o error: {enospc}");
        assert!(explain_failure(&failure).is_some_and(|said| said.contains("restart")));
        let failure = format!("writing to /data failed: storage error: IO error: {enospc:?}");
        assert!(explain_failure(&failure).is_some_and(|said| said.contains("restart")), "{failure}");
        assert_eq!(explain_failure("writing to /data failed: i/o error: Input/output error (os error 5)"), None);
    }
}
