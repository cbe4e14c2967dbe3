//! The `kipina` binary's data-directory commands, run as a person would run them.

use kipina_server::store::release::OpenedSled;
use std::path::Path;
use std::process::{Command, Output};

fn kipina(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kipina")).args(args).env_remove("KIPINA_DATA").output().expect("kipina runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn demo(data: &Path) -> String {
    let output = kipina(&["demo", "--data", data.to_str().expect("utf-8 temp path")]);
    assert!(output.status.success(), "{}", text(&output));
    text(&output)
}

fn verify(data: &Path) -> Output {
    kipina(&["verify", "--data", data.to_str().expect("utf-8 temp path")])
}

#[test]
fn demo_creates_the_finnish_board_once_and_it_verifies() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let first = demo(dir.path());
    assert!(first.contains("Created the demo board"), "{first}");
    assert!(first.contains("Leaderin kulmakivet"), "{first}");
    for principle in ["Alhaalta ylöspäin", "Paikallinen kumppanuus", "Innovatiivisuus"] {
        assert!(first.contains(principle), "{principle} missing: {first}");
    }
    let second = demo(dir.path());
    assert!(!second.contains("Created"), "a second run made another board: {second}");

    let report = verify(dir.path());
    assert_eq!(report.status.code(), Some(0), "{}", text(&report));
    assert!(text(&report).contains("intact: 1 boards checked"), "{}", text(&report));
}

#[test]
fn verify_refuses_a_missing_directory_with_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let output = verify(&dir.path().join("nothing-here"));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("has no event log"), "{}", text(&output));
}

#[test]
fn verify_reports_bytes_flipped_in_the_log_file() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    demo(dir.path());
    let log = dir.path().join("events").join("db");
    let mut bytes = std::fs::read(&log).unwrap(); // unwrap: the demo wrote it
    // Flip a byte inside a stored record (its event type is stored in the clear).
    let needle = b"column_added";
    let at = bytes.windows(needle.len()).position(|window| window == needle).expect("a record in the log file");
    bytes[at + 3] ^= 0x20;
    std::fs::write(&log, bytes).unwrap(); // unwrap: the test owns it
    let output = verify(dir.path());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("DAMAGED"), "{}", text(&output));
}

#[test]
fn verify_names_the_board_and_seq_of_a_record_that_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let created = demo(dir.path());
    let board: kipina_proto::BoardId = created
        .split_whitespace()
        .skip_while(|word| *word != "board")
        .nth(1)
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no board id in {created}"));
    {
        // Play bit rot that sled itself does not notice: a changed byte inside our record,
        // written through sled so its own checksums stay valid.
        // Dropped at the end of this block only once sled has let go of the directory, so the
        // `verify` process can open it.
        let events = dir.path().join("events");
        let raw = OpenedSled::open(&sled::Config::new().path(&events).segment_size(8 * 1024 * 1024), &events).unwrap(); // unwrap: the demo wrote it
        // Seq 5 is inside a chunk the writer made of the board's tail (ADR 0011).
        use kipina_server::store::record;
        let (key, mut value) = raw
            .scan_prefix(record::event_prefix(board))
            .map(|item| item.unwrap()) // unwrap: readable
            .find(|(key, _)| matches!(record::parse_key(key), Ok(record::ParsedKey::Chunk { last, .. }) if last >= 5))
            .map(|(key, value)| (key, value.to_vec()))
            .expect("a chunk holds seq 5");
        let at = {
            let chunk = record::decode_chunk(&key, &value).unwrap(); // unwrap: the demo wrote it
            let (_, _, bytes) = chunk.records().find(|(seq, ..)| *seq == 5).expect("the chunk holds seq 5");
            bytes.as_ptr() as usize - value.as_ptr() as usize + bytes.len() - 2
        };
        value[at] ^= 0x01;
        raw.insert(key, value).unwrap(); // unwrap: writable
        raw.flush().unwrap(); // unwrap: as above
    }
    let output = verify(dir.path());
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains(&format!("board {board} seq 5")), "{report}");
    assert!(report.contains("checksum"), "{report}");
}

/// The demo board's id, from `kipina boards`.
fn demo_board(data: &Path) -> String {
    let listed = demo(data);
    let start = listed.find("Leaderin kulmakivet (").expect("the demo board is listed") + "Leaderin kulmakivet (".len();
    listed[start..start + 36].to_owned()
}

