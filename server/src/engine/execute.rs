//! Executing a command: idempotency, `decide`, sealing, a durable append, then `evolve` (the
//! steps themselves are in `batch.rs`, which executes one command as a batch of one).

use super::batch::Submitted;
use super::{Engine, HistoryError};
use crate::codec;
use crate::personal_data::{SealError, seal};
use crate::store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, StoreError};
use kipina_domain::{BoardState, Context, DomainError, Event, Fact, PERSONAL_TAG};
use kipina_proto::{BoardId, Command, CommandId, EventId, ParticipantId};
use serde_json::value::RawValue;
use uuid::Uuid;

/// How often a command is decided again when another writer moved the board in between.
pub(super) const CONFLICT_RETRIES: usize = 3;

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

impl<S: EventStore> Engine<S> {
    /// Executes `command` on `board`, whose current state is `state` (updated in place).
    /// Blocks until any new events are durable; the server's board tasks decide the commands
    /// waiting for a board together (`Engine::plan`, `Engine::settle`).
    pub fn execute(
        &self,
        board: BoardId,
        state: &mut BoardState,
        command_id: CommandId,
        context: Context,
        command: &Command,
    ) -> Result<Executed, ExecuteError> {
        let submitted = Submitted { command_id, context, command: command.clone() };
        self.execute_all(board, state, vec![submitted])
            .pop()
            .unwrap_or(Err(ExecuteError::Store(StoreError::Failed("not executed".into()))))
    }

    /// Whether the command whose first event is `first` was sent by `actor`. A command id is the
    /// sender's: a retry is the same sender's, and another sender reusing it is a conflict, never
    /// the first sender's result.
    pub(super) fn sent_by(&self, board: BoardId, first: u64, actor: ParticipantId) -> Result<bool, ExecuteError> {
        let events = self.store.read(board, first, 1).map_err(ExecuteError::Store)?;
        Ok(events.first().is_some_and(|event| event.actor == actor))
    }

    /// Encodes and seals the events into an append that expects the board at `state.version`.
    pub(super) fn append_request(
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
            // Encoded once: the store keeps these bytes as they are, unless a personal field
            // has to be sealed first.
            let mut text = payload.to_string();
            if text.contains(PERSONAL_TAG) {
                if key.is_none() {
                    key = Some(self.keys.get_or_create(board, context.actor).map_err(ExecuteError::Key)?);
                }
                if let Some(key) = &key {
                    seal(&mut payload, board, context.actor, key)?;
                    text = payload.to_string();
                }
            }
            new_events.push(NewEvent {
                event_id: EventId(Uuid::now_v7()),
                event_type: encoded.event_type.to_owned(),
                event_version: encoded.event_version,
                // The text of a `Value` is valid JSON; this cannot fail.
                payload: RawValue::from_string(text).map_err(|error| {
                    ExecuteError::Store(StoreError::Failed(format!("an event that does not encode: {error}")))
                })?,
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
}
