//! `kipina-bench cold-start`: a data directory with 1,000,000 events over 100 boards (made by the
//! real engine, see `dataset`), then, in rounds, a fresh server process over it: the time until it
//! answers `/health` and until it serves a board (`GET /api/boards/{id}`, which loads the board
//! from its snapshot plus the events after it), with the snapshots the engine wrote and with the
//! snapshot directory emptied. Then a full replay of every board from the log (read, checksum,
//! unseal, upcast, decode, `evolve`) in this process, next to a raw scan of sled's entries: first
//! right after opening (each board's first use, so its records are checked first and sled loads
//! its nodes, ADR 0006), then a second pass on the same open store (what the full open check
//! before ADR 0006 left the first pass: every record checked and in sled's cache). The replays
//! run on the data set as written, and again after tidying it as a clean stop of the server does
//! (ADR 0008: `TidyPolicy::default()`, then the rewrite with older events in chunks); the target
//! is checked on the tidied one, as a server that was stopped cleanly leaves its store.
//!
//! The page cache is warm (the data was just written, and is read again each round): this is a
//! server restart, not a machine boot.

use crate::baseline_sled;
use crate::child::{ChildServer, get_ok};
use crate::cpu;
use crate::dataset::{self, DatasetSpec, MadeBoard};
use crate::summary::{Row, Section, Stats, millis};
use anyhow::Context as _;
use kipina_domain::BoardState;
use kipina_server::data_dir::DataDir;
use kipina_server::engine::Engine;
use kipina_server::store::record;
use kipina_server::store::sled_store::{RewriteReport, rewrite};
use kipina_server::store::{EventStore as _, SledStore, StoreOptions, TidyPolicy};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct ColdStartOptions {
    pub boards: usize,
    pub events_per_board: u64,
    /// Server starts per variant (with and without snapshots), and full replays.
    pub rounds: usize,
    /// Where to keep the data set for later runs (see `dataset::kept`); a temporary directory
    /// when `None`.
    pub data: Option<PathBuf>,
    /// Only the full replays and the raw scan: no server starts.
    pub replay_only: bool,
    /// Rewrite the data set's events into chunks (ADR 0008) before measuring.
    pub compact: bool,
}

impl ColdStartOptions {
    pub fn full() -> Self {
        Self { boards: 100, events_per_board: 10_000, rounds: 5, data: None, replay_only: false, compact: false }
    }

    pub fn quick() -> Self {
        Self { boards: 10, events_per_board: 1_000, rounds: 2, data: None, replay_only: false, compact: false }
    }
}

#[derive(Debug, Default, Serialize)]
struct Starts {
    /// From starting the process to its port being bound (store opened and checked).
    bound_ms: Vec<f64>,
    /// To `/health` answering.
    health_ms: Vec<f64>,
    /// To the board's view being served.
    board_ms: Vec<f64>,
}

/// Starts a server over `data`, waits for `/health` and the first board; stops it.
async fn start_once(data: &Path, board: &MadeBoard, token: &str, starts: &mut Starts) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let server = ChildServer::start(data).await?;
    let base = server.base_url();
    get_ok(&http, &format!("{base}/health"), None).await?;
    let health = server.age();
    let body = get_ok(&http, &format!("{base}/api/boards/{}", board.board), Some(token)).await?;
    let served = server.age();
    let bound = server.bound_after;
    let view: kipina_proto::view::BoardView = serde_json::from_str(&body).context("the board's view")?;
    anyhow::ensure!(view.seq == board.events, "the board was served at seq {}, not {}", view.seq, board.events);
    server.stop().await?;
    starts.bound_ms.push(millis(bound));
    starts.health_ms.push(millis(health));
    starts.board_ms.push(millis(served));
    Ok(())
}

fn remove_snapshots(data: &DataDir) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(data.snapshots())? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// What [`over_threads`] counted: the sum of what `work` returned, the wall time, and the CPU
/// time the threads spent.
struct Counted {
    counted: u64,
    elapsed: Duration,
    cpu: Duration,
}

