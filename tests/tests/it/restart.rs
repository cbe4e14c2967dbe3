//! A graceful restart loses nothing that was acknowledged: a new client's snapshot after the
//! restart is the board as it was, tokens and links still work, and sequence numbers go on.

use kipina_proto::{Command, ReactionTarget, ServerMessage};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, add_column, new_comment_id};

#[tokio::test]
async fn every_acknowledged_change_survives_a_graceful_restart() {
    let mut server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    let (card, command) = add_card(workshop.column, "Pysyvä");
    client.applied(command).await;
    let comment = new_comment_id();
    client.applied(Command::AddComment { comment, card, reply_to: None, body: "Muistetaan".into() }).await;
    client.applied(Command::CastVote { card }).await;
    client.applied(Command::ToggleReaction { target: ReactionTarget::Comment(comment) }).await;
    client
        .applied(Command::EditCard { card, title: "Pysyvä 2".into(), body: "Muokattu".into(), base_version: 1 })
        .await;
    let (second_column, command) = add_column("Toinen");
    server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;
    client.applied(Command::MoveCard { card, column: second_column, to_index: 0 }).await;
    let (_, head) =
        server.http_applied(workshop.board, &aino.token, &Command::Rename { display_name: "Aino K.".into() }).await;
    client.expect_changed_through(head).await;
    let before = server.board(workshop.board, &workshop.facilitator.token).await;
    assert_eq!(before.seq, head);
    let before_for_aino = server.board(workshop.board, &aino.token).await;
    client.close().await;

    server.restart().await;

    let mut fresh = WsClient::connect(&server, workshop.board, &workshop.facilitator.token, None).await;
    match fresh.next().await {
        ServerMessage::Snapshot { board } => assert_eq!(*board, before, "the snapshot after the restart"),
        other => panic!("expected a snapshot, got {other:?}"),
    }
    let ainos_before = before_for_aino;
    assert_eq!(server.board(workshop.board, &aino.token).await, ainos_before, "GET after the restart (Aino's token)");

    // Resuming from an earlier point replays the stored history.
    let mut resumed = WsClient::connect(&server, workshop.board, &aino.token, Some(head - 3)).await;
    resumed.expect_changed_through(head).await;

    // Links still work (the server key is kept) and the sequence goes on from the head.
    let eero = server.join(&workshop.links.participant, "Eero").await;
    let mut eero_client = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    assert_eq!(eero_client.last_seq, Some(head + 1), "Eero's joining is the next event");
    let (first_seq, _) = eero_client.applied(add_card(workshop.column, "Uusi").1).await;
    assert_eq!(first_seq, head + 2);
}

#[tokio::test]
async fn a_board_created_before_a_restart_can_be_joined_by_its_join_code_after_it() {
    let mut server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    server.restart().await;
    let session = server.join(&created.links.join_code, "Myöhäinen").await;
    assert_eq!(session.board, created.session.board);
    let links = server.links(created.session.board, &created.session.token).await.expect("the facilitator's links");
    // The same secrets and code (the address part may differ: the test server's port changes).
    let secrets = |links: &kipina_proto::api::BoardLinks| {
        [&links.facilitator, &links.participant, &links.observer, &links.join_code]
            .map(|link| kipina_tests::link_part(link).to_owned())
    };
    assert_eq!(secrets(&links), secrets(&created.links), "the links are the same after a restart");
}
