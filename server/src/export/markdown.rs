//! The Markdown summary ("yhteenveto"): built as CommonMark events and written by
//! `pulldown-cmark-to-cmark`, so whatever people typed is escaped and cannot become a heading,
//! a link or HTML in the summary.

use super::report::{Report, ReportCard};
use super::{ExportError, local_time};
use kipina_proto::view::DiffKind;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Tag, TagEnd};

/// Events of the document under construction.
#[derive(Default)]
struct Doc {
    events: Vec<Event<'static>>,
}

impl Doc {
    fn heading(&mut self, level: HeadingLevel, text: &str) {
        self.events.push(Event::Start(Tag::Heading { level, id: None, classes: vec![], attrs: vec![] }));
        self.events.push(Event::Text(CowStr::from(text.to_owned())));
        self.events.push(Event::End(TagEnd::Heading(level)));
    }

    /// A paragraph of user text: its lines become hard breaks.
    fn paragraph(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.events.push(Event::Start(Tag::Paragraph));
        self.lines(text);
        self.events.push(Event::End(TagEnd::Paragraph));
    }

    fn lines(&mut self, text: &str) {
        for (index, line) in text.lines().enumerate() {
            if index > 0 {
                self.events.push(Event::HardBreak);
            }
            self.events.push(Event::Text(CowStr::from(line.to_owned())));
        }
    }

    fn strong(&mut self, text: &str) {
        self.events.push(Event::Start(Tag::Strong));
        self.events.push(Event::Text(CowStr::from(text.to_owned())));
        self.events.push(Event::End(TagEnd::Strong));
    }

    fn emphasis(&mut self, text: &str) {
        self.events.push(Event::Start(Tag::Emphasis));
        self.events.push(Event::Text(CowStr::from(text.to_owned())));
        self.events.push(Event::End(TagEnd::Emphasis));
    }

    fn text(&mut self, text: &str) {
        self.events.push(Event::Text(CowStr::from(text.to_owned())));
    }

    fn start_list(&mut self, numbered: bool) {
        self.events.push(Event::Start(Tag::List(numbered.then_some(1))));
    }

    fn end_list(&mut self, numbered: bool) {
        self.events.push(Event::End(TagEnd::List(numbered)));
    }

    fn start_item(&mut self) {
        self.events.push(Event::Start(Tag::Item));
    }

    fn end_item(&mut self) {
        self.events.push(Event::End(TagEnd::Item));
    }

    fn item(&mut self, text: &str) {
        self.start_item();
        self.lines(text);
        self.end_item();
    }
}

