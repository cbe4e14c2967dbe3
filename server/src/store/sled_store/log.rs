//! The commit log (ADR 0007): what makes a group durable with one trip to the disk.
//!
//! sled 0.34 writes its buffers with `pwrite` and then waits for them with `sync_file_range`, a
//! trip to the disk of its own that no setting skips; a store that acknowledged only after
//! sled's flush and an `fdatasync` paid two trips per commit. Instead, the writer writes each
//! group's records as one *frame* into this log, a file of fixed size that was filled with zeros
//! and synced when it was made, so a frame overwrites space the file already has, and the
//! syncer's `fdatasync` of it commits data only (no change of the file's size, no journal
//! commit): the disk's fsync floor. The writer applies the group to sled too, without flushing
//! it; sled writes its buffers in its own time.
//!
//! Once the log is full, a *checkpoint* makes sled durable (its flush, then `fdatasync` of its
//! file and any new blob file) and starts a new *generation*: the header names it, and every
//! frame carries the generation it was written in, so frames of an older one, still in the file
//! further on, are never read as new. Opening does the same after it has applied every frame of
//! the current generation to sled, so a frame never outlives the life of the store that wrote it.
//!
//! # Format
//!
//! - Two header slots, at offsets 0 and 512 (separate sectors): `[magic "KPLOG001"][generation
//!   u64][crc32 of the 16 bytes before]`, big-endian. The valid slot with the higher generation
//!   counts; a new generation is written to the other slot, so a write torn by a power cut
//!   leaves the previous header whole.
//! - Frames from offset 4096, one after another: `[crc32][length u32][generation u64][number
//!   u64][entries]`, where the crc covers everything after itself, `length` counts the bytes of
//!   `entries`, and `number` counts the frames of the generation from 0. The entries are
//!   `[key length u16][value length u32][key][value]`, each a sled entry exactly as applied.
//!
//! Reading stops at the first frame that is not the next one of the generation or fails its
//! checksum: the end of what was written, or a frame torn because it was never synced, and
//! so never acknowledged.

use super::StoreError;
use super::record::{self, ParsedKey};
use crate::durable::sync_directory;
use kipina_proto::BoardId;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The log's file, inside the store's directory.
pub(super) const LOG_FILE: &str = "commit-log";
/// Room for frames. A group larger than this is written straight to sled and synced there.
pub(super) const LOG_CAPACITY: u64 = 16 * 1024 * 1024;
/// Where the frames begin; the header slots live before.
const FRAMES_AT: u64 = 4096;
const SLOT_AT: [u64; 2] = [0, 512];
const MAGIC: &[u8; 8] = b"KPLOG001";
const SLOT_LEN: usize = 8 + 8 + 4;
const FRAME_HEADER_LEN: usize = 4 + 4 + 8 + 8;
const ENTRY_HEADER_LEN: usize = 2 + 4;

/// The writer's side of the log.
pub(super) struct CommitLog {
    path: PathBuf,
    file: File,
    generation: u64,
    /// The number of the next frame.
    next: u64,
    /// Where the next frame goes.
    offset: u64,
    /// The frame being built, reused.
    frame: Vec<u8>,
}

/// What opening found in the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Recovered {
    pub(super) frames: u64,
    pub(super) entries: u64,
}

/// The bytes one frame of these entries takes.
pub(super) fn frame_len<'a>(entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> u64 {
    let body: usize = entries.into_iter().map(|(key, value)| ENTRY_HEADER_LEN + key.len() + value.len()).sum();
    (FRAME_HEADER_LEN + body) as u64
}

/// Whether a frame of `len` bytes can go into the log at all (after a checkpoint if need be).
pub(super) fn fits_empty_log(len: u64) -> bool {
    len <= LOG_CAPACITY
}

fn encode_slot(generation: u64) -> [u8; SLOT_LEN] {
    let mut slot = [0u8; SLOT_LEN];
    slot[..8].copy_from_slice(MAGIC);
    slot[8..16].copy_from_slice(&generation.to_be_bytes());
    let crc = crc32fast::hash(&slot[..16]);
    slot[16..].copy_from_slice(&crc.to_be_bytes());
    slot
}

fn decode_slot(slot: &[u8; SLOT_LEN]) -> Option<u64> {
    let crc = u32::from_be_bytes(slot[16..].try_into().ok()?);
    (&slot[..8] == MAGIC && crc32fast::hash(&slot[..16]) == crc)
        .then(|| u64::from_be_bytes(slot[8..16].try_into().unwrap_or_default()))
}

