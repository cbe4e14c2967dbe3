//! The live part of the server: one task per board (`board`), the change sets it fans out
//! (`changes`, rendered with `projection::views`), and the registry that starts board tasks on
//! first use (`Boards`).

mod board;
pub mod changes;
pub mod connection;
pub mod frames;

pub use board::{BoardHandle, MAX_BATCH, MAX_CATCH_UP, encode};

use crate::engine::{Engine, ExecuteError, HistoryError};
use crate::metrics::Metrics;
use crate::store::{Damage, EventStore, StoreError};
use bytestring::ByteString;
use kipina_proto::BoardId;
use kipina_proto::ErrorCode;
use kipina_proto::api::ErrorBody;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, mpsc};

/// Where a board's task reads the time its commands are decided at: the server's clock
/// ([`crate::clock::now`]), or a fixed one in tests that compare boards by value.
pub type Clock = fn() -> kipina_proto::Timestamp;

/// Numbers each WebSocket connection, for logs and fan-out.
pub type ConnectionId = u64;

/// Messages waiting to be written to one connection (encoded JSON shared between connections),
/// and the signal that the board let the connection go.
#[derive(Debug)]
pub struct Outbox {
    pub messages: mpsc::Sender<ByteString>,
    pub kicked: Arc<Kick>,
    /// How many answers to the connection's commands the board has put into `messages`: the
    /// connection reads no more commands while too many of its own are unanswered (see
    /// `connection::MAX_UNANSWERED`).
    pub answered: Arc<std::sync::atomic::AtomicU64>,
}

/// Why a board let a connection go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kicked {
    /// Its outbox was full: it is told to resync.
    FellBehind,
    /// Its participant was erased: their token no longer gives access.
    Erased,
    /// Its participant was removed by a facilitator: their token no longer gives access.
    Removed,
}

/// The board's signal to one connection that it was let go, and why.
#[derive(Debug, Default)]
pub struct Kick {
    notify: Notify,
    why: Mutex<Option<Kicked>>,
}

impl Kick {
    /// Lets the connection go; the first reason given is the one it hears.
    pub fn kick(&self, why: Kicked) {
        self.why.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(why);
        self.notify.notify_one();
    }

    /// Waits until the connection is let go, and says why.
    pub async fn kicked(&self) -> Kicked {
        self.notify.notified().await;
        self.why.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).unwrap_or(Kicked::FellBehind)
    }
}

/// How many messages may wait for one connection before it is dropped and told to resync.
pub const OUTBOX_CAPACITY: usize = 256;

/// The answer about a board in quarantine: stored data of it is damaged, so it is not served.
pub fn board_damaged(board: BoardId) -> ErrorBody {
    ErrorBody {
        code: ErrorCode::BoardDamaged,
        message: format!(
            "the stored data of board {board} is damaged, so it is not shown or changed; \
             the server's administrator has the details in the server log and can restore the board from a backup"
        ),
    }
}

/// The damage a failure to read a board's history shows, if it shows damage (rather than, say,
/// a key file that cannot be read right now).
fn damage_in(board: BoardId, error: &HistoryError) -> Option<Vec<Damage>> {
    match error {
        HistoryError::Store(StoreError::Damaged(damage)) => Some(damage.clone()),
        HistoryError::Decode { seq, source, .. } => {
            Some(vec![Damage { board: Some(board), seq: Some(*seq), problem: format!("cannot be decoded: {source}") }])
        }
        HistoryError::Seal { seq, source, .. } => Some(vec![Damage {
            board: Some(board),
            seq: Some(*seq),
            problem: format!("its personal fields cannot be opened: {source}"),
        }]),
        _ => None,
    }
}

/// The answer to a failure to read a board's history. Damage puts the board in quarantine
/// (the store logs it) and answers `board_damaged`; anything else is `unavailable`.
fn history_failure(engine: &Engine, board: BoardId, error: &HistoryError) -> ErrorBody {
    if let Some(damage) = damage_in(board, error) {
        engine.store().quarantine(board, damage);
        return board_damaged(board);
    }
    tracing::error!(%board, %error, "cannot read a board's history");
    ErrorBody { code: ErrorCode::Unavailable, message: "the board's history cannot be read right now".into() }
}

