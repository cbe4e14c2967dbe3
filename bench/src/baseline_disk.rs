//! The physical floor of a durable acknowledgement: writing 4 KiB and `fdatasync`ing it, one
//! after another, on the same filesystem as the stores. Nothing that acknowledges after a real
//! sync can answer one writer faster than this.
//!
//! The floor overwrites space the file already has (allocated and synced beforehand), so each
//! sync flushes data only: this is what a log that preallocates, as sled does with its segments,
//! pays. Appending to a growing file also changes the file's size with every write, so every
//! sync commits the filesystem's journal too; that variant is measured as well, for comparison.

use anyhow::Context as _;
use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

/// The block written before each sync.
const BLOCK: usize = 4 * 1024;

/// What one round of syncs measured.
#[derive(Debug)]
pub struct FsyncRound {
    pub elapsed: Duration,
    /// The time of each write plus sync.
    pub latencies: Vec<Duration>,
}

/// Writes `count` blocks of 4 KiB one after another into a new file in `dir`, syncing after each:
/// into space allocated and synced beforehand when `preallocated`, else at the end of the file.
pub fn fsync_round(dir: &Path, count: usize, preallocated: bool) -> anyhow::Result<FsyncRound> {
    let path = dir.join("fsync-floor");
    let mut file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let block = vec![0x5a_u8; BLOCK];
    if preallocated {
        let zeros = vec![0_u8; BLOCK * 256];
        for _ in 0..count.div_ceil(256) {
            file.write_all(&zeros)?;
        }
        file.sync_all()?;
        file.seek(SeekFrom::Start(0))?;
    } else {
        file.sync_all()?;
    }
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for _ in 0..count {
        let before = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        latencies.push(before.elapsed());
    }
    let elapsed = started.elapsed();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(FsyncRound { elapsed, latencies })
}
