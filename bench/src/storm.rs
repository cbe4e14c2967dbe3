//! `kipina-bench storm`: a vote opening. N participants (300) have joined one board over HTTP and
//! each holds a WebSocket subscribed to it. At the start signal every one of them sends their
//! whole dot budget (5 `cast_vote` commands) back to back, without waiting for answers, as a
//! phone whose owner taps five cards does. Measured per round: the total time from the signal to
//! the last acknowledgement, the time until every client has seen every change, and each
//! command's send→ack latency. After each round the board's totals are read over HTTP and checked
//! exact: every card has exactly the dots cast on it, and every participant has used their budget.
//! The next round starts with `start_vote_round` (fresh budgets).
//!
//! The server runs in this process with its production command rate (20 a second, bursts of 40,
//! per participant). A client the server drops for falling behind (`resync`) reconnects, resumes
//! from the last sequence number it saw and sends its unanswered commands again with the same ids,
//! as the web client does; such reconnects are counted.
//!
//! The baseline is physical: the same number of 4 KiB writes, each followed by `fdatasync`, one
//! after another. A board's task decides the commands waiting in its queue in batches, each batch
//! with one sync and one `changed` per client (ADR 0004), so the storm can come near this floor
//! or beat it. The targets (issue 18): every vote acknowledged and every client up to date within
//! 1.5x the floor, no client dropped (`resync`), the totals exact, and one vote's
//! acknowledgement within 250 ms at p99.

