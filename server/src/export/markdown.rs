//! The Markdown summary ("yhteenveto"): built as CommonMark events and written by
//! `pulldown-cmark-to-cmark`, so whatever people typed is escaped and cannot become a heading,
//! a link or HTML in the summary.

use super::report::{Report, ReportCard, ReportVersion};
use super::{ExportError, local_time};
use crate::projection::views::places;
use kipina_proto::view::DiffKind;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Tag, TagEnd};

/// Events of the document under construction.
#[derive(Default)]
struct Doc {
    events: Vec<Event<'static>>,
    /// Bold, italics and strike-through left out: the fallback when the renderer cannot write
    /// some text inside such markup so that it reads back the same (CommonMark's flanking rules
    /// make a few combinations of punctuation impossible to mark up).
    plain: bool,
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

    /// Text whose line breaks (`\n`, `\r\n` or a lone `\r`) become hard breaks: a line break
    /// inside a text event would read back as a soft break, not as the same text.
    /// Blank lines are left out: a hard break needs words on both sides.
    fn lines(&mut self, text: &str) {
        for (index, line) in split_lines(text).filter(|line| !line.trim().is_empty()).enumerate() {
            if index > 0 {
                self.events.push(Event::HardBreak);
            }
            self.events.push(Event::Text(CowStr::from(line.trim().to_owned())));
        }
    }

    fn strong(&mut self, text: &str) {
        self.span(Tag::Strong, TagEnd::Strong, text);
    }

    fn emphasis(&mut self, text: &str) {
        self.span(Tag::Emphasis, TagEnd::Emphasis, text);
    }

    fn strikethrough(&mut self, text: &str) {
        self.span(Tag::Strikethrough, TagEnd::Strikethrough, text);
    }

    /// Inline markup around text. CommonMark has no bold or italic that begins or ends with
    /// white space (`** x **` is not bold), so the white space goes outside the markup; with
    /// nothing but white space there is no markup at all. Written otherwise, the renderer could
    /// not write the span in a way that reads back the same and the whole export failed.
    /// Markup never spans a line break either: each line is marked up on its own.
    fn span(&mut self, start: Tag<'static>, end: TagEnd, text: &str) {
        for (index, line) in split_lines(text).filter(|line| !line.trim().is_empty()).enumerate() {
            if index > 0 {
                self.events.push(Event::HardBreak);
            }
            let inner = line.trim();
            if self.plain {
                self.events.push(Event::Text(CowStr::from(line.to_owned())));
                continue;
            }
            let before = &line[..line.len() - line.trim_start().len()];
            let after = &line[line.trim_end().len()..];
            if !before.is_empty() {
                self.events.push(Event::Text(CowStr::from(before.to_owned())));
            }
            self.events.push(Event::Start(start.clone()));
            self.events.push(Event::Text(CowStr::from(inner.to_owned())));
            self.events.push(Event::End(end));
            if !after.is_empty() {
                self.events.push(Event::Text(CowStr::from(after.to_owned())));
            }
        }
    }

    /// Inline text: as it is on one line, else its lines with hard breaks.
    fn text(&mut self, text: &str) {
        if text.contains(['\r', '\n']) {
            self.lines(text);
        } else if !text.is_empty() {
            self.events.push(Event::Text(CowStr::from(text.to_owned())));
        }
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

    /// One list item built by `build` with bold, italics and strike-through, checked by
    /// rendering it alone; when the renderer cannot write it so that it reads back the same, it is
    /// built again without them (the words all stay).
    fn checked_item(&mut self, numbered: bool, build: impl Fn(&mut Doc)) {
        let start = self.events.len();
        build(self);
        if self.plain {
            return;
        }
        let mut alone = vec![Event::Start(Tag::List(numbered.then_some(1)))];
        alone.extend(self.events[start..].iter().cloned());
        alone.push(Event::End(TagEnd::List(numbered)));
        if render(&alone).is_err() {
            self.events.truncate(start);
            self.plain = true;
            build(self);
            self.plain = false;
        }
    }

    fn item(&mut self, text: &str) {
        self.start_item();
        self.lines(text);
        self.end_item();
    }
}

/// The lines of `text`, split at `\r\n`, `\n` and a lone `\r` (all line endings to CommonMark).
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(current)
            }
            Some(at) => {
                let skip = if current[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&current[at + skip..]);
                Some(&current[..at])
            }
        }
    })
}