impl Counted {
    fn per_second(&self) -> f64 {
        self.counted as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU time per counted item, in microseconds.
    fn cpu_micros_each(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.counted.max(1) as f64
    }
}

/// Splits the boards over `threads` threads and runs `work` on each share; sums what it counts.
fn over_threads(
    boards: &[MadeBoard],
    threads: usize,
    work: impl Fn(&MadeBoard) -> anyhow::Result<u64> + Sync,
) -> anyhow::Result<Counted> {
    let started = Instant::now();
    let work = &work;
    let (counted, cpu) = std::thread::scope(|scope| -> anyhow::Result<(u64, Duration)> {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || -> anyhow::Result<(u64, Duration)> {
                    let cpu = cpu::this_thread();
                    let counted = boards.iter().skip(thread).step_by(threads).map(work).sum::<anyhow::Result<u64>>()?;
                    Ok((counted, cpu::this_thread().saturating_sub(cpu)))
                })
            })
            .collect();
        handles.into_iter().try_fold((0, Duration::ZERO), |(counted, cpu), handle| {
            let (more, spent) = handle.join().map_err(|_| anyhow::anyhow!("a thread panicked"))??;
            Ok((counted + more, cpu + spent))
        })
    })?;
    Ok(Counted { counted, elapsed: started.elapsed(), cpu })
}

/// Replays one board from its first event, as the server loads a board without a snapshot:
/// every event read, checked, unsealed, decoded, folded (the first time, the board's records are
/// checked as they are read, ADR 0006).
fn replay_board(engine: &Engine, made: &MadeBoard) -> anyhow::Result<u64> {
    let mut state = BoardState::default();
    engine.catch_up(made.board, &mut state)?;
    anyhow::ensure!(state.version == made.events, "replayed to {} of {}", state.version, made.events);
    Ok(state.version)
}

/// What the replay rounds measured: the engine's open (ms), and events per second (and the
/// replaying threads' CPU time per event, µs) of the first replay after opening, of a second one
/// on the same store, and of one thread.
#[derive(Clone, Default)]
struct Replays {
    open_ms: Vec<f64>,
    rates: Vec<f64>,
    cpu: Vec<f64>,
    second: Vec<f64>,
    second_cpu: Vec<f64>,
    single: Vec<f64>,
}

/// Reads one board's entries straight from sled, decoding nothing; returns the events they
/// hold (an event's entry holds one, a chunk's the seqs since the entry before it, as its key says).
fn scan_board(db: &sled::Db, made: &MadeBoard) -> anyhow::Result<u64> {
    let mut events = 0;
    let mut bytes = 0;
    for item in db.scan_prefix(record::event_prefix(made.board)) {
        let (key, value) = item?;
        events = match record::parse_key(&key)?.stream_entry() {
            Some((_, last)) => last,
            None => anyhow::bail!("a key that is no entry of a stream"),
        };
        bytes += key.len() + value.len();
    }
    anyhow::ensure!(bytes > 0 || events == 0, "empty entries");
    Ok(events)
}

