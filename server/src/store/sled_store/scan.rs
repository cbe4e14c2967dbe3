//! The scan: reads every record (checksums, gap-free sequences, each command's events stored
//! together; sled holds nothing else since ADR 0005), compares what it finds with what was
//! acknowledged, and pins each problem on a board where it can. One function, [`verify_tree`],
//! serves `verify` (everything, in the foreground), the background check after opening
//! (everything, stoppable) and the check of a board when it is first loaded (one board's
//! records); see `checks.rs`.

use super::*;

/// What a scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// Every entry of the tree.
    Everything,
    /// One board's records (its events and its command records). Damage found there is that
    /// board's, whatever it is: nothing read belongs to another board.
    Board(BoardId),
}

/// A stop flag that is never raised, for scans that run to the end.
pub(super) static NEVER_STOP: AtomicBool = AtomicBool::new(false);

/// What the store has acknowledged, to compare with what a scan finds.
pub(super) struct Acknowledged<'a> {
    /// Events acknowledged over the store's life, when known.
    pub(super) events: Option<u64>,
    /// Each board's acknowledged head, as far as recorded.
    pub(super) heads: &'a HashMap<BoardId, u64>,
}

/// What a scan of all stored data found.
pub(super) struct VerifyReport {
    pub(super) damage: Vec<Damage>,
    /// The number of event keys found.
    pub(super) events: u64,
    /// How many of them were read from chunks (ADR 0008).
    pub(super) chunked: u64,
    /// The last sequence number found of each board.
    pub(super) heads: HashMap<BoardId, u64>,
    /// The number of events found of each board.
    pub(super) counts: HashMap<BoardId, u64>,
}

/// How far a scan looks into each event record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Depth {
    /// Format byte and checksum: finds every changed, torn or moved record. What opening checks:
    /// a record that passes is byte for byte what the store wrote, so decoding it at every start
    /// (the larger half of the scan's time) would only re-check our own encoder.
    #[default]
    Checksums,
    /// Also decodes every envelope, as `verify` does.
    Envelopes,
}

/// Scans the stored data of `scope`; see [`SledStore::verify`]. Finding fewer events than were
/// acknowledged is damage: of the boards whose recorded head is past what is found, and of the
/// store as a whole for whatever those boards do not account for (only when `acknowledged`
/// knows the store's count). A scan stopped through `stop` returns what it found so far, which
/// proves nothing: the caller throws it away.
pub(super) fn verify_tree(
    db: &sled::Db,
    dir: &Path,
    acknowledged: &Acknowledged<'_>,
    depth: Depth,
    scope: Scope,
    stop: &AtomicBool,
) -> VerifyReport {
    // sled 0.34 may panic on data damaged in ways its checks do not foresee; that is damage to
    // report, not a reason to take the caller down.
    let known: BTreeSet<BoardId> = match scope {
        Scope::Everything => acknowledged.heads.keys().copied().collect(),
        Scope::Board(board) => BTreeSet::from([board]),
    };
    let scanned =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan_tree(db, dir, depth, &known, scope, stop)));
    let (mut report, unreadable) = scanned.unwrap_or_else(|panic| {
        let damage = vec![Damage {
            board: None,
            seq: None,
            problem: format!("sled panicked while reading {}: {}", dir.join("db").display(), panic_message(&*panic)),
        }];
        (VerifyReport { damage, events: 0, chunked: 0, heads: HashMap::new(), counts: HashMap::new() }, BTreeSet::new())
    });
    let heads = match scope {
        Scope::Everything => acknowledged.heads.clone(),
        Scope::Board(board) => {
            acknowledged.heads.get(&board).map(|head| HashMap::from([(board, *head)])).unwrap_or_default()
        }
    };
    let acknowledged = Acknowledged { events: acknowledged.events, heads: &heads };
    let found = Found { events: report.events, heads: &report.heads, counts: &report.counts, unreadable: &unreadable };
    let missing = missing_acknowledged(dir, &acknowledged, &found);
    report.damage.extend(missing);
    if let Scope::Board(board) = scope {
        for item in &mut report.damage {
            item.board.get_or_insert(board);
        }
    }
    report
}

/// What a scan found, to compare with what was acknowledged.
pub(super) struct Found<'a> {
    /// The number of events found.
    pub(super) events: u64,
    /// The last sequence number found of each board.
    pub(super) heads: &'a HashMap<BoardId, u64>,
    /// The number of events found of each board.
    pub(super) counts: &'a HashMap<BoardId, u64>,
    /// Boards sled could not read all of (reported as that already).
    pub(super) unreadable: &'a BTreeSet<BoardId>,
}

