//! A command id is executed once: a retry (over WebSocket or HTTP, after a reconnect, or sent
//! several times without waiting) is acknowledged as `duplicate` with the first result's
//! sequence numbers, and a reused id with other content is an `idempotency_conflict`.

use kipina_proto::ErrorCode;
use kipina_proto::{AckOutcome, BoardId, CardId, Command, CommandId};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, new_command_id};

/// How many cards with this id the board holds, and its head, read over HTTP.
async fn cards_and_head(server: &TestServer, board: BoardId, token: &str, card: CardId) -> (usize, u64) {
    let view = server.board(board, token).await;
    (view.cards.iter().filter(|view| view.id == card).count(), view.seq)
}

fn applied_seqs(outcome: &AckOutcome) -> (u64, u64) {
    match outcome {
        AckOutcome::Applied { first_seq, last_seq } => (*first_seq, *last_seq),
        other => panic!("expected applied, got {other:?}"),
    }
}

#[tokio::test]
async fn a_command_id_sent_twice_over_websocket_is_applied_once_then_acknowledged_as_duplicate() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let (card, command) = add_card(workshop.column, "Kerran vain");
    let command_id = new_command_id();

    client.send_command_with_id(command_id, command.clone()).await;
    let (first_seq, last_seq) = applied_seqs(&client.expect_ack(command_id).await);
    client.send_command_with_id(command_id, command.clone()).await;
    assert_eq!(client.expect_ack(command_id).await, AckOutcome::Duplicate { first_seq, last_seq });

    // After a reconnect too.
    client.close().await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, Some(last_seq)).await;
    client.send_command_with_id(command_id, command).await;
    assert_eq!(client.expect_ack(command_id).await, AckOutcome::Duplicate { first_seq, last_seq });

    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, card).await, (1, last_seq));
}

#[tokio::test]
async fn a_command_id_sent_twice_over_http_is_applied_once_then_acknowledged_as_duplicate() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let (card, command) = add_card(workshop.column, "HTTP:n kautta");
    let command_id = new_command_id();

    let first = server.http_command(workshop.board, Some(&aino.token), command_id, &command).await;
    let first = first.unwrap_or_else(|error| panic!("the first send was refused: {error:?}"));
    assert_eq!(first.command_id, command_id);
    let (first_seq, last_seq) = applied_seqs(&first.outcome);
    let second = server.http_command(workshop.board, Some(&aino.token), command_id, &command).await;
    let second = second.unwrap_or_else(|error| panic!("the retry was refused: {error:?}"));
    assert_eq!(second.outcome, AckOutcome::Duplicate { first_seq, last_seq });

    // A retry of the same id over WebSocket is the same command.
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    client.send_command_with_id(command_id, command).await;
    assert_eq!(client.expect_ack(command_id).await, AckOutcome::Duplicate { first_seq, last_seq });

    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, card).await, (1, last_seq));
}

#[tokio::test]
async fn the_same_command_id_sent_five_times_without_waiting_is_applied_once() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let (card, command) = add_card(workshop.column, "Tuplaklikkaus");
    let command_id = new_command_id();

    for _ in 0..5 {
        client.send_command_with_id(command_id, command.clone()).await;
    }
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.push(client.expect_ack(command_id).await);
    }
    let (first_seq, last_seq) = applied_seqs(&outcomes[0]);
    for outcome in &outcomes[1..] {
        assert_eq!(*outcome, AckOutcome::Duplicate { first_seq, last_seq }, "{outcomes:?}");
    }

    // And from two more connections of the same participant at once, over HTTP as well.
    let (over_http, over_socket) =
        tokio::join!(server.http_command(workshop.board, Some(&aino.token), command_id, &command), async {
            let mut other = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
            other.send_command_with_id(command_id, command.clone()).await;
            other.expect_ack(command_id).await
        });
    assert_eq!(over_http.map(|response| response.outcome), Ok(AckOutcome::Duplicate { first_seq, last_seq }));
    assert_eq!(over_socket, AckOutcome::Duplicate { first_seq, last_seq });

    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, card).await, (1, last_seq));
}

#[tokio::test]
async fn a_reused_command_id_with_other_content_is_an_idempotency_conflict() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let (card, command) = add_card(workshop.column, "Alkuperäinen");
    let command_id = new_command_id();
    client.send_command_with_id(command_id, command).await;
    let (_, last_seq) = applied_seqs(&client.expect_ack(command_id).await);

    let (other_card, other_command) = add_card(workshop.column, "Eri sisältö");
    client.send_command_with_id(command_id, other_command.clone()).await;
    assert_eq!(client.expect_error(command_id).await, ErrorCode::IdempotencyConflict);
    // The connection stays: the next command is served.
    client.applied(add_card(workshop.column, "Seuraava").1).await;
    let head = client.last_seq.expect("the client has applied the board");

    let answer = server.http_command(workshop.board, Some(&aino.token), command_id, &other_command).await;
    let (status, body) = answer.expect_err("a reused id with other content is refused over HTTP");
    assert_eq!((status, body.code.as_str()), (409, "idempotency_conflict"));

    // A different command type under the same id is a conflict too.
    let vote = Command::CastVote { card };
    client.send_command_with_id(command_id, vote).await;
    assert_eq!(client.expect_error(command_id).await, ErrorCode::IdempotencyConflict);

    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, card).await, (1, head));
    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, other_card).await.0, 0);
    assert!(head > last_seq);
}

#[tokio::test]
async fn a_refused_command_retried_is_refused_again_and_stores_nothing() {
    // A command refused by the board's rules stores nothing; its retry is refused the same way
    // (never acknowledged as a duplicate of something that did not happen).
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let command_id: CommandId = new_command_id();
    let card = kipina_tests::new_card_id();
    let too_long = Command::AddCard { card, column: workshop.column, title: "x".repeat(201), body: String::new() };
    client.send_command_with_id(command_id, too_long.clone()).await;
    assert_eq!(client.expect_error(command_id).await, ErrorCode::TextTooLong);
    client.send_command_with_id(command_id, too_long).await;
    assert_eq!(client.expect_error(command_id).await, ErrorCode::TextTooLong, "a retry is decided again");
    assert_eq!(cards_and_head(&server, workshop.board, &aino.token, card).await.0, 0);
}
