//! Executing a command: idempotency, `decide`, sealing, a durable append, then `evolve`.

use super::{Engine, HistoryError};
use crate::codec;
use crate::personal_data::{SealError, seal};
use crate::store::{AppendOutcome, AppendRequest, EventStore, ExpectedVersion, NewEvent, StoreError};
use kipina_domain::{BoardState, Context, DomainError, Event, Fact, PERSONAL_TAG, decide, evolve};
use kipina_proto::{BoardId, Command, CommandId, EventId, ParticipantId};
use uuid::Uuid;

/// How often a command is decided again when another writer moved the board in between.
const CONFLICT_RETRIES: usize = 3;

/// What executing a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Executed {
    /// New events were stored durably and folded into the state.
    Appended { first: u64, last: u64, facts: Vec<Fact> },
    /// The command id was seen before; its first result stands and nothing was appended.
    AlreadyAppended { first: u64, last: u64 },
    /// The command asked for what was already true; nothing was appended.
    Unchanged,
}

/// Why a command was not executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Refused(#[from] DomainError),
    #[error("command {0} was already executed with different content")]
    IdempotencyConflict(CommandId),
    #[error(transparent)]
    Store(StoreError),
    #[error("the board kept changing while the command was decided; try again")]
    Contended,
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("sealing personal content failed: {0}")]
    Seal(#[from] SealError),
    #[error("the author's key could not be made: {0}")]
    Key(std::io::Error),
}

/// A fingerprint of a command's content, so a reused command id with other content is caught.
pub fn command_fingerprint(command: &Command) -> u32 {
    // A `Command` is plain data; serialising it cannot fail.
    crc32fast::hash(&serde_json::to_vec(command).unwrap_or_default())
}

/// A command that passed `decide` and is sealed, waiting for its append. Hand `request` to the
/// store, then give the outcome and `pending` to [`Engine::complete`].
#[derive(Debug)]
pub struct PendingAppend {
    pub request: AppendRequest,
    pub pending: Pending,
}

/// The part of a [`PendingAppend`] that `complete` needs back.
#[derive(Debug)]
pub struct Pending {
    events: Vec<Event>,
    context: Context,
    command_id: CommandId,
}

/// What `prepare` found.
#[derive(Debug)]
pub enum Prepared {
    /// Nothing to append: a retried command id, or a command that changes nothing.
    Answered(Executed),
    /// Append this, then call `complete`.
    Append(PendingAppend),
}

impl<S: EventStore> Engine<S> {
    /// Executes `command` on `board`, whose current state is `state` (updated in place).
    /// Blocks until any new events are durable; async callers use `prepare` and `complete`.
    pub fn execute(
        &self,
        board: BoardId,
        state: &mut BoardState,
        command_id: CommandId,
        context: Context,
        command: &Command,
    ) -> Result<Executed, ExecuteError> {
        for _ in 0..CONFLICT_RETRIES {
            let PendingAppend { request, pending } = match self.prepare(board, state, command_id, context, command)? {
                Prepared::Answered(executed) => return Ok(executed),
                Prepared::Append(append) => append,
            };
            let outcome = self.store.append(request).wait();
            if let Some(executed) = self.complete(board, state, pending, outcome)? {
                return Ok(executed);
            }
        }
        Err(ExecuteError::Contended)
    }

    /// Checks the command id and the rules, and seals the events into an append that expects
    /// the board at `state.version`.
    pub fn prepare(
        &self,
        board: BoardId,
        state: &mut BoardState,
        command_id: CommandId,
        context: Context,
        command: &Command,
    ) -> Result<Prepared, ExecuteError> {
        let fingerprint = command_fingerprint(command);
        if let Some(record) = self.store.command(board, command_id).map_err(ExecuteError::Store)? {
            if record.fingerprint != fingerprint || !self.sent_by(board, record.first, context.actor)? {
                return Err(ExecuteError::IdempotencyConflict(command_id));
            }
            self.catch_up(board, state)?;
            return Ok(Prepared::Answered(Executed::AlreadyAppended { first: record.first, last: record.last }));
        }
        let events = decide(state, &context, command)?;
        if events.is_empty() {
            return Ok(Prepared::Answered(Executed::Unchanged));
        }
        let request = self.append_request(board, state, command_id, fingerprint, context, &events)?;
        Ok(Prepared::Append(PendingAppend { request, pending: Pending { events, context, command_id } }))
    }

