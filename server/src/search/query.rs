//! What someone searched for: its words, folded, and how well a word of a text matches each.
//!
//! A text's word matches a searched word, from the best match to the weakest:
//! - **exactly** ("aania" and "ääniä");
//! - **by prefix**, so an inflected form is found from its start ("kylä" finds "kylässä",
//!   "kylän");
//! - **by stem**: the searched word's Snowball stem (in the board's language) as a prefix, so a
//!   searched inflected form finds the others ("hankkeen" finds "hanke", "kylässä" finds
//!   "kylän");
//! - **as a part** of a longer word, for Finnish compounds ("koulu" finds "kyläkoulun"); only
//!   for searched words of at least [`MIN_PART`] letters, which are specific enough.

use super::fold::{fold, words};
use kipina_proto::Language;
use rust_stemmers::{Algorithm, Stemmer};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words a query may have.
pub const MAX_QUERY_WORDS: usize = 16;
/// The shortest searched word (in characters) that is also looked for inside longer words.
pub const MIN_PART: usize = 4;
/// The shortest stem (in characters) used as a prefix: shorter ones match unrelated words
/// ("ääniä", voices, stems to "ään", the start of "äänestys", a vote).
const MIN_STEM: usize = 4;

/// How well a word matched, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Quality {
    Part = 1,
    Stem = 2,
    Prefix = 3,
    Exact = 4,
}

/// Why a query cannot be searched.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query has no words to search for")]
    Empty,
    #[error("the query is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the query has more than {MAX_QUERY_WORDS} words")]
    TooManyWords,
}

/// One searched word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryWord {
    /// Folded.
    pub text: String,
    /// The folded stem, when it is long enough to be telling and finds more than the word's own
    /// prefix does (the stemmer took an ending off).
    pub stem: Option<String>,
    /// Whether the word is also looked for inside longer words.
    pub part: bool,
}

impl QueryWord {
    /// How well `term` (a folded word of a text) matches this word, if at all.
    pub fn quality(&self, term: &str) -> Option<Quality> {
        if let Some(rest) = term.strip_prefix(self.text.as_str()) {
            return Some(if rest.is_empty() { Quality::Exact } else { Quality::Prefix });
        }
        if self.stem.as_deref().is_some_and(|stem| term.starts_with(stem)) {
            return Some(Quality::Stem);
        }
        (self.part && term.contains(self.text.as_str())).then_some(Quality::Part)
    }
}

/// A parsed query: distinct words, every one of which a hit must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub words: Vec<QueryWord>,
}

fn algorithm(language: Language) -> Algorithm {
    match language {
        Language::Fi => Algorithm::Finnish,
        Language::Sv => Algorithm::Swedish,
        Language::En => Algorithm::English,
    }
}

impl Query {
    /// Reads `text` for a board in `language` (whose stemmer is used).
    pub fn parse(text: &str, language: Language) -> Result<Self, QueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let stemmer = Stemmer::create(algorithm(language));
        let mut parsed: Vec<QueryWord> = Vec::new();
        for (_, word) in words(text) {
            let folded = fold(word);
            if parsed.iter().any(|seen| seen.text == folded) {
                continue;
            }
            // The stemmer knows its language's letters, so it gets the word before folding.
            let stem = fold(&stemmer.stem(&word.to_lowercase()));
            // A stem that the word starts with finds nothing the word's own prefix does not.
            let stem = (stem.chars().count() >= MIN_STEM && !stem.starts_with(&folded)).then_some(stem);
            let part = folded.chars().count() >= MIN_PART;
            parsed.push(QueryWord { text: folded, stem, part });
        }
        if parsed.is_empty() {
            return Err(QueryError::Empty);
        }
        if parsed.len() > MAX_QUERY_WORDS {
            return Err(QueryError::TooManyWords);
        }
        Ok(Self { words: parsed })
    }

    /// The best match of `term` with any of the words.
    pub fn best(&self, term: &str) -> Option<Quality> {
        self.words.iter().filter_map(|word| word.quality(term)).max()
    }

    /// The folded words, for the answer.
    pub fn texts(&self) -> Vec<String> {
        self.words.iter().map(|word| word.text.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> QueryWord {
        Query::parse(text, Language::Fi).expect("a query").words.remove(0)
    }

    #[test]
    fn words_match_exactly_by_prefix_by_stem_and_as_parts() {
        let kyla = word("kylä");
        assert_eq!(kyla.quality("kyla"), Some(Quality::Exact));
        assert_eq!(kyla.quality("kylassa"), Some(Quality::Prefix));
        assert_eq!(kyla.quality("kylan"), Some(Quality::Prefix));
        assert_eq!(kyla.quality("pohjoiskyla"), Some(Quality::Part));
        assert_eq!(kyla.quality("kyl"), None);
        // An inflected form searched finds the others through its stem.
        let hankkeen = word("hankkeen");
        assert_eq!(hankkeen.stem.as_deref(), Some("hank"));
        assert_eq!(hankkeen.quality("hanke"), Some(Quality::Stem));
        assert_eq!(hankkeen.quality("hankkeita"), Some(Quality::Stem));
        assert_eq!(word("kylässä").quality("kylan"), Some(Quality::Stem));
        // Accent-less words find the accented and the other way round.
        assert_eq!(word("aania").quality("aania"), Some(Quality::Exact));
        assert_eq!(word("Ääniä").text, "aania");
        // Short words are not looked for inside others: "tie" would be in far too many.
        assert_eq!(word("tie").quality("kehittaja"), None);
        assert_eq!(word("tie").quality("tieto"), Some(Quality::Prefix));
    }

    #[test]
    fn the_stemmer_is_the_boards_language() {
        let swedish = Query::parse("kommunerna", Language::Sv).expect("a query").words.remove(0);
        assert_eq!(swedish.quality("kommunen"), Some(Quality::Stem));
        let english = Query::parse("villages", Language::En).expect("a query").words.remove(0);
        assert_eq!(english.quality("village"), Some(Quality::Stem));
        // The Finnish stemmer leaves a Swedish plural as it is.
        assert_eq!(word("kommunerna").quality("kommunen"), None);
    }

    #[test]
    fn queries_are_read_into_distinct_folded_words() {
        let query = Query::parse("  Kylä, KYLÄ ja   ääniä! ", Language::Fi).expect("a query");
        assert_eq!(query.texts(), vec!["kyla", "ja", "aania"]);
        assert_eq!(Query::parse(" –!? ", Language::Fi), Err(QueryError::Empty));
        assert_eq!(Query::parse("", Language::Fi), Err(QueryError::Empty));
        assert_eq!(Query::parse(&"a".repeat(201), Language::Fi), Err(QueryError::TooLong));
        assert!(Query::parse(&"ä".repeat(200), Language::Fi).is_ok(), "the limit counts characters, not bytes");
        let many: Vec<String> = (0..17).map(|number| format!("sana{number}")).collect();
        assert_eq!(Query::parse(&many.join(" "), Language::Fi), Err(QueryError::TooManyWords));
    }
}
