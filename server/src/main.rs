//! The `kipina` binary: parses the command line and hands over to `kipina_server::cli`.

use clap::Parser;
use kipina_server::cli::{Cli, run};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KIPINA_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    run(Cli::parse())
}
