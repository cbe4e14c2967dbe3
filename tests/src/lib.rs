//! The harness for the black-box tests in `tests/tests/`: it starts the real server on a free
//! loopback port with a fresh data directory and talks to it the way a browser does, over plain
//! HTTP (`reqwest`) and WebSocket (`tokio-tungstenite`).
//!
//! Nothing here sleeps to wait for the server: every read waits for a message with a deadline
//! ([`WAIT`]) and fails the test when it passes. The WebSocket client checks, on every message,
//! that `changed` messages continue exactly where the last one (or the snapshot) stopped, so every
//! test also checks that delivery is gap-free and duplicate-free.

use futures_util::{SinkExt, StreamExt};
use kipina_proto::api::{
    BoardLinks, CommandRequest, CommandResponse, CreateBoardResponse, ErrorBody, InvitationInfo, JoinRequest, Session,
};
use kipina_proto::view::{BoardView, CardView, ColumnView, CommentView, ParticipantView};
use kipina_proto::{
    AckOutcome, BoardId, CardId, Change, ClientMessage, ColumnId, Command, CommandId, CommentId, ErrorCode, Language,
    ParticipantId, Role, ServerMessage,
};
use kipina_server::config::Config;
use kipina_server::startup::Application;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for anything the server should send before it fails. Only a guard
/// against a test that would otherwise hang: nothing here expects an answer within a time, and
/// a loaded CI machine (load 3-4 on 2 cores) can take seconds for what takes milliseconds here.
pub const WAIT: Duration = Duration::from_secs(60);

/// A change made to the test server's configuration before it starts (and again on restart).
type Configure = Arc<dyn Fn(&mut Config) + Send + Sync>;

/// The real server, running in this process on a free port over its own temporary data directory.
pub struct TestServer {
    data_dir: tempfile::TempDir,
    configure: Configure,
    port: u16,
    handle: kipina_server::startup::StopHandle,
    task: Option<JoinHandle<Result<(), String>>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("data_dir", &self.data_dir.path()).field("port", &self.port).finish()
    }
}

impl TestServer {
    /// A server with the test defaults (`Config::for_tests`).
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `configure` adjusts (on every start, restarts included).
    pub async fn start_with(configure: impl Fn(&mut Config) + Send + Sync + 'static) -> Self {
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let configure: Configure = Arc::new(configure);
        let (port, handle, task) = launch(&data_dir, &configure).await;
        let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
        Self { data_dir, configure, port, handle, task: Some(task), http }
    }

    /// Stops the server gracefully and starts a new one on the same data directory (on a new port).
    pub async fn restart(&mut self) {
        self.restart_after(|_| {}).await;
    }

    /// Stops the server, lets `change` work on its data directory, and starts it again there.
    pub async fn restart_after(&mut self, change: impl FnOnce(&std::path::Path)) {
        self.stop().await;
        change(self.data_dir.path());
        let (port, handle, task) = launch(&self.data_dir, &self.configure).await;
        self.port = port;
        self.handle = handle;
        self.task = Some(task);
    }

    /// Stops the server gracefully and waits until it has finished.
    pub async fn stop(&mut self) {
        tokio::time::timeout(WAIT, self.handle.stop()).await.expect("the server stops within the wait");
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(WAIT, task).await.expect("the server task ends within the wait");
            result.expect("the server task does not panic").expect("the server stops without an error");
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// `http://127.0.0.1:{port}`, which is also the server's own WebSocket origin.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The WebSocket address of a board.
    pub fn ws_url(&self, board: BoardId) -> String {
        format!("ws://127.0.0.1:{}/api/boards/{board}/ws", self.port)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET {path}`, without credentials.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base_url())).send().await.expect("the GET request is answered")
    }

    /// The value of an unlabelled sample in the Prometheus text of `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.expect("a body");
        text.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
    }

    /// Creates a board titled "Työpaja" through `POST /api/boards`.
    pub async fn create_board(&self, facilitator_name: &str) -> CreateBoardResponse {
        self.create_board_titled("Työpaja", facilitator_name).await
    }

    pub async fn create_board_titled(&self, title: &str, facilitator_name: &str) -> CreateBoardResponse {
        // Written out as JSON so that fields added later with defaults (the template) keep their
        // defaults: a board that starts with no columns.
        let request = serde_json::json!({
            "title": title,
            "description": "Black-box test",
            "language": Language::Fi,
            "facilitator_name": facilitator_name,
        });
        let response = self
            .http
            .post(format!("{}/api/boards", self.base_url()))
            .json(&request)
            .send()
            .await
            .expect("POST /api/boards is answered");
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert_eq!(status.as_u16(), 201, "POST /api/boards: {text}");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("a CreateBoardResponse ({error}): {text}"))
    }

