//! Snapshots: the board state as of some sequence number, saved so start-up need not replay
//! the whole log. They are disposable: a missing, damaged or outdated snapshot is ignored and
//! the state is rebuilt from the log. A snapshot holds personal text in the clear, so erasure
//! deletes the board's snapshot (the file, not just a reference to it) and writes a new one.
//!
//! File format: one header line of JSON (`format`, `board`, `seq`, `len`, `crc`), a newline,
//! then `len` bytes of the state as JSON whose CRC-32 is `crc`.

use kipina_domain::BoardState;
use kipina_proto::BoardId;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Bumped whenever `BoardState`'s shape changes, so older snapshots are rebuilt, not misread.
pub const SNAPSHOT_FORMAT: u32 = 4;

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    board: BoardId,
    seq: u64,
    len: usize,
    crc: u32,
}

/// A snapshot read back from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    pub state: BoardState,
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot i/o: {0}")]
    Io(#[from] io::Error),
    #[error("snapshot of board {board} is unusable: {problem}")]
    Unusable { board: BoardId, problem: String },
}

/// The snapshot files of a data directory.
#[derive(Clone, Debug)]
pub struct SnapshotStore {
    dir: PathBuf,
}

impl SnapshotStore {
    pub fn open(dir: &Path) -> io::Result<Self> {
        crate::durable::ensure_dir(dir)?;
        Ok(Self { dir: dir.to_owned() })
    }

    fn path(&self, board: BoardId) -> PathBuf {
        self.dir.join(format!("{board}.snapshot"))
    }

    /// Whether the board has a snapshot file (usable or not).
    pub fn exists(&self, board: BoardId) -> bool {
        self.path(board).exists()
    }

    /// Reads the board's snapshot. `Ok(None)` when there is none; an error when there is one
    /// that cannot be trusted (the caller ignores it and rebuilds, after saying so).
    pub fn load(&self, board: BoardId) -> Result<Option<Snapshot>, SnapshotError> {
        let bytes = match fs::read(self.path(board)) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let unusable = |problem: String| SnapshotError::Unusable { board, problem };
        let newline = bytes.iter().position(|byte| *byte == b'\n').ok_or_else(|| unusable("no header line".into()))?;
        let header: Header =
            serde_json::from_slice(&bytes[..newline]).map_err(|error| unusable(format!("header: {error}")))?;
        if header.format != SNAPSHOT_FORMAT {
            return Err(unusable(format!("format {} is not {SNAPSHOT_FORMAT}", header.format)));
        }
        if header.board != board {
            return Err(unusable(format!("it belongs to board {}", header.board)));
        }
        let body = &bytes[newline + 1..];
        if body.len() != header.len {
            return Err(unusable(format!("{} bytes of state, header says {}", body.len(), header.len)));
        }
        if crc32fast::hash(body) != header.crc {
            return Err(unusable("checksum mismatch".into()));
        }
        let state: BoardState = serde_json::from_slice(body).map_err(|error| unusable(format!("state: {error}")))?;
        if state.version != header.seq {
            return Err(unusable(format!("state is at {}, header says {}", state.version, header.seq)));
        }
        Ok(Some(Snapshot { seq: header.seq, state }))
    }

    /// Saves the state atomically (temporary file, fsync, rename, fsync of the directory).
    pub fn save(&self, board: BoardId, state: &BoardState) -> Result<(), SnapshotError> {
        let body = serde_json::to_vec(state).map_err(|error| SnapshotError::Unusable {
            board,
            problem: format!("state does not serialise: {error}"),
        })?;
        let header =
            Header { format: SNAPSHOT_FORMAT, board, seq: state.version, len: body.len(), crc: crc32fast::hash(&body) };
        let header = serde_json::to_vec(&header).map_err(|error| SnapshotError::Unusable {
            board,
            problem: format!("header does not serialise: {error}"),
        })?;
        let path = self.path(board);
        let temporary = path.with_extension("snapshot.tmp");
        {
            let mut file = File::create(&temporary)?;
            file.write_all(&header)?;
            file.write_all(b"\n")?;
            file.write_all(&body)?;
            file.sync_all()?;
        }
        fs::rename(&temporary, &path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// Deletes the board's snapshot, if any, and syncs the directory.
    pub fn remove(&self, board: BoardId) -> Result<(), SnapshotError> {
        match fs::remove_file(self.path(board)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}
