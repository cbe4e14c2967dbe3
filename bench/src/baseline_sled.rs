//! Raw sled: the same records inserted one by one into a bare sled database with the store's
//! configuration (8 MiB segments), from one thread, with no flush and no sync. This is what the
//! embedded engine can do at all on this machine; a durable store on top of it can only approach
//! it by sharing syncs and doing little work of its own.

use anyhow::Context as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// sled's segment size as the store sets it.
const SEGMENT_SIZE: usize = 8 * 1024 * 1024;

/// A bare sled database in `dir`.
pub fn open(dir: &Path) -> anyhow::Result<sled::Db> {
    sled::Config::new()
        .path(dir)
        .segment_size(SEGMENT_SIZE)
        .open()
        .with_context(|| format!("opening sled in {}", dir.display()))
}

/// Inserts every `(key, value)` one at a time; returns the time it took.
pub fn insert_round(db: &sled::Db, records: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for (key, value) in records {
        db.insert(key.as_slice(), value.as_slice())?;
    }
    Ok(started.elapsed())
}
