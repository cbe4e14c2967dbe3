//! Reconnecting: a client that comes back with the last sequence number it applied receives
//! exactly what it missed (no gap, no repeat), then live changes; at the head it receives nothing.

use kipina_proto::{CardId, ServerMessage};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, card_in};

/// Reads the opening messages after `welcome` up to `presence`, and returns them.
async fn opening_messages(client: &mut WsClient) -> Vec<ServerMessage> {
    let mut messages = Vec::new();
    loop {
        let message = client.next().await;
        if matches!(message, ServerMessage::Presence { .. }) {
            return messages;
        }
        messages.push(message);
    }
}

#[tokio::test]
async fn a_client_that_reconnects_with_its_last_seq_receives_exactly_what_it_missed_then_live_changes() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;

    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let (card, command) = add_card(workshop.column, "Ennen katkosta");
    eero_client.applied(command).await;
    aino_client.expect_card(card).await;
    let seen = aino_client.last_seq.expect("Aino has applied the board");
    aino_client.close().await;

    // Eero keeps working while Aino is away.
    let mut missed_cards: Vec<CardId> = Vec::new();
    let mut head = seen;
    for number in 0..12 {
        let (card, command) = add_card(workshop.column, &format!("Kortti {number}"));
        let (first_seq, last_seq) = eero_client.applied(command).await;
        assert_eq!(first_seq, head + 1, "sequence numbers are gap-free");
        head = last_seq;
        missed_cards.push(card);
    }
    let vote_card = missed_cards[3];
    let (_, last_seq) = eero_client.applied(kipina_proto::Command::CastVote { card: vote_card }).await;
    head = last_seq;

    let mut aino_client = WsClient::connect(&server, workshop.board, &aino.token, Some(seen)).await;
    let opening = opening_messages(&mut aino_client).await;
    assert!(
        opening.iter().all(|message| matches!(message, ServerMessage::Changed { .. })),
        "a client that is a little behind gets only `changed` before `presence`: {opening:#?}"
    );
    let ranges: Vec<(u64, u64)> = opening
        .iter()
        .map(|message| match message {
            ServerMessage::Changed { first_seq, last_seq, .. } => (*first_seq, *last_seq),
            _ => unreachable!("only changed messages"),
        })
        .collect();
    assert_eq!(ranges.first().map(|range| range.0), Some(seen + 1), "catch-up starts right after {seen}: {ranges:?}");
    assert_eq!(ranges.last().map(|range| range.1), Some(head), "catch-up ends at the head {head}: {ranges:?}");
    for pair in ranges.windows(2) {
        assert_eq!(pair[1].0, pair[0].1 + 1, "catch-up ranges are contiguous: {ranges:?}");
    }
    for card in &missed_cards {
        assert!(opening.iter().any(|message| card_in(message, *card).is_some()), "the missed card {card} arrived");
    }
    let latest_vote_view = opening.iter().rev().find_map(|message| card_in(message, vote_card)).expect("voted card");
    assert_eq!(latest_vote_view.vote_total, Some(1), "the latest view of the voted card has the vote");
    assert_eq!(aino_client.last_seq, Some(head));

    // Then live changes follow on.
    let (card, command) = add_card(workshop.column, "Paluun jälkeen");
    let (first_seq, _) = eero_client.applied(command).await;
    assert_eq!(first_seq, head + 1);
    let (message, _) = aino_client.expect_card(card).await;
    assert!(matches!(message, ServerMessage::Changed { first_seq: f, .. } if f == head + 1));
}

#[tokio::test]
async fn a_client_that_reconnects_at_the_head_receives_no_changed() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    for number in 0..3 {
        eero_client.applied(add_card(workshop.column, &format!("Kortti {number}")).1).await;
    }
    let head = eero_client.last_seq.expect("Eero has applied the board");

    for _ in 0..3 {
        let mut aino_client = WsClient::connect(&server, workshop.board, &aino.token, Some(head)).await;
        let opening = opening_messages(&mut aino_client).await;
        assert!(opening.is_empty(), "at the head, nothing comes between welcome and presence: {opening:#?}");
        aino_client.close().await;
    }

    // Still connected at the head, the next change is the first thing Aino applies.
    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, Some(head)).await;
    let (card, command) = add_card(workshop.column, "Uusi");
    eero_client.applied(command).await;
    let (message, _) = aino_client.expect_card(card).await;
    assert!(matches!(message, ServerMessage::Changed { first_seq, .. } if first_seq == head + 1), "{message:?}");
}