use crate::baseline_disk;
use crate::clients::{Socket, WAIT, open};
use crate::fanout::{command, link_part, post};
use crate::server_thread::{ServerThread, Started};
use crate::summary::{Row, Section, Stats, millis};
use anyhow::{Context as _, anyhow, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use kipina_proto::api::{CreateBoardRequest, CreateBoardResponse, JoinRequest, Session};
use kipina_proto::view::BoardView;
use kipina_proto::{
    AckOutcome, BoardId, BoardSettings, BoardTemplate, CardId, ClientMessage, ColumnId, Command, CommandId, Language,
};
use kipina_server::config::Config;
use kipina_server::startup::Application;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct StormOptions {
    pub clients: usize,
    pub rounds: usize,
    pub cards: usize,
    /// Over how long the round's votes are sent, evenly, each client's one at a time (zero: all
    /// at the signal, the default). People tapping at their own pace rather than all at once.
    pub spread: Duration,
}

impl StormOptions {
    pub fn full() -> Self {
        Self { clients: 300, rounds: 5, cards: 20, spread: Duration::ZERO }
    }

    pub fn quick() -> Self {
        Self { clients: 30, rounds: 1, cards: 20, spread: Duration::ZERO }
    }
}

/// How long one round may take before the run fails.
const ROUND_WAIT: Duration = Duration::from_secs(120);
/// Joins and connections made at the same time while setting up.
const SET_UP_CONCURRENTLY: usize = 8;

/// The parts of a server message a storm client needs; everything else is skipped unread.
#[derive(Deserialize)]
struct Seen {
    #[serde(rename = "type")]
    kind: String,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    command_id: Option<CommandId>,
    outcome: Option<AckOutcome>,
    online: Option<Vec<serde::de::IgnoredAny>>,
    code: Option<String>,
    message: Option<String>,
}

/// A snapshot, read a second time for its sequence number (`board` is an id in other messages).
#[derive(Deserialize)]
struct SeenSnapshot {
    board: SeenBoard,
}

#[derive(Deserialize)]
struct SeenBoard {
    seq: u64,
}

/// What the coordinator tells the clients: go, with these commands, and the head the round ends at.
#[derive(Clone, Debug)]
struct Go {
    round: usize,
    target_head: u64,
    /// Over how long the votes are spread (see `StormOptions::spread`).
    spread: Duration,
}

#[derive(Debug)]
enum ClientEvent {
    Ready,
    Acked {
        latency: Duration,
        at: Instant,
    },
    /// Every command of the round answered and every change up to the round's last seen.
    Done {
        at: Instant,
    },
    Resynced,
    Failed(String),
}

struct Client {
    index: usize,
    token: String,
    /// The cards this client votes on, one dot each.
    cards: Vec<CardId>,
}

async fn subscribe(url: &str, origin: &str, token: &str, last_seq: Option<u64>) -> anyhow::Result<Socket> {
    let mut socket = open(url, origin).await?;
    let hello = serde_json::to_string(&ClientMessage::Subscribe { token: token.into(), last_seq })?;
    socket.send(Message::text(hello)).await?;
    Ok(socket)
}

/// One participant's connection for the whole run.
async fn run_client(
    client: Client,
    url: String,
    origin: String,
    everyone: usize,
    mut go: watch::Receiver<Option<Go>>,
    events: mpsc::UnboundedSender<ClientEvent>,
    connecting: std::sync::Arc<tokio::sync::Semaphore>,
) {
    let fail = |reason: String| {
        let _ = events.send(ClientEvent::Failed(format!("client {}: {reason}", client.index)));
    };
    let socket = {
        let _permit = connecting.acquire().await;
        subscribe(&url, &origin, &client.token, None).await
    };
    let mut socket = match socket {
        Ok(socket) => socket,
        Err(error) => return fail(format!("{error:#}")),
    };
    let mut last_seq: Option<u64> = None;
    let mut ready = false;
    // Unanswered commands: their text (to send again after a reconnect) and when first sent.
    let mut pending: HashMap<CommandId, (String, Instant)> = HashMap::new();
    let mut round: Option<Go> = None;
    let mut round_done = true;
    // The round's votes not sent yet, each with when to send it (all at once without a spread).
    let mut scheduled: std::collections::VecDeque<(tokio::time::Instant, CardId)> = Default::default();
    loop {
        let next_vote = scheduled.front().map(|(at, _)| *at);
        tokio::select! {
            message = socket.next() => {
                let at = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => return fail(format!("closed: {frame:?}")),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return fail(format!("the connection failed: {error}")),
                    None => return fail("the connection ended".into()),
                };
                let seen: Seen = match serde_json::from_str(text.as_str()) {
                    Ok(seen) => seen,
                    Err(error) => return fail(format!("not a server message ({error}): {text}")),
                };
                match seen.kind.as_str() {
                    "snapshot" => match serde_json::from_str::<SeenSnapshot>(text.as_str()) {
                        Ok(snapshot) => last_seq = Some(snapshot.board.seq),
                        Err(error) => return fail(format!("a snapshot without its seq: {error}")),
                    },
                    "changed" => match (last_seq, seen.first_seq, seen.last_seq) {
                        (Some(seen_seq), Some(first), Some(last)) if first == seen_seq + 1 => last_seq = Some(last),
                        other => return fail(format!("a change out of order: (last seen, first, last) = {other:?}")),
                    },
                    "ack" => {
                        let Some(command_id) = seen.command_id else { return fail("an ack without a command id".into()) };
                        match seen.outcome {
                            Some(AckOutcome::Applied { .. } | AckOutcome::Duplicate { .. }) => {}
                            other => return fail(format!("command {command_id} was answered {other:?}")),
                        }
                        if let Some((_, sent)) = pending.remove(&command_id) {
                            let _ = events.send(ClientEvent::Acked { latency: at.duration_since(sent), at });
                        }
                    }
                    "error" => {
                        return fail(format!("refused: {}: {}", seen.code.unwrap_or_default(), seen.message.unwrap_or_default()));
                    }
                    "resync" => {
                        let _ = events.send(ClientEvent::Resynced);
                        socket = match subscribe(&url, &origin, &client.token, last_seq).await {
                            Ok(socket) => socket,
                            Err(error) => return fail(format!("reconnecting: {error:#}")),
                        };
                        for (text, _) in pending.values() {
                            if let Err(error) = socket.send(Message::text(text.clone())).await {
                                return fail(format!("sending again: {error}"));
                            }
                        }
                        continue;
                    }
                    "presence" if !ready && seen.online.is_some_and(|online| online.len() == everyone) => {
                        ready = true;
                        let _ = events.send(ClientEvent::Ready);
                    }
                    _ => {}
                }
                if let Some(go) = &round
                    && !round_done
                    && pending.is_empty()
                    && scheduled.is_empty()
                    && last_seq.is_some_and(|seq| seq >= go.target_head)
                {
                    round_done = true;
                    let _ = events.send(ClientEvent::Done { at });
                }
            }
            changed = go.changed() => {
                if changed.is_err() {
                    // The coordinator is done: close politely.
                    let _ = tokio::time::timeout(WAIT, socket.close(None)).await;
                    return;
                }
                let Some(next) = go.borrow_and_update().clone() else { continue };
                // Vote k of client i goes at slot i + k * everyone of everyone * budget, evenly
                // over the spread.
                let start = tokio::time::Instant::now();
                let slots = (everyone * client.cards.len()).max(1) as u32;
                for (k, card) in client.cards.iter().enumerate() {
                    let slot = (client.index + k * everyone) as u32;
                    scheduled.push_back((start + next.spread * slot / slots, *card));
                }
                round = Some(next);
                round_done = false;
            }
            () = tokio::time::sleep_until(next_vote.unwrap_or_else(tokio::time::Instant::now)), if next_vote.is_some() => {
                let sent_at = Instant::now();
                while let Some((_, card)) = scheduled.front().filter(|(at, _)| *at <= tokio::time::Instant::now()).copied() {
                    scheduled.pop_front();
                    let command_id = CommandId(Uuid::now_v7());
                    let message = ClientMessage::Command { command_id, command: Command::CastVote { card } };
                    let text = match serde_json::to_string(&message) {
                        Ok(text) => text,
                        Err(error) => return fail(error.to_string()),
                    };
                    if let Err(error) = socket.send(Message::text(text.clone())).await {
                        let number = round.as_ref().map_or(0, |go| go.round);
                        return fail(format!("sending a vote in round {number}: {error}"));
                    }
                    pending.insert(command_id, (text, sent_at));
                }
            }
        }
    }
}

