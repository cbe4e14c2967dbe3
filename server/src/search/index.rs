//! The search index of one board: its readable texts as documents, and inverted indexes
//! ([`Segment`]s) from every folded word to the documents (and fields) it is in.
//!
//! An [`Index`] answers for one board version. It is either one segment built from the board's
//! whole [`Corpus`], or, after the board changed, the segment of an earlier version (its
//! `main`) with the documents that differ from it now left out (`stale`), plus a small segment
//! of the documents that are new or changed (`delta`). Which documents differ is found by
//! comparing the board state with the main segment's documents ([`Changes::between`], on the
//! board's task: a walk over both, with no text copied unless it changed), so a search right
//! after a change folds only the changed texts. Either way the index holds exactly the
//! documents a corpus gathered from that state would, and ranks them the same, so it answers
//! exactly as one built from scratch. When the changed documents grow to a fair part of the
//! board, they are merged into a new main segment off the request path ([`Index::compacted`]).

use super::highlight::{has_match, spans};
use super::query::Query;
use super::segment::{Segment, Tally, field_of_points};
use crate::projection::views::Viewer;
use kipina_domain::{BoardState, Card};
use kipina_proto::search::{SearchField, SearchHit, SearchResults, SearchTarget, TextSpan};
use kipina_proto::{CardId, ColumnId, CommentId, Language, ParticipantId, Timestamp};
use std::sync::Arc;

/// The most hits one answer carries.
pub const MAX_LIMIT: usize = 50;

/// A searched text of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub field: SearchField,
    pub text: String,
    /// Whether this text is the hit's title.
    pub heading: bool,
}

/// One thing search can find: a card, a proposal, a comment or a statement, with the texts of
/// it that can be read (erased and deleted words are not here, so they cannot be found).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub target: SearchTarget,
    pub column: ColumnId,
    pub author: ParticipantId,
    /// The author is shown to nobody but the author.
    pub anonymous: bool,
    pub archived: bool,
    pub updated_at: Timestamp,
    pub texts: Vec<Text>,
    /// A title shown but not searched: a comment's card title.
    pub context: Option<String>,
}

/// Which thing of the board a document is, whatever its texts: at most one document of a
/// board has a key. Keys order a board's documents as its corpus lists them (statements by
/// column, then cards and proposals, then comments, each by id), which is also the last
/// tie-break of the ranking, so it does not depend on where a document is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocumentKey {
    Statement(ColumnId),
    Card(CardId),
    Comment(CommentId),
}

impl DocumentKey {
    fn of(target: &SearchTarget) -> Self {
        match *target {
            SearchTarget::Statement { statement, .. } => Self::Statement(statement),
            SearchTarget::Card { card, .. } | SearchTarget::Proposal { card, .. } => Self::Card(card),
            SearchTarget::Comment { comment, .. } => Self::Comment(comment),
        }
    }
}

impl Document {
    /// Which thing of the board this document is.
    pub fn key(&self) -> DocumentKey {
        DocumentKey::of(&self.target)
    }
}

/// A board's documents at one version: what the board's task hands over for an index to be
/// built elsewhere (cloning the texts is quick; folding them takes longer).
#[derive(Clone, Debug)]
pub struct Corpus {
    pub version: u64,
    pub language: Language,
    pub documents: Vec<Document>,
}

/// A searched text as the board state holds it.
#[derive(Clone, Copy, Debug)]
struct TextRef<'a> {
    field: SearchField,
    text: &'a str,
    heading: bool,
}

fn text(field: SearchField, text: Option<&str>, heading: bool) -> Option<TextRef<'_>> {
    text.filter(|text| !text.trim().is_empty()).map(|text| TextRef { field, text, heading })
}

/// A [`Document`] read from the board state without copying its texts.
#[derive(Clone, Copy, Debug)]
struct DocumentRef<'a> {
    target: SearchTarget,
    column: ColumnId,
    author: ParticipantId,
    anonymous: bool,
    archived: bool,
    updated_at: Timestamp,
    /// The texts in order; a missing one is skipped.
    texts: [Option<TextRef<'a>>; 2],
    context: Option<&'a str>,
}

