//! Power-cut trials: what `kill -9` cannot show. The real `kipina` program runs with its data
//! directory on the power-cut file system (`kipina-powercut`, a FUSE mount that knows what has
//! been made durable); writers add cards, comment and vote over WebSocket and HTTP while new
//! participants keep joining (each join writes a key file); at a random moment the power goes:
//! the file system stops, the program is killed, and only what was durable is written into a
//! fresh directory. Then `kipina verify` and `kipina serve` run on what survived:
//!
//! - every acknowledged command is there exactly once, its text readable (not "erased"), every
//!   acknowledged participant's token works and their name reads;
//! - every command on its way is retried by its sender with its id: it answers `duplicate` or
//!   applies now, and either way is there once;
//! - `kipina verify` finds the data intact (damage it names is a failure too: the trials look
//!   for acknowledged data that is lost, and a correct store loses none).
//!
//! The trials take three sets of rules in turn: the strict mode (a directory's entries are
//! durable only after an fsync of the directory, and a cut loses every change since), the same
//! with cuts that keep some of the unsynced directory changes ("partial": a random prefix of
//! them in the order made, across the file system in half of those trials and per directory in
//! the other half; see `kipina_powercut::Entries`), and the lenient mode (directory changes
//! durable at once, only file data needs a sync). They start in turn with no data directory (the program creates it on the mount, with
//! its keys, access records and snapshots), an empty one, the board an earlier run left, and a
//! new board in an earlier run's directory. Each cut keeps none, a random prefix (sometimes with
//! a write torn between sectors) or a random subset of each file's unsynced writes.
//!
//! `cargo test -p kipina-tests --test it powercut::` runs 100 trials (about a minute on a loaded
//! 2-core machine); `KIPINA_POWERCUT_TRIALS=N` runs more or fewer,
//! `KIPINA_POWERCUT_MODE=strict|partial|lenient` and `KIPINA_POWERCUT_START=fresh|empty-dir|existing|new-board`
//! only one kind. The first failed trials are described (what was lost at the cut), and the
//! totals are printed at the end (`-- --nocapture`).
//!
//! Fault tests beside them: an `fdatasync` that fails is not acknowledged; a full disk refuses
//! changes and takes them again once space is freed, without a restart (and a disk that fills up
//! inside a write stops the store until a restart); reads that come back damaged never serve a
//! changed board.

use futures_util::{SinkExt, StreamExt};
use kipina_powercut::{Cut, CutReport, Entries, FlipReads, Mode, PowerCut};
use kipina_proto::api::{CommandRequest, CommandResponse, CreateBoardResponse, JoinRequest, Session};
use kipina_proto::view::BoardView;
use kipina_proto::{
    AckOutcome, BoardId, BoardSettings, CardId, ClientMessage, ColumnId, Command, CommandId, CommentId, ParticipantId,
    ServerMessage,
};
use kipina_tests::WAIT;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_kipina-under-test");

/// Writers over WebSocket; one more writes over HTTP, and one keeps joining new participants.
const WS_WRITERS: usize = 3;

const DEFAULT_TRIALS: usize = 100;

fn random(below: u64) -> u64 {
    (Uuid::new_v4().as_u128() % u128::from(below)) as u64
}

/// The program under test as a child process; killed when dropped.
struct Program {
    child: Option<Child>,
    base: String,
}

impl Program {
    /// `kipina serve` on `data`: running, or what it said when it would not start.
    fn start(data: &Path, log: &Path) -> Result<Program, String> {
        let stderr = std::fs::File::create(log).expect("a log file");
        let mut child = Process::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--no-demo", "--max-commands-per-second", "100000", "--data"])
            .arg(data)
            .env("KIPINA_LOG", "warn")
            // The compaction (ADR 0008) runs under the trials' steady writes, not only in pauses.
            .env("KIPINA_COMPACT_WHEN_QUIET_MS", "0")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("kipina starts");
        let stdout = child.stdout.take().expect("its output");
        let mut first = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        match first.trim().rsplit(' ').next().filter(|base| base.starts_with("http://")) {
            Some(base) => Ok(Program { base: base.to_owned(), child: Some(child) }),
            None => {
                let status = child.wait().expect("its status");
                let said = without_colours(&std::fs::read_to_string(log).unwrap_or_default());
                let last: Vec<&str> = said.lines().rev().take(3).collect();
                Err(format!("{status}: {}", last.into_iter().rev().collect::<Vec<_>>().join(" | ")))
            }
        }
    }

    /// SIGKILL.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and waits until it has shut down (it has answered, so it handles signals).
    fn stop(mut self) {
        let mut child = self.child.take().expect("running");
        let sent = Process::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM was delivered");
        let status = child.wait().expect("its status");
        assert!(status.success(), "the earlier run stopped with {status}");
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A log line without its terminal colours.
fn without_colours(text: &str) -> String {
    regex_lite::Regex::new("\x1b\\[[0-9;]*m").expect("a pattern").replace_all(text, "").into_owned()
}

/// How many personal fields `kipina verify` found erased (their keys gone), over all boards.
fn erased_fields(said: &str) -> u64 {
    let count = regex_lite::Regex::new(r"(\d+) personal fields erased").expect("a pattern");
    count.captures_iter(said).filter_map(|found| found[1].parse::<u64>().ok()).sum()
}

/// `kipina verify` on `data`: its exit code and what it printed.
fn verify(data: &Path) -> (Option<i32>, String) {
    let output = Process::new(BINARY).args(["verify", "--data"]).arg(data).output().expect("verify runs");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), said)
}

/// A command as its sender sent it.
#[derive(Clone, Debug)]
struct Sent {
    token: String,
    command_id: CommandId,
    command: Command,
}

/// What one writer (or the joiner) saw before the power went.
#[derive(Debug, Default)]
struct Record {
    acknowledged: Vec<Sent>,
    /// Sent, with no answer (or an answer that was not an acknowledgement).
    in_flight: Option<Sent>,
    /// Participants who joined and were told so.
    joined: Vec<(String, Session)>,
    /// A join sent with no answer.
    joining: Option<String>,
}

/// The board the writers work on, as its setup was acknowledged.
#[derive(Clone, Debug)]
struct Workshop {
    board: BoardId,
    facilitator: Session,
    participant_link: String,
    column: ColumnId,
    /// The writers' sessions: `WS_WRITERS` over WebSocket, then the one over HTTP.
    writers: Vec<(String, Session)>,
}

/// Answers over HTTP: the status and body, or why there was none.
async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: &impl serde::Serialize,
) -> Result<(u16, String), String> {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|error| error.to_string())?;
    Ok((status, text))
}

async fn get(http: &reqwest::Client, url: String, token: &str) -> Result<(u16, String), String> {
    let response = http.get(url).bearer_auth(token).send().await.map_err(|error| error.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|error| error.to_string())?;
    Ok((status, text))
}

