//! A client that stops reading: the board must not wait for it, everyone else keeps receiving
//! everything, the server lets the slow connection go (with `resync` when it can still say so),
//! and the client catches up after reconnecting with the last sequence number it applied.

use kipina_proto::{Command, ReactionTarget, ServerMessage};
use kipina_tests::{Received, TestServer, WAIT, Workshop, WsClient, add_card, add_column, link_part};
use std::time::Duration;

/// Connections the server let go of for not keeping up, whatever the reason.
async fn let_go_total(server: &TestServer) -> f64 {
    let text = server.get("/metrics").await.text().await.expect("a body");
    text.lines()
        .filter_map(|line| line.strip_prefix("kipina_connections_let_go_total{"))
        .filter_map(|rest| rest.rsplit(' ').next().and_then(|value| value.trim().parse::<f64>().ok()))
        .sum()
}

/// Connections the server let go of for `reason` (a label of `kipina_connections_let_go_total`).
async fn let_go_for(server: &TestServer, reason: &str) -> f64 {
    let text = server.get("/metrics").await.text().await.expect("a body");
    let sample = format!("kipina_connections_let_go_total{{reason=\"{reason}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&sample)).and_then(|value| value.trim().parse().ok()).unwrap_or(0.0)
}

/// `count` new cards in `column`, each with `body`.
fn cards_with_body(column: kipina_proto::ColumnId, count: u64, body: &str) -> Vec<Command> {
    (0..count)
        .map(|number| Command::AddCard {
            card: kipina_tests::new_card_id(),
            column,
            title: format!("Kortti {number}"),
            body: body.to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn a_client_that_stops_reading_is_let_go_without_holding_up_the_others() {
    let server = TestServer::start_with(|config| {
        config.max_commands_per_second = 100_000;
        // A write waits at most a heartbeat. Usually the slow client's queue fills first (it is
        // dropped for falling behind); on a busy machine its blocked write may give up first, or
        // its silence outlast the client timeout. Each lets it go; the test accepts any of them.
        config.heartbeat_interval = Duration::from_secs(2);
        config.client_timeout = Duration::from_secs(5);
    })
    .await;
    let workshop = Workshop::open(&server).await;
    let writer = workshop.participant(&server, "Kirjoittaja").await;
    let sleeper = workshop.participant(&server, "Nukkuja").await;

    let mut slow = WsClient::connect_with_receive_buffer(&server, workshop.board, &sleeper.token, None, 4096).await;
    slow.expect_presence().await;
    let mut observer =
        WsClient::connect_and_settle(&server, workshop.board, link_part(&workshop.links.observer), None).await;
    let mut writer_client = WsClient::connect_and_settle(&server, workshop.board, &writer.token, None).await;

    // First large messages (cards with the longest bodies, 10 KB each: 4 MB in all) to fill the
    // slow client's socket and the server's write buffers, then small ones (likes toggled on a
    // card) to fill the connection's queue of 256 messages. The observer reads meanwhile, as a
    // projector does; each command here stores one event. The likes are sent one at a time,
    // each after the answer to the one before, so each is a batch of its own with a `changed`
    // of its own (commands waiting together would share one).
    const CARDS: u64 = 400;
    const TOGGLES: u64 = 400;
    let start = writer_client.last_seq.expect("a snapshot");
    let head = start + CARDS + 2 + TOGGLES;
    let body = "ä".repeat(kipina_domain::limits::CARD_BODY);
    let write = async {
        let outcomes = writer_client.flood(cards_with_body(workshop.column, CARDS, &body)).await;
        assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
        let (small_column, command) = add_column("Pienet");
        server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;
        let (liked, command) = add_card(small_column, "Tykätty");
        writer_client.applied(command).await;
        let toggle = Command::ToggleReaction { target: ReactionTarget::Card(liked) };
        for _ in 0..TOGGLES {
            writer_client.applied(toggle.clone()).await;
        }
        assert_eq!(writer_client.last_seq, Some(head), "one event per command");
    };
    // The observer reads meanwhile, as everyone who keeps up does, and receives everything.
    tokio::join!(write, observer.seen_through(head));
    writer_client.close().await;
    observer.close().await;

    // The slow client reads nothing, so no message can tell the test when the server has let it
    // go; the open connections gauge can. The server must close it within its client timeout
    // (it answers no ping) even though its socket is full.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let open = server.metric("kipina_connections").await;
        if open == 0.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the connection that stopped reading was still open {WAIT:?} after it fell behind ({open} open)"
        );
    }
    // Which of its limits lets it go first (its queue filling, a write to its full socket timing
    // out, or its silence outlasting the client timeout) depends on how busy the machine is; that
    // the server let it go for not keeping up does not.
    let let_go = let_go_total(&server).await;
    assert!(let_go >= 1.0, "the server let the slow connection go for not keeping up ({let_go} let go)");

    // What the slow client does get is gap-free (the harness checks each `changed`), and ends.
    let mut resynced = false;
    loop {
        match slow.receive().await {
            Received::Message(ServerMessage::Resync { .. }) => resynced = true,
            Received::Message(message) => {
                assert!(!resynced, "nothing may follow resync: {message:?}");
            }
            Received::Closed(_) | Received::Ended(_) => break,
        }
    }
    let seen = slow.last_seq.expect("the slow client had a snapshot");
    assert!(seen < head, "the slow client cannot have received everything");

    let mut again = WsClient::connect_and_settle(&server, workshop.board, &sleeper.token, Some(seen)).await;
    assert_eq!(again.last_seq, Some(head), "after reconnecting it has caught up");
    again.applied(add_card(workshop.column, "Hereillä").1).await;
}

/// A client that sends hundreds of commands at once and reads only afterwards is slowed down and
/// never let go: the server reads no more of its commands while it holds 32 of them unanswered
/// or its queue is filling, so the client's own answers cannot fill that queue while the client
/// is not reading (its socket's receive buffer is small; its send buffer holds every command).
/// Before the server held back, it decided all of them at once and dropped the client for
/// falling behind.
#[tokio::test]
async fn a_client_sending_hundreds_of_commands_before_reading_is_slowed_down_not_let_go() {
    let server = TestServer::start_with(|config| config.max_commands_per_second = 100_000).await;
    let workshop = Workshop::open(&server).await;
    let flooder = workshop.participant(&server, "Tulva").await;
    let mut client =
        WsClient::connect_with_buffers(&server, workshop.board, &flooder.token, None, 4096, Some(4 << 20)).await;
    client.expect_presence().await;
    let start = client.last_seq.expect("a snapshot");

    // Cards of 1 kB: every command fits in the client's send buffer (about 400 kB, the most
    // Linux gives by default), and their answers do not fit in what the kernel buffers for the
    // server's socket while the client is not reading.
    const CARDS: u64 = 320;
    let outcomes = client.flood_before_reading(cards_with_body(workshop.column, CARDS, &"a".repeat(1_000))).await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    assert_eq!(client.last_seq, Some(start + CARDS), "every change reached the client, in order");
    assert_eq!(let_go_total(&server).await, 0.0, "the server let a connection go");
    assert!(server.metric("kipina_connection_reads_held_back_total").await >= 1.0, "the server never held back");
    // The connection is still open and answers.
    let (_, command) = add_card(workshop.column, "Vielä yksi");
    let (_, last_seq) = client.applied(command).await;
    assert_eq!(last_seq, start + CARDS + 1);
}

/// A client that stops reading while messages wait for it is let go at the next heartbeats, even
/// when nothing more comes for it (so its queue never fills and the board never drops it) and
/// its silence is far from the client timeout. The server's messages wait in the connection's
/// queue, not in a write buffer, so the connection can see that none of them is written.
#[tokio::test]
async fn a_client_that_stops_reading_while_messages_wait_is_let_go_at_the_next_heartbeats() {
    let server = TestServer::start_with(|config| {
        config.max_commands_per_second = 100_000;
        config.heartbeat_interval = Duration::from_secs(1);
        // Longer than the test waits: silence cannot be what lets it go.
        config.client_timeout = WAIT * 2;
    })
    .await;
    let workshop = Workshop::open(&server).await;
    // A board of 500 cards with the longest bodies: its snapshot (5 MB) is more than the sockets
    // hold for a client that reads nothing (Linux lets a loopback socket's send buffer grow to
    // 4 MB), so what follows it (`presence`) waits in the connection's queue.
    const CARDS: u64 = 500;
    let body = "ä".repeat(kipina_domain::limits::CARD_BODY);
    let mut facilitator =
        WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;
    let outcomes = facilitator.flood(cards_with_body(workshop.column, CARDS, &body)).await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    facilitator.close().await;

    // It reads its `welcome` and nothing more; nothing more happens on the board.
    let sleeper = workshop.participant(&server, "Nukkuja").await;
    let mut slow = WsClient::connect_with_receive_buffer(&server, workshop.board, &sleeper.token, None, 4096).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    while let_go_for(&server, "not_reading").await < 1.0 {
        poll.tick().await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "a connection whose messages were not written for {WAIT:?} is still open"
        );
    }
    assert_eq!(let_go_for(&server, "fell_behind").await, 0.0, "its queue never filled");
    assert_eq!(let_go_for(&server, "silent").await, 0.0);

    // Reading again, it gets the snapshot and what waited, and then the close.
    let mut snapshot = false;
    loop {
        match slow.receive().await {
            Received::Message(ServerMessage::Snapshot { board }) => {
                assert_eq!(board.cards.len() as u64, CARDS);
                snapshot = true;
            }
            Received::Message(_) => {}
            Received::Closed(_) | Received::Ended(_) => break,
        }
    }
    assert!(snapshot, "the snapshot was written first");
}
