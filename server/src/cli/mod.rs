//! The `kipina` command line. `main.rs` only parses and calls [`run`].

mod demo;

use crate::data_dir::DataDir;
use clap::{Parser, Subcommand};
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
    /// Creates the Finnish demo board if the data directory has no boards, then lists the boards.
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

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(CommandLine::Demo { data: PathBuf::from("kipina-data") });
    match command {
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
