//! Words as search compares them: split at Unicode word boundaries (UAX #29, so "EU:n" stays
//! one word and "Leader-ryhmän" is two) and folded to lower case without accents, so "ääniä",
//! "Ääniä" and "aania" are the same word, as are "Åland" and "aland", "Straße" and "strasse".
//!
//! Folding is compatibility decomposition (NFKD) with the combining marks dropped, then lower
//! case; a few letters that do not decompose are spelled out as Finnish, Swedish and English
//! keyboards would write them without their accents (ß → ss, æ → ae, ø → o).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

/// `word` folded into `out` (which is emptied first), so a caller reuses one buffer.
pub fn fold_into(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.extend(word.bytes().map(|byte| char::from(byte.to_ascii_lowercase())));
        return;
    }
    for decomposed in word.nfkd() {
        if is_combining_mark(decomposed) {
            continue;
        }
        match decomposed {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'þ' | 'Þ' => out.push_str("th"),
            'ı' => out.push('i'),
            // Typographic apostrophes inside words ("Leader’in") are the typewriter's.
            '\u{2019}' | '\u{02BC}' => out.push('\''),
            other => out.extend(other.to_lowercase().filter(|lower| !is_combining_mark(*lower))),
        }
    }
}

/// `word` folded.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    out
}

/// The words of `text` with their byte offsets, as written (not folded).
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.unicode_word_indices()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_accents_fold_away() {
        for (written, folded) in [
            ("ääniä", "aania"),
            ("ÄÄNIÄ", "aania"),
            ("Åland", "aland"),
            ("Öljy", "oljy"),
            ("Straße", "strasse"),
            ("Ærø", "aero"),
            ("Œuvre", "oeuvre"),
            ("Łódź", "lodz"),
            ("İstanbul", "istanbul"),
            ("Leader’in", "leader'in"),
            // Compatibility forms: a ligature and full-width letters.
            ("ﬁlmi", "filmi"),
            ("ＫＹＬÄ", "kyla"),
            ("Kylä2030", "kyla2030"),
        ] {
            assert_eq!(fold(written), folded, "{written}");
        }
    }

    #[test]
    fn words_split_at_unicode_word_boundaries() {
        let found: Vec<(usize, &str)> = words("Leader-ryhmän EU:n rahoitus – 2021, ääniä!").collect();
        assert_eq!(
            found,
            vec![(0, "Leader"), (7, "ryhmän"), (15, "EU:n"), (20, "rahoitus"), (33, "2021"), (39, "ääniä")]
        );
    }
}