fn damaged(path: &Path, problem: &str) -> StoreError {
    StoreError::Damaged(vec![super::Damage {
        board: None,
        seq: None,
        problem: format!("{}: {problem}", path.display()),
    }])
}

impl CommitLog {
    /// Opens the log in `dir` (making it when missing), applies every frame of its current
    /// generation to sled, makes sled durable when it applied any, and starts a new generation.
    /// `sync_sled` makes everything applied to sled durable.
    pub(super) fn open(
        dir: &Path,
        db: &sled::Db,
        sync_sled: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(Self, Recovered), StoreError> {
        let path = dir.join(LOG_FILE);
        if !path.exists() {
            create(dir)?;
        }
        let file = File::options().read(true).write(true).open(&path)?;
        let length = file.metadata()?.len();
        if length < FRAMES_AT + LOG_CAPACITY {
            return Err(damaged(&path, &format!("the commit log is {length} bytes, shorter than it was made")));
        }
        let mut slots = [[0u8; SLOT_LEN]; 2];
        for (slot, at) in slots.iter_mut().zip(SLOT_AT) {
            file.read_exact_at(slot, at)?;
        }
        let Some(generation) = slots.iter().filter_map(decode_slot).max() else {
            return Err(damaged(
                &path,
                "neither header of the commit log is readable, so the acknowledged changes it may hold cannot be read",
            ));
        };
        let mut log = CommitLog { path, file, generation, next: 0, offset: FRAMES_AT, frame: Vec::new() };
        let recovered = log.replay(db)?;
        if recovered.frames > 0 {
            sync_sled()?;
        }
        // Always a new generation: the next frames must never be read together with this
        // generation's older frames further on in the file.
        log.start_generation(generation + 1)?;
        Ok((log, recovered))
    }

    /// Applies the current generation's frames to sled, in order, each as one batch.
    fn replay(&mut self, db: &sled::Db) -> Result<Recovered, StoreError> {
        let mut recovered = Recovered::default();
        let end = FRAMES_AT + LOG_CAPACITY;
        let mut header = [0u8; FRAME_HEADER_LEN];
        let mut body = Vec::new();
        let mut stored_before: HashMap<BoardId, u64> = HashMap::new();
        loop {
            if self.offset + FRAME_HEADER_LEN as u64 > end {
                break;
            }
            self.file.read_exact_at(&mut header, self.offset)?;
            let crc = u32::from_be_bytes(header[0..4].try_into().unwrap_or_default());
            let length = u32::from_be_bytes(header[4..8].try_into().unwrap_or_default()) as u64;
            let generation = u64::from_be_bytes(header[8..16].try_into().unwrap_or_default());
            let number = u64::from_be_bytes(header[16..24].try_into().unwrap_or_default());
            if generation != self.generation || number != self.next {
                break;
            }
            let frame_end = self.offset + FRAME_HEADER_LEN as u64 + length;
            if frame_end > end {
                break;
            }
            body.resize(length as usize, 0);
            self.file.read_exact_at(&mut body, self.offset + FRAME_HEADER_LEN as u64)?;
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&header[4..]);
            hasher.update(&body);
            if hasher.finalize() != crc {
                break;
            }
            let Some(entries) = decode_entries(&body) else {
                // A frame with the right checksum that does not parse was not written by this
                // store: it cannot be the torn end of the log.
                return Err(damaged(
                    &self.path,
                    &format!("frame {number} of generation {generation} passes its checksum but cannot be read"),
                ));
            };
            let mut batch = sled::Batch::default();
            for (key, value) in entries {
                recovered.entries += 1;
                // An event sled holds already may be inside a chunk written from its board's
                // tail (ADR 0011): not stored a second time on its own. sled holds a prefix of
                // each board's stream, so that is every seq up to the board's stored head as it
                // was before this replay.
                if let Ok(ParsedKey::Event { board, seq }) = record::parse_key(key) {
                    let held = match stored_before.entry(board) {
                        Entry::Occupied(entry) => *entry.get(),
                        Entry::Vacant(entry) => *entry.insert(super::stored_head(db, board)?),
                    };
                    if seq <= held {
                        continue;
                    }
                }
                batch.insert(key, value);
            }
            db.apply_batch(batch)?;
            recovered.frames += 1;
            self.next += 1;
            self.offset = frame_end;
        }
        Ok(recovered)
    }

