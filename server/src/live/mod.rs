//! The live part of the server: one task per board (`board`), the views clients render
//! (`views`), and the registry that starts board tasks on first use (`Boards`).

mod board;
pub mod connection;
pub mod views;

pub use board::{BoardHandle, MAX_CATCH_UP, encode};

use crate::engine::{Engine, ExecuteError};
use crate::metrics::Metrics;
use crate::store::{EventStore, StoreError};
use bytestring::ByteString;
use kipina_proto::api::ErrorBody;
use kipina_proto::{BoardId, ParticipantId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};

/// Numbers each WebSocket connection, for logs and fan-out.
pub type ConnectionId = u64;

/// Who is watching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Participant(ParticipantId),
    /// Someone with the observer link, who has not joined.
    Observer,
}

/// Messages waiting to be written to one connection (encoded JSON shared between connections),
/// and the signal that the board dropped the connection for falling behind.
#[derive(Debug)]
pub struct Outbox {
    pub messages: mpsc::Sender<ByteString>,
    pub kicked: Arc<Notify>,
}

/// How many messages may wait for one connection before it is dropped and told to resync.
pub const OUTBOX_CAPACITY: usize = 256;

/// The stable code and message for a failed command.
pub fn error_body(error: &ExecuteError) -> ErrorBody {
    let (code, message) = match error {
        ExecuteError::Refused(refusal) => (refusal.code(), refusal.to_string()),
        ExecuteError::IdempotencyConflict(_) => ("idempotency_conflict", error.to_string()),
        ExecuteError::Contended => ("contended", error.to_string()),
        ExecuteError::Store(StoreError::InvalidAppend(reason)) => ("too_large", reason.clone()),
        ExecuteError::Store(_) | ExecuteError::History(_) | ExecuteError::Seal(_) | ExecuteError::Key(_) => {
            ("unavailable", "the board cannot be saved right now; nothing was changed, try again".to_owned())
        }
    };
    ErrorBody { code: code.to_owned(), message }
}

/// Every board's task, started when the board is first used.
#[derive(Debug)]
pub struct Boards {
    engine: Engine,
    max_commands_per_second: u32,
    metrics: Arc<Metrics>,
    handles: Mutex<HashMap<BoardId, BoardHandle>>,
    next_connection: AtomicU64,
}

impl Boards {
    pub fn new(engine: Engine, metrics: Arc<Metrics>, max_commands_per_second: u32) -> Self {
        Self {
            engine,
            max_commands_per_second,
            metrics,
            handles: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn next_connection_id(&self) -> ConnectionId {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// The task of an existing board, started (from its snapshot and log) if needed.
    pub fn get(&self, board: BoardId) -> Result<Option<BoardHandle>, ErrorBody> {
        let mut handles = self.handles.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = handles.get(&board).filter(|handle| !handle.is_closed()) {
            return Ok(Some(handle.clone()));
        }
        let unavailable = |error: &dyn std::fmt::Display| {
            tracing::error!(%board, %error, "cannot load a board");
            ErrorBody { code: "unavailable".into(), message: "the board cannot be loaded right now".into() }
        };
        if self.engine.store().head(board).map_err(|error| unavailable(&error))? == 0 {
            return Ok(None);
        }
        let state = self.engine.load(board).map_err(|error| unavailable(&error))?;
        let handle =
            board::spawn(board, self.engine.clone(), state, Arc::clone(&self.metrics), self.max_commands_per_second);
        handles.insert(board, handle.clone());
        Ok(Some(handle))
    }

    /// The task of a board that does not exist yet, to create it with `CreateBoard`.
    pub fn start_new(&self, board: BoardId) -> BoardHandle {
        let mut handles = self.handles.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let handle = board::spawn(
            board,
            self.engine.clone(),
            Default::default(),
            Arc::clone(&self.metrics),
            self.max_commands_per_second,
        );
        handles.insert(board, handle.clone());
        handle
    }
}
