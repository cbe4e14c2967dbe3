//! Exports and uploads over HTTP: the facilitator downloads every format, a JSON log restores
//! the board on another server, and a Trello export becomes a new board for its uploader.

use kipina_proto::Command;
use kipina_tests::{TestServer, Workshop, add_card};

const TRELLO: &str = include_str!("../../../server/tests/fixtures/trello-kylatoimikunta.json");

#[tokio::test]
async fn a_facilitator_downloads_every_format_and_a_participant_none() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let (_, command) = add_card(workshop.column, "=HYPERLINK(\"http://pahis\")");
    server.http_applied(workshop.board, &aino.token, &command).await;
    let url = |format: &str| format!("{}/api/boards/{}/export?format={format}", server.base_url(), workshop.board);
    for (format, content_type, starts) in [
        ("md", "text/markdown; charset=utf-8", &b"# "[..]),
        ("csv", "text/csv; charset=utf-8", b"\xEF\xBB\xBF"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
        ("json", "application/json", b"{"),
    ] {
        let response =
            server.http().get(url(format)).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 200, "{format}");
        let header = |name: &str| response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
        assert_eq!(header("content-type").as_deref(), Some(content_type));
        let disposition = header("content-disposition").expect("a file name");
        assert!(
            disposition.starts_with("attachment; filename=\"Ty") && disposition.ends_with(&format!(".{format}\"")),
            "{disposition}"
        );
        let bytes = response.bytes().await.expect("a body");
        assert!(bytes.starts_with(starts), "{format}");
        if format == "csv" {
            assert!(String::from_utf8_lossy(&bytes).contains("'=HYPERLINK"), "neutralised over HTTP too");
        }
    }
    let refused = server.http().get(url("md")).bearer_auth(&aino.token).send().await.expect("answered");
    assert_eq!(refused.status().as_u16(), 403);
    let unknown =
        server.http().get(url("pdf")).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    assert_eq!(unknown.status().as_u16(), 400);
    let log_of_a_session = format!("{}&session={}", url("json"), uuid::Uuid::nil());
    let refused =
        server.http().get(log_of_a_session).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    assert_eq!(refused.status().as_u16(), 400, "the log is always the whole board");
}

#[tokio::test]
async fn a_json_log_restores_the_board_on_another_server() {
    let source = TestServer::start().await;
    let workshop = Workshop::open(&source).await;
    let aino = workshop.participant(&source, "Aino").await;
    let (card, command) = add_card(workshop.column, "Kyläkoulun kerhotila");
    source.http_applied(workshop.board, &aino.token, &command).await;
    source.http_applied(workshop.board, &aino.token, &Command::CastVote { card }).await;
    let url = format!("{}/api/boards/{}/export?format=json", source.base_url(), workshop.board);
    let log = source.http().get(url).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    let log = log.bytes().await.expect("the log");
    let original = source.board(workshop.board, &workshop.facilitator.token).await;

    let target = TestServer::start().await;
    let upload = |server: &TestServer, body: Vec<u8>| {
        server.http().post(format!("{}/api/import/log", server.base_url())).body(body).send()
    };
    let restored = upload(&target, log.to_vec()).await.expect("answered");
    assert_eq!(restored.status().as_u16(), 201);
    let restored: serde_json::Value = restored.json().await.expect("json");
    assert_eq!(restored["board"], workshop.board.to_string());
    let link = restored["links"]["facilitator"].as_str().expect("a facilitator link");
    let fanni = target.join(link, "Fanni").await;
    let view = target.board(workshop.board, &fanni.token).await;
    assert_eq!(view.cards, original.cards, "the same cards, dots and authors");
    assert_eq!(view.columns, original.columns);

    let again = upload(&target, log.to_vec()).await.expect("answered");
    assert_eq!(again.status().as_u16(), 409, "a board is restored only where it is not");
    let garbage = upload(&target, b"{\"format\":\"kipina-log\"}".to_vec()).await.expect("answered");
    assert_eq!(garbage.status().as_u16(), 400);
}

#[tokio::test]
async fn a_trello_upload_becomes_a_board_for_its_uploader() {
    let server = TestServer::start().await;
    let url = format!("{}/api/import/trello?name=Fanni", server.base_url());
    let response = server.http().post(&url).body(TRELLO).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["report"]["cards"], 5);
    assert!(body["report"]["not_imported"].as_array().is_some_and(|lines| !lines.is_empty()));
    let token = body["session"]["token"].as_str().expect("a token");
    let board: kipina_proto::BoardId = serde_json::from_value(body["session"]["board"].clone()).expect("a board id");
    let view = server.board(board, token).await;
    assert_eq!(view.info.title, "Kylätoimikunta 2026");
    assert_eq!(view.comments.len(), 3);

    let refused = server.http().post(&url).body("{\"name\": \"ei trello\"}").send().await.expect("answered");
    assert_eq!(refused.status().as_u16(), 400);
    let error: serde_json::Value = refused.json().await.expect("an error body");
    assert_eq!(error["code"], "malformed");
}
