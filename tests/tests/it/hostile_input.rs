//! Hostile or broken input: malformed and unknown messages, oversized frames, commands before
//! `subscribe`, floods and over-long text. Each is answered with its error code, the connection
//! survives where the protocol says it does, and nothing reaches the board.

use kipina_proto::ErrorCode;
use kipina_proto::{AckOutcome, Command, ServerMessage};
use kipina_tests::{Received, TestServer, WAIT, Workshop, WsClient, add_card, new_card_id, new_command_id};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn invalid_json_and_wrong_shapes_are_malformed_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    let broken = [
        "{not json".to_owned(),
        "".to_owned(),
        "[]".to_owned(),
        "\"command\"".to_owned(),
        r#"{"type":"command"}"#.to_owned(),
        format!(
            r#"{{"type":"command","command_id":"not-a-uuid","command":{{"type":"cast_vote","card":"{}"}}}}"#,
            new_card_id()
        ),
        format!(r#"{{"type":"command","command_id":"{}","command":{{"type":"add_card"}}}}"#, new_command_id()),
        "{\"type\":\"command\",".repeat(2_000),
    ];
    for text in broken {
        client.send_text(text.clone()).await;
        let code = client.expect(|message| matches!(message, ServerMessage::Error { .. })).await;
        let ServerMessage::Error { code, .. } = code else { unreachable!("only errors match") };
        assert_eq!(code, ErrorCode::Malformed, "{}", &text[..text.len().min(80)]);
    }

    client.send(&kipina_proto::ClientMessage::Ping).await;
    client.expect(|message| matches!(message, ServerMessage::Pong)).await;
    client.applied(add_card(workshop.column, "Yhä toimii").1).await;
}

#[tokio::test]
async fn an_unknown_message_type_is_unknown_message_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    for text in [r#"{"type":"teleport"}"#, r#"{"type":"delete_everything","board":"all"}"#] {
        client.send_text(text.into()).await;
        assert_eq!(client.expect_connection_error().await, ErrorCode::UnknownMessage, "{text}");
    }
    client.applied(add_card(workshop.column, "Yhä toimii").1).await;
}

#[tokio::test]
async fn a_command_before_subscribe_is_not_subscribed_and_subscribing_then_works() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let head = server.board(workshop.board, &aino.token).await.seq;

    let mut client = WsClient::open(&server, workshop.board).await;
    let (card, command) = add_card(workshop.column, "Liian aikaisin");
    client.send_command(command).await;
    match client.next().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::NotSubscribed),
        other => panic!("a command before subscribe got {other:?}"),
    }

    client.subscribe(&aino.token, None).await;
    assert!(matches!(client.next().await, ServerMessage::Welcome { .. }));
    match client.next().await {
        ServerMessage::Snapshot { board } => {
            assert_eq!(board.seq, head, "the early command stored nothing");
            assert!(board.cards.iter().all(|view| view.id != card));
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_the_connection_with_1009_and_changes_nothing() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let head = client.last_seq.expect("applied");

    // A frame just under the limit is read, and its command judged on its content.
    let card = new_card_id();
    let near = Command::AddCard { card, column: workshop.column, title: "Iso".into(), body: "a".repeat(60 * 1024) };
    assert_eq!(client.refused(near).await, ErrorCode::TextTooLong);

    let huge_card = new_card_id();
    let huge =
        Command::AddCard { card: huge_card, column: workshop.column, title: "Iso".into(), body: "a".repeat(70 * 1024) };
    client.send_command(huge).await;
    let mut received = Vec::new();
    loop {
        match client.receive().await {
            Received::Message(ServerMessage::Error { code, .. }) if code == ErrorCode::TooLarge => {
                received.push(format!("error {code}"));
            }
            Received::Message(ServerMessage::Presence { .. }) => {}
            Received::Message(other) => panic!("an oversized frame got {other:?}"),
            Received::Closed(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1009, "the close code for an oversized frame ({received:?})");
                break;
            }
            other => panic!("the connection ended without a 1009 close frame: {other:?} ({received:?})"),
        }
    }

    let mut fresh = WsClient::connect(&server, workshop.board, &aino.token, None).await;
    match fresh.next().await {
        ServerMessage::Snapshot { board } => {
            assert_eq!(board.seq, head, "the oversized command stored nothing");
            assert!(board.cards.iter().all(|view| view.id != huge_card && view.id != card));
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    fresh.applied(add_card(workshop.column, "Uusi yhteys").1).await;
}

#[tokio::test]
async fn an_oversized_http_body_is_refused_with_413() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let huge = Command::AddCard {
        card: new_card_id(),
        column: workshop.column,
        title: "Iso".into(),
        body: "a".repeat(3 * 1024 * 1024),
    };
    let answer = server.http_command(workshop.board, Some(&workshop.facilitator.token), new_command_id(), &huge).await;
    let (status, body) = answer.expect_err("an oversized body is refused");
    assert_eq!((status, body.code.as_str()), (413, "too_large"));
    assert_eq!(server.board(workshop.board, &workshop.facilitator.token).await.cards.len(), 0);
}

#[tokio::test]
async fn a_card_title_over_the_limit_is_text_too_long() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    let too_long =
        Command::AddCard { card: new_card_id(), column: workshop.column, title: "x".repeat(201), body: "".into() };
    assert_eq!(client.refused(too_long.clone()).await, ErrorCode::TextTooLong);
    let answer = server.http_command(workshop.board, Some(&aino.token), new_command_id(), &too_long).await;
    let (status, body) = answer.expect_err("refused over HTTP");
    assert_eq!((status, body.code.as_str()), (400, "text_too_long"));

    // The limit counts characters, not bytes: 200 two-byte letters fit.
    client
        .applied(Command::AddCard {
            card: new_card_id(),
            column: workshop.column,
            title: "x".repeat(200),
            body: "".into(),
        })
        .await;
    client
        .applied(Command::AddCard {
            card: new_card_id(),
            column: workshop.column,
            title: "ä".repeat(200),
            body: "".into(),
        })
        .await;
    let comment = Command::AddComment {
        comment: kipina_tests::new_comment_id(),
        card: server.board(workshop.board, &aino.token).await.cards[0].id,
        reply_to: None,
        body: "y".repeat(2_001),
    };
    assert_eq!(client.refused(comment).await, ErrorCode::TextTooLong);
    assert_eq!(server.board(workshop.board, &aino.token).await.cards.len(), 2);
}