    /// Joins with an invitation (a link, its `{board}/{r}/{secret}` part, or a join code).
    pub async fn join(&self, invitation: &str, display_name: &str) -> Session {
        match self.try_join(invitation, display_name).await {
            Ok(session) => session,
            Err((status, body)) => panic!("joining with {invitation:?} was refused with {status}: {body:?}"),
        }
    }

    /// `POST /api/join`: the session (after `201`), or the status and error body.
    pub async fn try_join(&self, invitation: &str, display_name: &str) -> Result<Session, (u16, ErrorBody)> {
        let request =
            JoinRequest { invitation: invitation.into(), display_name: display_name.into(), known_tokens: vec![] };
        self.try_join_with(&request).await.map(|(_, session)| session)
    }

    /// `POST /api/join` with a whole request (e.g. with the tokens a browser already holds): the
    /// status (`201` for a new participant, `200` for a returning one) and the session.
    pub async fn try_join_with(&self, request: &JoinRequest) -> Result<(u16, Session), (u16, ErrorBody)> {
        let response = self
            .http
            .post(format!("{}/api/join", self.base_url()))
            .json(request)
            .send()
            .await
            .expect("POST /api/join is answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if status == 201 || status == 200 {
            Ok((status, serde_json::from_str(&text).unwrap_or_else(|error| panic!("a Session ({error}): {text}"))))
        } else {
            Err((status, error_body(status, &text)))
        }
    }

