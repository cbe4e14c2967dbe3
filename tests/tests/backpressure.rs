//! A client that stops reading: the board must not wait for it, everyone else keeps receiving
//! everything, the server lets the slow connection go (with `resync` when it can still say so),
//! and the client catches up after reconnecting with the last sequence number it applied.

use kipina_proto::{Command, ReactionTarget, ServerMessage};
use kipina_tests::{Received, TestServer, WAIT, Workshop, WsClient, add_card, add_column, link_part};
use std::time::Duration;
use tokio::sync::watch;

/// The value of an unlabelled sample in the Prometheus text of `/metrics`.
async fn metric(server: &TestServer, name: &str) -> f64 {
    let text = server.get("/metrics").await.text().await.expect("a body");
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

/// Reads everything the client is sent until it has applied the head it is then given.
async fn read_through(mut client: WsClient, mut head: watch::Receiver<Option<u64>>) -> WsClient {
    loop {
        let target = *head.borrow_and_update();
        if let Some(target) = target
            && client.last_seq.is_some_and(|seen| seen >= target)
        {
            return client;
        }
        tokio::select! {
            received = client.receive() => match received {
                Received::Message(_) => {}
                other => panic!("the observer's connection ended: {other:?}"),
            },
            changed = head.changed() => changed.expect("the test gives the head"),
        }
    }
}

/// Connections the server let go of for not keeping up, whatever the reason.
async fn let_go_total(server: &TestServer) -> f64 {
    let text = server.get("/metrics").await.text().await.expect("a body");
    text.lines()
        .filter_map(|line| line.strip_prefix("kipina_connections_let_go_total{"))
        .filter_map(|rest| rest.rsplit(' ').next().and_then(|value| value.trim().parse::<f64>().ok()))
        .sum()
}

#[tokio::test]
async fn a_client_that_stops_reading_is_let_go_without_holding_up_the_others() {
    let server = TestServer::start_with(|config| {
        config.max_commands_per_second = 100_000;
        config.heartbeat_interval = Duration::from_millis(200);
        // Short, so the silent client is let go soon after it stops reading.
        config.client_timeout = Duration::from_secs(5);
    })
    .await;
    let workshop = Workshop::open(&server).await;
    let writer = workshop.participant(&server, "Kirjoittaja").await;
    let sleeper = workshop.participant(&server, "Nukkuja").await;

    let mut slow = WsClient::connect_with_receive_buffer(&server, workshop.board, &sleeper.token, None, 4096).await;
    slow.expect_presence().await;
    let observer =
        WsClient::connect_and_settle(&server, workshop.board, link_part(&workshop.links.observer), None).await;
    // The observer keeps reading all along, as a browser does: it stands for everyone who keeps
    // up, and must receive everything however long the floods take on a busy machine.
    let (head_sender, head) = watch::channel(None);
    let observing = tokio::spawn(read_through(observer, head));
    let mut writer_client = WsClient::connect_and_settle(&server, workshop.board, &writer.token, None).await;

    // First large messages (each `changed` carries the column's whole card list, which grows)
    // to fill the socket and the server's write buffers, then small ones (likes toggled on a
    // card) to fill the connection's queue of 256 messages.
    let outcomes = writer_client
        .flood((0..400).map(|number| add_card(workshop.column, &format!("Kortti {number}")).1).collect())
        .await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    let (small_column, command) = add_column("Pienet");
    server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;
    let (liked, command) = add_card(small_column, "Tykätty");
    writer_client.applied(command).await;
    let toggle = Command::ToggleReaction { target: ReactionTarget::Card(liked) };
    let outcomes = writer_client.flood(vec![toggle; 400]).await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    let head = writer_client.last_seq.expect("applied");
    head_sender.send_replace(Some(head));
    let observer = observing.await.expect("the observer read everything");
    assert_eq!(observer.last_seq, Some(head), "the observer received every change");
    writer_client.close().await;
    observer.close().await;

    // The slow client reads nothing, so no message can tell the test when the server has let it
    // go; the open connections gauge can. The server must close it within its client timeout
    // (it answers no ping) even though its socket is full.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let open = metric(&server, "kipina_connections").await;
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
