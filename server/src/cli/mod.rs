//! The `kipina` command line. `main.rs` only parses and calls [`run`].

mod boards;
mod demo;
mod serve;

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
    /// Checks a data directory: checksums, gap-free sequences, decodable payloads, snapshots.
    /// Exits 0 when intact, 1 when damaged, 2 when it cannot check.
    Verify {
        /// The data directory.
        #[arg(long, env = "KIPINA_DATA")]
        data: PathBuf,
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
    /// Commands one connection may send per second.
    #[arg(long, env = "KIPINA_MAX_COMMANDS_PER_SECOND", default_value_t = 20)]
    pub max_commands_per_second: u32,
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

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or_else(|| CommandLine::Serve(ServeArgs::default())) {
        CommandLine::Serve(args) => report(serve::run(args)),
        CommandLine::Boards { data } => report(boards::run(&DataDir::new(data))),
        CommandLine::Demo { data } => report(demo::run(&DataDir::new(data))),
        CommandLine::Verify { data } => verify(&DataDir::new(data)),
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
            let _ = writeln!(std::io::stdout().lock(), "{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "kipina: {error:#}");
            ExitCode::FAILURE
        }
    }
}
