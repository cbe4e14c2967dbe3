//! `kipina-bench appends`: durable appends through the real store (`SledStore`, group commit on,
//! a real `fdatasync` before every acknowledgement) for 1, 16 and 256 concurrent writers, next to
//! the disk's fsync floor, raw sled inserts with no durability, and SQLite (WAL, `synchronous =
//! FULL`), all in the same run on the same filesystem.
//!
//! Each writer is an async task owning one board, as a board's task owns its board in the server:
//! it appends one single-event command at a time with the exact expected version and waits for
//! the acknowledgement before the next. The requests (a card of about 300 bytes of JSON) are made
//! before a round starts, so a round times the store and nothing else. Events per second is a
//! round's events over the round's time; the acknowledgement latency is the time from `append`
//! to the ticket's answer, over every append of every measured round.
//!
//! Raw sled is measured for each case right before the store's rounds, with the same records in
//! the order the store's writer gets them (each writer's next event in turn, one board per
//! writer), in a database of its own that is closed before the store opens.

use crate::baseline_disk;
use crate::baseline_sled;
use crate::baseline_sqlite;
use crate::cpu;
use crate::summary::{Row, Section, Stats};
use anyhow::{Context as _, bail};
use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use kipina_server::store::record::{self, EnvelopeRef};
use kipina_server::store::{
    AppendOutcome, AppendRequest, EventStore, ExpectedVersion, NewEvent, SledStore, encode_payload,
};
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct AppendsOptions {
    /// The numbers of concurrent writers, each a case.
    pub writers: Vec<usize>,
    /// Measured rounds per case (one warm-up round of a tenth the size runs first).
    pub rounds: usize,
    /// Events per round of one writer; more writers get proportionally more, up to the cap.
    pub events_per_writer: usize,
    /// The most events of one round.
    pub max_events_per_round: usize,
    /// Events per round of SQLite (it acknowledges a few thousand a second at best).
    pub sqlite_events: usize,
    /// Syncs per round of the fsync floor.
    pub fsync_ops: usize,
}

impl AppendsOptions {
    pub fn full() -> Self {
        Self {
            writers: vec![1, 16, 256],
            rounds: 7,
            events_per_writer: 2_000,
            max_events_per_round: 200_000,
            sqlite_events: 2_000,
            fsync_ops: 1_000,
        }
    }

    pub fn quick() -> Self {
        Self {
            writers: vec![1, 16, 256],
            rounds: 2,
            events_per_writer: 100,
            max_events_per_round: 5_120,
            sqlite_events: 256,
            fsync_ops: 100,
        }
    }

    fn events(&self, writers: usize) -> usize {
        // At least one event per writer, and the same number for each.
        let events = (self.events_per_writer * writers).min(self.max_events_per_round).max(writers);
        events.div_ceil(writers) * writers
    }
}

/// The figures of one writer count.
#[derive(Debug, Serialize)]
struct Case {
    writers: usize,
    events_per_round: usize,
    kipina_events_per_second: Vec<f64>,
    kipina_ack_ms: Stats,
    kipina_syncs_per_round: Vec<u64>,
    /// CPU time of the store's writer thread per event, per round.
    kipina_writer_thread_cpu_us_per_event: Vec<f64>,
    /// CPU time of the whole process (writers, store, sled's threads) per event, per round.
    kipina_process_cpu_us_per_event: Vec<f64>,
    sqlite_events_per_round: usize,
    sqlite_events_per_second: Vec<f64>,
    sqlite_ack_ms: Stats,
    /// Raw sled inserting the same records (at least a tenth of the largest round), right
    /// before the store's rounds.
    raw_sled_inserts_per_second: Vec<f64>,
    raw_sled_process_cpu_us_per_insert: Vec<f64>,
}

/// The name of the store's writer thread, as `/proc` shows it (15 bytes at most).
const WRITER_THREAD: &str = "kipina-store-wr";

