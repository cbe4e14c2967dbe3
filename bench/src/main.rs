//! `kipina-bench`: benchmarks of the Kipinä server, each next to baselines measured in the same
//! run on the same machine (the disk's fsync floor, raw sled, SQLite, a bare actix-ws broadcast),
//! so the ratios say what Kipinä's own work costs here. See `BENCHMARKS.md` for what each number
//! means and the figures measured.
//!
//! Every run prints one table (median and p99 of each figure, its baseline, the ratio and the
//! target) and writes the same figures, with per-round details, as JSON.
//!
//! Printing the table and progress is this program's job, hence the allowances below.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod appends;
mod baseline_disk;
mod baseline_sled;
mod baseline_sqlite;
mod baseline_ws;
mod child;
mod clients;
mod cold_start;
mod cpu;
mod dataset;
mod fanout;
mod memory;
mod report;
mod search;
mod server_thread;
mod storm;
mod summary;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Instant;
use summary::{Machine, Report, Section};

#[derive(Debug, Parser)]
#[command(name = "kipina-bench", about = "Benchmarks of the Kipinä server against baselines measured in the same run")]
struct Cli {
    #[command(subcommand)]
    benchmark: Benchmark,
}

#[derive(Debug, Subcommand)]
enum Benchmark {
    /// Everything below, one after another, in one table.
    All(Common),
    /// Durable appends for 1, 16 and 256 writers; fsync floor, raw sled and SQLite baselines.
    Appends(AppendsArgs),
    /// Live fan-out: one writer's change reaching N WebSocket readers, Kipinä against bare actix-ws.
    Fanout(FanoutArgs),
    /// A vote storm: 300 clients cast their whole budget at once on one board.
    Storm(StormArgs),
    /// Cold start over 1,000,000 events (with and without snapshots) and full replay.
    ColdStart(ColdStartArgs),
    /// Resident memory of a server holding 50 boards of 500 cards.
    Memory(Common),
    /// Search on a 10,000-card board: index build, query latency in-process and over HTTP.
    Search(Common),
    /// Serves a data directory until standard input closes (the child process of `cold-start`
    /// and `memory`).
    #[command(hide = true)]
    ServeData { data: PathBuf },
}

#[derive(Debug, Args)]
struct Common {
    /// Small sizes, a check that everything still runs (well under 2 minutes for `all`).
    #[arg(long)]
    quick: bool,
    /// Where the figures are written as JSON (default `target/bench/NAME.json`, or
    /// `target/bench/NAME-quick.json` with `--quick`).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ColdStartArgs {
    #[command(flatten)]
    common: Common,
    /// Keep the data set in this directory and use it again on later runs with the same sizes,
    /// instead of making it afresh in a temporary directory (which takes a minute or two).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only the full replays (and the raw scan they are compared with): no server starts.
    #[arg(long)]
    replay_only: bool,
    /// Rewrite the data set's events into chunks first (ADR 0008; the store's compaction, off
    /// by default), and measure that. It rewrites the kept data set (`--data`) in place.
    #[arg(long)]
    compact: bool,
}

#[derive(Debug, Args)]
struct AppendsArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent writers; repeat for several cases (default 1, 16 and 256).
    #[arg(long)]
    writers: Vec<usize>,
}

#[derive(Debug, Args)]
struct StormArgs {
    #[command(flatten)]
    common: Common,
    /// Rounds (vote openings; default 5, 1 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Spread each round's votes evenly over this many milliseconds, each client's one at a
    /// time, instead of sending them all at the signal.
    #[arg(long, default_value_t = 0)]
    spread_ms: u64,
}

#[derive(Debug, Args)]
struct FanoutArgs {
    #[command(flatten)]
    common: Common,
    /// Reader connections; repeat for several sizes (default 100, 300 and 1000; 20 with --quick).
    #[arg(long)]
    clients: Vec<usize>,
    /// Measured rounds per size, for each server (one change each, sent after the previous one
    /// reached everyone; default 1,000, and 300 for 1,000 readers or more).
    #[arg(long)]
    rounds: Option<usize>,
    /// Rounds run first and left out of the figures: a new connection's first messages can
    /// wait for a delayed TCP acknowledgement (about 40 ms), on either server.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
}

/// A line about what is running, on standard error so the table stays alone on standard output.
pub fn progress(line: &str) {
    eprintln!("[kipina-bench] {line}");
}

/// The fan-out sizes and rounds for a run.
fn fanout_runs(args: Option<&FanoutArgs>, quick: bool) -> Vec<fanout::FanoutOptions> {
    let warmup = args.map_or(10, |args| args.warmup);
    let clients = match args {
        Some(args) if !args.clients.is_empty() => args.clients.clone(),
        _ if quick => vec![20],
        _ => vec![100, 300, 1000],
    };
    clients
        .into_iter()
        .map(|clients| {
            // Enough rounds that p99 is not the slowest round or two (10th slowest of 1,000).
            let default_rounds = if quick {
                20
            } else if clients >= 1000 {
                300
            } else {
                1000
            };
            let rounds = args.and_then(|args| args.rounds).unwrap_or(default_rounds);
            fanout::FanoutOptions { clients, rounds, warmup }
        })
        .collect()
}