    /// `GET /api/boards/{board}` with a bearer token; panics unless it answers `200`.
    pub async fn board(&self, board: BoardId, token: &str) -> BoardView {
        let response = self
            .http
            .get(format!("{}/api/boards/{board}", self.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/boards/{board} is answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        assert_eq!(status, 200, "GET /api/boards/{board}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("a BoardView ({error}): {text}"))
    }

    /// `GET /api/boards/{board}/links` with a bearer token.
    pub async fn links(&self, board: BoardId, token: &str) -> Result<BoardLinks, (u16, ErrorBody)> {
        let response = self
            .http
            .get(format!("{}/api/boards/{board}/links", self.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/boards/{board}/links is answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if status == 200 {
            Ok(serde_json::from_str(&text).unwrap_or_else(|error| panic!("BoardLinks ({error}): {text}")))
        } else {
            Err((status, error_body(status, &text)))
        }
    }

    /// `GET /api/invitations/{board}/{r}/{secret}` for a link path such as `/join/{board}/p/{secret}`.
    pub async fn invitation(&self, link: &str) -> Result<InvitationInfo, (u16, ErrorBody)> {
        let response = self.get(&format!("/api/invitations/{}", link_part(link))).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if status == 200 {
            Ok(serde_json::from_str(&text).unwrap_or_else(|error| panic!("an InvitationInfo ({error}): {text}")))
        } else {
            Err((status, error_body(status, &text)))
        }
    }

    /// `POST /api/boards/{board}/commands` with a bearer token (or none).
    pub async fn http_command(
        &self,
        board: BoardId,
        token: Option<&str>,
        command_id: CommandId,
        command: &Command,
    ) -> Result<CommandResponse, (u16, ErrorBody)> {
        let request = CommandRequest { command_id, command: command.clone() };
        let mut builder = self.http.post(format!("{}/api/boards/{board}/commands", self.base_url())).json(&request);
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        let response = builder.send().await.expect("POST /api/boards/{board}/commands is answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if status == 200 || status == 201 {
            Ok(serde_json::from_str(&text).unwrap_or_else(|error| panic!("a CommandResponse ({error}): {text}")))
        } else {
            Err((status, error_body(status, &text)))
        }
    }

    /// A command over HTTP that must be applied; returns its sequence numbers.
    pub async fn http_applied(&self, board: BoardId, token: &str, command: &Command) -> (u64, u64) {
        let command_id = new_command_id();
        match self.http_command(board, Some(token), command_id, command).await {
            Ok(CommandResponse { command_id: answered, outcome: AckOutcome::Applied { first_seq, last_seq } }) => {
                assert_eq!(answered, command_id, "the answer names the command");
                (first_seq, last_seq)
            }
            other => panic!("{} over HTTP was not applied: {other:?}", command.name()),
        }
    }
}

/// Binds a server on the data directory and runs it on this test's runtime.
async fn launch(
    data_dir: &tempfile::TempDir,
    configure: &Configure,
) -> (u16, kipina_server::startup::StopHandle, JoinHandle<Result<(), String>>) {
    let mut config = Config::for_tests(data_dir.path().to_path_buf());
    configure(&mut config);
    let app = Application::build(config).await.expect("the server starts on a fresh port");
    let port = app.port();
    let handle = app.stop_handle();
    let task = tokio::spawn(async move { app.run_until_stopped().await.map_err(|error| error.to_string()) });
    (port, handle, task)
}

/// Reads an error answer; a body that is not an `ErrorBody` fails the test, since every error
/// answer must be one.
fn error_body(status: u16, text: &str) -> ErrorBody {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("answer {status} is not an ErrorBody ({error}): {text:?}"))
}

/// The `{board}/{r}/{secret}` part of a link path `/join/{board}/{r}/{secret}` (also the token of
/// an observer link).
/// The link may also be a whole URL (`http://host/join/...`).
pub fn link_part(link: &str) -> &str {
    match link.find("/join/") {
        Some(at) => &link[at + "/join/".len()..],
        None => link.trim_start_matches('/'),
    }
}

pub fn new_command_id() -> CommandId {
    CommandId(uuid::Uuid::now_v7())
}

pub fn new_card_id() -> CardId {
    CardId(uuid::Uuid::now_v7())
}

pub fn new_column_id() -> ColumnId {
    ColumnId(uuid::Uuid::now_v7())
}

pub fn new_comment_id() -> CommentId {
    CommentId(uuid::Uuid::now_v7())
}

/// `AddCard` with a fresh card id.
pub fn add_card(column: ColumnId, title: &str) -> (CardId, Command) {
    let card = new_card_id();
    (card, Command::AddCard { card, column, title: title.into(), body: String::new() })
}

/// `AddColumn` with a fresh column id.
pub fn add_column(title: &str) -> (ColumnId, Command) {
    let column = new_column_id();
    (column, Command::AddColumn { column, title: title.into() })
}

/// What a WebSocket read produced.
#[derive(Debug)]
pub enum Received {
    Message(ServerMessage),
    /// The server sent a close frame (its code and reason, if any).
    Closed(Option<CloseFrame>),
    /// The connection ended without a close frame, or failed.
    Ended(String),
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket connection to one board, as a browser tab keeps it.
pub struct WsClient {
    sink: futures_util::stream::SplitSink<Socket, Message>,
    stream: futures_util::stream::SplitStream<Socket>,
    /// The last sequence number applied: from a snapshot, a `changed`, or the `last_seq` this
    /// client subscribed with.
    pub last_seq: Option<u64>,
    /// Who the `welcome` said this client is (`None` for observers and before `welcome`).
    pub you: Option<ParticipantId>,
    pub role: Option<Role>,
    /// Every message received so far, for failure messages.
    pub log: Vec<ServerMessage>,
    /// Every text frame received so far, exactly as it came over the wire.
    pub raw: Vec<String>,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient").field("last_seq", &self.last_seq).field("you", &self.you).finish()
    }
}

/// Opens a WebSocket with the given `Origin` header (or none): the connected socket, or the HTTP
/// status of a refused upgrade.
pub async fn open_websocket(url: &str, origin: Option<&str>) -> Result<Socket, u16> {
    let mut request = url.into_client_request().expect("a WebSocket request");
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", HeaderValue::from_str(origin).expect("an origin header value"));
    }
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await {
        Err(_) => panic!("the WebSocket upgrade at {url} was not answered within {WAIT:?}"),
        Ok(Ok((socket, response))) => {
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            Ok(socket)
        }
        Ok(Err(tungstenite::Error::Http(response))) => Err(response.status().as_u16()),
        Ok(Err(other)) => panic!("the WebSocket upgrade at {url} failed: {other}"),
    }
}

impl WsClient {
    /// Connects with the server's own origin, subscribes with `token` and `last_seq`, and reads
    /// the `welcome`, which must be the first message.
    pub async fn connect(server: &TestServer, board: BoardId, token: &str, last_seq: Option<u64>) -> Self {
        let client = Self::open(server, board).await;
        client.welcomed(board, token, last_seq).await
    }

    /// Like [`WsClient::connect`], over a socket whose receive buffer is set to `bytes` (so that
    /// a client that stops reading fills the server's queues after little traffic).
    pub async fn connect_with_receive_buffer(
        server: &TestServer,
        board: BoardId,
        token: &str,
        last_seq: Option<u64>,
        bytes: u32,
    ) -> Self {
        Self::connect_with_buffers(server, board, token, last_seq, bytes, None).await
    }

    /// Like [`WsClient::connect_with_receive_buffer`], and with the socket's send buffer set to
    /// `send` bytes when given.
    pub async fn connect_with_buffers(
        server: &TestServer,
        board: BoardId,
        token: &str,
        last_seq: Option<u64>,
        receive: u32,
        send: Option<u32>,
    ) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket.set_recv_buffer_size(receive).expect("the receive buffer size is set");
        if let Some(send) = send {
            socket.set_send_buffer_size(send).expect("the send buffer size is set");
        }
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], server.port()));
        let stream = within("connecting", socket.connect(address)).await.expect("a TCP connection");
        let mut request = server.ws_url(board).into_client_request().expect("a WebSocket request");
        let origin = HeaderValue::from_str(&server.base_url()).expect("an origin header value");
        request.headers_mut().insert("Origin", origin);
        let (socket, _) =
            within("the upgrade", tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)))
                .await
                .expect("the upgrade with the server's own origin succeeds");
        Self::from_socket(socket).welcomed(board, token, last_seq).await
    }

    /// Subscribes and reads the `welcome`, which must be the first answer.
    async fn welcomed(mut self, board: BoardId, token: &str, last_seq: Option<u64>) -> Self {
        self.subscribe(token, last_seq).await;
        match self.next().await {
            ServerMessage::Welcome { board: welcomed, you, role, .. } => {
                assert_eq!(welcomed, board, "welcome names the board subscribed to");
                self.you = you;
                self.role = Some(role);
            }
            other => panic!("the first answer to subscribe was not welcome: {other:?}"),
        }
        self
    }

    /// Connects with the server's own origin and subscribes, then reads up to and including the
    /// first `presence` (the end of the subscription's opening messages).
    pub async fn connect_and_settle(server: &TestServer, board: BoardId, token: &str, last_seq: Option<u64>) -> Self {
        let mut client = Self::connect(server, board, token, last_seq).await;
        client.expect(|message| matches!(message, ServerMessage::Presence { .. })).await;
        client
    }

    /// Connects with the server's own origin and sends nothing.
    pub async fn open(server: &TestServer, board: BoardId) -> Self {
        let socket = open_websocket(&server.ws_url(board), Some(&server.base_url()))
            .await
            .unwrap_or_else(|status| panic!("the WebSocket upgrade with the server's own origin got {status}"));
        Self::from_socket(socket)
    }

    /// A client over a socket opened with [`open_websocket`] (any origin).
    pub fn from_socket(socket: Socket) -> Self {
        let (sink, stream) = socket.split();
        Self { sink, stream, last_seq: None, you: None, role: None, log: Vec::new(), raw: Vec::new() }
    }

    pub async fn subscribe(&mut self, token: &str, last_seq: Option<u64>) {
        self.last_seq = last_seq;
        self.send(&ClientMessage::Subscribe { token: token.into(), last_seq }).await;
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        let text = serde_json::to_string(message).expect("a client message serialises");
        self.send_text(text).await;
    }

    /// Sends any text frame, well-formed or not.
    pub async fn send_text(&mut self, text: String) {
        self.send_message(Message::text(text)).await;
    }

    /// Sends any WebSocket message or raw frame.
    pub async fn send_message(&mut self, message: Message) {
        tokio::time::timeout(WAIT, self.sink.send(message))
            .await
            .expect("a frame is sent within the wait")
            .expect("a frame is sent");
    }

    /// Sends any WebSocket message, waiting `patience` at most: whether it went (a server that
    /// has stopped reading from this client makes the send wait).
    pub async fn try_send_message(&mut self, message: Message, patience: std::time::Duration) -> bool {
        matches!(tokio::time::timeout(patience, self.sink.send(message)).await, Ok(Ok(())))
    }

    /// Sends a command with a fresh id and returns the id.
    pub async fn send_command(&mut self, command: Command) -> CommandId {
        let command_id = new_command_id();
        self.send_command_with_id(command_id, command).await;
        command_id
    }

    pub async fn send_command_with_id(&mut self, command_id: CommandId, command: Command) {
        self.send(&ClientMessage::Command { command_id, command }).await;
    }

    /// Closes the connection cleanly.
    pub async fn close(mut self) {
        // The server may already be gone; a failed close is not what any test is about.
        let _ = tokio::time::timeout(WAIT, self.sink.close()).await;
    }

    /// The next frame from the server, whatever it is.
    pub async fn receive(&mut self) -> Received {
        loop {
            let frame = match tokio::time::timeout(WAIT, self.stream.next()).await {
                Err(_) => panic!(
                    "nothing arrived within {WAIT:?}; received so far: {:#?}",
                    self.log.iter().rev().take(8).collect::<Vec<_>>()
                ),
                Ok(None) => return Received::Ended("the stream ended".into()),
                Ok(Some(Err(error))) => return Received::Ended(error.to_string()),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    self.raw.push(text.as_str().to_owned());
                    let message: ServerMessage = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|error| panic!("the server sent an unreadable message ({error}): {text}"));
                    self.track(&message);
                    self.log.push(message.clone());
                    return Received::Message(message);
                }
                Message::Close(frame) => return Received::Closed(frame),
                Message::Binary(bytes) => panic!("the server sent a binary frame of {} bytes", bytes.len()),
                // Pings are answered by tungstenite itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// Reads until the server closes the connection: what it said before, and the close frame
    /// (which must have a code). A connection that ends without a close frame fails the test.
    pub async fn until_closed(&mut self) -> (Vec<ServerMessage>, CloseFrame) {
        let mut heard = Vec::new();
        loop {
            match self.receive().await {
                Received::Message(message) => heard.push(message),
                Received::Closed(frame) => return (heard, frame.expect("a close frame with a code")),
                Received::Ended(why) => panic!("the connection ended without a close frame: {why}; heard {heard:#?}"),
            }
        }
    }

    /// The next message; the connection closing fails the test.
    pub async fn next(&mut self) -> ServerMessage {
        match self.receive().await {
            Received::Message(message) => message,
            other => panic!("the connection closed while a message was expected: {other:?}; log: {:#?}", self.log),
        }
    }

    /// Reads until a message matches; the others are skipped (but still tracked).
    pub async fn expect(&mut self, mut matches: impl FnMut(&ServerMessage) -> bool) -> ServerMessage {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let received = tokio::time::timeout(remaining, self.next()).await.unwrap_or_else(|_| {
                panic!(
                    "no matching message within {WAIT:?}; received: {:#?}",
                    self.log.iter().rev().take(12).collect::<Vec<_>>()
                )
            });
            if matches(&received) {
                return received;
            }
        }
    }

    /// Reads until the `ack` or `error` about `command_id`.
    pub async fn outcome(&mut self, command_id: CommandId) -> Result<AckOutcome, ErrorCode> {
        let message = self
            .expect(|message| match message {
                ServerMessage::Ack { command_id: id, .. } => *id == command_id,
                ServerMessage::Error { command_id: Some(id), .. } => *id == command_id,
                _ => false,
            })
            .await;
        match message {
            ServerMessage::Ack { outcome, .. } => Ok(outcome),
            ServerMessage::Error { code, .. } => Err(code),
            _ => unreachable!("only acks and errors match"),
        }
    }

    /// Reads until the `ack` of `command_id`; an error about it fails the test.
    pub async fn expect_ack(&mut self, command_id: CommandId) -> AckOutcome {
        self.outcome(command_id).await.unwrap_or_else(|code| panic!("command {command_id} was refused: {code}"))
    }

    /// Reads until the `error` about `command_id` and returns its code; an ack fails the test.
    pub async fn expect_error(&mut self, command_id: CommandId) -> ErrorCode {
        match self.outcome(command_id).await {
            Err(code) => code,
            Ok(outcome) => panic!("command {command_id} was acknowledged ({outcome:?}) but should have been refused"),
        }
    }

    /// Sends a command and waits for it to be applied; returns its sequence numbers.
    pub async fn applied(&mut self, command: Command) -> (u64, u64) {
        let name = command.name();
        let command_id = self.send_command(command).await;
        match self.expect_ack(command_id).await {
            AckOutcome::Applied { first_seq, last_seq } => {
                // The protocol sends the `changed` to every subscriber, the sender included, before
                // the sender's `ack`.
                assert!(
                    self.last_seq.is_some_and(|seen| seen >= last_seq),
                    "the ack of {name} ({first_seq}..={last_seq}) came before its changed (last seen {:?})",
                    self.last_seq
                );
                (first_seq, last_seq)
            }
            other => panic!("{name} was acknowledged as {other:?}, not applied"),
        }
    }

    /// Sends a command that must be refused and returns the error code.
    pub async fn refused(&mut self, command: Command) -> ErrorCode {
        let command_id = self.send_command(command).await;
        self.expect_error(command_id).await
    }

    /// Reads until an `error` without a command id (an answer to a frame that was not a command)
    /// and returns its code.
    pub async fn expect_connection_error(&mut self) -> ErrorCode {
        match self.expect(|message| matches!(message, ServerMessage::Error { command_id: None, .. })).await {
            ServerMessage::Error { code, .. } => code,
            _ => unreachable!("only errors match"),
        }
    }

    /// Reads until the `changed` that includes `seq`.
    /// Returns once this client has applied everything up to `seq` (at once if it already has).
    pub async fn seen_through(&mut self, seq: u64) {
        if self.last_seq.is_none_or(|seen| seen < seq) {
            self.expect(|message| match message {
                ServerMessage::Changed { last_seq, .. } => *last_seq >= seq,
                ServerMessage::Snapshot { board } => board.seq >= seq,
                _ => false,
            })
            .await;
        }
    }

    pub async fn expect_changed_through(&mut self, seq: u64) -> ServerMessage {
        self.expect(|message| matches!(message, ServerMessage::Changed { last_seq, .. } if *last_seq >= seq)).await
    }

    /// Sends many commands as fast as the socket takes them while reading the answers at the same
    /// time (so the server's queue to this client never fills), and returns each command's
    /// outcome in the order sent.
    pub async fn flood(&mut self, commands: Vec<Command>) -> Vec<Result<AckOutcome, ErrorCode>> {
        self.flood_reading(commands, true).await
    }

    /// Like [`WsClient::flood`], but reads nothing until every command has been handed to the
    /// socket (whose send buffer must hold them all, see [`WsClient::connect_with_buffers`]).
    pub async fn flood_before_reading(&mut self, commands: Vec<Command>) -> Vec<Result<AckOutcome, ErrorCode>> {
        self.flood_reading(commands, false).await
    }

    async fn flood_reading(
        &mut self,
        commands: Vec<Command>,
        read_while_sending: bool,
    ) -> Vec<Result<AckOutcome, ErrorCode>> {
        let messages: Vec<(CommandId, ClientMessage)> = commands
            .into_iter()
            .map(|command| {
                let command_id = new_command_id();
                (command_id, ClientMessage::Command { command_id, command })
            })
            .collect();
        let ids: Vec<CommandId> = messages.iter().map(|(id, _)| *id).collect();
        let Self { sink, stream, last_seq, log, .. } = self;
        let send_all = async move {
            for (_, message) in &messages {
                let text = serde_json::to_string(message).expect("a client message serialises");
                sink.feed(Message::text(text)).await.expect("a frame is queued");
            }
            sink.flush().await.expect("the frames are sent");
        };
        let mut outcomes: std::collections::HashMap<CommandId, Result<AckOutcome, ErrorCode>> =
            std::collections::HashMap::new();
        let receive_all = async {
            while outcomes.len() < ids.len() {
                let message = receive_during_flood(stream).await;
                track_sequence(last_seq, &message);
                log.push(message.clone());
                match message {
                    ServerMessage::Ack { command_id, outcome } if ids.contains(&command_id) => {
                        assert!(outcomes.insert(command_id, Ok(outcome)).is_none(), "two answers to {command_id}");
                    }
                    ServerMessage::Error { command_id: Some(command_id), code, .. } if ids.contains(&command_id) => {
                        assert!(outcomes.insert(command_id, Err(code)).is_none(), "two answers to {command_id}");
                    }
                    ServerMessage::Error { command_id: None, code, message } => {
                        panic!("an error about no command during the flood: {code}: {message}")
                    }
                    _ => {}
                }
            }
        };
        if read_while_sending {
            tokio::join!(send_all, receive_all);
        } else {
            send_all.await;
            receive_all.await;
        }
        ids.iter().map(|id| outcomes.remove(id).expect("every command was answered")).collect()
    }

    /// Follows the sequence numbers a client has applied, failing on a gap or a repeat.
    fn track(&mut self, message: &ServerMessage) {
        track_sequence(&mut self.last_seq, message);
    }
}

