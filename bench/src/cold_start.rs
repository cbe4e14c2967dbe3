//! `kipina-bench cold-start`: a data directory with 1,000,000 events over 100 boards (made by the
//! real engine, see `dataset`), then, in rounds, a fresh server process over it: the time until it
//! answers `/health` and until it serves a board (`GET /api/boards/{id}`, which loads the board
//! from its snapshot plus the events after it), with the snapshots the engine wrote and with the
//! snapshot directory emptied. Then a full replay of every board from the log (read, checksum,
//! unseal, upcast, decode, `evolve`) in this process, next to a raw scan of sled's entries: first
//! right after opening (each board's first use, so its records are checked first and sled loads
//! its nodes, ADR 0006), then a second pass on the same open store (what the full open check
//! before ADR 0006 left the first pass: every record checked and in sled's cache).
//!
//! The page cache is warm (the data was just written, and is read again each round): this is a
//! server restart, not a machine boot.

use crate::baseline_sled;
use crate::child::{ChildServer, get_ok};
use crate::dataset::{self, DatasetSpec, MadeBoard};
use crate::summary::{Row, Section, Stats, millis};
use anyhow::Context as _;
use kipina_domain::BoardState;
use kipina_server::data_dir::DataDir;
use kipina_server::engine::Engine;
use kipina_server::store::EventStore;
use serde::Serialize;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct ColdStartOptions {
    pub boards: usize,
    pub events_per_board: u64,
    /// Server starts per variant (with and without snapshots), and full replays.
    pub rounds: usize,
}

impl ColdStartOptions {
    pub fn full() -> Self {
        Self { boards: 100, events_per_board: 10_000, rounds: 5 }
    }

