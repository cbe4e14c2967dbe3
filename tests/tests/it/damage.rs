//! Damage on disk, found at start-up: the real `kipina` program as a child process writes two
//! boards, stops, has bytes of its data file flipped or cut off, and starts again.
//!
//! Damage that can be pinned on one board puts that board in quarantine: the server starts,
//! serves the other boards, says in its log which board is damaged and how, and answers every
//! request about the damaged board with `board_damaged`; `GET /health` and `/metrics` count it,
//! and `kipina verify` names it. Damage sled cannot recover from refuses the start with a clear
//! message and a non-zero exit. Damage that names no board and that only the check running in
//! the background after the start can find stops every change, and `/health` says so.

use futures_util::{SinkExt, StreamExt};
use kipina_proto::api::{CommandRequest, CommandResponse, CreateBoardRequest, CreateBoardResponse, ErrorBody};
use kipina_proto::view::BoardView;
use kipina_proto::{AckOutcome, BoardId, CardId, ClientMessage, ColumnId, Command, CommandId, ServerMessage};
use kipina_tests::{ChildServer, WAIT, link_part};
use std::path::Path;
use std::process::{Command as Process, Output, Stdio};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

const PROGRAM: &str = env!("CARGO_BIN_EXE_kipina-under-test");
/// Enough cards that a board's events fill one chunk (64 events, ADR 0011) and start a second:
/// the board's three first events (created, facilitator, column) and 61 cards go into the first
/// chunk as soon as it is full, the other nine cards into the second at the clean stop. sled
/// keeps a chunk as one message, so damage to one card's record loses its whole chunk.
const CARDS: usize = 70;
/// The cards in a board's first chunk.
const CARDS_IN_FIRST_CHUNK: usize = 64 - 3;

/// Starts the program on `data`, its log (at `info`) going to `log`.
fn start(data: &Path, log: &Path) -> ChildServer {
    let file = std::fs::File::create(log).expect("a log file");
    ChildServer::start(PROGRAM, data, "info", Stdio::from(file))
}

