//! A file system that can lose power: a test tool for what `kill -9` cannot show.
//!
//! After `kill -9` the kernel still writes out everything the process wrote, so a store that
//! never syncs passes any number of kill trials. This crate mounts a FUSE file system over a
//! *backing directory*: every operation passes through to it, so the program under test sees an
//! ordinary file system, but the file system also keeps what has been made **durable**. Cutting
//! the power ([`PowerCut::cut`]) unmounts it and writes into a fresh directory only what a
//! machine whose power failed at that instant would have on its disk.
//!
//! # The model
//!
//! - **File content** is durable up to the file's last `fsync` or `fdatasync` (the two are the
//!   same here). Every `write` and size change since then is *unsynced* and kept, in order, per
//!   file. `sync_file_range` makes nothing durable; on FUSE it does not even reach the file
//!   system (the kernel has no dirty pages to start writing, since FUSE writes go straight
//!   through), which means the same. sled 0.34's own `flush` ends in `sync_file_range`, so only
//!   the store's own `fdatasync` counts. `sync(2)` and `syncfs(2)` do not reach the file system
//!   either and make nothing durable.
//! - **Directory entries** (create, mkdir, symlink, unlink, rmdir, rename): in [`Mode::Strict`]
//!   a directory's entries are durable as they were at its last `fsync` (of the directory
//!   itself), as POSIX promises and no more: a new file whose directory was never synced is
//!   gone after a cut even if the file was, a rename not followed by a sync of the directory
//!   leaves the old name, and a new directory needs a sync of its parent. A rename between two
//!   directories is two changes: the new name is durable with a sync of the new directory, the
//!   old one is gone with a sync of the old one. In [`Mode::Lenient`] every directory change is
//!   durable at once (roughly ext4's journal with a commit after each change): this checks that
//!   a program syncs its files' *data*, without the directory rule.
//! - **What a cut keeps of the unsynced changes** ([`Cut`]): with [`Unsynced::Lost`] none, the
//!   worst case and LazyFS's `clear-cache`; with [`Unsynced::Prefix`] each file keeps a random
//!   number of its unsynced changes, the oldest first, and with [`Cut::torn`] also the next
//!   write torn at a random 512-byte sector boundary inside it (a disk writes a sector whole or
//!   not at all, so a write within one sector is never torn), as a disk that writes in order
//!   would leave it; with
//!   [`Unsynced::Subset`] each change is kept or not independently, as a disk that reorders its
//!   cache would (LazyFS's `torn-seq`; the SQLite crash VFS decides each unsynced sector
//!   likewise).
//! - **What a cut keeps of the unsynced directory changes** ([`Cut::entries`], strict mode
//!   only; the lenient one has none): with [`Entries::Lost`] none, each directory as its last
//!   sync left it; with [`Entries::Prefix`] a random number of them, oldest first, in the order
//!   they were made *across the whole file system*; with [`Entries::PerDirectory`] each
//!   directory a random number of its own, oldest first, independently of the others. Each
//!   operation is kept whole or not at all (a rename within a directory is atomic); a rename
//!   between two directories is one change in the prefix mode and two, one per directory, in
//!   the per-directory mode.
//!
//!   Why prefixes and not any subset: a journaling file system logs metadata operations in the
//!   order they are made and replays its log after a crash up to the last complete transaction,
//!   so it keeps a prefix of them — one journal for the whole file system in ext4 (`jbd2`, also
//!   with `data=ordered`, which only orders *file data* before the metadata that exposes it) and
//!   xfs, hence [`Entries::Prefix`]. The study of crash behaviour behind ALICE (Pillai et al.,
//!   "All File Systems Are Not Created Equal", OSDI 2014) found directory operations atomic on
//!   every file system it tried, and ordered among themselves on ext3/ext4 and xfs but not on
//!   btrfs (whose `fsync` log tree persists one file's names without the operations before
//!   them), hence [`Entries::PerDirectory`] as the weaker order. A state no such file system
//!   leaves — a rename kept without the create of the file renamed — is not produced. Jepsen's
//!   LazyFS and the SQLite crash VFS model lost and torn *file data* only; they pass directory
//!   operations straight to the file system below, so they do not decide this.
//! - What is not modelled: file modes, owners and times (the image takes them from the live file
//!   where it still exists), hard links (`link` answers `EPERM`), `fallocate` (answers
//!   `EOPNOTSUPP`; glibc then writes zeros, which is modelled), `RENAME_EXCHANGE`/`NOREPLACE`
//!   (`EINVAL`), extended attributes, and data that a program maps into memory and never writes.
//!
//! The backing directory always holds the live state (what the program wrote, synced or not):
//! unmounting without a cut ([`PowerCut::unmount`]) is a clean shutdown. Everything already in
//! the backing directory when it is mounted counts as durable.
//!
//! # Faults on demand
//!
//! [`PowerCut::faults`] changes the file system's behaviour while it runs (the binary does the
//! same through lines on its standard input):
//! - [`Faults::fail_syncs`]: `fsync`, `fdatasync` and a directory's `fsync` answer `EIO`, and a
//!   file's unsynced changes then never become durable (Linux marks the pages clean after a
//!   failed writeback: a later sync that succeeds does not write them), while reads go on seeing
//!   them — the "fsyncgate" behaviour;
//! - [`Faults::limit_space`]: writes beyond so many more bytes answer `ENOSPC` (a write that
//!   crosses the limit is short, the next one fails), and so do creating files and directories
//!   once nothing is left; `limit_space(None)` frees the space again. `statfs` (what `df` and
//!   `statvfs(3)` read) shows the room left, in 4 KiB blocks: the limit minus what has been
//!   written since it was set; [`Faults::hide_space_limit`] makes it show plenty of room
//!   instead, as when another program takes the space between a look and a write;
//! - [`Faults::flip_reads`]: reads of one file (or all) return the bytes at some offsets
//!   inverted. A file opened while the rule is set bypasses the page cache so that every read
//!   sees it; one opened before may be served from the cache.
//!
//! # Use
//!
//! ```no_run
//! use kipina_powercut::{Cut, Mode, PowerCut};
//! # fn main() -> std::io::Result<()> {
//! # let (backing, mountpoint, image) = (std::path::Path::new("b"), std::path::Path::new("m"), std::path::Path::new("i"));
//! let fs = PowerCut::mount(backing, mountpoint, Mode::Strict)?;
//! // ... run a program on `mountpoint`, then power off and kill it (SIGKILL) ...
//! fs.power_off();
//! let report = fs.cut(image, &Cut::random(42))?;
//! // `image` now holds what survived; `report` says what was lost.
//! # Ok(()) }
//! ```
//!
//! Mounting needs `/dev/fuse` and either root (fuser mounts with `mount(2)` itself; no libfuse
//! is linked) or Debian's `fuse3` package for the `fusermount3` helper.