    pub fn quick() -> Self {
        Self { boards: 10, events_per_board: 1_000, rounds: 2 }
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

/// Splits the boards over `threads` threads and runs `work` on each share; sums what it counts.
fn over_threads(
    boards: &[MadeBoard],
    threads: usize,
    work: impl Fn(&MadeBoard) -> anyhow::Result<u64> + Sync,
) -> anyhow::Result<(u64, Duration)> {
    let started = Instant::now();
    let work = &work;
    let counted = std::thread::scope(|scope| -> anyhow::Result<u64> {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                scope.spawn(move || -> anyhow::Result<u64> {
                    boards.iter().skip(thread).step_by(threads).map(work).sum()
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().map_err(|_| anyhow::anyhow!("a thread panicked"))?).sum()
    })?;
    Ok((counted, started.elapsed()))
}

/// Replays one board from its first event: every event read, checked, unsealed, decoded, folded.
fn replay_board(engine: &Engine, made: &MadeBoard) -> anyhow::Result<u64> {
    let head = engine.store().head(made.board)?;
    let mut state = BoardState::default();
    engine.catch_up_to(made.board, &mut state, head)?;
    anyhow::ensure!(state.version == head, "replayed to {} of {head}", state.version);
    Ok(head)
}

/// What the replay rounds measured: the engine's open (ms), and events per second of the first
/// replay after opening, of a second one on the same store, and of one thread.
struct Replays {
    open_ms: Vec<f64>,
    rates: Vec<f64>,
    second: Vec<f64>,
    single: Vec<f64>,
}

/// Reads one board's entries straight from sled, decoding nothing.
fn scan_board(db: &sled::Db, made: &MadeBoard) -> anyhow::Result<u64> {
    let mut entries = 0;
    let mut bytes = 0;
    for item in db.scan_prefix(kipina_server::store::record::event_prefix(made.board)) {
        let (key, value) = item?;
        entries += 1;
        bytes += key.len() + value.len();
    }
    anyhow::ensure!(bytes > 0 || entries == 0, "empty entries");
    Ok(entries)
}

pub async fn run(options: &ColdStartOptions) -> anyhow::Result<Section> {
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let data = DataDir::new(scratch.path().join("data"));
    let spec = DatasetSpec {
        boards: options.boards,
        participants: 20,
        cards_per_board: usize::MAX,
        comments_per_card: 1,
        votes_per_card: 1,
        withdraw_votes: true,
        events_per_board: Some(options.events_per_board),
    };
    let generating = data.clone();
    let dataset = tokio::task::spawn_blocking(move || dataset::generate(&generating, spec)).await??;
    crate::progress(&format!(
        "cold-start: made {} events over {} boards in {:.1} s",
        dataset.events, dataset.spec.boards, dataset.seconds_to_make
    ));
    let tokens = dataset::issue_tokens(&data, &dataset.boards[..1])?;
    let first = dataset.boards[0];
    let disk_bytes = directory_size(&data.events())?;

    let mut with_snapshots = Starts::default();
    for _ in 0..options.rounds {
        start_once(data.root(), &first, &tokens[0], &mut with_snapshots).await?;
    }
    let mut without_snapshots = Starts::default();
    for _ in 0..options.rounds {
        remove_snapshots(&data)?;
        start_once(data.root(), &first, &tokens[0], &mut without_snapshots).await?;
    }

    // Full replays in this process, then raw scans of the same entries.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let rounds = options.rounds;
    let boards = dataset.boards.clone();
    let replay_data = data.clone();
    let Replays { open_ms, rates: replay_rates, second: second_pass_rates, single: single_thread_rates } =
        tokio::task::spawn_blocking(move || -> anyhow::Result<Replays> {
            let mut open_ms = Vec::new();
            let mut rates = Vec::new();
            let mut second = Vec::new();
            let mut single = Vec::new();
            for _ in 0..rounds {
                let opened = Instant::now();
                let engine = Engine::open(&replay_data)?;
                open_ms.push(millis(opened.elapsed()));
                let (events, elapsed) = over_threads(&boards, threads, |made| replay_board(&engine, made))?;
                rates.push(events as f64 / elapsed.as_secs_f64());
                // Again on the same open store: every board checked, sled's cache warm (as the
                // open check before ADR 0006 left it for the first pass).
                let (events, elapsed) = over_threads(&boards, threads, |made| replay_board(&engine, made))?;
                second.push(events as f64 / elapsed.as_secs_f64());
                let (events, elapsed) =
                    over_threads(&boards[..boards.len().min(10)], 1, |made| replay_board(&engine, made))?;
                single.push(events as f64 / elapsed.as_secs_f64());
                drop(engine);
                // sled lets go of its lock from background threads a moment after the last handle.
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(Replays { open_ms, rates, second, single })
        })
        .await??;
    let scan_dir = data.events();
    let boards = dataset.boards.clone();
    let scan_rates = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<f64>> {
        let db = baseline_sled::open(&scan_dir)?;
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let (entries, elapsed) = over_threads(&boards, threads, |made| scan_board(&db, made))?;
            rates.push(entries as f64 / elapsed.as_secs_f64());
        }
        Ok(rates)
    })
    .await??;

    let open_floor = Stats::lower_is_better(&open_ms);
    let ready_with = Stats::lower_is_better(&with_snapshots.board_ms);
    let ready_without = Stats::lower_is_better(&without_snapshots.board_ms);
    let replay = Stats::higher_is_better(&replay_rates);
    let case = format!("{} ev, {} boards", dataset.events, options.boards);
    let rows = vec![
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
        Row::new("cold", &case, format!("full replay, {threads} thr."), "ev/s")
            .kipina(replay)
            .baseline(format!("raw sled scan, {threads} thr."), Stats::higher_is_better(&scan_rates))
            .target(">= 700,000 ev/s", replay.median >= 700_000.0),
        Row::new("cold", &case, format!("replay again, {threads} thr."), "ev/s")
            .kipina(Stats::higher_is_better(&second_pass_rates))
            .baseline("first replay after opening", replay),
    ];
    let details = json!({
        "options": options,
        "dataset": {
            "events": dataset.events,
            "boards": dataset.boards.len(),
            "spec": dataset.spec,
            "seconds_to_make": dataset.seconds_to_make,
            "event_store_bytes_on_disk": disk_bytes,
        },
        "with_snapshots": with_snapshots,
        "without_snapshots": without_snapshots,
        "engine_open_ms": open_ms,
        "replay_events_per_second": replay_rates,
        "replay_second_pass_events_per_second": second_pass_rates,
        "replay_threads": threads,
        "replay_single_thread_events_per_second_first_10_boards": single_thread_rates,
        "raw_sled_scan_entries_per_second": scan_rates,
    });
    Ok(Section { benchmark: "cold-start", rows, details })
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