#[tokio::test]
async fn a_flood_of_commands_is_rate_limited_while_other_clients_are_served() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let flooder = workshop.participant(&server, "Tulva").await;
    let calm = workshop.participant(&server, "Rauha").await;
    let mut flooder_client = WsClient::connect_and_settle(&server, workshop.board, &flooder.token, None).await;
    let mut calm_client = WsClient::connect_and_settle(&server, workshop.board, &calm.token, None).await;

    let flood: Vec<Command> = (0..200).map(|number| add_card(workshop.column, &format!("Tulva {number}")).1).collect();
    let calm_work = async {
        let mut outcomes = Vec::new();
        for number in 0..5 {
            let command_id = calm_client.send_command(add_card(workshop.column, &format!("Rauha {number}")).1).await;
            outcomes.push(calm_client.outcome(command_id).await);
        }
        outcomes
    };
    let (flood_outcomes, calm_outcomes) = tokio::join!(flooder_client.flood(flood), calm_work);

    let applied = flood_outcomes.iter().filter(|outcome| matches!(outcome, Ok(AckOutcome::Applied { .. }))).count();
    let limited =
        flood_outcomes.iter().filter(|outcome| matches!(outcome, Err(code) if *code == ErrorCode::RateLimited)).count();
    assert_eq!(applied + limited, 200, "every command is applied or rate limited: {flood_outcomes:?}");
    assert!(limited > 0, "200 commands at once are more than 20 a second with bursts of 40");
    assert!(applied >= 40, "a burst of 40 is allowed, but only {applied} were applied");
    for outcome in &calm_outcomes {
        assert!(matches!(outcome, Ok(AckOutcome::Applied { .. })), "another client's command: {outcome:?}");
    }

    let view = server.board(workshop.board, &calm.token).await;
    let flooders_cards = view.cards.iter().filter(|card| card.author == Some(flooder.participant)).count();
    assert_eq!(flooders_cards, applied, "exactly the acknowledged cards are on the board");
    assert_eq!(view.cards.iter().filter(|card| card.author == Some(calm.participant)).count(), 5);

    // The flooder's connection stays open and its next command is answered.
    let command_id = flooder_client.send_command(add_card(workshop.column, "Hiljempaa").1).await;
    let outcome = flooder_client.outcome(command_id).await;
    assert!(
        matches!(&outcome, Ok(AckOutcome::Applied { .. }))
            || matches!(&outcome, Err(code) if *code == ErrorCode::RateLimited),
        "{outcome:?}"
    );
}

/// Sends one text message as fragments (a text frame and continuation frames).
async fn send_fragmented(client: &mut WsClient, text: &str, fragments: usize) {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let bytes = text.as_bytes();
    let size = bytes.len().div_ceil(fragments);
    let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
    for (index, chunk) in chunks.iter().enumerate() {
        let opcode = if index == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        let frame = Frame::message(chunk.to_vec(), opcode, index + 1 == chunks.len());
        client.send_message(Message::Frame(frame)).await;
    }
}

#[tokio::test]
async fn a_message_in_fragments_is_read_whole() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let command_id = new_command_id();
    let card = new_card_id();
    let message = kipina_proto::ClientMessage::Command {
        command_id,
        command: Command::AddCard { card, column: workshop.column, title: "Paloina".into(), body: "b".repeat(3_000) },
    };
    send_fragmented(&mut client, &serde_json::to_string(&message).expect("serialises"), 3).await;
    assert!(matches!(client.expect_ack(command_id).await, AckOutcome::Applied { .. }));
}