/// The next message during a flood, read from the stream half alone.
async fn receive_during_flood(stream: &mut futures_util::stream::SplitStream<Socket>) -> ServerMessage {
    loop {
        let frame = match tokio::time::timeout(WAIT, stream.next()).await {
            Err(_) => panic!("nothing arrived within {WAIT:?} during the flood"),
            Ok(None) => panic!("the connection ended during the flood"),
            Ok(Some(Err(error))) => panic!("the connection failed during the flood: {error}"),
            Ok(Some(Ok(frame))) => frame,
        };
        match frame {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|error| panic!("the server sent an unreadable message ({error}): {text}"));
            }
            Message::Close(frame) => panic!("the server closed the connection during the flood: {frame:?}"),
            _ => continue,
        }
    }
}

/// The rule a browser follows: a `changed` is applied only when it starts right after the last
/// sequence number seen; anything else is a gap or a duplicate, which the server must never send.
fn track_sequence(last_seen: &mut Option<u64>, message: &ServerMessage) {
    match message {
        ServerMessage::Snapshot { board } => *last_seen = Some(board.seq),
        ServerMessage::Changed { first_seq, last_seq, .. } => {
            let expected = last_seen.map_or(1, |seen| seen + 1);
            assert_eq!(
                *first_seq, expected,
                "changed {first_seq}..={last_seq} does not follow the last sequence number seen ({last_seen:?})"
            );
            assert!(last_seq >= first_seq, "changed {first_seq}..={last_seq} is empty or reversed");
            *last_seen = Some(*last_seq);
        }
        _ => {}
    }
}

