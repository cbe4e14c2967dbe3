//! Presence: who is connected, sent to everyone whenever someone comes or goes.

use kipina_tests::{TestServer, Workshop, WsClient, link_part};

#[tokio::test]
async fn presence_shows_who_connects_and_who_leaves() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;

    let mut aino_client = WsClient::connect(&server, workshop.board, &aino.token, None).await;
    let (online, observers) = aino_client.expect_presence().await;
    assert_eq!((online, observers), (vec![aino.participant], 0), "Aino sees herself");

    let mut eero_client = WsClient::connect(&server, workshop.board, &eero.token, None).await;
    // The coalesced broadcast of Aino's own arrival may come first (on a loaded machine, when
    // the board's task started more than a presence interval before Eero subscribed).
    let online = loop {
        let (online, _) = aino_client.expect_presence().await;
        if online.contains(&eero.participant) {
            break online;
        }
    };
    assert!(online.contains(&aino.participant), "{online:?}");
    assert_eq!(online.len(), 2, "{online:?}");
    let (online, _) = eero_client.expect_presence().await;
    assert_eq!(online.len(), 2, "Eero's opening presence has both: {online:?}");

    let observer = WsClient::connect(&server, workshop.board, link_part(&workshop.links.observer), None).await;
    let (online, observers) = aino_client.expect_presence().await;
    assert_eq!((online.len(), observers), (2, 1), "observers are counted, not listed");

    eero_client.close().await;
    let (online, observers) = aino_client.expect_presence().await;
    assert_eq!((online, observers), (vec![aino.participant], 1), "Eero left");

    observer.close().await;
    let (online, observers) = aino_client.expect_presence().await;
    assert_eq!((online, observers), (vec![aino.participant], 0), "the observer left");
}

#[tokio::test]
async fn a_participant_with_two_tabs_stays_online_until_both_close() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    let first_tab = WsClient::connect(&server, workshop.board, &eero.token, None).await;
    // The coalesced broadcast of Aino's own arrival may come first (on a loaded machine, when
    // the board's task started more than a presence interval before Eero subscribed).
    while !aino_client.expect_presence().await.0.contains(&eero.participant) {}
    let second_tab = WsClient::connect(&server, workshop.board, &eero.token, None).await;
    let (online, _) = aino_client.expect_presence().await;
    assert_eq!(online.iter().filter(|id| **id == eero.participant).count(), 1, "listed once: {online:?}");

    // Closing one tab leaves Eero online: every presence until the observer's arrival lists him.
    first_tab.close().await;
    let _observer = WsClient::connect(&server, workshop.board, link_part(&workshop.links.observer), None).await;
    loop {
        let (online, observers) = aino_client.expect_presence().await;
        assert!(online.contains(&eero.participant), "Eero still has a tab open: {online:?}");
        if observers == 1 {
            break;
        }
    }
    second_tab.close().await;
    loop {
        let (online, _) = aino_client.expect_presence().await;
        if !online.contains(&eero.participant) {
            assert_eq!(online, vec![aino.participant]);
            break;
        }
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_and_leaves_presence() {
    // Short heartbeat settings so the test need not wait 30 s; the rule is the same.
    let server = TestServer::start_with(|config| {
        config.heartbeat_interval = std::time::Duration::from_millis(100);
        config.client_timeout = std::time::Duration::from_millis(600);
    })
    .await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut aino_client = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;

    // Eero's client stops reading after subscribing, so it answers no ping. Aino keeps reading
    // all along (and so answers pings, however long Eero's connecting takes on a busy machine)
    // and sees Eero come and go.
    let watch_presence = async {
        let mut seen = false;
        loop {
            let (online, _) = aino_client.expect_presence().await;
            if online.contains(&eero.participant) {
                seen = true;
            } else if seen {
                assert_eq!(online, vec![aino.participant]);
                break;
            }
        }
    };
    let (eero_client, ()) = tokio::join!(WsClient::connect(&server, workshop.board, &eero.token, None), watch_presence);
    drop(eero_client);
    // Aino herself, who answers pings, is still connected and served.
    aino_client.applied(kipina_tests::add_card(workshop.column, "Yhä täällä").1).await;
}
