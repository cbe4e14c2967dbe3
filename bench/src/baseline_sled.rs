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

/// Inserts every `(key, value)` one at a time, each made durable as the store must: sled's
/// `flush` (which writes sled's buffer and waits for it with `sync_file_range`, one trip to the
/// disk) and then `fdatasync` of sled's file (the second trip, which makes it durable). sled
/// 0.34 offers no way to skip its `sync_file_range` (only a `temporary` database, deleted when
/// closed, does), so this was the floor of one durable append for a store that syncs sled on
/// every commit; the store's commit log (ADR 0007) syncs its own preallocated file instead.
/// Returns each insert's latency.
pub fn durable_round(dir: &Path, db: &sled::Db, records: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<Vec<Duration>> {
    let file = std::fs::OpenOptions::new().write(true).open(dir.join("db")).context("opening sled's db file")?;
    let mut latencies = Vec::with_capacity(records.len());
    for (key, value) in records {
        let before = Instant::now();
        db.insert(key.as_slice(), value.as_slice())?;
        db.flush()?;
        file.sync_data()?;
        latencies.push(before.elapsed());
    }
    Ok(latencies)
}

/// Inserts every `(key, value)` one at a time; returns the time it took.
pub fn insert_round(db: &sled::Db, records: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for (key, value) in records {
        db.insert(key.as_slice(), value.as_slice())?;
    }
    Ok(started.elapsed())
}