/// The stable code and message for a failed command.
pub fn error_body(error: &ExecuteError) -> ErrorBody {
    let (code, message) = match error {
        ExecuteError::Store(StoreError::Damaged(damage))
        | ExecuteError::History(HistoryError::Store(StoreError::Damaged(damage))) => {
            match damage.iter().find_map(|damage| damage.board) {
                Some(board) => return board_damaged(board),
                // Damage that names no board stops every write (see /health).
                None => (
                    ErrorCode::Unavailable,
                    "the server cannot save changes now: a check found its stored data damaged (see /health); \
                     nothing was changed. Ask the server's administrator to restore the data from a backup"
                        .to_owned(),
                ),
            }
        }
        ExecuteError::Refused(refusal) => (refusal.code(), refusal.to_string()),
        ExecuteError::IdempotencyConflict(_) => (ErrorCode::IdempotencyConflict, error.to_string()),
        ExecuteError::Contended => (ErrorCode::Contended, error.to_string()),
        ExecuteError::Store(StoreError::InvalidAppend(reason)) => (ErrorCode::TooLarge, reason.clone()),
        // The disk is full: refused before anything was written, accepted again once space is freed.
        ExecuteError::Store(StoreError::DiskFull(_)) => (ErrorCode::Unavailable, crate::disk_space::REFUSED.to_owned()),
        ExecuteError::Key(error) if error.kind() == std::io::ErrorKind::StorageFull => {
            (ErrorCode::Unavailable, crate::disk_space::REFUSED.to_owned())
        }
        // The disk failed a write or a sync: nothing more is saved until the server restarts.
        ExecuteError::Store(StoreError::Failed(_)) => (
            ErrorCode::Unavailable,
            "the server cannot save changes now (its disk failed; see /health); nothing was changed. \
             The board can still be read; ask the server's administrator to fix the disk and restart it"
                .to_owned(),
        ),
        ExecuteError::Store(_) | ExecuteError::History(_) | ExecuteError::Seal(_) | ExecuteError::Key(_) => {
            (ErrorCode::Unavailable, "the board cannot be saved right now; nothing was changed, try again".to_owned())
        }
    };
    ErrorBody { code, message }
}

/// Every board's task, started when the board is first used.
#[derive(Debug)]
pub struct Boards {
    engine: Engine,
    max_commands_per_second: u32,
    metrics: Arc<Metrics>,
    handles: Mutex<HashMap<BoardId, BoardHandle>>,
    next_connection: AtomicU64,
    /// Set once the server is stopping: connections close (1001) and commands are refused.
    stopping: tokio::sync::watch::Sender<bool>,
    clock: Clock,
}

impl Boards {
    pub fn new(engine: Engine, metrics: Arc<Metrics>, max_commands_per_second: u32) -> Self {
        Self {
            engine,
            max_commands_per_second,
            metrics,
            handles: Mutex::new(HashMap::new()),
            next_connection: AtomicU64::new(1),
            stopping: tokio::sync::watch::Sender::new(false),
            clock: crate::clock::now,
        }
    }

    /// Boards whose commands are decided at the time `clock` says instead of the server's
    /// clock (for tests that compare a board with one built elsewhere).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The server is stopping: every connection is closed with 1001 (after what is already in
    /// its outbox), and new commands are answered `shutting_down`. Commands already queued at a
    /// board still finish.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the server is stopping.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
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

    /// The task of an existing board, started (from its snapshot and log) if needed. A board in
    /// quarantine, or one whose history turns out to be damaged when it is loaded, answers
    /// `board_damaged`: it is never served, not even from its snapshot.
    pub fn get(&self, board: BoardId) -> Result<Option<BoardHandle>, ErrorBody> {
        let store = self.engine.store();
        if store.damage(board).is_some() {
            return Err(board_damaged(board));
        }
        let mut handles = self.handles.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(handle) = handles.get(&board).filter(|handle| !handle.is_closed()) {
            return Ok(Some(handle.clone()));
        }
        let failed = |error: HistoryError| history_failure(&self.engine, board, &error);
        if store.head(board).map_err(|error| failed(error.into()))? == 0 {
            return Ok(None);
        }
        let state = self.engine.load(board).map_err(failed)?;
        let handle = board::spawn(
            board,
            self.engine.clone(),
            state,
            Arc::clone(&self.metrics),
            self.max_commands_per_second,
            self.clock,
        );
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
            self.clock,
        );
        handles.insert(board, handle.clone());
        handle
    }
}
