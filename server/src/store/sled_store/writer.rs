//! The writer thread: plans each append of a group, applies the group as one sled batch, makes
//! it durable with one `fdatasync`, raises the acknowledgement files and only then answers.

use super::*;

/// The writer thread's state: the only code that writes to sled.
pub(super) struct Writer {
    pub(super) db: sled::Db,
    /// Our own handle on sled's `db` file, for `fdatasync`.
    pub(super) db_file: File,
    pub(super) dir: PathBuf,
    /// Blob files already synced; sled writes a blob file once and never changes it.
    pub(super) synced_blobs: HashSet<OsString>,
    pub(super) watermark: Watermark,
    /// The head of each board the writer has looked at, including appends not yet synced.
    pub(super) heads: HashMap<BoardId, u64>,
    pub(super) shared: Arc<Shared>,
    pub(super) hook: Arc<dyn SyncHook>,
    pub(super) group_commit: bool,
    /// Why the store stopped accepting writes, once it has.
    pub(super) failure: Option<String>,
}

/// The appends of one group commit and their single batch.
#[derive(Default)]
pub(super) struct Group {
    pub(super) batch: sled::Batch,
    /// Encoded bytes in the batch.
    pub(super) bytes: usize,
    /// Whether the batch holds anything.
    pub(super) writes: bool,
    pub(super) answers: Vec<(Reply, Result<AppendOutcome, StoreError>)>,
    /// Commands stored by earlier appends of this group.
    pub(super) commands: HashMap<(BoardId, CommandId), CommandRecord>,
    /// Each board written by the group: its durable head before and its head after the group.
    pub(super) boards: HashMap<BoardId, (u64, u64)>,
    pub(super) appends: u64,
    pub(super) events: u64,
}

impl Writer {
    pub(super) fn run(mut self, receiver: &mpsc::Receiver<Job>) {
        // `recv` hands out everything queued before it reports the closed channel, so every
        // append sent before the last handle was dropped is answered.
        loop {
            let job = if self.watermark.unsynced && self.failure.is_none() {
                match receiver.recv_timeout(WATERMARK_SYNC_INTERVAL) {
                    Ok(job) => job,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Idle: make the last groups' count durable now rather than at the next
                        // append, which may be months away.
                        if let Err(error) = self.watermark.sync() {
                            tracing::error!(%error, dir = %self.dir.display(), "cannot sync the acknowledgement watermark");
                        }
                        self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match receiver.recv() {
                    Ok(job) => job,
                    Err(mpsc::RecvError) => break,
                }
            };
            let mut group = Group::default();
            self.add(&mut group, job);
            while self.group_commit && group.answers.len() < MAX_GROUP_REQUESTS && group.bytes < MAX_GROUP_BYTES {
                match receiver.try_recv() {
                    Ok(job) => self.add(&mut group, job),
                    Err(_) => break,
                }
            }
            self.commit(group);
            self.shared.watermark_durable.store(self.watermark.durable, Ordering::Release);
        }
        if self.failure.is_none()
            && let Err(error) = self.watermark.sync()
        {
            tracing::error!(
                %error,
                dir = %self.dir.display(),
                "cannot sync the acknowledgement watermark at shutdown"
            );
        }
    }

    /// Plans a job's appends into the group, in order, and notes their answers, to be sent after
    /// the commit. Once one of them does not append, the ones after it are skipped (a chain; see
    /// [`EventStore::append_all`]).
    pub(super) fn add(&mut self, group: &mut Group, job: Job) {
        let mut stopped = false;
        for (append, reply) in job.appends {
            let answer = match &self.failure {
                Some(failure) => Err(StoreError::Failed(failure.clone())),
                None if stopped => Err(StoreError::Skipped),
                None => self.plan(group, append),
            };
            stopped |= !matches!(answer, Ok(AppendOutcome::Appended { .. }));
            group.answers.push((reply, answer));
        }
    }

    pub(super) fn plan(&mut self, group: &mut Group, append: EncodedAppend) -> Result<AppendOutcome, StoreError> {
        let EncodedAppend { board, command_id, command_fingerprint, expected, records } = append;
        // The caller checked that there is at least one and at most MAX_EVENTS_PER_APPEND.
        let count = records.len();
        let command_key = record::command_key(board, command_id);
        let stored = match group.commands.get(&(board, command_id)) {
            Some(command) => Some(*command),
            None => self.look_up(board, command_id)?,
        };
        if let Some(command) = stored {
            return if command.fingerprint == command_fingerprint {
                Ok(AppendOutcome::AlreadyAppended { first: command.first, last: command.last })
            } else {
                Err(StoreError::IdempotencyConflict { command_id })
            };
        }

        let head = self.head(board)?;
        let matches = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => head == 0,
            ExpectedVersion::Exact(expected) => head == expected,
        };
        if !matches {
            return Err(StoreError::Conflict { board, expected, actual: head });
        }

        let first = head + 1;
        // `count` is at most MAX_EVENTS_PER_APPEND, so it fits in a u64.
        let last = head
            .checked_add(count as u64)
            .ok_or_else(|| StoreError::InvalidAppend(format!("board {board} has no sequence numbers left")))?;
        for (seq, unsealed) in (first..=last).zip(records) {
            let key = record::event_key(board, seq);
            group.bytes += unsealed.len();
            group.batch.insert(&key[..], unsealed.seal(&key));
        }
        let command = CommandRecord { first, last, fingerprint: command_fingerprint };
        group.batch.insert(&command_key[..], record::encode_command(&command_key, &command));
        group.writes = true;
        group.commands.insert((board, command_id), command);
        group.boards.entry(board).or_insert((head, last)).1 = last;
        group.appends += 1;
        group.events += count as u64;
        self.heads.insert(board, last);
        Ok(AppendOutcome::Appended { first, last })
    }

