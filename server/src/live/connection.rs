//! One WebSocket connection: reads client messages, forwards commands to the board's task,
//! answers what it can itself, pings, and notices a silent or lagging client. What the board
//! puts into the connection's outbox is written by the response body (`frames`), not here.
//!
//! Everything a client sends is checked here before it reaches the board: the message must be
//! JSON of a known shape, and commands need a subscription and a role that may write. (The
//! command rate is limited per participant by the board, over all their connections.) A bad message gets an error code and the connection
//! stays; only a frame that cannot be read (too large) or a bad token closes it.

use super::frames::{Link, Own};
use super::{BoardHandle, Boards, ConnectionId, Kick, Kicked, OUTBOX_CAPACITY, Outbox, encode};
use crate::access::AccessStore;
use crate::metrics::LetGo;
use crate::projection::views::Viewer;
use actix_ws::{AggregatedMessage as Message, CloseCode, CloseReason, MessageStream, ProtocolError};
use futures_util::StreamExt;
use kipina_proto::ErrorCode;
use kipina_proto::{ClientMessage, CommandId, Role, ServerMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

/// The words of `shutting_down`.
pub const SHUTTING_DOWN: &str = "the server is stopping; nothing was changed, send it again once reconnected";

/// The largest message a client may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The most commands of one connection the board may hold unanswered. A connection with this
/// many reads nothing more from its client until answers come back (the client's writes then
/// wait in TCP), so a client that sends many commands at once is slowed down, not taken for one
/// that fell behind: its own answers never fill its outbox.
pub const MAX_UNANSWERED: u64 = 32;

/// A connection also stops reading while this many messages wait in its outbox: they are
/// written first.
const OUTBOX_READ_LIMIT: usize = OUTBOX_CAPACITY / 4;

/// What a connection needs from the server.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub heartbeat_interval: Duration,
    pub client_timeout: Duration,
}

struct Connection {
    id: ConnectionId,
    board: BoardHandle,
    access: Arc<AccessStore>,
    /// The connection's own frames (see `frames`).
    own: mpsc::Sender<Own>,
    viewer: Option<Viewer>,
    role: Option<Role>,
    outbox: mpsc::Sender<bytestring::ByteString>,
    kicked: Arc<Kick>,
    /// Commands handed to the board, and (counted by the board) the answers it put into the outbox.
    submitted: u64,
    answered: Arc<AtomicU64>,
    /// The server is stopping: commands are no longer taken.
    stopping: tokio::sync::watch::Receiver<bool>,
    /// Called once a participant's token is accepted, before the snapshot is sent: the client's address
    /// has opened the board.
    opened: Box<dyn Fn()>,
    /// How long a write may wait for a client to read.
    write_timeout: Duration,
    /// An answer of its own (an error, a pong) could not be written within `write_timeout`: the
    /// client stopped reading, and the connection ends.
    stalled: bool,
}

/// Runs a connection until either side closes it.
pub async fn run(
    boards: Arc<Boards>,
    access: Arc<AccessStore>,
    board: BoardHandle,
    link: Link,
    stream: MessageStream,
    settings: ConnectionSettings,
    opened: Box<dyn Fn()>,
) {
    let id = boards.next_connection_id();
    let span = tracing::info_span!("connection", board = %board.board(), connection = id);
    run_connection(id, Parts { boards, access, board, link, opened }, stream, settings).instrument(span).await;
}

/// What a connection is made of besides its stream and settings.
struct Parts {
    boards: Arc<Boards>,
    access: Arc<AccessStore>,
    board: BoardHandle,
    link: Link,
    opened: Box<dyn Fn()>,
}

