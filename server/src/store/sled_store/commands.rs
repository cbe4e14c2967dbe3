//! Which commands a board holds, learned from its event records (ADR 0005).
//!
//! An event record's header carries its command id and the command's fingerprint, and a
//! command's events are stored together, so a board's commands are the runs of equal ids along
//! its stream. The index reads them once per board, the first time anyone asks about the board
//! (the writer planning an append, or [`EventStore::command`]), by checking each record's
//! checksum and reading its header: no JSON is parsed. From then on the writer notes every command
//! in the same step that looks for it ([`CommandIndex::find_or_note`]: one hash and one probe of
//! the board's map per command), before the group is written, so the index always knows at least
//! what sled holds of the board, synced or not. A group the writer then refuses (the disk is full)
//! takes its commands out again ([`CommandIndex::forget`]). Whoever asks on behalf of a reader
//! caps the answer at the durable head, as for every other read, so a command noted but not yet
//! synced (or refused) is never reported to one.
//!
//! One lock guards the whole index. Loading a board holds it, so no append of that board can be
//! planned between the scan and the insert (planning takes the same lock); a board's first load
//! costs about a microsecond per event, once per process.

use super::*;

/// The commands of every board looked at since the store was opened.
#[derive(Default)]
pub(super) struct CommandIndex {
    boards: Mutex<HashMap<BoardId, HashMap<CommandId, CommandRecord>>>,
    /// Boards read from sled by [`CommandIndex::get`].
    scans: AtomicU64,
}

impl CommandIndex {
    fn lock(&self) -> MutexGuard<'_, HashMap<BoardId, HashMap<CommandId, CommandRecord>>> {
        // Every change is one insert into a map, so a panic elsewhere cannot leave it half-changed.
        self.boards.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The board's commands in the locked index, read from sled the first time.
    fn loaded<'a>(
        &self,
        boards: &'a mut HashMap<BoardId, HashMap<CommandId, CommandRecord>>,
        db: &sled::Db,
        board: BoardId,
    ) -> Result<&'a mut HashMap<CommandId, CommandRecord>, StoreError> {
        Ok(match boards.entry(board) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                self.scans.fetch_add(1, Ordering::Relaxed);
                entry.insert(load(db, board)?)
            }
        })
    }

    /// What the board holds of a command id (synced or not), loading the board's commands from
    /// sled the first time.
    pub(super) fn get(
        &self,
        db: &sled::Db,
        board: BoardId,
        command_id: CommandId,
    ) -> Result<Option<CommandRecord>, StoreError> {
        let mut boards = self.lock();
        let commands = self.loaded(&mut boards, db, board)?;
        Ok(commands.get(&command_id).copied())
    }

    /// How many boards were read from sled to learn their commands.
    pub(super) fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    /// Takes the commands of a board that a check read from every one of its records (see
    /// `SledStore::read_checking`), unless the board is loaded already. That is enough: the
    /// writer asks about every command before it plans it, which loads the board, so a board not
    /// loaded yet has had nothing planned since the store opened, and sled holds only what the
    /// check read.
    pub(super) fn insert_loaded(&self, board: BoardId, commands: HashMap<CommandId, CommandRecord>) {
        self.lock().entry(board).or_insert(commands);
    }

    /// What the board holds of a command id (synced or not, loading the board's commands from
    /// sled the first time) or, when it holds nothing, the command `plan` makes of it, noted
    /// under the same lock. `plan` returns `Err` for an append that will not be stored (a
    /// version conflict), and nothing is noted then.
    pub(super) fn find_or_note<E: From<StoreError>>(
        &self,
        db: &sled::Db,
        board: BoardId,
        command_id: CommandId,
        plan: impl FnOnce() -> Result<CommandRecord, E>,
    ) -> Result<Found, E> {
        let mut boards = self.lock();
        let commands = self.loaded(&mut boards, db, board)?;
        match commands.entry(command_id) {
            std::collections::hash_map::Entry::Occupied(entry) => Ok(Found::Stored(*entry.get())),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let command = plan()?;
                entry.insert(command);
                Ok(Found::Noted(command))
            }
        }
    }

    /// Takes out commands noted by [`CommandIndex::find_or_note`] whose group was refused before
    /// anything of it was written.
    pub(super) fn forget(&self, noted: impl IntoIterator<Item = (BoardId, CommandId)>) {
        let mut boards = self.lock();
        for (board, command_id) in noted {
            if let Some(commands) = boards.get_mut(&board) {
                commands.remove(&command_id);
            }
        }
    }
}

