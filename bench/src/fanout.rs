//! `kipina-bench fanout`: how long a change takes to reach every live client of a board, on the
//! real server, and the same for a bare actix-ws broadcast of a message of the same size.
//!
//! Kipinä runs in this process on a free loopback port over a fresh data directory (a real
//! event log with a real `fdatasync` per commit). A facilitator creates a board, a column and one
//! card with a 200-character title over HTTP; N readers subscribe over WebSocket with the observer
//! link; one writer (the facilitator) casts a dot on the card and takes it back, alternately, one
//! command at a time, waiting for each `ack` before the next. Each command stores exactly one
//! event, so round `i` is sequence number `head + 1 + i` and its `changed` is the same size every
//! other round (a few bytes apart). No limit is ever reached: one dot, and no new cards.
//!
//! The bare baseline ([`baseline_ws`]) runs beside it, in the same process, with as many readers
//! and messages of the size Kipinä's warm-up rounds measured. Both stay up for the whole run and
//! take turns in blocks of rounds, so a busy spell of the machine lands on both.

use crate::baseline_ws;
use crate::clients::{Glance, MakeMessage, ReaderSees, Readers, Rig, Sample, WAIT, Writer, WriterSees};
use crate::report::{FanoutReport, Measured, mean_message_bytes};
use crate::server_thread::{ServerThread, Started};
use anyhow::{Context as _, anyhow, bail};
use kipina_proto::api::{CommandRequest, CommandResponse, CreateBoardRequest, CreateBoardResponse};
use kipina_proto::{
    AckOutcome, BoardId, BoardTemplate, CardId, ClientMessage, ColumnId, Command, CommandId, Language, ServerMessage,
};
use kipina_server::config::Config;
use kipina_server::startup::Application;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// What to run.
#[derive(Clone, Debug)]
pub struct FanoutOptions {
    /// Reader connections.
    pub clients: usize,
    /// Measured rounds.
    pub rounds: usize,
    /// Rounds run first and not measured (connections and allocations settle).
    pub warmup: usize,
}

/// A card title of exactly 200 characters, the longest a card may have.
fn card_title() -> String {
    let sentence = "Fan-out benchmark card: every reader on the board receives this title again with each vote. ";
    let title: String = sentence.chars().cycle().take(199).collect();
    // Ending in a full stop, it never ends in a space, as a typed title would not.
    format!("{title}.")
}

/// The summary rows of one fan-out run: Kipinä against the bare broadcast of the same size.
/// The target is on ack→last: from the writer's acknowledgement to the last reader's receipt,
/// which leaves out the durable commit both servers answer after (Kipinä puts `changed` into
/// every outbox before its `ack`, the bare server broadcasts before answering the trigger).
pub fn rows(report: &FanoutReport) -> Vec<crate::summary::Row> {
    use crate::summary::{Row, Stats};
    let [kipina, bare] = &report.rows;
    let stats = |percentiles: crate::report::Percentiles| Stats {
        median: percentiles.p50,
        p99: percentiles.p99,
        samples: report.rounds,
    };
    let case = format!("{} readers", report.clients);
    let ack_to_last = stats(kipina.ack_to_last_ms);
    let bare_ack_to_last = stats(bare.ack_to_last_ms);
    vec![
        Row::new("fanout", &case, "ack->last reader", "ms")
            .kipina(ack_to_last)
            .baseline(format!("bare actix-ws, {} B", bare.message_bytes), bare_ack_to_last)
            .target("p99 <= 1.25x bare", ack_to_last.p99 <= 1.25 * bare_ack_to_last.p99),
        Row::new("fanout", &case, "send->last reader", "ms")
            .kipina(stats(kipina.send_to_last_ms))
            .baseline(format!("bare actix-ws, {} B", bare.message_bytes), stats(bare.send_to_last_ms)),
        Row::new("fanout", &case, "send->ack (writer)", "ms")
            .kipina(stats(kipina.send_to_ack_ms))
            .baseline(format!("bare actix-ws, {} B", bare.message_bytes), stats(bare.send_to_ack_ms)),
    ]
}

/// Rounds one server runs before the other takes its turn.
const BLOCK_ROUNDS: usize = 10;