impl DocumentRef<'_> {
    fn texts(&self) -> impl Iterator<Item = &TextRef<'_>> {
        self.texts.iter().flatten()
    }

    fn to_document(self) -> Document {
        Document {
            target: self.target,
            column: self.column,
            author: self.author,
            anonymous: self.anonymous,
            archived: self.archived,
            updated_at: self.updated_at,
            texts: self
                .texts()
                .map(|text| Text { field: text.field, text: text.text.to_owned(), heading: text.heading })
                .collect(),
            context: self.context.map(str::to_owned),
        }
    }

    /// Whether `document` is this one as it is now, to the letter.
    fn is(&self, document: &Document) -> bool {
        self.target == document.target
            && self.column == document.column
            && self.author == document.author
            && self.anonymous == document.anonymous
            && self.archived == document.archived
            && self.updated_at == document.updated_at
            && self.context == document.context.as_deref()
            && self.texts().count() == document.texts.len()
            && self.texts().zip(&document.texts).all(|(mine, theirs)| {
                mine.field == theirs.field && mine.heading == theirs.heading && mine.text == theirs.text
            })
    }
}

/// Everything searchable on the board as `state` has it, in [`DocumentKey`] order.
fn each_document<'a>(state: &'a BoardState, mut each: impl FnMut(DocumentRef<'a>)) {
    let column_archived = |column: &ColumnId| state.columns.get(column).is_some_and(|column| column.archived);
    for column in state.columns.values() {
        let Some(current) = column.statement.as_ref().and_then(|statement| statement.versions.last()) else {
            continue;
        };
        // A wording is as anonymous as the proposal it came from.
        let anonymous =
            current.proposal.and_then(|card| state.cards.get(&card)).is_some_and(|card| state.card_is_anonymous(card));
        each(DocumentRef {
            target: SearchTarget::Statement { statement: column.id, version: current.number },
            column: column.id,
            author: current.author,
            anonymous,
            archived: column.archived,
            updated_at: current.adopted_at,
            texts: [
                text(SearchField::Title, Some(&column.title), true),
                text(SearchField::Statement, current.text.as_text(), false),
            ],
            context: None,
        });
    }
    for card in state.cards.values() {
        let (target, texts) = match &card.proposal {
            // A proposal's body is the wording it suggests and its title the reason.
            Some(_) => (
                SearchTarget::Proposal { card: card.id, statement: card.column },
                [
                    text(SearchField::Statement, card.body.as_text(), true),
                    text(SearchField::Body, card.title.as_text(), false),
                ],
            ),
            None => (
                SearchTarget::Card { card: card.id, group: card.group },
                [
                    text(SearchField::Title, card.title.as_text(), true),
                    text(SearchField::Body, card.body.as_text(), false),
                ],
            ),
        };
        if texts.iter().all(Option::is_none) {
            continue;
        }
        each(DocumentRef {
            target,
            column: card.column,
            author: card.author,
            anonymous: state.card_is_anonymous(card),
            archived: card.archived || column_archived(&card.column),
            updated_at: card.updated_at,
            texts,
            context: None,
        });
    }
    // Comments are listed by id, which mostly follows time, so one card's come together: its
    // card is looked up once for them.
    let mut last: Option<&Card> = None;
    for comment in state.comments.values().filter(|comment| !comment.deleted) {
        let Some(body) = text(SearchField::Comment, comment.body.as_text(), false) else {
            continue;
        };
        let card = match last {
            Some(card) if card.id == comment.card => card,
            _ => match state.cards.get(&comment.card) {
                Some(card) => {
                    last = Some(card);
                    card
                }
                None => continue,
            },
        };
        let context = match card.proposal {
            Some(_) => card.body.as_text(),
            None => card.title.as_text(),
        };
        each(DocumentRef {
            target: SearchTarget::Comment { comment: comment.id, card: card.id },
            column: card.column,
            author: comment.author,
            anonymous: state.comment_is_anonymous(comment),
            archived: card.archived || column_archived(&card.column),
            updated_at: comment.updated_at,
            texts: [Some(body), None],
            context,
        });
    }
}

fn language_of(state: &BoardState) -> Language {
    state.info.as_ref().map_or(Language::Fi, |info| info.language)
}

impl Corpus {
    /// Everything searchable on the board as `state` has it.
    pub fn of(state: &BoardState) -> Self {
        let mut documents = Vec::with_capacity(state.cards.len() + state.comments.len() + state.columns.len());
        each_document(state, |document| documents.push(document.to_document()));
        Self { version: state.version, language: language_of(state), documents }
    }
}