    /// What sled holds of a command id.
    pub(super) fn look_up(&self, board: BoardId, command_id: CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let command_key = record::command_key(board, command_id);
        let Some(value) = self.db.get(command_key)? else { return Ok(None) };
        record::decode_command(&command_key, &value).map(Some).map_err(|error| {
            StoreError::Damaged(vec![Damage {
                board: Some(board),
                seq: None,
                problem: format!("the record of command {command_id}: {error}"),
            }])
        })
    }

    /// The board's head as the writer knows it, loaded from sled the first time.
    pub(super) fn head(&mut self, board: BoardId) -> Result<u64, StoreError> {
        if let Some(head) = self.heads.get(&board) {
            return Ok(*head);
        }
        let head = stored_head(&self.db, board)?;
        self.heads.insert(board, head);
        Ok(head)
    }

    /// Makes the group durable and answers it.
    pub(super) fn commit(&mut self, group: Group) {
        let Some(group) = self.unless_disk_full(group) else { return };
        let Group { batch, writes, answers, boards, appends, events, .. } = group;
        if writes {
            if let Err(error) = self.write(batch, &boards, events) {
                let failure = format!("writing to {} failed: {error}", self.dir.display());
                tracing::error!(%failure, "the event store stops accepting writes");
                // Known as failed (to /health) before anyone hears of it.
                *self.shared.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(failure.clone());
                for (reply, _) in answers {
                    let _ = reply.send(Err(StoreError::Failed(failure.clone())));
                }
                self.failure = Some(failure);
                return;
            }
            self.shared.appends.fetch_add(appends, Ordering::AcqRel);
            self.shared.events.fetch_add(events, Ordering::AcqRel);
            // The heads are raised before the answers go out, so a writer that got its answer
            // and then reads finds its own events.
            let heads = self.shared.heads();
            for (board, (_, last)) in &boards {
                if let Some(head) = heads.get(board) {
                    head.send_replace(*last);
                }
            }
        }
        for (reply, answer) in answers {
            // An append whose caller stopped waiting is stored all the same; nobody to tell.
            let _ = reply.send(answer);
        }
    }

    /// Applies the batch and makes it durable; the steps whose failure fails the store.
    pub(super) fn write(
        &mut self,
        batch: sled::Batch,
        boards: &HashMap<BoardId, (u64, u64)>,
        events: u64,
    ) -> Result<(), StoreError> {
        {
            // Before sled shows the batch to readers, every board in it must have a durable-head
            // entry, so readers cap at the old head until the sync is done.
            let mut heads = self.shared.heads();
            for (board, (before, _)) in boards {
                heads.entry(*board).or_insert_with(|| watch::channel(*before).0);
            }
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        self.sync_new_blobs()?;
        self.hook.before_sync()?;
        self.db_file.sync_data()?;
        self.shared.syncs.fetch_add(1, Ordering::AcqRel);
        self.hook.after_sync();
        // Only now are the events durable, so only now may the watermark count them. Should
        // writing the watermark fail, the group is answered as failed although its events are
        // stored; a retry with the same command id then finds them.
        self.watermark.raise(events, boards)?;
        self.shared.acknowledged.fetch_add(events, Ordering::AcqRel);
        Ok(())
    }

    /// Syncs blob files sled wrote since the last look. With the segment size above there
    /// should never be any; this is the safety net should a log message ever be that large.
    pub(super) fn sync_new_blobs(&mut self) -> io::Result<()> {
        let blobs = self.dir.join("blobs");
        let mut present = HashSet::new();
        let mut synced_any = false;
        for entry in std::fs::read_dir(&blobs)? {
            let entry = entry?;
            let name = entry.file_name();
            if !self.synced_blobs.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    // sled removes blobs it no longer needs; one gone since the listing needs no sync.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            sync_directory(&blobs)?;
        }
        // Forget blobs sled has removed, so the set does not grow without end.
        self.synced_blobs = present;
        Ok(())
    }
}
