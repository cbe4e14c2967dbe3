//! The HTTP routes: health, metrics, boards, invitations, links, and the statuses of errors.

use kipina_proto::ErrorCode;
use kipina_proto::api::ErrorBody;
use kipina_proto::{BoardSettings, CardStatus, Command, Language, Role};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, link_part, new_card_id, new_command_id};

#[tokio::test]
async fn health_answers_200_ok() {
    let server = TestServer::start().await;
    let response = server.get("/health").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("a body").trim(), "ok");
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_kipina_metrics() {
    let server = TestServer::start().await;
    // Some traffic first, so that counters have something to count.
    let workshop = Workshop::open(&server).await;
    let _client = WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;

    let response = server.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("");
    assert!(
        content_type.starts_with("text/plain") || content_type.starts_with("application/openmetrics-text"),
        "content type {content_type:?}"
    );
    let text = response.text().await.expect("a body");
    assert!(text.lines().any(|line| line.starts_with("# TYPE kipina_")), "no kipina_ metric type line:\n{text}");
    let samples: Vec<&str> = text.lines().filter(|line| line.starts_with("kipina_")).collect();
    assert!(!samples.is_empty(), "no kipina_ samples:\n{text}");
    for sample in samples {
        let value = sample.rsplit(' ').next().expect("a value");
        assert!(value.parse::<f64>().is_ok(), "a sample without a number: {sample}");
    }
    assert!(!text.contains(&workshop.facilitator.token), "a token in the metrics");
}

#[tokio::test]
async fn a_board_is_readable_with_a_token() {
    let server = TestServer::start().await;
    let created = server.create_board_titled("Kylätoimikunnan ilta", "Fasilitaattori").await;
    let board = created.session.board;
    let fresh = server.board(board, &created.session.token).await;
    assert_eq!(fresh.id, board);
    assert_eq!(fresh.info.title, "Kylätoimikunnan ilta");
    assert_eq!(fresh.info.description, "Black-box test");
    assert_eq!(fresh.info.language, Language::Fi);
    assert_eq!(fresh.info.settings, BoardSettings::default());
    let facilitator = fresh.participants.iter().find(|p| p.id == created.session.participant).expect("the creator");
    assert_eq!(facilitator.role, Role::Facilitator);
    assert_eq!(facilitator.display_name.as_deref(), Some("Fasilitaattori"));

    let (column, command) = kipina_tests::add_column("Ideat");
    let (_, last_seq) = server.http_applied(board, &created.session.token, &command).await;
    let aino = server.join(&created.links.participant, "Aino").await;
    let (card, command) = add_card(column, "Kortti");
    server.http_applied(board, &aino.token, &command).await;

    let mut view = server.board(board, &aino.token).await;
    let own = view.participants.iter().find(|p| p.id == aino.participant).map(|p| p.votes_used);
    assert_eq!(own, Some(Some(0)));
    assert_eq!(view.seq, last_seq + 2, "Aino's joining and her card");
    assert_eq!(view.columns.iter().map(|column| column.id).collect::<Vec<_>>(), vec![column]);
    assert_eq!(view.columns[0].cards, vec![card]);
    assert_eq!(view.cards.len(), 1);
    assert_eq!(view.cards[0].author, Some(aino.participant));
    // Every reader sees the same board, except that each is told only their own dots used, their
    // own marks and follows, and their own notifications.
    assert!(view.participants.iter().filter(|p| p.own.is_some()).all(|p| p.id == aino.participant));
    let mut facilitators = server.board(board, &created.session.token).await;
    for participant in facilitators.participants.iter_mut().chain(view.participants.iter_mut()) {
        participant.votes_used = None;
        participant.own = None;
    }
    assert_eq!(facilitators, view);
}

#[tokio::test]
async fn an_invitation_tells_the_board_title_and_the_role() {
    let server = TestServer::start().await;
    let created = server.create_board_titled("Kesäteatteri", "Fasilitaattori").await;
    let links = &created.links;
    for (link, role) in [
        (&links.participant, Role::Participant),
        (&links.facilitator, Role::Facilitator),
        (&links.observer, Role::Observer),
    ] {
        let info = server.invitation(link).await.unwrap_or_else(|error| panic!("{link}: {error:?}"));
        assert_eq!(info.board, created.session.board);
        assert_eq!(info.title, "Kesäteatteri");
        assert_eq!(info.role, role, "{link}");
    }
    let forged = format!("/join/{}/p/{}", created.session.board, "A".repeat(43));
    let (status, _) = server.invitation(&forged).await.expect_err("a forged link leads nowhere");
    assert!((400..500).contains(&status), "{status}");
    // Asking about an invitation joins nobody.
    assert_eq!(server.board(created.session.board, &created.session.token).await.participants.len(), 1);
}

