//! Who may do what: roles come from the link a person joined with, observers only read, a token
//! is good for its own board only, and anything without a valid token is `unauthorized`.

use kipina_proto::ErrorCode;
use kipina_proto::{BoardSettings, CardStatus, Command, Role, ServerMessage};
use kipina_tests::{Received, TestServer, Workshop, WsClient, add_card, add_column, link_part, new_command_id};

/// Reads until the connection closes and returns the close code (failing if it just ends).
async fn close_code(client: &mut WsClient) -> u16 {
    loop {
        match client.receive().await {
            Received::Message(_) => continue,
            Received::Closed(Some(frame)) => return frame.code.into(),
            other => panic!("the connection ended without a close code: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_participant_may_not_send_facilitator_commands() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let (card, command) = add_card(workshop.column, "Oma kortti");
    client.applied(command).await;
    let head = client.last_seq.expect("applied");

    let facilitator_only = [
        add_column("Ei sallittu").1,
        Command::ChangeSettings { settings: BoardSettings { vote_budget: 10, votes_per_card: 3 } },
        Command::ChangeRole { participant: aino.participant, role: Role::Facilitator },
        Command::ChangeRole { participant: workshop.facilitator.participant, role: Role::Participant },
        Command::SetCardStatus { card, status: CardStatus::Selected },
        Command::EraseParticipant { participant: workshop.facilitator.participant },
    ];
    for command in facilitator_only {
        let name = command.name();
        assert_eq!(client.refused(command.clone()).await, ErrorCode::Forbidden, "{name} over WebSocket");
        let answer = server.http_command(workshop.board, Some(&aino.token), new_command_id(), &command).await;
        let (status, body) = answer.expect_err("refused over HTTP");
        assert_eq!((status, body.code.as_str()), (403, "forbidden"), "{name} over HTTP");
    }

    // Someone else's card is not theirs to edit.
    let eero = workshop.participant(&server, "Eero").await;
    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let edit = Command::EditCard { card, title: "Kaapattu".into(), body: String::new(), base_version: 1 };
    assert_eq!(eero_client.refused(edit).await, ErrorCode::NotAuthor);

    let view = server.board(workshop.board, &workshop.facilitator.token).await;
    assert_eq!(view.seq, head + 1, "nothing was stored but Eero's joining");
    assert_eq!(view.columns.len(), 1);
    assert_eq!(view.info.settings, BoardSettings::default());
}

#[tokio::test]
async fn an_observer_reads_the_board_live_but_every_command_is_read_only() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let observer_token = link_part(&workshop.links.observer).to_owned();

    let mut observer = WsClient::connect(&server, workshop.board, &observer_token, None).await;
    assert_eq!(observer.you, None, "an observer has not joined");
    assert_eq!(observer.role, Some(Role::Observer));
    match observer.next().await {
        ServerMessage::Snapshot { board } => assert_eq!(board.id, workshop.board),
        other => panic!("an observer subscribing afresh gets a snapshot, not {other:?}"),
    }
    let (_, observers) = observer.expect_presence().await;
    assert_eq!(observers, 1);

    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let (card, command) = add_card(workshop.column, "Nähtävillä");
    aino_client.applied(command).await;
    observer.expect_card(card).await;
    let head = observer.last_seq.expect("applied");

    for command in [
        add_card(workshop.column, "Tarkkailijan").1,
        Command::CastVote { card },
        Command::Rename { display_name: "Tarkkailija".into() },
        add_column("Tarkkailijan sarake").1,
    ] {
        let name = command.name();
        assert_eq!(observer.refused(command).await, ErrorCode::ReadOnly, "{name}");
    }
    // The connection stays and keeps receiving.
    let (card, command) = add_card(workshop.column, "Toinen");
    aino_client.applied(command).await;
    observer.expect_card(card).await;
    assert_eq!(observer.last_seq, Some(head + 1), "the refused commands stored nothing");
}

#[tokio::test]
async fn a_bad_token_is_unauthorized_and_the_socket_closes_with_4001() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let forged = format!("kp_{}", "A".repeat(43));
    let observer_of_nothing = format!("{}/o/{}", workshop.board, "B".repeat(43));
    for token in [forged.as_str(), "", "not a token", observer_of_nothing.as_str()] {
        let mut client = WsClient::open(&server, workshop.board).await;
        client.subscribe(token, None).await;
        match client.next().await {
            ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::Unauthorized, "token {token:?}"),
            other => panic!("token {token:?} got {other:?} instead of unauthorized"),
        }
        assert_eq!(close_code(&mut client).await, 4001, "token {token:?}");
    }
}