pub fn write(report: &Report) -> Result<Vec<u8>, ExportError> {
    let words = report.words;
    let mut doc = Doc::default();
    doc.heading(HeadingLevel::H1, &format!("{}: {}", words.summary, report.title));
    doc.paragraph(&report.description);
    doc.events.push(Event::Start(Tag::Paragraph));
    doc.text(&format!("{}: {}. ", words.exported, local_time(report.exported_at)));
    doc.text(&format!("{}: {}.", words.participants, report.participants));
    if let Some(session) = &report.session {
        doc.text(&format!(" {}: {} ({}).", words.session, session.name, session.date));
    }
    doc.events.push(Event::End(TagEnd::Paragraph));

    if !report.sessions.is_empty() && report.session.is_none() {
        doc.heading(HeadingLevel::H2, words.sessions);
        doc.start_list(false);
        for session in &report.sessions {
            doc.item(&format!("{} — {} ({})", session.name, session.date, words.phase(session.phase)));
        }
        doc.end_list(false);
    }

    if !report.statements.is_empty() {
        doc.heading(HeadingLevel::H2, words.statements);
        for statement in &report.statements {
            doc.heading(HeadingLevel::H3, &statement.title);
            if let Some(current) = statement.versions.last() {
                doc.events.push(Event::Start(Tag::BlockQuote(None)));
                doc.paragraph(&current.text);
                doc.events.push(Event::End(TagEnd::BlockQuote(None)));
            }
            doc.heading(HeadingLevel::H4, words.history);
            doc.start_list(false);
            for version in &statement.versions {
                doc.start_item();
                let mut about = format!(
                    "{} {} — {} {}",
                    words.version,
                    version.number,
                    words.adopted,
                    local_time(version.adopted_at)
                );
                if let Some(session) = &version.session {
                    about.push_str(&format!(", {session}"));
                }
                about.push_str(&format!(", {}", version.author.as_deref().unwrap_or(words.anonymous)));
                doc.strong(&about);
                doc.events.push(Event::HardBreak);
                // The difference against the version before: removed words struck, added bold.
                for span in &version.diff {
                    match span.kind {
                        DiffKind::Same => doc.text(&span.text),
                        DiffKind::Added => doc.strong(span.text.trim_end()),
                        DiffKind::Removed => {
                            doc.events.push(Event::Start(Tag::Strikethrough));
                            doc.text(span.text.trim_end());
                            doc.events.push(Event::End(TagEnd::Strikethrough));
                        }
                    }
                    if span.kind != DiffKind::Same && span.text.ends_with(char::is_whitespace) {
                        doc.text(" ");
                    }
                }
                if let Some(reason) = &version.reason {
                    doc.events.push(Event::HardBreak);
                    doc.emphasis(&format!("{}: {reason}", words.reason));
                }
                doc.end_item();
            }
            doc.end_list(false);
            if !statement.proposals.is_empty() {
                doc.heading(HeadingLevel::H4, words.open_proposals);
                cards(&mut doc, report, &statement.proposals);
            }
        }
    }

    doc.heading(HeadingLevel::H2, words.results);
    for column in &report.columns {
        doc.heading(HeadingLevel::H3, &column.title);
        cards(&mut doc, report, &column.cards);
    }

    if !report.rounds.is_empty() {
        doc.heading(HeadingLevel::H2, words.rounds);
        for round in &report.rounds {
            let mut heading = format!("{} {}", words.round, round.number);
            if let Some(session) = &round.session {
                heading.push_str(&format!(" ({session})"));
            }
            doc.heading(HeadingLevel::H3, &heading);
            doc.paragraph(&format!("{}: {}, {}: {}", words.budget, round.budget, words.per_card, round.per_card));
            if round.hidden {
                doc.paragraph(&format!("{}: {}", words.votes, words.hidden));
                continue;
            }
            doc.start_list(true);
            for (title, votes) in &round.results {
                doc.item(&format!("{title} — {votes} {}", words.votes.to_lowercase()));
            }
            doc.end_list(true);
        }
    }

    let mut out = String::new();
    pulldown_cmark_to_cmark::cmark(doc.events.iter(), &mut out, pulldown_cmark::Options::ENABLE_STRIKETHROUGH)
        .map_err(|error| ExportError::Write(error.to_string()))?;
    out.push('\n');
    Ok(out.into_bytes())
}

/// Cards ranked, each with its dots, author, text and comments.
fn cards(doc: &mut Doc, report: &Report, cards: &[ReportCard]) {
    let words = report.words;
    doc.start_list(true);
    for card in cards {
        doc.start_item();
        doc.strong(&card.title);
        let votes = card.votes.map_or_else(|| words.hidden.to_owned(), |votes| votes.to_string());
        let author = card.author.as_deref().unwrap_or(words.anonymous);
        doc.text(&format!(" — {}: {votes}, {}: {}, {author}", words.votes, words.likes, card.likes));
        if !card.labels.is_empty() {
            doc.text(&format!(" [{}]", card.labels.join(", ")));
        }
        if !card.body.trim().is_empty() {
            doc.events.push(Event::HardBreak);
            doc.lines(&card.body);
        }
        if !card.members.is_empty() {
            doc.events.push(Event::HardBreak);
            doc.emphasis(&format!("{}: {}", words.group_of, card.members.join("; ")));
        }
        if !card.comments.is_empty() {
            doc.start_list(false);
            for comment in &card.comments {
                let author = comment.author.as_deref().unwrap_or(words.anonymous);
                doc.item(&format!("{author}: {}", comment.body));
            }
            doc.end_list(false);
        }
        doc.end_item();
    }
    doc.end_list(true);
}
