//! The promises of `docs/protocol.md` that an independent client found broken (issue 16), each
//! checked against the real server the way that client checked them.

use kipina_proto::ErrorCode;
use kipina_proto::api::{ErrorBody, JoinRequest, Session};
use kipina_proto::view::BoardView;
use kipina_proto::{AckOutcome, Command, ServerMessage};
use kipina_tests::{
    ChildServer, Received, TestServer, WAIT, Workshop, WsClient, add_card, link_part, new_command_id, open_websocket,
    within,
};
use std::net::IpAddr;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A measurement for the report (shown with `--nocapture`).
fn report(line: &str) {
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes()).expect("stderr");
}

/// An HTTP client whose requests come from `address` (any of 127.0.0.0/8 reaches the server), so
/// one test can be several places at once: the facilitator's office, the venue, somewhere else.
fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().expect("a loopback address");
    reqwest::Client::builder().no_proxy().timeout(WAIT).local_address(address).build().expect("an HTTP client")
}

/// `POST /api/join` from `client`: the status and the body (a `Session` or an `ErrorBody`).
async fn join_from(client: &reqwest::Client, server: &TestServer, invitation: &str) -> (u16, String) {
    let request = JoinRequest { invitation: invitation.into(), display_name: "Vieras".into(), known_tokens: vec![] };
    let response =
        client.post(format!("{}/api/join", server.base_url())).json(&request).send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

fn code_of(body: &str) -> ErrorCode {
    serde_json::from_str::<ErrorBody>(body).unwrap_or_else(|error| panic!("an ErrorBody ({error}): {body}")).code
}

/// A join code that is surely wrong: the right one with its first character changed.
fn wrong_code(right: &str, n: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut code: Vec<u8> = right.as_bytes().to_vec();
    let others: Vec<u8> = ALPHABET.iter().copied().filter(|c| *c != code[0]).collect();
    code[0] = others[n % others.len()];
    code[1] = others[(n / others.len()) % others.len()];
    String::from_utf8(code).expect("ASCII")
}

#[tokio::test]
async fn a_wrong_guesser_at_the_venue_does_not_lock_the_workshop_out_but_cannot_keep_guessing() {
    let server = TestServer::start().await;
    let office = client_from("127.0.0.1");
    let venue = client_from("127.0.0.2");
    let elsewhere = client_from("127.0.0.3");
    let workshop = server.create_board("Fasilitaattori").await;
    let other = server.create_board("Toinen").await;

    // Someone at the venue guesses codes until the address has no wrong guesses left.
    let mut wrong = 0;
    let limited = loop {
        let (status, body) = join_from(&venue, &server, &wrong_code(&workshop.links.join_code, wrong)).await;
        wrong += 1;
        match status {
            404 => assert_eq!(code_of(&body), ErrorCode::NotFound),
            429 => break body,
            other => panic!("a wrong code got {other}: {body}"),
        }
        assert!(wrong <= 10, "more than ten wrong codes were answered without a limit");
    };
    assert_eq!(wrong, 11, "ten wrong codes at once, then the limit");
    assert_eq!(code_of(&limited), ErrorCode::RateLimited);
    let message = serde_json::from_str::<ErrorBody>(&limited).expect("an ErrorBody").message;
    assert!(message.contains("every 10 seconds") && !message.contains("minute"), "{message}");

    // The workshop still gets in from the venue: the invitation page, the link, and then the code.
    let invitation = venue
        .get(format!("{}/api/invitations/{}", server.base_url(), link_part(&workshop.links.participant)))
        .send()
        .await
        .expect("an answer");
    assert_eq!(invitation.status().as_u16(), 200, "the invitation page from the venue");
    for _ in 0..5 {
        let (status, body) = join_from(&venue, &server, &workshop.links.participant).await;
        assert_eq!(status, 201, "joining with the right link from the venue: {body}");
    }
    for _ in 0..5 {
        let (status, body) = join_from(&venue, &server, &workshop.links.join_code).await;
        assert_eq!(status, 201, "joining with the right code from the venue: {body}");
        let _: Session = serde_json::from_str(&body).expect("a Session");
    }

    // The limit still holds for the boards nobody at the venue has opened: a right code of
    // another board answers exactly as a wrong one does, so it cannot be told apart.
    let (status, body) = join_from(&venue, &server, &other.links.join_code).await;
    assert_eq!((status, code_of(&body)), (429, ErrorCode::RateLimited), "another board's code from the venue");
    let (status, body) = join_from(&venue, &server, &wrong_code(&other.links.join_code, 99)).await;
    assert_eq!((status, code_of(&body)), (429, ErrorCode::RateLimited));
    // Elsewhere nobody guessed: the code works there, and so does the office's.
    let (status, body) = join_from(&elsewhere, &server, &other.links.join_code).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = join_from(&office, &server, &workshop.links.join_code).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn join_codes_are_not_stored_in_the_clear() {
    let mut server = TestServer::start().await;
    let mut codes = Vec::new();
    for title in ["Yksi", "Kaksi", "Kolme"] {
        let created = server.create_board_titled(title, "Fasilitaattori").await;
        codes.push((created.session.board, created.links.join_code));
    }
    // The codes still work after a restart (they are derived again from the server key).
    server.restart().await;
    for (board, code) in &codes {
        let session = server.join(code, "Aino").await;
        assert_eq!(session.board, *board);
    }
    server.stop().await;
    let mut files = vec![server.data_dir().to_path_buf()];
    let mut searched = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).expect("a directory").map(|entry| entry.expect("an entry").path()));
            continue;
        }
        let bytes = std::fs::read(&path).expect("a file");
        searched += 1;
        for (_, code) in &codes {
            assert!(
                !bytes.windows(code.len()).any(|window| window == code.as_bytes()),
                "{} holds the join code {code} in the clear",
                path.display()
            );
        }
    }
    assert!(searched > 3, "the data directory was searched ({searched} files)");
}