async fn run_connection(id: ConnectionId, parts: Parts, stream: MessageStream, settings: ConnectionSettings) {
    let Parts { boards, access, board, link, opened } = parts;
    let Link { outbox, own, written } = link;
    let metrics = Arc::clone(boards.metrics());
    metrics.connections.inc();
    let write_timeout = settings.heartbeat_interval.min(settings.client_timeout);
    let mut connection = Connection {
        id,
        board,
        access,
        own,
        viewer: None,
        role: None,
        outbox,
        kicked: Arc::new(Kick::default()),
        submitted: 0,
        answered: Arc::new(AtomicU64::new(0)),
        stopping: boards.stopping(),
        opened,
        write_timeout,
        stalled: false,
    };
    let mut stream =
        stream.max_frame_size(MAX_MESSAGE_BYTES).aggregate_continuations().max_continuation_size(MAX_MESSAGE_BYTES);
    let mut heartbeat = tokio::time::interval(settings.heartbeat_interval);
    let mut last_heard = Instant::now();
    let kick = Arc::clone(&connection.kicked);
    let mut stopping = boards.stopping();
    // Made once, not at every turn of the loop: each turn (each message read) would otherwise
    // register with the kick's and the stop's notifications again.
    let kicked = kick.kicked();
    tokio::pin!(kicked);
    let stop_requested = stopping.wait_for(|stopping| *stopping);
    tokio::pin!(stop_requested);
    let not_reading = || {
        metrics.let_go(LetGo::NotReading);
        CloseReason { code: CloseCode::Away, description: Some("not reading".into()) }
    };
    let mut reading = true;
    // The frames written by the last heartbeat, if frames were waiting to be written then.
    let mut waiting_since: Option<u64> = None;
    let close: Option<CloseReason> = loop {
        let may_read = connection.may_read();
        if reading && !may_read {
            metrics.reads_held_back.inc();
        }
        reading = may_read;
        tokio::select! {
            _ = &mut stop_requested => {
                // What the board already put in the outbox (the changes and answers of commands
                // that finished) is written before the closing frame (see `frames`).
                break Some(CloseReason { code: CloseCode::Away, description: Some("the server is stopping; reconnect in a moment".into()) });
            }
            message = stream.next(), if reading => {
                match message {
                    None => break None,
                    Some(Ok(message)) => {
                        last_heard = Instant::now();
                        match message {
                            Message::Text(text) => {
                                if let Some(reason) = connection.on_text(&text).await {
                                    break Some(reason);
                                }
                            }
                            Message::Binary(_) => connection.error(None, ErrorCode::Malformed, "messages are JSON text, not binary").await,
                            Message::Ping(bytes) => connection.write(Own::Pong(bytes)).await,
                            Message::Close(reason) => break reason,
                            Message::Pong(_) => {}
                        }
                        if connection.stalled {
                            tracing::debug!("closing a connection that sends but does not read");
                            break Some(not_reading());
                        }
                    }
                    Some(Err(error)) if is_too_large(&error) => {
                        connection.error(None, ErrorCode::TooLarge, "a message may be at most 64 KiB").await;
                        break Some(CloseReason { code: CloseCode::Size, description: Some("message too large".into()) });
                    }
                    Some(Err(ProtocolError::Io(error))) if error.kind() == std::io::ErrorKind::InvalidData => {
                        // RFC 6455 7.4.1: 1007 for a text message that is not UTF-8.
                        connection.error(None, ErrorCode::Malformed, "a text message must be UTF-8").await;
                        break Some(CloseReason { code: CloseCode::Invalid, description: Some("text is not UTF-8".into()) });
                    }
                    Some(Err(error)) => {
                        tracing::debug!(%error, "protocol error");
                        break Some(CloseReason { code: CloseCode::Protocol, description: None });
                    }
                }
            }
            _ = written.more(), if !reading => {
                // Frames were written: the outbox may have room again, or answers came back.
            }
            why = &mut kicked => match why {
                Kicked::FellBehind => {
                    let resync = ServerMessage::Resync { reason: "this connection fell behind; reconnect and resume".into() };
                    // A client that fell behind may have stopped reading altogether: its socket is
                    // full, and this write must not wait for it for ever.
                    connection.write(Own::Text(encode(&resync))).await;
                    break Some(CloseReason { code: CloseCode::Again, description: Some("fell behind".into()) });
                }
                Kicked::Erased => {
                    let erased = ServerMessage::Error {
                        command_id: None,
                        code: ErrorCode::ParticipantErased,
                        message: "this participant was erased from the board; the token no longer gives access".into(),
                    };
                    connection.write(Own::Text(encode(&erased))).await;
                    break Some(CloseReason { code: CloseCode::Other(4001), description: Some("unauthorized".into()) });
                }
                Kicked::Removed => {
                    let removed = ServerMessage::Error {
                        command_id: None,
                        code: ErrorCode::ParticipantRemoved,
                        message: "a facilitator removed this participant from the board; the token no longer gives access"
                            .into(),
                    };
                    connection.write(Own::Text(encode(&removed))).await;
                    break Some(CloseReason { code: CloseCode::Other(4001), description: Some("unauthorized".into()) });
                }
            },
            _ = heartbeat.tick() => {
                if !reading {
                    // Not reading is the server's choice here, not the client's silence.
                    last_heard = Instant::now();
                }
                if last_heard.elapsed() > settings.client_timeout {
                    tracing::debug!("closing a silent connection");
                    metrics.let_go(LetGo::Silent);
                    break Some(CloseReason { code: CloseCode::Away, description: Some("no heartbeat".into()) });
                }
                // Frames waited a whole heartbeat and not one was written: the client stopped
                // reading (its socket and the server's buffer are full).
                let written_now = written.count();
                let own_waiting = connection.own.capacity() < connection.own.max_capacity();
                let waiting = own_waiting || connection.queued() > 0 || written.holding();
                if waiting && waiting_since == Some(written_now) {
                    tracing::debug!("closing a connection that stopped reading");
                    break Some(not_reading());
                }
                waiting_since = waiting.then_some(written_now);
                // A ping while an earlier frame of the connection's own still waits would tell
                // nothing more; the client's silence is what lets such a connection go.
                if !own_waiting && connection.own.try_send(Own::Ping).is_err() {
                    break None;
                }
            }
        }
    };
    connection.board.unsubscribe(connection.id);
    metrics.connections.dec();
    // Closing politely needs the client to read; a client that does not is simply let go.
    let _ = tokio::time::timeout(write_timeout, connection.own.send(Own::Close(close))).await;
}