fn verify(data: &Path) -> Output {
    Process::new(PROGRAM).args(["verify", "--data"]).arg(data).output().expect("verify runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A board written over HTTP: its facilitator's token, its links and its cards in order.
#[derive(Debug, Clone)]
struct Written {
    board: BoardId,
    token: String,
    participant_link: String,
    observer_link: String,
    cards: Vec<CardId>,
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(server: &ChildServer) -> Self {
        let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
        Self { base: server.base.clone(), http }
    }

    /// A request's status and body.
    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, String) {
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    async fn command(&self, board: BoardId, token: &str, command: Command) -> (u16, String) {
        let request = CommandRequest { command_id: CommandId(Uuid::now_v7()), command };
        let url = format!("{}/api/boards/{board}/commands", self.base);
        self.send(self.http.post(url).bearer_auth(token).json(&request)).await
    }

    /// Creates a board with a column and `CARDS` cards.
    async fn write_board(&self, title: &str) -> Written {
        let request = CreateBoardRequest {
            title: title.into(),
            description: String::new(),
            language: Default::default(),
            facilitator_name: "Fanni".into(),
            template: Default::default(),
        };
        let (status, body) = self.send(self.http.post(format!("{}/api/boards", self.base)).json(&request)).await;
        assert_eq!(status, 201, "{body}");
        let created: CreateBoardResponse = serde_json::from_str(&body).expect("a CreateBoardResponse");
        let (board, token) = (created.session.board, created.session.token);
        let column = ColumnId(Uuid::now_v7());
        let (status, body) = self.command(board, &token, Command::AddColumn { column, title: "Ideat".into() }).await;
        assert_eq!(status, 200, "{body}");
        let mut cards = Vec::new();
        for number in 0..CARDS {
            let card = CardId(Uuid::now_v7());
            let command = Command::AddCard { card, column, title: format!("{title} {number}"), body: String::new() };
            let (status, body) = self.command(board, &token, command).await;
            let answer: CommandResponse = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"));
            assert!(matches!(answer.outcome, AckOutcome::Applied { .. }), "{body}");
            cards.push(card);
        }
        Written {
            board,
            token,
            participant_link: created.links.participant,
            observer_link: created.links.observer,
            cards,
        }
    }

    async fn board(&self, written: &Written) -> (u16, String) {
        self.send(self.http.get(format!("{}/api/boards/{}", self.base, written.board)).bearer_auth(&written.token))
            .await
    }

    async fn get(&self, path: &str) -> String {
        let (status, body) = self.send(self.http.get(format!("{}{path}", self.base))).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

/// The card ids of a board as served.
fn cards_of(body: &str) -> Vec<CardId> {
    let view: BoardView = serde_json::from_str(body).unwrap_or_else(|error| panic!("a BoardView ({error}): {body}"));
    view.columns.iter().flat_map(|column| column.cards.iter().copied()).collect()
}

/// Asserts an answer is `503 board_damaged` with words for a person.
fn assert_board_damaged(what: &str, (status, body): (u16, String)) {
    let error: ErrorBody = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {status} {body}"));
    assert_eq!((status, error.code.as_str()), (503, "board_damaged"), "{what}: {body}");
    assert!(error.message.contains("damaged"), "{what}: {body}");
}

/// The WebSocket handshake for a board: `Ok` with the first message after subscribing, or the
/// refused upgrade's status and body.
async fn websocket(base: &str, board: BoardId, token: &str) -> Result<ServerMessage, (u16, String)> {
    let url = format!("{}/api/boards/{board}/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("a request");
    request.headers_mut().insert("Origin", base.parse().expect("an origin"));
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await.expect("answered in time") {
        Ok((mut socket, _)) => {
            let subscribe = ClientMessage::Subscribe { token: token.into(), last_seq: None };
            socket.send(Message::text(serde_json::to_string(&subscribe).expect("json"))).await.expect("sent");
            loop {
                match tokio::time::timeout(WAIT, socket.next()).await.expect("a message in time") {
                    Some(Ok(Message::Text(text))) => {
                        return Ok(serde_json::from_str(text.as_str()).expect("a server message"));
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("the socket ended: {other:?}"),
                }
            }
        }
        Err(tungstenite::Error::Http(response)) => Err((
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(other) => panic!("the upgrade failed: {other}"),
    }
}

/// Where `needle` occurs in `haystack`.
fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack.windows(needle.len()).enumerate().filter(|(_, window)| *window == needle).map(|(at, _)| at).collect()
}

/// Writes a sound board and then one to be damaged, and stops the server.
async fn two_boards(data: &Path, log: &Path) -> (Written, Written) {
    let server = start(data, log);
    let client = Client::new(&server);
    let sound = client.write_board("Ehjä").await;
    let damaged = client.write_board("Vaurioitunut").await;
    server.stop();
    (sound, damaged)
}

/// Everything about the damaged board answers `board_damaged`; the sound board is served whole.
async fn check_quarantine(data: &Path, log: &Path, sound: &Written, damaged: &Written, cards_left: usize) {
    let server = start(data, log);
    let client = Client::new(&server);

    let (status, body) = client.board(sound).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cards_of(&body), sound.cards, "the sound board is served with every card");
    let (status, body) = client
        .command(
            sound.board,
            &sound.token,
            Command::AddColumn { column: ColumnId(Uuid::now_v7()), title: "Uusi".into() },
        )
        .await;
    assert_eq!(status, 200, "the sound board takes commands: {body}");
    match websocket(&server.base, sound.board, &sound.token).await {
        Ok(ServerMessage::Welcome { .. }) => {}
        other => panic!("the sound board's WebSocket: {other:?}"),
    }

    assert_board_damaged("the board view", client.board(damaged).await);
    let command = Command::AddColumn { column: ColumnId(Uuid::now_v7()), title: "Ei".into() };
    assert_board_damaged("a command", client.command(damaged.board, &damaged.token, command).await);
    let export = format!("{}/api/boards/{}/export?format=json", client.base, damaged.board);
    assert_board_damaged("the export", client.send(client.http.get(export).bearer_auth(&damaged.token)).await);
    let invitation = format!("{}/api/invitations/{}", client.base, link_part(&damaged.participant_link));
    assert_board_damaged("the invitation", client.send(client.http.get(invitation)).await);
    let join = kipina_proto::api::JoinRequest {
        invitation: damaged.participant_link.clone(),
        display_name: "Pia".into(),
        known_tokens: vec![],
    };
    assert_board_damaged(
        "joining",
        client.send(client.http.post(format!("{}/api/join", client.base)).json(&join)).await,
    );
    // A browser cannot read a refused upgrade's body, so it asks over HTTP (and gets the code above).
    match websocket(&server.base, damaged.board, &damaged.token).await {
        Err(answer) => assert_board_damaged("the WebSocket upgrade", answer),
        Ok(message) => panic!("the damaged board's WebSocket was opened: {message:?}"),
    }
    match websocket(&server.base, damaged.board, link_part(&damaged.observer_link)).await {
        Err(answer) => assert_board_damaged("the observer's WebSocket upgrade", answer),
        Ok(message) => panic!("the damaged board's WebSocket was opened for an observer: {message:?}"),
    }

    let health = client.get("/health").await;
    assert!(health.starts_with("ok") && health.contains(&damaged.board.to_string()), "{health}");
    let metrics = client.get("/metrics").await;
    assert!(metrics.lines().any(|line| line == "kipina_boards_damaged 1"), "{metrics}");
    server.stop();

    let logged = std::fs::read_to_string(log).expect("the log");
    let report = logged
        .lines()
        .find(|line| line.contains(&format!("board {} (\"Vaurioitunut\") is damaged", damaged.board)))
        .unwrap_or_else(|| panic!("no report naming the damaged board in the log:\n{logged}"));
    assert!(report.contains("quarantined") && report.contains("not served"), "{report}");
    assert!(report.contains(&format!("..={}", 2 + CARDS + 1)), "the report says which events are missing: {report}");
    assert!(!logged.contains(&format!("board {} (\"Ehjä\") is damaged", sound.board)), "{logged}");

    let verified = verify(data);
    let report = text(&verified);
    assert_eq!(verified.status.code(), Some(1), "{report}");
    assert!(
        report.lines().any(|line| line.starts_with("DAMAGED") && line.contains(&damaged.board.to_string())),
        "{report}"
    );
    assert!(report.lines().any(|line| line.starts_with("ok") && line.contains(&sound.board.to_string())), "{report}");
    // What can still be read of it: the board, its facilitator, the column and the cards before the damage.
    assert!(report.contains(&format!("\"Vaurioitunut\": {} events", 3 + cards_left)), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_bytes_in_one_boards_records_quarantine_that_board_and_the_others_are_served() {
    let dir = tempfile::tempdir().expect("a data directory");
    let (data, log) = (dir.path().join("data"), dir.path().join("kipina.log"));
    let (sound, damaged) = two_boards(&data, &log).await;

    // The last card of the damaged board: its id is in its event's JSON (titles are sealed).
    // Every copy sled keeps gets a flipped byte; recovery stops at the first one.
    let db = data.join("events").join("db");
    let mut bytes = std::fs::read(&db).expect("the data file");
    let last = damaged.cards.last().expect("cards").to_string();
    let found = positions(&bytes, last.as_bytes());
    assert!(!found.is_empty(), "the card's record is in the data file");
    for at in found {
        bytes[at + 2] ^= 0x01;
    }
    std::fs::write(&db, &bytes).expect("the damaged data file");

    check_quarantine(&data, &log, &sound, &damaged, CARDS_IN_FIRST_CHUNK).await;
    // And at the next start it is still in quarantine: the evidence does not vanish.
    let server = start(&data, &log);
    let client = Client::new(&server);
    assert_board_damaged("the board view after another restart", client.board(&damaged).await);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_file_cut_short_quarantines_the_board_whose_events_it_cut_off() {
    let dir = tempfile::tempdir().expect("a data directory");
    let (data, log) = (dir.path().join("data"), dir.path().join("kipina.log"));
    let (sound, damaged) = two_boards(&data, &log).await;

    // Cut the file in the middle of the first record of a card in the damaged board's second
    // chunk, the last thing the clean stop wrote.
    let db = data.join("events").join("db");
    let bytes = std::fs::read(&db).expect("the data file");
    let at = positions(&bytes, damaged.cards[CARDS_IN_FIRST_CHUNK + 2].to_string().as_bytes())[0];
    std::fs::File::options()
        .write(true)
        .open(&db)
        .and_then(|file| file.set_len(at as u64))
        .expect("the data file is cut");

    check_quarantine(&data, &log, &sound, &damaged, CARDS_IN_FIRST_CHUNK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_sled_cannot_recover_from_refuses_to_start_with_a_clear_message() {
    for damage in ["flip", "cut"] {
        let dir = tempfile::tempdir().expect("a data directory");
        let (data, log) = (dir.path().join("data"), dir.path().join("kipina.log"));
        let (_sound, damaged) = two_boards(&data, &log).await;
        // A second start makes sled record how far its log was read (a snapshot of its page
        // table); damage before that point is no torn tail, and sled refuses its files.
        start(&data, &log).stop();
        let db = data.join("events").join("db");
        let mut bytes = std::fs::read(&db).expect("the data file");
        let at = positions(&bytes, damaged.cards[0].to_string().as_bytes())[0];
        if damage == "flip" {
            bytes[at + 2] ^= 0x01;
            std::fs::write(&db, &bytes).expect("the damaged data file");
        } else {
            std::fs::File::options()
                .write(true)
                .open(&db)
                .and_then(|file| file.set_len(at as u64))
                .expect("the data file is cut");
        }

        let refused = Process::new(PROGRAM)
            .args(["serve", "--bind", "127.0.0.1:0", "--no-demo", "--data"])
            .arg(&data)
            .env("KIPINA_LOG", "error")
            .stdin(Stdio::null())
            .output()
            .expect("kipina runs");
        let said = text(&refused);
        assert!(!refused.status.success(), "{damage}: the server started on damaged data: {said}");
        assert!(!said.contains("serves on"), "{damage}: {said}");
        assert!(said.contains("is damaged") && said.contains("does not start on it"), "{damage}: {said}");
        assert!(said.contains(&data.join("events").join("db").display().to_string()), "{damage}: {said}");
        assert!(said.contains("kipina verify"), "{damage}: the message says what to do: {said}");

        let verified = verify(&data);
        assert_eq!(verified.status.code(), Some(1), "{damage}: {}", text(&verified));
        assert!(text(&verified).contains("DAMAGED"), "{damage}: {}", text(&verified));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_naming_no_board_found_after_the_start_stops_changes_and_health_says_what_to_do() {
    let dir = tempfile::tempdir().expect("a data directory");
    let (data, log) = (dir.path().join("data"), dir.path().join("kipina.log"));
    let (sound, _other) = two_boards(&data, &log).await;
    {
        // A key among the command records too short to name a board, written through sled so
        // that sled's own checks pass: opening reads no command record, the background check does.
        let events = data.join("events");
        let config = sled::Config::new().path(&events).segment_size(8 * 1024 * 1024);
        let db = kipina_server::store::release::OpenedSled::open(&config, &events).expect("sled opens");
        db.insert(b"c\x01\x02", b"?".to_vec()).expect("writes");
        db.flush().expect("flushes");
    }

    let server = start(&data, &log);
    let client = Client::new(&server);
    let deadline = tokio::time::Instant::now() + WAIT;
    let (status, health) = loop {
        let (status, body) = client.send(client.http.get(format!("{}/health", client.base))).await;
        if status != 200 {
            break (status, body);
        }
        assert!(tokio::time::Instant::now() < deadline, "the background check never reported: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(status, 503, "{health}");
    assert!(health.starts_with("failing") && health.contains("malformed key"), "{health}");
    assert!(health.contains("kipina verify") && health.contains("backup"), "the answer says what to do: {health}");

    // Reads go on; changes are refused with words for a person.
    let (status, body) = client.board(&sound).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cards_of(&body), sound.cards);
    let command = Command::AddColumn { column: ColumnId(Uuid::now_v7()), title: "Ei".into() };
    let (status, body) = client.command(sound.board, &sound.token, command).await;
    let error: ErrorBody = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"));
    assert_eq!((status, error.code.as_str()), (503, "unavailable"), "{body}");
    assert!(error.message.contains("damaged") && error.message.contains("/health"), "{body}");
    // `stop` waits for a healthy answer before it signals; this server will not give one again.
    server.kill();

    let verified = verify(&data);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    assert!(text(&verified).contains("malformed key"), "{}", text(&verified));
}