/// A board set up for a workshop: a facilitator with one column, and the links.
#[derive(Debug)]
pub struct Workshop {
    pub board: BoardId,
    pub facilitator: Session,
    pub links: BoardLinks,
    pub column: ColumnId,
}

impl Workshop {
    /// Creates a board and adds one column over HTTP.
    pub async fn open(server: &TestServer) -> Self {
        let created = server.create_board("Fasilitaattori").await;
        let board = created.session.board;
        let (column, command) = add_column("Ideat");
        server.http_applied(board, &created.session.token, &command).await;
        Self { board, facilitator: created.session, links: created.links, column }
    }

    /// A new participant through the participant link.
    pub async fn participant(&self, server: &TestServer, name: &str) -> Session {
        server.join(&self.links.participant, name).await
    }
}

/// Runs a future with the test's wait as its deadline.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future).await.unwrap_or_else(|_| panic!("{what} did not finish within {WAIT:?}"))
}

/// The changes of a `changed` message (none for any other message).
pub fn changes(message: &ServerMessage) -> &[Change] {
    match message {
        ServerMessage::Changed { changes, .. } => changes,
        _ => &[],
    }
}

/// The new view of a card in a `changed` message, if it has one.
pub fn card_in(message: &ServerMessage, card: CardId) -> Option<&CardView> {
    changes(message).iter().find_map(|change| match change {
        Change::Card(view) if view.id == card => Some(view),
        _ => None,
    })
}