/// Whether a read failed because a message was over the size limit: one frame too large
/// (`Overflow`), or fragments adding up to too much (reported by actix-ws as an I/O error).
fn is_too_large(error: &ProtocolError) -> bool {
    match error {
        ProtocolError::Overflow => true,
        ProtocolError::Io(io) => io.to_string().contains("maximum continuation size"),
        _ => false,
    }
}

/// The `type` values a client may send.
const KNOWN_TYPES: [&str; 3] = ["subscribe", "command", "ping"];

/// Why a text message is not a client message: the code and words sent back, and the command id
/// when one could be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub command_id: Option<CommandId>,
    pub code: ErrorCode,
    pub message: String,
}

/// Reads one text message from a client. Parsed in two steps so a well-formed message of an
/// unknown type gets its own code (`unknown_message`) and everything else that is not a client
/// message is `malformed`. Pure, and the fuzzing target for everything a browser can send.
pub fn decode_client_message(text: &str) -> Result<ClientMessage, Refusal> {
    let malformed = |command_id, message: String| Refusal { command_id, code: ErrorCode::Malformed, message };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| malformed(None, format!("not valid JSON: {error}")))?;
    match value.get("type").and_then(serde_json::Value::as_str) {
        Some(kind) if KNOWN_TYPES.contains(&kind) => {}
        Some(kind) => {
            return Err(Refusal {
                command_id: None,
                code: ErrorCode::UnknownMessage,
                message: format!("unknown message type {kind:?}"),
            });
        }
        None => return Err(malformed(None, "a message needs a string field \"type\"".into())),
    }
    let command_id = value.get("command_id").and_then(|id| serde_json::from_value::<CommandId>(id.clone()).ok());
    serde_json::from_value(value).map_err(|error| malformed(command_id, format!("invalid message: {error}")))
}

impl Connection {
    /// Whether to read the client's next message now: not while the board holds
    /// `MAX_UNANSWERED` of its commands, nor while the outbox is filling faster than it is
    /// written. Either ends with a message put into the outbox and written, which wakes the
    /// connection (`Written::more`).
    fn may_read(&self) -> bool {
        let unanswered = self.submitted.saturating_sub(self.answered.load(Ordering::Acquire));
        unanswered < MAX_UNANSWERED && self.queued() < OUTBOX_READ_LIMIT
    }