    /// Folds the outcome of an append into `state`. `Ok(None)` means another writer moved the
    /// board first: `state` has caught up and the command should be prepared again.
    pub fn complete(
        &self,
        board: BoardId,
        state: &mut BoardState,
        pending: Pending,
        outcome: Result<AppendOutcome, StoreError>,
    ) -> Result<Option<Executed>, ExecuteError> {
        match outcome {
            Ok(AppendOutcome::Appended { first, last }) => {
                let facts = self.commit(board, state, pending.context, pending.events, first)?;
                Ok(Some(Executed::Appended { first, last, facts }))
            }
            Ok(AppendOutcome::AlreadyAppended { first, last }) => {
                if !self.sent_by(board, first, pending.context.actor)? {
                    return Err(ExecuteError::IdempotencyConflict(pending.command_id));
                }
                self.catch_up(board, state)?;
                Ok(Some(Executed::AlreadyAppended { first, last }))
            }
            Err(StoreError::Conflict { .. }) => {
                self.catch_up(board, state)?;
                Ok(None)
            }
            Err(StoreError::IdempotencyConflict { command_id }) => Err(ExecuteError::IdempotencyConflict(command_id)),
            Err(error) => Err(ExecuteError::Store(error)),
        }
    }

    /// Whether the command whose first event is `first` was sent by `actor`. A command id is the
    /// sender's: a retry is the same sender's, and another sender reusing it is a conflict, never
    /// the first sender's result.
    fn sent_by(&self, board: BoardId, first: u64, actor: ParticipantId) -> Result<bool, ExecuteError> {
        let events = self.store.read(board, first, 1).map_err(ExecuteError::Store)?;
        Ok(events.first().is_some_and(|event| event.actor == actor))
    }

    /// Encodes and seals the events into an append that expects the board at `state.version`.
    fn append_request(
        &self,
        board: BoardId,
        state: &BoardState,
        command_id: CommandId,
        fingerprint: u32,
        context: Context,
        events: &[Event],
    ) -> Result<AppendRequest, ExecuteError> {
        let mut new_events = Vec::with_capacity(events.len());
        let mut key = None;
        for event in events {
            let encoded = codec::encode(event);
            let mut payload = encoded.payload;
            if payload.to_string().contains(PERSONAL_TAG) {
                if key.is_none() {
                    key = Some(self.keys.get_or_create(board, context.actor).map_err(ExecuteError::Key)?);
                }
                if let Some(key) = &key {
                    seal(&mut payload, board, context.actor, key)?;
                }
            }
            new_events.push(NewEvent {
                event_id: EventId(Uuid::now_v7()),
                event_type: encoded.event_type.to_owned(),
                event_version: encoded.event_version,
                payload,
            });
        }
        let expected =
            if state.version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(state.version) };
        Ok(AppendRequest {
            board,
            command_id,
            command_fingerprint: fingerprint,
            actor: context.actor,
            at: context.at,
            expected,
            events: new_events,
        })
    }

    /// Folds durable events into the state and does what must follow them on disk.
    fn commit(
        &self,
        board: BoardId,
        state: &mut BoardState,
        context: Context,
        events: Vec<Event>,
        first: u64,
    ) -> Result<Vec<Fact>, ExecuteError> {
        let before = state.version;
        let mut erased = false;
        let facts: Vec<Fact> = events
            .into_iter()
            .zip(first..)
            .map(|(event, seq)| Fact { seq, at: context.at, actor: context.actor, event })
            .collect();
        for fact in &facts {
            erased |= matches!(fact.event, Event::ParticipantErased { .. });
            evolve(state, fact);
        }
        if erased {
            self.finish_erasures(board, state)?;
        } else if state.version / self.snapshot_every != before / self.snapshot_every {
            self.save_snapshot(board, state);
        }
        Ok(facts)
    }
}