#[tokio::test]
async fn the_links_are_for_facilitators() {
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    let board = created.session.board;
    assert_eq!(server.links(board, &created.session.token).await, Ok(created.links.clone()));
    let aino = server.join(&created.links.participant, "Aino").await;
    let (status, body) = server.links(board, &aino.token).await.expect_err("a participant may not read the links");
    assert_eq!((status, body.code.as_str()), (403, "forbidden"));
    let (status, _) = server.links(board, link_part(&created.links.observer)).await.expect_err("nor an observer");
    assert!(status == 401 || status == 403, "{status}");
}

#[tokio::test]
async fn http_command_errors_have_the_documented_statuses() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let board = workshop.board;
    let aino = server.join(&workshop.links.participant, "Aino").await;
    let (card, command) = add_card(workshop.column, "Kortti");
    server.http_applied(board, &aino.token, &command).await;
    server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    server.http_applied(board, &aino.token, &Command::CastVote { card }).await;

    let cases: Vec<(&str, Command, u16, &str)> = vec![
        (
            aino.token.as_str(),
            Command::AddCard { card: new_card_id(), column: workshop.column, title: " ".into(), body: "".into() },
            400,
            "text_empty",
        ),
        (
            aino.token.as_str(),
            Command::AddCard { card: new_card_id(), column: workshop.column, title: "x".repeat(201), body: "".into() },
            400,
            "text_too_long",
        ),
        (aino.token.as_str(), Command::SetCardStatus { card, status: CardStatus::Done }, 403, "forbidden"),
        (
            aino.token.as_str(),
            Command::EditCard { card, title: "Uusi".into(), body: "".into(), base_version: 7 },
            409,
            "stale_version",
        ),
        (aino.token.as_str(), command.clone(), 409, "already_exists"),
        (aino.token.as_str(), Command::CastVote { card: new_card_id() }, 404, "not_found"),
        (aino.token.as_str(), Command::CastVote { card }, 422, "vote_cap_reached"),
        (
            workshop.facilitator.token.as_str(),
            Command::ChangeSettings { settings: BoardSettings { vote_budget: 0, votes_per_card: 0 } },
            400,
            "invalid_settings",
        ),
    ];
    let head = server.board(board, &aino.token).await.seq;
    for (token, command, status, code) in cases {
        let name = command.name();
        let answer = server.http_command(board, Some(token), new_command_id(), &command).await;
        let (answered_status, body) = answer.expect_err("refused");
        assert_eq!((answered_status, body.code.as_str()), (status, code), "{name}: {}", body.message);
        assert!(!body.message.is_empty(), "{name}: an error says something to people too");
    }
    assert_eq!(server.board(board, &aino.token).await.seq, head, "no refused command stored anything");
}

#[tokio::test]
async fn malformed_http_bodies_are_400_with_an_error_body() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let url = format!("{}/api/boards/{}/commands", server.base_url(), workshop.board);
    for body in [
        "{not json",
        r#"{"command_id":"x"}"#,
        r#"{"command_id":"00000000-0000-0000-0000-000000000000","command":{"type":"fly"}}"#,
    ] {
        let response = server
            .http()
            .post(&url)
            .bearer_auth(&workshop.facilitator.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        assert_eq!(status, 400, "{body}: {text}");
        let error: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {text}"));
        assert_eq!(error.code, ErrorCode::Malformed, "{body}");
    }
    let response = server
        .http()
        .post(format!("{}/api/join", server.base_url()))
        .json(&serde_json::json!({"invitation": 5}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 400);
    let error: ErrorBody = response.json().await.expect("an ErrorBody");
    assert_eq!(error.code, ErrorCode::Malformed);
    let _ = new_command_id();
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = TestServer::start().await;
    for path in ["/", "/health", "/api/boards/not-a-board", "/join/a/p/b"] {
        let response = server.get(path).await;
        let headers = response.headers();
        let csp = headers.get("content-security-policy").and_then(|value| value.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp:?}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp:?}");
        assert_eq!(
            headers.get("x-content-type-options").map(|value| value.as_bytes()),
            Some(&b"nosniff"[..]),
            "{path}"
        );
        assert_eq!(headers.get("referrer-policy").map(|value| value.as_bytes()), Some(&b"no-referrer"[..]), "{path}");
    }
}

#[tokio::test]
async fn client_routes_get_the_page_and_unknown_api_routes_a_json_404() {
    let server = TestServer::start().await;
    for path in ["/", "/join/01a20874-6a83-71de-8cf6-bdfd368cca0e/p/secret", "/b/01a20874-6a83-71de-8cf6-bdfd368cca0e"]
    {
        let response = server.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let kind = response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or_default();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        assert!(response.text().await.expect("a page").contains("<html"), "{path}");
    }
    let missing = server.get("/api/no-such-route").await;
    assert_eq!(missing.status().as_u16(), 404);
    let body: kipina_proto::api::ErrorBody = missing.json().await.expect("an error body");
    assert_eq!(body.code, ErrorCode::NotFound);
}