pub async fn run(options: &ColdStartOptions) -> anyhow::Result<Section> {
    if !kipina_server::personal_data::POLY1305_PORTABLE {
        crate::progress(
            "cold-start: WARNING: built without `--cfg poly1305_force_soft` (RUSTFLAGS replaced .cargo/config.toml's \
             flags): the replay opens sealed fields more slowly than a normal build",
        );
    }
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let spec = DatasetSpec {
        boards: options.boards,
        participants: 20,
        cards_per_board: usize::MAX,
        comments_per_card: 1,
        votes_per_card: 1,
        withdraw_votes: true,
        events_per_board: Some(options.events_per_board),
    };
    let folder = options.data.clone().unwrap_or_else(|| scratch.path().to_owned());
    let (data, dataset) = tokio::task::spawn_blocking(move || dataset::kept(&folder, spec)).await??;
    crate::progress(&format!(
        "cold-start: {} {} events over {} boards ({:.1} s to make)",
        if dataset.reused { "reusing" } else { "made" },
        dataset.events,
        dataset.spec.boards,
        dataset.seconds_to_make
    ));
    // With `--compact`, the data directory as `kipina compact` leaves it (ADR 0008): every
    // board's full runs of events in chunks.
    let rewrite_dir = data.events();
    let compact = options.compact;
    let (compaction, compaction_seconds) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        if !compact {
            return Ok((RewriteReport::default(), 0.0));
        }
        let started = Instant::now();
        let report = rewrite(&rewrite_dir)?;
        Ok((report, started.elapsed().as_secs_f64()))
    })
    .await??;
    if compact {
        crate::progress(&format!(
            "cold-start: kipina compact wrote {} chunks of {} events in {compaction_seconds:.1} s; sled's file {} -> {} MB",
            compaction.chunks,
            compaction.chunked_events,
            compaction.bytes_before / 1_000_000,
            compaction.bytes_after / 1_000_000
        ));
    }
    let tokens = dataset::issue_tokens(&data, &dataset.boards[..1])?;
    let first = dataset.boards[0];
    let disk_bytes = directory_size(&data.events())?;

    let mut with_snapshots = Starts::default();
    let mut without_snapshots = Starts::default();
    if !options.replay_only {
        for _ in 0..options.rounds {
            start_once(data.root(), &first, &tokens[0], &mut with_snapshots).await?;
        }
        for _ in 0..options.rounds {
            remove_snapshots(&data)?;
            start_once(data.root(), &first, &tokens[0], &mut without_snapshots).await?;
        }
    }

    // Full replays in this process of the data set as written (what a server that never
    // stopped cleanly leaves), then as a clean stop of the server leaves it (tidied, ADR 0008),
    // then raw scans of the same entries.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let rounds = options.rounds;
    let untidied = if options.compact {
        None
    } else {
        let (boards, replay_data) = (dataset.boards.clone(), data.clone());
        Some(tokio::task::spawn_blocking(move || measure_replays(&replay_data, &boards, rounds, threads)).await??)
    };
    let tidy_data = data.clone();
    let tidied = if options.compact {
        None
    } else {
        tokio::task::spawn_blocking(move || tidy_as_a_stop_would(&tidy_data)).await??
    };
    if let Some((report, seconds)) = &tidied {
        crate::progress(&format!(
            "cold-start: tidied as a clean stop does: {} chunks of {} events in {seconds:.1} s; sled's file {} -> {} MB",
            report.chunks,
            report.chunked_events,
            report.bytes_before / 1_000_000,
            report.bytes_after / 1_000_000
        ));
    }
    let replays = match (&untidied, &tidied) {
        (Some(untidied), None) => untidied.clone(),
        _ => {
            let (boards, replay_data) = (dataset.boards.clone(), data.clone());
            tokio::task::spawn_blocking(move || measure_replays(&replay_data, &boards, rounds, threads)).await??
        }
    };
    let scan_dir = data.events();
    let boards = dataset.boards.clone();
    let scan_rates = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<f64>> {
        let db = baseline_sled::open(&scan_dir)?;
        let mut rates = Vec::new();
        for _ in 0..rounds {
            rates.push(over_threads(&boards, threads, |made| scan_board(&db, made))?.per_second());
        }
        Ok(rates)
    })
    .await??;

    let open_floor = Stats::lower_is_better(&replays.open_ms);
    let ready_with = Stats::lower_is_better(&with_snapshots.board_ms);
    let ready_without = Stats::lower_is_better(&without_snapshots.board_ms);
    let replay = Stats::higher_is_better(&replays.rates);
    // What the target is checked against: the store as the server leaves it after a clean stop
    // (or after `kipina compact`), when the tidying happened.
    let replay_label = match (&tidied, options.compact) {
        (Some(_), _) => format!("full replay, tidied, {threads} thr."),
        (None, true) => format!("full replay, compacted, {threads} thr."),
        (None, false) => format!("full replay, {threads} thr."),
    };
    let case = format!("{} ev, {} boards", dataset.events, options.boards);
    let mut rows = vec![
        Row::new("cold", &case, "ready: health", "ms")
            .kipina(Stats::lower_is_better(&with_snapshots.health_ms))
            .baseline("engine open alone (in-process)", open_floor),
        Row::new("cold", &case, "ready: board, snapshots", "ms")
            .kipina(ready_with)
            .baseline("engine open alone (in-process)", open_floor)
            .target("< 500 ms with snapshots", ready_with.median < 500.0),
        Row::new("cold", &case, "ready: board, no snap.", "ms")
            .kipina(ready_without)
            .baseline("with snapshots", ready_with),
        Row::new("cold", &case, replay_label, "ev/s")
            .kipina(replay)
            .baseline(format!("raw sled scan, {threads} thr."), Stats::higher_is_better(&scan_rates))
            .target(">= 700,000 ev/s", replay.median >= 700_000.0),
        Row::new("cold", &case, format!("replay again, {threads} thr."), "ev/s")
            .kipina(Stats::higher_is_better(&replays.second))
            .baseline("first replay after opening", replay),
        Row::new("cold", &case, "first replay CPU/event", "us")
            .kipina(Stats::lower_is_better(&replays.cpu))
            .baseline("replay again", Stats::lower_is_better(&replays.second_cpu)),
    ];
    if let (Some(untidied), Some(_)) = (&untidied, &tidied) {
        rows.push(
            Row::new("cold", &case, format!("full replay, untidied, {threads} thr."), "ev/s")
                .kipina(Stats::higher_is_better(&untidied.rates))
                .baseline("tidied at a clean stop", replay),
        );
    }
    if options.replay_only {
        rows.drain(..3);
    }
    let details = json!({
        "options": options,
        "dataset": {
            "events": dataset.events,
            "boards": dataset.boards.len(),
            "spec": dataset.spec,
            "seconds_to_make": dataset.seconds_to_make,
            "reused": dataset.reused,
            "event_store_bytes_on_disk": disk_bytes,
        },
        "with_snapshots": with_snapshots,
        "without_snapshots": without_snapshots,
        "poly1305_portable": kipina_server::personal_data::POLY1305_PORTABLE,
        "engine_open_ms": replays.open_ms,
        "replay_events_per_second": replays.rates,
        "replay_cpu_micros_per_event": replays.cpu,
        "replay_second_pass_events_per_second": replays.second,
        "replay_second_pass_cpu_micros_per_event": replays.second_cpu,
        "replay_threads": threads,
        "replay_single_thread_events_per_second_first_10_boards": replays.single,
        "raw_sled_scan_events_per_second": scan_rates,
        "untidied": untidied.as_ref().map(|untidied| json!({
            "engine_open_ms": untidied.open_ms,
            "replay_events_per_second": untidied.rates,
            "replay_cpu_micros_per_event": untidied.cpu,
            "replay_second_pass_events_per_second": untidied.second,
        })),
        "tidied_at_stop": tidied.as_ref().map(|(report, seconds)| json!({
            "chunks": report.chunks,
            "events_in_chunks": report.chunked_events,
            "seconds": seconds,
            "db_bytes_before": report.bytes_before,
            "db_bytes_after": report.bytes_after,
        })),
        "compact": {
            "chunks": compaction.chunks,
            "events_in_chunks": compaction.chunked_events,
            "seconds": compaction_seconds,
            "db_bytes_before": compaction.bytes_before,
            "db_bytes_after": compaction.bytes_after,
        },
    });
    Ok(Section { benchmark: "cold-start", rows, details })
}

