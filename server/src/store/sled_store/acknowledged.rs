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

/// The bytes of the acknowledged-heads file written at once: a page of the page cache.
const HEADS_PAGE: usize = 4096;

/// The writer's side of the acknowledged-heads file: one slot per board, rewritten in place.
///
/// The file's bytes are kept in memory too, so that the slots a group changed are written with
/// one `pwrite` per page they are on rather than one per board (a group of 256 boards' appends
/// made 256 system calls). A page written again carries its other slots unchanged, so a torn
/// write can only tear the slots that changed, which their checksums catch as before.
pub(super) struct HeadsFile {
    pub(super) file: File,
    /// The slot of each board.
    slots: HashMap<BoardId, u64>,
    /// The next free slot.
    next: u64,
    /// The file's bytes, as written and about to be written.
    image: Vec<u8>,
    /// The pages of `image` changed since they were last written.
    dirty: BTreeSet<usize>,
}

impl HeadsFile {
    /// Writes the file afresh with `heads` (to a new file that then replaces the old one).
    pub(super) fn create(dir: &Path, heads: &BTreeMap<BoardId, u64>) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let fresh = dir.join(format!("{HEADS_FILE}.new"));
        let mut image = Vec::with_capacity(heads.len() * record::HEAD_SLOT_LEN);
        let mut slots = HashMap::with_capacity(heads.len());
        for (index, (board, head)) in (0u64..).zip(heads) {
            image.extend_from_slice(&record::encode_head_slot(*board, *head));
            slots.insert(*board, index);
        }
        {
            let mut file = File::create(&fresh)?;
            file.write_all(&image)?;
            file.sync_all()?;
        }
        std::fs::rename(&fresh, &path)?;
        sync_directory(dir)?;
        let file = File::options().read(true).write(true).open(&path)?;
        Ok(Self { file, next: slots.len() as u64, slots, image, dirty: BTreeSet::new() })
    }

    /// Goes on with the file as it is, unreadable slots and all (for inspection, which must not
    /// rewrite it afresh).
    pub(super) fn open(dir: &Path, recorded: &RecordedHeads) -> io::Result<Self> {
        let path = dir.join(HEADS_FILE);
        let mut file = File::options().read(true).write(true).create(true).truncate(false).open(&path)?;
        let mut image = Vec::new();
        file.read_to_end(&mut image)?;
        let slots =
            (0u64..).zip(&recorded.slots).filter_map(|(index, board)| board.map(|board| (board, index))).collect();
        Ok(Self { file, slots, next: recorded.slots.len() as u64, image, dirty: BTreeSet::new() })
    }

    /// Notes `head` as the board's acknowledged head; [`HeadsFile::write`] writes it.
    pub(super) fn set(&mut self, board: BoardId, head: u64) {
        let next = &mut self.next;
        let index = *self.slots.entry(board).or_insert_with(|| {
            *next += 1;
            *next - 1
        });
        // Slot numbers are far below `usize::MAX / 32`: one per board.
        let start = usize::try_from(index).unwrap_or(usize::MAX / 2) * record::HEAD_SLOT_LEN;
        let end = start + record::HEAD_SLOT_LEN;
        if self.image.len() < end {
            // A new slot, or one over the partly written slot a power cut can leave at the end.
            self.image.resize(end, 0);
        }
        self.image[start..end].copy_from_slice(&record::encode_head_slot(board, head));
        self.dirty.insert(start / HEADS_PAGE);
        self.dirty.insert((end - 1) / HEADS_PAGE);
    }

    /// Writes every page with a slot set since the last write (into the page cache; see
    /// `Watermark::sync`), each run of neighbouring pages with one `pwrite`.
    pub(super) fn write(&mut self) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let mut pages = std::mem::take(&mut self.dirty).into_iter().peekable();
        while let Some(first) = pages.next() {
            let mut last = first;
            while pages.next_if(|page| *page == last + 1).is_some() {
                last += 1;
            }
            let start = first * HEADS_PAGE;
            let end = ((last + 1) * HEADS_PAGE).min(self.image.len());
            self.file.write_all_at(&self.image[start..end], start as u64)?;
        }
        Ok(())
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
        use std::os::unix::fs::FileExt;
        for (board, (_, last)) in boards {
            self.heads.set(*board, *last);
        }
        self.heads.write()?;
        self.acknowledged += events;
        self.file.write_all_at(&record::encode_watermark(self.acknowledged), 0)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn board(n: u128) -> BoardId {
        BoardId::from_uuid(Uuid::from_u128(n))
    }

    /// Enough boards for the file to span several pages.
    const BOARDS: u128 = 300;

    #[test]
    fn slots_set_across_pages_read_back_as_set() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let initial: BTreeMap<BoardId, u64> = (1..=BOARDS).map(|n| (board(n), 1)).collect();
        let mut file = HeadsFile::create(dir.path(), &initial).expect("creates");
        assert!(initial.len() * record::HEAD_SLOT_LEN > 2 * HEADS_PAGE, "the file spans three pages");
        // Boards on the first and the last page and a new one, in one write; then one more.
        for n in [1, 2, BOARDS - 1, BOARDS] {
            file.set(board(n), 10 + n as u64);
        }
        file.set(board(BOARDS + 1), 7);
        file.write().expect("writes");
        file.set(board(2), 99);
        file.write().expect("writes");

        let recorded = read_heads(dir.path()).expect("reads");
        assert!(recorded.damage.is_empty());
        assert_eq!(recorded.slots.len(), BOARDS as usize + 1);
        let mut expected: HashMap<BoardId, u64> = initial.into_iter().collect();
        for n in [1, BOARDS - 1, BOARDS] {
            expected.insert(board(n), 10 + n as u64);
        }
        expected.insert(board(2), 99);
        expected.insert(board(BOARDS + 1), 7);
        assert_eq!(recorded.heads, expected);
    }

    #[test]
    fn nothing_is_written_until_write() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut file = HeadsFile::create(dir.path(), &BTreeMap::from([(board(1), 3)])).expect("creates");
        file.set(board(1), 4);
        assert_eq!(read_heads(dir.path()).expect("reads").heads[&board(1)], 3);
        file.write().expect("writes");
        assert_eq!(read_heads(dir.path()).expect("reads").heads[&board(1)], 4);
    }

    #[test]
    fn going_on_with_a_file_keeps_its_unreadable_slot_and_its_other_bytes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(HEADS_FILE);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&record::encode_head_slot(board(1), 5));
        let mut damaged = record::encode_head_slot(board(2), 6);
        damaged[21] ^= 0xff;
        bytes.extend_from_slice(&damaged);
        bytes.extend_from_slice(&record::encode_head_slot(board(3), 7));
        // Part of a slot, as a power cut while a new slot was appended leaves.
        bytes.extend_from_slice(&[0x4b; 10]);
        std::fs::write(&path, &bytes).expect("writes");

        let recorded = read_heads(dir.path()).expect("reads");
        assert_eq!(recorded.damage.len(), 1);
        let mut file = HeadsFile::open(dir.path(), &recorded).expect("opens");
        file.set(board(3), 8);
        file.set(board(4), 1);
        file.write().expect("writes");

        let written = std::fs::read(&path).expect("reads");
        assert_eq!(written.len(), 4 * record::HEAD_SLOT_LEN, "the new slot is over the partly written one");
        assert_eq!(
            written[..2 * record::HEAD_SLOT_LEN],
            bytes[..2 * record::HEAD_SLOT_LEN],
            "slots 0 and 1 as they were"
        );
        let again = read_heads(dir.path()).expect("reads");
        assert_eq!(again.damage.len(), 1, "the unreadable slot is still there, for the check to find");
        assert_eq!(again.heads, HashMap::from([(board(1), 5), (board(3), 8), (board(4), 1)]));
    }
}