#[tokio::test]
async fn http_without_or_with_a_wrong_bearer_token_is_401() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let board = workshop.board;
    let forged = format!("kp_{}", "A".repeat(43));
    let command = add_card(workshop.column, "Luvaton").1;

    for token in [None, Some(forged.as_str()), Some("")] {
        let mut request = server.http().get(format!("{}/api/boards/{board}", server.base_url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 401, "GET board with {token:?}");
        let body: kipina_proto::api::ErrorBody = response.json().await.expect("an ErrorBody");
        assert_eq!(body.code, ErrorCode::Unauthorized);

        let answer = server.http_command(board, token, new_command_id(), &command).await;
        let (status, body) = answer.expect_err("refused");
        assert_eq!((status, body.code.as_str()), (401, "unauthorized"), "POST command with {token:?}");
    }
    let (status, body) = server.links(board, &forged).await.expect_err("refused");
    assert_eq!((status, body.code.as_str()), (401, "unauthorized"));

    // A token must come as a bearer token, not some other scheme.
    let response = server
        .http()
        .get(format!("{}/api/boards/{board}", server.base_url()))
        .header("Authorization", format!("Basic {}", workshop.facilitator.token))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 401);

    assert_eq!(server.board(board, &workshop.facilitator.token).await.cards.len(), 0);
}

/// A request wrong in several ways is answered by what is checked first: the path, then the
/// query, then the body, and only then who asks. (actix-web runs a handler's extractors side by
/// side; the routes' extractors of who may call keep this order.)
#[tokio::test]
async fn a_malformed_path_query_or_body_is_answered_before_the_token_is_judged() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let (base, board) = (server.base_url(), workshop.board);
    let aino = workshop.participant(&server, "Aino").await;
    let answer = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let body: kipina_proto::api::ErrorBody = response.json().await.expect("an ErrorBody");
        (status, body.code)
    };
    let http = server.http();
    let cases = [
        (http.get(format!("{base}/api/boards/not-a-board/export?format=zz")), (404, "not_found")),
        (http.get(format!("{base}/api/boards/{board}/export")), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/export")).bearer_auth(&aino.token), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/export?format=md")).bearer_auth(&aino.token), (403, "forbidden")),
        (http.get(format!("{base}/api/boards/{board}/qr.svg?link=nobody")), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/activity?limit=many")), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/history")), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/timeline?token=a&token=b")), (400, "malformed")),
        (http.get(format!("{base}/api/boards/{board}/search")), (400, "malformed")),
        (
            http.post(format!("{base}/api/boards/{board}/commands"))
                .header("Content-Type", "application/json")
                .body("{\"command\": 1}"),
            (400, "malformed"),
        ),
        (
            http.post(format!("{base}/api/boards/{board}/commands"))
                .bearer_auth(link_part(&workshop.links.observer))
                .header("Content-Type", "application/json")
                .body("{not json"),
            (400, "malformed"),
        ),
    ];
    for (request, expected) in cases {
        let described = format!("{request:?}");
        let (status, code) = answer(request).await;
        assert_eq!((status, code.as_str()), expected, "{described}");
    }
}

#[tokio::test]
async fn a_participant_of_one_board_cannot_act_on_another() {
    let server = TestServer::start().await;
    let first = Workshop::open(&server).await;
    let second = Workshop::open(&server).await;
    let aino = first.participant(&server, "Aino").await;

    let mut client = WsClient::open(&server, second.board).await;
    client.subscribe(&aino.token, None).await;
    match client.next().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::Unauthorized),
        other => panic!("a token of another board got {other:?}"),
    }
    assert_eq!(close_code(&mut client).await, 4001);

    // Nor the first board's facilitator, nor its observer link.
    for token in [first.facilitator.token.clone(), link_part(&first.links.observer).to_owned()] {
        let mut client = WsClient::open(&server, second.board).await;
        client.subscribe(&token, None).await;
        assert!(
            matches!(client.next().await, ServerMessage::Error { code, .. } if code == ErrorCode::Unauthorized),
            "a credential of the first board opened the second"
        );
    }

    let response = server
        .http()
        .get(format!("{}/api/boards/{}", server.base_url(), second.board))
        .bearer_auth(&aino.token)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 401);
    let command = add_card(second.column, "Väärä taulu").1;
    let answer = server.http_command(second.board, Some(&aino.token), new_command_id(), &command).await;
    let (status, body) = answer.expect_err("refused");
    assert_eq!((status, body.code.as_str()), (401, "unauthorized"));
    let (status, _) = server.links(second.board, &first.facilitator.token).await.expect_err("refused");
    assert_eq!(status, 401);

    assert_eq!(server.board(second.board, &second.facilitator.token).await.cards.len(), 0);
}