#[test]
fn export_writes_each_format_and_import_log_restores_the_board_elsewhere() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let data = dir.path().join("data");
    let board = demo_board(&data);
    let data = data.to_str().expect("utf-8 temp path");
    let markdown = kipina(&["export", "--data", data, "--board", &board, "--format", "md"]);
    assert!(markdown.status.success(), "{}", text(&markdown));
    let summary = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        summary.starts_with("# Yhteenveto: Leaderin kulmakivet")
            && summary.contains("rajoja ylittävä rohkea uudistaja")
    );
    for format in ["csv", "xlsx", "docx", "json"] {
        let out = dir.path().join(format!("board.{format}"));
        let written = kipina(&[
            "export",
            "--data",
            data,
            "--board",
            &board,
            "--format",
            format,
            "--out",
            out.to_str().expect("utf-8"),
        ]);
        assert!(written.status.success(), "{}", text(&written));
        assert!(std::fs::metadata(&out).map(|file| file.len()).unwrap_or(0) > 100, "{format} was written");
    }
    let unknown = kipina(&["export", "--data", data, "--board", &board, "--format", "pdf"]);
    assert!(!unknown.status.success() && text(&unknown).contains("unknown format"));

    let other = dir.path().join("other");
    let log = dir.path().join("board.json");
    let restored = kipina(&["import-log", log.to_str().expect("utf-8"), "--data", other.to_str().expect("utf-8")]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert_eq!(
        String::from_utf8_lossy(&restored.stdout).lines().next(),
        Some(board.as_str()),
        "it prints the board's id"
    );
    let again = kipina(&["import-log", log.to_str().expect("utf-8"), "--data", other.to_str().expect("utf-8")]);
    assert!(!again.status.success() && text(&again).contains("already exists"), "{}", text(&again));
    assert_eq!(verify(&other).status.code(), Some(0));
}

#[test]
fn import_trello_prints_the_new_boards_id_and_what_it_left_behind() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let data = dir.path().to_str().expect("utf-8 temp path");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trello-kylatoimikunta.json");
    let imported = kipina(&["import", "trello", fixture, "--data", data]);
    assert!(imported.status.success(), "{}", text(&imported));
    let output = String::from_utf8_lossy(&imported.stdout);
    let id = output.lines().next().expect("a first line");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{output}");
    assert!(output.contains("Not imported: 1 attachment: "), "{output}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"boards\": []}").expect("written");
    let refused = kipina(&["import", "trello", bad.to_str().expect("utf-8"), "--data", data]);
    assert!(!refused.status.success() && text(&refused).contains("not a Trello board export"), "{}", text(&refused));
}

#[test]
fn verify_names_a_missing_participant_key_and_a_damaged_server_key() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    demo(dir.path());
    // A participant's key file gone without an erasure (a power cut before its directory was
    // synced, say): their texts would read as erased, which verify must call damage.
    let keys = dir.path().join("keys");
    let board = std::fs::read_dir(&keys).unwrap().next().expect("a board's key directory").unwrap().path(); // unwrap: test
    let key = std::fs::read_dir(&board).unwrap().next().expect("a key file").unwrap().path(); // unwrap: test
    std::fs::remove_file(&key).unwrap(); // unwrap: test
    let report = verify(dir.path());
    let said = text(&report);
    assert_ne!(report.status.code(), Some(0), "{said}");
    let participant = key.file_stem().and_then(|stem| stem.to_str()).expect("a participant id");
    assert!(said.contains(&format!("the key of participant {participant} is missing")), "{said}");

    // A flipped bit in the server key: every link would silently stop working.
    drop(kipina_server::access::AccessStore::open(&dir.path().join("access")).expect("access records open"));
    let server_key = dir.path().join("access").join("server.key");
    let mut bytes = std::fs::read(&server_key).unwrap(); // unwrap: test
    bytes[0] ^= 0x80;
    std::fs::write(&server_key, &bytes).unwrap(); // unwrap: test
    let said = text(&verify(dir.path()));
    assert!(said.contains("server.key is damaged (its checksum does not match)"), "{said}");
}

#[test]
fn compact_rewrites_the_demo_log_and_it_still_verifies_and_lists_the_same() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    demo(dir.path());
    let data = dir.path().to_str().unwrap(); // unwrap: a UTF-8 temp path
    let before = text(&kipina(&["boards", "--data", data]));
    let output = kipina(&["compact", "--data", data]);
    assert!(output.status.success(), "{}", text(&output));
    // The demo board's 63 events are one short of a chunk: they are copied one entry each.
    assert!(text(&output).starts_with("Rewrote 63 events in"), "{}", text(&output));
    let output = verify(dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(text(&kipina(&["boards", "--data", data])), before);
}
