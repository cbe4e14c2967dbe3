//! The event store: one append-only stream of events per board, durable before acknowledged.
//!
//! The store knows envelopes, not domain events: a payload is JSON that the layer above has
//! already encoded (and, for personal content, sealed). Everything here is about keeping those
//! envelopes safe: gap-free sequence numbers from 1 per board, a checksum on every record,
//! a real `fdatasync` before an append is acknowledged (with concurrent appends sharing one
//! sync), idempotent retries by command id and optimistic concurrency by expected version.
//!
//! [`EventStore`] is the seam for a second backend (PostgreSQL); [`sled_store::SledStore`] is
//! the embedded default.

pub mod record;
pub mod release;
pub mod sled_store;

use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use sled_store::{SledStore, StoreOptions, TidyPolicy};

/// The most events one append may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;
/// The largest encoded record (envelope and payload) the store accepts.
pub const MAX_RECORD_BYTES: usize = 32 * 1024;

/// An event on its way into the store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// A UUIDv7 made by the caller.
    pub event_id: EventId,
    /// The event's type name, e.g. `card_added`.
    pub event_type: String,
    /// The version of that type's payload schema, for upcasting.
    pub event_version: u32,
    /// The payload, already encoded as JSON (and sealed) by the caller, stored as it is: the
    /// store copies it into the record and does not encode it again ([`encode_payload`]).
    pub payload: Box<RawValue>,
}

impl PartialEq for NewEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event_id == other.event_id
            && self.event_type == other.event_type
            && self.event_version == other.event_version
            && self.payload.get() == other.payload.get()
    }
}

/// A payload encoded as JSON for [`NewEvent::payload`]: the same bytes whether it is encoded
/// here or from a [`Value`] of it (objects of a `Value` keep their keys sorted).
pub fn encode_payload(payload: &impl serde::Serialize) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(payload)
}

/// What the writer of an append expects the stream's head to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the head is (commands that commute, like votes, after `decide` ran on
    /// state that the board's single owner keeps current).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The head must be exactly this sequence number.
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(seq) => write!(f, "{seq}"),
        }
    }
}

/// One append: the events one command produced, all or nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct AppendRequest {
    pub board: BoardId,
    /// The client-made command id; a second append with the same id appends nothing.
    pub command_id: CommandId,
    /// A fingerprint of the command's content: the same id with another fingerprint is a client
    /// bug and is refused with [`StoreError::IdempotencyConflict`].
    pub command_fingerprint: u32,
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub expected: ExpectedVersion,
    /// At least one, at most [`MAX_EVENTS_PER_APPEND`].
    pub events: Vec<NewEvent>,
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The events were stored, durably, as `first..=last`.
    Appended { first: u64, last: u64 },
    /// The command id was already stored; nothing was appended and this is the first result.
    AlreadyAppended { first: u64, last: u64 },
}

impl AppendOutcome {
    /// The sequence numbers of the command's events, whichever way they got there.
    pub fn range(&self) -> (u64, u64) {
        match *self {
            AppendOutcome::Appended { first, last } | AppendOutcome::AlreadyAppended { first, last } => (first, last),
        }
    }
}

/// What the store remembers of a command it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    pub first: u64,
    pub last: u64,
    pub fingerprint: u32,
}

/// A stored event as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    pub board: BoardId,
    pub seq: u64,
    pub event_id: EventId,
    pub command_id: CommandId,
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub event_type: String,
    pub event_version: u32,
    pub payload: Value,
}

/// A stored event as read in place: borrowed from the stored record, with the payload as the raw
/// JSON it was stored as, so the layer above decodes it straight into its own types.
#[derive(Clone, Copy, Debug)]
pub struct RawRecordedEvent<'r> {
    pub board: BoardId,
    pub seq: u64,
    pub event_id: EventId,
    pub command_id: CommandId,
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub event_type: &'r str,
    pub event_version: u32,
    pub payload: &'r RawValue,
}

impl RawRecordedEvent<'_> {
    /// The event with its payload parsed into a `Value`.
    pub fn to_recorded(&self) -> Result<RecordedEvent, serde_json::Error> {
        Ok(RecordedEvent {
            board: self.board,
            seq: self.seq,
            event_id: self.event_id,
            command_id: self.command_id,
            actor: self.actor,
            at: self.at,
            event_type: self.event_type.to_owned(),
            event_version: self.event_version,
            payload: serde_json::from_str(self.payload.get())?,
        })
    }
}