    /// The messages waiting in the outbox.
    fn queued(&self) -> usize {
        self.outbox.max_capacity() - self.outbox.capacity()
    }

    /// Writes a frame of the connection's own. A client that sends but does not read would have
    /// this wait for ever (and the heartbeat with it), so it waits `write_timeout` at most and
    /// then marks the connection to be closed.
    async fn write(&mut self, frame: Own) {
        if tokio::time::timeout(self.write_timeout, self.own.send(frame)).await.is_err() {
            self.stalled = true;
        }
    }

    async fn send(&mut self, message: &ServerMessage) {
        self.write(Own::Text(encode(message))).await;
    }

    async fn error(&mut self, command_id: Option<CommandId>, code: ErrorCode, message: &str) {
        self.send(&ServerMessage::Error { command_id, code, message: message.into() }).await;
    }

    /// Handles one text message; returns a close reason when the connection must end.
    async fn on_text(&mut self, text: &str) -> Option<CloseReason> {
        let message = match decode_client_message(text) {
            Ok(message) => message,
            Err(refusal) => {
                self.error(refusal.command_id, refusal.code, &refusal.message).await;
                return None;
            }
        };
        match message {
            ClientMessage::Ping => {
                self.send(&ServerMessage::Pong).await;
                None
            }
            ClientMessage::Subscribe { token, last_seq } => self.subscribe(&token, last_seq).await,
            ClientMessage::Command { command_id, command } => {
                let Some(viewer) = self.viewer else {
                    self.error(Some(command_id), ErrorCode::NotSubscribed, "subscribe before sending commands").await;
                    return None;
                };
                let Viewer::Participant(actor) = viewer else {
                    self.error(Some(command_id), ErrorCode::ReadOnly, "the observer link can only read the board")
                        .await;
                    return None;
                };
                if *self.stopping.borrow() {
                    self.error(Some(command_id), ErrorCode::ShuttingDown, SHUTTING_DOWN).await;
                    return None;
                }
                match self.board.execute_for(self.id, actor, command_id, command).await {
                    Ok(()) => self.submitted += 1,
                    Err(body) => self.error(Some(command_id), body.code, &body.message).await,
                }
                None
            }
        }
    }

    async fn subscribe(&mut self, token: &str, last_seq: Option<u64>) -> Option<CloseReason> {
        let unauthorized = CloseReason { code: CloseCode::Other(4001), description: Some("unauthorized".into()) };
        if self.viewer.is_some() {
            self.error(None, ErrorCode::AlreadySubscribed, "this connection is already subscribed").await;
            return None;
        }
        let board = self.board.board();
        let viewer = match self.access.resolve_token(token) {
            Ok(Some((token_board, participant))) if token_board == board => Some(Viewer::Participant(participant)),
            Ok(_) => match self.access.link(token) {
                Some(invitation) if invitation.board == board && invitation.role == Role::Observer => {
                    Some(Viewer::Observer)
                }
                _ => None,
            },
            Err(error) => {
                tracing::error!(%error, "cannot read access records");
                self.error(None, ErrorCode::Unavailable, "access records cannot be read right now").await;
                return None;
            }
        };
        let Some(viewer) = viewer else {
            self.error(None, ErrorCode::Unauthorized, "this token does not give access to this board").await;
            return Some(unauthorized);
        };
        if matches!(viewer, Viewer::Participant(_)) {
            // Before the snapshot goes out: whoever at this address sees the board open may type its
            // join code next, and that code must then be tried.
            (self.opened)();
        }
        let outbox = Outbox {
            messages: self.outbox.clone(),
            kicked: Arc::clone(&self.kicked),
            answered: Arc::clone(&self.answered),
        };
        match self.board.subscribe(self.id, viewer, last_seq, outbox).await {
            Ok(role) => {
                self.viewer = Some(viewer);
                self.role = Some(role);
                None
            }
            Err(body) => {
                self.error(None, body.code, &body.message).await;
                (body.code == ErrorCode::Unauthorized).then_some(unauthorized)
            }
        }
    }
}