/// A command that must be applied (during a setup, before any cut).
async fn applied(http: &reqwest::Client, base: &str, board: BoardId, token: &str, command: Command) {
    let request = CommandRequest { command_id: CommandId(Uuid::now_v7()), command };
    let (status, text) =
        post(http, format!("{base}/api/boards/{board}/commands"), Some(token), &request).await.expect("answered");
    assert!(status == 200 || status == 201, "{status}: {text}");
}

async fn join(http: &reqwest::Client, base: &str, link: &str, name: &str) -> Result<Session, String> {
    let request = JoinRequest { invitation: link.into(), display_name: name.into(), known_tokens: vec![] };
    let (status, text) = post(http, format!("{base}/api/join"), None, &request).await?;
    if status == 201 {
        serde_json::from_str(&text).map_err(|error| format!("{error}: {text}"))
    } else {
        Err(format!("{status}: {text}"))
    }
}

/// A board with a column, an open vote round and the writers joined.
async fn set_up(http: &reqwest::Client, base: &str) -> Workshop {
    let request = serde_json::json!({
        "title": "Sähkökatkos",
        "description": "Virta katkeaa",
        "facilitator_name": "Fanni",
    });
    let (status, text) = post(http, format!("{base}/api/boards"), None, &request).await.expect("answered");
    assert_eq!(status, 201, "{text}");
    let created: CreateBoardResponse = serde_json::from_str(&text).expect("a created board");
    let board = created.session.board;
    let token = created.session.token.clone();
    let column = ColumnId(Uuid::now_v7());
    applied(http, base, board, &token, Command::AddColumn { column, title: "Ideat".into() }).await;
    let settings = BoardSettings { vote_budget: 100, votes_per_card: 100 };
    applied(http, base, board, &token, Command::StartVoteRound { settings, hidden: false }).await;
    let mut writers = Vec::new();
    for index in 0..=WS_WRITERS {
        let name = format!("Kirjoittaja {index}");
        let session = join(http, base, &created.links.participant, &name).await.expect("a writer joins");
        writers.push((name, session));
    }
    Workshop { board, facilitator: created.session, participant_link: created.links.participant, column, writers }
}

/// What a writer does next: mostly adds a card, sometimes comments on or votes for one of its
/// acknowledged cards.
fn next_command(column: ColumnId, cards: &[CardId], votes: usize, writer: &str) -> Command {
    let card = || cards[random(cards.len() as u64) as usize];
    match random(10) {
        0..=1 if !cards.is_empty() => Command::AddComment {
            comment: CommentId(Uuid::now_v7()),
            card: card(),
            reply_to: None,
            body: format!("Kommentti {} ({writer})", Uuid::new_v4()),
        },
        2..=3 if !cards.is_empty() && votes < 90 => Command::CastVote { card: card() },
        _ => {
            let card = CardId(Uuid::now_v7());
            Command::AddCard {
                card,
                column,
                title: format!("Kortti {card} ({writer})"),
                body: format!("Perustelu {}", Uuid::new_v4()),
            }
        }
    }
}

fn note_acknowledged(record: &mut Record, cards: &mut Vec<CardId>, votes: &mut usize) {
    if let Some(sent) = record.in_flight.take() {
        match &sent.command {
            Command::AddCard { card, .. } => cards.push(*card),
            Command::CastVote { .. } => *votes += 1,
            _ => {}
        }
        record.acknowledged.push(sent);
    }
}

/// Writes over WebSocket until the connection breaks or a command is not acknowledged.
async fn ws_writer(base: String, workshop: Workshop, index: usize) -> Record {
    let (name, session) = workshop.writers[index].clone();
    let mut record = Record::default();
    let url = format!("{}/api/boards/{}/ws", base.replace("http://", "ws://"), workshop.board);
    let mut request = url.into_client_request().expect("a request");
    request.headers_mut().insert("Origin", base.parse().expect("an origin"));
    let Ok((socket, _)) = tokio_tungstenite::connect_async(request).await else { return record };
    let (mut sink, mut stream) = socket.split();
    let subscribe = ClientMessage::Subscribe { token: session.token.clone(), last_seq: None };
    if sink.send(Message::text(serde_json::to_string(&subscribe).expect("json"))).await.is_err() {
        return record;
    }
    let (mut cards, mut votes) = (Vec::new(), 0);
    loop {
        let command = next_command(workshop.column, &cards, votes, &name);
        let command_id = CommandId(Uuid::now_v7());
        record.in_flight = Some(Sent { token: session.token.clone(), command_id, command: command.clone() });
        let message = ClientMessage::Command { command_id, command };
        if sink.send(Message::text(serde_json::to_string(&message).expect("json"))).await.is_err() {
            return record;
        }
        loop {
            let text = match stream.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                _ => return record,
            };
            match serde_json::from_str::<ServerMessage>(text.as_str()) {
                Ok(ServerMessage::Ack { command_id: acked, outcome: AckOutcome::Applied { .. } })
                    if acked == command_id =>
                {
                    note_acknowledged(&mut record, &mut cards, &mut votes);
                    break;
                }
                // Anything else about this command (an error once the power is off): not
                // acknowledged, so it stays on its way, and this writer stops.
                Ok(ServerMessage::Ack { command_id: answered, .. })
                | Ok(ServerMessage::Error { command_id: Some(answered), .. })
                    if answered == command_id =>
                {
                    return record;
                }
                Ok(ServerMessage::Error { .. }) => return record,
                _ => {}
            }
        }
    }
}

/// Writes over HTTP until a command is not acknowledged.
async fn http_writer(http: reqwest::Client, base: String, workshop: Workshop) -> Record {
    let (name, session) = workshop.writers[WS_WRITERS].clone();
    let mut record = Record::default();
    let (mut cards, mut votes) = (Vec::new(), 0);
    loop {
        let command = next_command(workshop.column, &cards, votes, &name);
        let command_id = CommandId(Uuid::now_v7());
        record.in_flight = Some(Sent { token: session.token.clone(), command_id, command: command.clone() });
        let request = CommandRequest { command_id, command };
        let url = format!("{base}/api/boards/{}/commands", workshop.board);
        match post(&http, url, Some(&session.token), &request).await {
            Ok((200 | 201, text)) => match serde_json::from_str::<CommandResponse>(&text) {
                Ok(CommandResponse { outcome: AckOutcome::Applied { .. }, .. }) => {
                    note_acknowledged(&mut record, &mut cards, &mut votes)
                }
                _ => return record,
            },
            _ => return record,
        }
    }
}

