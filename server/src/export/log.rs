//! The full event log of a board as JSON, and restoring it into a server that does not have
//! the board. Personal fields travel opened (`{"$personal": "…"}`, or `{"$erased": true}` for
//! an erased participant's words) and are sealed again with new keys on the way in; every
//! event keeps its sequence number, id, command id, actor, time, type and schema version, so
//! the restored board has the same state and the same history.

use super::ExportError;
use crate::codec;
use crate::engine::Engine;
use crate::personal_data::{seal, unseal};
use crate::store::{AppendOutcome, AppendRequest, EventStore, ExpectedVersion, NewEvent, encode_payload};
use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the file says it is.
pub const FORMAT: &str = "kipina-log";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardLog {
    pub format: String,
    pub version: u32,
    pub board: BoardId,
    pub exported_at: Timestamp,
    /// In order; each command's events are one append.
    pub commands: Vec<LoggedCommand>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggedCommand {
    pub command_id: CommandId,
    pub fingerprint: u32,
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub events: Vec<LoggedEvent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggedEvent {
    pub seq: u64,
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    pub payload: Value,
}

/// The whole log of `board`, opened.
pub fn export(engine: &Engine, board: BoardId, now: Timestamp) -> Result<BoardLog, ExportError> {
    let store = engine.store();
    let head = store.head(board).map_err(|error| ExportError::Read(error.to_string()))?;
    if head == 0 {
        return Err(ExportError::NoBoard);
    }
    let mut commands: Vec<LoggedCommand> = Vec::new();
    let mut next = 1;
    while next <= head {
        let chunk = store.read(board, next, 1_000).map_err(|error| ExportError::Read(error.to_string()))?;
        let Some(last) = chunk.last().map(|event| event.seq) else { break };
        for mut recorded in chunk {
            let key = engine.keys().get(board, recorded.actor).map_err(|error| ExportError::Read(error.to_string()))?;
            unseal(&mut recorded.payload, board, recorded.actor, key.as_ref())
                .map_err(|error| ExportError::Read(format!("seq {}: {error}", recorded.seq)))?;
            let event = LoggedEvent {
                seq: recorded.seq,
                event_id: recorded.event_id,
                event_type: recorded.event_type,
                version: recorded.event_version,
                payload: recorded.payload,
            };
            match commands.last_mut() {
                Some(command) if command.command_id == recorded.command_id => command.events.push(event),
                _ => {
                    let fingerprint = store
                        .command(board, recorded.command_id)
                        .map_err(|error| ExportError::Read(error.to_string()))?
                        .map_or(0, |record| record.fingerprint);
                    commands.push(LoggedCommand {
                        command_id: recorded.command_id,
                        fingerprint,
                        actor: recorded.actor,
                        at: recorded.at,
                        events: vec![event],
                    });
                }
            }
        }
        next = last + 1;
    }
    Ok(BoardLog { format: FORMAT.into(), version: VERSION, board, exported_at: now, commands })
}

/// Why a log was not restored. Nothing was written in any of these cases except `Store`, which
/// may leave the first part of the board (the import can then not be repeated into the same
/// data directory, and the error says so).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("this is not a Kipinä board log: {0}")]
    Malformed(String),
    #[error("board {0} already exists here; a log is restored only into a server without it")]
    Exists(BoardId),
    #[error("event {seq} is not valid: {reason}")]
    Invalid { seq: u64, reason: String },
    #[error("the log could not be written: {0}")]
    Store(String),
}

/// Parses and checks a log without writing anything.
pub fn parse(bytes: &[u8]) -> Result<BoardLog, ImportError> {
    let log: BoardLog = serde_json::from_slice(bytes).map_err(|error| ImportError::Malformed(error.to_string()))?;
    if log.format != FORMAT || log.version != VERSION {
        return Err(ImportError::Malformed(format!(
            "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
            log.format, log.version
        )));
    }
    let mut expected = 1;
    for command in &log.commands {
        if command.events.is_empty() || command.events.len() > crate::store::MAX_EVENTS_PER_APPEND {
            return Err(ImportError::Malformed(format!(
                "command {} has {} events",
                command.command_id,
                command.events.len()
            )));
        }
        for event in &command.events {
            if event.seq != expected {
                return Err(ImportError::Invalid {
                    seq: event.seq,
                    reason: format!("expected sequence number {expected}"),
                });
            }
            // Every event must be one this server can read back (which also refuses sealed
            // fields, whose keys do not travel).
            codec::decode(&event.event_type, event.version, event.payload.clone())
                .map_err(|error| ImportError::Invalid { seq: event.seq, reason: error.to_string() })?;
            expected += 1;
        }
    }
    if expected == 1 {
        return Err(ImportError::Malformed("the log has no events".into()));
    }
    Ok(log)
}

/// Restores `log` into `engine`'s store, command by command, each durable before the next.
/// Returns the board and its head.
pub fn restore(engine: &Engine, log: BoardLog) -> Result<(BoardId, u64), ImportError> {
    let board = log.board;
    let store = engine.store();
    if store.head(board).map_err(|error| ImportError::Store(error.to_string()))? != 0 {
        return Err(ImportError::Exists(board));
    }
    let mut head = 0;
    for command in log.commands {
        let mut events = Vec::with_capacity(command.events.len());
        for mut event in command.events {
            if event.payload.to_string().contains(kipina_domain::PERSONAL_TAG) {
                let key = engine
                    .keys()
                    .get_or_create(board, command.actor)
                    .map_err(|error| ImportError::Store(error.to_string()))?;
                seal(&mut event.payload, board, command.actor, &key)
                    .map_err(|error| ImportError::Store(error.to_string()))?;
            }
            events.push(NewEvent {
                event_id: event.event_id,
                event_type: event.event_type,
                event_version: event.version,
                payload: encode_payload(&event.payload).map_err(|error| ImportError::Store(error.to_string()))?,
            });
        }
        let expected = if head == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(head) };
        let request = AppendRequest {
            board,
            command_id: command.command_id,
            command_fingerprint: command.fingerprint,
            actor: command.actor,
            at: command.at,
            expected,
            events,
        };
        match store.append(request).wait() {
            Ok(AppendOutcome::Appended { last, .. }) => head = last,
            Ok(AppendOutcome::AlreadyAppended { .. }) => {
                return Err(ImportError::Malformed(format!("command {} appears twice", command.command_id)));
            }
            Err(error) => return Err(ImportError::Store(format!("after seq {head}: {error}"))),
        }
    }
    Ok((board, head))
}
