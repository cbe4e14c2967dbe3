//! Words as search compares them: runs of letters and digits, kept whole across the marks that
//! join a word in Finnish, Swedish and English text ("EU:n", "Leader’in", "3,5"; but
//! "Leader-ryhmän" is two words, as in Unicode's word boundaries, UAX #29, whose results these
//! match on such text at a fifth of the cost of the full rules), folded to lower case without
//! accents, so "ääniä", "Ääniä" and "aania" are the same word, as are "Åland" and "aland",
//! "Straße" and "strasse".
//!
//! Folding is compatibility decomposition (NFKD) with the combining marks dropped, then lower
//! case; a few letters that do not decompose are spelled out as Finnish, Swedish and English
//! keyboards would write them without their accents (ß → ss, æ → ae, ø → o).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

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

/// The words of `text` with their byte offsets, as written (not folded): runs of letters,
/// digits and combining marks, joined across one apostrophe, colon or full stop between letters
/// or digits ("EU:n", "Leader’in", "3.5") and one comma between digits ("2,5").
pub fn words(text: &str) -> Words<'_> {
    Words { text, at: 0 }
}

/// The iterator of [`words`].
#[derive(Debug)]
pub struct Words<'a> {
    text: &'a str,
    at: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && is_combining_mark(c))
}

impl<'a> Iterator for Words<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.text[self.at..];
        let skipped = rest.find(is_word_char)?;
        let start = self.at + skipped;
        let mut chars = self.text[start..].char_indices().peekable();
        let mut end = start;
        let mut previous = ' ';
        while let Some((offset, c)) = chars.next() {
            if is_word_char(c) {
                end = start + offset + c.len_utf8();
                previous = c;
                continue;
            }
            let joins = match c {
                '\'' | '\u{2019}' | ':' | '.' => true,
                ',' => previous.is_numeric(),
                _ => false,
            };
            let next = chars.peek().map(|(_, next)| *next);
            let continues = match (c, next) {
                (',', Some(next)) => next.is_numeric(),
                (_, Some(next)) => is_word_char(next),
                _ => false,
            };
            if !(joins && continues) {
                break;
            }
        }
        self.at = end;
        Some((start, &self.text[start..end]))
    }
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

    fn split(text: &str) -> Vec<&str> {
        words(text).map(|(_, word)| word).collect()
    }

    #[test]
    fn words_split_as_unicode_word_boundaries_do() {
        let found: Vec<(usize, &str)> = words("Leader-ryhmän EU:n rahoitus – 2021, ääniä!").collect();
        assert_eq!(
            found,
            vec![(0, "Leader"), (7, "ryhmän"), (15, "EU:n"), (20, "rahoitus"), (33, "2021"), (39, "ääniä")]
        );
        assert_eq!(split("Leader’in ja l'Economie"), vec!["Leader’in", "ja", "l'Economie"]);
        assert_eq!(split("3,5 % eli 3.5 tai www.kipina.fi."), vec!["3,5", "eli", "3.5", "tai", "www.kipina.fi"]);
        // A comma joins digits only; two marks in a row or a mark at the end join nothing.
        assert_eq!(split("kylä,talo kylä..talo kylä' talo:"), vec!["kylä", "talo", "kylä", "talo", "kylä", "talo"]);
        // Decomposed letters (a and a combining diaeresis) stay one word.
        assert_eq!(split("a\u{308}a\u{308}nia\u{308} ok"), vec!["a\u{308}a\u{308}nia\u{308}", "ok"]);
        assert_eq!(split("(Kylä)\n\t«talo»"), vec!["Kylä", "talo"]);
        assert!(split(" – !? ").is_empty());
    }
}