#[tokio::test]
async fn fragments_adding_up_to_over_64_kib_close_the_connection_with_1009() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let head = client.last_seq.expect("applied");
    let card = new_card_id();
    let message = kipina_proto::ClientMessage::Command {
        command_id: new_command_id(),
        command: Command::AddCard {
            card,
            column: workshop.column,
            title: "Paloina".into(),
            body: "b".repeat(90 * 1024),
        },
    };
    // Three fragments of about 30 KiB: each is small, the message is not.
    send_fragmented(&mut client, &serde_json::to_string(&message).expect("serialises"), 3).await;
    loop {
        match client.receive().await {
            Received::Message(ServerMessage::Error { code, .. }) => assert_eq!(code, ErrorCode::TooLarge),
            Received::Message(ServerMessage::Presence { .. }) => {}
            Received::Message(other) => panic!("an oversized message got {other:?}"),
            Received::Closed(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1009);
                break;
            }
            other => panic!("the connection ended without a 1009 close frame: {other:?}"),
        }
    }
    let view = server.board(workshop.board, &aino.token).await;
    assert_eq!(view.seq, head);
    assert!(view.cards.iter().all(|view| view.id != card));
}

#[tokio::test]
async fn a_binary_frame_is_malformed_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    client.send_message(Message::binary(br#"{"type":"ping"}"#.to_vec())).await;
    assert_eq!(client.expect_connection_error().await, ErrorCode::Malformed);
    client.applied(add_card(workshop.column, "Yhä toimii").1).await;
}

#[tokio::test]
async fn the_rate_limit_holds_across_connections_of_one_participant() {
    // RELIABILITY-TESTS item 19: opening more tabs must not multiply a participant's rate.
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let flooder = workshop.participant(&server, "Tulva").await;
    let mut tabs = Vec::new();
    for _ in 0..4 {
        tabs.push(WsClient::connect_and_settle(&server, workshop.board, &flooder.token, None).await);
    }
    let column = workshop.column;
    let floods = tabs.iter_mut().enumerate().map(|(tab, client)| {
        client.flood((0..50).map(|number| add_card(column, &format!("Välilehti {tab}/{number}")).1).collect())
    });
    let started = tokio::time::Instant::now();
    let outcomes: Vec<_> = futures_util::future::join_all(floods).await.into_iter().flatten().collect();
    let elapsed = started.elapsed().as_secs_f64();
    let applied = outcomes.iter().filter(|outcome| matches!(outcome, Ok(AckOutcome::Applied { .. }))).count();
    let limited =
        outcomes.iter().filter(|outcome| matches!(outcome, Err(code) if *code == ErrorCode::RateLimited)).count();
    assert_eq!(applied + limited, 200, "{outcomes:?}");
    // One participant's bucket: a burst of 40 and 20 a second after it.
    let allowed = 40.0 + 20.0 * elapsed;
    assert!(
        (applied as f64) <= allowed + 1.0,
        "{applied} of 200 commands from four tabs of one participant were applied in {elapsed:.2} s (at most {allowed:.0} for one participant)"
    );
}

#[tokio::test]
async fn json_nested_ten_thousand_deep_is_malformed_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_command = format!(
        r#"{{"type":"command","command_id":"{}","command":{{"type":"add_card","x":{}{}}}}}"#,
        new_command_id(),
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    for text in [deep_array, deep_command] {
        client.send_text(text).await;
        assert_eq!(client.expect_connection_error().await, ErrorCode::Malformed);
    }
    client.applied(add_card(workshop.column, "Syvyys ei kaatanut").1).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_ends_only_that_connection_and_nothing_changes() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut hostile = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let mut bystander = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let before = server.board(workshop.board, &eero.token).await.seq;

    let bytes = vec![b'{', 0xC3, 0x28, 0xFF, b'}'];
    hostile.send_message(Message::Frame(Frame::message(bytes, OpCode::Data(Data::Text), true))).await;
    // The frame is not text: the server closes that connection (it cannot be read as the
    // protocol says) or answers malformed; either way the board and everyone else go on.
    loop {
        match tokio::time::timeout(WAIT, hostile.receive()).await.expect("an answer") {
            Received::Closed(_) | Received::Ended(_) => break,
            Received::Message(ServerMessage::Error { code, .. }) => {
                assert_eq!(code, ErrorCode::Malformed);
                break;
            }
            Received::Message(ServerMessage::Presence { .. }) => continue,
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(server.board(workshop.board, &eero.token).await.seq, before, "nothing reached the board");
    bystander.applied(add_card(workshop.column, "Muut jatkavat").1).await;
    let mut again = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    again.applied(add_card(workshop.column, "Aino jatkaa uudella yhteydellä").1).await;
}
