//! `kipina-bench`: benchmarks of the live server, each run against a hand-written baseline in the
//! same process on loopback, so the ratio says what Kipinä's own work costs on this machine.
//! See `BENCHMARKS.md` for what each number means and the figures measured.
//!
//! Printing the table is this program's job, hence the allowance below.
#![allow(clippy::print_stdout)]

mod baseline_ws;
mod clients;
mod fanout;
mod report;
mod server_thread;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "kipina-bench", about = "Benchmarks of the Kipinä server against bare baselines")]
struct Cli {
    #[command(subcommand)]
    benchmark: Benchmark,
}

#[derive(Debug, Subcommand)]
enum Benchmark {
    /// Live fan-out: one writer's change reaching N WebSocket readers, Kipinä against bare actix-ws.
    Fanout(FanoutArgs),
}

#[derive(Debug, Args)]
struct FanoutArgs {
    /// Reader connections.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Measured rounds (one change each, sent after the previous one reached everyone).
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Rounds run first and left out of the figures: a new connection's first messages can
    /// wait for a delayed TCP acknowledgement (about 40 ms), on either server.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// A few seconds' check that the benchmark still works: 20 clients, 20 rounds.
    #[arg(long, conflicts_with_all = ["clients", "rounds"])]
    quick: bool,
    /// Where the figures are written as JSON.
    #[arg(long, default_value = "target/bench/fanout.json")]
    json: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().benchmark {
        Benchmark::Fanout(args) => {
            let options = if args.quick {
                fanout::FanoutOptions { clients: 20, rounds: 20, warmup: args.warmup }
            } else {
                fanout::FanoutOptions { clients: args.clients, rounds: args.rounds, warmup: args.warmup }
            };
            anyhow::ensure!(options.clients > 0 && options.rounds > 0, "--clients and --rounds must be at least 1");
            println!(
                "fan-out: {} readers, {} rounds after {} warm-up rounds",
                options.clients, options.rounds, options.warmup
            );
            let report = fanout::run(&options).await?;
            print!("{}", report.table());
            report.write_json(&args.json)?;
            println!("figures written to {}", args.json.display());
        }
    }
    Ok(())
}