/// Measures Kipinä and the bare server with Kipinä's message size, both up at once, in blocks of
/// [`BLOCK_ROUNDS`] rounds taken in turn (Kipinä, bare, bare, Kipinä, ...), so that whatever
/// else the machine does during the run weighs on both alike rather than on whichever ran second.
pub async fn run(options: &FanoutOptions) -> anyhow::Result<FanoutReport> {
    let data_dir = tempfile::tempdir().context("a temporary data directory")?;
    let path = data_dir.path().to_path_buf();
    let kipina_server = ServerThread::start("kipina-server", move || start_kipina(path)).await?;
    let result = async {
        let mut kipina = connect_kipina(&kipina_server, options.clients).await.context("connecting to Kipinä")?;
        // Warm-up rounds, at least one of each kind, also give the size of Kipinä's `changed`.
        let warmup = kipina.rounds(options.warmup.max(2)).await.context("Kipinä's warm-up rounds")?;
        let message_bytes = mean_message_bytes(&warmup);
        let bare_server = baseline_ws::start(message_bytes).await.context("starting the bare actix-ws server")?;
        let measured = async {
            let mut bare = baseline_ws::connect(&bare_server, options.clients).await?;
            bare.rounds(options.warmup).await.context("the bare server's warm-up rounds")?;
            let measured = interleave(&mut kipina, &mut bare, options.rounds).await?;
            bare.close().await;
            Ok::<_, anyhow::Error>(measured)
        }
        .await;
        let stopped = bare_server.stop(measured.is_ok()).await;
        let measured = measured.context("measuring the bare actix-ws baseline beside Kipinä")?;
        stopped.context("stopping the bare actix-ws server")?;
        kipina.close().await;
        Ok::<_, anyhow::Error>(measured)
    }
    .await;
    let stopped = kipina_server.stop(result.is_ok()).await;
    drop(data_dir);
    // A failed run's own error says more than a failed stop.
    let (kipina, bare) = result?;
    stopped.context("stopping Kipinä")?;
    let kipina = Measured::new("kipina", options.clients, &kipina)?;
    let bare = Measured::new("bare actix-ws", options.clients, &bare)?;
    Ok(FanoutReport::new(options, kipina, bare))
}

/// Runs `rounds` rounds on each rig in blocks taken in turn, each pair of blocks in the opposite
/// order to the pair before (A B, B A, ...), which cancels a steady drift of the machine's speed.
async fn interleave(kipina: &mut Rig, bare: &mut Rig, rounds: usize) -> anyhow::Result<(Vec<Sample>, Vec<Sample>)> {
    let (mut kipina_samples, mut bare_samples) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for (block, start) in (0..rounds).step_by(BLOCK_ROUNDS).enumerate() {
        let count = BLOCK_ROUNDS.min(rounds - start);
        if block % 2 == 0 {
            kipina_samples.extend(block_of(kipina, count).await.context("Kipinä's rounds")?);
            bare_samples.extend(block_of(bare, count).await.context("the bare server's rounds")?);
        } else {
            bare_samples.extend(block_of(bare, count).await.context("the bare server's rounds")?);
            kipina_samples.extend(block_of(kipina, count).await.context("Kipinä's rounds")?);
        }
    }
    Ok((kipina_samples, bare_samples))
}

/// One block of `count` measured rounds, after a round that is not measured. Measured from the
/// switch on, most of the bare server's slowest rounds were its first right after a turn of
/// Kipinä's (Kipinä's were not slow after the bare server's): with 1,000 rounds in blocks of 10,
/// those 50 rounds set its p99 and flattered Kipinä's ratio. Both servers now leave that round out.
async fn block_of(rig: &mut Rig, count: usize) -> anyhow::Result<Vec<Sample>> {
    rig.rounds(1).await?;
    rig.rounds(count).await
}

pub(crate) async fn start_kipina(data_dir: std::path::PathBuf) -> anyhow::Result<Started> {
    let mut config = Config::for_tests(data_dir);
    // The writer sends commands back to back; the default allows 20 a second.
    config.max_commands_per_second = 100_000;
    let app = Application::build(config).await.context("building the Kipinä server")?;
    let (port, handle) = (app.port(), app.handle());
    Ok(Started { port, handle, serve: Box::pin(app.run_until_stopped()) })
}

/// Creates a board with one card on the running server and connects the facilitator as the
/// writer and `clients` observers as readers; its rounds cast a dot and take it back in turn.
async fn connect_kipina(server: &ServerThread, clients: usize) -> anyhow::Result<Rig> {
    let base = server.base_url();
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build()?;
    let create = CreateBoardRequest {
        title: "Fan-out benchmark".into(),
        description: String::new(),
        language: Language::En,
        facilitator_name: "Writer".into(),
        // No columns: the benchmark adds the one it needs.
        template: BoardTemplate::Empty,
    };
    let created: CreateBoardResponse = post(&http, &format!("{base}/api/boards"), None, &create).await?;
    let board = created.session.board;
    let token = created.session.token;
    let column = ColumnId(Uuid::now_v7());
    let card = CardId(Uuid::now_v7());
    command(&http, &base, board, &token, Command::AddColumn { column, title: "Ideas".into() }).await?;
    let head = command(
        &http,
        &base,
        board,
        &token,
        Command::AddCard { card, column, title: card_title(), body: String::new() },
    )
    .await?;

    let ws_url = format!("ws://127.0.0.1:{}/api/boards/{board}/ws", server.port());
    let subscribe =
        |token: &str| serde_json::to_string(&ClientMessage::Subscribe { token: token.into(), last_seq: None });
    let mut writer = Writer::connect(&ws_url, &base, Some(subscribe(&token)?), writer_sees).await?;
    writer.ready().await?;
    let observer = link_part(&created.links.observer)?;
    let mut readers =
        Readers::connect(clients, &ws_url, &base, Some(subscribe(observer)?), move |text| reader_sees(text, clients))
            .await?;
    readers.ready().await?;
    let message: MakeMessage = Box::new(move |round, _seq| {
        let command = if round % 2 == 0 { Command::CastVote { card } } else { Command::WithdrawVote { card } };
        Ok(serde_json::to_string(&ClientMessage::Command { command_id: CommandId(Uuid::now_v7()), command })?)
    });
    Ok(Rig::new(writer, readers, head + 1, message))
}