/// The new view of a comment in a `changed` message, if it has one.
pub fn comment_in(message: &ServerMessage, comment: CommentId) -> Option<&CommentView> {
    changes(message).iter().find_map(|change| match change {
        Change::Comment(view) if view.id == comment => Some(view),
        _ => None,
    })
}

/// The new view of a participant in a `changed` message, if it has one.
pub fn participant_in(message: &ServerMessage, participant: ParticipantId) -> Option<&ParticipantView> {
    changes(message).iter().find_map(|change| match change {
        Change::Participant(view) if view.id == participant => Some(view),
        _ => None,
    })
}

/// The new view of a column in a `changed` message, if it has one.
pub fn column_in(message: &ServerMessage, column: ColumnId) -> Option<&ColumnView> {
    changes(message).iter().find_map(|change| match change {
        Change::Column(view) if view.id == column => Some(view),
        _ => None,
    })
}

impl WsClient {
    /// Reads until a `changed` carries a view of `card`, and returns the message and the view.
    pub async fn expect_card(&mut self, card: CardId) -> (ServerMessage, CardView) {
        let message = self.expect(|message| card_in(message, card).is_some()).await;
        let view = card_in(&message, card).cloned().expect("the message matched on this card");
        (message, view)
    }

    /// Reads until a `changed` carries a view of `comment`, and returns the message and the view.
    pub async fn expect_comment(&mut self, comment: CommentId) -> (ServerMessage, CommentView) {
        let message = self.expect(|message| comment_in(message, comment).is_some()).await;
        let view = comment_in(&message, comment).cloned().expect("the message matched on this comment");
        (message, view)
    }