mod fs;
mod model;

use fuser::{BackgroundSession, Config, MountOption};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Whether directory changes need a sync of the directory to be durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// A directory's entries are durable as of its last `fsync`.
    Strict,
    /// Every directory change is durable at once; only file data needs a sync.
    Lenient,
}

/// What each file keeps of its unsynced changes when the power goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsynced {
    /// Nothing.
    Lost,
    /// A random number of them, oldest first (and, with [`Cut::torn`], part of the next write).
    Prefix,
    /// Each one or not, independently (so in any order).
    Subset,
}

/// What a cut keeps of the directory changes (create, mkdir, symlink, unlink, rmdir, rename)
/// that no sync of their directory covered, in [`Mode::Strict`] (in the lenient mode there are
/// none: every change is durable at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entries {
    /// None: each directory is as its last sync left it (what POSIX promises, and no more).
    Lost,
    /// A random number of them, in the order they were made across the whole file system, as a
    /// file system with one metadata journal written in order leaves them (ext4, xfs).
    Prefix,
    /// Each directory a random number of its own, in the order made, independently of the
    /// others (directories written back on their own); a rename between two directories may
    /// then be kept in one and not the other.
    PerDirectory,
}

/// How a power cut treats unsynced writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub unsynced: Unsynced,
    /// With [`Unsynced::Prefix`]: the first write not kept whole is kept in part (up to a
    /// random sector boundary inside it, if it spans one).
    pub torn: bool,
    /// What the strict mode keeps of unsynced directory changes.
    pub entries: Entries,
    /// Seeds every random choice: the same cut of the same state gives the same image.
    pub seed: u64,
}

impl Cut {
    /// Nothing unsynced survives.
    pub fn lose_everything_unsynced() -> Cut {
        Cut { unsynced: Unsynced::Lost, torn: false, entries: Entries::Lost, seed: 0 }
    }

    /// A cut whose kind is chosen by `seed` too: a third lose everything unsynced, a third keep
    /// a prefix (half of those with a torn write), a third a subset. Unsynced directory changes
    /// are lost ([`Cut::keeping_entries`] changes that).
    pub fn random(seed: u64) -> Cut {
        let mut rng = fastrand::Rng::with_seed(seed);
        let unsynced = [Unsynced::Lost, Unsynced::Prefix, Unsynced::Subset][rng.usize(0..3)];
        Cut { unsynced, torn: unsynced == Unsynced::Prefix && rng.bool(), entries: Entries::Lost, seed }
    }