/// How a board state differs from the documents of a segment built earlier: the documents it
/// holds that are not in the segment as they are now (copied), and which of the segment's are
/// not the board's any more. What the board's task hands over for an index to be updated
/// elsewhere.
#[derive(Debug)]
pub struct Changes {
    version: u64,
    language: Language,
    base: Arc<Segment>,
    /// For each of `base`'s documents, whether the board no longer has it as it is there.
    stale: Vec<bool>,
    /// The documents the board has that `base` does not have as they are.
    documents: Vec<Document>,
}

impl Changes {
    /// Compares `state` with `base`'s documents: one walk over both, in key order, copying only
    /// the texts of documents that are new or changed.
    pub fn between(base: Arc<Segment>, state: &BoardState) -> Self {
        let kept = base.documents();
        let mut stale = vec![true; kept.len()];
        let mut documents = Vec::new();
        let mut at = 0;
        each_document(state, |document| {
            let key = DocumentKey::of(&document.target);
            while kept.get(at).is_some_and(|old| old.key() < key) {
                at += 1;
            }
            match kept.get(at) {
                Some(old) if old.key() == key && document.is(old) => {
                    stale[at] = false;
                    at += 1;
                }
                _ => documents.push(document.to_document()),
            }
        });
        Self { version: state.version, language: language_of(state), base, stale, documents }
    }

    /// How many documents are new or changed.
    pub fn changed(&self) -> usize {
        self.documents.len()
    }
}

/// Where a document of an [`Index`] is: in its main segment or in its delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct At {
    delta: bool,
    document: u32,
}

/// What ranks a found document.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    score: u32,
    occurrences: u32,
    updated_at: Timestamp,
    at: At,
}

/// A board's search index at one version.
pub struct Index {
    version: u64,
    language: Language,
    /// The documents of an earlier version (or of this one).
    main: Arc<Segment>,
    /// For each of `main`'s documents, whether it is not the board's any more as it is there
    /// (empty when all are).
    stale: Vec<bool>,
    stale_count: usize,
    /// The board's documents that `main` does not have as they are now.
    delta: Segment,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Index")
            .field("version", &self.version)
            .field("main", &self.main)
            .field("stale", &self.stale_count)
            .field("delta", &self.delta)
            .finish()
    }
}

impl Index {
    /// Folds every text of `corpus` into an inverted index.
    pub fn build(corpus: Corpus) -> Self {
        let Corpus { version, language, documents } = corpus;
        Self::whole(language, Arc::new(Segment::build(version, documents)))
    }

    /// The index of one segment holding every document.
    fn whole(language: Language, main: Arc<Segment>) -> Self {
        Self {
            version: main.version(),
            language,
            delta: Segment::empty(main.version()),
            main,
            stale: Vec::new(),
            stale_count: 0,
        }
    }

    /// The index of the state `changes` were found in: the base segment with what changed left
    /// out, and the changed documents folded into a segment of their own. When most of the
    /// board changed (everything went anonymous, say), one segment of all is built instead.
    pub fn update(changes: Changes) -> Self {
        let Changes { version, language, base, stale, documents } = changes;
        let stale_count = stale.iter().filter(|stale| **stale).count();
        let index = Self { version, language, main: base, stale, stale_count, delta: Segment::empty(version) };
        if documents.len() > index.main.documents().len() - stale_count {
            let all = index.kept().cloned().chain(documents).collect();
            return Self::whole(language, Arc::new(Segment::build(version, all)));
        }
        Self { delta: Segment::build(version, documents), ..index }
    }

    /// Whether enough of the board changed since the main segment was built that a new one
    /// should be (with [`Index::compacted`]): a search then folds no more than an eighth of
    /// the board's texts again (after 64 changed documents at least).
    pub fn wants_compaction(&self) -> bool {
        let changed = self.delta.documents().len().max(self.stale_count);
        changed >= 64 && changed * 8 >= self.main.documents().len()
    }

    /// One segment of all this index's documents, for a later [`Changes::between`] to compare
    /// with. Takes as long as building the index from scratch: run it off the request path.
    pub fn compacted(&self) -> Segment {
        let all = self.kept().chain(self.delta.documents()).cloned().collect();
        Segment::build(self.version, all)
    }

    /// The segment that changes are found against.
    pub fn main(&self) -> &Arc<Segment> {
        &self.main
    }