    /// Reads until a `presence` message and returns who is online and how many observers.
    pub async fn expect_presence(&mut self) -> (Vec<ParticipantId>, u32) {
        match self.expect(|message| matches!(message, ServerMessage::Presence { .. })).await {
            ServerMessage::Presence { online, observers } => (online, observers),
            _ => unreachable!("only presence matches"),
        }
    }
}

/// The real `kipina` program as a child process (the tests' `kipina-under-test` binary), for
/// what an in-process server cannot show: being killed, or what it writes to its log.
#[derive(Debug)]
pub struct ChildServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ChildServer {
    /// Starts `binary serve` on port 0 over `data`, with `KIPINA_LOG=log_filter`; its standard
    /// error goes to `stderr`. Returns once it says where it serves.
    pub fn start(binary: &str, data: &std::path::Path, log_filter: &str, stderr: std::process::Stdio) -> ChildServer {
        Self::start_adjusted(binary, data, log_filter, stderr, |_| {})
    }

    /// Like [`ChildServer::start`], with the command adjusted by `adjust` (its environment,
    /// say) before it runs.
    pub fn start_adjusted(
        binary: &str,
        data: &std::path::Path,
        log_filter: &str,
        stderr: std::process::Stdio,
        adjust: impl FnOnce(&mut std::process::Command),
    ) -> ChildServer {
        use std::io::BufRead;
        let mut command = std::process::Command::new(binary);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--no-demo", "--max-commands-per-second", "100000", "--data"])
            .arg(data)
            .env("KIPINA_LOG", log_filter)
            // The compaction (ADR 0008) runs under the trials' steady writes, not only in pauses.
            .env("KIPINA_COMPACT_WHEN_QUIET_MS", "0")
            .stdout(std::process::Stdio::piped())
            .stderr(stderr);
        adjust(&mut command);
        let mut child = command.spawn().expect("kipina starts");
        let stdout = child.stdout.take().expect("its output");
        let mut first = String::new();
        std::io::BufReader::new(stdout).read_line(&mut first).expect("kipina says where it serves");
        let base = first.trim().rsplit(' ').next().expect("an address").to_owned();
        assert!(base.starts_with("http://"), "unexpected first line {first:?}");
        ChildServer { child, base }
    }

