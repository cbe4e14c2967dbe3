//! One task per board owns its state, executes its commands, and fans out every change. It is
//! reached through a cloneable [`BoardHandle`] over a bounded channel.
//!
//! Commands are decided in batches: the task takes every command waiting in its queue (at most
//! [`MAX_BATCH`], up to the first request of another kind), decides each against the state the
//! ones before it left, appends their events as one group (one sync), and only then sends one
//! `changed` for the whole batch to each viewer and answers every sender, in queue order. The
//! answers are those of executing the commands one at a time in queue order; see
//! `docs/adr/0004-a-board-decides-in-batches.md`. While a batch waits for its sync, the next
//! one queues up.
//!
//! Fan-out never waits on a client: each connection has a bounded outbox, and a connection
//! whose outbox is full is dropped from the board and told to resync (it resumes from the last
//! sequence number it saw). A change is encoded once and the same bytes go to every outbox.
//! An event is fanned out only after the store has made it durable.
//!
//! Presence is coalesced: a newcomer gets it at once, as the end of its opening messages, but
//! everyone else gets one `presence` per [`PRESENCE_INTERVAL`] at most, however many come and
//! go. Otherwise a reconnect storm of N clients sends N presence lists of N people to each of N
//! clients (about 40 GB for 300 clients reconnecting 20 times), and fills the outboxes it is
//! meant to survive.

use super::changes::ChangeSet;
use super::{Clock, ConnectionId, Kicked, Outbox, error_body, history_failure};
use crate::access::Bucket;
use crate::engine::{Batch, Engine, ExecuteError, Executed, Submitted};
use crate::metrics::{LetGo, Metrics};
use crate::projection::views::{Viewer, board_view};
use crate::store::EventStore;
use bytestring::ByteString;
use kipina_domain::{BoardState, Context, Event, Fact};
use kipina_proto::ErrorCode;
use kipina_proto::api::ErrorBody;
use kipina_proto::view::BoardView;
use kipina_proto::{AckOutcome, BoardId, Change, Command, CommandId, ParticipantId, Role, ServerMessage};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Requests a board's task takes, at most this many waiting.
const QUEUE: usize = 1_024;
/// A client further behind than this gets a snapshot instead of the changes it missed.
pub const MAX_CATCH_UP: u64 = 1_000;
/// The most commands a board decides together, with one append group and one `changed`.
pub const MAX_BATCH: usize = 1024;
/// At most one presence broadcast per this long; see the module docs.
pub const PRESENCE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Where a command's answer goes.
#[derive(Debug)]
pub enum Respond {
    /// Into the connection's outbox, after the change it caused (so `changed` precedes `ack`).
    Connection(ConnectionId),
    /// Back to an HTTP handler.
    Reply(oneshot::Sender<Result<AckOutcome, ErrorBody>>),
}

/// A command waiting for its board.
#[derive(Debug)]
struct Submission {
    actor: ParticipantId,
    command_id: CommandId,
    command: Command,
    respond: Respond,
    /// When it was queued, for the append latency.
    queued: Instant,
}

#[derive(Debug)]
enum Request {
    Execute(Submission),
    Subscribe {
        connection: ConnectionId,
        viewer: Viewer,
        last_seq: Option<u64>,
        outbox: Outbox,
        reply: oneshot::Sender<Result<Role, ErrorBody>>,
    },
    Unsubscribe {
        connection: ConnectionId,
    },
    View {
        viewer: Viewer,
        reply: oneshot::Sender<Option<(BoardView, Option<Role>)>>,
    },
    Inspect(Inspection),
}

/// A read of the board's current state, run on the board's task between two batches.
struct Inspection(Box<dyn FnOnce(&BoardState) + Send>);

impl std::fmt::Debug for Inspection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Inspection")
    }
}

/// A cloneable way to reach a board's task.
#[derive(Clone, Debug)]
pub struct BoardHandle {
    board: BoardId,
    requests: mpsc::Sender<Request>,
}

fn rate_limited() -> ErrorBody {
    ErrorBody { code: ErrorCode::RateLimited, message: "too many commands; slow down and send it again".into() }
}

fn gone() -> ErrorBody {
    ErrorBody { code: ErrorCode::Unavailable, message: "the board is not available right now; try again".into() }
}

impl BoardHandle {
    pub fn board(&self) -> BoardId {
        self.board
    }

    /// Whether the board's task has stopped (it is then started again on next use).
    pub fn is_closed(&self) -> bool {
        self.requests.is_closed()
    }

