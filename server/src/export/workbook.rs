//! The Excel workbook: sheets for cards (a group's cards too, each naming its group), comments, votes per round and statements, with typed
//! cells (dates as dates, counts as numbers), a frozen header row and sized columns.

use super::report::Report;
use super::table::neutralise;
use super::{ExportError, local_civil};
use kipina_proto::Timestamp;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

fn error(error: XlsxError) -> ExportError {
    ExportError::Write(error.to_string())
}

/// A sheet with a bold, frozen header row and the given column widths.
fn sheet<'a>(workbook: &'a mut Workbook, name: &str, header: &[(&str, f64)]) -> Result<&'a mut Worksheet, XlsxError> {
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    for (column, (title, width)) in header.iter().enumerate() {
        let column = u16::try_from(column).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, column, *title, &bold)?;
        sheet.set_column_width(column, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(sheet)
}

fn text(sheet: &mut Worksheet, row: u32, column: u16, value: &str) -> Result<(), XlsxError> {
    sheet.write_string(row, column, neutralise(value).as_ref())?;
    Ok(())
}

fn number(sheet: &mut Worksheet, row: u32, column: u16, value: impl Into<f64>) -> Result<(), XlsxError> {
    sheet.write_number(row, column, value.into())?;
    Ok(())
}

fn date(sheet: &mut Worksheet, row: u32, column: u16, at: Timestamp, format: &Format) -> Result<(), XlsxError> {
    let local = local_civil(at);
    let date = ExcelDateTime::from_ymd(
        u16::try_from(local.year()).unwrap_or(1970),
        u8::try_from(local.month()).unwrap_or(1),
        u8::try_from(local.day()).unwrap_or(1),
    )?
    .and_hms(
        u16::try_from(local.hour()).unwrap_or(0),
        u8::try_from(local.minute()).unwrap_or(0),
        u8::try_from(local.second()).unwrap_or(0),
    )?;
    sheet.write_datetime_with_format(row, column, &date, format)?;
    Ok(())
}

pub fn write(report: &Report) -> Result<Vec<u8>, ExportError> {
    build(report).map_err(error)
}

fn build(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let words = report.words;
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut workbook = Workbook::new();

    let cards = sheet(
        &mut workbook,
        words.cards,
        &[
            (words.column, 24.0),
            (words.title, 40.0),
            (words.body, 60.0),
            (words.author, 22.0),
            (words.labels, 18.0),
            (words.status, 18.0),
            (words.votes, 8.0),
            (words.likes, 10.0),
            (words.comment_count, 12.0),
            (words.created, 18.0),
            (words.updated, 18.0),
            (words.group_of, 30.0),
        ],
    )?;
    for (index, card) in report.all_cards().enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        text(cards, row, 0, &card.column)?;
        text(cards, row, 1, &card.title)?;
        text(cards, row, 2, &card.body)?;
        text(cards, row, 3, card.author.as_deref().unwrap_or(words.anonymous))?;
        text(cards, row, 4, &card.labels.join(", "))?;
        text(cards, row, 5, words.status(card.status))?;
        match card.votes {
            Some(votes) => number(cards, row, 6, votes)?,
            None => text(cards, row, 6, words.hidden)?,
        }
        number(cards, row, 7, u32::try_from(card.likes).unwrap_or(u32::MAX))?;
        number(cards, row, 8, u32::try_from(card.comments.len()).unwrap_or(u32::MAX))?;
        date(cards, row, 9, card.created_at, &when)?;
        date(cards, row, 10, card.updated_at, &when)?;
        if let Some(group) = &card.group {
            text(cards, row, 11, group)?;
        }
    }

    let comments = sheet(
        &mut workbook,
        words.comments,
        &[
            (words.column, 24.0),
            (words.title, 40.0),
            (words.author, 22.0),
            (words.comment, 70.0),
            (words.created, 18.0),
        ],
    )?;
    let all = report.all_cards().flat_map(|card| card.comments.iter().map(move |comment| (card, comment)));
    for (index, (card, comment)) in all.enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        text(comments, row, 0, &card.column)?;
        text(comments, row, 1, &card.title)?;
        text(comments, row, 2, comment.author.as_deref().unwrap_or(words.anonymous))?;
        let body = if comment.reply { format!("↳ {}", comment.body) } else { comment.body.clone() };
        text(comments, row, 3, &body)?;
        date(comments, row, 4, comment.created_at, &when)?;
    }

    let votes = sheet(
        &mut workbook,
        words.rounds,
        &[(words.round, 10.0), (words.session, 28.0), (words.title, 50.0), (words.votes, 10.0), (words.rank, 8.0)],
    )?;
    let mut row = 1;
    for round in &report.rounds {
        if round.hidden {
            number(votes, row, 0, round.number)?;
            text(votes, row, 1, round.session.as_deref().unwrap_or(""))?;
            text(votes, row, 2, words.hidden)?;
            row += 1;
            continue;
        }
        for (place, title, count) in &round.results {
            number(votes, row, 0, round.number)?;
            text(votes, row, 1, round.session.as_deref().unwrap_or(""))?;
            text(votes, row, 2, title)?;
            number(votes, row, 3, *count)?;
            number(votes, row, 4, *place)?;
            row += 1;
        }
    }

    let statements = sheet(
        &mut workbook,
        words.statements,
        &[
            (words.statement, 20.0),
            (words.version, 9.0),
            (words.text, 80.0),
            (words.author, 22.0),
            (words.reason, 40.0),
            (words.adopted, 18.0),
            (words.session, 28.0),
        ],
    )?;
    let versions =
        report.statements.iter().flat_map(|statement| statement.versions.iter().map(move |v| (statement, v)));
    for (index, (statement, version)) in versions.enumerate() {
        let row = u32::try_from(index + 1).unwrap_or(u32::MAX);
        text(statements, row, 0, &statement.title)?;
        number(statements, row, 1, version.number)?;
        text(statements, row, 2, &version.text)?;
        text(statements, row, 3, version.author.as_deref().unwrap_or(words.anonymous))?;
        text(statements, row, 4, version.reason.as_deref().unwrap_or(""))?;
        date(statements, row, 5, version.adopted_at, &when)?;
        text(statements, row, 6, version.session.as_deref().unwrap_or(""))?;
    }
    workbook.save_to_buffer()
}
