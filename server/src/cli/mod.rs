//! The `kipina` command line. `main.rs` only parses and calls [`run`].

mod boards;
mod demo;
mod serve;
mod transfer;

use crate::data_dir::DataDir;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Kipinä: a real-time, event-sourced collaboration board for workshops.
#[derive(Debug, Parser)]
#[command(name = "kipina", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CommandLine>,
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Serves the boards over HTTP and WebSocket (the default command).
    Serve(ServeArgs),
    /// Lists the boards in a data directory: id, title, events, last change.
    Boards {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA", default_value = "kipina-data")]
        data: PathBuf,
    },
    /// Creates the Finnish demo board if the data directory has no boards, then prints the boards.
    Demo {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA", default_value = "kipina-data")]
        data: PathBuf,
    },
    /// Exports a board: a Markdown summary, a CSV table, an Excel workbook, a Word report, or its
    /// whole event log as JSON (which `import-log` restores).
    Export {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
        /// The board's id.
        #[arg(long)]
        board: kipina_proto::BoardId,
        /// md, csv, xlsx, docx or json.
        #[arg(long)]
        format: String,
        /// Only what happened in this session.
        #[arg(long)]
        session: Option<kipina_proto::SessionId>,
        /// The file to write (standard output when left out).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restores a board's JSON event log into a data directory that does not have the board;
    /// prints the board's id.
    ImportLog {
        /// The log file, as written by `kipina export --format json`.
        file: PathBuf,
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
    },
    /// Imports boards from other tools.
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
    /// Rewrites the event log with each board's older events in chunks, so boards load faster
    /// (ADR 0008). Run it while the server is stopped; it checks everything first and swaps the
    /// rewritten log in only once it verifies.
    Compact {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
    },
    /// Checks a data directory: checksums, gap-free sequences, decodable payloads, snapshots.
    /// Exits 0 when intact, 1 when damaged, 2 when it cannot check.
    Verify {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
    },
}

/// Where `kipina import` takes boards from.
#[derive(Debug, Subcommand)]
pub enum ImportFrom {
    /// A Trello board's JSON export (Menu → Print, export and share → Export as JSON); prints the
    /// new board's id and what could not be brought.
    Trello {
        /// The Trello JSON file.
        file: PathBuf,
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
        /// The name of the facilitator the board is imported for.
        #[arg(long, default_value = "Trello-tuonti")]
        name: String,
    },
}

/// Options of `kipina serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// The data directory; created, with the demo board, when empty.
    #[arg(long, env = "KIPINA_DATA", default_value = "kipina-data")]
    pub data: PathBuf,
    /// The address to listen on.
    #[arg(long, env = "KIPINA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// The address people use to reach the server, for links (default: http:// + the bound address).
    #[arg(long, env = "KIPINA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Other origins allowed to open WebSockets (comma-separated).
    #[arg(long, env = "KIPINA_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Do not create the demo board in an empty data directory.
    #[arg(long, env = "KIPINA_NO_DEMO")]
    pub no_demo: bool,
    /// Commands one participant may send per second, over all their connections and HTTP (bursts of twice as many).
    #[arg(long, env = "KIPINA_MAX_COMMANDS_PER_SECOND", default_value_t = 20)]
    pub max_commands_per_second: u32,
    /// Rewrite older events into chunks once the event store has written nothing for this many
    /// milliseconds (0: also while changes keep coming), so boards load faster. Off when not
    /// given: it makes the event store's file several times larger (ADR 0008).
    #[arg(long, env = "KIPINA_COMPACT_WHEN_QUIET_MS")]
    pub compact_when_quiet_ms: Option<u64>,
    /// Do not tidy the event store when the server stops. By default a clean stop rewrites it
    /// with older events in chunks (as `kipina compact` does) once enough have gathered and the
    /// rewrite should take under 30 s, so boards load faster at the next start (ADR 0008).
    #[arg(long, env = "KIPINA_NO_TIDY_AT_STOP")]
    pub no_tidy_at_stop: bool,
    /// The fewest events outside chunks (and at least a quarter of all) for the tidying at a stop.
    #[arg(long, env = "KIPINA_TIDY_AT_STOP_MIN_EVENTS", default_value_t = 10_000)]
    pub tidy_at_stop_min_events: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        // Parsing no arguments gives the documented defaults (and reads KIPINA_* variables).
        Cli::parse_from(["kipina", "serve"])
            .command
            .and_then(|command| if let CommandLine::Serve(args) = command { Some(args) } else { None })
            .unwrap_or_else(|| unreachable!("`kipina serve` parses as serve"))
    }
}

/// The `kipina` program: logs to standard error (filtered by `KIPINA_LOG`), parses the command
/// line and runs it. The crash trials run this same entry point as a child process.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KIPINA_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    run(Cli::parse())
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or_else(|| CommandLine::Serve(ServeArgs::default())) {
        CommandLine::Serve(args) => report(serve::run(args)),
        CommandLine::Boards { data } => report(boards::run(&DataDir::new(data))),
        CommandLine::Demo { data } => report(demo::run(&DataDir::new(data))),
        CommandLine::Verify { data } => verify(&DataDir::new(data)),
        CommandLine::Compact { data } => report(compact(&DataDir::new(data))),
        CommandLine::Export { data, board, format, session, out } => {
            report(transfer::export(&DataDir::new(data), board, &format, session, out.as_deref()))
        }
        CommandLine::ImportLog { file, data } => report(transfer::import_log(&DataDir::new(data), &file)),
        CommandLine::Import { from: ImportFrom::Trello { file, data, name } } => {
            report(transfer::import_trello(&DataDir::new(data), &file, &name))
        }
    }
}

fn verify(data: &DataDir) -> ExitCode {
    match crate::verify::verify(data) {
        Ok(report) => {
            let _ = writeln!(std::io::stdout().lock(), "{report}");
            if report.is_intact() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "kipina verify: {error}");
            ExitCode::from(2)
        }
    }
}

/// Prints a command's output or its error with the whole cause chain.
fn report(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(output) => {
            // An export written to standard output has printed itself.
            if !output.is_empty() {
                let _ = writeln!(std::io::stdout().lock(), "{output}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "kipina: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `kipina compact`: the event log rewritten with its events in chunks.
fn compact(data: &DataDir) -> anyhow::Result<String> {
    let events = data.events();
    anyhow::ensure!(events.join("db").exists(), "{} has no event log", data.root().display());
    let started = std::time::Instant::now();
    let report = crate::store::sled_store::rewrite(&events)?;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    Ok(format!(
        "Rewrote {} events in {:.1} s (boards: {}): {} of them in {} chunks. The event log's file went from \
         {:.1} MiB to {:.1} MiB.",
        report.events,
        started.elapsed().as_secs_f64(),
        report.boards,
        report.chunked_events,
        report.chunks,
        mib(report.bytes_before),
        mib(report.bytes_after)
    ))
}
