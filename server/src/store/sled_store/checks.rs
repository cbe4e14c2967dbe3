//! A fast open that still never serves damage (ADR 0006): opening compares what was
//! acknowledged with the boards' stored heads (one seek per board), every board's records are
//! checked the first time it is used, and a thread of low priority scans everything in the
//! background. See the store's module docs.

use super::*;

/// What the store knows of the soundness of its data, shared by the handles and the background
/// check.
pub(super) struct Checks {
    /// Boards that are not served, with what is wrong with each.
    pub(super) quarantine: Mutex<BTreeMap<BoardId, Vec<Damage>>>,
    /// Boards whose every record was checked since opening (when first used, or by the
    /// background check). Only boards with events are kept, so made-up board ids do not grow it.
    checked: Mutex<HashSet<BoardId>>,
    /// Whether a board's records are checked before it is first served; not in a store opened
    /// for inspection, which `verify` checks as a whole.
    enforce: bool,
    /// Damage naming no board that the background check found: the store takes no more writes.
    unpinned: Mutex<Option<Vec<Damage>>>,
    /// Each board's acknowledged head as opening found it (what the heads file was rewritten to).
    acknowledged_heads: HashMap<BoardId, u64>,
    /// The events acknowledged as opening found them.
    acknowledged_events: u64,
    /// Boards checked by a scan of their own before their first use ([`SledStore::admit`]), and
    /// boards checked while a replay read them ([`SledStore::read_checking`]).
    board_scans: AtomicU64,
    checked_while_read: AtomicU64,
    /// Raised when the store closes, to end the background check early.
    stop: AtomicBool,
    /// Events the background check found stored outside chunks (ADR 0008), when it ended with
    /// no damage found: what decides whether tidying the store at a clean stop is worth it.
    outside_chunks: Mutex<Option<u64>>,
    /// Whether the background check has ended (or never runs).
    finished: Mutex<bool>,
    finished_signal: Condvar,
}

impl Checks {
    /// The checks of a store opened with the checks on (`enforce`) or for inspection.
    pub(super) fn new(
        enforce: bool,
        quarantine: BTreeMap<BoardId, Vec<Damage>>,
        acknowledged_heads: HashMap<BoardId, u64>,
        acknowledged_events: u64,
    ) -> Self {
        Self {
            quarantine: Mutex::new(quarantine),
            checked: Mutex::new(HashSet::new()),
            enforce,
            unpinned: Mutex::new(None),
            acknowledged_heads,
            acknowledged_events,
            board_scans: AtomicU64::new(0),
            checked_while_read: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            outside_chunks: Mutex::new(None),
            finished: Mutex::new(!enforce),
            finished_signal: Condvar::new(),
        }
    }

    /// Locks the quarantine. Every change to the map is a single insert, so a panic elsewhere
    /// cannot have left it half-changed.
    pub(super) fn quarantined(&self) -> MutexGuard<'_, BTreeMap<BoardId, Vec<Damage>>> {
        self.quarantine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a board in quarantine unless it is already (the damage found first is kept).
    pub(super) fn quarantine(&self, board: BoardId, damage: &[Damage]) {
        let mut quarantine = self.quarantined();
        if let std::collections::btree_map::Entry::Vacant(entry) = quarantine.entry(board) {
            tracing::error!(
                %board,
                damage = %damage.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                "damaged data found in a board; it is quarantined and will not be served"
            );
            entry.insert(damage.to_vec());
        }
    }

    /// Whether the board's records still have to be checked before it is served.
    pub(super) fn needs_check(&self, board: BoardId) -> bool {
        self.enforce && !self.checked.lock().unwrap_or_else(PoisonError::into_inner).contains(&board)
    }