/// The `{board}/o/{secret}` part of an observer link, which is its token.
pub(crate) fn link_part(link: &str) -> anyhow::Result<&str> {
    link.split_once("/join/").map(|(_, part)| part).ok_or_else(|| anyhow!("not a link: {link}"))
}

/// Sends a command over HTTP and returns the sequence number it stored.
pub(crate) async fn command(
    http: &reqwest::Client,
    base: &str,
    board: BoardId,
    token: &str,
    command: Command,
) -> anyhow::Result<u64> {
    let name = command.name();
    let request = CommandRequest { command_id: CommandId(Uuid::now_v7()), command };
    let response: CommandResponse =
        post(http, &format!("{base}/api/boards/{board}/commands"), Some(token), &request).await?;
    match response.outcome {
        AckOutcome::Applied { last_seq, .. } => Ok(last_seq),
        other => bail!("{name} was answered with {other:?}"),
    }
}

pub(crate) async fn post<B: Serialize, A: DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &B,
) -> anyhow::Result<A> {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.with_context(|| format!("the answer to POST {url}"))?;
    if !status.is_success() {
        bail!("POST {url} was answered with {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("the answer to POST {url}: {text}"))
}

fn writer_sees(text: &str) -> WriterSees {
    // Its own copy of each change comes just before its answer: only glanced at, as the
    // readers' copies are, so that it does not delay reading the answer.
    if serde_json::from_str::<Glance>(text).is_ok_and(|glance| glance.kind == "changed") {
        return WriterSees::Other;
    }
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::Welcome { .. }) => WriterSees::Ready,
        Ok(ServerMessage::Ack { outcome: AckOutcome::Applied { first_seq, last_seq }, .. })
            if first_seq == last_seq =>
        {
            WriterSees::Answered(last_seq)
        }
        Ok(ServerMessage::Ack { command_id, outcome }) => {
            WriterSees::Fatal(format!("command {command_id} was answered with {outcome:?}, not one event"))
        }
        Ok(ServerMessage::Error { command_id, code, message }) => {
            WriterSees::Fatal(format!("the server refused command {command_id:?}: {code}: {message}"))
        }
        Ok(ServerMessage::Resync { reason }) => WriterSees::Fatal(format!("the server dropped the writer: {reason}")),
        Ok(_) => WriterSees::Other,
        Err(error) => WriterSees::Fatal(format!("not a server message ({error}): {text}")),
    }
}

/// A reader is ready once presence counts every reader (they are all observers), so the burst of
/// presence messages that subscribing causes is over before the first round.
fn reader_sees(text: &str, readers: usize) -> ReaderSees {
    // A change, as nearly every message of a run is, is only glanced at; anything else is
    // decoded whole.
    if let Ok(Glance { kind, first_seq, last_seq }) = serde_json::from_str::<Glance>(text)
        && kind == "changed"
    {
        return ReaderSees::Changed { first_seq, last_seq };
    }
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::Snapshot { board }) => ReaderSees::Head(board.seq),
        Ok(ServerMessage::Presence { observers, .. }) if usize::try_from(observers) == Ok(readers) => {
            ReaderSees::Ready { head: None }
        }
        Ok(ServerMessage::Changed { first_seq, last_seq, .. }) => ReaderSees::Changed { first_seq, last_seq },
        Ok(ServerMessage::Resync { reason }) => ReaderSees::Fatal(format!("the server dropped this reader: {reason}")),
        Ok(ServerMessage::Error { code, message, .. }) => ReaderSees::Fatal(format!("an error: {code}: {message}")),
        Ok(_) => ReaderSees::Other,
        Err(error) => ReaderSees::Fatal(format!("not a server message ({error}): {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_title_is_as_long_as_a_title_may_be() {
        let title = card_title();
        assert_eq!(title.chars().count(), 200);
        assert_eq!(title.trim(), title);
    }

    #[test]
    fn the_observer_token_is_the_part_after_join() {
        let link = "http://127.0.0.1:8080/join/0190a1b2-0000-7000-8000-000000000000/o/secret";
        assert_eq!(link_part(link).ok(), Some("0190a1b2-0000-7000-8000-000000000000/o/secret"));
    }
}