/// A card as the domain layer stores it: ids, a column, a sealed text and a position, about
/// 300 bytes of JSON.
fn payload(writer: usize, n: usize) -> serde_json::Value {
    json!({
        "card": Uuid::now_v7(),
        "column": Uuid::from_u128(42),
        "text": {"sealed": "xC8f2kQ9vLz0pW3eR7tY1uI5oP4aS6dF8gH0jK2lZ4xC6vB8nM0qW2eR4tY6uI8oP0aS2dF4gH6jK8lZ0xC8f2kQ9vLz0pW3eR7tY1uI5oP4aS6dF8gH0jK2lZ4x"},
        "position": format!("a{writer:03}{n:07}"),
        "labels": [],
    })
}

fn request(board: BoardId, actor: ParticipantId, head: u64, writer: usize, n: usize) -> AppendRequest {
    AppendRequest {
        board,
        command_id: CommandId(Uuid::now_v7()),
        command_fingerprint: n as u32,
        actor,
        at: Timestamp(1_764_000_000_000 + n as i64),
        expected: if head == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(head) },
        events: vec![NewEvent {
            event_id: EventId(Uuid::now_v7()),
            event_type: "card_added".into(),
            event_version: 1,
            payload: encode_payload(&payload(writer, n)).expect("a payload encodes"),
        }],
    }
}

/// The stored bytes of `request`'s event at `seq`: the same record the store writes.
fn stored(request: &AppendRequest, seq: u64) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let key = record::event_key(request.board, seq);
    let value = record::encode_event(&key, &EnvelopeRef::of(request, &request.events[0]))?;
    Ok((key.to_vec(), value))
}

/// Raw sled with the records one case's writers store, in the order the store's writer gets
/// them (each writer's next event in turn), on boards of its own.
struct RawSled {
    db: sled::Db,
    dir: std::path::PathBuf,
    boards: Vec<BoardId>,
    actor: ParticipantId,
    /// The events inserted so far on each board.
    head: std::sync::atomic::AtomicU64,
}

impl RawSled {
    fn open(dir: &std::path::Path, writers: usize) -> anyhow::Result<Self> {
        Ok(Self {
            db: baseline_sled::open(dir)?,
            dir: dir.to_owned(),
            boards: (0..writers).map(|_| BoardId(Uuid::now_v7())).collect(),
            actor: ParticipantId(Uuid::now_v7()),
            head: Default::default(),
        })
    }

    /// Inserts `per_writer` more events on every board; returns the time and the process's CPU
    /// time it took (the records are made first).
    async fn round(&self, per_writer: usize) -> anyhow::Result<(Duration, Duration)> {
        use std::sync::atomic::Ordering;
        let head = self.head.fetch_add(per_writer as u64, Ordering::Relaxed);
        let mut records = Vec::with_capacity(per_writer * self.boards.len());
        for n in 0..per_writer {
            for (index, board) in self.boards.iter().enumerate() {
                let seq = head + n as u64;
                records.push(stored(&request(*board, self.actor, seq, index, n), seq + 1)?);
            }
        }
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, Duration)> {
            let cpu_before = cpu::process();
            let elapsed = baseline_sled::insert_round(&db, &records)?;
            let cpu = cpu::process().saturating_sub(cpu_before);
            // Untimed: sled's threads write out what the round left, rather than during the
            // store's next round.
            db.flush()?;
            Ok((elapsed, cpu))
        })
        .await?
    }

    fn remove(self) {
        drop(self.db);
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// One board per writer, as in the server.
struct Writer {
    board: BoardId,
    actor: ParticipantId,
    head: u64,
}

/// What one round of appends measured.
struct KipinaRound {
    elapsed: Duration,
    latencies: Vec<Duration>,
    writers: Vec<Writer>,
    /// CPU time of the store's writer thread, and of the whole process, during the round.
    writer_cpu: Duration,
    process_cpu: Duration,
}

/// Appends `per_writer` events with every writer at once; returns the round's time, every
/// acknowledgement's latency, and the writers with their new heads.
async fn kipina_round(store: &SledStore, writers: Vec<Writer>, per_writer: usize) -> anyhow::Result<KipinaRound> {
    // The requests are made first, so the round times the store alone.
    let planned: Vec<(Writer, Vec<AppendRequest>)> = writers
        .into_iter()
        .enumerate()
        .map(|(index, writer)| {
            let requests = (0..per_writer)
                .map(|n| request(writer.board, writer.actor, writer.head + n as u64, index, n))
                .collect();
            (writer, requests)
        })
        .collect();
    let (start, started) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = planned
        .into_iter()
        .map(|(mut writer, requests)| {
            let store = store.clone();
            let mut started = started.clone();
            tokio::spawn(async move {
                started.wait_for(|go| *go).await?;
                let mut latencies = Vec::with_capacity(requests.len());
                for request in requests {
                    let before = Instant::now();
                    let outcome = store.append(request).await?;
                    latencies.push(before.elapsed());
                    match outcome {
                        AppendOutcome::Appended { first, last } if first == writer.head + 1 && last == first => {
                            writer.head = last;
                        }
                        other => bail!("board {} at {}: the append was answered {other:?}", writer.board, writer.head),
                    }
                }
                Ok((writer, latencies))
            })
        })
        .collect();
    let (writer_before, process_before) = (cpu::threads_named(WRITER_THREAD), cpu::process());
    let began = Instant::now();
    start.send_replace(true);
    let mut latencies = Vec::new();
    let mut writers = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (writer, mine) = task.await.context("a writer task panicked")??;
        latencies.extend(mine);
        writers.push(writer);
    }
    let elapsed = began.elapsed();
    Ok(KipinaRound {
        elapsed,
        latencies,
        writers,
        writer_cpu: cpu::threads_named(WRITER_THREAD).saturating_sub(writer_before),
        process_cpu: cpu::process().saturating_sub(process_before),
    })
}