    /// Whether a frame of `len` bytes fits in the room left.
    pub(super) fn has_room(&self, len: u64) -> bool {
        self.offset + len <= FRAMES_AT + LOG_CAPACITY
    }

    /// Writes the entries as the next frame (to the page cache; the syncer syncs the file).
    /// The caller checked that it has room.
    pub(super) fn append<'a>(&mut self, entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> io::Result<()> {
        let frame = &mut self.frame;
        frame.clear();
        frame.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        for (key, value) in entries {
            let key_len = u16::try_from(key.len()).map_err(|_| io::Error::other("a key longer than 65,535 bytes"))?;
            let value_len = u32::try_from(value.len()).map_err(|_| io::Error::other("a value longer than 4 GiB"))?;
            frame.extend_from_slice(&key_len.to_be_bytes());
            frame.extend_from_slice(&value_len.to_be_bytes());
            frame.extend_from_slice(key);
            frame.extend_from_slice(value);
        }
        let length =
            u32::try_from(frame.len() - FRAME_HEADER_LEN).map_err(|_| io::Error::other("a frame over 4 GiB"))?;
        frame[4..8].copy_from_slice(&length.to_be_bytes());
        frame[8..16].copy_from_slice(&self.generation.to_be_bytes());
        frame[16..24].copy_from_slice(&self.next.to_be_bytes());
        let crc = crc32fast::hash(&frame[4..]);
        frame[0..4].copy_from_slice(&crc.to_be_bytes());
        self.file.write_all_at(frame, self.offset)?;
        self.offset += frame.len() as u64;
        self.next += 1;
        Ok(())
    }

    /// Starts a new generation: its header is written to the slot the current one is not in,
    /// and synced, before any frame of it is written. Everything in the log must be durable in
    /// sled by now.
    pub(super) fn start_generation(&mut self, generation: u64) -> io::Result<()> {
        let slot = SLOT_AT[(generation % 2) as usize];
        self.file.write_all_at(&encode_slot(generation), slot)?;
        self.file.sync_data()?;
        self.generation = generation;
        self.next = 0;
        self.offset = FRAMES_AT;
        Ok(())
    }

    /// Whether the current generation has no frame yet.
    pub(super) fn is_empty(&self) -> bool {
        self.next == 0
    }

    /// The next generation, after a checkpoint.
    pub(super) fn next_generation(&self) -> u64 {
        self.generation + 1
    }

    /// A handle on the log's file for the syncer's `fdatasync`.
    pub(super) fn sync_handle(&self) -> io::Result<File> {
        self.file.try_clone()
    }
}

/// The entries of a frame, key and value; `None` when they do not parse.
fn decode_entries(mut body: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut entries = Vec::new();
    while !body.is_empty() {
        let key_len = u16::from_be_bytes(body.get(0..2)?.try_into().ok()?) as usize;
        let value_len = u32::from_be_bytes(body.get(2..6)?.try_into().ok()?) as usize;
        let key = body.get(ENTRY_HEADER_LEN..ENTRY_HEADER_LEN + key_len)?;
        let value = body.get(ENTRY_HEADER_LEN + key_len..ENTRY_HEADER_LEN + key_len + value_len)?;
        entries.push((key, value));
        body = &body[ENTRY_HEADER_LEN + key_len + value_len..];
    }
    Some(entries)
}