/// What one round measured.
#[derive(Debug, Serialize)]
struct RoundFigures {
    votes: usize,
    /// From the start signal to the last acknowledgement.
    total_ms: f64,
    /// From the start signal to every client having every change.
    converged_ms: f64,
    ack_ms: Stats,
    resyncs: usize,
    totals_exact: bool,
    /// The same number of sequential 4 KiB writes with `fdatasync`.
    fsync_floor_ms: f64,
}

pub async fn run(options: &StormOptions) -> anyhow::Result<Section> {
    let data_dir = tempfile::tempdir().context("a temporary data directory")?;
    let path = data_dir.path().to_path_buf();
    let server = ServerThread::start("kipina-server", move || async move {
        // The production command rate: each participant's five dots fit in one burst.
        let app = Application::build(Config::for_tests(path)).await.context("building the Kipinä server")?;
        let (port, handle) = (app.port(), app.handle());
        Ok(Started { port, handle, serve: Box::pin(app.run_until_stopped()) })
    })
    .await?;
    let result = drive(&server, options, data_dir.path()).await;
    let stopped = server.stop(result.is_ok()).await;
    let section = result?;
    stopped?;
    Ok(section)
}

async fn drive(server: &ServerThread, options: &StormOptions, scratch: &std::path::Path) -> anyhow::Result<Section> {
    let budget = BoardSettings::default().vote_budget as usize;
    anyhow::ensure!(options.cards >= budget, "--cards must be at least the budget ({budget})");
    let base = server.base_url();
    let http = reqwest::Client::builder().no_proxy().timeout(WAIT).build()?;
    let create = CreateBoardRequest {
        title: "Vote storm".into(),
        description: String::new(),
        language: Language::Fi,
        facilitator_name: "Fasilitaattori".into(),
        template: BoardTemplate::Empty,
    };
    let created: CreateBoardResponse = post(&http, &format!("{base}/api/boards"), None, &create).await?;
    let board = created.session.board;
    let facilitator = created.session.token.clone();
    let column = ColumnId(Uuid::now_v7());
    command(&http, &base, board, &facilitator, Command::AddColumn { column, title: "Ideat".into() }).await?;
    let mut cards = Vec::with_capacity(options.cards);
    for number in 0..options.cards {
        let card = CardId(Uuid::now_v7());
        let title = format!("Idea {number}: kylän yhteinen kesätapahtuma");
        command(&http, &base, board, &facilitator, Command::AddCard { card, column, title, body: String::new() })
            .await?;
        cards.push(card);
    }

    // Everyone joins with the participant link.
    let invitation = link_part(&created.links.participant)?.to_owned();
    let join_url = format!("{base}/api/join");
    let sessions: Vec<Session> = futures_util::stream::iter(0..options.clients)
        .map(|number| {
            let (http, join_url, invitation) = (http.clone(), join_url.clone(), invitation.clone());
            async move {
                let request =
                    JoinRequest { invitation, display_name: format!("Osallistuja {number}"), known_tokens: vec![] };
                post::<_, Session>(&http, &join_url, None, &request).await
            }
        })
        .buffer_unordered(SET_UP_CONCURRENTLY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;

    // Client i votes once on each of the `budget` cards from card i * budget on.
    let mut expected: BTreeMap<CardId, u32> = BTreeMap::new();
    let (go, going) = watch::channel(None::<Go>);
    let (sender, mut events) = mpsc::unbounded_channel();
    let connecting = std::sync::Arc::new(tokio::sync::Semaphore::new(SET_UP_CONCURRENTLY));
    let url = format!("ws://127.0.0.1:{}/api/boards/{board}/ws", server.port());
    let mut tasks = Vec::with_capacity(options.clients);
    for (index, session) in sessions.iter().enumerate() {
        let mine: Vec<CardId> = (0..budget).map(|k| cards[(index * budget + k) % cards.len()]).collect();
        for card in &mine {
            *expected.entry(*card).or_default() += 1;
        }
        let client = Client { index, token: session.token.clone(), cards: mine };
        tasks.push(tokio::spawn(run_client(
            client,
            url.clone(),
            base.clone(),
            options.clients,
            going.clone(),
            sender.clone(),
            std::sync::Arc::clone(&connecting),
        )));
    }
    drop(sender);
    let mut waiting = options.clients;
    let deadline = tokio::time::Instant::now() + ROUND_WAIT;
    while waiting > 0 {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ClientEvent::Ready)) => waiting -= 1,
            Ok(Some(ClientEvent::Failed(reason))) => bail!("while subscribing: {reason}"),
            Ok(Some(_)) => {}
            Ok(None) => bail!("every client has ended"),
            Err(_) => bail!("{waiting} of {} clients were not subscribed within {ROUND_WAIT:?}", options.clients),
        }
    }

    let votes = options.clients * budget;
    let view_url = format!("{base}/api/boards/{board}");
    let mut figures = Vec::with_capacity(options.rounds);
    // Every vote's send->ack latency, over all rounds: the target is on their p99.
    let mut every_ack = Vec::with_capacity(votes * options.rounds);
    for round in 0..options.rounds {
        if round > 0 {
            let fresh = Command::StartVoteRound { settings: BoardSettings::default(), hidden: false };
            command(&http, &base, board, &facilitator, fresh).await?;
        }
        let head = read_view(&http, &view_url, &facilitator).await?.seq;
        let started = Instant::now();
        go.send_replace(Some(Go { round, target_head: head + votes as u64, spread: options.spread }));
        let mut latencies = Vec::with_capacity(votes);
        let mut last_ack = started;
        let mut converged = started;
        let mut resyncs = 0;
        let mut done = 0;
        let deadline = tokio::time::Instant::from_std(started + ROUND_WAIT);
        while done < options.clients {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(ClientEvent::Acked { latency, at })) => {
                    latencies.push(latency);
                    last_ack = last_ack.max(at);
                }
                Ok(Some(ClientEvent::Done { at })) => {
                    done += 1;
                    converged = converged.max(at);
                }
                Ok(Some(ClientEvent::Resynced)) => resyncs += 1,
                Ok(Some(ClientEvent::Ready)) => {}
                Ok(Some(ClientEvent::Failed(reason))) => bail!("round {round}: {reason}"),
                Ok(None) => bail!("round {round}: every client has ended"),
                Err(_) => bail!(
                    "round {round}: {done} of {} clients finished within {ROUND_WAIT:?} ({} of {votes} acks)",
                    options.clients,
                    latencies.len()
                ),
            }
        }
        anyhow::ensure!(latencies.len() == votes, "round {round}: {} acks for {votes} votes", latencies.len());

        // The totals, exact.
        let view = read_view(&http, &view_url, &facilitator).await?;
        let mut wrong = Vec::new();
        for card in &view.cards {
            let want = expected.get(&card.id).copied().unwrap_or(0);
            if card.vote_total != Some(want) {
                wrong.push(format!("card {} has {:?} dots, not {want}", card.id, card.vote_total));
            }
        }
        let total: u32 = view.cards.iter().filter_map(|card| card.vote_total).sum();
        if total as usize != votes {
            wrong.push(format!("{total} dots on the board in all, not {votes}"));
        }
        // Each participant's dots, as the cards list them per voter.
        let mut per_voter: HashMap<kipina_proto::ParticipantId, u32> = HashMap::new();
        for vote in view.cards.iter().flat_map(|card| &card.votes) {
            *per_voter.entry(vote.participant).or_default() += vote.dots;
        }
        for session in &sessions {
            let used = per_voter.get(&session.participant).copied().unwrap_or(0);
            if used as usize != budget {
                wrong.push(format!("participant {} has {used} dots on cards, not {budget}", session.participant));
            }
        }
        if view.seq != head + votes as u64 {
            wrong.push(format!("the board is at seq {}, not {}", view.seq, head + votes as u64));
        }
        anyhow::ensure!(wrong.is_empty(), "round {round}: the totals are wrong: {}", wrong.join("; "));

        let floor_dir = scratch.to_path_buf();
        let floor = tokio::task::spawn_blocking(move || baseline_disk::fsync_round(&floor_dir, votes, true)).await??;
        figures.push(RoundFigures {
            votes,
            total_ms: millis(last_ack.duration_since(started)),
            converged_ms: millis(converged.duration_since(started)),
            ack_ms: Stats::of_durations(&latencies),
            resyncs,
            totals_exact: true,
            fsync_floor_ms: millis(floor.elapsed),
        });
        every_ack.extend(latencies);
        crate::progress(&format!(
            "storm round {round}: {votes} votes acknowledged in {:.1} ms, everyone up to date after {:.1} ms",
            figures[round].total_ms, figures[round].converged_ms
        ));
    }
    drop(go);
    for task in tasks {
        let _ = tokio::time::timeout(WAIT, task).await;
    }

    let total = Stats::lower_is_better(&figures.iter().map(|round| round.total_ms).collect::<Vec<_>>());
    let converged = Stats::lower_is_better(&figures.iter().map(|round| round.converged_ms).collect::<Vec<_>>());
    let floor = Stats::lower_is_better(&figures.iter().map(|round| round.fsync_floor_ms).collect::<Vec<_>>());
    let ack_p50 = Stats::lower_is_better(&figures.iter().map(|round| round.ack_ms.median).collect::<Vec<_>>());
    let ack_p99 = Stats::lower_is_better(&figures.iter().map(|round| round.ack_ms.p99).collect::<Vec<_>>());
    let every_ack_stats = Stats::of_durations(&every_ack);
    let resyncs: usize = figures.iter().map(|round| round.resyncs).sum();
    let case = format!("{} clients x {budget}", options.clients);
    let floor_name = format!("{votes} x (4 KiB + fdatasync)");
    let within_floor = |stats: Stats| stats.median <= 1.5 * floor.median;
    // Spread over time, the round lasts the spread at least: the floor is no target then.
    let against_floor = |row: Row, stats: Stats| {
        if options.spread.is_zero() { row.target("<= 1.5x floor", within_floor(stats)) } else { row }
    };
    let case = if options.spread.is_zero() { case } else { format!("{case}, {} ms", options.spread.as_millis()) };
    let rows = vec![
        against_floor(
            Row::new("storm", &case, "all votes acked", "ms").kipina(total).baseline(&floor_name, floor),
            total,
        ),
        against_floor(
            Row::new("storm", &case, "everyone up to date", "ms").kipina(converged).baseline(&floor_name, floor),
            converged,
        ),
        Row::new("storm", &case, "ack latency, every vote", "ms")
            .kipina(every_ack_stats)
            .target("p99 <= 250 ms", every_ack_stats.p99 <= 250.0),
        Row::new("storm", &case, "ack latency p50 of rounds", "ms").kipina(ack_p50),
        Row::new("storm", &case, "ack latency p99 of rounds", "ms").kipina(ack_p99),
        Row::new("storm", &case, "totals exact", "rounds")
            .kipina(Stats { median: figures.len() as f64, p99: figures.len() as f64, samples: figures.len() })
            .target(
                format!("every round exact, 0 resyncs ({resyncs})"),
                resyncs == 0 && figures.iter().all(|round| round.totals_exact),
            ),
    ];
    let details = json!({ "options": options, "board": BoardId::to_string(&board), "rounds": figures });
    Ok(Section { benchmark: "storm", rows, details })
}

async fn read_view(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<BoardView> {
    let response = http.get(url).bearer_auth(token).send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "GET {url} was answered {status}: {text}");
    serde_json::from_str(&text).map_err(|error| anyhow!("the board's view: {error}"))
}
