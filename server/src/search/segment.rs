//! An inverted index over a list of documents, built whole and never changed: from every folded
//! word to the documents (and fields) it is in.
//!
//! The words are kept sorted in one string, so the words a searched word is a prefix of are one
//! range found by binary search, and the words holding a searched word inside (compounds) are
//! found by one substring search over that string: a few hundred kilobytes on the biggest board.
//!
//! A segment's documents are in [`super::DocumentKey`] order (a board's corpus is gathered in it), so
//! the documents of a segment and of a board's state can be compared in one walk over both.

use super::fold::{fold_into, words};
use super::index::Document;
use super::query::{Quality, Query, QueryWord};
use kipina_proto::search::SearchField;
use std::collections::HashMap;
use std::ops::Range;

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

/// The field named by the points of [`points`].
pub fn field_of_points(points: u16) -> SearchField {
    match points / 10 {
        3 => SearchField::Title,
        2 => SearchField::Statement,
        1 => SearchField::Body,
        _ => SearchField::Comment,
    }
}

/// The documents of a board (all of them, or those changed since another segment was built)
/// and their inverted index.
pub struct Segment {
    /// The board version the documents were read at.
    version: u64,
    /// In [`super::DocumentKey`] order, each key once.
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

/// What ends each word in [`Segment::terms`].
const TERM_END: char = '\n';

impl std::fmt::Debug for Segment {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Segment")
            .field("version", &self.version)
            .field("documents", &self.documents.len())
            .field("terms", &self.terms())
            .field("postings", &self.postings.len())
            .finish()
    }
}

/// What one document gathered while a query ran.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// How many searched words matched so far; a document out of step has missed one.
    pub matched: u8,
    /// The number (from 1) of the word last seen in this document.
    seen: u8,
    /// The current word's best points here.
    best: u16,
    /// The best points of any word: names the field of the hit.
    pub top: u16,
    pub score: u32,
    pub occurrences: u32,
}

impl Segment {
    /// Folds every text of `documents` (read at board `version`) into an inverted index.
    pub fn build(version: u64, mut documents: Vec<Document>) -> Self {
        if !documents.is_sorted_by_key(Document::key) {
            documents.sort_by_key(Document::key);
        }
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
        Self { version, documents, terms, starts, offsets, postings }
    }

    /// No documents.
    pub fn empty(version: u64) -> Self {
        Self::build(version, Vec::new())
    }

    /// The board version the documents were read at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The documents, in key order.
    pub fn documents(&self) -> &[Document] {
        &self.documents
    }

    /// How many different words the segment holds.
    pub fn terms(&self) -> usize {
        self.starts.len() - 1
    }

    /// Word `index` of the sorted words.
    fn term(&self, index: usize) -> &str {
        &self.terms[self.starts[index] as usize..self.starts[index + 1] as usize - TERM_END.len_utf8()]
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

    /// What each document gathered for `query`: those whose `matched` is the number of the
    /// query's words matched every word. A document's tally depends on its own words only, so
    /// it is the same in whichever segment the document is.
    pub fn tally(&self, query: &Query) -> Vec<Tally> {
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
        tallies
    }
}