/// Makes a new log: header and zeros written to a temporary file, synced, renamed into place,
/// and the directory synced, so a log is there whole or not at all.
fn create(dir: &Path) -> io::Result<()> {
    let fresh = dir.join(format!("{LOG_FILE}.new"));
    {
        let mut file = File::create(&fresh)?;
        let mut header = vec![0u8; FRAMES_AT as usize];
        header[..SLOT_LEN].copy_from_slice(&encode_slot(0));
        file.write_all(&header)?;
        let zeros = vec![0u8; 1024 * 1024];
        let mut left = LOG_CAPACITY;
        while left > 0 {
            let now = left.min(zeros.len() as u64);
            file.write_all(&zeros[..now as usize])?;
            left -= now;
        }
        file.sync_all()?;
    }
    std::fs::rename(&fresh, dir.join(LOG_FILE))?;
    sync_directory(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_db(dir: &Path) -> sled::Db {
        sled::Config::new().path(dir.join("sled")).open().expect("sled opens")
    }

    fn entries(n: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
        (0..3).map(|i| (vec![b'e', n, i], vec![n; 40 + i as usize])).collect()
    }

    fn append(log: &mut CommitLog, entries: &[(Vec<u8>, Vec<u8>)]) {
        log.append(entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))).expect("appends");
    }

    #[test]
    fn frames_written_are_applied_at_the_next_open_and_only_once_per_generation() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open_db(dir.path());
        let (mut log, recovered) = CommitLog::open(dir.path(), &db, || Ok(())).expect("opens");
        assert_eq!(recovered, Recovered::default());
        append(&mut log, &entries(1));
        append(&mut log, &entries(2));
        drop(log);
        let other = tempfile::tempdir().expect("a temporary directory");
        let fresh = open_db(other.path());
        let mut synced = false;
        let (log, recovered) = CommitLog::open(dir.path(), &fresh, || {
            synced = true;
            Ok(())
        })
        .expect("opens");
        assert_eq!(recovered, Recovered { frames: 2, entries: 6 });
        assert!(synced, "sled is made durable after frames were applied");
        for (key, value) in entries(1).into_iter().chain(entries(2)) {
            assert_eq!(fresh.get(&key).expect("reads").as_deref(), Some(value.as_slice()));
        }
        drop(log);
        // The generation moved on: the same frames are not applied again.
        let third = open_db(&other.path().join("again"));
        let (_log, recovered) = CommitLog::open(dir.path(), &third, || Ok(())).expect("opens");
        assert_eq!(recovered, Recovered::default());
        assert!(third.is_empty());
    }

    #[test]
    fn reading_stops_at_a_torn_frame_and_at_a_frame_of_an_older_generation() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open_db(dir.path());
        let (mut log, _) = CommitLog::open(dir.path(), &db, || Ok(())).expect("opens");
        append(&mut log, &entries(1));
        let second_at = log.offset;
        append(&mut log, &entries(2));
        append(&mut log, &entries(3));
        // Tear the second frame: the third is not read either.
        log.file.write_all_at(&[0xff], second_at + FRAME_HEADER_LEN as u64 + 3).expect("writes");
        drop(log);
        let other = tempfile::tempdir().expect("a temporary directory");
        let fresh = open_db(other.path());
        let (mut log, recovered) = CommitLog::open(dir.path(), &fresh, || Ok(())).expect("opens");
        assert_eq!(recovered.frames, 1);
        assert!(fresh.get([b'e', 3, 0]).expect("reads").is_none());
        // The new generation writes one short frame over the first; the older frames after it
        // (generation before) are not read as its own.
        append(&mut log, &[(vec![b'e', 9, 0], vec![9])]);
        drop(log);
        let last = open_db(&other.path().join("last"));
        let (_log, recovered) = CommitLog::open(dir.path(), &last, || Ok(())).expect("opens");
        assert_eq!(recovered, Recovered { frames: 1, entries: 1 });
        assert!(last.get([b'e', 1, 0]).expect("reads").is_none());
    }

    #[test]
    fn a_torn_header_leaves_the_previous_generation_and_no_header_refuses() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = open_db(dir.path());
        let (mut log, _) = CommitLog::open(dir.path(), &db, || Ok(())).expect("opens");
        append(&mut log, &entries(1));
        let generation = log.generation;
        // A new generation's header torn: the current one still counts, with its frames.
        let torn = SLOT_AT[((generation + 1) % 2) as usize];
        log.file.write_all_at(&[1, 2, 3], torn).expect("writes");
        drop(log);
        let other = tempfile::tempdir().expect("a temporary directory");
        let fresh = open_db(other.path());
        let (log, recovered) = CommitLog::open(dir.path(), &fresh, || Ok(())).expect("opens");
        assert_eq!(recovered.frames, 1);
        for at in SLOT_AT {
            log.file.write_all_at(&[0; SLOT_LEN], at).expect("writes");
        }
        drop(log);
        match CommitLog::open(dir.path(), &fresh, || Ok(())) {
            Err(StoreError::Damaged(damage)) => assert!(damage[0].problem.contains("header"), "{damage:?}"),
            Err(other) => panic!("expected damage, got {other}"),
            Ok(_) => panic!("expected damage, the log opened"),
        }
    }
}