/// Acknowledged events that were not found: of each board whose recorded head is past the head
/// found, and of the store as a whole for whatever those boards do not account for.
pub(super) fn missing_acknowledged(dir: &Path, acknowledged: &Acknowledged<'_>, found: &Found<'_>) -> Vec<Damage> {
    let mut damage = Vec::new();
    // Events missing from the boards that say so (lost from the end of a stream, or from a gap
    // in it), counted so the store-wide check below only reports what no board accounts for.
    let mut accounted = 0u64;
    let mut lost: Vec<(BoardId, u64, u64)> = Vec::new();
    for (board, recorded) in acknowledged.heads {
        accounted += recorded.saturating_sub(found.counts.get(board).copied().unwrap_or(0));
        let head = found.heads.get(board).copied().unwrap_or(0);
        if head < *recorded {
            lost.push((*board, head, *recorded));
        }
    }
    lost.sort_unstable();
    for (board, head, recorded) in lost {
        // A board sled could not read all of is reported as that already.
        if found.unreadable.contains(&board) {
            continue;
        }
        let problem = if head == 0 {
            format!(
                "{recorded} events were acknowledged but none is stored: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or they were deleted",
                dir.join("db").display()
            )
        } else {
            format!(
                "events {}..={recorded} were acknowledged but are not stored: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or they were deleted",
                head + 1,
                dir.join("db").display()
            )
        };
        damage.push(Damage { board: Some(board), seq: Some(head + 1), problem });
    }
    if let Some(events) = acknowledged.events.filter(|events| found.events.saturating_add(accounted) < *events) {
        damage.push(Damage {
            board: None,
            seq: None,
            problem: format!(
                "{events} events were acknowledged but only {} are stored{}: sled dropped part of its log in {} \
                 (a damaged record ends sled's recovery without an error), or records were deleted",
                found.events,
                if accounted > 0 {
                    format!(" and {accounted} are missing from the boards named")
                } else {
                    String::new()
                },
                dir.join("db").display()
            ),
        });
    }
    damage
}

/// The text of a caught panic.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message")
}