/// Joins new participants, each adding a card over HTTP, until something is not acknowledged.
async fn joiner(http: reqwest::Client, base: String, workshop: Workshop) -> Record {
    let mut record = Record::default();
    for index in 0.. {
        let name = format!("Tulija {index}");
        record.joining = Some(name.clone());
        let Ok(session) = join(&http, &base, &workshop.participant_link, &name).await else { return record };
        record.joining = None;
        record.joined.push((name.clone(), session.clone()));
        let card = CardId(Uuid::now_v7());
        let command = Command::AddCard {
            card,
            column: workshop.column,
            title: format!("Kortti {card} ({name})"),
            body: format!("Tulijan perustelu {}", Uuid::new_v4()),
        };
        let command_id = CommandId(Uuid::now_v7());
        record.in_flight = Some(Sent { token: session.token.clone(), command_id, command: command.clone() });
        let url = format!("{base}/api/boards/{}/commands", workshop.board);
        match post(&http, url, Some(&session.token), &CommandRequest { command_id, command }).await {
            Ok((200 | 201, text))
                if matches!(
                    serde_json::from_str::<CommandResponse>(&text),
                    Ok(CommandResponse { outcome: AckOutcome::Applied { .. }, .. })
                ) =>
            {
                record.acknowledged.extend(record.in_flight.take());
            }
            _ => return record,
        }
    }
    record
}

/// One broken promise, by kind (the key the totals count) and what exactly.
#[derive(Debug)]
struct Failure {
    kind: &'static str,
    detail: String,
}

fn failure(kind: &'static str, detail: impl Into<String>) -> Failure {
    Failure { kind, detail: detail.into() }
}

/// Totals over trials.
#[derive(Debug, Default)]
struct Totals {
    acknowledged: usize,
    joins: usize,
    stored_in_flight: usize,
    lost_in_flight: usize,
    failed_trials: Vec<String>,
    /// Trials run, by rules and start.
    runs: BTreeMap<(Rules, Start), usize>,
    /// Failure kind → trials, by rules and start.
    failures: BTreeMap<&'static str, BTreeMap<(Rules, Start), usize>>,
    /// In the trials that keep directory changes in part: the changes no sync of their
    /// directory covered at the cut, and how many of them the cut kept.
    entry_changes: usize,
    entry_changes_kept: usize,
    /// In failed trials: the top-most path lost at the cut → trials.
    lost: BTreeMap<String, usize>,
    /// In all trials: files written but never synced while mounted → trials.
    never_synced: BTreeMap<String, usize>,
    /// In all trials: top-most path lost at the cut → trials.
    lost_anywhere: BTreeMap<String, usize>,
}

