//! A data directory written by the last version that stored two sled entries per event (commit
//! dac2851; `tests/fixtures/upgrade-v1/make.py` made it with that version's `kipina serve`: the demo
//! board, a participant who joined, and one card they added with a known command id) opens on
//! this version: the store is upgraded to one entry per event (ADR 0005), every reader sees the
//! board exactly as the old version showed it, a retry of the old command is still a duplicate,
//! new commands go on after it, and `kipina verify` finds the directory intact.

use kipina_tests::{ChildServer, WAIT};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

const PROGRAM: &str = env!("CARGO_BIN_EXE_kipina-under-test");

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upgrade-v1")
}

/// Unpacks the old data directory into `into`; returns its path.
fn unpack(into: &Path) -> PathBuf {
    let status = Process::new("tar")
        .arg("-xzf")
        .arg(fixture_dir().join("data.tar.gz"))
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar runs");
    assert!(status.success(), "the fixture unpacks");
    into.join("data")
}

fn start(data: &Path, log: &Path) -> ChildServer {
    let file = std::fs::File::create(log).expect("a log file");
    ChildServer::start(PROGRAM, data, "info", Stdio::from(file))
}

async fn get(http: &reqwest::Client, server: &ChildServer, path: &str, token: &str) -> Value {
    let response = http.get(format!("{}{path}", server.base)).bearer_auth(token).send().await.expect("answered");
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON")
}

async fn command(http: &reqwest::Client, server: &ChildServer, board: &str, token: &str, body: &Value) -> Value {
    let response = http
        .post(format!("{}/api/boards/{board}/commands", server.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200, "the command is answered 200");
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn a_data_directory_written_with_two_entries_per_event_opens_unchanged_after_the_upgrade() {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("fixture.json")).expect("reads"))
            .expect("the fixture is JSON");
    let text = |key: &str| fixture[key].as_str().expect("a string").to_owned();
    let (board, observer, participant) = (text("board"), text("observer_token"), text("participant_token"));
    let root = tempfile::tempdir().expect("a temporary directory");
    let data = unpack(root.path());
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
    let board_path = format!("/api/boards/{board}");

    let log = root.path().join("first.log");
    let server = start(&data, &log);
    server.wait_until_healthy();
    assert_eq!(get(&http, &server, &board_path, &observer).await, fixture["observer_view"], "the observer's view");
    assert_eq!(get(&http, &server, &board_path, &participant).await, fixture["participant_view"], "the participant's");

    // The card added before the upgrade, sent again: the same seqs, as a duplicate.
    let retry = json!({"command_id": fixture["command_id"], "command": fixture["command"]});
    let again = command(&http, &server, &board, &participant, &retry).await;
    let applied = &fixture["answer"]["outcome"];
    assert_eq!(applied["kind"], "applied");
    let duplicate = json!({"kind": "duplicate", "first_seq": applied["first_seq"], "last_seq": applied["last_seq"]});
    assert_eq!(again["outcome"], duplicate, "{again}");

    // A new card goes on right after the old head.
    let column = fixture["command"]["column"].clone();
    let card = "01930000-0000-7000-8000-0000000ca4d2";
    let add = json!({
        "command_id": "01930000-0000-7000-8000-0000000c0de2",
        "command": {"type": "add_card", "card": card, "column": column, "title": "Uusi kortti", "body": ""},
    });
    let added = command(&http, &server, &board, &participant, &add).await;
    let head = fixture["observer_view"]["seq"].as_u64().expect("the old view's seq");
    assert_eq!(added["outcome"], json!({"kind": "applied", "first_seq": head + 1, "last_seq": head + 1}), "{added}");
    server.stop();
    let first_log = std::fs::read_to_string(&log).expect("the log");
    assert!(first_log.contains("upgraded the event store"), "the upgrade is logged: {first_log}");

    let verified = Process::new(PROGRAM).args(["verify", "--data"]).arg(&data).output().expect("verify runs");
    let said = format!("{}{}", String::from_utf8_lossy(&verified.stdout), String::from_utf8_lossy(&verified.stderr));
    assert!(verified.status.success(), "verify finds the upgraded directory intact: {said}");

    // Opened again, there is nothing left to upgrade and everything is still there.
    let log = root.path().join("second.log");
    let server = start(&data, &log);
    server.wait_until_healthy();
    let view = get(&http, &server, &board_path, &observer).await;
    assert_eq!(view["seq"].as_u64(), Some(head + 1));
    let cards = view["cards"].as_array().expect("cards");
    let old = fixture["observer_view"]["cards"].as_array().expect("cards");
    assert_eq!(cards.len(), old.len() + 1, "the old cards and the new one");
    assert!(cards.iter().any(|found| found["id"] == card), "the new card is there");
    let again = command(&http, &server, &board, &participant, &retry).await;
    assert_eq!(again["outcome"], duplicate, "{again}");
    server.stop();
    let second_log = std::fs::read_to_string(&log).expect("the log");
    assert!(!second_log.contains("upgraded the event store"), "nothing is upgraded twice: {second_log}");
}
