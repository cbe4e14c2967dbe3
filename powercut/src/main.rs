//! `kipina-powercut`: mounts the power-cut file system and takes commands on standard input.
//!
//! ```text
//! kipina-powercut --backing B --mount M [--lenient]
//!   then, one per line:
//!   cut IMAGE [lost|prefix|subset] [torn] [entries-prefix|entries-per-directory] [seed N]
//!                                                   power off, unmount, write what survived to IMAGE
//!   unmount                                         unmount cleanly (B holds everything written)
//!   fail-syncs on|off                               fsync/fdatasync answer EIO
//!   space BYTES|none                                writes beyond BYTES more answer ENOSPC
//!   flip-reads PATH|* FROM TO | flip-reads off      reads of PATH (or all) inverted at FROM..TO
//!   status                                          counters: syncs, failed syncs, refused writes
//! ```
//!
//! End of input unmounts cleanly. Stop the program that uses the mount (SIGKILL, for a power
//! cut) before `cut`: the mount must be free to unmount.

use clap::Parser;
use kipina_powercut::{Cut, Entries, FlipReads, Mode, PowerCut, Unsynced};
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(about = "A FUSE file system that can lose power (see the crate documentation for the model)")]
struct Args {
    /// The directory that holds the files (its content counts as durable).
    #[arg(long)]
    backing: PathBuf,
    /// Where to mount (an empty directory).
    #[arg(long)]
    mount: PathBuf,
    /// Directory changes are durable at once (default: only after an fsync of the directory).
    #[arg(long)]
    lenient: bool,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn parse_cut(words: &[&str]) -> Result<(PathBuf, Cut), String> {
    let image = words.first().ok_or("cut: where to write the image?")?;
    let mut cut = Cut::lose_everything_unsynced();
    let mut rest = words[1..].iter();
    while let Some(word) = rest.next() {
        match *word {
            "lost" => cut.unsynced = Unsynced::Lost,
            "prefix" => cut.unsynced = Unsynced::Prefix,
            "subset" => cut.unsynced = Unsynced::Subset,
            "torn" => cut.torn = true,
            "entries-prefix" => cut.entries = Entries::Prefix,
            "entries-per-directory" => cut.entries = Entries::PerDirectory,
            "seed" => cut.seed = rest.next().and_then(|seed| seed.parse().ok()).ok_or("seed: a number")?,
            other => return Err(format!("cut: unknown word {other:?}")),
        }
    }
    Ok((PathBuf::from(image), cut))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mode = if args.lenient { Mode::Lenient } else { Mode::Strict };
    let fs = match PowerCut::mount(&args.backing, &args.mount, mode) {
        Ok(fs) => fs,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "cannot mount {}: {error}", args.mount.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    say(&format!("mounted {} over {} ({mode:?})", args.mount.display(), args.backing.display()));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["cut", rest @ ..] => match parse_cut(rest) {
                Ok((image, cut)) => {
                    match fs.cut(&image, &cut) {
                        Ok(report) => say(&format!("cut into {}: {report:#?}", image.display())),
                        Err(error) => say(&format!("cut failed: {error}")),
                    }
                    return std::process::ExitCode::SUCCESS;
                }
                Err(error) => say(&error),
            },
            ["unmount"] => break,
            ["fail-syncs", on] => fs.faults().fail_syncs(*on == "on"),
            ["space", "none"] => fs.faults().limit_space(None),
            ["space", bytes] => match bytes.parse() {
                Ok(bytes) => fs.faults().limit_space(Some(bytes)),
                Err(_) => say("space: a number of bytes, or none"),
            },
            ["flip-reads", "off"] => fs.faults().flip_reads(None),
            ["flip-reads", file, from, to] => match (from.parse(), to.parse()) {
                (Ok(from), Ok(to)) => fs.faults().flip_reads(Some(FlipReads {
                    file: (*file != "*").then(|| PathBuf::from(file)),
                    offsets: from..to,
                })),
                _ => say("flip-reads: PATH|* FROM TO"),
            },
            ["status"] => say(&format!(
                "syncs {}, failed syncs {}, refused writes {}",
                fs.faults().syncs(),
                fs.faults().failed_syncs(),
                fs.faults().refused_writes()
            )),
            _ => say(&format!("unknown command {line:?}")),
        }
    }
    match fs.unmount() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "unmount: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
