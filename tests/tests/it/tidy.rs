//! A clean stop tidies the event store (ADR 0008): once enough events have gathered outside
//! chunks, the server rewrites its store with them in chunks as it stops, as `kipina compact`
//! does, and the next start serves every board exactly as before and goes on writing. Below the
//! threshold the store is left as it is. The writer puts events into chunks itself since ADR
//! 0011, so these tests turn them back into events on their own, as older stores hold them.

use kipina_server::store::TidyPolicy;
use kipina_tests::{TestServer, WAIT, Workshop, WsClient, add_card, events_on_their_own};

/// Stored events outside chunks, once the server's background check has counted them.
async fn outside_chunks(server: &TestServer) -> f64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let outside = server.metric("kipina_store_events_outside_chunks").await;
        if outside >= 0.0 {
            return outside;
        }
        assert!(tokio::time::Instant::now() < deadline, "the background check did not count within {WAIT:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A server whose clean stops tidy once `min` events are outside chunks.
async fn server_tidying_from(min: u64) -> TestServer {
    TestServer::start_with(move |config| {
        config.max_commands_per_second = 100_000;
        config.tidy_at_stop = Some(TidyPolicy { min_outside_chunks: min, ..TidyPolicy::default() });
    })
    .await
}

/// Adds `cards` cards to the workshop's board, over one connection; returns the board's head.
async fn add_cards(server: &TestServer, workshop: &Workshop, cards: usize) -> u64 {
    let mut client = WsClient::connect_and_settle(server, workshop.board, &workshop.facilitator.token, None).await;
    let outcomes =
        client.flood((0..cards).map(|number| add_card(workshop.column, &format!("Kortti {number}")).1).collect()).await;
    assert!(outcomes.iter().all(|outcome| matches!(outcome, Ok(kipina_proto::AckOutcome::Applied { .. }))));
    let head = client.last_seq.expect("applied");
    client.close().await;
    head
}

#[tokio::test]
async fn a_clean_stop_puts_older_events_into_chunks_and_the_board_reads_the_same() {
    let mut server = server_tidying_from(200).await;
    let workshop = Workshop::open(&server).await;
    let head = add_cards(&server, &workshop, 300).await;
    server.restart_after(events_on_their_own).await;
    let before_stop = outside_chunks(&server).await;
    assert!(before_stop >= 300.0, "{before_stop} events outside chunks before the stop");
    let before = server.board(workshop.board, &workshop.facilitator.token).await;
    assert_eq!(before.seq, head);

    server.restart().await;

    // Every full run of 64 events is in a chunk now: fewer than 64 are left outside.
    let after_stop = outside_chunks(&server).await;
    assert!(after_stop < 64.0, "{after_stop} of {head} events are still outside chunks");
    let after = server.board(workshop.board, &workshop.facilitator.token).await;
    assert_eq!(after, before, "the board read after the tidying");
    // Writing goes on where it was.
    let next = add_cards(&server, &workshop, 1).await;
    assert_eq!(next, head + 1);
    let fresh = WsClient::connect_and_settle(&server, workshop.board, &workshop.facilitator.token, None).await;
    assert_eq!(fresh.last_seq, Some(head + 1));
    fresh.close().await;
}

#[tokio::test]
async fn a_clean_stop_leaves_the_store_alone_below_the_threshold() {
    let mut server = server_tidying_from(10_000).await;
    let workshop = Workshop::open(&server).await;
    let head = add_cards(&server, &workshop, 100).await;
    server.restart_after(events_on_their_own).await;
    let before_stop = outside_chunks(&server).await;
    assert!(before_stop >= 100.0, "{before_stop}");

    server.restart().await;

    // Nothing went into chunks: every event the store holds is still outside them.
    let after_stop = outside_chunks(&server).await;
    assert!(after_stop >= head as f64, "{after_stop} of {head} events outside chunks after the stop");
}

#[tokio::test]
async fn after_an_interrupted_tidying_the_next_stop_does_not_try_again_and_the_one_after_does() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let threshold = Arc::new(AtomicU64::new(u64::MAX));
    let threshold_at_start = Arc::clone(&threshold);
    let mut server = TestServer::start_with(move |config| {
        config.max_commands_per_second = 100_000;
        let min_outside_chunks = threshold_at_start.load(Ordering::SeqCst);
        config.tidy_at_stop = Some(TidyPolicy { min_outside_chunks, ..TidyPolicy::default() });
    })
    .await;
    let workshop = Workshop::open(&server).await;
    let head = add_cards(&server, &workshop, 300).await;
    outside_chunks(&server).await;
    // What a tidying killed in its middle leaves beside the store: the next start removes it.
    let leftover = server.data_dir().join("events.compacting");
    threshold.store(200, Ordering::SeqCst);
    server
        .restart_after(|data| {
            events_on_their_own(data);
            std::fs::create_dir_all(leftover.join("blobs")).expect("a directory");
        })
        .await;
    assert!(!leftover.exists(), "the start removed the leftover");

    // This start found an interrupted tidying: its stop does not try again...
    assert!(outside_chunks(&server).await >= head as f64);
    server.restart().await;
    assert!(outside_chunks(&server).await >= head as f64, "the stop after an interrupted tidying tidied");
    // ...and the one after it does.
    server.restart().await;
    assert!(outside_chunks(&server).await < 64.0, "the next stop did not tidy");
}
