//! CSV: one row per card (a group's cards too, each naming its group), UTF-8 with a byte order mark so Excel reads Finnish letters, every
//! cell neutralised against formula injection (OWASP "CSV injection").

use super::report::Report;
use super::{ExportError, local_time};

/// The byte order mark Excel needs to read UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a leading apostrophe, which shows the text as it is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// The header row, in the report's language.
pub fn header(report: &Report) -> Vec<&'static str> {
    let words = report.words;
    vec![
        words.column,
        words.title,
        words.body,
        words.author,
        words.labels,
        words.status,
        words.votes,
        words.likes,
        words.comment_count,
        words.created,
        words.updated,
        words.group_of,
    ]
}

pub fn write(report: &Report) -> Result<Vec<u8>, ExportError> {
    let words = report.words;
    let mut out = csv::Writer::from_writer(BOM.to_vec());
    let error = |error: csv::Error| ExportError::Write(error.to_string());
    out.write_record(header(report)).map_err(error)?;
    for card in report.all_cards() {
        let votes = card.votes.map_or_else(|| words.hidden.to_owned(), |votes| votes.to_string());
        let row = [
            card.column.clone(),
            card.title.clone(),
            card.body.clone(),
            card.author.clone().unwrap_or_else(|| words.anonymous.to_owned()),
            card.labels.join(", "),
            words.status(card.status).to_owned(),
            votes,
            card.likes.to_string(),
            card.comments.len().to_string(),
            local_time(card.created_at),
            local_time(card.updated_at),
            card.group.clone().unwrap_or_default(),
        ];
        out.write_record(row.iter().map(|cell| neutralise(cell).into_owned())).map_err(error)?;
    }
    out.into_inner().map_err(|error| ExportError::Write(error.to_string()))
}