/// Full replays in rounds, each on a freshly opened engine: the first pass after opening, a
/// second on the same open store, and one thread over the first ten boards.
fn measure_replays(data: &DataDir, boards: &[MadeBoard], rounds: usize, threads: usize) -> anyhow::Result<Replays> {
    let mut replays = Replays::default();
    for _ in 0..rounds {
        let opened = Instant::now();
        let engine = Engine::open(data)?;
        replays.open_ms.push(millis(opened.elapsed()));
        let first = over_threads(boards, threads, |made| replay_board(&engine, made))?;
        replays.rates.push(first.per_second());
        replays.cpu.push(first.cpu_micros_each());
        // Again on the same open store: every board checked, sled's cache warm (as the
        // open check before ADR 0006 left it for the first pass).
        let again = over_threads(boards, threads, |made| replay_board(&engine, made))?;
        replays.second.push(again.per_second());
        replays.second_cpu.push(again.cpu_micros_each());
        let single = over_threads(&boards[..boards.len().min(10)], 1, |made| replay_board(&engine, made))?;
        replays.single.push(single.per_second());
        drop(engine);
        // sled lets go of its lock from background threads a moment after the last handle.
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(replays)
}

/// What `kipina serve` does to its store at a clean stop (ADR 0008): asks the store how many
/// events are outside chunks once its background check has counted them, and rewrites it if
/// the server's default policy says so. Returns the rewrite's report and seconds, or `None`
/// when the policy says no.
fn tidy_as_a_stop_would(data: &DataDir) -> anyhow::Result<Option<(RewriteReport, f64)>> {
    let dir = data.events();
    let estimate = {
        let store = SledStore::open(&dir, StoreOptions::default())?;
        store.wait_for_background_check();
        store.tidy_estimate()
    };
    // sled lets go of its lock from background threads a moment after the last handle.
    std::thread::sleep(Duration::from_millis(200));
    let db_bytes = std::fs::metadata(dir.join("db"))?.len();
    let Some(estimate) = estimate else { anyhow::bail!("the store did not count its events outside chunks") };
    if let Err(why) = TidyPolicy::default().decide(estimate, db_bytes) {
        crate::progress(&format!("cold-start: a clean stop would not tidy this data set: {why}"));
        return Ok(None);
    }
    let started = Instant::now();
    let report = rewrite(&dir)?;
    Ok(Some((report, started.elapsed().as_secs_f64())))
}

/// The bytes of every file under `dir`.
fn directory_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() { directory_size(&entry.path())? } else { metadata.len() };
    }
    Ok(total)
}