/// The scan behind [`verify_tree`]: the report, and the boards sled could not read all of.
pub(super) fn scan_tree(
    db: &sled::Db,
    dir: &Path,
    depth: Depth,
    known: &BTreeSet<BoardId>,
    scope: Scope,
    stop: &AtomicBool,
) -> (VerifyReport, BTreeSet<BoardId>) {
    let (events_range, command_regions) = match scope {
        Scope::Everything => (
            (vec![record::EVENT_PREFIX], Bound::Excluded(vec![record::EVENT_PREFIX + 1])),
            // Everything before the events, then everything after them.
            vec![
                (Vec::new(), Bound::Excluded(vec![record::EVENT_PREFIX])),
                (vec![record::EVENT_PREFIX + 1], Bound::Unbounded),
            ],
        ),
        Scope::Board(board) => {
            let (events_start, events_end) = KeyRange::Events.bounds(board);
            // Where format 1 kept the board's command records: empty once it is upgraded.
            let mut commands_start = vec![record::COMMAND_PREFIX];
            commands_start.extend_from_slice(board.as_bytes());
            let commands_end = successor(&commands_start);
            ((events_start, Bound::Excluded(events_end)), vec![(commands_start, Bound::Excluded(commands_end))])
        }
    };
    // The two passes read disjoint key ranges, so they run side by side: everything that is not
    // an event (which should be nothing) on a thread of their own, the events here.
    let (events_pass, commands_pass) = std::thread::scope(|threads| {
        let commands = threads.spawn(|| scan_commands(db, dir, known, &command_regions, stop));
        let events = scan_events(db, dir, depth, known, events_range.clone(), stop);
        // A panic inside sled on the other thread is re-raised here, for `verify_tree` to report.
        (events, commands.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let EventsPass { mut damage, events, chunked, heads, counts, unreadable } = events_pass;
    let commands_pass = if commands_pass.unpinned {
        // Where sled could not read keys it could not pin on a board it knew of, every board
        // with events is known now; keys of any other board would be damage anyway.
        let mut all_known = known.clone();
        all_known.extend(heads.keys().copied());
        scan_commands(db, dir, &all_known, &command_regions, stop)
    } else {
        commands_pass
    };
    let CommandsPass { damage: command_damage, unreadable: unreadable_commands, .. } = commands_pass;
    damage.extend(command_damage);
    let mut unreadable_any = unreadable;
    unreadable_any.extend(unreadable_commands.iter().copied());
    (VerifyReport { damage, events, chunked, heads, counts }, unreadable_any)
}

/// The range of keys a board has: its events (format 2 stores nothing else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeyRange {
    Events,
}

impl KeyRange {
    /// The first key of the board's range, and the first key after it.
    pub(super) fn bounds(self, board: BoardId) -> (Vec<u8>, Vec<u8>) {
        let prefix = match self {
            KeyRange::Events => record::EVENT_PREFIX,
        };
        let mut start = vec![prefix];
        start.extend_from_slice(board.as_bytes());
        let end = successor(&start);
        (start, end)
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub(super) fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.last_mut() {
        if *last == u8::MAX {
            next.pop();
        } else {
            *last += 1;
            break;
        }
    }
    next
}

/// Whether sled can read every record of the board's range.
pub(super) fn readable(db: &sled::Db, range: KeyRange, board: BoardId) -> bool {
    let (start, end) = range.bounds(board);
    db.range(start..end).all(|item| item.is_ok())
}

/// After sled failed to read the entry after `position`, the board whose records it could not
/// read, if that can be told: sled keeps keys in nodes covering contiguous key ranges, so the
/// node it could not read holds the next key after `position`. Of the boards in `candidates`,
/// the first whose range does not end before `position` is the one that key belongs to, if it
/// belongs to any known board, and then sled cannot read all of that board. When that board
/// reads, the key belongs to none of them: `None`. When it does not, the node is blamed on it.
/// (A key of a board nobody knows of could share the node; its events are then missing from
/// the count of events found, which the store-wide check reports.)
pub(super) fn blame(
    db: &sled::Db,
    range: KeyRange,
    position: &[u8],
    candidates: &BTreeSet<BoardId>,
) -> Option<BoardId> {
    for board in candidates {
        let (start, end) = range.bounds(*board);
        if end.as_slice() <= position {
            continue;
        }
        if !readable(db, range, *board) {
            return Some(*board);
        }
        if start.as_slice() > position {
            return None;
        }
    }
    None
}

/// Reads every entry from `start` up to `end` in key order, handing each to `visit` (which
/// answers the board the key belongs to, if any). Where sled cannot read on, the records of the
/// board to [`blame`] are skipped after telling `unreadable`; a failure that cannot be pinned on a
/// board ends the walk and is returned.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk(
    db: &sled::Db,
    start: Vec<u8>,
    end: Bound<Vec<u8>>,
    range: KeyRange,
    known: &BTreeSet<BoardId>,
    mut visit: impl FnMut(&[u8], &[u8]) -> Option<BoardId>,
    mut unreadable: impl FnMut(BoardId, String),
    stop: &AtomicBool,
) -> Result<(), sled::Error> {
    let mut seen: BTreeSet<BoardId> = BTreeSet::new();
    let mut resume = start;
    loop {
        // The last key read, or where reading started.
        let mut position = resume.clone();
        let mut failure = None;
        for item in db.range::<Vec<u8>, _>((Bound::Included(resume), end.clone())) {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            match item {
                Ok((key, value)) => {
                    if let Some(board) = visit(&key, &value) {
                        seen.insert(board);
                    }
                    position = key.to_vec();
                }
                Err(error) => {
                    // An iterator that failed once cannot be trusted to make progress.
                    failure = Some(error);
                    break;
                }
            }
        }
        let Some(error) = failure else { return Ok(()) };
        let candidates: BTreeSet<BoardId> = known.union(&seen).copied().collect();
        let Some(board) = blame(db, range, &position, &candidates) else { return Err(error) };
        unreadable(board, error.to_string());
        resume = range.bounds(board).1;
        let past_the_end = match &end {
            Bound::Excluded(end) => resume >= *end,
            Bound::Included(end) => resume > *end,
            Bound::Unbounded => false,
        };
        if past_the_end {
            return Ok(());
        }
    }
}

/// What the scan of the event streams found.
pub(super) struct EventsPass {
    pub(super) damage: Vec<Damage>,
    pub(super) events: u64,
    /// Events read from chunks.
    pub(super) chunked: u64,
    /// The last sequence number found of each board.
    pub(super) heads: HashMap<BoardId, u64>,
    /// The number of events found of each board.
    pub(super) counts: HashMap<BoardId, u64>,
    /// Boards sled could not read all events of.
    pub(super) unreadable: BTreeSet<BoardId>,
}

/// What the scan of everything but events found.
pub(super) struct CommandsPass {
    pub(super) damage: Vec<Damage>,
    /// Boards sled could not read all keys of.
    pub(super) unreadable: BTreeSet<BoardId>,
    /// Whether sled failed somewhere it could not pin on a board (reported in `damage`).
    pub(super) unpinned: bool,
}

/// sled's own read failure, as damage of its `db` file.
pub(super) fn sled_failure(dir: &Path, error: sled::Error) -> Damage {
    Damage { board: None, seq: None, problem: format!("sled could not read {}: {error}", dir.join("db").display()) }
}

/// sled's read failure inside one board's records.
pub(super) fn unreadable_board(dir: &Path, board: BoardId, seq: Option<u64>, what: &str, error: &str) -> Damage {
    Damage {
        board: Some(board),
        seq,
        problem: format!("sled cannot read the board's {what} in {}: {error}", dir.join("db").display()),
    }
}

/// Pass 1: the event streams of `range`, in key order, so each board's events come together and
/// in seq order (chunks of events are read record by record, ADR 0008).
pub(super) fn scan_events(
    db: &sled::Db,
    dir: &Path,
    depth: Depth,
    known: &BTreeSet<BoardId>,
    range: (Vec<u8>, Bound<Vec<u8>>),
    stop: &AtomicBool,
) -> EventsPass {
    let mut scan = StreamScan { depth, ..StreamScan::default() };
    let mut blamed = Vec::new();
    let walked = walk(
        db,
        range.0,
        range.1,
        KeyRange::Events,
        known,
        |key, value| scan.entry(key, value),
        |board, error| blamed.push((board, error)),
        stop,
    );
    let StreamScan { mut damage, events, chunked, heads, counts, .. } = scan;
    let mut unreadable = BTreeSet::new();
    for (board, error) in blamed {
        let next = heads.get(&board).map_or(1, |head| head + 1);
        damage.push(unreadable_board(dir, board, Some(next), "events from here on", &error));
        unreadable.insert(board);
    }
    if let Err(error) = walked {
        damage.push(sled_failure(dir, error));
    }
    EventsPass { damage, events, chunked, heads, counts, unreadable }
}

/// What pass 1 has found so far, and where it is.
#[derive(Default)]
struct StreamScan {
    depth: Depth,
    damage: Vec<Damage>,
    events: u64,
    /// Events read from chunks.
    chunked: u64,
    heads: HashMap<BoardId, u64>,
    counts: HashMap<BoardId, u64>,
    /// The board being read and the last seq read of it.
    current: Option<(BoardId, u64)>,
    /// The current board's commands: the one being read, and every one already passed.
    command: Option<(CommandId, u32)>,
    passed: HashSet<CommandId>,
}

impl StreamScan {
    /// Reads one entry of the event range; returns the board it belongs to, when the key says.
    fn entry(&mut self, key: &[u8], value: &[u8]) -> Option<BoardId> {
        let parsed = record::parse_key(key);
        let chunk = matches!(parsed, Ok(ParsedKey::Chunk { .. }));
        let (board, last) = match parsed {
            Ok(parsed) => match parsed.stream_entry() {
                Some(entry) => entry,
                None => {
                    self.damage.push(outside_range(key));
                    return None;
                }
            },
            Err(error) => {
                self.damage.push(Damage {
                    board: record::board_of_key(key),
                    seq: None,
                    problem: format!("malformed event key {key:02x?}: {error}"),
                });
                return record::board_of_key(key);
            }
        };
        let previous = match self.current {
            Some((current, last)) if current == board => last,
            _ => {
                self.command = None;
                self.passed.clear();
                self.current = Some((board, 0));
                0
            }
        };
        let events_before = self.events;
        let read: Result<ControlFlow<()>, Damage> = chunks::each_in_entry(
            board,
            key,
            value,
            previous + 1,
            |seq, key, value| {
                self.record(board, seq, key, value);
                Ok(ControlFlow::Continue(()))
            },
            |problem| Damage { board: Some(board), seq: Some(previous + 1), problem },
        );
        if chunk {
            self.chunked += self.events - events_before;
        }
        if let Err(damage) = read {
            self.damage.push(damage);
            // A chunk that does not read is one problem, not also a gap after it.
            if last > previous {
                self.current = Some((board, last));
                self.heads.insert(board, last);
            }
        }
        Some(board)
    }

    /// Checks one record of `board`, read after the records before it.
    fn record(&mut self, board: BoardId, seq: u64, key: &[u8], value: &[u8]) {
        self.events += 1;
        let previous = self.current.map_or(0, |(_, last)| last);
        if seq != previous + 1 {
            let problem = if previous == 0 {
                format!("the stream starts at seq {seq} instead of 1")
            } else {
                format!("events {}..={} are missing", previous + 1, seq - 1)
            };
            self.damage.push(Damage { board: Some(board), seq: Some(previous + 1), problem });
        }
        let checked = match self.depth {
            Depth::Checksums => record::event_command(key, value),
            Depth::Envelopes => {
                record::decode_event(key, value).map(|envelope| (envelope.command, envelope.fingerprint))
            }
        };
        match checked {
            Err(error) => self.damage.push(Damage { board: Some(board), seq: Some(seq), problem: error.to_string() }),
            Ok((id, fingerprint)) => match self.command {
                Some((current_id, current_fingerprint)) if current_id == id => {
                    if current_fingerprint != fingerprint {
                        self.damage.push(Damage {
                            board: Some(board),
                            seq: Some(seq),
                            problem: format!("the events of command {id} disagree about its fingerprint"),
                        });
                    }
                }
                _ => {
                    if let Some((previous_id, _)) = self.command.replace((id, fingerprint)) {
                        self.passed.insert(previous_id);
                    }
                    if self.passed.contains(&id) {
                        self.damage.push(Damage {
                            board: Some(board),
                            seq: Some(seq),
                            problem: format!(
                                "command {id} has events in two places (a command's events are stored together)"
                            ),
                        });
                    }
                }
            },
        }
        self.current = Some((board, seq));
        self.heads.insert(board, seq);
        *self.counts.entry(board).or_insert(0) += 1;
    }
}

/// Pass 2: everything else (the key ranges in `regions`), which must be nothing: format 2 stores
/// only events. A command record of format 1 left here belongs to a board whose upgrade did not
/// finish.
pub(super) fn scan_commands(
    db: &sled::Db,
    dir: &Path,
    known: &BTreeSet<BoardId>,
    regions: &[(Vec<u8>, Bound<Vec<u8>>)],
    stop: &AtomicBool,
) -> CommandsPass {
    let mut damage = Vec::new();
    let mut unreadable = BTreeSet::new();
    let mut unpinned = false;
    for (start, end) in regions.iter().cloned() {
        let visit = |key: &[u8], _: &[u8]| {
            let (board, command_id) = match record::parse_key(key) {
                Ok(ParsedKey::Command { board, command_id }) => (board, command_id),
                Ok(ParsedKey::Event { .. } | ParsedKey::Chunk { .. }) => {
                    damage.push(outside_range(key));
                    return None;
                }
                Err(error) => {
                    let board = if matches!(error, RecordError::UnknownKeyPrefix(_)) {
                        None
                    } else {
                        record::board_of_key(key)
                    };
                    damage.push(Damage { board, seq: None, problem: format!("key {key:02x?}: {error}") });
                    return board;
                }
            };
            damage.push(Damage {
                board: Some(board),
                seq: None,
                problem: format!(
                    "a format-1 record of command {command_id}: this board's upgrade to format 2 did not finish"
                ),
            });
            Some(board)
        };
        let mut blamed = Vec::new();
        // Nothing but events is stored, so a node sled cannot read here is one that also holds
        // the first or last board's events: blame it on that board's events, once more.
        let walked = walk(
            db,
            start,
            end,
            KeyRange::Events,
            known,
            visit,
            |board, error| {
                blamed.push((board, error));
            },
            stop,
        );
        for (board, error) in blamed {
            damage.push(unreadable_board(dir, board, None, "records next to its events", &error));
            unreadable.insert(board);
        }
        if let Err(error) = walked {
            damage.push(sled_failure(dir, error));
            unpinned = true;
        }
    }
    CommandsPass { damage, unreadable, unpinned }
}

/// A key from the wrong half of the scan. The ranges make this impossible; should sled ever
/// return one anyway, it is reported rather than trusted.
pub(super) fn outside_range(key: &[u8]) -> Damage {
    Damage {
        board: record::board_of_key(key),
        seq: None,
        problem: format!("sled returned key {key:02x?} outside the scanned range"),
    }
}