async fn fanout_section(runs: &[fanout::FanoutOptions]) -> anyhow::Result<Section> {
    let mut rows = Vec::new();
    let mut reports = Vec::new();
    for options in runs {
        anyhow::ensure!(options.clients > 0 && options.rounds > 0, "--clients and --rounds must be at least 1");
        progress(&format!(
            "fanout: {} readers, {} rounds after {} warm-up rounds",
            options.clients, options.rounds, options.warmup
        ));
        let report = fanout::run(options).await?;
        eprint!("{}", report.table());
        rows.extend(fanout::rows(&report));
        reports.push(report);
    }
    Ok(Section { benchmark: "fanout", rows, details: serde_json::to_value(&reports)? })
}

async fn appends_section(quick: bool, writers: &[usize]) -> anyhow::Result<Section> {
    let mut options = if quick { appends::AppendsOptions::quick() } else { appends::AppendsOptions::full() };
    if !writers.is_empty() {
        anyhow::ensure!(writers.iter().all(|writers| *writers > 0), "--writers must be at least 1");
        options.writers = writers.to_vec();
    }
    progress(&format!("appends: writers {:?}, {} rounds", options.writers, options.rounds));
    appends::run(&options).await
}

async fn storm_section(quick: bool, rounds: Option<usize>, spread_ms: u64) -> anyhow::Result<Section> {
    let mut options = if quick { storm::StormOptions::quick() } else { storm::StormOptions::full() };
    if let Some(rounds) = rounds {
        options.rounds = rounds.max(1);
    }
    options.spread = std::time::Duration::from_millis(spread_ms);
    progress(&format!("storm: {} clients, {} rounds", options.clients, options.rounds));
    storm::run(&options).await
}

async fn cold_start_section(quick: bool, args: Option<&ColdStartArgs>) -> anyhow::Result<Section> {
    let mut options = if quick { cold_start::ColdStartOptions::quick() } else { cold_start::ColdStartOptions::full() };
    if let Some(args) = args {
        options.data.clone_from(&args.data);
        options.replay_only = args.replay_only;
        options.compact = args.compact;
    }
    progress(&format!(
        "cold-start: {} boards x {} events, {} rounds (making the data takes a while)",
        options.boards, options.events_per_board, options.rounds
    ));
    cold_start::run(&options).await
}

async fn memory_section(quick: bool) -> anyhow::Result<Section> {
    let options = if quick { memory::MemoryOptions::quick() } else { memory::MemoryOptions::full() };
    progress(&format!(
        "memory: {} boards x {} cards, {} rounds",
        options.boards, options.cards_per_board, options.rounds
    ));
    memory::run(&options).await
}

async fn search_section(quick: bool) -> anyhow::Result<Section> {
    let options = if quick { search::SearchOptions::quick() } else { search::SearchOptions::full() };
    progress(&format!(
        "search: {} cards with {} comments each, {} rounds per query (making the board takes a while)",
        options.cards, options.comments_per_card, options.query_rounds
    ));
    search::run(&options).await
}

/// The allocator the `kipina` binary runs with, so that the store is measured as it serves; the
/// baselines in this process use it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let (name, common, sections) = match &cli.benchmark {
        Benchmark::ServeData { data } => return child::serve(data.clone()).await,
        Benchmark::All(common) => {
            let quick = common.quick;
            let sections = vec![
                appends_section(quick, &[]).await?,
                fanout_section(&fanout_runs(None, quick)).await?,
                storm_section(quick, None, 0).await?,
                cold_start_section(quick, None).await?,
                memory_section(quick).await?,
                search_section(quick).await?,
            ];
            ("all", common, sections)
        }
        Benchmark::Appends(args) => {
            ("appends", &args.common, vec![appends_section(args.common.quick, &args.writers).await?])
        }
        Benchmark::Fanout(args) => {
            ("fanout", &args.common, vec![fanout_section(&fanout_runs(Some(args), args.common.quick)).await?])
        }
        Benchmark::Storm(args) => {
            ("storm", &args.common, vec![storm_section(args.common.quick, args.rounds, args.spread_ms).await?])
        }
        Benchmark::ColdStart(args) => {
            ("cold-start", &args.common, vec![cold_start_section(args.common.quick, Some(args)).await?])
        }
        Benchmark::Memory(common) => ("memory", common, vec![memory_section(common.quick).await?]),
        Benchmark::Search(common) => ("search", common, vec![search_section(common.quick).await?]),
    };
    let mode = if common.quick { "quick" } else { "full" };
    let machine = Machine::describe();
    let report = Report {
        suite: "kipina-bench",
        command: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        mode,
        machine,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        rows: sections.iter().flat_map(|section| section.rows.clone()).collect(),
        sections,
    };
    println!(
        "kipina-bench {} ({mode} mode), {:.0} s; {}",
        report.command,
        report.elapsed_seconds,
        report.machine.line()
    );
    println!("medians and p99 over rounds; for rates p99 is the slow tail (the rate 99% of rounds reached)");
    print!("{}", summary::table(&report.rows));
    let json = common.json.clone().unwrap_or_else(|| {
        let suffix = if common.quick { "-quick" } else { "" };
        PathBuf::from(format!("target/bench/{name}{suffix}.json"))
    });
    report.write_json(&json)?;
    println!("figures written to {}", json.display());
    Ok(())
}