/// One problem found in stored data: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The board the damaged record belongs to, when the key still says so.
    pub board: Option<BoardId>,
    /// The sequence number, when the key still says so.
    pub seq: Option<u64>,
    /// What is wrong, in words.
    pub problem: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.board, self.seq) {
            (Some(board), Some(seq)) => write!(f, "board {board} seq {seq}: {}", self.problem),
            (Some(board), None) => write!(f, "board {board}: {}", self.problem),
            _ => f.write_str(&self.problem),
        }
    }
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("board {board} has moved: expected version {expected}, found {actual}")]
    Conflict { board: BoardId, expected: ExpectedVersion, actual: u64 },
    #[error("command {command_id} was already stored with different content")]
    IdempotencyConflict { command_id: CommandId },
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error("not appended: an earlier append of the same append_all did not append")]
    Skipped,
    #[error("stored data is damaged ({} problems), first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Damaged(Vec<Damage>),
    #[error("the store has stopped accepting writes after an earlier storage failure: {0}")]
    Failed(String),
    /// Refused for now: the disk is too full to write safely (see [`crate::disk_space`]); the
    /// same append goes through once space is freed.
    #[error("{0}")]
    DiskFull(String),
    #[error("the data directory is in use by another process: {0}")]
    Locked(String),
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The answer to an append, ready when the events are durable (or the append failed).
/// Await it from async code or call [`AppendTicket::wait`] from a plain thread.
#[derive(Debug)]
pub struct AppendTicket {
    receiver: tokio::sync::oneshot::Receiver<Result<AppendOutcome, StoreError>>,
}

impl AppendTicket {
    /// A ticket and the sender its writer answers through.
    pub fn channel() -> (tokio::sync::oneshot::Sender<Result<AppendOutcome, StoreError>>, Self) {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (sender, Self { receiver })
    }

    /// A ticket that is already answered.
    pub fn ready(result: Result<AppendOutcome, StoreError>) -> Self {
        let (sender, ticket) = Self::channel();
        // A freshly made receiver is still alive, so this send cannot fail.
        let _ = sender.send(result);
        ticket
    }

    /// Blocks the current thread until the append is durable or has failed. Never call this
    /// from inside an async runtime's worker thread; await the ticket there.
    pub fn wait(self) -> Result<AppendOutcome, StoreError> {
        self.receiver
            .blocking_recv()
            .unwrap_or_else(|_| Err(StoreError::Failed("the writer stopped before answering".into())))
    }
}

impl Future for AppendTicket {
    type Output = Result<AppendOutcome, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.receiver).poll(cx).map(|answer| {
            answer.unwrap_or_else(|_| Err(StoreError::Failed("the writer stopped before answering".into())))
        })
    }
}