    /// Whether the main segment's document `number` is not the board's any more as it is there.
    fn is_stale(&self, number: usize) -> bool {
        self.stale.get(number).copied().unwrap_or(false)
    }

    /// The main segment's documents that are the board's as they are there.
    fn kept(&self) -> impl Iterator<Item = &Document> {
        self.main
            .documents()
            .iter()
            .enumerate()
            .filter(|(number, _)| !self.is_stale(*number))
            .map(|(_, document)| document)
    }

    /// The board version this index describes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The board's language, whose stemmer reads queries.
    pub fn language(&self) -> Language {
        self.language
    }

    /// How many documents the index holds.
    pub fn documents(&self) -> usize {
        self.main.documents().len() - self.stale_count + self.delta.documents().len()
    }

    /// How many documents were new or changed since the main segment was built.
    pub fn changed(&self) -> usize {
        self.delta.documents().len()
    }

    /// How many different words the index holds (a word in both segments counts twice).
    pub fn terms(&self) -> usize {
        self.main.terms() + self.delta.terms()
    }

    fn document(&self, at: At) -> &Document {
        let segment = if at.delta { &self.delta } else { &*self.main };
        &segment.documents()[at.document as usize]
    }

    /// The documents that match every word of `query`, best first, at most `limit` of them
    /// (and at most [`MAX_LIMIT`]), as `viewer` may see them.
    pub fn search(&self, query: &Query, viewer: Viewer, limit: usize) -> SearchResults {
        let main = self.main.tally(query);
        let delta = self.delta.tally(query);
        let tally =
            |at: At| -> &Tally { if at.delta { &delta[at.document as usize] } else { &main[at.document as usize] } };
        let words = u8::try_from(query.words.len()).unwrap_or(u8::MAX);
        let mut found: Vec<At> = Vec::new();
        for (number, counted) in main.iter().enumerate() {
            if counted.matched == words && !self.is_stale(number) {
                found.push(At { delta: false, document: u32::try_from(number).unwrap_or(u32::MAX) });
            }
        }
        for (number, counted) in delta.iter().enumerate() {
            if counted.matched == words {
                found.push(At { delta: true, document: u32::try_from(number).unwrap_or(u32::MAX) });
            }
        }
        let total = u32::try_from(found.len()).unwrap_or(u32::MAX);
        // What ranks each found document, gathered once so the ranking reads one list.
        let mut ranked: Vec<Ranked> = found
            .into_iter()
            .map(|at| {
                let counted = tally(at);
                Ranked {
                    score: counted.score,
                    occurrences: counted.occurrences,
                    updated_at: self.document(at).updated_at,
                    at,
                }
            })
            .collect();
        // Best first: points, then how many of the document's words matched, then the newest,
        // then in the order of the board's corpus.
        let order = |a: &Ranked, b: &Ranked| {
            b.score
                .cmp(&a.score)
                .then(b.occurrences.cmp(&a.occurrences))
                .then(b.updated_at.cmp(&a.updated_at))
                .then_with(|| self.document(a.at).key().cmp(&self.document(b.at).key()))
        };
        let limit = limit.clamp(1, MAX_LIMIT);
        if ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, order);
            ranked.truncate(limit);
        }
        ranked.sort_unstable_by(order);
        let hits = ranked
            .into_iter()
            .map(|ranked| self.hit(self.document(ranked.at), tally(ranked.at).top, query, viewer))
            .collect();
        SearchResults { words: query.texts(), seq: self.version, total, hits }
    }

    fn hit(&self, document: &Document, top: u16, query: &Query, viewer: Viewer) -> SearchHit {
        let title: Vec<TextSpan> = match document.texts.iter().find(|text| text.heading) {
            Some(heading) => spans(&heading.text, query),
            None => document.context.as_deref().map(|context| spans(context, query)).unwrap_or_default(),
        };
        let rest: Vec<&Text> = document.texts.iter().filter(|text| !text.heading).collect();
        let shown = rest.iter().find(|text| has_match(&text.text, query)).or(rest.first());
        SearchHit {
            target: document.target,
            field: field_of_points(top),
            title,
            snippet: shown.map(|text| spans(&text.text, query)).unwrap_or_default(),
            column: document.column,
            author: (!document.anonymous || viewer.is(document.author)).then_some(document.author),
            anonymous: document.anonymous,
            archived: document.archived,
            updated_at: document.updated_at,
        }
    }
}
