//! `docs/protocol.md` names every error code the server can answer. The codes are gathered from
//! the server's source, where each is written once as a literal: the domain's `DomainError::code`,
//! the HTTP statuses (`status_of`), and every `ApiError::new`, `ErrorBody { code, .. }` and
//! connection error.

use regex_lite::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn server_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("../server/src"), root.join("../domain/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("server/src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The part of `text` from `start` to the end of that item (the first line that is just `}`).
fn item<'a>(text: &'a str, start: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{start} is in the source"));
    let rest = &text[from..];
    &rest[..rest.find("\n}\n").map_or(rest.len(), |end| end + 2)]
}

/// Every error code the server's source can answer with, and where it is written.
fn error_codes() -> BTreeMap<String, BTreeSet<String>> {
    let anywhere = [
        Regex::new(r#"ApiError::new\(\s*"([a-z_]+)""#).expect("a pattern"),
        Regex::new(r#"\bcode:\s*"([a-z_]+)""#).expect("a pattern"),
        // `connection.error(None, "code", …)`, `self.error(Some(id), "code", …)`.
        Regex::new(r#"\.error\(\s*(?:None|Some\([^)]*\)|[a-z_.]+),\s*"([a-z_]+)""#).expect("a pattern"),
    ];
    let literal = Regex::new(r#""([a-z_]+)""#).expect("a pattern");
    let mut codes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in server_sources() {
        let text = std::fs::read_to_string(&path).expect("a source file");
        // Unit tests are not answers.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let name = path.display().to_string();
        let mut found = |code: &str| {
            codes.entry(code.to_owned()).or_default().insert(name.clone());
        };
        for pattern in &anywhere {
            for capture in pattern.captures_iter(text) {
                found(&capture[1]);
            }
        }
        let every_literal_in = |part: &str, found: &mut dyn FnMut(&str)| {
            for capture in literal.captures_iter(part) {
                found(&capture[1]);
            }
        };
        if name.ends_with("domain/src/error.rs") {
            every_literal_in(item(text, "pub fn code(&self)"), &mut found);
        }
        if name.ends_with("routes/mod.rs") {
            every_literal_in(item(text, "pub fn status_of("), &mut found);
            // The JSON body's error handler: `if too_large { "too_large" } else { "malformed" }`.
            every_literal_in(item(text, "pub fn configure("), &mut |code| {
                if ["too_large", "malformed", "not_found"].contains(&code) {
                    found(code);
                }
            });
        }
        if name.ends_with("live/mod.rs") {
            every_literal_in(item(text, "pub fn error_body("), &mut found);
        }
    }
    codes
}

#[test]
fn every_error_code_the_server_can_answer_is_in_the_protocol_doc() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md"))
        .expect("docs/protocol.md");
    let codes = error_codes();
    // The scan finds codes from each kind of place, so it cannot pass by finding nothing.
    for known in [
        "malformed",
        "unauthorized",
        "rate_limited",
        "board_not_found",
        "text_control_characters",
        "last_facilitator",
        "already_subscribed",
        "shutting_down",
        "idempotency_conflict",
        "forbidden_origin",
        "contended",
    ] {
        assert!(codes.contains_key(known), "the scan found {known}; it found {:?}", codes.keys());
    }
    let missing: Vec<String> = codes
        .iter()
        .filter(|(code, _)| !doc.contains(&format!("`{code}`")))
        .map(|(code, places)| format!("{code} ({})", places.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes the server answers but docs/protocol.md does not name:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_text_limit_is_in_the_protocol_doc() {
    use kipina_domain::limits;
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md"))
        .expect("docs/protocol.md");
    let section = doc.split("### Text limits").nth(1).expect("a section \"Text limits\"");
    let section = section.split("\n## ").next().unwrap_or(section).split("\n### ").next().unwrap_or(section);
    for (what, limit) in [
        ("board title", limits::BOARD_TITLE),
        ("board description", limits::BOARD_DESCRIPTION),
        ("display name", limits::DISPLAY_NAME),
        ("column title", limits::COLUMN_TITLE),
        ("label name", limits::LABEL_NAME),
        ("card title", limits::CARD_TITLE),
        ("card body", limits::CARD_BODY),
        ("comment", limits::COMMENT_BODY),
        ("session name", limits::SESSION_NAME),
        ("statement wording", limits::STATEMENT_TEXT),
        ("proposal reason", limits::PROPOSAL_REASON),
    ] {
        let line = section
            .lines()
            .find(|line| line.starts_with("| ") && line.to_lowercase().contains(what))
            .unwrap_or_else(|| panic!("the text limits name the {what}"));
        // Written as in the doc: 2,000.
        let number = if limit >= 1_000 { format!("{},{:03}", limit / 1_000, limit % 1_000) } else { limit.to_string() };
        assert!(line.contains(&format!("| {number} |")), "the {what} limit is {number}: {line}");
    }
}