/// Runs every case and its baselines.
pub async fn run(options: &AppendsOptions) -> anyhow::Result<Section> {
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let mut rows = Vec::new();
    let mut cases = Vec::new();

    // The fsync floor, in rounds of its own: into preallocated space (the floor), and at the
    // end of a growing file (for comparison).
    let fsync_dir = scratch.path().to_path_buf();
    let fsync_ops = options.fsync_ops;
    let rounds = options.rounds;
    let (fsync, fsync_growing) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let floor = (0..rounds)
            .map(|_| baseline_disk::fsync_round(&fsync_dir, fsync_ops, true))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let growing = (0..rounds)
            .map(|_| baseline_disk::fsync_round(&fsync_dir, fsync_ops, false))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((floor, growing))
    })
    .await??;
    let latency_of = |rounds: &[baseline_disk::FsyncRound]| {
        Stats::of_durations(&rounds.iter().flat_map(|round| round.latencies.clone()).collect::<Vec<_>>())
    };
    let fsync_latency = latency_of(&fsync);
    let fsync_growing_latency = latency_of(&fsync_growing);
    let fsync_rate = Stats::higher_is_better(
        &fsync.iter().map(|round| round.latencies.len() as f64 / round.elapsed.as_secs_f64()).collect::<Vec<_>>(),
    );

    // Raw sled made durable one insert at a time, as many as the fsync floor's rounds.
    let durable_dir = scratch.path().join("raw-sled-durable");
    let (rounds, durable_ops) = (options.rounds, options.fsync_ops);
    let sled_durable = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let db = baseline_sled::open(&durable_dir)?;
        let actor = ParticipantId(Uuid::now_v7());
        let mut latencies = Vec::new();
        for _ in 0..rounds {
            let board = BoardId(Uuid::now_v7());
            let records = (0..durable_ops)
                .map(|n| stored(&request(board, actor, n as u64, 0, n), n as u64 + 1))
                .collect::<anyhow::Result<Vec<_>>>()?;
            latencies.extend(baseline_sled::durable_round(&durable_dir, &db, &records)?);
        }
        Ok(latencies)
    })
    .await??;
    let sled_durable_latency = Stats::of_durations(&sled_durable);

    for &writer_count in &options.writers {
        let events = options.events(writer_count);
        let per_writer = events / writer_count;
        let store_dir = scratch.path().join(format!("store-{writer_count}"));
        // Raw sled inserting the same records, right before the store's rounds (the shared
        // cores' load moves from minute to minute). Closed before the store's rounds: taking
        // rounds in turn was tried, and an open raw database slowed the store's rounds.
        // At least a tenth of the largest round, so that the process's CPU time (counted in
        // clock ticks) is measured to a few per cent for one writer too.
        let raw_per_writer = per_writer.max(options.max_events_per_round / 10 / writer_count).max(1);
        let raw_events = raw_per_writer * writer_count;
        let raw = RawSled::open(&scratch.path().join(format!("raw-sled-{writer_count}")), writer_count)?;
        let mut raw_rates = Vec::new();
        let mut raw_cpu_per_insert = Vec::new();
        // Warm-up: a tenth of a round.
        raw.round((raw_per_writer / 10).max(1)).await?;
        for _ in 0..options.rounds {
            let (raw_elapsed, raw_cpu) = raw.round(raw_per_writer).await?;
            raw_rates.push(raw_events as f64 / raw_elapsed.as_secs_f64());
            raw_cpu_per_insert.push(raw_cpu.as_secs_f64() * 1e6 / raw_events as f64);
        }
        raw.remove();
        let raw_rate = Stats::higher_is_better(&raw_rates);
        let raw_cpu = Stats::lower_is_better(&raw_cpu_per_insert);

        let store = SledStore::open(&store_dir, Default::default())?;
        let mut writers: Vec<Writer> = (0..writer_count)
            .map(|_| Writer { board: BoardId(Uuid::now_v7()), actor: ParticipantId(Uuid::now_v7()), head: 0 })
            .collect();
        // Warm-up: a tenth of a round.
        writers = kipina_round(&store, writers, (per_writer / 10).max(1)).await?.writers;
        let mut rates = Vec::new();
        let mut latencies = Vec::new();
        let mut syncs = Vec::new();
        let mut writer_cpu = Vec::new();
        let mut process_cpu = Vec::new();
        for _ in 0..options.rounds {
            let syncs_before = store.stats().syncs;
            let round = kipina_round(&store, writers, per_writer).await?;
            writer_cpu.push(round.writer_cpu.as_secs_f64() * 1e6 / events as f64);
            process_cpu.push(round.process_cpu.as_secs_f64() * 1e6 / events as f64);
            writers = round.writers;
            rates.push(events as f64 / round.elapsed.as_secs_f64());
            latencies.extend(round.latencies);
            syncs.push(store.stats().syncs - syncs_before);
        }
        drop(store);
        std::fs::remove_dir_all(&store_dir).ok();

        // SQLite with the same number of writers.
        let sqlite_dir = scratch.path().join(format!("sqlite-{writer_count}"));
        std::fs::create_dir_all(&sqlite_dir)?;
        let sqlite_events = options.sqlite_events.max(writer_count).div_ceil(writer_count) * writer_count;
        let rounds = options.rounds;
        let sqlite = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<baseline_sqlite::SqliteRound>> {
            let connection = Arc::new(Mutex::new(baseline_sqlite::open(&sqlite_dir)?));
            let actor = ParticipantId(Uuid::now_v7());
            let boards: Vec<BoardId> = (0..writer_count).map(|_| BoardId(Uuid::now_v7())).collect();
            let mut measured = Vec::new();
            for round in 0..=rounds {
                let per_writer = if round == 0 { 1 } else { sqlite_events / writer_count };
                let base = if round == 0 { 0 } else { 1 + (round - 1) * sqlite_events / writer_count };
                let records = boards
                    .iter()
                    .enumerate()
                    .map(|(index, board)| {
                        (0..per_writer)
                            .map(|n| {
                                let seq = (base + n + 1) as u64;
                                let request = request(*board, actor, seq - 1, index, n);
                                let (_, value) = stored(&request, seq)?;
                                Ok((board.as_bytes().to_vec(), seq as i64, value))
                            })
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let result = baseline_sqlite::round(&connection, records)?;
                // Round 0 (one insert per writer) warms SQLite up and is left out.
                if round > 0 {
                    measured.push(result);
                }
            }
            Ok(measured)
        })
        .await??;
        let sqlite_rates: Vec<f64> =
            sqlite.iter().map(|round| round.events as f64 / round.elapsed.as_secs_f64()).collect();
        let sqlite_latency =
            Stats::of_durations(&sqlite.iter().flat_map(|round| round.latencies.clone()).collect::<Vec<_>>());
        std::fs::remove_dir_all(scratch.path().join(format!("sqlite-{writer_count}"))).ok();

        let rate = Stats::higher_is_better(&rates);
        let ack = Stats::of_durations(&latencies);
        let writer_cpu_stats = Stats::lower_is_better(&writer_cpu);
        let process_cpu_stats = Stats::lower_is_better(&process_cpu);
        let case_name = if writer_count == 1 { "1 writer".to_owned() } else { format!("{writer_count} writers") };
        let sqlite_name = format!("SQLite WAL FULL, {writer_count} wr.");
        if writer_count == 1 {
            let floor = fsync_latency.median;
            rows.push(
                Row::new("appends", &case_name, "ack latency", "ms")
                    .kipina(ack)
                    .baseline("fsync floor (4 KiB + fdatasync)", fsync_latency)
                    .target("p50 <= 2x fsync floor", ack.median <= 2.0 * floor),
            );
            rows.push(
                Row::new("appends", &case_name, "ack latency", "ms")
                    .kipina(ack)
                    .baseline("4 KiB + fdatasync, growing file", fsync_growing_latency),
            );
            rows.push(
                Row::new("appends", &case_name, "ack latency", "ms")
                    .kipina(ack)
                    .baseline("sled insert+flush+fdatasync", sled_durable_latency),
            );

            rows.push(
                Row::new("appends", &case_name, "events/s", "ev/s").kipina(rate).baseline("fsync floor", fsync_rate),
            );
            rows.push(
                Row::new("appends", &case_name, "events/s", "ev/s")
                    .kipina(rate)
                    .baseline(&sqlite_name, Stats::higher_is_better(&sqlite_rates)),
            );
            rows.push(
                Row::new("appends", &case_name, "ack latency", "ms").kipina(ack).baseline(&sqlite_name, sqlite_latency),
            );
        } else {
            let mut throughput = Row::new("appends", &case_name, "events/s", "ev/s")
                .kipina(rate)
                .baseline("raw sled insert, no sync", raw_rate);
            if writer_count == 256 {
                let met = rate.median >= 100_000.0 && rate.median >= 0.65 * raw_rate.median;
                throughput = throughput.target(">= 100,000 ev/s and >= 0.65x raw sled", met);
            }
            rows.push(throughput);
            rows.push(
                Row::new("appends", &case_name, "events/s", "ev/s")
                    .kipina(rate)
                    .baseline(&sqlite_name, Stats::higher_is_better(&sqlite_rates)),
            );
            rows.push(
                Row::new("appends", &case_name, "ack latency", "ms").kipina(ack).baseline(&sqlite_name, sqlite_latency),
            );
        }
        rows.push(
            Row::new("appends", &case_name, "writer thread CPU/event", "us")
                .kipina(writer_cpu_stats)
                .baseline("raw sled, process CPU/insert", raw_cpu),
        );
        rows.push(
            Row::new("appends", &case_name, "process CPU/event", "us")
                .kipina(process_cpu_stats)
                .baseline("raw sled, process CPU/insert", raw_cpu),
        );
        cases.push(Case {
            writers: writer_count,
            events_per_round: events,
            kipina_events_per_second: rates,
            kipina_ack_ms: ack,
            kipina_syncs_per_round: syncs,
            kipina_writer_thread_cpu_us_per_event: writer_cpu,
            kipina_process_cpu_us_per_event: process_cpu,
            sqlite_events_per_round: sqlite_events,
            sqlite_events_per_second: sqlite_rates,
            sqlite_ack_ms: sqlite_latency,
            raw_sled_inserts_per_second: raw_rates,
            raw_sled_process_cpu_us_per_insert: raw_cpu_per_insert,
        });
    }

    let details = json!({
        "options": options,
        "fsync_floor": {
            "ops_per_round": options.fsync_ops,
            "latency_ms": fsync_latency,
            "ops_per_second": fsync_rate,
            "growing_file_latency_ms": fsync_growing_latency,
            "raw_sled_insert_flush_fdatasync_latency_ms": sled_durable_latency,
        },
        "cases": cases,
    });
    Ok(Section { benchmark: "appends", rows, details })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_writer_gets_the_same_number_of_events() {
        let options = AppendsOptions::full();
        assert_eq!(options.events(1), 2_000);
        assert_eq!(options.events(16), 32_000);
        assert_eq!(options.events(256) % 256, 0);
        assert!(options.events(256) >= 200_000);
        let quick = AppendsOptions::quick();
        assert_eq!(quick.events(256) % 256, 0);
    }
}
