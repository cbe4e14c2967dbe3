//! Measures how many single-event appends per second the sled store acknowledges, with and
//! without group commit, for a few numbers of concurrent writers.
//!
//! ```text
//! cargo run --release -p kipina-server --example append_throughput -- [--writers N] [--events N] [--no-group-commit]
//! ```
//!
//! Without options it runs 1, 16 and 64 writers, each with group commit on and off. Every
//! writer is a thread appending commands of one event (a payload of about 300 bytes) to one of
//! a few boards with `ExpectedVersion::Any` and waiting for each acknowledgement, as a board's
//! owner task would. The store lives in a fresh temporary directory per run.

#![allow(clippy::print_stdout)]

use clap::Parser;
use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use kipina_server::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, SledStore, StoreOptions};
use serde_json::json;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The boards the writers spread over.
const BOARDS: usize = 4;
/// Events per writer per run with group commit when `--events` is not given, and the most
/// events of such a run: enough for stable numbers, few enough that the default six runs take
/// about 20 seconds on two cores.
const DEFAULT_EVENTS_PER_GROUPED_WRITER: usize = 5_000;
const MAX_DEFAULT_EVENTS_GROUPED: usize = 100_000;
/// Events per run without group commit, where every event waits for its own sync.
const DEFAULT_EVENTS_UNGROUPED: usize = 3_000;

#[derive(Debug, Parser)]
#[command(about = "Measures acknowledged appends per second of the sled event store")]
struct Options {
    /// Run only this number of concurrent writers (default: 1, 16 and 64).
    #[arg(long)]
    writers: Option<usize>,
    /// Events per run, spread over the writers.
    #[arg(long)]
    events: Option<usize>,
    /// Run only with group commit off (default: both on and off).
    #[arg(long)]
    no_group_commit: bool,
}

/// What one run measured.
#[derive(Debug)]
struct RunResult {
    writers: usize,
    group_commit: bool,
    events: u64,
    elapsed: Duration,
    syncs: u64,
    p50: Duration,
    p99: Duration,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let writer_counts = options.writers.map_or_else(|| vec![1, 16, 64], |writers| vec![writers.max(1)]);
    let modes: &[bool] = if options.no_group_commit { &[false] } else { &[true, false] };

    println!(
        "{:>7}  {:>12}  {:>7}  {:>7}  {:>9}  {:>6}  {:>10}  {:>8}  {:>8}",
        "writers", "group commit", "events", "seconds", "events/s", "syncs", "events/sync", "p50 ms", "p99 ms"
    );
    for &writers in &writer_counts {
        for &group_commit in modes {
            let default_events = if group_commit {
                (DEFAULT_EVENTS_PER_GROUPED_WRITER * writers).min(MAX_DEFAULT_EVENTS_GROUPED)
            } else {
                DEFAULT_EVENTS_UNGROUPED
            };
            let events = options.events.unwrap_or(default_events);
            let result = run(writers, group_commit, events)?;
            let seconds = result.elapsed.as_secs_f64();
            println!(
                "{:>7}  {:>12}  {:>7}  {:>7.2}  {:>9.0}  {:>6}  {:>10.1}  {:>8.2}  {:>8.2}",
                result.writers,
                if result.group_commit { "on" } else { "off" },
                result.events,
                seconds,
                result.events as f64 / seconds,
                result.syncs,
                result.events as f64 / result.syncs.max(1) as f64,
                result.p50.as_secs_f64() * 1_000.0,
                result.p99.as_secs_f64() * 1_000.0,
            );
        }
    }
    Ok(())
}

fn run(writers: usize, group_commit: bool, events: usize) -> anyhow::Result<RunResult> {
    let root = tempfile::tempdir()?;
    let store = SledStore::open(&root.path().join("events"), StoreOptions { group_commit, ..StoreOptions::default() })?;
    let per_writer = events.div_ceil(writers);
    let barrier = Arc::new(Barrier::new(writers + 1));
    let handles: Vec<_> = (0..writers)
        .map(|writer| {
            let store = store.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || write(&store, &barrier, writer, per_writer))
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(per_writer * writers);
    for handle in handles {
        let writer_latencies = handle.join().map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
        latencies.extend(writer_latencies);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let stats = store.stats();
    Ok(RunResult {
        writers,
        group_commit,
        events: stats.events,
        elapsed,
        syncs: stats.syncs,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}

/// One writer: appends `count` single-event commands and returns each acknowledgement latency.
fn write(store: &SledStore, barrier: &Barrier, writer: usize, count: usize) -> anyhow::Result<Vec<Duration>> {
    let board = BoardId::from_uuid(Uuid::from_u128((writer % BOARDS) as u128 + 1));
    let actor = ParticipantId::from_uuid(Uuid::from_u128(writer as u128 + 1_000));
    let mut latencies = Vec::with_capacity(count);
    barrier.wait();
    for n in 0..count {
        let request = AppendRequest {
            board,
            command_id: CommandId::from_uuid(Uuid::now_v7()),
            command_fingerprint: n as u32,
            actor,
            at: Timestamp(1_764_000_000_000 + n as i64),
            expected: ExpectedVersion::Any,
            events: vec![NewEvent {
                event_id: EventId::from_uuid(Uuid::now_v7()),
                event_type: "card_added".into(),
                event_version: 1,
                payload: kipina_server::store::encode_payload(&realistic_payload(writer, n)).expect("encodes"),
            }],
        };
        let started = Instant::now();
        store.append(request).wait()?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// A card as the domain layer would store it: ids, a column, a sealed text and a position,
/// about 300 bytes of JSON.
fn realistic_payload(writer: usize, n: usize) -> serde_json::Value {
    json!({
        "card": Uuid::now_v7(),
        "column": Uuid::from_u128(42),
        "text": {"sealed": "xC8f2kQ9vLz0pW3eR7tY1uI5oP4aS6dF8gH0jK2lZ4xC6vB8nM0qW2eR4tY6uI8oP0aS2dF4gH6jK8lZ0x"},
        "position": format!("a{writer:03}{n:07}"),
        "labels": [],
    })
}

fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