/// The summary; should some text still defeat the renderer, the summary without any bold,
/// italics or strike-through.
pub fn write(report: &Report) -> Result<Vec<u8>, ExportError> {
    write_with(report, false).or_else(|_| write_with(report, true))
}

fn write_with(report: &Report, plain: bool) -> Result<Vec<u8>, ExportError> {
    let words = report.words;
    let mut doc = Doc { plain, ..Doc::default() };
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
                doc.checked_item(false, |doc| version_item(doc, report, version));
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
            doc.start_list(false);
            for (place, title, votes) in &round.results {
                doc.item(&format!("{place}. {title} — {}", words.dots(*votes)));
            }
            doc.end_list(false);
        }
    }

    let mut out = render(&doc.events)?;
    out.push('\n');
    Ok(out.into_bytes())
}

fn render(events: &[Event<'static>]) -> Result<String, ExportError> {
    let mut out = String::new();
    pulldown_cmark_to_cmark::cmark(events.iter(), &mut out, pulldown_cmark::Options::ENABLE_STRIKETHROUGH)
        .map_err(|error| ExportError::Write(error.to_string()))?;
    Ok(out)
}

/// One version of a statement: its number, time, session and author, and what changed.
fn version_item(doc: &mut Doc, report: &Report, version: &ReportVersion) {
    let words = report.words;
    doc.start_item();
    let mut about =
        format!("{} {} — {} {}", words.version, version.number, words.adopted, local_time(version.adopted_at));
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
            DiffKind::Added => doc.strong(&span.text),
            DiffKind::Removed => doc.strikethrough(&span.text),
        }
    }
    if let Some(reason) = &version.reason {
        doc.events.push(Event::HardBreak);
        doc.emphasis(&format!("{}: {reason}", words.reason));
    }
    doc.end_item();
}

/// Cards ranked, each with its place, dots, author, text and comments; a group with its cards.
fn cards(doc: &mut Doc, report: &Report, cards: &[ReportCard]) {
    let places = places(cards.iter().map(|card| card.votes.unwrap_or(0)));
    doc.start_list(false);
    for (place, card) in places.into_iter().zip(cards) {
        doc.checked_item(false, |doc| {
            doc.start_item();
            card_lines(doc, report, card, Some(place));
            if !card.members.is_empty() {
                doc.start_list(true);
                for member in &card.members {
                    doc.start_item();
                    card_lines(doc, report, member, None);
                    doc.end_item();
                }
                doc.end_list(true);
            }
            doc.end_item();
        });
    }
    doc.end_list(false);
}

/// One card: its place (while its dots are shown), title, dots, likes, author, labels, text and
/// comments.
fn card_lines(doc: &mut Doc, report: &Report, card: &ReportCard, place: Option<u32>) {
    let words = report.words;
    if let (Some(place), Some(_)) = (place, card.votes) {
        doc.text(&format!("{place}. "));
    }
    doc.strong(&card.title);
    let votes = card.votes.map_or_else(|| words.hidden.to_owned(), |votes| votes.to_string());
    let author = card.author.as_deref().unwrap_or(words.anonymous);
    let mut about = format!(" — {}: {votes}, {}: {}, {author}", words.votes, words.likes, card.likes);
    if let Some(group) = &card.group {
        about.push_str(&format!(", {}: {group}", words.group_of));
    }
    doc.text(&about);
    if !card.labels.is_empty() {
        doc.text(&format!(" [{}]", card.labels.join(", ")));
    }
    if !card.body.trim().is_empty() {
        doc.events.push(Event::HardBreak);
        doc.lines(&card.body);
    }
    if !card.comments.is_empty() {
        doc.start_list(false);
        for comment in &card.comments {
            let author = comment.author.as_deref().unwrap_or(words.anonymous);
            let reply = if comment.reply { "↳ " } else { "" };
            doc.item(&format!("{reply}{author}: {}", comment.body));
        }
        doc.end_list(false);
    }
}
