//! The search index of one board: its readable texts as documents, and an inverted index from
//! every folded word to the documents (and fields) it is in.
//!
//! The index is a projection of the board state at one version, built whole and never changed:
//! a newer state gets a new index (see [`super::IndexCache`]). The words of the index are kept
//! sorted in one string, so the words a searched word is a prefix of are one range found by
//! binary search, and the words holding a searched word inside (compounds) are found by one
//! substring search over that string: a few hundred kilobytes on the biggest board.

use super::fold::{fold_into, words};
use super::highlight::{has_match, spans};
use super::query::{Quality, Query, QueryWord};
use crate::projection::views::Viewer;
use kipina_domain::BoardState;
use kipina_proto::search::{SearchField, SearchHit, SearchResults, SearchTarget, TextSpan};
use kipina_proto::{ColumnId, Language, ParticipantId, Timestamp};
use std::collections::HashMap;
use std::ops::Range;

/// The most hits one answer carries.
pub const MAX_LIMIT: usize = 50;

/// A searched text of a document.
#[derive(Clone, Debug)]
pub struct Text {
    pub field: SearchField,
    pub text: String,
    /// Whether this text is the hit's title.
    pub heading: bool,
}

/// One thing search can find: a card, a proposal, a comment or a statement, with the texts of
/// it that can be read (erased and deleted words are not here, so they cannot be found).
#[derive(Clone, Debug)]
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

/// A board's documents at one version: what the board's task hands over for an index to be
/// built elsewhere (cloning the texts is quick; folding them takes longer).
#[derive(Clone, Debug)]
pub struct Corpus {
    pub version: u64,
    pub language: Language,
    pub documents: Vec<Document>,
}

fn text(field: SearchField, text: Option<&str>, heading: bool) -> Option<Text> {
    text.filter(|text| !text.trim().is_empty()).map(|text| Text { field, text: text.to_owned(), heading })
}