    /// SIGKILL: no shutdown, no flushing, nothing after this instant.
    pub fn kill(mut self) {
        self.child.kill().expect("the server is killed");
        self.child.wait().expect("and reaped");
    }

    /// Waits until `GET /health` answers `200`: the server is running (and handles signals).
    pub fn wait_until_healthy(&self) {
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://").to_owned();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let answer = std::net::TcpStream::connect(&address).and_then(|mut stream| {
                stream.set_read_timeout(Some(WAIT))?;
                stream.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
                let mut answer = String::new();
                stream.read_to_string(&mut answer)?;
                Ok(answer)
            });
            if answer.is_ok_and(|answer| answer.starts_with("HTTP/1.1 200")) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server at {} was not healthy within {WAIT:?}",
                self.base
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and returns at once (see [`ChildServer::wait`]).
    pub fn terminate(&self) {
        // A signal that comes before the server listens for it would end it the hard way.
        self.wait_until_healthy();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM was delivered");
    }

    /// Waits until the process has exited (blocking), and says how.
    pub fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("the server's status")
    }

    /// SIGTERM, as a service manager stops it: waits until it has shut down and expects success.
    pub fn stop(self) {
        self.terminate();
        let base = self.base.clone();
        let (exited, exit) = std::sync::mpsc::channel();
        std::thread::spawn(move || exited.send(self.wait()));
        let status = exit
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("the server at {base} did not stop within {WAIT:?} of SIGTERM"));
        assert!(status.success(), "the server stopped with {status}");
    }
}

/// A client's copy of a board, kept as the web client keeps it (see `kipina_proto::mirror`).
/// Comparing it with a fresh snapshot for the same viewer shows whether the changes it applied
/// added up to the board.
pub use kipina_proto::mirror::BoardMirror;

/// Turns the chunks in a stopped server's event store back into one sled entry per event: what a
/// store wrote before it kept its boards' newest events in tails (ADR 0011). For tests of what
/// the server does with events outside chunks.
pub fn events_on_their_own(data_dir: &std::path::Path) {
    use kipina_server::store::record::{self, ParsedKey};
    let events = data_dir.join("events");
    let config = sled::Config::new().path(&events).segment_size(8 * 1024 * 1024);
    let db = kipina_server::store::release::OpenedSled::open(&config, &events).expect("sled opens");
    let chunks: Vec<(sled::IVec, sled::IVec)> = db
        .iter()
        .map(|item| item.expect("sled reads"))
        .filter(|(key, _)| matches!(record::parse_key(key), Ok(ParsedKey::Chunk { .. })))
        .collect();
    for (key, value) in chunks {
        let chunk = record::decode_chunk(&key, &value).expect("a sound chunk");
        for (_, event_key, bytes) in chunk.records() {
            db.insert(event_key, bytes).expect("writes");
        }
        db.remove(&key).expect("removes");
    }
    db.flush().expect("flushes");
}

/// Folds one message into `mirror`: a snapshot replaces it, a `changed` must start right after
/// what it holds (a gap or a repeat fails the test) and puts its views in place. Other messages
/// change nothing.
pub fn follow(mirror: &mut Option<BoardMirror>, message: &ServerMessage) {
    match message {
        ServerMessage::Snapshot { board } => *mirror = Some(BoardMirror::of(board)),
        ServerMessage::Changed { first_seq, last_seq, changes } => {
            let Some(mirror) = mirror else { panic!("changed {first_seq}..={last_seq} before any snapshot") };
            assert_eq!(
                *first_seq,
                mirror.seq + 1,
                "changed {first_seq}..={last_seq} does not follow seq {} (a gap or a repeat)",
                mirror.seq
            );
            let applied = mirror.apply_changed(*first_seq, *last_seq, changes.iter().cloned());
            assert_eq!(applied, kipina_proto::mirror::Applied::Applied);
        }
        _ => {}
    }
}

/// The lines in which two values' pretty debug forms differ, for a failing comparison of boards.
pub fn difference(left: &impl std::fmt::Debug, right: &impl std::fmt::Debug) -> String {
    let (left, right) = (format!("{left:#?}"), format!("{right:#?}"));
    let (left, right): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    let mut out = String::new();
    for (number, pair) in left.iter().zip(right.iter()).enumerate() {
        if pair.0 != pair.1 {
            let from = number.saturating_sub(12);
            out.push_str(&format!(
                "at line {number}, context:\n{}\n- {}\n+ {}\n",
                left[from..number].join("\n"),
                pair.0,
                pair.1
            ));
            break;
        }
    }
    if left.len() != right.len() {
        out.push_str(&format!("({} lines against {})\n", left.len(), right.len()));
    }
    out
}
