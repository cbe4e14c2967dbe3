//! `docs/protocol.md` names every error code the server can answer, with its HTTP status. The
//! codes are one enum, `kipina_proto::ErrorCode`, and `routes::status_of` maps each to its
//! status with an exhaustive match, so the document is checked against both: every code is in
//! the row of its status in the HTTP table (or, if only a WebSocket ever answers it, in the
//! WebSocket table), and every code the tables name is a real one.

use kipina_proto::ErrorCode;
use kipina_server::routes::status_of;
use regex_lite::Regex;
use std::collections::BTreeMap;
use std::path::Path;

fn protocol_doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/protocol.md"))
        .expect("docs/protocol.md")
}

/// The part of `doc` from the line `heading` to the next heading.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let from = doc.find(heading).unwrap_or_else(|| panic!("docs/protocol.md has {heading:?}"));
    let rest = &doc[from + heading.len()..];
    &rest[..rest.find("\n#").map_or(rest.len(), |end| end + 1)]
}

/// The HTTP table: each status and the codes its row names.
fn http_table(doc: &str) -> BTreeMap<u16, String> {
    let from = doc.find("| status | codes |").expect("docs/protocol.md has the table of statuses");
    doc[from..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let status = line.trim_start_matches("| ").split(' ').next().expect("a status");
            (status.parse().unwrap_or_else(|_| panic!("a status in {line:?}")), line.to_owned())
        })
        .collect()
}

fn named(text: &str, code: ErrorCode) -> bool {
    text.contains(&format!("`{code}`"))
}

#[test]
fn every_error_code_is_in_the_protocol_doc_in_the_row_of_its_status() {
    let doc = protocol_doc();
    let http = http_table(&doc);
    let websocket = section(&doc, "### Errors (`error`");
    assert!(http.len() >= 10, "the table of statuses has a row per status: {http:?}");
    let mut wrong = Vec::new();
    for &code in ErrorCode::ALL {
        let status = status_of(code).as_u16();
        let rows: Vec<u16> = http.iter().filter(|(_, row)| named(row, code)).map(|(&status, _)| status).collect();
        match rows.as_slice() {
            [] if named(websocket, code) => {}
            [] => wrong.push(format!("{code}: in neither the HTTP nor the WebSocket table")),
            [row] if *row == status => {}
            rows => wrong.push(format!("{code}: status {status}, but the table puts it in {rows:?}")),
        }
    }
    assert!(wrong.is_empty(), "docs/protocol.md and the error codes differ:\n{}", wrong.join("\n"));
}

#[test]
fn the_protocol_docs_error_tables_name_only_real_codes() {
    let doc = protocol_doc();
    let code = Regex::new(r"^\| `([a-z_]+)` \|").expect("a pattern");
    let mut claimed: Vec<String> = http_table(&doc)
        .values()
        .flat_map(|row| {
            Regex::new(r"`([a-z_]+)`")
                .expect("a pattern")
                .captures_iter(row)
                .map(|found| found[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    claimed.extend(
        section(&doc, "### Errors (`error`")
            .lines()
            .filter_map(|line| code.captures(line))
            .map(|found| found[1].to_owned()),
    );
    let known: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
    let unknown: Vec<&String> = claimed.iter().filter(|claimed| !known.contains(&claimed.as_str())).collect();
    assert!(claimed.len() > 40, "the tables name the codes: {claimed:?}");
    assert!(unknown.is_empty(), "docs/protocol.md names codes the server does not have: {unknown:?}");
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