#[tokio::test]
async fn an_erased_participants_open_websocket_is_closed_and_hears_nothing_more() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut facilitator =
        WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;
    let mut erased = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let mut second_tab = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    facilitator.applied(Command::EraseParticipant { participant: aino.participant }).await;
    facilitator.applied(add_card(workshop.column, "Aino ei näe tätä").1).await;

    for client in [&mut erased, &mut second_tab] {
        let (heard, frame) = client.until_closed().await;
        assert_eq!(u16::from(frame.code), 4001, "closed as unauthorized: {frame:?}");
        assert!(
            heard.iter().all(|message| !matches!(message, ServerMessage::Changed { .. })),
            "the erased participant heard changes after the erasure: {heard:#?}"
        );
        assert!(
            heard.iter().any(
                |message| matches!(message, ServerMessage::Error { code, .. } if *code == ErrorCode::ParticipantErased)
            ),
            "told why: {heard:#?}"
        );
    }
}

#[tokio::test]
async fn a_command_id_belongs_to_its_sender() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let (card, add) = add_card(workshop.column, "Äänestettävä");
    server.http_applied(workshop.board, &workshop.facilitator.token, &add).await;
    let mut a = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let mut b = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;

    let shared = new_command_id();
    a.send_command_with_id(shared, Command::CastVote { card }).await;
    let AckOutcome::Applied { first_seq, last_seq } = a.expect_ack(shared).await else { panic!("Aino's vote") };

    // Eero reuses Aino's id with the same content: a conflict, never Aino's result.
    b.send_command_with_id(shared, Command::CastVote { card }).await;
    assert_eq!(b.expect_error(shared).await, ErrorCode::IdempotencyConflict);
    let over_http = server.http_command(workshop.board, Some(&eero.token), shared, &Command::CastVote { card }).await;
    assert_eq!(over_http.expect_err("a conflict over HTTP too").1.code, ErrorCode::IdempotencyConflict);

    // Aino's retry is a retry.
    a.send_command_with_id(shared, Command::CastVote { card }).await;
    assert_eq!(a.expect_ack(shared).await, AckOutcome::Duplicate { first_seq, last_seq });
    // Eero's own vote, with his own id, is placed.
    b.applied(Command::CastVote { card }).await;
    let view = server.board(workshop.board, &eero.token).await;
    let votes = &view.cards.iter().find(|found| found.id == card).expect("the card").votes;
    assert!(votes.iter().any(|vote| vote.participant == aino.participant), "{votes:?}");
    assert!(votes.iter().any(|vote| vote.participant == eero.participant), "{votes:?}");
}