    /// The same cut, keeping unsynced directory changes as `entries` says.
    pub fn keeping_entries(self, entries: Entries) -> Cut {
        Cut { entries, ..self }
    }
}

/// What a cut left out, for telling why a trial failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CutReport {
    /// Paths (relative to the mount) that existed when the power went and are not in the image,
    /// or are there as another file (a rename or replacement that was not durable).
    pub lost: Vec<PathBuf>,
    /// Paths in the image that did not exist when the power went, or were another file then
    /// (a removal or rename that was not durable).
    pub revived: Vec<PathBuf>,
    /// Files in the image that had unsynced changes.
    pub unsynced: Vec<UnsyncedFile>,
    /// Directory changes no sync of their directory covered (strict mode).
    pub entry_changes: usize,
    /// How many of them the image keeps (see [`Entries`]).
    pub entry_changes_kept: usize,
}

/// A file in the image that had changes no sync covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsyncedFile {
    /// The file's path in the image.
    pub path: PathBuf,
    /// Writes and size changes since its last sync.
    pub changes: usize,
    /// The bytes those writes carried.
    pub bytes: usize,
    /// How many of them the image keeps whole.
    pub kept: usize,
    /// Whether one more write is kept in part.
    pub torn: bool,
    /// How often it was synced while mounted (0: never, so everything written to it since the
    /// mount was unsynced).
    pub syncs: usize,
}

/// Reads that come back damaged: the bytes at `offsets` are inverted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlipReads {
    /// The file (its path relative to the mount), or every file.
    pub file: Option<PathBuf>,
    pub offsets: Range<u64>,
}

/// Faults to inject while the file system runs, and counters to wait on.
#[derive(Debug, Default)]
pub struct Faults {
    fail_syncs: AtomicBool,
    /// Bytes that may still be written; `None`: no limit.
    space: Mutex<Option<u64>>,
    /// Whether `statfs` keeps showing plenty of room whatever the limit.
    space_unseen: AtomicBool,
    flip: Mutex<Option<FlipReads>>,
    syncs: AtomicU64,
    failed_syncs: AtomicU64,
    refused_writes: AtomicU64,
}

impl Faults {
    /// From now on every `fsync`/`fdatasync` (of files and directories) answers `EIO`, and
    /// whatever it was to make durable never becomes durable (`false`: syncs work again).
    pub fn fail_syncs(&self, fail: bool) {
        self.fail_syncs.store(fail, Ordering::SeqCst);
    }

    /// Allows only `bytes` more bytes of writes before `ENOSPC` (`None`: no limit). `statfs`
    /// shows the room left: the free (and available) blocks are what is left of `bytes` after
    /// the writes since, in whole 4 KiB blocks.
    pub fn limit_space(&self, bytes: Option<u64>) {
        *self.space.lock().unwrap_or_else(PoisonError::into_inner) = bytes;
    }

    /// Whether `statfs` hides the limit and goes on showing plenty of room (`false`, the
    /// default: it shows the room left). Hidden, it stands for space taken by another program
    /// between a look at the free space and the write that finds none.
    pub fn hide_space_limit(&self, hidden: bool) {
        self.space_unseen.store(hidden, Ordering::SeqCst);
    }