/// An append-only store of per-board event streams.
pub trait EventStore: Send + Sync + 'static {
    /// Appends the events of one command. The ticket resolves only after the events are on
    /// disk (fdatasync), or with an error; concurrent appends share one sync.
    fn append(&self, request: AppendRequest) -> AppendTicket {
        self.append_all(vec![request])
            .pop()
            .unwrap_or_else(|| AppendTicket::ready(Err(StoreError::Failed("the append was not queued".into()))))
    }

    /// Appends the events of several commands, in order, each answered on its own ticket: a
    /// board's task decided them one after another, each on the state the ones before it leave,
    /// and each request expects the head the one before it leaves. They form a chain: once one
    /// of them does not append (it fails, or finds its command id already stored), none after
    /// it is written, and those answer [`StoreError::Skipped`]. So nothing decided on top of an
    /// append that did not happen is ever stored, whoever else writes the board.
    ///
    /// [`SledStore`] plans them into one group: one sled batch and one `fdatasync` for all of
    /// them, and every ticket resolves after that sync.
    fn append_all(&self, requests: Vec<AppendRequest>) -> Vec<AppendTicket>;

    /// Events of a board with `seq >= from_seq`, in order, at most `limit` of them. A record that
    /// fails its checksum is an error, never skipped.
    fn read(&self, board: BoardId, from_seq: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// [`EventStore::read`] without building the events: `visit` sees each event in order,
    /// borrowed from the stored record with its payload as raw JSON, until it answers
    /// [`ControlFlow::Break`]. The same checks as `read`: a damaged record is an error, never
    /// skipped, and nothing past it is visited. Returns the last seq visited (0 for none).
    ///
    /// The default goes through `read`; a backend that can lend its records overrides it.
    fn read_raw(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        let mut last = 0;
        for event in self.read(board, from_seq, limit)? {
            let payload = serde_json::value::to_raw_value(&event.payload)
                .map_err(|error| StoreError::Failed(format!("a payload that does not serialise: {error}")))?;
            last = event.seq;
            let raw = RawRecordedEvent {
                board: event.board,
                seq: event.seq,
                event_id: event.event_id,
                command_id: event.command_id,
                actor: event.actor,
                at: event.at,
                event_type: &event.event_type,
                event_version: event.event_version,
                payload: &payload,
            };
            if visit(raw).is_break() {
                break;
            }
        }
        Ok(last)
    }

    /// Reads a board's events from `from_seq` up to its durable head, in order, as
    /// [`EventStore::read_raw`] does (each is visited until `visit` answers
    /// [`ControlFlow::Break`]), and returns the head it read up to: what a replay that catches a
    /// state up with the log needs, in one call.
    ///
    /// A board not checked since the store opened is checked as [`EventStore::head`] checks it,
    /// first; a backend that can also does it while reading, when the read starts at the first
    /// event and so sees every record anyway. Either way no answer comes back before every
    /// record of the board has passed, and on an error (the board was found damaged, and is then
    /// in quarantine) whatever was visited must be thrown away.
    ///
    /// The default reads the head, then the events through `read_raw`.
    fn replay_raw(
        &self,
        board: BoardId,
        from_seq: u64,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        let head = self.head(board)?;
        let mut next = from_seq.max(1);
        while next <= head {
            let limit = usize::try_from(head - next + 1).unwrap_or(usize::MAX);
            let mut stopped = false;
            let last = self.read_raw(board, next, limit, &mut |raw| {
                let flow = visit(raw);
                stopped = flow.is_break();
                flow
            })?;
            if last == 0 || stopped {
                break;
            }
            next = last + 1;
        }
        Ok(head)
    }

    /// The board's last sequence number, 0 when it has no events.
    fn head(&self, board: BoardId) -> Result<u64, StoreError>;

    /// Every board that has at least one event.
    fn boards(&self) -> Result<Vec<BoardId>, StoreError>;

    /// What the store remembers of a command id on a board, if it stored it.
    fn command(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError>;

    /// The board's head, updated each time new events of it become durable.
    fn subscribe(&self, board: BoardId) -> tokio::sync::watch::Receiver<u64>;

    /// The damage that put the board in quarantine, if it is in quarantine. A board in
    /// quarantine is never read or written: every call about it answers [`StoreError::Damaged`].
    fn damage(&self, _board: BoardId) -> Option<Vec<Damage>> {
        None
    }

    /// Every board in quarantine, with its damage, in board order.
    fn damaged_boards(&self) -> Vec<(BoardId, Vec<Damage>)> {
        Vec::new()
    }

    /// Why the store stopped accepting writes, if it has (a failed write or sync).
    fn failure(&self) -> Option<String> {
        None
    }

    /// Why the store refuses writes for now, if it does: its disk is too full to write safely.
    /// Looked at anew at every call, so it clears as soon as space is freed.
    fn disk_full(&self) -> Option<String> {
        None
    }

    /// Damage naming no board that was found after the store opened (by a check running in the
    /// background), if any. The store then takes no more writes: opening would have refused it.
    fn unpinned_damage(&self) -> Option<Vec<Damage>> {
        None
    }

    /// Puts a board in quarantine because of damage found above the store (an event that passes
    /// its checksum but cannot be opened or decoded). A store that keeps no quarantine ignores it.
    fn quarantine(&self, _board: BoardId, _damage: Vec<Damage>) {}

    /// Events rewritten into chunks since the store opened (ADR 0008), for `/metrics`.
    fn compacted_events(&self) -> u64 {
        0
    }

    /// How many stored events are outside chunks, and how many there are in all (ADR 0008), once
    /// the store knows (after its background check found no damage); what decides whether to
    /// tidy the store when the server stops.
    fn tidy_estimate(&self) -> Option<TidyEstimate> {
        None
    }
}

/// Stored events outside chunks, and all stored events ([`EventStore::tidy_estimate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TidyEstimate {
    pub outside_chunks: u64,
    pub events: u64,
    /// The store's opening found what an interrupted rewrite left (and removed it).
    pub last_rewrite_interrupted: bool,
}
