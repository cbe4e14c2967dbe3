//! Tokens, link secrets and join codes grant access, so they must never be written to the log,
//! even at the most talkative log level. The real program runs with `KIPINA_LOG=trace` while a
//! board is created, joined by link and by code, used over HTTP and WebSocket (also with wrong
//! tokens), and its whole log is then searched for every secret.

use futures_util::{SinkExt, StreamExt};
use kipina_proto::api::{CreateBoardRequest, CreateBoardResponse, JoinRequest, Session};
use kipina_proto::{ClientMessage, Command, CommandId, ServerMessage};
use kipina_tests::{ChildServer, WAIT, link_part};
use std::process::Stdio;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

async fn post<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: String, body: &impl serde::Serialize) -> T {
    let response = http.post(url).json(body).send().await.expect("answered");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json")
}

#[tokio::test]
async fn no_token_link_secret_or_join_code_reaches_the_log() {
    let dir = tempfile::tempdir().expect("a data directory");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let server = ChildServer::start(
        env!("CARGO_BIN_EXE_kipina-under-test"),
        &dir.path().join("data"),
        "trace",
        Stdio::from(log),
    );
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let request = CreateBoardRequest {
        title: "Salaisuudet".into(),
        description: String::new(),
        language: Default::default(),
        facilitator_name: "Fanni".into(),
        template: Default::default(),
    };
    let created: CreateBoardResponse = post(&http, format!("{base}/api/boards"), &request).await;
    let board = created.session.board;
    let by_link: Session = post(
        &http,
        format!("{base}/api/join"),
        &JoinRequest {
            invitation: created.links.participant.clone(),
            display_name: "Aino".into(),
            known_tokens: vec![],
        },
    )
    .await;
    let by_code: Session = post(
        &http,
        format!("{base}/api/join"),
        &JoinRequest { invitation: created.links.join_code.clone(), display_name: "Eero".into(), known_tokens: vec![] },
    )
    .await;
    for link in [&created.links.participant, &created.links.observer, &created.links.facilitator] {
        let path = link_part(link);
        let _ = http.get(format!("{base}/api/invitations/{path}")).send().await.expect("answered");
    }
    let _ = http.get(format!("{base}/api/boards/{board}")).bearer_auth(&by_code.token).send().await.expect("answered");
    let _ = http.get(format!("{base}/api/boards/{board}")).bearer_auth("kp_wrong-token-for-the-log-test").send().await;
    let _ = http.get(format!("{base}/api/boards/{board}/links")).bearer_auth(&created.session.token).send().await;
    let _ = http
        .get(format!("{base}/api/boards/{board}/qr.svg?link=participant"))
        .bearer_auth(&created.session.token)
        .send()
        .await;
    let _ = http
        .get(format!("{base}/api/boards/{board}/export?format=md"))
        .bearer_auth(&created.session.token)
        .send()
        .await;

    // Over WebSocket: a participant token and the observer link's secret, and a wrong token.
    for token in [by_link.token.clone(), link_part(&created.links.observer).to_owned(), "kp_not-a-real-token".into()] {
        let url = format!("{}/api/boards/{board}/ws", base.replace("http://", "ws://"));
        let mut request = url.into_client_request().expect("a request");
        request.headers_mut().insert("Origin", base.parse().expect("an origin"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("connected");
        let (mut sink, mut stream) = socket.split();
        let subscribe = ClientMessage::Subscribe { token, last_seq: None };
        sink.send(Message::text(serde_json::to_string(&subscribe).expect("json"))).await.expect("sent");
        let command_id = CommandId(Uuid::now_v7());
        let command =
            ClientMessage::Command { command_id, command: Command::Rename { display_name: "Aino K.".into() } };
        sink.send(Message::text(serde_json::to_string(&command).expect("json"))).await.expect("sent");
        // Until the command is answered (applied, or refused for the observer and the wrong
        // token) or the server closes: by then the server has logged all it will about it.
        loop {
            let frame = tokio::time::timeout(WAIT, stream.next()).await.expect("the server answers the command");
            let Some(Ok(Message::Text(text))) = frame else { break };
            match serde_json::from_str::<ServerMessage>(&text).expect("a server message") {
                ServerMessage::Ack { command_id: answered, .. } if answered == command_id => break,
                ServerMessage::Error { command_id: Some(answered), .. } if answered == command_id => break,
                _ => {}
            }
        }
    }
    server.kill();

    let written = std::fs::read_to_string(&log_path).expect("the log");
    assert!(
        written.len() > 1_000,
        "trace logging wrote little ({} bytes): the test would prove nothing",
        written.len()
    );
    let mut secrets = vec![
        ("the facilitator's token", created.session.token.clone()),
        ("a token from a link", by_link.token.clone()),
        ("a token from a join code", by_code.token.clone()),
        ("the join code", created.links.join_code.clone()),
    ];
    for (what, link) in [
        ("facilitator", &created.links.facilitator),
        ("participant", &created.links.participant),
        ("observer", &created.links.observer),
    ] {
        let secret = link.rsplit('/').next().expect("a secret").to_owned();
        secrets.push((what, secret));
    }
    for (what, secret) in secrets {
        assert!(secret.len() >= 6, "{what} is too short to search for");
        assert!(!written.contains(&secret), "{what} is in the log");
    }
}