/// A path with every id replaced by `<id>` (so that trials add up).
fn general(path: &Path) -> String {
    path.iter()
        .map(|part| {
            let part = part.to_string_lossy();
            let stem = part.split('.').next().unwrap_or_default();
            if Uuid::parse_str(stem).is_ok() { part.replacen(stem, "<id>", 1) } else { part.into_owned() }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The paths lost at the cut whose directory was not lost too.
fn top_most_lost(report: &CutReport) -> BTreeSet<String> {
    let lost: BTreeSet<&Path> = report.lost.iter().map(PathBuf::as_path).collect();
    lost.iter()
        .filter(|path| path.parent().is_none_or(|parent| !lost.contains(parent)))
        .map(|path| general(path))
        .collect()
}

/// Everything the writers were told or may have done, then checked against the survivor.
async fn check(
    http: &reqwest::Client,
    base: &str,
    workshop: &Workshop,
    records: &[Record],
    totals: &mut Totals,
) -> Vec<Failure> {
    let board = workshop.board;
    let view_url = format!("{base}/api/boards/{board}");
    let mut failures = Vec::new();
    match get(http, view_url.clone(), &workshop.facilitator.token).await {
        Ok((200, _)) => {}
        Ok((status, text)) => {
            failures
                .push(failure("the acknowledged board is gone", format!("the facilitator's token: {status} {text}")));
            return failures;
        }
        Err(error) => panic!("the survivor does not answer: {error}"),
    }
    // Every acknowledged participant's token works (their key file and access record survived).
    let joined: Vec<&(String, Session)> =
        workshop.writers.iter().chain(records.iter().flat_map(|record| &record.joined)).collect();
    let mut refused_tokens = BTreeSet::new();
    for (name, session) in &joined {
        match get(http, view_url.clone(), &session.token).await {
            Ok((200, _)) => {}
            other => {
                refused_tokens.insert(session.token.clone());
                failures.push(failure("an acknowledged participant's token is refused", format!("{name}: {other:?}")));
            }
        }
    }
    // Every command on its way again, by its sender.
    let mut present: Vec<&Sent> = records.iter().flat_map(|record| &record.acknowledged).collect();
    for sent in records.iter().filter_map(|record| record.in_flight.as_ref()) {
        if refused_tokens.contains(&sent.token) {
            continue;
        }
        let request = CommandRequest { command_id: sent.command_id, command: sent.command.clone() };
        let answer = post(http, format!("{base}/api/boards/{board}/commands"), Some(&sent.token), &request).await;
        let outcome = match &answer {
            Ok((200 | 201, text)) => serde_json::from_str::<CommandResponse>(text).ok().map(|answer| answer.outcome),
            _ => None,
        };
        match outcome {
            Some(AckOutcome::Duplicate { .. }) => totals.stored_in_flight += 1,
            Some(AckOutcome::Applied { .. }) => totals.lost_in_flight += 1,
            _ => {
                failures.push(failure("a retry of a command on its way is refused", format!("{answer:?}")));
                continue;
            }
        }
        present.push(sent);
    }
    let view: BoardView = match get(http, view_url, &workshop.facilitator.token).await {
        Ok((200, text)) => serde_json::from_str(&text).expect("a board view"),
        other => panic!("the board answered a moment ago: {other:?}"),
    };
    let participant_of: BTreeMap<&str, ParticipantId> =
        joined.iter().map(|(_, session)| (session.token.as_str(), session.participant)).collect();

    // Participants: each acknowledged one listed once, with a readable name.
    for (name, session) in &joined {
        let listed: Vec<_> = view.participants.iter().filter(|found| found.id == session.participant).collect();
        match listed.as_slice() {
            [one] if one.display_name.as_deref() == Some(name.as_str()) && !one.erased => {}
            [one] if one.display_name.is_none() || one.erased => {
                failures.push(failure("an acknowledged participant's name reads as erased", name.clone()))
            }
            [] => failures.push(failure("an acknowledged participant is missing", name.clone())),
            other => failures.push(failure("an acknowledged participant is changed", format!("{name}: {other:?}"))),
        }
    }
    for name in records.iter().filter_map(|record| record.joining.as_ref()) {
        let listed = view.participants.iter().filter(|found| found.display_name.as_deref() == Some(name)).count();
        if listed > 1 {
            failures.push(failure("a join on its way is there twice", name.clone()));
        }
    }

    // Cards, comments and votes: acknowledged ones and retried ones, exactly once, text intact.
    let column = view.columns.iter().find(|found| found.id == workshop.column);
    let Some(column) = column else {
        failures.push(failure("the acknowledged column is gone", String::new()));
        return failures;
    };
    let mut expected_cards = BTreeMap::new();
    let mut expected_comments = BTreeMap::new();
    let mut expected_votes: BTreeMap<(CardId, ParticipantId), u32> = BTreeMap::new();
    for sent in &present {
        match &sent.command {
            Command::AddCard { card, title, body, .. } => drop(expected_cards.insert(*card, (title, body))),
            Command::AddComment { comment, card, body, .. } => drop(expected_comments.insert(*comment, (*card, body))),
            Command::CastVote { card } => {
                *expected_votes.entry((*card, participant_of[sent.token.as_str()])).or_default() += 1
            }
            other => panic!("not a writer's command: {other:?}"),
        }
    }
    for (card, (title, body)) in &expected_cards {
        let listed = column.cards.iter().filter(|listed| *listed == card).count();
        if listed != 1 {
            failures.push(failure(
                "an acknowledged or retried card is not listed exactly once",
                format!("{card}: {listed}"),
            ));
        }
        match view.cards.iter().find(|found| found.id == *card) {
            None => failures.push(failure("an acknowledged or retried card is missing", card.to_string())),
            Some(found) if found.title.is_none() || found.body.is_none() => {
                failures.push(failure("an acknowledged card's text reads as erased", card.to_string()))
            }
            Some(found) if found.title.as_ref() != Some(*title) || found.body.as_ref() != Some(*body) => {
                failures.push(failure("an acknowledged card's text is changed", format!("{card}: {:?}", found.title)))
            }
            Some(_) => {}
        }
    }
    if column.cards.len() != expected_cards.len() {
        failures.push(failure(
            "the column does not hold exactly the acknowledged and retried cards",
            format!("{} listed, {} expected", column.cards.len(), expected_cards.len()),
        ));
    }
    for (comment, (card, body)) in &expected_comments {
        match view.comments.iter().find(|found| found.id == *comment) {
            None => failures.push(failure("an acknowledged or retried comment is missing", comment.to_string())),
            Some(found) if found.body.is_none() => {
                failures.push(failure("an acknowledged comment's text reads as erased", comment.to_string()))
            }
            Some(found) if found.card != *card || found.body.as_ref() != Some(*body) => {
                failures.push(failure("an acknowledged comment is changed", comment.to_string()))
            }
            Some(_) => {}
        }
    }
    if view.comments.len() != expected_comments.len() {
        failures.push(failure(
            "the board does not hold exactly the acknowledged and retried comments",
            format!("{} on the board, {} expected", view.comments.len(), expected_comments.len()),
        ));
    }
    let mut votes = BTreeMap::new();
    for card in &view.cards {
        for vote in &card.votes {
            votes.insert((card.id, vote.participant), vote.dots);
        }
    }
    if votes != expected_votes {
        let (found, expected): (u32, u32) = (votes.values().sum(), expected_votes.values().sum());
        failures.push(failure(
            "the votes are not the acknowledged and retried ones",
            format!("{found} dots on the board, {expected} expected"),
        ));
    }
    totals.acknowledged += records.iter().map(|record| record.acknowledged.len()).sum::<usize>();
    totals.joins += records.iter().map(|record| record.joined.len()).sum::<usize>();
    failures
}

/// Copies a directory tree (a data directory an earlier run left).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("made");
    for entry in std::fs::read_dir(from).expect("listed") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Start {
    /// The program creates its data directory on the mount, and the board in it.
    Fresh,
    /// The data directory is there, empty (made by whoever installed the program), and the
    /// program fills it.
    EmptyDir,
    /// The data directory and the board an earlier run left (closed cleanly) are there when the
    /// mount starts.
    Existing,
    /// The data directory an earlier run left is there, and a new board is made in it (its key
    /// directory is new).
    NewBoard,
}

/// The file system's rules for directory changes in a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rules {
    /// Durable only after a sync of the directory; a cut loses every other one.
    Strict,
    /// Durable after a sync of the directory; a cut keeps some of the others, as a prefix in
    /// the order made (in half of the trials across the file system, in the other half per
    /// directory).
    Partial,
    /// Durable at once.
    Lenient,
}

impl Rules {
    fn mode(self) -> Mode {
        match self {
            Rules::Strict | Rules::Partial => Mode::Strict,
            Rules::Lenient => Mode::Lenient,
        }
    }

    /// A random cut under these rules.
    fn cut(self) -> Cut {
        let cut = Cut::random(random(u64::MAX));
        match self {
            Rules::Partial => cut.keeping_entries(if random(2) == 0 { Entries::Prefix } else { Entries::PerDirectory }),
            Rules::Strict | Rules::Lenient => cut,
        }
    }
}

/// What the trials choose from.
#[derive(Debug)]
struct Plan {
    modes: Vec<Rules>,
    starts: Vec<Start>,
}

impl Plan {
    fn from_env() -> Plan {
        let modes = match std::env::var("KIPINA_POWERCUT_MODE").as_deref() {
            Ok("strict") => vec![Rules::Strict],
            Ok("partial") => vec![Rules::Partial],
            Ok("lenient") => vec![Rules::Lenient],
            _ => vec![Rules::Strict, Rules::Partial, Rules::Lenient],
        };
        let starts = match std::env::var("KIPINA_POWERCUT_START").as_deref() {
            Ok("fresh") => vec![Start::Fresh],
            Ok("existing") => vec![Start::Existing],
            Ok("empty-dir") => vec![Start::EmptyDir],
            Ok("new-board") => vec![Start::NewBoard],
            _ => vec![Start::Fresh, Start::EmptyDir, Start::Existing, Start::NewBoard],
        };
        Plan { modes, starts }
    }

    /// Trial `index`'s rules and start: every combination in turn.
    fn trial(&self, index: usize) -> (Rules, Start) {
        (self.modes[index % self.modes.len()], self.starts[(index / self.modes.len()) % self.starts.len()])
    }
}

/// A data directory from an earlier run: the board set up, then a clean stop.
struct Template {
    dir: tempfile::TempDir,
    workshop: Workshop,
}

async fn template(http: &reqwest::Client) -> Template {
    let dir = tempfile::tempdir().expect("a directory");
    let data = dir.path().join("data");
    let program = Program::start(&data, &dir.path().join("log")).expect("the earlier run starts");
    let workshop = set_up(http, &program.base).await;
    program.stop();
    Template { dir, workshop }
}

async fn trial(http: &reqwest::Client, index: usize, plan: &Plan, template: &Template, totals: &mut Totals) {
    let (mode, start) = plan.trial(index);
    *totals.runs.entry((mode, start)).or_default() += 1;
    let cut = mode.cut();
    let backing = tempfile::tempdir().expect("a backing directory");
    let mount = tempfile::tempdir().expect("a mount point");
    let after = tempfile::tempdir().expect("a place for what survives");
    match start {
        Start::Fresh => {}
        Start::EmptyDir => std::fs::create_dir(backing.path().join("data")).expect("an empty data directory"),
        Start::Existing | Start::NewBoard => copy_tree(&template.dir.path().join("data"), &backing.path().join("data")),
    }
    let fs = PowerCut::mount(backing.path(), mount.path(), mode.mode()).expect("the power-cut file system mounts");
    let mut program = Program::start(&mount.path().join("data"), &after.path().join("log-before"))
        .expect("kipina starts on the mount");
    let base = program.base.clone();
    let workshop = match start {
        Start::Fresh | Start::EmptyDir | Start::NewBoard => set_up(http, &base).await,
        Start::Existing => template.workshop.clone(),
    };
    let mut writers = Vec::new();
    for index in 0..WS_WRITERS {
        writers.push(tokio::spawn(ws_writer(base.clone(), workshop.clone(), index)));
    }
    writers.push(tokio::spawn(http_writer(http.clone(), base.clone(), workshop.clone())));
    writers.push(tokio::spawn(joiner(http.clone(), base.clone(), workshop.clone())));
    match mode {
        Rules::Partial => {
            // The power goes right after one of the next few directory changes (the joiner's
            // key files, snapshots), before the change can be synced: the window the partial
            // cuts are about, which a random moment almost never hits. A wait for that
            // condition, looked at every few milliseconds.
            fs.power_off_after_entry_changes(Some(1 + random(12)));
            let armed = Instant::now();
            while fs.powered() && armed.elapsed() < WAIT {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        // Not a wait for a condition: the power is meant to go at a random moment of the writing.
        Rules::Strict | Rules::Lenient => tokio::time::sleep(Duration::from_millis(20 + random(280))).await,
    }
    fs.power_off();
    program.kill();
    let mut records = Vec::new();
    for writer in writers {
        records.push(tokio::time::timeout(WAIT, writer).await.expect("a writer ends").expect("without a panic"));
    }
    let image = after.path().join("disk");
    let report = fs.cut(&image, &cut).expect("the cut");
    if mode == Rules::Partial {
        totals.entry_changes += report.entry_changes;
        totals.entry_changes_kept += report.entry_changes_kept;
    }
    for file in report.unsynced.iter().filter(|file| file.syncs == 0) {
        *totals.never_synced.entry(general(&file.path)).or_default() += 1;
    }
    let lost = top_most_lost(&report);
    for path in &lost {
        *totals.lost_anywhere.entry(path.clone()).or_default() += 1;
    }

    let data = image.join("data");
    let (verified, said) = verify(&data);
    let mut failures = Vec::new();
    if verified != Some(0) {
        failures.push(failure(
            "kipina verify does not find the data intact",
            format!("exit {verified:?}: {}", said.trim()),
        ));
    }
    // Nobody erased anyone: a field that reads as erased lost its key (what the board's view
    // shows too, where a token still works).
    let erased = erased_fields(&said);
    if erased > 0 {
        failures.push(failure(
            "kipina verify reads acknowledged text as erased",
            format!("{erased} personal fields erased, exit {verified:?}"),
        ));
    }
    match Program::start(&data, &after.path().join("log-after")) {
        Ok(mut survivor) => {
            failures.extend(check(http, &survivor.base, &workshop, &records, totals).await);
            survivor.kill();
        }
        Err(said) => failures.push(failure("kipina serve does not start on what survived", said)),
    }
    if failures.is_empty() {
        return;
    }
    let mut kinds: BTreeMap<&'static str, Vec<&Failure>> = BTreeMap::new();
    for found in &failures {
        kinds.entry(found.kind).or_default().push(found);
    }
    let mut line = format!("trial {index} ({mode:?}, {start:?}, {cut:?}):");
    for (kind, found) in &kinds {
        *totals.failures.entry(kind).or_default().entry((mode, start)).or_default() += 1;
        let _ = write!(line, "\n    {kind} ({}×; e.g. {})", found.len(), found[0].detail);
    }
    let _ = write!(line, "\n    lost at the cut: {lost:?}");
    for path in lost {
        *totals.lost.entry(path).or_default() += 1;
    }
    totals.failed_trials.push(line);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_power_cut() {
    let trials: usize =
        std::env::var("KIPINA_POWERCUT_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_TRIALS);
    let plan = Plan::from_env();
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
    let template = template(&http).await;
    let mut totals = Totals::default();
    let started = Instant::now();
    for index in 0..trials {
        trial(&http, index, &plan, &template, &mut totals).await;
    }
    let mut summary = format!(
        "power-cut trials: {trials} cuts ({}) in {:.1} s; {} commands and {} joins acknowledged; of the \
         commands on their way, {} had been stored (duplicates on retry) and {} had not (applied on retry); {} \
         trials failed",
        totals
            .runs
            .iter()
            .map(|((mode, start), count)| format!("{mode:?} {start:?}: {count}"))
            .collect::<Vec<_>>()
            .join(", "),
        started.elapsed().as_secs_f64(),
        totals.acknowledged,
        totals.joins,
        totals.stored_in_flight,
        totals.lost_in_flight,
        totals.failed_trials.len(),
    );
    for (kind, by) in &totals.failures {
        let count: usize = by.values().sum();
        let by: Vec<String> = by.iter().map(|((mode, start), count)| format!("{mode:?} {start:?}: {count}")).collect();
        let _ = write!(summary, "\n  {kind}: {count} trials ({})", by.join(", "));
    }
    if !totals.lost.is_empty() {
        let _ = write!(summary, "\n  lost at the cut in the failed trials (top-most paths): {:?}", totals.lost);
    }
    let _ = write!(summary, "\n  lost at the cut in all trials (top-most paths): {:?}", totals.lost_anywhere);
    let _ = write!(summary, "\n  files written and never synced (all trials): {:?}", totals.never_synced);
    let _ = write!(
        summary,
        "\n  directory changes not covered by a sync of their directory at the cut (partial trials): {}, of \
         which the cuts kept {}",
        totals.entry_changes, totals.entry_changes_kept
    );
    for line in totals.failed_trials.iter().take(5) {
        let _ = write!(summary, "\n  {line}");
    }
    std::io::Write::write_all(&mut std::io::stderr(), format!("{summary}\n").as_bytes()).expect("stderr");
    assert!(totals.acknowledged > 0, "the trials wrote nothing before the cuts");
    assert!(totals.failed_trials.is_empty(), "{summary}");
}

/// What an answer over HTTP was, for the record.
fn answer(result: &Result<(u16, String), String>) -> String {
    match result {
        Ok((status, body)) => format!("{status} {body}"),
        Err(error) => format!("no answer: {error}"),
    }
}

/// One server on the power-cut file system in lenient mode, with a workshop set up: what each
/// fault test starts from.
struct Rig {
    backing: tempfile::TempDir,
    mount: tempfile::TempDir,
    /// Where logs go, and what survives a cut.
    after: tempfile::TempDir,
    fs: PowerCut,
    program: Program,
    http: reqwest::Client,
    workshop: Workshop,
}

impl Rig {
    async fn start() -> Rig {
        let backing = tempfile::tempdir().expect("a backing directory");
        let mount = tempfile::tempdir().expect("a mount point");
        let after = tempfile::tempdir().expect("a place for what survives");
        let fs = PowerCut::mount(backing.path(), mount.path(), Mode::Lenient).expect("mounted");
        let program = Program::start(&mount.path().join("data"), &after.path().join("log-before")).expect("starts");
        let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
        let workshop = set_up(&http, &program.base).await;
        Rig { backing, mount, after, fs, program, http, workshop }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_refuses_a_disk_without_room_for_a_copy_or_a_swap_in_one_step_and_changes_nothing() {
    let Rig { backing: _backing, mount, after: _after, fs, program, http: _http, workshop: _workshop } =
        Rig::start().await;
    program.stop();
    let data = mount.path().join("data");
    let compact = || Process::new(BINARY).args(["compact", "--data"]).arg(&data).output().expect("compact runs");
    // 8 MiB left, which statfs shows: less than a copy of the log and the reserve need.
    fs.faults().limit_space(Some(8 << 20));
    let output = compact();
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("room for a whole copy") && said.contains("nothing was changed"), "{said}");
    assert!(!data.join("events.compacting").exists());
    // With room again (`verify` opens the access records, which needs room too) it verifies.
    fs.faults().limit_space(None);
    let (code, report) = verify(&data);
    assert_eq!(code, Some(0), "{report}");
    // This file system cannot swap two directories in one step (as some FUSE file systems
    // cannot): the rewritten copy is made, then thrown away, and nothing changes.
    let output = compact();
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("RENAME_EXCHANGE") && said.contains("nothing was changed"), "{said}");
    assert!(!data.join("events.compacting").exists());
    let (code, report) = verify(&data);
    assert_eq!(code, Some(0), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fdatasync_is_not_acknowledged() {
    let Rig { backing: _backing, mount: _mount, after, fs, mut program, http, workshop } = Rig::start().await;
    let base = program.base.clone();
    let token = workshop.facilitator.token.clone();
    let commands = format!("{base}/api/boards/{}/commands", workshop.board);
    let add = |title: &str| new_card(&workshop, title);

    // From now on the disk answers every sync with EIO.
    fs.faults().fail_syncs(true);
    let (card, failing) = add("Ei levylle");
    let refused = post(&http, commands.clone(), Some(&token), &failing).await;
    assert!(fs.faults().failed_syncs() > 0, "the server synced (and was told it failed)");
    let (status, _) = refused.as_ref().expect("the server answers");
    assert!(!(200..300).contains(status), "a command whose sync failed is not acknowledged: {}", answer(&refused));

    // What the server does next, recorded: the disk works again.
    fs.faults().fail_syncs(false);
    let (_, later) = add("Levy toimii taas");
    let next = post(&http, commands.clone(), Some(&token), &later).await;
    let health = http.get(format!("{base}/health")).send().await.map_err(|error| error.to_string());
    let health = match health {
        Ok(response) => Ok((response.status().as_u16(), response.text().await.unwrap_or_default())),
        Err(error) => Err(error),
    };
    let view = get(&http, format!("{base}/api/boards/{}", workshop.board), &token).await;
    // No retry-and-hope: after a failed sync the store acknowledges nothing more (the page cache
    // is not trusted), says why on /health, and the board is still read.
    let (next_status, _) = next.as_ref().expect("the server answers");
    assert_eq!(*next_status, 503, "after a failed sync nothing more is acknowledged: {}", answer(&next));
    assert!(answer(&next).contains("its disk failed"), "the refusal says why: {}", answer(&next));
    let (health_status, health_text) = health.as_ref().expect("/health answers");
    assert_eq!(*health_status, 503, "/health says the store failed: {health_text}");
    assert!(health_text.contains("stopped accepting changes") && health_text.contains("restart"), "{health_text}");
    let (view_status, view_text) = view.as_ref().expect("the board is read");
    assert_eq!(*view_status, 200, "reads go on: {view_text}");
    let shown: BoardView = serde_json::from_str(view_text).expect("a board view");
    assert!(shown.cards.iter().all(|found| found.id != card), "a card whose sync failed is never shown");
    let record = format!(
        "after a failed fdatasync: the command answered {}; the next one (syncs working again) {}; GET /health {}; \
         the board view {}",
        answer(&refused),
        answer(&next),
        answer(&health),
        answer(&view).chars().take(60).collect::<String>(),
    );
    std::io::Write::write_all(&mut std::io::stderr(), format!("{record}\n").as_bytes()).expect("stderr");

    // A power cut now, and a restart on what survived: the board is there, the refused card is
    // not (its sync failed, so its data never became durable), and sending it again applies it.
    fs.power_off();
    program.kill();
    let image = after.path().join("disk");
    fs.cut(&image, &Cut::lose_everything_unsynced()).expect("the cut");
    let survivor = Program::start(&image.join("data"), &after.path().join("log-after")).expect("starts again");
    let commands = format!("{}/api/boards/{}/commands", survivor.base, workshop.board);
    let retried = post(&http, commands, Some(&token), &failing).await;
    let outcome = match &retried {
        Ok((200 | 201, text)) => serde_json::from_str::<CommandResponse>(text).ok().map(|answer| answer.outcome),
        _ => None,
    };
    assert!(
        matches!(outcome, Some(AckOutcome::Applied { .. })),
        "the refused card was not stored: {}",
        answer(&retried)
    );
    let view = get(&http, format!("{}/api/boards/{}", survivor.base, workshop.board), &token).await;
    let view: BoardView = serde_json::from_str(&view.expect("answered").1).expect("a board view");
    assert_eq!(view.cards.iter().filter(|found| found.id == card).count(), 1, "there once");
    drop(survivor);
}

/// One participant's WebSocket: sends commands and waits for the answer to each.
struct Socket {
    sink: futures_util::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        Message,
    >,
    stream: futures_util::stream::SplitStream<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    >,
}

impl Socket {
    async fn open(base: &str, board: BoardId, token: &str) -> Socket {
        let url = format!("{}/api/boards/{board}/ws", base.replace("http://", "ws://"));
        let mut request = url.into_client_request().expect("a request");
        request.headers_mut().insert("Origin", base.parse().expect("an origin"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("the WebSocket opens");
        let (mut sink, stream) = socket.split();
        let subscribe = ClientMessage::Subscribe { token: token.to_owned(), last_seq: None };
        sink.send(Message::text(serde_json::to_string(&subscribe).expect("json"))).await.expect("subscribed");
        Socket { sink, stream }
    }

    /// Sends a command and returns the server's answer about it (an acknowledgement or an error).
    async fn send(&mut self, request: &CommandRequest) -> ServerMessage {
        let message = ClientMessage::Command { command_id: request.command_id, command: request.command.clone() };
        self.sink.send(Message::text(serde_json::to_string(&message).expect("json"))).await.expect("sent");
        loop {
            let next = tokio::time::timeout(WAIT, self.stream.next()).await.expect("an answer in time");
            let Some(Ok(Message::Text(text))) = next else {
                match next {
                    Some(Ok(_)) => continue,
                    other => panic!("the connection broke: {other:?}"),
                }
            };
            match serde_json::from_str::<ServerMessage>(text.as_str()) {
                Ok(answer @ ServerMessage::Ack { command_id, .. })
                | Ok(answer @ ServerMessage::Error { command_id: Some(command_id), .. })
                    if command_id == request.command_id =>
                {
                    return answer;
                }
                Ok(ServerMessage::Error { command_id: None, code, message }) => {
                    panic!("the connection was refused: {code:?} {message}")
                }
                _ => {}
            }
        }
    }
}

/// A new card for the board's column, as a command request.
fn new_card(workshop: &Workshop, title: &str) -> (CardId, CommandRequest) {
    let card = CardId(Uuid::now_v7());
    let command = Command::AddCard { card, column: workshop.column, title: title.to_owned(), body: String::new() };
    (card, CommandRequest { command_id: CommandId(Uuid::now_v7()), command })
}

async fn health(http: &reqwest::Client, base: &str) -> (u16, String) {
    let response = http.get(format!("{base}/health")).send().await.expect("/health answers");
    (response.status().as_u16(), response.text().await.expect("a body"))
}

/// Creates a board: its status and body.
async fn create_board(http: &reqwest::Client, base: &str) -> Result<(u16, String), String> {
    let request = serde_json::json!({ "title": "Uusi taulu", "facilitator_name": "Ville" });
    post(http, format!("{base}/api/boards"), None, &request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_changes_clearly_and_takes_them_again_once_space_is_freed_without_a_restart() {
    let Rig { backing: _backing, mount: _mount, after, fs, mut program, http, workshop } = Rig::start().await;
    let base = program.base.clone();
    let board_url = format!("{base}/api/boards/{}", workshop.board);
    let commands = format!("{board_url}/commands");
    let (_, writer) = workshop.writers[0].clone();
    let (_, http_writer) = workshop.writers[1].clone();
    let mut socket = Socket::open(&base, workshop.board, &writer.token).await;
    let mut acknowledged = Vec::new();
    let (card, before) = new_card(&workshop, "Ennen kuin levy täyttyi");
    assert!(matches!(socket.send(&before).await, ServerMessage::Ack { outcome: AckOutcome::Applied { .. }, .. }));
    acknowledged.push(card);

    // The disk fills up: 1 MiB is left, which the file system's statfs shows, below what the
    // server keeps in reserve. Every change is refused by the server itself, before the disk.
    fs.faults().limit_space(Some(1 << 20));
    let (refused_card, refused_ws) = new_card(&workshop, "Levy täynnä (WebSocket)");
    let said = socket.send(&refused_ws).await;
    let ServerMessage::Error { code, message, .. } = &said else { panic!("refused: {said:?}") };
    assert_eq!(*code, kipina_proto::ErrorCode::Unavailable, "{message}");
    assert!(message.contains("disk is full") && message.contains("no restart"), "{message}");
    let (refused_http_card, refused_http) = new_card(&workshop, "Levy täynnä (HTTP)");
    let answered = post(&http, commands.clone(), Some(&http_writer.token), &refused_http).await;
    let (status, text) = answered.as_ref().expect("the server answers");
    assert_eq!(*status, 503, "{text}");
    assert!(text.contains("\"code\":\"unavailable\"") && text.contains("disk is full"), "{text}");
    let joined = join(&http, &base, &workshop.participant_link, "Täyden levyn tulija").await;
    let refusal = joined.as_ref().expect_err("a join is refused on a full disk");
    assert!(refusal.starts_with("503") && refusal.contains("disk is full"), "{refusal}");
    let created = create_board(&http, &base).await;
    let (status, text) = created.as_ref().expect("the server answers");
    assert!(*status == 503 && text.contains("disk is full"), "a new board is refused: {status} {text}");
    let (status, text) = health(&http, &base).await;
    assert_eq!(status, 503, "/health says the disk is full: {text}");
    assert!(text.contains("disk is full") && text.contains("without a restart"), "{text}");
    let view = get(&http, board_url.clone(), &writer.token).await;
    let (status, text) = view.as_ref().expect("the board is read");
    assert_eq!(*status, 200, "reads go on: {text}");
    let shown: BoardView = serde_json::from_str(text).expect("a board view");
    assert!(
        shown.cards.iter().any(|found| found.id == card) && !shown.cards.iter().any(|found| found.id == refused_card)
    );
    assert_eq!(fs.faults().refused_writes(), 0, "no write reached the full disk: the server refused them first");

    // Space is freed: at once /health is ok and the same connection's next change is taken, the
    // refused ones too (they were not stored, so they apply now), with no restart.
    fs.faults().limit_space(None);
    let (status, text) = health(&http, &base).await;
    assert_eq!((status, text.as_str()), (200, "ok"), "/health is ok again");
    let said = socket.send(&refused_ws).await;
    assert!(matches!(said, ServerMessage::Ack { outcome: AckOutcome::Applied { .. }, .. }), "{said:?}");
    acknowledged.push(refused_card);
    let (card, next) = new_card(&workshop, "Levy vapautui");
    let said = socket.send(&next).await;
    assert!(matches!(said, ServerMessage::Ack { outcome: AckOutcome::Applied { .. }, .. }), "{said:?}");
    acknowledged.push(card);
    let answered = post(&http, commands.clone(), Some(&http_writer.token), &refused_http).await;
    assert!(matches!(answered, Ok((200 | 201, _))), "{}", answer(&answered));
    acknowledged.push(refused_http_card);
    let newcomer = join(&http, &base, &workshop.participant_link, "Tulija vapautuneelle levylle").await;
    let newcomer = newcomer.expect("joins once space is freed");
    let (card, theirs) = new_card(&workshop, "Tulijan kortti");
    let answered = post(&http, commands.clone(), Some(&newcomer.token), &theirs).await;
    assert!(matches!(answered, Ok((200 | 201, _))), "{}", answer(&answered));
    acknowledged.push(card);
    let created = create_board(&http, &base).await;
    assert!(matches!(created, Ok((201, _))), "a new board: {}", answer(&created));
    // Sent again, an acknowledged command is a duplicate: stored once.
    let said = socket.send(&refused_ws).await;
    assert!(matches!(said, ServerMessage::Ack { outcome: AckOutcome::Duplicate { .. }, .. }), "{said:?}");

    // A power cut and a restart on what survived: exactly the acknowledged cards, once each.
    drop(socket);
    fs.power_off();
    program.kill();
    let image = after.path().join("disk");
    fs.cut(&image, &Cut::lose_everything_unsynced()).expect("the cut");
    let survivor = Program::start(&image.join("data"), &after.path().join("log-after")).expect("starts again");
    let view = get(&http, format!("{}/api/boards/{}", survivor.base, workshop.board), &writer.token).await;
    let view: BoardView = serde_json::from_str(&view.expect("answered").1).expect("a board view");
    let mut shown: Vec<CardId> = view.cards.iter().map(|found| found.id).collect();
    shown.sort_unstable();
    acknowledged.sort_unstable();
    assert_eq!(shown, acknowledged, "exactly the acknowledged cards, once each");
    let (status, _) = get(&http, format!("{}/api/boards/{}", survivor.base, workshop.board), &newcomer.token)
        .await
        .expect("answered");
    assert_eq!(status, 200, "the participant who joined after the disk was freed is there");
    drop(survivor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_up_inside_a_write_stops_the_store_until_a_restart_after_freeing_space() {
    // The space is taken between the server's look at it and its write (statfs goes on showing
    // plenty): the ENOSPC reaches sled, which cannot go on after a failed write.
    let Rig { backing: _backing, mount, after: logs, fs, mut program, http, workshop } = Rig::start().await;
    let data = mount.path().join("data");
    let token = workshop.facilitator.token.clone();
    let commands = |base: &str| format!("{base}/api/boards/{}/commands", workshop.board);
    let (_, saved) = new_card(&workshop, "Ennen kuin levy täyttyi");
    let before = post(&http, commands(&program.base), Some(&token), &saved).await;
    assert!(matches!(before, Ok((200 | 201, _))), "{}", answer(&before));

    // The disk fills up unseen: commands are sent until one is refused (sled may still have
    // room in what it has already written).
    fs.faults().hide_space_limit(true);
    fs.faults().limit_space(Some(0));
    let mut refused = None;
    for n in 0..200 {
        let (_, request) = new_card(&workshop, &format!("Levy täynnä {n}"));
        let answered = post(&http, commands(&program.base), Some(&token), &request).await;
        match &answered {
            Ok((200 | 201, _)) => continue,
            _ => {
                refused = Some((request, answered));
                break;
            }
        }
    }
    let (refused, answered) = refused.expect("a full disk refuses a command within 200");
    assert!(fs.faults().refused_writes() > 0, "the disk refused a write");
    let (status, text) = answered.as_ref().expect("the server answers");
    assert_eq!(*status, 503, "{text}");
    assert!(text.contains("\"code\":\"unavailable\"") && text.contains("its disk failed"), "{text}");
    let (status, health) = health(&http, &program.base).await;
    assert_eq!(status, 503);
    assert!(
        health.contains("stopped accepting changes") && health.contains("free disk space, then restart"),
        "{health}"
    );
    let view = get(&http, format!("{}/api/boards/{}", program.base, workshop.board), &token).await;
    assert!(matches!(view, Ok((200, _))), "reads go on: {}", answer(&view));
    // Freeing space is not enough here: sled keeps its error.
    fs.faults().limit_space(None);
    let (_, later) = new_card(&workshop, "Levy vapautui");
    let answered = post(&http, commands(&program.base), Some(&token), &later).await;
    assert!(matches!(answered, Ok((503, _))), "still refused until a restart: {}", answer(&answered));

    // Restarted, the server takes changes again and the refused one applies once.
    program.kill();
    let program = Program::start(&data, &logs.path().join("log-after")).expect("starts again");
    let retried = post(&http, commands(&program.base), Some(&token), &refused).await;
    let outcome = match &retried {
        Ok((200 | 201, text)) => serde_json::from_str::<CommandResponse>(text).ok().map(|answer| answer.outcome),
        _ => None,
    };
    assert!(
        matches!(outcome, Some(AckOutcome::Applied { .. } | AckOutcome::Duplicate { .. })),
        "the refused command applies once after the restart: {}",
        answer(&retried)
    );
    let view = get(&http, format!("{}/api/boards/{}", program.base, workshop.board), &token).await;
    let view: BoardView = serde_json::from_str(&view.expect("answered").1).expect("a board view");
    for request in [&saved, &refused] {
        let Command::AddCard { card, .. } = &request.command else { unreachable!("cards were added") };
        assert_eq!(view.cards.iter().filter(|found| found.id == *card).count(), 1, "there once");
    }
    drop(program);
    fs.unmount().expect("unmounted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_come_back_damaged_never_serve_a_changed_board() {
    // The board is made on an ordinary directory; each phase reads a copy of it through the
    // file system, with one file's reads damaged.
    let made = tempfile::tempdir().expect("a data directory");
    let logs = tempfile::tempdir().expect("a place for logs");
    let data = made.path().join("data");
    let program = Program::start(&data, &logs.path().join("log-made")).expect("starts");
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build().expect("an HTTP client");
    let workshop = set_up(&http, &program.base).await;
    let token = workshop.facilitator.token.clone();
    for n in 0..20 {
        let command = Command::AddCard {
            card: CardId(Uuid::now_v7()),
            column: workshop.column,
            title: format!("Kortti {n}"),
            body: "Tekstiä, joka ei saa muuttua.".into(),
        };
        let request = CommandRequest { command_id: CommandId(Uuid::now_v7()), command };
        let url = format!("{}/api/boards/{}/commands", program.base, workshop.board);
        let answered = post(&http, url, Some(&token), &request).await;
        assert!(matches!(answered, Ok((200 | 201, _))), "{}", answer(&answered));
    }
    let board_url = |base: &str| format!("{base}/api/boards/{}", workshop.board);
    let (_, text) = get(&http, board_url(&program.base), &token).await.expect("the board");
    let original: BoardView = serde_json::from_str(&text).expect("a board view");
    program.stop();

    // Each file the board depends on, read back damaged in turn: the server refuses to start
    // naming the damage, or refuses the board (503 board_damaged) or the token, or serves the
    // board unchanged; never a changed board.
    let mut files = vec![
        PathBuf::from("data/events/db"),
        PathBuf::from("data/access/server.key"),
        PathBuf::from("data/access/records/db"),
    ];
    let keys = data.join("keys").join(workshop.board.to_string());
    for entry in std::fs::read_dir(&keys).expect("the board's keys") {
        let key = entry.expect("an entry").path();
        files.push(key.strip_prefix(made.path()).expect("in the data directory").to_owned());
    }
    let mut outcomes = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let backing = tempfile::tempdir().expect("a backing directory");
        let mount = tempfile::tempdir().expect("a mount point");
        copy_tree(&data, &backing.path().join("data"));
        let fs = PowerCut::mount(backing.path(), mount.path(), Mode::Lenient).expect("mounted");
        fs.faults().flip_reads(Some(FlipReads { file: Some(file.clone()), offsets: 0..u64::MAX }));
        let outcome = match Program::start(&mount.path().join("data"), &logs.path().join(format!("log-{index}"))) {
            Err(said) => {
                assert!(!said.trim().is_empty(), "a refusal to start says why");
                format!("refused to start ({said})")
            }
            Ok(program) => {
                let answered = get(&http, board_url(&program.base), &token).await;
                let outcome = match &answered {
                    Ok((503, text)) if text.contains("board_damaged") => "the board refused as damaged".to_owned(),
                    Ok((401, _)) => "the token refused".to_owned(),
                    Ok((200, text)) => {
                        let view: BoardView = serde_json::from_str(text).expect("a board view");
                        assert_eq!(view, original, "{} read damaged changed the board served", file.display());
                        "served unchanged".to_owned()
                    }
                    other => panic!("{}: {}", file.display(), answer(other)),
                };
                drop(program);
                outcome
            }
        };
        outcomes.push(format!("{}: {outcome}", file.display()));
        fs.faults().flip_reads(None);
        fs.unmount().expect("unmounted");
    }
    std::io::Write::write_all(&mut std::io::stderr(), format!("{}\n", outcomes.join("\n")).as_bytes()).expect("stderr");
}