/// What [`CommandIndex::find_or_note`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// The board holds the command already (an earlier append stored it, or one planned before).
    Stored(CommandRecord),
    /// The command was new, and is noted as planned.
    Noted(CommandRecord),
}

/// Reads the commands of a board from its event records.
fn load(db: &sled::Db, board: BoardId) -> Result<HashMap<CommandId, CommandRecord>, StoreError> {
    let damaged =
        |seq: Option<u64>, problem: String| StoreError::Damaged(vec![Damage { board: Some(board), seq, problem }]);
    let mut commands: HashMap<CommandId, CommandRecord> = HashMap::new();
    let mut current: Option<(CommandId, CommandRecord)> = None;
    let mut expected = 1;
    for item in db.scan_prefix(record::event_prefix(board)) {
        let (key, value) = item?;
        let at = expected;
        let _: ControlFlow<()> = chunks::each_in_entry(
            board,
            &key,
            &value,
            expected,
            |seq, key, value| {
                expected = seq + 1;
                let (command_id, fingerprint) =
                    record::event_command(key, value).map_err(|error| damaged(Some(seq), error.to_string()))?;
                match &mut current {
                    Some((id, command)) if *id == command_id && command.last + 1 == seq => {
                        if command.fingerprint != fingerprint {
                            return Err(damaged(
                                Some(seq),
                                format!("the events of command {command_id} disagree about its fingerprint"),
                            ));
                        }
                        command.last = seq;
                    }
                    _ => {
                        if let Some((id, command)) = current.take() {
                            commands.insert(id, command);
                        }
                        if commands.contains_key(&command_id) {
                            return Err(damaged(
                                Some(seq),
                                format!(
                                    "command {command_id} has events in two places (a command's events are stored together)"
                                ),
                            ));
                        }
                        current = Some((command_id, CommandRecord { first: seq, last: seq, fingerprint }));
                    }
                }
                Ok(ControlFlow::Continue(()))
            },
            |problem| damaged(Some(at), problem),
        )?;
    }
    if let Some((id, command)) = current {
        commands.insert(id, command);
    }
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn planned(first: u64) -> impl FnOnce() -> Result<CommandRecord, StoreError> {
        move || Ok(CommandRecord { first, last: first, fingerprint: 7 })
    }

    #[test]
    fn a_command_is_noted_once_found_after_and_gone_once_forgotten() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = sled::Config::new().path(dir.path()).open().expect("sled opens");
        let index = CommandIndex::default();
        let (board, command) = (BoardId(Uuid::from_u128(1)), CommandId(Uuid::from_u128(2)));
        let record = CommandRecord { first: 1, last: 1, fingerprint: 7 };

        assert_eq!(index.find_or_note(&db, board, command, planned(1)).expect("found"), Found::Noted(record));
        // Found now, and the plan is not asked for again.
        let again = index.find_or_note(&db, board, command, || -> Result<_, StoreError> { panic!("planned twice") });
        assert_eq!(again.expect("found"), Found::Stored(record));
        assert_eq!(index.get(&db, board, command).expect("found"), Some(record));
        assert_eq!(index.scans(), 1, "the board was read from sled once");

        // A refused plan notes nothing.
        let other = CommandId(Uuid::from_u128(3));
        let refused = index.find_or_note(&db, board, other, || {
            Err(StoreError::Conflict { board, expected: ExpectedVersion::NoStream, actual: 1 })
        });
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert_eq!(index.get(&db, board, other).expect("found"), None);

        // A refused group takes its commands back: the same command is planned anew.
        index.forget([(board, command), (BoardId(Uuid::from_u128(9)), command)]);
        assert_eq!(index.get(&db, board, command).expect("found"), None);
        let anew = CommandRecord { first: 2, last: 2, fingerprint: 7 };
        assert_eq!(index.find_or_note(&db, board, command, planned(2)).expect("found"), Found::Noted(anew));
    }
}
