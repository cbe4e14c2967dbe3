//! One key file per participant and board, created on first need and destroyed on erasure.

use getrandom::fill as fill_random;
use kipina_proto::{BoardId, ParticipantId};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A participant's 256-bit key.
#[derive(Clone, PartialEq, Eq)]
pub struct ParticipantKey(pub(super) [u8; 32]);

impl std::fmt::Debug for ParticipantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even in debug logs.
        f.write_str("ParticipantKey(..)")
    }
}

impl ParticipantKey {
    /// The raw key bytes (for tests that prove the key is gone from disk).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The key files under one directory, with a cache in memory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    // `None` remembers that a key is known to be absent (never made, or destroyed).
    cache: Mutex<HashMap<(BoardId, ParticipantId), Option<ParticipantKey>>>,
}

impl KeyStore {
    /// Opens (and creates) the key directory.
    pub fn open(dir: &Path) -> io::Result<Self> {
        crate::durable::ensure_dir(dir)?;
        Ok(Self { inner: Arc::new(Inner { dir: dir.to_owned(), cache: Mutex::new(HashMap::new()) }) })
    }

    fn board_dir(&self, board: BoardId) -> PathBuf {
        self.inner.dir.join(board.to_string())
    }

    fn path(&self, board: BoardId, participant: ParticipantId) -> PathBuf {
        self.board_dir(board).join(format!("{participant}.key"))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(BoardId, ParticipantId), Option<ParticipantKey>>> {
        // A panic while holding this lock leaves only a cache behind; the files are the truth.
        self.inner.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The participant's key, if it exists.
    pub fn get(&self, board: BoardId, participant: ParticipantId) -> io::Result<Option<ParticipantKey>> {
        if let Some(cached) = self.cache().get(&(board, participant)) {
            return Ok(cached.clone());
        }
        let key = match fs::read(self.path(board, participant)) {
            Ok(bytes) => Some(ParticipantKey(bytes.try_into().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("key file of {participant} is not 32 bytes"))
            })?)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(error),
        };
        self.cache().insert((board, participant), key.clone());
        Ok(key)
    }

    /// The participant's key, made and made durable first if it does not exist yet. The key must
    /// be on disk before any event sealed with it is, or a crash could leave unreadable events.
    pub fn get_or_create(&self, board: BoardId, participant: ParticipantId) -> io::Result<ParticipantKey> {
        if let Some(key) = self.get(board, participant)? {
            return Ok(key);
        }
        // A new participant's first command needs room in the event store as well: refused on a
        // full disk before a key file is left behind for a command that cannot be stored (as
        // `io::ErrorKind::StorageFull`, which the client hears as "the server's disk is full").
        crate::disk_space::check(&self.inner.dir, 0)?;
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes).map_err(|error| io::Error::other(format!("no randomness for a key: {error}")))?;
        let dir = self.board_dir(board);
        fs::create_dir_all(&dir)?;
        let path = self.path(board, participant);
        let temporary = path.with_extension("key.tmp");
        {
            let mut file = File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        fs::rename(&temporary, &path)?;
        File::open(&dir)?.sync_all()?;
        File::open(&self.inner.dir)?.sync_all()?;
        let key = ParticipantKey(bytes);
        self.cache().insert((board, participant), Some(key.clone()));
        Ok(key)
    }

    /// Destroys the key for good: the file is overwritten with zeros, synced and removed, and
    /// the removal is synced. Destroying a key that does not exist is fine (erasure is retried
    /// on start-up until it has happened).
    pub fn destroy(&self, board: BoardId, participant: ParticipantId) -> io::Result<()> {
        let path = self.path(board, participant);
        match OpenOptions::new().write(true).open(&path) {
            Ok(mut file) => {
                file.write_all(&[0u8; 32])?;
                file.sync_all()?;
                drop(file);
                fs::remove_file(&path)?;
                File::open(self.board_dir(board))?.sync_all()?;
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        self.cache().insert((board, participant), None);
        Ok(())
    }

    /// Every participant of `board` that has a key file.
    pub fn participants_with_keys(&self, board: BoardId) -> io::Result<Vec<ParticipantId>> {
        let dir = self.board_dir(board);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut participants = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            if let Some(id) = name.to_str().and_then(|name| name.strip_suffix(".key"))
                && let Ok(participant) = id.parse()
            {
                participants.push(participant);
            }
        }
        participants.sort();
        Ok(participants)
    }
}