    fn mark_checked(&self, boards: impl IntoIterator<Item = BoardId>) {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner).extend(boards);
    }

    /// The damage naming no board that stopped the store taking writes, if any.
    pub(super) fn unpinned(&self) -> Option<Vec<Damage>> {
        self.unpinned.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Asks the background check to stop (the store is closing).
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub(super) fn finish(&self) {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.finished_signal.notify_all();
    }

    /// Blocks until the background check has ended.
    pub(super) fn wait_until_finished(&self) {
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        while !*finished {
            finished = self.finished_signal.wait(finished).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Events outside chunks as the background check found them, if it ended finding no damage.
    pub(super) fn outside_chunks(&self) -> Option<u64> {
        *self.outside_chunks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the background check has ended.
    pub(super) fn finished(&self) -> bool {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How often boards were checked since the store opened ([`SledStore::check_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Boards whose records were read by a check of their own before their first use.
    pub board_scans: u64,
    /// Boards checked while a replay from their first event read them, with no read of their own.
    pub checked_while_read: u64,
    /// Boards whose commands the command index read from their records (each board at most
    /// once; not the boards it was given by a check made while reading).
    pub command_index_scans: u64,
}

/// What the check at opening found.
pub(super) struct OpenCheck {
    /// Damage found; any naming no board refuses the store.
    pub(super) damage: Vec<Damage>,
    /// The last sequence number stored of each board (its last key).
    pub(super) heads: HashMap<BoardId, u64>,
}

/// The check at opening: no record is read, only keys. Every board's stored head (its last key)
/// is compared with the head acknowledged for it, and their sum with the acknowledged count, so
/// what sled dropped from the end of its log is found as the full scan finds it; key ranges the
/// store never writes must be empty. Gaps, checksums and everything else are left to the board's
/// first use and to the background check.
pub(super) fn check_at_open(db: &sled::Db, dir: &Path, acknowledged: &Acknowledged<'_>) -> OpenCheck {
    // sled 0.34 may panic on damaged data; as in `verify_tree`, that is damage to report.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let known: BTreeSet<BoardId> = acknowledged.heads.keys().copied().collect();
        let mut damage = foreign_keys(db);
        let (heads, unreadable, found_damage) = stored_heads(db, dir, &known);
        damage.extend(found_damage);
        // Without reading the records, each board's head stands for its count of events: a gap
        // is found when the board is read.
        let events = heads.values().sum();
        let found = Found { events, heads: &heads, counts: &heads, unreadable: &unreadable };
        damage.extend(missing_acknowledged(dir, acknowledged, &found));
        OpenCheck { damage, heads }
    }));
    checked.unwrap_or_else(|panic| OpenCheck {
        damage: vec![Damage {
            board: None,
            seq: None,
            problem: format!("sled panicked while reading {}: {}", dir.join("db").display(), panic_message(&*panic)),
        }],
        heads: HashMap::new(),
    })
}

/// The first key of each range the store never writes to (before the command records, between
/// them and the events, after the events), as damage naming no board. A range sled cannot read
/// is left to the background check, which can pin such a failure on a board.
fn foreign_keys(db: &sled::Db) -> Vec<Damage> {
    let regions = [
        (Vec::new(), Bound::Excluded(vec![record::COMMAND_PREFIX])),
        (vec![record::COMMAND_PREFIX + 1], Bound::Excluded(vec![record::EVENT_PREFIX])),
        (vec![record::EVENT_PREFIX + 1], Bound::Unbounded),
    ];
    let mut damage = Vec::new();
    for (start, end) in regions {
        if let Some(Ok((key, _))) = db.range::<Vec<u8>, _>((Bound::Included(start), end)).next() {
            let problem = match record::parse_key(&key) {
                Err(error) => format!("key {key:02x?}: {error}"),
                Ok(_) => format!("sled returned key {key:02x?} outside the scanned range"),
            };
            damage.push(Damage { board: None, seq: None, problem });
        }
    }
    damage
}

/// Each board's last sequence number, found by jumping from board to board back from the end
/// of the event keys: one seek per board, each landing on the board's last key, in the small
/// leaves of its tail rather than among its chunks (ADR 0008), which a seek to a board's first
/// key would read. Should sled fail to read anything, the walk forward below pins the failure.
fn stored_heads(
    db: &sled::Db,
    dir: &Path,
    known: &BTreeSet<BoardId>,
) -> (HashMap<BoardId, u64>, BTreeSet<BoardId>, Vec<Damage>) {
    let mut heads: HashMap<BoardId, u64> = HashMap::new();
    let mut damage = Vec::new();
    let start = vec![record::EVENT_PREFIX];
    let mut upper = vec![record::EVENT_PREFIX + 1];
    loop {
        let last = db.range::<Vec<u8>, _>((Bound::Included(start.clone()), Bound::Excluded(upper.clone()))).next_back();
        let key = match last {
            None => break,
            Some(Ok((key, _))) => key,
            Some(Err(_)) => return stored_heads_pinning_failures(db, dir, known),
        };
        let Some(board) = record::board_of_key(&key) else {
            damage.push(Damage { board: None, seq: None, problem: format!("malformed event key {key:02x?}") });
            upper = key.to_vec();
            continue;
        };
        match record::parse_key(&key).map(|parsed| parsed.stream_entry()) {
            Ok(Some((key_board, seq))) if key_board == board => {
                heads.insert(board, seq);
            }
            _ => damage.push(Damage {
                board: Some(board),
                seq: None,
                problem: format!("malformed event key {key:02x?} at the end of the stream"),
            }),
        }
        upper = KeyRange::Events.bounds(board).0;
    }
    (heads, BTreeSet::new(), damage)
}

/// [`stored_heads`] by jumping from board to board forward through the event keys (two seeks
/// per board). Where sled cannot read, the failure is pinned on a board as the scan pins it;
/// one it cannot pin is damage naming no board.
fn stored_heads_pinning_failures(
    db: &sled::Db,
    dir: &Path,
    known: &BTreeSet<BoardId>,
) -> (HashMap<BoardId, u64>, BTreeSet<BoardId>, Vec<Damage>) {
    let mut heads: HashMap<BoardId, u64> = HashMap::new();
    let mut unreadable = BTreeSet::new();
    let mut damage = Vec::new();
    let end = vec![record::EVENT_PREFIX + 1];
    let mut lower = vec![record::EVENT_PREFIX];
    loop {
        let first = db.range::<Vec<u8>, _>((Bound::Included(lower.clone()), Bound::Excluded(end.clone()))).next();
        let key = match first {
            None => break,
            Some(Ok((key, _))) => key,
            Some(Err(error)) => {
                let mut candidates = known.clone();
                candidates.extend(heads.keys().copied());
                let Some(board) = blame(db, KeyRange::Events, &lower, &candidates) else {
                    damage.push(sled_failure(dir, error));
                    break;
                };
                damage.push(unreadable_board(dir, board, None, "events", &error.to_string()));
                unreadable.insert(board);
                lower = KeyRange::Events.bounds(board).1;
                continue;
            }
        };
        let Some(board) = record::board_of_key(&key) else {
            damage.push(Damage { board: None, seq: None, problem: format!("malformed event key {key:02x?}") });
            lower = key.to_vec();
            lower.push(0);
            continue;
        };
        let (start, next) = KeyRange::Events.bounds(board);
        match db.range(start..next.clone()).next_back() {
            Some(Ok((last, _))) => match record::parse_key(&last).map(|parsed| parsed.stream_entry()) {
                Ok(Some((key_board, seq))) if key_board == board => {
                    heads.insert(board, seq);
                }
                _ => damage.push(Damage {
                    board: Some(board),
                    seq: None,
                    problem: format!("malformed event key {last:02x?} at the end of the stream"),
                }),
            },
            Some(Err(error)) => {
                damage.push(unreadable_board(dir, board, None, "last events", &error.to_string()));
                unreadable.insert(board);
            }
            // The first key is in the range, so there is a last one; should sled not say so,
            // the board's check when it is used finds out why.
            None => {}
        }
        lower = next;
    }
    (heads, unreadable, damage)
}

impl SledStore {
    /// Lets a board be served: refuses it when in quarantine, and checks every record of a board
    /// not checked yet (checksums, gap-free sequence, command records, its acknowledged head),
    /// putting it in quarantine when damaged. Every read, head, command lookup and append of a
    /// board goes through here, so the engine's first load of a board (from its snapshot or
    /// from its first event) finds damage anywhere in its records before anything is served.
    pub(super) fn admit(&self, board: BoardId) -> Result<(), StoreError> {
        self.refuse_damaged(board)?;
        let checks = &self.inner.checks;
        if !checks.needs_check(board) {
            return Ok(());
        }
        let acknowledged = Acknowledged { events: None, heads: &checks.acknowledged_heads };
        checks.board_scans.fetch_add(1, Ordering::Relaxed);
        let report = verify_tree(
            &self.inner.db,
            &self.inner.dir,
            &acknowledged,
            Depth::Checksums,
            Scope::Board(board),
            &NEVER_STOP,
        );
        if !report.damage.is_empty() {
            checks.quarantine(board, &report.damage);
            return self.refuse_damaged(board);
        }
        if report.heads.contains_key(&board) {
            checks.mark_checked([board]);
        }
        Ok(())
    }

    /// [`EventStore::replay_raw`]. A board not checked yet, read from its first event, is
    /// checked while it is read ([`SledStore::read_checking`]): its records are read once for
    /// both, instead of once by [`SledStore::admit`] and again by the replay. Anything else is
    /// admitted first and then read.
    pub(super) fn replay(
        &self,
        board: BoardId,
        from_seq: u64,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<u64, StoreError> {
        self.refuse_damaged(board)?;
        if from_seq <= 1 && self.inner.checks.needs_check(board) {
            // sled 0.34 may panic on damaged data, which the full check reports as damage.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.read_checking(board, visit)));
            match read {
                Ok(Ok(Some(head))) => return Ok(head),
                // No events: nothing to read, the usual way below says what that means.
                Ok(Ok(None)) => {}
                Ok(Err(found)) => {
                    // The full check of the board says what is wrong, everything it finds, and
                    // puts the board in quarantine, as when it is checked before a read.
                    self.admit(board)?;
                    // What it cannot find (an envelope that does not decode, sled failing to
                    // read once) is reported as a read reports it.
                    return self.quarantine_found(board, Err(found));
                }
                Err(panic) => {
                    self.admit(board)?;
                    std::panic::resume_unwind(panic);
                }
            }
        }
        self.admit(board)?;
        let head = self.durable_head(board)?;
        let from = from_seq.max(1);
        if from > head {
            return Ok(head);
        }
        let limit = usize::try_from(head - from + 1).unwrap_or(usize::MAX);
        let result = self.read_raw_sound(board, from, limit, visit);
        self.quarantine_found(board, result).map(|_| head)
    }

    /// Reads every record of a board not checked yet and checks it on the way, as [`admit`]
    /// would before the read (its checksum, the gap-free sequence, its command's events stored
    /// together, its acknowledged head; no record of format 1 left), visiting each event up to
    /// the durable head as [`EventStore::read_raw`] does. Returns the durable head, or `None`
    /// when the board has no events. The first problem ends the read with an error, for the
    /// caller to have the full check describe; only a board read to its end without one is
    /// marked checked, and its commands go to the command index, which would otherwise read
    /// them all again at the board's first append.
    ///
    /// [`admit`]: SledStore::admit
    fn read_checking(
        &self,
        board: BoardId,
        visit: &mut dyn FnMut(RawRecordedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<Option<u64>, StoreError> {
        let head = self.durable_head_sound(board)?;
        if head == 0 {
            return Ok(None);
        }
        // Nothing has been appended to the board since opening (an append checks it first), so
        // its whole range is what opening found; a write racing this read was checked by its
        // own append's check, and is read here without being visited. Such a write may still
        // be in the board's tail, which is taken before sled is read (see `tail`).
        let tail = self.inner.shared.tails.records(board, 1);
        let (start, end) = KeyRange::Events.bounds(board);
        let expected = std::cell::Cell::new(1u64);
        let mut commands = CommandRuns::default();
        let mut visiting = true;
        let mut step = |seq: u64, key: &[u8], value: &[u8]| {
            if seq != expected.get() {
                return Err(damaged(
                    board,
                    expected.get(),
                    format!("event missing (the next stored one is seq {seq})"),
                ));
            }
            let envelope =
                record::decode_event_raw(key, value).map_err(|error| damaged(board, seq, error.to_string()))?;
            commands
                .add(seq, envelope.command, envelope.fingerprint)
                .map_err(|problem| damaged(board, seq, problem))?;
            if visiting && seq <= head {
                visiting = visit(envelope.recorded(board, seq)).is_continue();
            }
            expected.set(seq + 1);
            Ok(ControlFlow::Continue(()))
        };
        for item in self.inner.db.range(start..end) {
            let (key, value) = item.map_err(|error| self.located(error.into(), Some(board)))?;
            let at = expected.get();
            let _: ControlFlow<()> =
                chunks::each_in_entry(board, &key, &value, at, &mut step, |problem| damaged(board, at, problem))?;
        }
        for (seq, key, value) in &tail {
            if *seq >= expected.get() {
                let _: ControlFlow<()> = step(*seq, key, value)?;
            }
        }
        let expected = expected.get();
        let found = expected - 1;
        let acknowledged = self.inner.checks.acknowledged_heads.get(&board).copied().unwrap_or(0);
        if found < head.max(acknowledged) {
            return Err(damaged(
                board,
                expected,
                format!("events {expected}..={} are not stored", head.max(acknowledged)),
            ));
        }
        // Where format 1 kept the board's command records: empty once it is upgraded.
        let mut legacy_start = vec![record::COMMAND_PREFIX];
        legacy_start.extend_from_slice(board.as_bytes());
        let legacy_end = successor(&legacy_start);
        if let Some(item) = self.inner.db.range(legacy_start..legacy_end).next() {
            let (key, _) = item.map_err(|error| self.located(error.into(), Some(board)))?;
            return Err(StoreError::Damaged(vec![Damage {
                board: Some(board),
                seq: None,
                problem: format!("a format-1 record {key:02x?}: this board's upgrade to format 2 did not finish"),
            }]));
        }
        self.inner.checks.mark_checked([board]);
        self.inner.checks.checked_while_read.fetch_add(1, Ordering::Relaxed);
        self.inner.shared.commands.insert_loaded(board, commands.finish());
        Ok(Some(head))
    }

    /// How often boards were checked since the store opened, and how: what a test needs to see
    /// that a replay read a board's records once.
    pub fn check_counts(&self) -> CheckCounts {
        let checks = &self.inner.checks;
        CheckCounts {
            board_scans: checks.board_scans.load(Ordering::Relaxed),
            checked_while_read: checks.checked_while_read.load(Ordering::Relaxed),
            command_index_scans: self.inner.shared.commands.scans(),
        }
    }

    /// Starts the background check of everything on a thread of its own; see the module docs.
    pub(super) fn spawn_background_check(
        db: sled::Db,
        dir: PathBuf,
        checks: Arc<Checks>,
    ) -> io::Result<JoinHandle<()>> {
        std::thread::Builder::new().name("kipina-store-check".into()).spawn(move || {
            lower_priority();
            background_check(&db, &dir, &checks);
            checks.finish();
        })
    }
}

/// The background check: the full scan, as `verify` does it but reading checksums only, compared
/// with what opening found acknowledged (lower bounds, since events are never removed; the
/// acknowledgement files are not read again while the writer rewrites them).
fn background_check(db: &sled::Db, dir: &Path, checks: &Checks) {
    let started = Instant::now();
    let acknowledged = Acknowledged { events: Some(checks.acknowledged_events), heads: &checks.acknowledged_heads };
    let report = verify_tree(db, dir, &acknowledged, Depth::Checksums, Scope::Everything, &checks.stop);
    if checks.stop.load(Ordering::Relaxed) {
        // Cut short, what it found proves nothing.
        return;
    }
    let mut damaged: BTreeMap<BoardId, Vec<Damage>> = BTreeMap::new();
    let mut unpinned = Vec::new();
    for item in report.damage {
        match item.board {
            Some(board) => damaged.entry(board).or_default().push(item),
            None => unpinned.push(item),
        }
    }
    for (board, damage) in &damaged {
        checks.quarantine(*board, damage);
    }
    checks.mark_checked(report.heads.keys().copied().filter(|board| !damaged.contains_key(board)));
    if damaged.is_empty() && unpinned.is_empty() {
        *checks.outside_chunks.lock().unwrap_or_else(PoisonError::into_inner) = Some(report.events - report.chunked);
    }
    if unpinned.is_empty() {
        tracing::info!(
            dir = %dir.display(),
            events = report.events,
            in_chunks = report.chunked,
            boards = report.heads.len(),
            quarantined = damaged.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "background check of the event store done"
        );
        return;
    }
    tracing::error!(
        dir = %dir.display(),
        damage = %unpinned.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        "the background check found damage in the event store that names no board: it takes no more changes \
         (boards are still read); run `kipina verify` on a copy of the data directory and restore it from a backup"
    );
    *checks.unpinned.lock().unwrap_or_else(PoisonError::into_inner) = Some(unpinned);
}

/// Gives the calling thread the lowest CPU priority (nice 19), so the background check takes
/// what serving leaves over. Threads it starts inherit it. Linux sets the nice value per thread.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::warn!(%error, "cannot lower the background check's priority");
    }
}

/// The commands along one board's stream, as a check reads them record by record: each must
/// have its events together and agree on its fingerprint.
#[derive(Default)]
struct CommandRuns {
    /// The command being read, with the fingerprint, first seq and last seq of its events.
    current: Option<(CommandId, CommandRecord)>,
    /// Every command met, the current one included (its `last` is brought up to date when its
    /// run ends, in [`CommandRuns::end_run`]).
    commands: HashMap<CommandId, CommandRecord>,
}

impl CommandRuns {
    /// Takes the next record's command; a problem is said in words.
    fn add(&mut self, seq: u64, id: CommandId, fingerprint: u32) -> Result<(), String> {
        if let Some((current, command)) = &mut self.current
            && *current == id
        {
            if command.fingerprint != fingerprint {
                return Err(format!("the events of command {id} disagree about its fingerprint"));
            }
            command.last = seq;
            return Ok(());
        }
        self.end_run();
        let command = CommandRecord { first: seq, last: seq, fingerprint };
        match self.commands.entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => {
                return Err(format!("command {id} has events in two places (a command's events are stored together)"));
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(command);
            }
        }
        self.current = Some((id, command));
        Ok(())
    }

    /// Brings the map's entry of the command just read up to its last event.
    fn end_run(&mut self) {
        if let Some((id, command)) = self.current.take()
            && command.last > command.first
            && let Some(entry) = self.commands.get_mut(&id)
        {
            entry.last = command.last;
        }
    }

    /// Every command met, each with its whole range.
    fn finish(mut self) -> HashMap<CommandId, CommandRecord> {
        self.end_run();
        self.commands
    }
}
