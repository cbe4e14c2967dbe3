//! Per-board ordering: many writers at once still get gap-free sequence numbers, each command's
//! events are contiguous, and every subscriber sees them in the same order without gaps.

use kipina_proto::{AckOutcome, ServerMessage};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, link_part};

const WRITERS: usize = 8;
const COMMANDS_EACH: usize = 5;

#[tokio::test]
async fn concurrent_writers_get_gap_free_sequence_numbers_and_observers_see_them_in_order() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let mut writers = Vec::new();
    for number in 0..WRITERS {
        let session = workshop.participant(&server, &format!("Kirjoittaja {number}")).await;
        writers.push(WsClient::connect_and_settle(&server, workshop.board, &session.token, None).await);
    }
    // The observer's client asserts on every message that `changed` follows on without a gap.
    let mut observer =
        WsClient::connect_and_settle(&server, workshop.board, link_part(&workshop.links.observer), None).await;
    let start = observer.last_seq.expect("the observer has a snapshot");

    // Every writer sends all its commands before reading any answer.
    let column = workshop.column;
    let runs = writers.iter_mut().enumerate().map(|(writer, client)| async move {
        let mut ids = Vec::new();
        for number in 0..COMMANDS_EACH {
            ids.push(client.send_command(add_card(column, &format!("{writer}/{number}")).1).await);
        }
        let mut ranges = Vec::new();
        for id in ids {
            match client.expect_ack(id).await {
                AckOutcome::Applied { first_seq, last_seq } => ranges.push((first_seq, last_seq)),
                other => panic!("writer {writer}: {other:?}"),
            }
        }
        ranges
    });
    let mut ranges: Vec<(u64, u64)> = futures_util::future::join_all(runs).await.into_iter().flatten().collect();
    ranges.sort();

    let total = (WRITERS * COMMANDS_EACH) as u64;
    assert_eq!(ranges.len() as u64, total);
    let mut next = start + 1;
    for (first_seq, last_seq) in &ranges {
        assert_eq!(*first_seq, next, "acknowledged ranges are gap-free and disjoint: {ranges:?}");
        next = last_seq + 1;
    }
    let head = next - 1;
    observer.expect_changed_through(head).await;
    assert_eq!(observer.last_seq, Some(head));
    // The board decides the commands waiting for it in batches, one `changed` each: every
    // command's events are within one change, never split between two.
    let changes: Vec<(u64, u64)> = observer
        .log
        .iter()
        .filter_map(|message| match message {
            ServerMessage::Changed { first_seq, last_seq, .. } => Some((*first_seq, *last_seq)),
            _ => None,
        })
        .collect();
    assert!(changes.len() as u64 <= total, "at most one changed per command: {changes:?}");
    for (first_seq, last_seq) in &ranges {
        assert!(
            changes.iter().any(|(first, last)| first <= first_seq && last_seq <= last),
            "command {first_seq}..={last_seq} is within one change: {changes:?}"
        );
    }

    let view = server.board(workshop.board, &workshop.facilitator.token).await;
    assert_eq!(view.seq, head);
    assert_eq!(view.cards.len() as u64, total);
}