#[tokio::test]
async fn joining_by_link_or_join_code_gives_the_links_role() {
    let server = TestServer::start().await;
    let created = server.create_board_titled("Kyläilta", "Fasilitaattori").await;
    let board = created.session.board;
    assert_eq!(created.session.role, Role::Facilitator);
    assert!(created.session.token.starts_with("kp_"), "{}", created.session.token);
    assert_eq!(created.session.token.len(), 3 + 43, "kp_ and 43 base64url characters");
    let links = created.links.clone();
    let cases = [
        (links.participant.clone(), Role::Participant),
        (link_part(&links.participant).to_owned(), Role::Participant),
        (links.join_code.clone(), Role::Participant),
        (links.facilitator.clone(), Role::Facilitator),
    ];
    let mut participants = vec![created.session.participant];
    let mut roles = vec![(created.session.participant, Role::Facilitator)];
    for (number, (invitation, role)) in cases.into_iter().enumerate() {
        let session = server.join(&invitation, &format!("Osallistuja {number}")).await;
        assert_eq!(session.board, board, "{invitation}");
        assert_eq!(session.role, role, "{invitation}");
        assert!(!participants.contains(&session.participant), "each join is a new participant");
        participants.push(session.participant);
        roles.push((session.participant, role));

        let client = WsClient::connect(&server, board, &session.token, None).await;
        assert_eq!(client.you, Some(session.participant));
        assert_eq!(client.role, Some(role));
    }
    let view = server.board(board, &created.session.token).await;
    assert_eq!(view.participants.len(), participants.len());
    for (participant, role) in roles {
        let found = view.participants.iter().find(|view| view.id == participant).expect("joined");
        assert_eq!(found.role, role, "the board records the role of the link");
    }

    // The code as the projector shows it (with a space), with a hyphen, in small letters.
    let code = &links.join_code;
    for typed in [
        format!("{} {}", &code[..3], &code[3..]),
        format!("{}-{}", &code[..3], &code[3..]),
        format!(" {} ", code.to_lowercase()),
    ] {
        let session = server.join(&typed, "Koodilla liittyvä").await;
        assert_eq!((session.board, session.role), (board, Role::Participant), "{typed:?}");
        participants.push(session.participant);
    }

    let refused = server.try_join("ZZZZZZ", "Arvaaja").await.expect_err("a made-up join code is refused");
    assert!((400..500).contains(&refused.0), "{refused:?}");
    let forged_link = format!("/join/{board}/f/{}", "A".repeat(43));
    let refused = server.try_join(&forged_link, "Arvaaja").await.expect_err("a forged link is refused");
    assert!((400..500).contains(&refused.0), "{refused:?}");
    assert_eq!(server.board(board, &created.session.token).await.participants.len(), participants.len());
}

#[tokio::test]
async fn the_links_are_urls_on_this_server_and_the_join_code_six_characters() {
    // `docs/protocol.md`: links are whole URLs `{public url}/join/{board}/{r}/{secret}`, ready to
    // share or to put in a QR code.
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    let board = created.session.board;
    let links = &created.links;
    let base = server.base_url();
    assert!(links.participant.starts_with(&format!("{base}/join/{board}/p/")), "{}", links.participant);
    assert!(links.facilitator.starts_with(&format!("{base}/join/{board}/f/")), "{}", links.facilitator);
    assert!(links.observer.starts_with(&format!("{base}/join/{board}/o/")), "{}", links.observer);
    assert_eq!(links.join_code.len(), 6, "{}", links.join_code);
    assert!(links.join_code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{}", links.join_code);
    let secrets: Vec<&str> = [&links.participant, &links.facilitator, &links.observer]
        .iter()
        .map(|link| link.rsplit('/').next().expect("a secret"))
        .collect();
    assert!(secrets.iter().all(|secret| secret.len() >= 22), "at least 128 bits each: {secrets:?}");
    assert!(secrets[0] != secrets[1] && secrets[1] != secrets[2] && secrets[0] != secrets[2], "{secrets:?}");
}

#[tokio::test]
async fn a_role_change_takes_effect_on_connections_already_open() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    assert_eq!(aino_client.refused(add_column("Ei vielä").1).await, ErrorCode::Forbidden);

    let promote = Command::ChangeRole { participant: aino.participant, role: Role::Facilitator };
    server.http_applied(workshop.board, &workshop.facilitator.token, &promote).await;
    aino_client.applied(add_column("Nyt saa").1).await;

    let demote = Command::ChangeRole { participant: aino.participant, role: Role::Observer };
    server.http_applied(workshop.board, &workshop.facilitator.token, &demote).await;
    let code = aino_client.refused(add_card(workshop.column, "Ei enää").1).await;
    assert!(code == ErrorCode::ReadOnly || code == ErrorCode::Forbidden, "{code}");
    let answer = server.http_command(workshop.board, Some(&aino.token), new_command_id(), &add_column("Ei").1).await;
    let (status, _) = answer.expect_err("refused over HTTP");
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_whole_workshop_joins_from_one_address_but_guessing_codes_is_stopped() {
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    // Thirty people behind one venue address join at once with the right code.
    for person in 0..30 {
        let session = server.join(&created.links.join_code, &format!("Osallistuja {person}")).await;
        assert_eq!(session.role, Role::Participant);
    }
    // Wrong codes are answered as such, ten times; then this address must wait.
    let mut statuses = Vec::new();
    for guess in 0..12 {
        let code = format!("ZZZZ{}{}", (b'2' + guess / 8) as char, (b'2' + guess % 8) as char);
        statuses.push(server.try_join(&code, "Arvaaja").await.expect_err("a guessed code is refused").0);
    }
    assert_eq!(&statuses[..10], &[404; 10], "{statuses:?}");
    assert_eq!(&statuses[10..], &[429, 429], "{statuses:?}");
    // The guesser does not lock the workshop out: this address has opened the board, so its
    // right code still works (a board it never opened answers 429, see `promises.rs`).
    let late = server.join(&created.links.join_code, "Myöhästynyt").await;
    assert_eq!(late.board, created.session.board);
}
