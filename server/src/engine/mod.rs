//! The engine joins the pure domain to the durable parts: it reads a board's history (opening
//! sealed personal fields and upcasting old events), keeps snapshots, and executes commands
//! (idempotency check, `decide`, sealing, a durable append, then `evolve`), one at a time or
//! several as a batch with one append group (`batch.rs`).
//!
//! It is synchronous and holds no locks of its own: whoever owns a board's state (a test, the
//! CLI, or the server's per-board task) passes it in by `&mut`, so each board has one writer.

mod batch;
mod execute;
mod history;

pub use batch::{Batch, Submitted};
pub use execute::{ExecuteError, Executed, command_fingerprint};
pub use history::HistoryError;

use crate::data_dir::DataDir;
use crate::personal_data::KeyStore;
use crate::projection::SnapshotStore;
use crate::store::{EventStore, SledStore, StoreError, StoreOptions};
use std::sync::Arc;

/// How often (in events) a board's snapshot is renewed.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000;

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open {what}: {source}")]
    Io { what: &'static str, source: std::io::Error },
}

/// Everything needed to read and write boards in one data directory.
#[derive(Debug, Clone)]
pub struct Engine<S: EventStore = SledStore> {
    store: Arc<S>,
    keys: KeyStore,
    snapshots: SnapshotStore,
    snapshot_every: u64,
}

impl Engine<SledStore> {
    /// Opens a data directory, creating it if needed. The store refuses to open when its data
    /// is damaged (see `kipina verify`).
    pub fn open(data_dir: &DataDir) -> Result<Self, OpenError> {
        Self::open_with(data_dir, StoreOptions::default())
    }

    pub fn open_with(data_dir: &DataDir, options: StoreOptions) -> Result<Self, OpenError> {
        crate::durable::ensure_dir(data_dir.root())
            .map_err(|source| OpenError::Io { what: "the data directory", source })?;
        let store = SledStore::open(&data_dir.events(), options)?;
        Self::with_store(Arc::new(store), data_dir)
    }
}

impl<S: EventStore> Engine<S> {
    /// An engine over an already opened store, with keys and snapshots in `data_dir`.
    pub fn with_store(store: Arc<S>, data_dir: &DataDir) -> Result<Self, OpenError> {
        let keys =
            KeyStore::open(&data_dir.keys()).map_err(|source| OpenError::Io { what: "the key directory", source })?;
        let snapshots = SnapshotStore::open(&data_dir.snapshots())
            .map_err(|source| OpenError::Io { what: "the snapshot directory", source })?;
        Ok(Self { store, keys, snapshots, snapshot_every: DEFAULT_SNAPSHOT_EVERY })
    }

    /// Renews snapshots every `events` events instead of the default.
    pub fn with_snapshot_every(mut self, events: u64) -> Self {
        self.snapshot_every = events.max(1);
        self
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    pub fn snapshots(&self) -> &SnapshotStore {
        &self.snapshots
    }
}

impl<S: EventStore> Engine<S> {
    /// Creates the Finnish demo board ("Leaderin kulmakivet") by running its commands, as if
    /// people had made them starting at `now`.
    pub fn create_demo_board(&self, now: kipina_proto::Timestamp) -> Result<kipina_proto::BoardId, ExecuteError> {
        use uuid::Uuid;
        let board = kipina_proto::BoardId(Uuid::now_v7());
        let demo = kipina_domain::demo::leader_cornerstones(Uuid::now_v7, now);
        let mut state = kipina_domain::BoardState::default();
        for step in demo.steps {
            let context = kipina_domain::Context { actor: step.actor, at: step.at };
            self.execute(board, &mut state, kipina_proto::CommandId(Uuid::now_v7()), context, &step.command)?;
        }
        Ok(board)
    }
}
