//! `kipina export`, `kipina import-log` and `kipina import trello`: getting boards out of and
//! into a data directory while no server holds it.

use crate::access::AccessStore;
use crate::data_dir::DataDir;
use crate::engine::Engine;
use crate::export::{self, Format};
use anyhow::{Context as _, anyhow};
use kipina_proto::{BoardId, Role, SessionId};
use std::io::Write;
use std::path::{Path, PathBuf};

fn open(data: &DataDir) -> anyhow::Result<Engine> {
    Engine::open(data).with_context(|| format!("opening {}", data.root().display()))
}

/// Writes an export to `out`, or to standard output.
pub(super) fn export(
    data: &DataDir,
    board: BoardId,
    format: &str,
    session: Option<SessionId>,
    out: Option<&Path>,
) -> anyhow::Result<String> {
    let format =
        Format::parse(format).ok_or_else(|| anyhow!("unknown format {format:?}: use md, csv, xlsx, docx or json"))?;
    let engine = open(data)?;
    let now = crate::clock::now();
    let bytes = match format {
        Format::Json => {
            let log = export::log::export(&engine, board, now)?;
            let mut bytes = serde_json::to_vec_pretty(&log)?;
            bytes.push(b'\n');
            bytes
        }
        _ => {
            let state = engine.load(board)?;
            export::document(board, &state, format, session, now)?
        }
    };
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            Ok(format!("Wrote {} ({} bytes).", path.display(), bytes.len()))
        }
        None => {
            std::io::stdout().lock().write_all(&bytes)?;
            Ok(String::new())
        }
    }
}

/// The facilitator link of a board, as a path on whatever address the server is reached at.
fn facilitator_path(data: &DataDir, board: BoardId) -> anyhow::Result<String> {
    let access = AccessStore::open(&data.root().join("access")).context("opening the access records")?;
    access.register_board(board).context("registering the board's links")?;
    Ok(access.link_path(board, Role::Facilitator))
}

pub(super) fn import_log(data: &DataDir, file: &PathBuf) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let log = export::log::parse(&bytes)?;
    let engine = open(data)?;
    let (board, head) = export::log::restore(&engine, log)?;
    let path = facilitator_path(data, board)?;
    Ok(format!("{board}\nRestored {head} events. Join as a facilitator at {{server}}{path}"))
}

pub(super) fn import_trello(data: &DataDir, file: &PathBuf, name: &str) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let engine = open(data)?;
    let (report, _) = crate::import::trello::import(&engine, &bytes, name, crate::clock::now())?;
    let board = report.board.ok_or_else(|| anyhow!("no board was created"))?;
    let path = facilitator_path(data, board)?;
    let mut output = format!(
        "{board}\nImported {} lists, {} cards, {} comments, {} labels, {} likes. Join as a facilitator at {{server}}{path}",
        report.columns, report.cards, report.comments, report.labels, report.likes
    );
    for line in &report.not_imported {
        output.push_str(&format!("\nNot imported: {line}"));
    }
    Ok(output)
}
