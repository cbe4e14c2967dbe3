//! The layout of a data directory: the event log, the participants' keys and the snapshots.
//!
//! ```text
//! DATA/events/      sled: the event streams and command records (the truth)
//! DATA/keys/        one key file per board and participant (erasure destroys one)
//! DATA/snapshots/   one disposable snapshot per board, rebuilt from the log when missing
//! ```

use std::path::{Path, PathBuf};

/// A data directory's paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn events(&self) -> PathBuf {
        self.root.join("events")
    }

    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// Whether the directory holds no event log yet.
    pub fn is_empty(&self) -> bool {
        !self.events().join("db").exists()
    }
}
