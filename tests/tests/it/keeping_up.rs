//! Between camps over the real protocol: what a participant has seen is remembered across
//! reconnects and devices, `@name` mentions and followed cards notify the right people live, and
//! nobody else is sent a word of it.

use kipina_proto::view::NotificationKind;
use kipina_proto::{Change, Command, ServerMessage};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, new_comment_id, participant_in};

/// The snapshot a fresh connection got.
fn snapshot(client: &WsClient) -> &kipina_proto::view::BoardView {
    client
        .log
        .iter()
        .find_map(|message| match message {
            ServerMessage::Snapshot { board } => Some(board.as_ref()),
            _ => None,
        })
        .expect("a fresh connection gets a snapshot")
}

#[tokio::test]
async fn what_was_seen_is_remembered_across_reconnects_and_devices() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino Ääkkönen").await;
    let mut phone = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let own = |view: &kipina_proto::view::BoardView| {
        view.participants.iter().find(|found| found.id == aino.participant).and_then(|found| found.own.clone())
    };
    assert_eq!(own(snapshot(&phone)).map(|mine| mine.seen_through), Some(0), "nothing marked on a first visit");

    // The laptop is open at the same time: it hears of the phone's mark live, and nobody else does.
    let mut laptop = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut eeros = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let (_, card) = add_card(workshop.column, "Kyläkoulun iltakäyttö");
    let (_, seen) = eeros.applied(card).await;
    let (_, marked) = phone.applied(Command::MarkSeen { through: seen }).await;
    let message = laptop.expect_changed_through(marked).await;
    let mine = participant_in(&message, aino.participant).and_then(|found| found.own.clone()).expect("own view");
    assert_eq!(mine.seen_through, seen);
    let others = eeros.expect_changed_through(marked).await;
    assert_eq!(kipina_tests::changes(&others), [], "Eero learns nothing of Aino's mark");

    // A stale device cannot move the mark back; a reconnect and a new device both see it.
    let back = laptop.send_command(Command::MarkSeen { through: 1 }).await;
    assert_eq!(laptop.outcome(back).await, Ok(kipina_proto::AckOutcome::Unchanged));
    phone.close().await;
    let resumed = WsClient::connect_and_settle(&server, workshop.board, &aino.token, Some(marked)).await;
    drop(resumed);
    let tablet = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    assert_eq!(own(snapshot(&tablet)).map(|mine| mine.seen_through), Some(seen));
    // Eero's snapshot does not carry Aino's own view.
    let eeros_fresh = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let aino_for_eero = snapshot(&eeros_fresh).participants.iter().find(|found| found.id == aino.participant).cloned();
    assert_eq!(aino_for_eero.and_then(|found| found.own), None);
}

#[tokio::test]
async fn mentions_and_followed_cards_notify_live_and_only_the_recipient() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let asa = workshop.participant(&server, "Åsa Mäkelä-Öhman").await;
    let eero = workshop.participant(&server, "Eero").await;
    let observer = server.join(&workshop.links.observer, "Olli").await;
    let mut asas = WsClient::connect_and_settle(&server, workshop.board, &asa.token, None).await;
    let mut eeros = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let mut ollis = WsClient::connect_and_settle(&server, workshop.board, &observer.token, None).await;

    // Eero adds a card (and so follows it); Åsa is mentioned on it by the facilitator.
    let (card, add) = add_card(workshop.column, "Nuorisotila");
    eeros.applied(add).await;
    let comment = new_comment_id();
    let body = "Kiitos! @åsa mäkelä-öhman, voisitko katsoa tätä?";
    let (_, head) = server
        .http_applied(
            workshop.board,
            &workshop.facilitator.token,
            &Command::AddComment { comment, card, reply_to: None, body: body.into() },
        )
        .await;

    let notification = |message: &ServerMessage| {
        kipina_tests::changes(message).iter().find_map(|change| match change {
            Change::Notification(view) => Some(view.clone()),
            _ => None,
        })
    };
    let to_asa = notification(&asas.expect_changed_through(head).await).expect("Åsa is notified live");
    assert_eq!((to_asa.kind, to_asa.card, to_asa.comment), (NotificationKind::Mentioned, card, Some(comment)));
    assert_eq!(to_asa.actor, Some(workshop.facilitator.participant));
    let to_eero = notification(&eeros.expect_changed_through(head).await).expect("Eero follows his card");
    assert_eq!(to_eero.kind, NotificationKind::Commented);
    let to_olli = ollis.expect_changed_through(head).await;
    assert_eq!(notification(&to_olli), None);
    assert!(
        ollis.raw.iter().all(|frame| !frame.contains("\"notification\"")),
        "the observer gets no notification frame"
    );
    let comment_view = kipina_tests::comment_in(&to_olli, comment).expect("everyone sees the comment");
    assert_eq!(
        comment_view.mentions,
        [asa.participant],
        "the server found the name with its space, hyphen and letters"
    );

    // Reading on one device clears the count on the other.
    let mut asas_phone = WsClient::connect_and_settle(&server, workshop.board, &asa.token, None).await;
    assert_eq!(snapshot(&asas_phone).notifications.len(), 1);
    let (_, read) = asas.applied(Command::MarkNotificationsRead { through: to_asa.seq }).await;
    let message = asas_phone.expect_changed_through(read).await;
    let own = participant_in(&message, asa.participant).and_then(|found| found.own.clone()).expect("own view");
    assert_eq!(own.notifications_read_through, to_asa.seq);

    // Unfollowing stops Eero's notifications; following starts Olli's.
    eeros.applied(Command::FollowCard { card, follow: false }).await;
    ollis.applied(Command::FollowCard { card, follow: true }).await;
    let (_, head) = asas
        .applied(Command::AddComment { comment: new_comment_id(), card, reply_to: None, body: "Katsoin!".into() })
        .await;
    assert_eq!(notification(&eeros.expect_changed_through(head).await), None);
    let to_olli = notification(&ollis.expect_changed_through(head).await).expect("Olli follows it now");
    assert_eq!((to_olli.kind, to_olli.actor), (NotificationKind::Commented, Some(asa.participant)));
}