    /// The room `statfs` shows: `None` for no limit (or a hidden one).
    fn space_shown(&self) -> Option<u64> {
        if self.space_unseen.load(Ordering::SeqCst) {
            return None;
        }
        *self.space.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Damages reads as `rule` says (`None`: reads are right again).
    pub fn flip_reads(&self, rule: Option<FlipReads>) {
        *self.flip.lock().unwrap_or_else(PoisonError::into_inner) = rule;
    }

    /// Syncs (of files and directories) that succeeded.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }

    /// Syncs answered with `EIO`.
    pub fn failed_syncs(&self) -> u64 {
        self.failed_syncs.load(Ordering::SeqCst)
    }

    /// Writes (and creations) answered with `ENOSPC`.
    pub fn refused_writes(&self) -> u64 {
        self.refused_writes.load(Ordering::SeqCst)
    }

    /// Takes room for a write of `wanted` bytes: how many of them fit.
    fn take_space(&self, wanted: usize) -> usize {
        let mut space = self.space.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(left) = space.as_mut() else { return wanted };
        let allowed = usize::try_from(*left).unwrap_or(usize::MAX).min(wanted);
        *left -= allowed as u64;
        if allowed == 0 && wanted > 0 {
            self.refused_writes.fetch_add(1, Ordering::SeqCst);
        }
        allowed
    }

    /// Whether nothing more can be written (new files and directories are refused then).
    fn out_of_space(&self) -> bool {
        let full = *self.space.lock().unwrap_or_else(PoisonError::into_inner) == Some(0);
        if full {
            self.refused_writes.fetch_add(1, Ordering::SeqCst);
        }
        full
    }
}

/// The mounted file system.
#[derive(Debug)]
pub struct PowerCut {
    session: Option<BackgroundSession>,
    model: Arc<Mutex<model::Model>>,
    faults: Arc<Faults>,
    powered: Arc<AtomicBool>,
    mountpoint: PathBuf,
}

/// Taken around mounting and unmounting. Mounting runs `fusermount3` in a child process, and a
/// child holds a copy of every open file of this process from its start until it executes the
/// program; a mount of another thread being unmounted right then, just after its last file was
/// closed, would answer "busy". One at a time, a mount never meets another's child.
static MOUNTS: Mutex<()> = Mutex::new(());

impl PowerCut {
    /// Mounts the file system over `backing` (whose content counts as durable) at `mountpoint`
    /// (an existing, empty directory).
    pub fn mount(backing: &Path, mountpoint: &Path, mode: Mode) -> io::Result<PowerCut> {
        let powered = Arc::new(AtomicBool::new(true));
        let model = Arc::new(Mutex::new(model::Model::new(backing, mode == Mode::Strict, powered.clone())?));
        let faults = Arc::new(Faults::default());
        let filesystem = fs::PowerCutFs { model: model.clone(), faults: faults.clone(), powered: powered.clone() };
        let mut config = Config::default();
        config.mount_options =
            vec![MountOption::FSName("kipina-powercut".into()), MountOption::Subtype("powercut".into())];
        config.n_threads = Some(1);
        let session = {
            let _turn = MOUNTS.lock().unwrap_or_else(PoisonError::into_inner);
            fuser::spawn_mount(filesystem, mountpoint, &config)?
        };
        Ok(PowerCut { session: Some(session), model, faults, powered, mountpoint: mountpoint.to_owned() })
    }

    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// The faults to inject, and counters of syncs and refusals.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Cuts the power by itself right after the program under test makes `changes` more
    /// directory changes (creates, renames, removals; 0 or `None`: not), before it can sync the
    /// directory: a way to cut inside the short window between a change and its sync. Wait for
    /// [`PowerCut::powered`] to turn `false`.
    pub fn power_off_after_entry_changes(&self, changes: Option<u64>) {
        self.model.lock().unwrap_or_else(PoisonError::into_inner).power_off_after_entry_changes(changes);
    }

    /// Whether the power is still on.
    pub fn powered(&self) -> bool {
        self.powered.load(Ordering::SeqCst)
    }

    /// The instant of the power cut: from now on every request answers `EIO` and nothing
    /// changes (what was durable stays as it is). Stop the program under test after this (it
    /// must have no file open on the mount for [`PowerCut::cut`] to unmount).
    pub fn power_off(&self) {
        self.powered.store(false, Ordering::SeqCst);
    }

    /// Cuts the power (if [`PowerCut::power_off`] has not already), unmounts, and writes what
    /// survived into `image` (a missing or empty directory). The backing directory keeps the
    /// live state.
    pub fn cut(mut self, image: &Path, cut: &Cut) -> io::Result<CutReport> {
        self.power_off();
        self.unmount_now()?;
        let model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        model.materialize(image, cut)
    }

    /// Unmounts without a power cut: the backing directory holds everything written.
    pub fn unmount(mut self) -> io::Result<()> {
        self.unmount_now()
    }

    fn unmount_now(&mut self) -> io::Result<()> {
        let _turn = MOUNTS.lock().unwrap_or_else(PoisonError::into_inner);
        match self.session.take() {
            Some(session) => {
                let result = session.umount_and_join().or_else(|error| match error.raw_os_error() {
                    // Now and then the kernel (6.18 here) ends the FUSE connection of a mount that
                    // went with ECONNABORTED rather than ENODEV, and fuser takes only ENODEV for
                    // the end of its session: the unmount itself succeeded.
                    Some(libc::ECONNABORTED) => Ok(()),
                    _ => Err(error),
                });
                if result.is_err() {
                    // Still in use (a program has a file open on it): detach it, so that no
                    // mount outlives this value. The caller still gets the error.
                    self.detach();
                }
                result
            }
            None => Ok(()),
        }
    }

    /// A lazy unmount: gone from the tree now, released when its last file closes.
    fn detach(&self) {
        let detached = std::process::Command::new("fusermount3")
            .args(["-u", "-z"])
            .arg(&self.mountpoint)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !detached {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.mountpoint)
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Drop for PowerCut {
    fn drop(&mut self) {
        let _ = self.unmount_now();
    }
}
