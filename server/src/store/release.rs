//! Closing a sled database so that its directory can be opened again at once.
//!
//! sled 0.34 holds an exclusive `flock` on its `db` file for as long as any of its handles
//! lives, and some of them live on in its background I/O threads for a moment after the last
//! handle of ours is dropped. A store that says it is closed must be openable again straight
//! away (a restart in the same process, a test that reopens, a command run after the server
//! stopped), so closing waits for that lock itself instead of its opener retrying for a while.
//!
//! [`Release`] is kept after the `sled::Db` it guards (a struct's fields drop in order). Its
//! drop blocks on the same lock, which the kernel grants the moment sled's last file
//! descriptor closes, lets go of it at once and then tells whoever waits ([`Release::closed`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// A sled database and what closes it, in the order they must drop. Tests that open sled's
/// files directly (to play the part of damage) use it too, so the store can open them next.
#[derive(Debug)]
pub struct OpenedSled {
    pub db: sled::Db,
    pub release: Release,
}

impl std::ops::Deref for OpenedSled {
    type Target = sled::Db;

    fn deref(&self) -> &sled::Db {
        &self.db
    }
}

impl OpenedSled {
    /// Opens sled with `config`, whose directory is `dir`.
    pub fn open(config: &sled::Config, dir: &Path) -> sled::Result<Self> {
        let db = config.open()?;
        Ok(OpenedSled { db, release: Release::new(dir.join("db")) })
    }
}

/// Waits, when dropped, until no one holds sled's lock on `db_file` any more.
#[derive(Debug)]
pub struct Release {
    db_file: PathBuf,
    closed: watch::Sender<bool>,
}

impl Release {
    fn new(db_file: PathBuf) -> Self {
        Release { db_file, closed: watch::Sender::new(false) }
    }

    /// Becomes `true` once the database is closed and its directory free to open again.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        // Only this process held the lock (sled took it when it opened), so blocking here waits
        // for sled's own threads, never for another program.
        match File::open(&self.db_file) {
            Ok(file) => {
                if let Err(error) = file.lock() {
                    tracing::warn!(file = %self.db_file.display(), %error, "could not wait for sled's lock");
                }
            }
            Err(error) => tracing::warn!(file = %self.db_file.display(), %error, "could not wait for sled's lock"),
        }
        self.closed.send_replace(true);
    }
}