#[tokio::test]
async fn sigterm_closes_every_websocket_with_1001_and_the_server_exits() {
    let data = tempfile::tempdir().expect("a data directory");
    let child =
        ChildServer::start(env!("CARGO_BIN_EXE_kipina-under-test"), data.path(), "error", std::process::Stdio::null());
    child.wait_until_healthy();
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
    let created: kipina_proto::api::CreateBoardResponse = http
        .post(format!("{}/api/boards", child.base))
        .json(&serde_json::json!({"title": "Sulku", "description": "", "language": "fi", "facilitator_name": "F"}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("a CreateBoardResponse");
    let board = created.session.board;
    let url = format!("{}/api/boards/{board}/ws", child.base.replace("http://", "ws://"));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let socket = open_websocket(&url, Some(&child.base)).await.expect("the server's own origin");
        let mut client = WsClient::from_socket(socket);
        client.subscribe(&created.session.token, None).await;
        client.expect(|message| matches!(message, ServerMessage::Presence { .. })).await;
        clients.push(client);
    }

    let signalled = std::time::Instant::now();
    child.terminate();
    for client in &mut clients {
        let (_, frame) = client.until_closed().await;
        assert_eq!(frame.code, CloseCode::Away, "1001 going away: {frame:?}");
    }
    let closed = signalled.elapsed();
    // As a browser does, each client answers the close and lets the connection end.
    for client in &mut clients {
        while !matches!(client.receive().await, Received::Ended(_)) {}
    }
    let status = within("the server's exit", tokio::task::spawn_blocking(move || child.wait())).await.expect("waited");
    assert!(status.success(), "the server stopped with {status}");
    report(&format!("SIGTERM → every close frame: {closed:?}; → exit: {:?}", signalled.elapsed()));
}

#[tokio::test]
async fn a_dns_rebinding_page_cannot_open_a_websocket() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    // evil.example resolves to the server; the browser sends its own name as Host and Origin.
    let evil = format!("evil.example:{}", server.port());
    let mut request = server.ws_url(created.session.board).into_client_request().expect("a request");
    request.headers_mut().insert("Host", HeaderValue::from_str(&evil).expect("a header"));
    request.headers_mut().insert("Origin", HeaderValue::from_str(&format!("http://{evil}")).expect("a header"));
    match within("the upgrade", tokio_tungstenite::connect_async(request)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        Ok(_) => panic!("the rebinding page's WebSocket was accepted"),
        Err(other) => panic!("unexpected: {other}"),
    }
    // The server's own origin (its public URL) still may.
    WsClient::connect(&server, created.session.board, &created.session.token, None).await;
}

/// `GET {path}` with a bearer token: the status and the body.
async fn get_with(server: &TestServer, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = server.http().get(format!("{}{path}", server.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

#[tokio::test]
async fn the_board_route_reads_as_the_doc_says() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let (card, add) = add_card(workshop.column, "Näkyy tarkkailijalle");
    server.http_applied(workshop.board, &workshop.facilitator.token, &add).await;
    let observer = link_part(&workshop.links.observer).to_owned();

    // The observer link reads the board, as it reads search, activity and history.
    let (status, body) = get_with(&server, &format!("/api/boards/{}", workshop.board), Some(&observer)).await;
    assert_eq!(status, 200, "{body}");
    let view: BoardView = serde_json::from_str(&body).expect("a BoardView");
    assert!(view.cards.iter().any(|found| found.id == card));

    // An unknown board is not found, whoever asks.
    let unknown = uuid::Uuid::now_v7();
    for token in [None, Some(workshop.facilitator.token.as_str()), Some(observer.as_str())] {
        let (status, body) = get_with(&server, &format!("/api/boards/{unknown}"), token).await;
        assert_eq!((status, code_of(&body)), (404, ErrorCode::BoardNotFound), "token {token:?}");
    }

    // A command with the observer link is read_only, as over WebSocket.
    let refused = server
        .http_command(workshop.board, Some(&observer), new_command_id(), &add_card(workshop.column, "Ei").1)
        .await;
    let (status, body) = refused.expect_err("an observer cannot write");
    assert_eq!((status, body.code.as_str()), (403, "read_only"));
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_is_closed_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;
    let bytes = vec![b'{', 0xC3, 0x28, 0xFF, b'}'];
    client.send_message(Message::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))).await;
    let (_, frame) = client.until_closed().await;
    assert_eq!(frame.code, CloseCode::Invalid, "RFC 6455: 1007 for text that is not UTF-8");
}

