//! Getting outcomes out: a board as a Markdown summary, a CSV table, an Excel workbook, a Word
//! report, or its whole event log as JSON. The document formats are written from one
//! [`Report`](report::Report), gathered from what any participant may see (no hidden dots, no
//! anonymous authors); each format is written by a crate made for it.

mod document;
pub mod log;
mod markdown;
pub mod report;
pub mod table;
mod words;
mod workbook;

use kipina_domain::BoardState;
use kipina_proto::{BoardId, SessionId, Timestamp};

/// The formats a board can be exported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Csv,
    Xlsx,
    Docx,
    Json,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Markdown, Format::Csv, Format::Xlsx, Format::Docx, Format::Json];

    /// The name used on the command line and in URLs (`md`, `csv`, `xlsx`, `docx`, `json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Docx => "docx",
            Format::Json => "json",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name() == name)
    }

    /// Whether the file is a zip archive (compressed already).
    pub fn is_zip(self) -> bool {
        matches!(self, Format::Xlsx | Format::Docx)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Json => "application/json",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no such board")]
    NoBoard,
    #[error("no such session on this board")]
    NoSession,
    #[error("the board could not be read: {0}")]
    Read(String),
    #[error("the export could not be written: {0}")]
    Write(String),
}

/// A document export of `state` (every format but the log, which reads the store).
pub fn document(
    board: BoardId,
    state: &BoardState,
    format: Format,
    session: Option<SessionId>,
    now: Timestamp,
) -> Result<Vec<u8>, ExportError> {
    if state.info.is_none() {
        return Err(ExportError::NoBoard);
    }
    let report = report::Report::of(board, state, session, now).ok_or(ExportError::NoSession)?;
    match format {
        Format::Markdown => markdown::write(&report),
        Format::Csv => table::write(&report),
        Format::Xlsx => workbook::write(&report),
        Format::Docx => document::write(&report),
        Format::Json => Err(ExportError::Write("the log is exported from the store".into())),
    }
}

/// A file name for the export: the board's title in plain ASCII (so it fits an HTTP header and
/// every file system), the date and the extension.
pub fn file_name(title: &str, format: Format, now: Timestamp) -> String {
    let safe: String = title
        .chars()
        .map(|c| match c {
            'ä' | 'å' | 'á' | 'à' => 'a',
            'Ä' | 'Å' | 'Á' | 'À' => 'A',
            'ö' | 'ó' | 'ò' => 'o',
            'Ö' | 'Ó' | 'Ò' => 'O',
            'é' | 'è' => 'e',
            'ü' => 'u',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let date = local_civil(now).date();
    let name = if safe.is_empty() { "kipina".to_owned() } else { safe.chars().take(60).collect() };
    format!("{name}-{date}.{}", format.name())
}

/// The Finnish wall-clock time of `at` (the boards' home), or UTC where the time zone database
/// is missing.
pub fn local_civil(at: Timestamp) -> jiff::civil::DateTime {
    let moment = jiff::Timestamp::from_millisecond(at.millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    match jiff::tz::TimeZone::get("Europe/Helsinki") {
        Ok(zone) => moment.to_zoned(zone).datetime(),
        Err(_) => moment.to_zoned(jiff::tz::TimeZone::UTC).datetime(),
    }
}

/// `2026-11-23 14:05`, Finnish time.
pub fn local_time(at: Timestamp) -> String {
    local_civil(at).strftime("%Y-%m-%d %H:%M").to_string()
}
