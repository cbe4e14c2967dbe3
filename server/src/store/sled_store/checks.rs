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
    /// Raised when the store closes, to end the background check early.
    stop: AtomicBool,
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
            stop: AtomicBool::new(false),
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
    fn needs_check(&self, board: BoardId) -> bool {
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

    /// Whether the background check has ended.
    pub(super) fn finished(&self) -> bool {
        *self.finished.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

/// Each board's last sequence number, found by jumping from board to board through the event
/// keys (two seeks per board). Where sled cannot read, the failure is pinned on a board as the
/// scan pins it; one it cannot pin is damage naming no board.
fn stored_heads(
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
            Some(Ok((last, _))) => match record::parse_key(&last) {
                Ok(ParsedKey::Event { board: key_board, seq }) if key_board == board => {
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
    if unpinned.is_empty() {
        tracing::info!(
            dir = %dir.display(),
            events = report.events,
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
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::warn!(%error, "cannot lower the background check's priority");
    }
}