impl Corpus {
    /// Everything searchable on the board as `state` has it.
    pub fn of(state: &BoardState) -> Self {
        let language = state.info.as_ref().map_or(Language::Fi, |info| info.language);
        let column_archived = |column: &ColumnId| state.columns.get(column).is_some_and(|column| column.archived);
        let mut documents = Vec::with_capacity(state.cards.len() + state.comments.len() + state.columns.len());
        for column in state.columns.values() {
            let Some(current) = column.statement.as_ref().and_then(|statement| statement.versions.last()) else {
                continue;
            };
            // A wording is as anonymous as the proposal it came from.
            let anonymous = current
                .proposal
                .and_then(|card| state.cards.get(&card))
                .is_some_and(|card| state.card_is_anonymous(card));
            documents.push(Document {
                target: SearchTarget::Statement { statement: column.id, version: current.number },
                column: column.id,
                author: current.author,
                anonymous,
                archived: column.archived,
                updated_at: current.adopted_at,
                texts: [
                    text(SearchField::Title, Some(&column.title), true),
                    text(SearchField::Statement, current.text.as_text(), false),
                ]
                .into_iter()
                .flatten()
                .collect(),
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
            let texts: Vec<Text> = texts.into_iter().flatten().collect();
            if texts.is_empty() {
                continue;
            }
            documents.push(Document {
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
        for comment in state.comments.values().filter(|comment| !comment.deleted) {
            let (Some(body), Some(card)) =
                (text(SearchField::Comment, comment.body.as_text(), false), state.cards.get(&comment.card))
            else {
                continue;
            };
            let context = match card.proposal {
                Some(_) => card.body.as_text(),
                None => card.title.as_text(),
            };
            documents.push(Document {
                target: SearchTarget::Comment { comment: comment.id, card: card.id },
                column: card.column,
                author: comment.author,
                anonymous: state.comment_is_anonymous(comment),
                archived: card.archived || column_archived(&card.column),
                updated_at: comment.updated_at,
                texts: vec![body],
                context: context.map(str::to_owned),
            });
        }
        Self { version: state.version, language, documents }
    }
}

/// Where a word occurs: in which document, in which field, how often.
#[derive(Clone, Copy, Debug)]
struct Posting {
    document: u32,
    field: SearchField,
    count: u16,
}

/// The first of `0..count` for which `before` is false (`before` holds for a leading run).
fn partition_point(count: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, count);
    while low < high {
        let middle = low + (high - low) / 2;
        if before(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// How much a field weighs: a match in a heavier field always outranks one in a lighter field,
/// whatever the match's quality.
fn field_rank(field: SearchField) -> u16 {
    match field {
        SearchField::Title => 3,
        SearchField::Statement => 2,
        SearchField::Body => 1,
        SearchField::Comment => 0,
    }
}

/// The points of one searched word matched in `field` with `quality`.
fn points(field: SearchField, quality: Quality) -> u16 {
    field_rank(field) * 10 + quality as u16
}

fn field_of_points(points: u16) -> SearchField {
    match points / 10 {
        3 => SearchField::Title,
        2 => SearchField::Statement,
        1 => SearchField::Body,
        _ => SearchField::Comment,
    }
}

/// A board's search index at one version.
pub struct Index {
    version: u64,
    language: Language,
    documents: Vec<Document>,
    /// Every folded word, sorted, each followed by a line break (which no word holds), so a
    /// part of a word is found in all of them with one substring search.
    terms: String,
    /// Where each word starts in `terms`, and where the next would (one more than there are words).
    starts: Vec<u32>,
    /// The postings of word `i` are `postings[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<u32>,
    postings: Vec<Posting>,
}

/// What ends each word in [`Index::terms`].
const TERM_END: char = '\n';

impl std::fmt::Debug for Index {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Index")
            .field("version", &self.version)
            .field("documents", &self.documents.len())
            .field("terms", &self.terms())
            .field("postings", &self.postings.len())
            .finish()
    }
}

/// What one document gathered while a query ran.
#[derive(Clone, Copy, Default)]
struct Tally {
    /// How many searched words matched so far; a document out of step has missed one.
    matched: u8,
    /// The number (from 1) of the word last seen in this document.
    seen: u8,
    /// The current word's best points here.
    best: u16,
    /// The best points of any word: names the field of the hit.
    top: u16,
    score: u32,
    occurrences: u32,
}

impl Index {
    /// Folds every text of `corpus` into an inverted index.
    pub fn build(corpus: Corpus) -> Self {
        let Corpus { version, language, documents } = corpus;
        let mut ids: HashMap<Box<str>, u32> = HashMap::new();
        // Words as written, each folded once: most words of a board are written again and again.
        let mut written: HashMap<&str, u32> = HashMap::new();
        let mut lists: Vec<Vec<Posting>> = Vec::new();
        let mut folded = String::new();
        for (number, document) in documents.iter().enumerate() {
            // A board holds at most 10,000 cards with 500 comments each, far below u32::MAX.
            let number = u32::try_from(number).unwrap_or(u32::MAX);
            for text in &document.texts {
                for (_, word) in words(&text.text) {
                    let id = match written.get(word) {
                        Some(id) => *id,
                        None => {
                            fold_into(word, &mut folded);
                            let id = match ids.get(folded.as_str()) {
                                Some(id) => *id,
                                None => {
                                    let id = u32::try_from(lists.len()).unwrap_or(u32::MAX);
                                    ids.insert(folded.as_str().into(), id);
                                    lists.push(Vec::new());
                                    id
                                }
                            };
                            written.insert(word, id);
                            id
                        }
                    };
                    let list = &mut lists[id as usize];
                    match list.last_mut() {
                        Some(last) if last.document == number && last.field == text.field => {
                            last.count = last.count.saturating_add(1);
                        }
                        _ => list.push(Posting { document: number, field: text.field, count: 1 }),
                    }
                }
            }
        }
        drop(written);
        let mut sorted: Vec<(Box<str>, u32)> = ids.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut terms = String::with_capacity(sorted.iter().map(|(term, _)| term.len() + 1).sum());
        let mut starts = Vec::with_capacity(sorted.len() + 1);
        let mut offsets = Vec::with_capacity(sorted.len() + 1);
        let mut postings = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        offsets.push(0);
        for (term, id) in sorted {
            starts.push(u32::try_from(terms.len()).unwrap_or(u32::MAX));
            terms.push_str(&term);
            terms.push(TERM_END);
            postings.extend_from_slice(&lists[id as usize]);
            offsets.push(u32::try_from(postings.len()).unwrap_or(u32::MAX));
        }
        starts.push(u32::try_from(terms.len()).unwrap_or(u32::MAX));
        Self { version, language, documents, terms, starts, offsets, postings }
    }

    /// Word `index` of the sorted words.
    fn term(&self, index: usize) -> &str {
        &self.terms[self.starts[index] as usize..self.starts[index + 1] as usize - TERM_END.len_utf8()]
    }

    /// The board version this index describes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The board's language, whose stemmer reads queries.
    pub fn language(&self) -> Language {
        self.language
    }

    pub fn documents(&self) -> usize {
        self.documents.len()
    }

    /// How many different words the index holds.
    pub fn terms(&self) -> usize {
        self.starts.len() - 1
    }

    /// The words starting with `prefix`: a range of the sorted words.
    fn prefix_range(&self, prefix: &str) -> Range<usize> {
        let count = self.terms();
        let start = partition_point(count, |index| self.term(index) < prefix);
        let end = start + partition_point(count - start, |index| self.term(start + index).starts_with(prefix));
        start..end
    }

    /// The words that hold `part` anywhere, in order.
    fn holding(&self, part: &str) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for at in memchr::memmem::find_iter(self.terms.as_bytes(), part.as_bytes()) {
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            let index = self.starts.partition_point(|start| *start <= at).saturating_sub(1);
            if found.last() != Some(&index) {
                found.push(index);
            }
        }
        found
    }

    /// Every word that `word` matches, with how well.
    fn matching_terms(&self, word: &QueryWord) -> Vec<(usize, Quality)> {
        // The words holding the searched word include those it starts and those it equals.
        let mut candidates: Vec<usize> =
            if word.part { self.holding(&word.text) } else { self.prefix_range(&word.text).collect() };
        if let Some(stem) = &word.stem {
            candidates.extend(self.prefix_range(stem));
            candidates.sort_unstable();
            candidates.dedup();
        }
        candidates
            .into_iter()
            .filter_map(|index| word.quality(self.term(index)).map(|quality| (index, quality)))
            .collect()
    }

    /// The documents that match every word of `query`, best first, at most `limit` of them
    /// (and at most [`MAX_LIMIT`]), as `viewer` may see them.
    pub fn search(&self, query: &Query, viewer: Viewer, limit: usize) -> SearchResults {
        let mut tallies = vec![Tally::default(); self.documents.len()];
        for (number, word) in query.words.iter().enumerate() {
            // A query has at most MAX_QUERY_WORDS words, so these fit.
            let before = u8::try_from(number).unwrap_or(u8::MAX);
            let seen = before.saturating_add(1);
            let mut touched: Vec<u32> = Vec::new();
            for (term, quality) in self.matching_terms(word) {
                let postings = &self.postings[self.offsets[term] as usize..self.offsets[term + 1] as usize];
                for posting in postings {
                    let tally = &mut tallies[posting.document as usize];
                    if tally.matched != before {
                        continue;
                    }
                    if tally.seen != seen {
                        tally.seen = seen;
                        tally.best = 0;
                        touched.push(posting.document);
                    }
                    tally.best = tally.best.max(points(posting.field, quality));
                    tally.occurrences = tally.occurrences.saturating_add(u32::from(posting.count));
                }
            }
            for document in touched {
                let tally = &mut tallies[document as usize];
                tally.matched += 1;
                tally.score += u32::from(tally.best);
                tally.top = tally.top.max(tally.best);
            }
        }
        let words = u8::try_from(query.words.len()).unwrap_or(u8::MAX);
        let mut found: Vec<u32> = (0..tallies.len())
            .filter(|index| tallies[*index].matched == words)
            .filter_map(|index| u32::try_from(index).ok())
            .collect();
        let total = u32::try_from(found.len()).unwrap_or(u32::MAX);
        // Best first: points, then how many of the document's words matched, then the newest.
        let order = |a: &u32, b: &u32| {
            let (left, right) = (&tallies[*a as usize], &tallies[*b as usize]);
            right
                .score
                .cmp(&left.score)
                .then(right.occurrences.cmp(&left.occurrences))
                .then(self.documents[*b as usize].updated_at.cmp(&self.documents[*a as usize].updated_at))
                .then(a.cmp(b))
        };
        let limit = limit.clamp(1, MAX_LIMIT);
        if found.len() > limit {
            found.select_nth_unstable_by(limit - 1, order);
            found.truncate(limit);
        }
        found.sort_unstable_by(order);
        let hits = found
            .into_iter()
            .map(|index| self.hit(&self.documents[index as usize], tallies[index as usize].top, query, viewer))
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