    /// Executes a command and waits for its answer (for HTTP).
    pub async fn execute(
        &self,
        actor: ParticipantId,
        command_id: CommandId,
        command: Command,
    ) -> Result<AckOutcome, ErrorBody> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Execute(Submission {
            actor,
            command_id,
            command,
            respond: Respond::Reply(reply),
            queued: Instant::now(),
        });
        self.requests.send(request).await.map_err(|_| gone())?;
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Sends a command whose answer goes into the connection's outbox.
    pub async fn execute_for(
        &self,
        connection: ConnectionId,
        actor: ParticipantId,
        command_id: CommandId,
        command: Command,
    ) -> Result<(), ErrorBody> {
        let request = Request::Execute(Submission {
            actor,
            command_id,
            command,
            respond: Respond::Connection(connection),
            queued: Instant::now(),
        });
        self.requests.send(request).await.map_err(|_| gone())
    }

    /// Adds a connection to the board's fan-out; its first messages (welcome, snapshot or the
    /// missed changes, presence) are put into `outbox`. Answers the viewer's role.
    pub async fn subscribe(
        &self,
        connection: ConnectionId,
        viewer: Viewer,
        last_seq: Option<u64>,
        outbox: Outbox,
    ) -> Result<Role, ErrorBody> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Subscribe { connection, viewer, last_seq, outbox, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Removes a connection from the fan-out. Never waits: a full queue means the task is
    /// busy, and it notices closed outboxes when it next writes to them.
    pub fn unsubscribe(&self, connection: ConnectionId) {
        let _ = self.requests.try_send(Request::Unsubscribe { connection });
    }

    /// The whole board as of now as `viewer` sees it, and the role of the participant looking if
    /// they can still act on it (one who cannot is shown what an observer sees).
    pub async fn view(&self, viewer: Viewer) -> Result<(BoardView, Option<Role>), ErrorBody> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::View { viewer, reply }).await.map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .ok_or_else(|| ErrorBody { code: ErrorCode::BoardNotFound, message: "no such board".into() })
    }

    /// Runs `read` on the board's current state (on the board's task, between two batches) and
    /// returns what it computed. For queries over the live state (search, activity, role checks);
    /// keep `read` short, since the board's commands wait meanwhile.
    pub async fn inspect<R: Send + 'static>(
        &self,
        read: impl FnOnce(&BoardState) -> R + Send + 'static,
    ) -> Result<R, ErrorBody> {
        let (reply, answer) = oneshot::channel();
        let inspection = Inspection(Box::new(move |state| {
            let _ = reply.send(read(state));
        }));
        self.requests.send(Request::Inspect(inspection)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())
    }
}

struct Subscriber {
    viewer: Viewer,
    outbox: Outbox,
}

struct BoardTask {
    board: BoardId,
    /// Each participant's command rate, over all their connections and HTTP.
    rates: HashMap<ParticipantId, Bucket>,
    max_commands_per_second: u32,
    engine: Engine,
    state: BoardState,
    subscribers: BTreeMap<ConnectionId, Subscriber>,
    metrics: Arc<Metrics>,
    /// The time commands are decided at.
    clock: Clock,
    /// When the next presence broadcast is due, if someone came or went since the last one.
    presence_due: Option<tokio::time::Instant>,
    /// When the last presence broadcast went out.
    presence_sent: tokio::time::Instant,
}

/// Starts the task of `board`, whose state (loaded from the log, or empty for a new board) is
/// `state`.
pub fn spawn(
    board: BoardId,
    engine: Engine,
    state: BoardState,
    metrics: Arc<Metrics>,
    max_commands_per_second: u32,
    clock: Clock,
) -> BoardHandle {
    let (requests, inbox) = mpsc::channel(QUEUE);
    let task = BoardTask {
        board,
        rates: HashMap::new(),
        max_commands_per_second,
        engine,
        state,
        subscribers: BTreeMap::new(),
        metrics,
        clock,
        presence_due: None,
        presence_sent: tokio::time::Instant::now(),
    };
    actix_web::rt::spawn(task.run(inbox));
    BoardHandle { board, requests }
}

use crate::clock::now;

/// Whether a fact takes someone off the board (erased, or removed by a facilitator), so their
/// connections are closed before the change goes out.
fn lets_go(fact: &Fact) -> bool {
    matches!(fact.event, Event::ParticipantErased { .. } | Event::ParticipantRemoved { .. })
}

