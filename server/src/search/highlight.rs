//! Matched text as spans for a client to render as plain text: every word that matches a
//! searched word is a highlighted span (the whole word, as written), and a long text is cut to
//! a window around its first match, the cuts marked with `…`.

use super::fold::{fold_into, words};
use super::query::Query;
use kipina_proto::search::TextSpan;
use std::ops::Range;

/// The most characters of a text shown around its first match.
pub const WINDOW_CHARS: usize = 160;
/// How many characters before the first match a window starts (at a word's start).
const LEAD_CHARS: usize = 40;
/// What marks a cut.
const ELLIPSIS: &str = "…";

/// The byte ranges of the words of `text` that match `query`.
pub fn matches(text: &str, query: &Query) -> Vec<Range<usize>> {
    let mut folded = String::new();
    words(text)
        .filter_map(|(start, word)| {
            fold_into(word, &mut folded);
            query.best(&folded).map(|_| start..start + word.len())
        })
        .collect()
}

/// Whether any word of `text` matches `query`.
pub fn has_match(text: &str, query: &Query) -> bool {
    let mut folded = String::new();
    words(text).any(|(_, word)| {
        fold_into(word, &mut folded);
        query.best(&folded).is_some()
    })
}

/// `text` as spans, highlighted where it matches `query`, cut to a window of about
/// [`WINDOW_CHARS`] characters around the first match (or its start) when it is longer.
pub fn spans(text: &str, query: &Query) -> Vec<TextSpan> {
    let found = matches(text, query);
    let window = window(text, found.first().map_or(0, |first| first.start));
    let mut spans: Vec<TextSpan> = Vec::new();
    let mut push = |piece: &str, highlight: bool| {
        if piece.is_empty() {
            return;
        }
        match spans.last_mut() {
            Some(last) if last.highlight == highlight => last.text.push_str(piece),
            _ => spans.push(TextSpan { text: piece.to_owned(), highlight }),
        }
    };
    if window.start > 0 {
        push(ELLIPSIS, false);
    }
    let mut at = window.start;
    for range in found.iter().filter(|range| range.start >= window.start && range.end <= window.end) {
        push(&text[at..range.start], false);
        push(&text[range.clone()], true);
        at = range.end;
    }
    push(&text[at..window.end], false);
    if window.end < text.len() {
        push(ELLIPSIS, false);
    }
    spans
}

/// The byte range of `text` to show when its first match starts at byte `first`: the whole
/// text when it is short; otherwise from a word's start a little before the match, about
/// [`WINDOW_CHARS`] characters, ending after a whole word.
fn window(text: &str, first: usize) -> Range<usize> {
    if text.chars().count() <= WINDOW_CHARS {
        return 0..text.len();
    }
    // Start at the first word that begins no more than LEAD_CHARS characters before the match.
    let lead_start = text[..first].char_indices().rev().nth(LEAD_CHARS - 1).map_or(0, |(index, _)| index);
    let start = if lead_start == 0 {
        0
    } else {
        words(text).map(|(index, _)| index).find(|index| *index >= lead_start).unwrap_or(first).min(first)
    };
    let limit = text[start..].char_indices().nth(WINDOW_CHARS).map_or(text.len(), |(index, _)| start + index);
    if limit == text.len() {
        return start..text.len();
    }
    // End after the last whole word before the limit (or the first word, when it is longer).
    let end = words(&text[start..])
        .map(|(index, word)| start + index + word.len())
        .take_while(|end| *end <= limit)
        .last()
        .unwrap_or(limit);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use kipina_proto::Language;

    fn query(text: &str) -> Query {
        Query::parse(text, Language::Fi).expect("a query")
    }

    fn shown(spans: &[TextSpan]) -> Vec<(&str, bool)> {
        spans.iter().map(|span| (span.text.as_str(), span.highlight)).collect()
    }

    #[test]
    fn matching_words_are_highlighted_as_written() {
        let spans = spans("Kylässä kuultiin ääniä, ÄÄNIÄ ja äänestys.", &query("aania kyla"));
        assert_eq!(
            shown(&spans),
            vec![
                ("Kylässä", true),
                (" kuultiin ", false),
                ("ääniä", true),
                (", ", false),
                ("ÄÄNIÄ", true),
                (" ja äänestys.", false),
            ]
        );
    }

    #[test]
    fn a_text_without_a_match_is_one_plain_span() {
        assert_eq!(shown(&spans("Lähiruoka", &query("kyla"))), vec![("Lähiruoka", false)]);
        assert!(spans("", &query("kyla")).is_empty());
    }

    #[test]
    fn a_long_text_is_cut_to_a_window_around_its_first_match() {
        let before = "Alkuun paljon sanoja ilman osumaa. ".repeat(10);
        let after = " Lopuksi vielä paljon muuta tekstiä.".repeat(10);
        let text = format!("{before}Kylätalon remontti{after}");
        let spans = spans(&text, &query("kylatalo"));
        let joined: String = spans.iter().map(|span| span.text.as_str()).collect();
        assert!(joined.starts_with('…') && joined.ends_with('…'), "{joined}");
        assert!(joined.chars().count() <= WINDOW_CHARS + 2, "{joined}");
        assert_eq!(spans.iter().filter(|span| span.highlight).count(), 1);
        assert_eq!(spans[1].text, "Kylätalon");
        // The window starts at a word's start, up to LEAD_CHARS characters before the match.
        let lead = spans[0].text.chars().count();
        assert!(lead <= LEAD_CHARS + 1 && spans[0].text.starts_with("…"), "{:?}", spans[0]);
        assert!(spans[0].text[ELLIPSIS.len()..].starts_with(|c: char| c.is_alphabetic()), "{:?}", spans[0]);
        // Every piece is text of the original, in order.
        let original: String = joined.trim_matches('…').to_owned();
        assert!(text.contains(&original));
    }

    #[test]
    fn a_long_text_with_its_match_at_the_start_is_cut_at_the_end_only() {
        let text = format!("Kylätalo {}", "ja muuta ".repeat(40));
        let spans = spans(&text, &query("kylatalo"));
        assert_eq!(shown(&spans[..1]), vec![("Kylätalo", true)]);
        let last = spans.last().expect("spans");
        assert!(last.text.ends_with(" ja…") || last.text.ends_with(" muuta…"), "cut after a whole word: {last:?}");
        let shown: usize = spans.iter().map(|span| span.text.chars().count()).sum();
        assert!(shown <= WINDOW_CHARS + 1, "{shown}");
    }
}
