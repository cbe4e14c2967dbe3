//! The Word report a facilitator sends onward: title, date and participant count, statements
//! with their current wording, a table of the top cards, and the results per column.

use super::report::{Report, ReportCard};
use super::{ExportError, local_time};
use crate::projection::views::places;
use docx_rs::{Docx, Paragraph, Run, Style, StyleType, Table, TableCell, TableRow, WidthType};

fn paragraph(text: &str) -> Paragraph {
    let mut run = Run::new();
    for (index, line) in text.replace("\r\n", "\n").split(['\n', '\r']).enumerate() {
        if index > 0 {
            run = run.add_break(docx_rs::BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    Paragraph::new().add_run(run)
}

fn heading(level: usize, text: &str) -> Paragraph {
    Paragraph::new().style(&format!("Heading{level}")).add_run(Run::new().add_text(text))
}

fn cell(text: &str, bold: bool) -> TableCell {
    let run = if bold { Run::new().add_text(text).bold() } else { Run::new().add_text(text) };
    TableCell::new().add_paragraph(Paragraph::new().add_run(run))
}

pub fn write(report: &Report) -> Result<Vec<u8>, ExportError> {
    let words = report.words;
    let mut doc = Docx::new()
        .add_style(Style::new("Title", StyleType::Paragraph).name("Title").size(48).bold())
        .add_style(Style::new("Heading1", StyleType::Paragraph).name("Heading 1").size(36).bold())
        .add_style(Style::new("Heading2", StyleType::Paragraph).name("Heading 2").size(28).bold())
        .add_style(Style::new("Heading3", StyleType::Paragraph).name("Heading 3").size(24).bold())
        .add_paragraph(Paragraph::new().style("Title").add_run(Run::new().add_text(&report.title)))
        .add_paragraph(paragraph(&report.description));
    let mut about = format!(
        "{}: {}. {}: {}.",
        words.exported,
        local_time(report.exported_at),
        words.participants,
        report.participants
    );
    if let Some(session) = &report.session {
        about.push_str(&format!(" {}: {} ({}).", words.session, session.name, session.date));
    }
    doc = doc.add_paragraph(paragraph(&about));

    if !report.statements.is_empty() {
        doc = doc.add_paragraph(heading(1, words.statements));
        for statement in &report.statements {
            doc = doc.add_paragraph(heading(2, &statement.title));
            if let Some(current) = statement.versions.last() {
                doc = doc.add_paragraph(Paragraph::new().add_run(Run::new().add_text(&current.text).italic()));
                let mut about = format!(
                    "{} {}, {} {}",
                    words.version,
                    current.number,
                    words.adopted,
                    local_time(current.adopted_at)
                );
                if let Some(session) = &current.session {
                    about.push_str(&format!(", {session}"));
                }
                doc = doc.add_paragraph(paragraph(&about));
            }
            if statement.versions.len() > 1 {
                doc = doc.add_paragraph(heading(3, words.history));
                for version in &statement.versions {
                    let author = version.author.as_deref().unwrap_or(words.anonymous);
                    doc = doc.add_paragraph(paragraph(&format!(
                        "{} {} ({}, {author}): {}",
                        words.version,
                        version.number,
                        local_time(version.adopted_at),
                        version.text
                    )));
                }
            }
            if !statement.proposals.is_empty() {
                doc = doc.add_paragraph(heading(3, words.open_proposals));
                let places = places(statement.proposals.iter().map(|card| card.votes.unwrap_or(0)));
                for (place, card) in places.into_iter().zip(&statement.proposals) {
                    doc = card_paragraphs(doc, report, card, Some(place), 0);
                }
            }
        }
    }

    let top = report.top(10);
    if !top.is_empty() {
        doc = doc.add_paragraph(heading(1, words.top_cards));
        let mut rows = vec![TableRow::new(vec![
            cell(words.rank, true),
            cell(words.title, true),
            cell(words.column, true),
            cell(words.votes, true),
        ])];
        for (place, card) in &top {
            rows.push(TableRow::new(vec![
                cell(&place.to_string(), false),
                cell(&card.title, false),
                cell(&card.column, false),
                cell(&card.votes.unwrap_or(0).to_string(), false),
            ]));
        }
        doc = doc.add_table(Table::new(rows).width(9000, WidthType::Dxa));
    }

    doc = doc.add_paragraph(heading(1, words.results));
    for column in &report.columns {
        doc = doc.add_paragraph(heading(2, &column.title));
        let places = places(column.cards.iter().map(|card| card.votes.unwrap_or(0)));
        for (place, card) in places.into_iter().zip(&column.cards) {
            doc = card_paragraphs(doc, report, card, Some(place), 0);
            for member in &card.members {
                doc = card_paragraphs(doc, report, member, None, 1);
            }
        }
    }

    let mut buffer = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut buffer).map_err(|error| ExportError::Write(error.to_string()))?;
    Ok(buffer.into_inner())
}

/// One card: its place (while dots are shown), title and dots, likes, author, group, text and
/// comments, indented by `depth` (a group's cards under the group).
fn card_paragraphs(mut doc: Docx, report: &Report, card: &ReportCard, place: Option<u32>, depth: i32) -> Docx {
    let words = report.words;
    let indent = |paragraph: Paragraph, extra: i32| {
        let left = 720 * (depth + extra);
        if left == 0 { paragraph } else { paragraph.indent(Some(left), None, None, None) }
    };
    let votes = card.votes.map_or_else(|| words.hidden.to_owned(), |votes| votes.to_string());
    let mut title = Paragraph::new();
    if let (Some(place), Some(_)) = (place, card.votes) {
        title = title.add_run(Run::new().add_text(format!("{place}. ")));
    }
    let author = card.author.as_deref().unwrap_or(words.anonymous);
    let mut about = format!(" — {}: {votes}, {}: {}, {author}", words.votes, words.likes, card.likes);
    if let Some(group) = &card.group {
        about.push_str(&format!(", {}: {group}", words.group_of));
    }
    title = title.add_run(Run::new().add_text(&card.title).bold()).add_run(Run::new().add_text(about));
    doc = doc.add_paragraph(indent(title, 0));
    if !card.body.trim().is_empty() {
        doc = doc.add_paragraph(indent(paragraph(&card.body), 0));
    }
    for comment in &card.comments {
        let author = comment.author.as_deref().unwrap_or(words.anonymous);
        let reply = if comment.reply { "↳ " } else { "" };
        doc = doc.add_paragraph(indent(paragraph(&format!("{reply}{author}: {}", comment.body)), 1));
    }
    doc
}
