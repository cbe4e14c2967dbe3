//! What a user would pick instead: SQLite in WAL mode with `synchronous = FULL` (every commit
//! syncs the WAL), one transaction per event, so each insert is durable when it returns. The
//! writers share one connection behind a mutex, the usual way to use SQLite from one process:
//! SQLite has a single writer, and separate connections would only add busy-waiting.

use anyhow::Context as _;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// A fresh database in `dir` with the events table.
pub fn open(dir: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open(dir.join("events.sqlite")).context("opening SQLite")?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "SQLite refused WAL mode: {mode}");
    connection.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS events (
             board BLOB NOT NULL, seq INTEGER NOT NULL, record BLOB NOT NULL,
             PRIMARY KEY (board, seq)) WITHOUT ROWID;",
    )?;
    let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
    anyhow::ensure!(synchronous == 2, "SQLite's synchronous is {synchronous}, not FULL (2)");
    Ok(connection)
}

/// One writer's rows: board, sequence number, record.
pub type WriterRows = Vec<(Vec<u8>, i64, Vec<u8>)>;

/// What one round measured.
#[derive(Debug)]
pub struct SqliteRound {
    pub events: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

/// `writers` threads each insert their share of `records` (one transaction each), waiting for
/// each insert before the next. `records[w]` are writer `w`'s `(board, seq, record)`.
pub fn round(connection: &Arc<Mutex<Connection>>, records: Vec<WriterRows>) -> anyhow::Result<SqliteRound> {
    let barrier = Arc::new(Barrier::new(records.len() + 1));
    let threads: Vec<_> = records
        .into_iter()
        .map(|mine| {
            let connection = Arc::clone(connection);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut latencies = Vec::with_capacity(mine.len());
                barrier.wait();
                for (board, seq, record) in mine {
                    let before = Instant::now();
                    {
                        let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let mut insert =
                            connection.prepare_cached("INSERT INTO events (board, seq, record) VALUES (?1, ?2, ?3)")?;
                        insert.execute(rusqlite::params![board, seq, record])?;
                    }
                    latencies.push(before.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for thread in threads {
        latencies.extend(thread.join().map_err(|_| anyhow::anyhow!("a SQLite writer panicked"))??);
    }
    Ok(SqliteRound { events: latencies.len(), elapsed: started.elapsed(), latencies })
}