/// An encoded `changed` with `extra` changes after its own: the same bytes as encoding the
/// message with both lists, without encoding the first list again (`nothing_shared` says it is
/// empty). `None` if `changed` does not end with its list of changes.
fn extended(changed: &str, nothing_shared: bool, extra: &[Change]) -> Option<ByteString> {
    if extra.is_empty() {
        return Some(ByteString::from(changed));
    }
    // `{"type":"changed",…,"changes":[…]}`: `changes` is the message's last field.
    let open = changed.strip_suffix("]}")?;
    let list = serde_json::to_string(extra).ok()?;
    let items = list.strip_prefix('[')?.strip_suffix(']')?;
    let separator = if nothing_shared { "" } else { "," };
    Some(ByteString::from(format!("{open}{separator}{items}]}}")))
}

/// Encodes a message once; clones of the result share the same bytes.
pub fn encode(message: &ServerMessage) -> ByteString {
    // A `ServerMessage` is plain data; serialising it cannot fail.
    ByteString::from(serde_json::to_string(message).unwrap_or_default())
}

impl BoardTask {
    async fn run(mut self, mut inbox: mpsc::Receiver<Request>) {
        // A request taken from the queue while gathering a batch, to be handled right after it.
        let mut held: Option<Request> = None;
        loop {
            let request = match held.take() {
                Some(request) => request,
                None => {
                    let request = match self.presence_due {
                        Some(due) => tokio::select! {
                            request = inbox.recv() => request,
                            () = tokio::time::sleep_until(due) => {
                                self.broadcast_presence();
                                continue;
                            }
                        },
                        None => inbox.recv().await,
                    };
                    let Some(request) = request else { break };
                    request
                }
            };
            match request {
                Request::Execute(submission) => {
                    // Every command waiting behind this one, up to the first other request. (A
                    // connection has at most `connection::MAX_UNANSWERED` of its own among them.)
                    let mut batch = vec![submission];
                    while batch.len() < MAX_BATCH {
                        match inbox.try_recv() {
                            Ok(Request::Execute(submission)) => batch.push(submission),
                            // Leaving needs no state, so it does not end the batch.
                            Ok(Request::Unsubscribe { connection }) => self.unsubscribe(connection),
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if !self.execute(batch).await {
                        // The state is no longer the board's (everyone was let go): the next use
                        // of the board loads it again.
                        break;
                    }
                }
                Request::Subscribe { connection, viewer, last_seq, outbox, reply } => {
                    let _ = reply.send(self.subscribe(connection, viewer, last_seq, outbox));
                }
                Request::Unsubscribe { connection } => self.unsubscribe(connection),
                Request::View { viewer, reply } => {
                    let role = viewer
                        .participant()
                        .and_then(|participant| self.state.active_participant(participant))
                        .map(|found| found.role);
                    let viewer = if role.is_some() { viewer } else { Viewer::Observer };
                    let _ = reply.send(board_view(self.board, &self.state, viewer).map(|view| (view, role)));
                }
                Request::Inspect(Inspection(read)) => read(&self.state),
            }
        }
    }

    /// Executes a batch of commands (see the module docs): rate limits, one append group, one
    /// `changed` per viewer, then every answer in queue order. Returns false when the task's
    /// state could not be kept the board's.
    async fn execute(&mut self, submissions: Vec<Submission>) -> bool {
        let started = Instant::now();
        // One time for the whole batch: its commands are decided at the same moment.
        let at = (self.clock)();
        let rate = self.max_commands_per_second;
        let before = self.state.version;
        let mut answers: Vec<Option<Result<AckOutcome, ErrorBody>>> = Vec::with_capacity(submissions.len());
        let mut senders = Vec::with_capacity(submissions.len());
        let mut commands = Vec::with_capacity(submissions.len());
        for Submission { actor, command_id, command, respond, queued } in submissions {
            // Creating a board and joining it are limited where they start (wrong guesses per
            // address); the command rate is what a participant does once on the board. A limited
            // command is answered and changes nothing; the others are decided as if it were not there.
            let limited = !matches!(command, Command::CreateBoard { .. } | Command::Join { .. });
            let allowed =
                !limited || self.rates.entry(actor).or_insert_with(|| Bucket::new(rate, started)).allow(started);
            if allowed {
                commands.push(Submitted { command_id, context: Context { actor, at }, command });
                answers.push(None);
            } else {
                answers.push(Some(Err(rate_limited())));
            }
            senders.push((command_id, respond, queued));
        }

        // What the batch's facts touched, and whether one of them let someone go, collected as
        // each command's facts are folded (used only if every planned fact came to be).
        let mut changes = ChangeSet::default();
        let mut departed = false;
        let mut batch = Batch::new(commands);
        while batch.is_open() {
            let requests = self.engine.plan(self.board, &mut self.state, &mut batch, &mut |state, facts| {
                for fact in facts {
                    departed |= lets_go(fact);
                    changes.add(state, fact);
                }
            });
            let mut outcomes = Vec::with_capacity(requests.len());
            for ticket in self.engine.store().append_all(requests) {
                outcomes.push(ticket.await);
            }
            self.engine.settle(self.board, &mut self.state, &mut batch, outcomes);
        }
        let lost = batch.lost().is_some();
        let reloaded = batch.reloaded();
        let mut executed = batch.into_answers().into_iter();
        for (answer, (command_id, _, queued)) in answers.iter_mut().zip(&senders) {
            if answer.is_some() {
                continue;
            }
            let result = executed.next().unwrap_or(Err(ExecuteError::Contended));
            if let Ok(Executed::Appended { facts, .. }) = &result {
                self.metrics.append_latency.observe(queued.elapsed().as_secs_f64());
                self.metrics.events_appended.inc_by(facts.len() as u64);
            }
            *answer = Some(self.outcome(*command_id, result));
        }
        if lost {
            // Nothing of this batch goes out as a change, so no connection may hear an answer
            // first: they are let go (and resync); HTTP callers get theirs.
            self.let_everyone_go();
            self.answer(answers, senders);
            return false;
        }

        let head = self.state.version;
        if head > before {
            if reloaded {
                // Not every planned fact came to be (an append failed): what this batch made
                // durable is read back from the log, as a resuming client would be sent it.
                match self.engine.history(self.board, before + 1, head) {
                    Ok(facts) => {
                        changes = ChangeSet::default();
                        departed = facts.iter().any(lets_go);
                        for fact in &facts {
                            changes.add_caught_up(&self.state, fact);
                        }
                    }
                    Err(error) => {
                        let _ = history_failure(&self.engine, self.board, &error);
                        self.let_everyone_go();
                        self.answer(answers, senders);
                        return false;
                    }
                }
            }
            if departed {
                // Before the change goes out: an erased or removed participant hears nothing more.
                self.let_go_of_departed();
            }
            self.broadcast_changes(before + 1, head, &changes);
        }
        self.answer(answers, senders);
        true
    }

    /// A command's answer, counted.
    fn outcome(&self, command_id: CommandId, result: Result<Executed, ExecuteError>) -> Result<AckOutcome, ErrorBody> {
        match result {
            Ok(Executed::Appended { first, last, .. }) => {
                self.metrics.command("applied");
                Ok(AckOutcome::Applied { first_seq: first, last_seq: last })
            }
            Ok(Executed::AlreadyAppended { first, last }) => {
                self.metrics.command("duplicate");
                Ok(AckOutcome::Duplicate { first_seq: first, last_seq: last })
            }
            Ok(Executed::Unchanged) => {
                self.metrics.command("unchanged");
                Ok(AckOutcome::Unchanged)
            }
            Err(error) => {
                self.metrics.command("refused");
                if !matches!(error, ExecuteError::Refused(_)) {
                    tracing::error!(board = %self.board, %command_id, error = %error, "command failed");
                }
                Err(error_body(&error))
            }
        }
    }

    /// Sends every answer of a batch, in queue order: over HTTP, or into the connection's outbox
    /// (after the batch's `changed`, which is already there).
    fn answer(
        &mut self,
        answers: Vec<Option<Result<AckOutcome, ErrorBody>>>,
        senders: Vec<(CommandId, Respond, Instant)>,
    ) {
        for (answer, (command_id, respond, _)) in answers.into_iter().zip(senders) {
            let answer = answer.unwrap_or_else(|| Err(gone()));
            match respond {
                Respond::Reply(reply) => {
                    let _ = reply.send(answer);
                }
                Respond::Connection(connection) => {
                    let message = match answer {
                        Ok(outcome) => ServerMessage::Ack { command_id, outcome },
                        Err(ErrorBody { code, message }) => {
                            ServerMessage::Error { command_id: Some(command_id), code, message }
                        }
                    };
                    if let Some(subscriber) = self.subscribers.get(&connection) {
                        subscriber.outbox.answered.fetch_add(1, std::sync::atomic::Ordering::Release);
                    }
                    self.send_to(connection, encode(&message));
                }
            }
        }
    }

    fn subscribe(
        &mut self,
        connection: ConnectionId,
        viewer: Viewer,
        last_seq: Option<u64>,
        outbox: Outbox,
    ) -> Result<Role, ErrorBody> {
        let unauthorized = || ErrorBody {
            code: ErrorCode::Unauthorized,
            message: "this token does not give access to this board".into(),
        };
        let role = match viewer {
            Viewer::Observer => Role::Observer,
            Viewer::Participant(participant) => {
                self.state.active_participant(participant).ok_or_else(unauthorized)?.role
            }
        };
        let you = viewer.participant();
        let mut first = vec![encode(&ServerMessage::Welcome { board: self.board, you, role, server_time: now() })];
        let head = self.state.version;
        match last_seq {
            Some(seen) if seen <= head && head - seen <= MAX_CATCH_UP => {
                if seen < head {
                    let facts = self
                        .engine
                        .history(self.board, seen + 1, head)
                        .map_err(|error| history_failure(&self.engine, self.board, &error))?;
                    let mut changes = ChangeSet::default();
                    for fact in &facts {
                        changes.add_caught_up(&self.state, fact);
                    }
                    first.push(encode(&ServerMessage::Changed {
                        first_seq: seen + 1,
                        last_seq: head,
                        changes: changes.render(&self.state, viewer),
                    }));
                }
            }
            _ => {
                if let Some(board) = board_view(self.board, &self.state, viewer) {
                    first.push(encode(&ServerMessage::Snapshot { board: Box::new(board) }));
                }
            }
        }
        self.subscribers.insert(connection, Subscriber { viewer, outbox });
        // The newcomer's opening messages end with presence, which already counts it; the
        // others hear of it with the next coalesced broadcast.
        first.push(self.presence());
        let outbox = &self.subscribers[&connection].outbox;
        for message in first {
            if outbox.messages.try_send(message).is_err() {
                self.subscribers.remove(&connection);
                return Err(gone());
            }
        }
        self.presence_changed();
        Ok(role)
    }

    /// Sends what events `first..=last` changed to every subscriber: the same bytes to all who
    /// see it alike, a view of their own to those who see it differently (their own hidden dots,
    /// their own anonymous cards).
    fn broadcast_changes(&mut self, first: u64, last: u64, changes: &ChangeSet) {
        // What an observer is sent is what everyone outside `personal` is sent.
        let shared_changes = changes.render(&self.state, Viewer::Observer);
        let nothing_shared = shared_changes.is_empty();
        let shared = encode(&ServerMessage::Changed { first_seq: first, last_seq: last, changes: shared_changes });
        let personal = changes.personal_viewers(&self.state);
        if personal.is_empty() {
            self.broadcast(&shared);
            return;
        }
        // Most personal viewers (each voter of a batch, say) see the shared changes as everyone
        // does and have a few of their own on top: theirs is the shared message with those
        // appended, not a rendering of everything again.
        let of_their_own = changes.viewers_of_their_own(&self.state);
        let render = |participant: ParticipantId| {
            if !of_their_own.contains(&participant)
                && let Some(message) =
                    extended(&shared, nothing_shared, &changes.render_private(&self.state, participant))
            {
                return message;
            }
            encode(&ServerMessage::Changed {
                first_seq: first,
                last_seq: last,
                changes: changes.render(&self.state, Viewer::Participant(participant)),
            })
        };
        let mut own: BTreeMap<ParticipantId, ByteString> = BTreeMap::new();
        let mut dropped = Vec::new();
        for (connection, subscriber) in &self.subscribers {
            let message = match subscriber.viewer {
                Viewer::Participant(participant) if personal.contains(&participant) => {
                    own.entry(participant).or_insert_with(|| render(participant)).clone()
                }
                _ => shared.clone(),
            };
            if subscriber.outbox.messages.try_send(message).is_err() {
                dropped.push(*connection);
            }
        }
        if !dropped.is_empty() {
            self.drop_subscribers(&dropped);
        }
    }

    /// Someone came or went: schedules a presence broadcast, unless one is already due.
    fn presence_changed(&mut self) {
        if self.presence_due.is_none() {
            // The first change after a quiet spell goes out at once; a burst waits its turn.
            self.presence_due = Some(self.presence_sent + PRESENCE_INTERVAL);
        }
    }

    /// Who is online now, encoded.
    fn presence(&self) -> ByteString {
        let mut online: Vec<ParticipantId> = Vec::new();
        let mut observers = 0u32;
        for subscriber in self.subscribers.values() {
            match subscriber.viewer {
                Viewer::Participant(participant) => online.push(participant),
                Viewer::Observer => observers += 1,
            }
        }
        online.sort();
        online.dedup();
        encode(&ServerMessage::Presence { online, observers })
    }

    fn broadcast_presence(&mut self) {
        self.presence_due = None;
        self.presence_sent = tokio::time::Instant::now();
        let presence = self.presence();
        self.broadcast(&presence);
    }

    /// Puts the same bytes into every outbox without waiting; connections whose outbox is full
    /// or closed are dropped (and told to resync, if they are still there).
    fn broadcast(&mut self, message: &ByteString) {
        let mut dropped = Vec::new();
        for (connection, subscriber) in &self.subscribers {
            if subscriber.outbox.messages.try_send(message.clone()).is_err() {
                dropped.push(*connection);
            }
        }
        if !dropped.is_empty() {
            self.drop_subscribers(&dropped);
        }
    }

    fn send_to(&mut self, connection: ConnectionId, message: ByteString) {
        let Some(subscriber) = self.subscribers.get(&connection) else { return };
        if subscriber.outbox.messages.try_send(message).is_err() {
            self.drop_subscribers(&[connection]);
        }
    }

    fn drop_subscribers(&mut self, connections: &[ConnectionId]) {
        for connection in connections {
            if let Some(subscriber) = self.subscribers.remove(connection) {
                if !subscriber.outbox.messages.is_closed() {
                    self.metrics.fanout_drops.inc();
                    self.metrics.let_go(LetGo::FellBehind);
                    tracing::warn!(board = %self.board, connection, "dropping a connection that fell behind");
                }
                subscriber.outbox.kicked.kick(Kicked::FellBehind);
            }
        }
        self.presence_changed();
    }

    fn unsubscribe(&mut self, connection: ConnectionId) {
        if self.subscribers.remove(&connection).is_some() {
            self.presence_changed();
        }
    }

    /// Lets every connection go and tells it to resync: the task is stopping because its state
    /// could not be kept the board's, and the board is loaded again when next used.
    fn let_everyone_go(&mut self) {
        for (_, subscriber) in std::mem::take(&mut self.subscribers) {
            subscriber.outbox.kicked.kick(Kicked::FellBehind);
        }
    }

    /// Closes the connections of participants who are no longer on the board (erased, or removed
    /// by a facilitator): their token stopped working, and so does every socket they opened before.
    fn let_go_of_departed(&mut self) {
        let gone: Vec<(ConnectionId, Kicked)> = self
            .subscribers
            .iter()
            .filter_map(|(connection, subscriber)| match subscriber.viewer {
                Viewer::Participant(participant) if self.state.active_participant(participant).is_none() => {
                    let erased = self.state.participants.get(&participant).is_none_or(|found| found.erased);
                    Some((*connection, if erased { Kicked::Erased } else { Kicked::Removed }))
                }
                Viewer::Participant(_) | Viewer::Observer => None,
            })
            .collect();
        for (connection, why) in &gone {
            if let Some(subscriber) = self.subscribers.remove(connection) {
                tracing::info!(board = %self.board, connection, ?why, "closing a connection of a participant who left the board");
                subscriber.outbox.kicked.kick(*why);
            }
        }
        if !gone.is_empty() {
            self.presence_changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kipina_proto::ColumnId;
    use uuid::Uuid;

    fn order(ids: &[u128]) -> Change {
        Change::ColumnOrder(ids.iter().map(|id| ColumnId(Uuid::from_u128(*id))).collect())
    }

    fn changed(changes: Vec<Change>) -> ServerMessage {
        ServerMessage::Changed { first_seq: 7, last_seq: 9, changes }
    }

    #[test]
    fn a_change_extended_with_a_viewers_own_is_the_message_with_both_lists() {
        for shared in [vec![], vec![order(&[1])], vec![order(&[1, 2]), order(&[3])]] {
            for extra in [vec![], vec![order(&[4])], vec![order(&[5]), order(&[6, 7])]] {
                let encoded = encode(&changed(shared.clone()));
                let both = encode(&changed(shared.iter().chain(&extra).cloned().collect()));
                assert_eq!(extended(&encoded, shared.is_empty(), &extra), Some(both), "{shared:?} + {extra:?}");
            }
        }
    }

    #[test]
    fn a_message_not_ending_with_its_changes_is_not_extended() {
        let welcome = encode(&ServerMessage::Pong);
        assert_eq!(extended(&welcome, true, &[order(&[1])]), None);
    }
}
