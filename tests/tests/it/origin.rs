//! Cross-site WebSocket hijacking: the upgrade is refused with `403` unless the `Origin` is the
//! server's own or in the configured allowlist.

use kipina_proto::{Role, ServerMessage};
use kipina_tests::{TestServer, WsClient, open_websocket};

const ALLOWED: &str = "https://tyopaja.example.fi";

#[tokio::test]
async fn a_websocket_upgrade_from_any_other_origin_is_refused_with_403() {
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    let url = server.ws_url(created.session.board);
    let port = server.port();

    let look_alike = format!("http://127.0.0.1:{port}.evil.example");
    let other_port = format!("http://127.0.0.1:{}", if port == 1 { 2 } else { port - 1 });
    let with_path = format!("http://evil.example/http://127.0.0.1:{port}");
    let user_info = format!("http://127.0.0.1:{port}@evil.example");
    let origins: [Option<&str>; 8] = [
        Some("http://evil.example"),
        Some(&look_alike),
        Some("null"),
        None,
        Some(&other_port),
        Some(&with_path),
        Some(&user_info),
        Some(ALLOWED),
    ];
    for origin in origins {
        match open_websocket(&url, origin).await {
            Err(status) => assert_eq!(status, 403, "Origin {origin:?}"),
            Ok(_) => panic!("the upgrade with Origin {origin:?} was accepted"),
        }
    }
}

#[tokio::test]
async fn the_servers_own_origin_may_open_a_websocket() {
    let server = TestServer::start().await;
    let created = server.create_board("Fasilitaattori").await;
    // `connect` uses `http://127.0.0.1:{port}`.
    let client = WsClient::connect(&server, created.session.board, &created.session.token, None).await;
    assert_eq!(client.role, Some(Role::Facilitator));
}

#[tokio::test]
async fn an_allowlisted_origin_may_open_a_websocket() {
    let server = TestServer::start_with(|config| config.allowed_origins = vec![ALLOWED.into()]).await;
    let created = server.create_board("Fasilitaattori").await;
    let url = server.ws_url(created.session.board);

    let socket = open_websocket(&url, Some(ALLOWED))
        .await
        .unwrap_or_else(|status| panic!("the allowlisted origin was refused with {status}"));

    // It is a working connection.
    let mut client = WsClient::from_socket(socket);
    client.subscribe(&created.session.token, None).await;
    assert!(matches!(client.next().await, ServerMessage::Welcome { .. }));

    for origin in [Some("http://evil.example"), Some("https://tyopaja.example.fi.evil.example"), None] {
        match open_websocket(&url, origin).await {
            Err(status) => assert_eq!(status, 403, "Origin {origin:?}"),
            Ok(_) => panic!("the upgrade with Origin {origin:?} was accepted"),
        }
    }
}