#[tokio::test]
async fn a_new_card_on_a_big_board_sends_the_card_and_its_place_not_the_whole_column() {
    const CARDS: usize = 1_000;
    let server = TestServer::start_with(|config| config.max_commands_per_second = 100_000).await;
    let workshop = Workshop::open(&server).await;
    let mut facilitator =
        WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;
    let outcomes =
        facilitator.flood((0..CARDS).map(|n| add_card(workshop.column, &format!("Idea {n}")).1).collect()).await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(AckOutcome::Applied { .. }))), "every card was added");
    let aino = workshop.participant(&server, "Aino").await;
    let mut bystander = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let Some(ServerMessage::Snapshot { board }) =
        bystander.log.iter().find(|message| matches!(message, ServerMessage::Snapshot { .. })).cloned()
    else {
        panic!("a snapshot first")
    };
    let before = board.columns.iter().find(|column| column.id == workshop.column).expect("the column").clone();
    assert_eq!(before.cards.len(), CARDS);

    let (card, add) = add_card(workshop.column, "Vielä yksi");
    let (_, last) = facilitator.applied(add).await;
    bystander.seen_through(last).await;
    let raw = bystander.raw.last().expect("the changed as sent").clone();
    let ServerMessage::Changed { changes, .. } = bystander.log.last().expect("the changed").clone() else {
        panic!("the last message is the changed")
    };
    assert!(kipina_tests::card_in(bystander.log.last().expect("it"), card).is_some(), "the new card's view");
    // What the whole column would have been (as it was sent before).
    let mut whole = before.clone();
    whole.cards.push(card);
    let whole = serde_json::to_string(&kipina_proto::Change::Column(whole)).expect("JSON").len();
    report(&format!(
        "changed for one new card on a board of {CARDS} cards: {} bytes (the whole column alone: {whole} bytes)",
        raw.len()
    ));
    assert!(raw.len() < 4_096, "the changed for one new card is {} bytes: {raw:.300}", raw.len());

    // A client that applies it ends with the fresh snapshot's list.
    let mut mirror = Some(kipina_tests::BoardMirror::of(&board));
    for message in bystander.log.iter().skip_while(|message| !matches!(message, ServerMessage::Snapshot { .. })).skip(1)
    {
        kipina_tests::follow(&mut mirror, message);
    }
    let fresh = server.board(workshop.board, &aino.token).await;
    let fresh_column = fresh.columns.iter().find(|column| column.id == workshop.column).expect("the column");
    assert_eq!(mirror.expect("a mirror").columns[&workshop.column].cards, fresh_column.cards);
    assert!(changes.iter().all(|change| !matches!(change, kipina_proto::Change::Column(_))), "{changes:?}");
}

#[tokio::test]
async fn a_locked_out_venue_joins_by_code_once_the_facilitator_has_opened_the_board_there() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let server = TestServer::start().await;
    let venue = client_from("127.0.0.4");
    let workshop = server.create_board("Fasilitaattori").await;
    for n in 0..10 {
        let (status, _) = join_from(&venue, &server, &wrong_code(&workshop.links.join_code, n)).await;
        assert_eq!(status, 404);
    }
    // Nobody at the venue has opened the board yet: its right code is not tried.
    let (status, body) = join_from(&venue, &server, &workshop.links.join_code).await;
    assert_eq!((status, code_of(&body)), (429, ErrorCode::RateLimited));

    // The facilitator opens the board on the projector at the venue (a WebSocket from there).
    let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
    socket.bind("127.0.0.4:0".parse().expect("an address")).expect("bound at the venue");
    let stream = within("connecting", socket.connect(([127, 0, 0, 1], server.port()).into())).await.expect("connected");
    let mut request = server.ws_url(workshop.session.board).into_client_request().expect("a request");
    request.headers_mut().insert("Origin", HeaderValue::from_str(&server.base_url()).expect("a header"));
    let (socket, _) = within(
        "the upgrade",
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream)),
    )
    .await
    .expect("upgraded");
    let mut projector = WsClient::from_socket(socket);
    projector.subscribe(&workshop.session.token, None).await;
    projector.expect(|message| matches!(message, ServerMessage::Presence { .. })).await;

    let (status, body) = join_from(&venue, &server, &workshop.links.join_code).await;
    assert_eq!(status, 201, "the workshop's code from the venue: {body}");
}
