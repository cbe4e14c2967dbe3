//! The acknowledgement files beside sled's: the count of acknowledged events (`acknowledged`)
//! and each board's acknowledged head (`acknowledged-heads`); see the store's module docs.

use super::*;

/// Opens the watermark file, creating it when missing, and reads what it records: `Ok(None)`
/// for a new file, `Err` with the problem when it cannot be read.
pub(super) fn open_watermark(dir: &Path) -> Result<(File, Result<Option<u64>, Damage>), StoreError> {
    let path = dir.join(WATERMARK_FILE);
    let existed = path.exists();
    let mut file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
    if !existed {
        file.sync_all()?;
        sync_directory(dir)?;
        return Ok((file, Ok(None)));
    }
    let mut bytes = Vec::with_capacity(record::WATERMARK_LEN);
    file.read_to_end(&mut bytes)?;
    let recorded = if bytes.is_empty() {
        // Created but never written: the store stopped before its first acknowledged append.
        Ok(None)
    } else {
        record::decode_watermark(&bytes).map(Some).map_err(|error| Damage {
            board: None,
            seq: None,
            problem: format!("the acknowledgement watermark {} is unreadable: {error}", path.display()),
        })
    };
    Ok((file, recorded))
}

/// What the acknowledged-heads file says.
#[derive(Debug, Default)]
pub(super) struct RecordedHeads {
    /// The acknowledged head of each board with a readable slot.
    pub(super) heads: HashMap<BoardId, u64>,
    /// The board in each slot, in file order (`None` for an empty or unreadable slot), so the
    /// writer can go on using the same slots.
    pub(super) slots: Vec<Option<BoardId>>,
    /// Unreadable slots: damage that names no board, since the board id is in the damaged bytes.
    pub(super) damage: Vec<Damage>,
}

/// Reads the acknowledged-heads file; a missing file records nothing (a store made before
/// the file existed, or a new one).
pub(super) fn read_heads(dir: &Path) -> io::Result<RecordedHeads> {
    let path = dir.join(HEADS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(RecordedHeads::default()),
        Err(error) => return Err(error),
    };
    let mut recorded = RecordedHeads::default();
    let mut slots = bytes.chunks_exact(record::HEAD_SLOT_LEN);
    for (index, slot) in slots.by_ref().enumerate() {
        let slot: &[u8; record::HEAD_SLOT_LEN] = slot.try_into().unwrap_or(&[0; record::HEAD_SLOT_LEN]);
        match record::decode_head_slot(slot) {
            Ok(Some((board, head))) => {
                let known = recorded.heads.entry(board).or_insert(0);
                *known = (*known).max(head);
                recorded.slots.push(Some(board));
            }
            Ok(None) => recorded.slots.push(None),
            Err(error) => {
                recorded.slots.push(None);
                recorded.damage.push(Damage {
                    board: None,
                    seq: None,
                    problem: format!(
                        "slot {index} of the acknowledged heads {} is unreadable: {error}",
                        path.display()
                    ),
                });
            }
        }
    }
    if !slots.remainder().is_empty() {
        // Only a new slot being appended when the power went can leave part of one; that loses
        // the record of one board's first acknowledged events, which weakens the check but is
        // no damage to any board.
        tracing::warn!(path = %path.display(), "ignoring a partly written slot at the end of the acknowledged heads");
    }
    Ok(recorded)
}

/// The writer's side of the acknowledged-heads file: one slot per board, rewritten in place.
pub(super) struct HeadsFile {
    pub(super) file: File,
    /// The slot of each board.
    pub(super) slots: HashMap<BoardId, u64>,
    /// The next free slot.
    pub(super) next: u64,
}

impl HeadsFile {
    /// Writes the file afresh with `heads` (to a new file that then replaces the old one).
    pub(super) fn create(dir: &Path, heads: &BTreeMap<BoardId, u64>) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let fresh = dir.join(format!("{HEADS_FILE}.new"));
        let mut bytes = Vec::with_capacity(heads.len() * record::HEAD_SLOT_LEN);
        let mut slots = HashMap::with_capacity(heads.len());
        for (index, (board, head)) in (0u64..).zip(heads) {
            bytes.extend_from_slice(&record::encode_head_slot(*board, *head));
            slots.insert(*board, index);
        }
        {
            let mut file = File::create(&fresh)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&fresh, &path)?;
        sync_directory(dir)?;
        let file = File::options().read(true).write(true).open(&path)?;
        Ok(Self { file, next: slots.len() as u64, slots })
    }

    /// Goes on with the file as it is (for inspection, which must not rewrite it).
    pub(super) fn open(dir: &Path, recorded: &RecordedHeads) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
        let slots =
            (0u64..).zip(&recorded.slots).filter_map(|(index, board)| board.map(|board| (board, index))).collect();
        Ok(Self { file, slots, next: recorded.slots.len() as u64 })
    }

    /// Records `head` as the board's acknowledged head (in the page cache; see `Watermark::sync`).
    pub(super) fn set(&mut self, board: BoardId, head: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let next = &mut self.next;
        let index = *self.slots.entry(board).or_insert_with(|| {
            *next += 1;
            *next - 1
        });
        self.file.write_all_at(&record::encode_head_slot(board, head), index * record::HEAD_SLOT_LEN as u64)
    }
}

/// The writer's side of the acknowledgement watermark.
pub(super) struct Watermark {
    pub(super) file: File,
    pub(super) acknowledged: u64,
    /// Each board's acknowledged head.
    pub(super) heads: HeadsFile,
    pub(super) synced_at: Instant,
    /// Whether counts were written since the last sync.
    pub(super) unsynced: bool,
    /// What `acknowledged` was at the last sync (for `StoreStats`).
    pub(super) durable: u64,
}

impl Watermark {
    /// Counts newly durable events, in all and per board: rewrites the files in place and syncs
    /// them when the last sync is old enough. The 16 bytes of the count sit in one disk sector,
    /// and so does each 32-byte slot of the heads; the checksums catch a torn write.
    pub(super) fn raise(&mut self, events: u64, boards: &HashMap<BoardId, (u64, u64)>) -> io::Result<()> {
        for (board, (_, last)) in boards {
            self.heads.set(*board, *last)?;
        }
        self.acknowledged += events;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&record::encode_watermark(self.acknowledged))?;
        self.unsynced = true;
        if self.synced_at.elapsed() >= WATERMARK_SYNC_INTERVAL {
            self.sync()?;
        }
        Ok(())
    }

    /// Makes both files durable: the heads first, so that after a power cut they never cover
    /// fewer events than the count does, and every loss the count shows is pinned on a board.
    pub(super) fn sync(&mut self) -> io::Result<()> {
        self.heads.file.sync_data()?;
        self.file.sync_data()?;
        self.synced_at = Instant::now();
        self.unsynced = false;
        self.durable = self.acknowledged;
        Ok(())
    }
}