#[tokio::test]
async fn a_new_client_gets_a_snapshot_at_the_head() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let eero = workshop.participant(&server, "Eero").await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let mut cards = Vec::new();
    for number in 0..4 {
        let (card, command) = add_card(workshop.column, &format!("Kortti {number}"));
        eero_client.applied(command).await;
        cards.push(card);
    }
    let head = eero_client.last_seq.expect("Eero has applied the board");

    let mut aino_client = WsClient::connect(&server, workshop.board, &aino.token, None).await;
    let opening = opening_messages(&mut aino_client).await;
    let [ServerMessage::Snapshot { board }] = opening.as_slice() else {
        panic!("a new client gets exactly one snapshot before presence: {opening:#?}");
    };
    assert_eq!(board.seq, head, "the snapshot is at the head");
    assert_eq!(board.id, workshop.board);
    for card in &cards {
        assert!(board.cards.iter().any(|view| view.id == *card), "the snapshot has card {card}");
    }
    assert!(board.participants.iter().any(|participant| Some(participant.id) == aino_client.you));
    let column = board.columns.iter().find(|column| column.id == workshop.column).expect("the column");
    assert_eq!(column.cards, cards);
}

#[tokio::test]
async fn a_client_more_than_1000_behind_gets_a_snapshot_instead() {
    let server = TestServer::start_with(|config| config.max_commands_per_second = 100_000).await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let seen = aino_client.last_seq.expect("applied");
    aino_client.close().await;

    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let outcomes = eero_client
        .flood((0..1_001).map(|number| add_card(workshop.column, &format!("Kortti {number}")).1).collect())
        .await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    let head = eero_client.last_seq.expect("applied");
    assert_eq!(head, seen + 1_001);

    // Exactly 1000 behind is still caught up with `changed`...
    let mut near = WsClient::connect(&server, workshop.board, &aino.token, Some(head - 1_000)).await;
    let opening = opening_messages(&mut near).await;
    assert!(opening.iter().all(|message| matches!(message, ServerMessage::Changed { .. })), "1000 behind");
    assert_eq!(near.last_seq, Some(head));

    // ...but 1001 behind gets a snapshot at the head.
    let mut far = WsClient::connect(&server, workshop.board, &aino.token, Some(seen)).await;
    let opening = opening_messages(&mut far).await;
    let [ServerMessage::Snapshot { board }] = opening.as_slice() else {
        panic!("a client 1001 behind gets one snapshot: {} messages", opening.len());
    };
    assert_eq!(board.seq, head);
    assert_eq!(board.cards.len(), 1_001);
}

#[tokio::test]
async fn clients_subscribing_while_the_board_is_being_written_see_no_gap_and_no_repeat() {
    let server = TestServer::start_with(|config| config.max_commands_per_second = 10_000).await;
    let workshop = Workshop::open(&server).await;
    let writer = workshop.participant(&server, "Kirjoittaja").await;
    let reader = workshop.participant(&server, "Lukija").await;
    let mut writer_client = WsClient::connect_and_settle(&server, workshop.board, &writer.token, None).await;
    let start = writer_client.last_seq.expect("applied");
    const WRITES: u64 = 60;
    let (progress, watch) = tokio::sync::watch::channel(start);

    let write = async {
        for number in 0..WRITES {
            let (_, last_seq) = writer_client.applied(add_card(workshop.column, &format!("Kortti {number}")).1).await;
            progress.send_replace(last_seq);
        }
    };
    // Subscribers arrive while the writes go on: afresh (snapshot) and resuming (changed).
    let subscribe = async {
        let mut watch = watch;
        let mut clients = Vec::new();
        for round in 1..=6u64 {
            let threshold = start + round * 8;
            watch.wait_for(|seq| *seq >= threshold).await.expect("the writer keeps going");
            let resume_from = if round % 2 == 0 { Some(start + round) } else { None };
            clients.push(WsClient::connect(&server, workshop.board, &reader.token, resume_from).await);
        }
        clients
    };
    let ((), mut clients) = tokio::join!(write, subscribe);
    let head = start + WRITES;
    assert_eq!(writer_client.last_seq, Some(head));
    for client in &mut clients {
        // Every message was checked to follow on from the last one on its way here.
        client.expect_changed_through(head).await;
        assert_eq!(client.last_seq, Some(head));
    }
}

#[tokio::test]
async fn a_client_claiming_a_sequence_number_past_the_head_gets_a_snapshot() {
    // The client's copy cannot be of this board's history (a restored backup, a bug): the only
    // way back to the truth is the whole board.
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let head = server.board(workshop.board, &aino.token).await.seq;
    let mut client = WsClient::connect(&server, workshop.board, &aino.token, Some(head + 50)).await;
    let opening = opening_messages(&mut client).await;
    let [ServerMessage::Snapshot { board }] = opening.as_slice() else {
        panic!("a client ahead of the head gets one snapshot: {opening:#?}");
    };
    assert_eq!(board.seq, head);
}
