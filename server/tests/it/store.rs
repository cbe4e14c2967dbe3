//! Tests of the sled event store at its boundary: real files in a fresh directory, real threads,
//! and raw sled or raw file edits to play the part of damage.

use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use kipina_server::store::record::{self, EVENT_KEY_LEN};
use kipina_server::store::release::OpenedSled;
use kipina_server::store::sled_store::{CheckCounts, StoreStats, SyncHook};
use kipina_server::store::{
    AppendOutcome, AppendRequest, AppendTicket, Damage, EventStore, ExpectedVersion, MAX_EVENTS_PER_APPEND,
    MAX_RECORD_BYTES, NewEvent, SledStore, StoreError, StoreOptions,
};
use serde_json::{Value, json};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a test waits for the writer to reach a hook before it declares the writer stuck.
/// Only a bound on a failure; nothing waits this long when the store works.
const STUCK: Duration = Duration::from_secs(20);

/// A fresh directory for one store, removed when the test ends.
pub(crate) struct Scratch {
    _root: tempfile::TempDir,
    pub(crate) dir: PathBuf,
}

pub(crate) fn scratch() -> Scratch {
    let root = tempfile::tempdir().expect("a temporary directory");
    // The store gets a directory that does not exist yet, as the server's `DATA/events` may not.
    let dir = root.path().join("events");
    Scratch { _root: root, dir }
}

pub(crate) fn open(dir: &Path) -> SledStore {
    SledStore::open(dir, StoreOptions::default()).expect("the store opens")
}

pub(crate) fn board(n: u128) -> BoardId {
    BoardId::from_uuid(Uuid::from_u128(n))
}

pub(crate) fn command(n: u128) -> CommandId {
    CommandId::from_uuid(Uuid::from_u128(0xc0de_0000_0000 + n))
}

fn actor() -> ParticipantId {
    ParticipantId::from_uuid(Uuid::from_u128(77))
}

/// A payload with the things that could go wrong in a round trip: non-ASCII text, escapes,
/// floats, nesting, an empty string.
fn payload(n: u64) -> Value {
    json!({
        "text": format!("Idea {n}: kipinä ✨ \"quoted\" \\ back\nslash"),
        "n": n,
        "ratio": 0.1 + n as f64,
        "tags": ["a", "b", {"nested": [1, 2.5, -3, null, true]}],
        "empty": "",
    })
}

/// A payload as the store takes it: encoded JSON.
pub(crate) fn raw(payload: &serde_json::Value) -> Box<serde_json::value::RawValue> {
    kipina_server::store::encode_payload(payload).expect("encodes")
}

pub(crate) fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: EventId::from_uuid(Uuid::now_v7()),
        event_type: "card_added".into(),
        event_version: 1,
        payload: raw(&payload(n)),
    }
}

pub(crate) fn request(
    board: BoardId,
    command_id: CommandId,
    expected: ExpectedVersion,
    events: usize,
) -> AppendRequest {
    AppendRequest {
        board,
        command_id,
        command_fingerprint: 0xfeed,
        actor: actor(),
        at: Timestamp(1_764_000_000_000),
        expected,
        events: (0..events as u64).map(event).collect(),
    }
}

pub(crate) fn append(store: &SledStore, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
    store.append(request).wait()
}

/// Polls a ticket once without blocking: `None` while the append is still unanswered.
fn poll_once(ticket: &mut AppendTicket) -> Option<Result<AppendOutcome, StoreError>> {
    match Pin::new(ticket).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(answer) => Some(answer),
        Poll::Pending => None,
    }
}

pub(crate) fn seqs(store: &SledStore, board: BoardId) -> Vec<u64> {
    store.read(board, 1, usize::MAX).expect("the board reads").iter().map(|event| event.seq).collect()
}

pub(crate) fn damage_of(result: Result<impl std::fmt::Debug, StoreError>) -> Vec<Damage> {
    match result {
        Err(StoreError::Damaged(damage)) => damage,
        other => panic!("expected Damaged, got {other:?}"),
    }
}

/// Opens a store that must put exactly one board in quarantine once it has checked everything
/// (when opening, and in the background after), and returns the store and that board's damage.
pub(crate) fn open_quarantined(dir: &Path, board: BoardId) -> (SledStore, Vec<Damage>) {
    let store = open(dir);
    store.wait_for_background_check();
    let mut damaged = store.damaged_boards();
    assert_eq!(damaged.len(), 1, "one board in quarantine: {damaged:?}");
    let (found, damage) = damaged.remove(0);
    assert_eq!(found, board, "{damage:?}");
    assert!(!damage.is_empty());
    (store, damage)
}

/// Everything a board in quarantine is refused: reads, head, command lookups and appends.
pub(crate) fn assert_refused(store: &SledStore, board: BoardId) {
    assert!(matches!(store.read(board, 1, 10), Err(StoreError::Damaged(_))));
    assert!(matches!(store.head(board), Err(StoreError::Damaged(_))));
    assert!(matches!(store.command(board, command(1)), Err(StoreError::Damaged(_))));
    let appended = append(store, request(board, command(999), ExpectedVersion::Any, 1));
    assert!(matches!(appended, Err(StoreError::Damaged(_))), "{appended:?}");
    assert!(store.boards().expect("boards are listed").contains(&board), "a board in quarantine is still listed");
}

/// Opens sled's files directly, as the store does, to play the part of damage. Dropping it
/// returns once sled has let go of the directory, so the store can open it straight after.
pub(crate) fn raw_sled(dir: &Path) -> OpenedSled {
    OpenedSled::open(&sled::Config::new().path(dir).segment_size(8 * 1024 * 1024), dir)
        .expect("sled opens the store's files")
}

/// [`raw_sled`], with every chunk of events turned back into one sled entry per event: what a
/// store wrote before it kept its boards' newest events in tails (ADR 0011), and what opening
/// still writes of the commit log. The damage these tests make is to single events. The entries
/// go into a fresh sled, which then takes the place of the old one, so the file holds no copy of
/// a chunk: sled's file looks as if a store had written the events one by one.
pub(crate) fn raw_sled_events(dir: &Path) -> OpenedSled {
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    {
        let db = raw_sled(dir);
        for item in db.iter() {
            let (key, value) = item.expect("sled reads");
            match record::parse_key(&key) {
                Ok(record::ParsedKey::Chunk { .. }) => {
                    let chunk = record::decode_chunk(&key, &value).expect("a sound chunk");
                    entries.extend(chunk.records().map(|(_, event_key, bytes)| (event_key.to_vec(), bytes.to_vec())));
                }
                _ => entries.push((key.to_vec(), value.to_vec())),
            }
        }
    }
    let fresh = dir.with_extension("events-only");
    {
        let db = raw_sled(&fresh);
        for (key, value) in entries {
            db.insert(key, value).expect("writes");
        }
        db.flush().expect("flushes");
    }
    for entry in std::fs::read_dir(dir).expect("lists the store") {
        let path = entry.expect("lists").path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        if name == "db" || name == "conf" || name == "blobs" || name.starts_with("snap.") {
            if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }.expect("removes");
        }
    }
    for entry in std::fs::read_dir(&fresh).expect("lists the fresh sled") {
        let path = entry.expect("lists").path();
        std::fs::rename(&path, dir.join(path.file_name().expect("a name"))).expect("moves");
    }
    std::fs::remove_dir(&fresh).expect("removes the fresh sled's directory");
    raw_sled(dir)
}

/// A sync hook that holds syncs until the test lets them go, and can make them fail.
struct Gate {
    /// Syncs still to hold; the rest pass straight through.
    to_hold: AtomicU64,
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
    fail: AtomicBool,
}

/// The test's side of a [`Gate`].
struct GateControl {
    entered: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

impl GateControl {
    /// Waits until the writer is held inside the sync hook.
    fn wait_until_held(&self) {
        self.entered.recv_timeout(STUCK).expect("the writer reached the sync");
    }

    fn release(&self) {
        self.release.send(()).expect("the writer is still waiting");
    }
}

fn gate(to_hold: u64) -> (Arc<Gate>, GateControl) {
    let (entered_sender, entered) = mpsc::channel();
    let (release, release_receiver) = mpsc::channel();
    let gate = Arc::new(Gate {
        to_hold: AtomicU64::new(to_hold),
        entered: Mutex::new(entered_sender),
        release: Mutex::new(release_receiver),
        fail: AtomicBool::new(false),
    });
    (gate, GateControl { entered, release })
}

impl SyncHook for Gate {
    fn before_sync(&self) -> io::Result<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fdatasync failure"));
        }
        let hold = self.to_hold.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1)).is_ok();
        if hold {
            // unwrap: the locks are only taken here, on the one writer thread.
            let _ = self.entered.lock().unwrap().send(());
            // A dropped control (a failing test) lets the writer go rather than hang the drop.
            let _ = self.release.lock().unwrap().recv();
        }
        Ok(())
    }
}

#[test]
fn appended_events_read_back_gap_free_and_byte_identical_also_after_reopening() {
    let scratch = scratch();
    let board_id = board(1);
    let mut sent = Vec::new();
    {
        let store = open(&scratch.dir);
        for n in 0..20u128 {
            let events = 1 + (n as usize % 3);
            let request = request(board_id, command(n), ExpectedVersion::Any, events);
            sent.extend(request.events.clone());
            let outcome = append(&store, request).expect("appends");
            assert!(matches!(outcome, AppendOutcome::Appended { .. }));
        }
        assert_eq!(store.head(board_id).expect("head"), sent.len() as u64);
        assert_read_back(&store, board_id, &sent);
    }
    let store = open(&scratch.dir);
    assert_eq!(store.head(board_id).expect("head"), sent.len() as u64);
    assert_read_back(&store, board_id, &sent);
    assert_eq!(store.boards().expect("boards"), vec![board_id]);
    assert!(store.verify().is_empty());
}

fn assert_read_back(store: &SledStore, board_id: BoardId, sent: &[NewEvent]) {
    let read = store.read(board_id, 1, 1_000).expect("reads");
    assert_eq!(read.len(), sent.len());
    for (index, (stored, original)) in read.iter().zip(sent).enumerate() {
        assert_eq!(stored.seq, index as u64 + 1, "seqs run 1..N without gaps");
        assert_eq!(stored.board, board_id);
        assert_eq!(stored.event_id, original.event_id);
        assert_eq!(stored.event_type, original.event_type);
        assert_eq!(stored.event_version, original.event_version);
        assert_eq!(stored.actor, actor());
        assert_eq!(stored.at, Timestamp(1_764_000_000_000));
        assert_eq!(
            serde_json::to_vec(&stored.payload).expect("encodes"),
            serde_json::to_vec(&original.payload).expect("encodes"),
            "the payload of seq {} is byte-identical",
            stored.seq
        );
    }
}

#[test]
fn read_honours_from_and_limit() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(1), ExpectedVersion::NoStream, 10)).expect("appends");
    let window: Vec<u64> = store.read(board_id, 4, 3).expect("reads").iter().map(|e| e.seq).collect();
    assert_eq!(window, [4, 5, 6]);
    let from_zero: Vec<u64> = store.read(board_id, 0, 2).expect("reads").iter().map(|e| e.seq).collect();
    assert_eq!(from_zero, [1, 2]);
    assert!(store.read(board_id, 11, 5).expect("reads").is_empty());
    assert!(store.read(board_id, 1, 0).expect("reads").is_empty());
    assert!(store.read(board(2), 1, 5).expect("reads").is_empty());
    assert_eq!(store.head(board(2)).expect("head"), 0);
}

#[test]
fn boards_lists_every_board_with_events_once() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    assert!(store.boards().expect("boards").is_empty());
    // Boards whose ids differ only in the last byte sit next to each other in key order.
    let ids = [board(3), board(1), board(2), board(u128::MAX), board(0)];
    for (n, board_id) in ids.iter().enumerate() {
        for m in 0..3 {
            append(&store, request(*board_id, command((n * 10 + m) as u128), ExpectedVersion::Any, 2))
                .expect("appends");
        }
    }
    let mut expected = ids.to_vec();
    expected.sort();
    assert_eq!(store.boards().expect("boards"), expected);
}

#[test]
fn a_retry_with_the_same_fingerprint_returns_the_first_result_and_appends_nothing() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(1), ExpectedVersion::NoStream, 2)).expect("appends");
    let first = append(&store, request(board_id, command(2), ExpectedVersion::Exact(2), 3)).expect("appends");
    assert_eq!(first, AppendOutcome::Appended { first: 3, last: 5 });

    // The retry carries a stale expected version on purpose: idempotency is checked first.
    let retry = append(&store, request(board_id, command(2), ExpectedVersion::Exact(2), 3)).expect("answers");
    assert_eq!(retry, AppendOutcome::AlreadyAppended { first: 3, last: 5 });
    assert_eq!(store.head(board_id).expect("head"), 5);
    let record = store.command(board_id, command(2)).expect("reads").expect("remembered");
    assert_eq!((record.first, record.last, record.fingerprint), (3, 5, 0xfeed));
    assert_eq!(store.command(board_id, command(99)).expect("reads"), None);

    // The memory survives a reopen.
    drop(store);
    let store = open(&scratch.dir);
    let retry = append(&store, request(board_id, command(2), ExpectedVersion::Any, 3)).expect("answers");
    assert_eq!(retry, AppendOutcome::AlreadyAppended { first: 3, last: 5 });
    assert_eq!(store.head(board_id).expect("head"), 5);
    assert_eq!(store.stats().appends, 0);
}

#[test]
fn concurrent_retries_of_one_command_append_exactly_once() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(0), ExpectedVersion::Any, 1)).expect("appends");
    let threads = 16;
    let barrier = Arc::new(Barrier::new(threads));
    let outcomes: Vec<AppendOutcome> = (0..threads)
        .map(|_| {
            let store = store.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                append(&store, request(board_id, command(1), ExpectedVersion::Any, 2)).expect("answers")
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().expect("the thread finishes"))
        .collect();
    let appended = outcomes.iter().filter(|outcome| matches!(outcome, AppendOutcome::Appended { .. })).count();
    assert_eq!(appended, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| outcome.range() == (2, 3)), "{outcomes:?}");
    assert_eq!(store.head(board_id).expect("head"), 3);
}

#[test]
fn the_same_command_id_with_another_fingerprint_is_refused_and_appends_nothing() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(1), ExpectedVersion::Any, 2)).expect("appends");
    let mut changed = request(board_id, command(1), ExpectedVersion::Any, 2);
    changed.command_fingerprint = 0xbad;
    match append(&store, changed) {
        Err(StoreError::IdempotencyConflict { command_id }) => assert_eq!(command_id, command(1)),
        other => panic!("expected an idempotency conflict, got {other:?}"),
    }
    assert_eq!(store.head(board_id).expect("head"), 2);
    // The same command id on another board is another command.
    let other_board = append(&store, request(board(2), command(1), ExpectedVersion::Any, 1)).expect("appends");
    assert_eq!(other_board, AppendOutcome::Appended { first: 1, last: 1 });
}

#[test]
fn a_wrong_expected_version_is_a_conflict_that_says_what_was_expected_and_found() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    match append(&store, request(board_id, command(1), ExpectedVersion::Exact(3), 1)) {
        Err(StoreError::Conflict { board, expected, actual }) => {
            assert_eq!((board, expected, actual), (board_id, ExpectedVersion::Exact(3), 0));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    append(&store, request(board_id, command(2), ExpectedVersion::NoStream, 4)).expect("appends");
    match append(&store, request(board_id, command(3), ExpectedVersion::Exact(3), 1)) {
        Err(StoreError::Conflict { expected, actual, .. }) => {
            assert_eq!((expected, actual), (ExpectedVersion::Exact(3), 4))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match append(&store, request(board_id, command(4), ExpectedVersion::NoStream, 1)) {
        Err(StoreError::Conflict { expected, actual, .. }) => {
            assert_eq!((expected, actual), (ExpectedVersion::NoStream, 4))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.head(board_id).expect("head"), 4);
    // A refused command is not remembered, so it can be sent again once it is right.
    assert_eq!(store.command(board_id, command(3)).expect("reads"), None);
    let fixed = append(&store, request(board_id, command(3), ExpectedVersion::Exact(4), 1)).expect("appends");
    assert_eq!(fixed, AppendOutcome::Appended { first: 5, last: 5 });
}

#[test]
fn of_two_writers_expecting_the_same_version_exactly_one_succeeds() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(0), ExpectedVersion::Any, 2)).expect("appends");
    for round in 0..20u128 {
        let head = store.head(board_id).expect("head");
        let barrier = Arc::new(Barrier::new(2));
        let answers: Vec<Result<AppendOutcome, StoreError>> = (0..2u128)
            .map(|writer| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    append(
                        &store,
                        request(board_id, command(100 + round * 2 + writer), ExpectedVersion::Exact(head), 3),
                    )
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|handle| handle.join().expect("the thread finishes"))
            .collect();
        let won = answers.iter().filter(|answer| matches!(answer, Ok(AppendOutcome::Appended { .. }))).count();
        let lost = answers
            .iter()
            .filter(|answer| matches!(answer, Err(StoreError::Conflict { actual, .. }) if *actual == head + 3))
            .count();
        assert_eq!((won, lost), (1, 1), "round {round}: {answers:?}");
        assert_eq!(store.head(board_id).expect("head"), head + 3, "the loser appended nothing");
    }
}

#[test]
fn sixty_four_concurrent_writers_on_one_board_get_contiguous_seqs() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    let writers = 64u128;
    let per_writer = 10u128;
    let barrier = Arc::new(Barrier::new(writers as usize));
    let handles: Vec<_> = (0..writers)
        .map(|writer| {
            let store = store.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                (0..per_writer)
                    .map(|n| {
                        let events = 1 + (n as usize % 2);
                        append(&store, request(board_id, command(writer * 1_000 + n), ExpectedVersion::Any, events))
                            .expect("appends")
                            .range()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ranges: Vec<(u64, u64)> =
        handles.into_iter().flat_map(|handle| handle.join().expect("the thread finishes")).collect();
    ranges.sort_unstable();
    let mut next = 1;
    for (first, last) in &ranges {
        assert_eq!(*first, next, "ranges are contiguous and disjoint: {ranges:?}");
        next = last + 1;
    }
    let total = next - 1;
    assert_eq!(seqs(&store, board_id), (1..=total).collect::<Vec<_>>());
    let stats = store.stats();
    assert_eq!(stats.appends, (writers * per_writer) as u64);
    assert_eq!(stats.events, total);
    assert!(stats.syncs <= stats.appends, "{stats:?}");
}

/// Holds the first sync, queues `writers` appends from as many threads while it is held, then
/// lets everything go, and returns the counters.
fn syncs_for_appends_queued_behind_a_sync(group_commit: bool, writers: u128) -> StoreStats {
    let scratch = scratch();
    let (hook, control) = gate(1);
    let store =
        SledStore::open_with_sync_hook(&scratch.dir, StoreOptions { group_commit, ..StoreOptions::default() }, hook)
            .expect("the store opens");
    // Two appends in one group, so the syncer (not the writer, which syncs a lone append
    // itself when nothing else waits) holds the sync while the writer goes on.
    let first = store.append_all(vec![
        request(board(1), command(0), ExpectedVersion::Any, 1),
        request(board(1), command(100), ExpectedVersion::Any, 1),
    ]);
    control.wait_until_held();

    let (sent_sender, sent) = mpsc::channel();
    let handles: Vec<_> = (1..=writers)
        .map(|writer| {
            let store = store.clone();
            let sent_sender = sent_sender.clone();
            thread::spawn(move || {
                let ticket = store.append(request(board(1 + writer % 3), command(writer), ExpectedVersion::Any, 1));
                // `append` has queued the request by the time it returns.
                sent_sender.send(()).expect("the test is waiting");
                ticket.wait().expect("appends")
            })
        })
        .collect();
    for _ in 0..writers {
        sent.recv_timeout(STUCK).expect("every writer queued its append");
    }
    // The writer goes on writing while a sync runs (the syncer is a thread of its own): wait
    // until it has written every queued append, so that what the next sync covers is known.
    let deadline = Instant::now() + STUCK;
    while store.stats().written < 2 + writers as u64 {
        assert!(Instant::now() < deadline, "the writer wrote every queued append: {:?}", store.stats());
        thread::yield_now();
    }
    control.release();
    for ticket in first {
        assert!(matches!(ticket.wait(), Ok(AppendOutcome::Appended { .. })));
    }
    for handle in handles {
        handle.join().expect("the thread finishes");
    }
    store.stats()
}

#[test]
fn with_group_commit_appends_that_wait_for_a_sync_share_the_next_one() {
    let stats = syncs_for_appends_queued_behind_a_sync(true, 16);
    assert_eq!(stats.appends, 18);
    // One sync for the first group, one for the sixteen appends written while it ran.
    assert_eq!(stats.syncs, 2, "{stats:?}");
}

#[test]
fn without_group_commit_every_append_pays_for_its_own_sync() {
    let stats = syncs_for_appends_queued_behind_a_sync(false, 16);
    assert_eq!(stats.appends, 18);
    assert_eq!(stats.syncs, 17, "{stats:?}");
}

#[test]
fn an_append_is_answered_and_visible_only_after_its_sync() {
    let scratch = scratch();
    let board_id = board(1);
    let (hook, control) = gate(1);
    let store = SledStore::open_with_sync_hook(&scratch.dir, StoreOptions::default(), hook).expect("the store opens");
    let mut watcher = store.subscribe(board_id);
    assert_eq!(*watcher.borrow_and_update(), 0);

    let mut ticket = store.append(request(board_id, command(1), ExpectedVersion::NoStream, 2));
    control.wait_until_held();
    // sled has the batch and the commit log its frame, but the fdatasync has not run: nothing
    // may be answered, announced or shown yet.
    assert!(poll_once(&mut ticket).is_none(), "answered before the sync");
    assert_eq!(store.stats().syncs, 0);
    assert!(!watcher.has_changed().expect("the store is alive"), "announced before the sync");
    assert_eq!(store.head(board_id).expect("head"), 0, "head shows events before the sync");
    assert!(store.read(board_id, 1, 10).expect("reads").is_empty(), "read shows events before the sync");
    assert_eq!(store.command(board_id, command(1)).expect("reads"), None);
    assert!(store.boards().expect("boards").is_empty());
    // A subscription made now also starts from the durable head.
    let late_watcher = store.subscribe(board_id);
    assert_eq!(*late_watcher.borrow(), 0);

    control.release();
    assert_eq!(ticket.wait().expect("appends"), AppendOutcome::Appended { first: 1, last: 2 });
    assert_eq!(store.stats().syncs, 1);
    // The head is raised before the answer goes out, so it is already visible here.
    assert!(watcher.has_changed().expect("the store is alive"));
    assert_eq!(*watcher.borrow_and_update(), 2);
    assert_eq!(*late_watcher.borrow(), 2);
    assert_eq!(store.head(board_id).expect("head"), 2);
    assert_eq!(seqs(&store, board_id), [1, 2]);
}

/// Holds the apply of the next group to sled until the syncer, having synced it, waits for it:
/// a store that answered without waiting would answer while the group is still held.
struct ApplyOnceTheSyncerWaits {
    armed: AtomicBool,
    syncer_waits: Mutex<mpsc::Sender<()>>,
    go: Mutex<mpsc::Receiver<()>>,
}

impl SyncHook for ApplyOnceTheSyncerWaits {
    fn before_apply(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            // unwrap: the lock is only taken here, on the one applying thread.
            let _ = self.go.lock().unwrap().recv();
        }
    }

    fn waiting_for_apply(&self) {
        let _ = self.syncer_waits.lock().unwrap().send(());
    }
}

/// Lets a held apply go when a failing test unwinds, so the store's drop does not hang.
struct LetsGo(mpsc::Sender<()>);

impl Drop for LetsGo {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
fn a_synced_group_is_answered_only_once_it_is_applied_to_sled() {
    let scratch = scratch();
    let (board_a, board_b) = (board(1), board(2));
    let (go_sender, go) = mpsc::channel();
    let hook = Arc::new(ApplyOnceTheSyncerWaits {
        armed: AtomicBool::new(false),
        syncer_waits: Mutex::new(go_sender.clone()),
        go: Mutex::new(go),
    });
    let store =
        SledStore::open_with_sync_hook(&scratch.dir, StoreOptions::default(), Arc::clone(&hook) as Arc<dyn SyncHook>)
            .expect("the store opens");
    append(&store, request(board_a, command(1), ExpectedVersion::NoStream, 1)).expect("appends");
    let _lets_go = LetsGo(go_sender);

    // Two appends travel as one group, which goes through the syncer (a lone append is applied
    // and synced on the writer's thread).
    hook.armed.store(true, Ordering::SeqCst);
    let tickets = store.append_all(vec![
        request(board_a, command(2), ExpectedVersion::Exact(1), 3),
        request(board_b, command(3), ExpectedVersion::NoStream, 2),
    ]);
    let answers: Vec<_> = tickets.into_iter().map(|ticket| ticket.wait().expect("appends")).collect();
    // Answered: so every event answered is in sled, read and listed.
    assert_eq!(seqs(&store, board_a), [1, 2, 3, 4], "answered before its events were in sled");
    assert_eq!(seqs(&store, board_b), [1, 2]);
    assert_eq!(answers, [AppendOutcome::Appended { first: 2, last: 4 }, AppendOutcome::Appended { first: 1, last: 2 }]);
    assert!(!hook.armed.load(Ordering::SeqCst), "the group was applied through the hook");
}

#[test]
fn a_failed_sync_fails_its_group_and_every_later_append() {
    let scratch = scratch();
    let board_id = board(1);
    let (hook, _control) = gate(0);
    let store =
        SledStore::open_with_sync_hook(&scratch.dir, StoreOptions::default(), Arc::clone(&hook) as Arc<dyn SyncHook>)
            .expect("the store opens");
    append(&store, request(board_id, command(1), ExpectedVersion::Any, 1)).expect("appends");
    let watcher = store.subscribe(board_id);

    assert_eq!(store.failure(), None);
    hook.fail.store(true, Ordering::SeqCst);
    assert!(matches!(
        append(&store, request(board_id, command(2), ExpectedVersion::Any, 1)),
        Err(StoreError::Failed(_))
    ));
    // It says why, for /health.
    let failure = store.failure().expect("the store says it failed");
    assert!(failure.contains(&scratch.dir.display().to_string()), "{failure}");
    // A working disk again changes nothing: after a failed fsync the page cache is not trusted.
    hook.fail.store(false, Ordering::SeqCst);
    assert!(matches!(
        append(&store, request(board_id, command(3), ExpectedVersion::Any, 1)),
        Err(StoreError::Failed(_))
    ));
    assert!(matches!(
        append(&store, request(board(2), command(4), ExpectedVersion::Any, 1)),
        Err(StoreError::Failed(_))
    ));

    // Readers still see only what was durable.
    assert_eq!(store.head(board_id).expect("head"), 1);
    assert_eq!(seqs(&store, board_id), [1]);
    assert_eq!(*watcher.borrow(), 1);
    assert_eq!(store.stats().syncs, 1);
}

#[test]
fn invalid_appends_are_refused_and_append_nothing() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board_id = board(1);
    append(&store, request(board_id, command(0), ExpectedVersion::Any, 1)).expect("appends");

    let empty = request(board_id, command(1), ExpectedVersion::Any, 0);
    assert!(matches!(append(&store, empty), Err(StoreError::InvalidAppend(_))));

    let too_many = request(board_id, command(2), ExpectedVersion::Any, MAX_EVENTS_PER_APPEND + 1);
    assert!(matches!(append(&store, too_many), Err(StoreError::InvalidAppend(_))));

    // The oversize event comes last, so nothing of the command may be stored.
    let mut oversize = request(board_id, command(3), ExpectedVersion::Any, 3);
    oversize.events[2].payload = raw(&json!({"text": "x".repeat(MAX_RECORD_BYTES)}));
    match append(&store, oversize) {
        Err(StoreError::InvalidAppend(reason)) => assert!(reason.contains("event 2"), "{reason}"),
        other => panic!("expected an invalid append, got {other:?}"),
    }

    // Exactly at the limit is still fine: find the largest text that fits and store it.
    let fits = (MAX_RECORD_BYTES - 400..MAX_RECORD_BYTES)
        .rev()
        .find_map(|len| {
            let mut candidate = request(board_id, command(4), ExpectedVersion::Any, 1);
            candidate.events[0].payload = raw(&json!({"text": "y".repeat(len)}));
            (record_len(&candidate) <= MAX_RECORD_BYTES).then_some(candidate)
        })
        .expect("some text length fits");
    assert_eq!(record_len(&fits), MAX_RECORD_BYTES);
    assert!(matches!(append(&store, fits), Ok(AppendOutcome::Appended { first: 2, last: 2 })));

    assert_eq!(store.head(board_id).expect("head"), 2);
    for refused in 1..=3 {
        assert_eq!(store.command(board_id, command(refused)).expect("reads"), None);
    }
}

/// The stored length of a single-event request's record.
fn record_len(request: &AppendRequest) -> usize {
    let envelope = record::EnvelopeRef::of(request, &request.events[0]);
    record::encode_event(&record::event_key(request.board, 1), &envelope).expect("encodes").len()
}

#[test]
fn a_changed_byte_inside_a_record_is_found_by_open_verify_and_read() {
    let scratch = scratch();
    let (damaged_board, sound_board) = (board(1), board(2));
    {
        let store = open(&scratch.dir);
        append(&store, request(damaged_board, command(1), ExpectedVersion::Any, 5)).expect("appends");
        append(&store, request(sound_board, command(2), ExpectedVersion::Any, 2)).expect("appends");
    }
    {
        // Change one byte of the JSON of seq 3 through sled, so sled itself stays consistent.
        let db = raw_sled_events(&scratch.dir);
        let key = record::event_key(damaged_board, 3);
        let mut value = db.get(key).expect("reads").expect("seq 3 exists").to_vec();
        let position = value.windows(4).position(|window| window == b"Idea").expect("the text is in the record");
        value[position] = b'J';
        db.insert(key, value).expect("writes");
        db.flush().expect("flushes");
    }

    // Opening puts the damaged board in quarantine and serves the other one.
    let (store, damage) = open_quarantined(&scratch.dir, damaged_board);
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!((damage[0].board, damage[0].seq), (Some(damaged_board), Some(3)));
    assert!(damage[0].problem.contains("checksum"), "{}", damage[0]);
    assert_refused(&store, damaged_board);
    assert_eq!(seqs(&store, sound_board), [1, 2]);
    append(&store, request(sound_board, command(3), ExpectedVersion::Exact(2), 1))
        .expect("the sound board takes appends");
    drop(store);

    // Inspection opens without a quarantine and finds the same damage.
    let store = inspect(&scratch.dir);
    let listed = store.verify();
    assert_eq!(listed, damage);
    // Events before the damage still read.
    assert_eq!(store.read(damaged_board, 1, 2).expect("reads").len(), 2);
    let read_damage = damage_of(store.read(damaged_board, 1, 10));
    assert_eq!((read_damage[0].board, read_damage[0].seq), (Some(damaged_board), Some(3)));
    // A read that found damage puts the board in quarantine from then on.
    assert!(matches!(store.read(damaged_board, 1, 2), Err(StoreError::Damaged(_))));
    assert_eq!(seqs(&store, sound_board), [1, 2, 3]);
}

/// Opens a store for inspection. A store that was dropped has let go of its directory.
pub(crate) fn inspect(dir: &Path) -> SledStore {
    SledStore::open_for_inspection(dir).expect("opens for inspection")
}

#[test]
fn a_record_moved_under_another_key_fails_its_checksum() {
    let scratch = scratch();
    {
        let store = open(&scratch.dir);
        append(&store, request(board(1), command(1), ExpectedVersion::Any, 3)).expect("appends");
    }
    {
        let db = raw_sled_events(&scratch.dir);
        let seq_one = db.get(record::event_key(board(1), 1)).expect("reads").expect("exists");
        db.insert(record::event_key(board(1), 2), seq_one).expect("writes");
        db.flush().expect("flushes");
    }
    let (store, damage) = open_quarantined(&scratch.dir, board(1));
    assert_eq!((damage[0].board, damage[0].seq), (Some(board(1)), Some(2)), "{damage:?}");
    assert_refused(&store, board(1));
}

#[test]
fn a_missing_event_is_reported_as_a_gap() {
    let scratch = scratch();
    let board_id = board(1);
    {
        let store = open(&scratch.dir);
        append(&store, request(board_id, command(1), ExpectedVersion::Any, 6)).expect("appends");
    }
    {
        let db = raw_sled_events(&scratch.dir);
        db.remove(record::event_key(board_id, 4)).expect("removes");
        db.flush().expect("flushes");
    }
    // The store acknowledged six events and finds five; the gap in the board accounts for the
    // missing one, so the board is quarantined rather than the whole store refused.
    let (store, damage) = open_quarantined(&scratch.dir, board_id);
    assert!(
        damage
            .iter()
            .any(|item| (item.board, item.seq) == (Some(board_id), Some(4)) && item.problem.contains("missing")),
        "{damage:?}"
    );
    assert_refused(&store, board_id);
    drop(store);

    let store = inspect(&scratch.dir);
    assert_eq!(store.read(board_id, 1, 3).expect("reads").len(), 3);
    let read_damage = damage_of(store.read(board_id, 1, 10));
    assert_eq!((read_damage[0].board, read_damage[0].seq), (Some(board_id), Some(4)));
}

#[test]
fn a_record_deleted_from_a_board_nobody_knows_of_refuses_the_store() {
    let scratch = scratch();
    {
        let store = open(&scratch.dir);
        append(&store, request(board(1), command(1), ExpectedVersion::Any, 3)).expect("appends");
    }
    // Without the acknowledged heads (a store from before they were kept), a missing event is
    // counted by the watermark alone and named on no board.
    std::fs::remove_file(scratch.dir.join("acknowledged-heads")).expect("removes");
    {
        let db = raw_sled_events(&scratch.dir);
        db.remove(record::event_key(board(1), 3)).expect("removes");
        db.flush().expect("flushes");
    }
    let damage = damage_of(SledStore::open(&scratch.dir, StoreOptions::default()));
    assert!(damage.iter().any(|item| item.board.is_none() && item.problem.contains("3 events were acknowledged")));
}

#[test]
fn verify_reports_every_kind_of_foreign_or_broken_entry() {
    let scratch = scratch();
    let board_id = board(1);
    {
        let store = open(&scratch.dir);
        append(&store, request(board_id, command(1), ExpectedVersion::Any, 2)).expect("appends");
    }
    {
        let db = raw_sled_events(&scratch.dir);
        // A key with a prefix the store never writes.
        db.insert(b"zzz", b"?".to_vec()).expect("writes");
        // An event key one byte too long.
        let mut long_key = record::event_key(board_id, 9).to_vec();
        long_key.push(0);
        db.insert(long_key, b"?".to_vec()).expect("writes");
        // A board whose stream starts at seq 5.
        let late_key = record::event_key(board(2), 5);
        let seq_one = db.get(record::event_key(board_id, 1)).expect("reads").expect("exists");
        db.insert(late_key, seq_one).expect("writes");
        // A command whose events are in two places: board 3 holds A, B, A.
        for (seq, id) in [(1, command(10)), (2, command(11)), (3, command(10))] {
            let key = record::event_key(board(3), seq);
            let payload = raw(&json!({"n": seq}));
            let envelope = record::EnvelopeRef {
                id: EventId::from_uuid(Uuid::from_u128(u128::from(seq))),
                command: id,
                fingerprint: 5,
                actor: actor(),
                at: Timestamp(1),
                event_type: "card_added",
                v: 1,
                payload: &payload,
            };
            db.insert(key, record::encode_event(&key, &envelope).expect("encodes")).expect("writes");
        }
        // A format-1 command record (as before ADR 0005) that is damaged, so the upgrade cannot
        // convert its board, which then keeps it.
        let broken_key = record::command_key(board_id, command(1));
        let claim = kipina_server::store::CommandRecord { first: 1, last: 2, fingerprint: 0xfeed };
        let mut broken = record::legacy::encode_command(&broken_key, &claim);
        broken[10] ^= 0xff;
        db.insert(broken_key, broken).expect("writes");
        db.flush().expect("flushes");
    }
    let store = SledStore::open_for_inspection(&scratch.dir).expect("opens for inspection");
    let damage = store.verify();
    let found = |board: Option<BoardId>, seq: Option<u64>, words: &str| {
        damage.iter().any(|item| item.board == board && item.seq == seq && item.problem.contains(words))
    };
    assert!(found(None, None, "unknown key prefix"), "{damage:?}");
    assert!(found(Some(board_id), None, "malformed"), "{damage:?}");
    assert!(found(Some(board(2)), Some(1), "starts at seq 5"), "{damage:?}");
    assert!(found(Some(board(2)), Some(5), "checksum"), "{damage:?}");
    assert!(found(Some(board(3)), Some(3), "two places"), "{damage:?}");
    assert!(found(Some(board_id), None, "cannot upgrade this board from format 1"), "{damage:?}");
    assert!(found(Some(board_id), None, "upgrade to format 2 did not finish"), "{damage:?}");
    assert_eq!(damage.len(), 7, "{damage:?}");
    drop(store);
    assert!(matches!(SledStore::open(&scratch.dir, StoreOptions::default()), Err(StoreError::Damaged(_))));
}

/// Appends 200 events with findable markers and closes the store.
fn store_with_markers(dir: &Path) {
    let store = open(dir);
    for n in 0..200u128 {
        let mut request = request(board(1), command(n), ExpectedVersion::Any, 1);
        request.events[0].payload = raw(&json!({"marker": format!("MARK{n:05}"), "text": "x".repeat(300)}));
        append(&store, request).expect("appends");
    }
}

#[test]
fn a_flipped_byte_in_sleds_db_file_is_reported_not_served() {
    let scratch = scratch();
    store_with_markers(&scratch.dir);
    // Damage every copy of event 120's record in the log (sled keeps older versions of nodes
    // until it cleans its segments).
    let db_path = scratch.dir.join("db");
    let mut bytes = std::fs::read(&db_path).expect("reads the db file");
    let positions: Vec<usize> =
        bytes.windows(9).enumerate().filter(|(_, window)| *window == b"MARK00120").map(|(at, _)| at).collect();
    assert!(!positions.is_empty());
    for at in positions {
        bytes[at + 4] ^= 0x01;
    }
    std::fs::write(&db_path, &bytes).expect("writes the db file");

    // sled's recovery takes the damaged message for a torn tail and drops the rest of its log
    // without an error; the store must notice that acknowledged events of the board are gone.
    let (store, damage) = open_quarantined(&scratch.dir, board(1));
    assert!(damage.iter().any(|item| item.problem.contains("were acknowledged but are not stored")), "{damage:?}");
    assert_refused(&store, board(1));
    drop(store);
    let store = inspect(&scratch.dir);
    assert!(!store.verify().is_empty());
    drop(store);
    // And it stays quarantined: the evidence does not vanish with the first look.
    let (_store, again) = open_quarantined(&scratch.dir, board(1));
    assert_eq!(again, damage);
}

#[test]
fn a_board_whose_acknowledged_events_sled_dropped_is_quarantined_and_the_others_are_served() {
    let scratch = scratch();
    {
        let store = open(&scratch.dir);
        for n in 0..50u128 {
            append(&store, request(board(2), command(1000 + n), ExpectedVersion::Any, 1)).expect("appends");
        }
        for n in 0..200u128 {
            let mut request = request(board(1), command(n), ExpectedVersion::Any, 1);
            request.events[0].payload = raw(&json!({"marker": format!("MARK{n:05}"), "text": "x".repeat(300)}));
            append(&store, request).expect("appends");
        }
    }
    // Damage the last event of board 1 (every copy): sled drops everything from the first copy on.
    let db_path = scratch.dir.join("db");
    let mut bytes = std::fs::read(&db_path).expect("reads the db file");
    let positions: Vec<usize> =
        bytes.windows(9).enumerate().filter(|(_, window)| *window == b"MARK00199").map(|(at, _)| at).collect();
    assert!(!positions.is_empty());
    for at in positions {
        bytes[at + 4] ^= 0x01;
    }
    std::fs::write(&db_path, &bytes).expect("writes the db file");

    let (store, damage) = open_quarantined(&scratch.dir, board(1));
    assert!(
        damage
            .iter()
            .any(|item| item.seq.is_some() && item.problem.contains("..=200 were acknowledged but are not stored")),
        "{damage:?}"
    );
    assert_refused(&store, board(1));
    assert_eq!(seqs(&store, board(2)), (1..=50).collect::<Vec<u64>>());
    append(&store, request(board(2), command(9999), ExpectedVersion::Exact(50), 1)).expect("board 2 takes appends");
}

#[test]
fn a_node_sled_cannot_read_in_an_older_segment_is_pinned_on_its_board() {
    let scratch = scratch();
    // Board 1 fills more than one of sled's 8 MiB segments with large records; board 2 comes after.
    let big = "y".repeat(24 * 1024);
    let records = 400u64;
    {
        let store = open(&scratch.dir);
        // Twenty events an append, so the test does not wait for four hundred syncs.
        for batch in 0..records / 20 {
            let mut request = request(board(1), command(u128::from(batch)), ExpectedVersion::Any, 20);
            for (index, event) in request.events.iter_mut().enumerate() {
                let n = batch * 20 + index as u64;
                event.payload = raw(&json!({"marker": format!("NODE{n:05}"), "text": big}));
            }
            append(&store, request).expect("appends");
        }
        for n in 0..20u128 {
            append(&store, request(board(2), command(1000 + n), ExpectedVersion::Any, 1)).expect("appends");
        }
    }
    // One sled entry per event, so that a node holds few records.
    drop(raw_sled_events(&scratch.dir));
    // Opening again makes sled write a snapshot of its page table; after that, recovery reads
    // only the segment the snapshot ends in, and nodes elsewhere are read when first needed.
    drop(open(&scratch.dir));
    let db_path = scratch.dir.join("db");
    let mut bytes = std::fs::read(&db_path).expect("reads the db file");
    let segment = 8 * 1024 * 1024;
    // Where each record's marker is in the file (one pass: the file is tens of MiB).
    let mut places: std::collections::BTreeMap<u64, Vec<usize>> = std::collections::BTreeMap::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        if &bytes[at..at + 4] == b"NODE"
            && let Some(n) = std::str::from_utf8(&bytes[at + 4..at + 9]).ok().and_then(|digits| digits.parse().ok())
        {
            places.entry(n).or_default().push(at);
        }
        at += 1;
    }
    let newest = *places[&(records - 1)].last().expect("the last record is in the file");
    // A record sled holds only outside the newest segment: the node holding it is read from
    // there and nowhere else. Every copy is damaged (sled may have written the record more than
    // once, in nodes it no longer uses), so the one sled reads is too.
    let (n, at) = places
        .iter()
        .filter(|(_, at)| at.iter().all(|at| at / segment != newest / segment))
        .nth(3)
        .map(|(n, at)| (*n, at.clone()))
        .unwrap_or_else(|| panic!("no record stored outside the newest segment ({} bytes): {places:?}", bytes.len()));
    for at in &at {
        bytes[at + 4] ^= 0x01;
    }
    std::fs::write(&db_path, &bytes).expect("writes the db file");

    let store = match SledStore::open(&scratch.dir, StoreOptions::default()) {
        Ok(store) => store,
        Err(error) => panic!("the store opens with board 1 in quarantine (record {n} damaged at {at:?}): {error:#?}"),
    };
    // The node is in the middle of board 1's records: the background check finds it.
    store.wait_for_background_check();
    let damaged = store.damaged_boards();
    assert_eq!(damaged.iter().map(|(board, _)| *board).collect::<Vec<_>>(), [board(1)], "{damaged:?}");
    assert!(damaged[0].1.iter().any(|item| item.problem.contains("sled cannot read")), "{damaged:?}");
    assert_refused(&store, board(1));
    assert_eq!(seqs(&store, board(2)), (1..=20).collect::<Vec<u64>>());
}

#[test]
fn bytes_flipped_all_over_sleds_db_file_never_panic_or_open_silently() {
    for (stride, offset) in [(97, 0), (4_093, 13), (65_521, 50), (131_071, 7)] {
        let scratch = scratch();
        store_with_markers(&scratch.dir);
        let db_path = scratch.dir.join("db");
        let mut bytes = std::fs::read(&db_path).expect("reads the db file");
        for at in (offset..bytes.len()).step_by(stride) {
            bytes[at] ^= 0x5a;
        }
        std::fs::write(&db_path, &bytes).expect("writes the db file");
        // Refused, or opened with the only board in quarantine: never served as if sound.
        match SledStore::open(&scratch.dir, StoreOptions::default()) {
            Err(StoreError::Damaged(_)) => {}
            Ok(store) => {
                assert_eq!(
                    store.damaged_boards().iter().map(|(board, _)| *board).collect::<Vec<_>>(),
                    [board(1)],
                    "stride {stride}"
                );
                assert_refused(&store, board(1));
            }
            Err(other) => panic!("stride {stride}: {other:?}"),
        }
    }
}

#[test]
fn a_damaged_watermark_is_reported() {
    let scratch = scratch();
    {
        let store = open(&scratch.dir);
        append(&store, request(board(1), command(1), ExpectedVersion::Any, 1)).expect("appends");
    }
    std::fs::write(scratch.dir.join("acknowledged"), b"nonsense").expect("writes");
    let damage = damage_of(SledStore::open(&scratch.dir, StoreOptions::default()));
    assert!(damage[0].problem.contains("watermark"), "{damage:?}");
    let store = SledStore::open_for_inspection(&scratch.dir).expect("opens for inspection");
    assert_eq!(store.verify(), damage);
}

#[test]
fn a_directory_in_use_is_locked() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let second = SledStore::open(&scratch.dir, StoreOptions::default());
    assert!(matches!(second, Err(StoreError::Locked(_))), "{second:?}");
    drop(store);
    // Dropping the last handle closes sled and releases the lock.
    let reopened = SledStore::open(&scratch.dir, StoreOptions::default());
    assert!(reopened.is_ok(), "{reopened:?}");
}

#[test]
fn a_closed_store_opens_again_at_once_every_time() {
    // sled's background threads hold its lock for a moment after the last handle; closing waits
    // for them, so a reopen straight after is never refused (and nothing here retries).
    let scratch = scratch();
    for round in 1..=40u64 {
        let store = open(&scratch.dir);
        let closed = store.closed();
        let outcome =
            append(&store, request(board(1), command(u128::from(round)), ExpectedVersion::Exact((round - 1) * 50), 50));
        assert!(outcome.is_ok(), "round {round}: {outcome:?}");
        assert!(!*closed.borrow(), "open while a handle lives");
        drop(store);
        assert!(*closed.borrow(), "the drop returned only once the store was closed");
    }
    assert_eq!(
        open(&scratch.dir).read(board(1), 1, 100).expect("reads").len(),
        100,
        "reads the first hundred of 2,000"
    );
}

#[test]
fn dropping_the_last_handle_answers_every_queued_append() {
    let scratch = scratch();
    let (hook, control) = gate(1);
    let store = SledStore::open_with_sync_hook(&scratch.dir, StoreOptions::default(), hook).expect("the store opens");
    let clone = store.clone();
    let first = store.append(request(board(1), command(0), ExpectedVersion::Any, 1));
    control.wait_until_held();
    let queued: Vec<AppendTicket> =
        (1..=10).map(|n| store.append(request(board(1), command(n), ExpectedVersion::Any, 1))).collect();
    drop(store);
    // A clone keeps the store alive: nothing has stopped yet.
    let eleventh = clone.append(request(board(1), command(11), ExpectedVersion::Any, 1));
    let dropper = thread::spawn(move || drop(clone));
    control.release();
    dropper.join().expect("the drop finishes");
    assert_eq!(first.wait().expect("appends").range(), (1, 1));
    for (n, ticket) in queued.into_iter().enumerate() {
        assert_eq!(ticket.wait().expect("appends").range(), (n as u64 + 2, n as u64 + 2));
    }
    assert_eq!(eleventh.wait().expect("appends").range(), (12, 12));
    let store = open(&scratch.dir);
    assert_eq!(store.head(board(1)).expect("head"), 12);
}

#[test]
fn subscribers_see_each_durable_head() {
    let scratch = scratch();
    let board_id = board(1);
    {
        let store = open(&scratch.dir);
        append(&store, request(board_id, command(1), ExpectedVersion::Any, 3)).expect("appends");
    }
    let store = open(&scratch.dir);
    let mut watcher = store.subscribe(board_id);
    assert_eq!(*watcher.borrow_and_update(), 3, "a subscription starts at the stored head");
    let mut other = store.subscribe(board(2));
    append(&store, request(board_id, command(2), ExpectedVersion::Any, 2)).expect("appends");
    assert!(watcher.has_changed().expect("the store is alive"));
    assert_eq!(*watcher.borrow_and_update(), 5);
    assert!(!other.has_changed().expect("the store is alive"), "another board's watcher is not woken");
    append(&store, request(board(2), command(3), ExpectedVersion::Any, 1)).expect("appends");
    assert_eq!(*other.borrow_and_update(), 1);
}

#[test]
fn event_keys_have_the_documented_layout() {
    let key = record::event_key(board(1), 258);
    assert_eq!(key.len(), EVENT_KEY_LEN);
    assert_eq!(key[0], b'e');
    assert_eq!(&key[1..17], board(1).as_bytes());
    assert_eq!(&key[17..], &258u64.to_be_bytes());
}

#[test]
fn an_idle_store_makes_its_acknowledgement_count_durable_without_another_append() {
    // The count is synced at most once a second while appends come; the last appends of a
    // workshop must not wait for the next append (months later) to be counted durably.
    let scratch = scratch();
    let store = open(&scratch.dir);
    for n in 0..3u128 {
        append(&store, request(board(1), command(n), ExpectedVersion::Any, 1)).expect("appends");
    }
    assert_eq!(store.stats().events, 3);
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.stats().watermark_durable < 3 {
        assert!(Instant::now() < deadline, "the count stayed at {} of 3 events", store.stats().watermark_durable);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(store);
    let store = open(&scratch.dir);
    assert_eq!(store.stats().watermark_durable, 3, "the count read back after reopening");
}

/// Opens the store without its background check, so a board's first use is the first look at
/// its records.
fn open_without_background(dir: &Path) -> SledStore {
    SledStore::open(dir, StoreOptions { background_check: false, ..StoreOptions::default() }).expect("the store opens")
}

/// Changes one byte of a record's JSON through sled, so sled stays consistent and only the
/// record's checksum tells.
fn damage_record(dir: &Path, board_id: BoardId, seq: u64) {
    let db = raw_sled_events(dir);
    let key = record::event_key(board_id, seq);
    let mut value = db.get(key).expect("reads").expect("the record exists").to_vec();
    let inside = value.len() - 2;
    value[inside] ^= 0x01;
    db.insert(key, value).expect("writes");
    db.flush().expect("flushes");
}

/// Removes records through sled, as sled's recovery does when it drops the end of its log.
fn remove_records(dir: &Path, board_id: BoardId, seqs: &[u64]) {
    let db = raw_sled_events(dir);
    for seq in seqs {
        db.remove(record::event_key(board_id, *seq)).expect("removes");
    }
    db.flush().expect("flushes");
}

/// Boards 1..=count with six events each, in a closed store.
fn boards_of_six(dir: &Path, count: u128) {
    let store = open(dir);
    for n in 1..=count {
        append(&store, request(board(n), command(n), ExpectedVersion::Any, 6)).expect("appends");
    }
}

#[test]
fn damage_in_a_board_opening_does_not_read_is_found_when_the_board_is_first_used() {
    let scratch = scratch();
    let (first_head, first_read, sound) = (board(1), board(2), board(3));
    boards_of_six(&scratch.dir, 3);
    damage_record(&scratch.dir, first_head, 3);
    damage_record(&scratch.dir, first_read, 3);

    let store = open_without_background(&scratch.dir);
    // Opening reads keys only: the damage is not known yet.
    assert!(store.damaged_boards().is_empty(), "{:?}", store.damaged_boards());
    // Asking for the head, where every load of a board starts, checks all of its records first.
    let damage = damage_of(store.head(first_head));
    assert_eq!((damage[0].board, damage[0].seq), (Some(first_head), Some(3)), "{damage:?}");
    assert!(damage[0].problem.contains("checksum"), "{damage:?}");
    assert_refused(&store, first_head);
    // Reading only the events after the damage (as a load from a snapshot does) finds it too.
    let damage = damage_of(store.read(first_read, 4, 10));
    assert_eq!((damage[0].board, damage[0].seq), (Some(first_read), Some(3)), "{damage:?}");
    assert_refused(&store, first_read);
    assert_eq!(seqs(&store, sound), [1, 2, 3, 4, 5, 6]);
    let damaged: Vec<BoardId> = store.damaged_boards().into_iter().map(|(board, _)| board).collect();
    assert_eq!(damaged, [first_head, first_read]);
}

#[test]
fn a_board_loaded_from_its_snapshot_has_every_record_checked_before_it_is_served() {
    use kipina_server::data_dir::DataDir;
    use kipina_server::engine::{Engine, HistoryError};
    let scratch = scratch();
    let data = DataDir::new(scratch.dir.parent().expect("the store's directory is in the data directory"));
    let options = StoreOptions { background_check: false, ..StoreOptions::default() };
    let (board_id, head) = {
        let engine = Engine::open_with(&data, options).expect("the engine opens");
        let board_id = engine.create_demo_board(Timestamp(1_700_000_000_000)).expect("the demo board is made");
        let state = engine.load(board_id).expect("loads");
        // A snapshot at the head: loading the board reads no event at all.
        engine.snapshots().save(board_id, &state).expect("the snapshot is saved");
        (board_id, state.version)
    };
    assert!(head > 5);
    damage_record(&scratch.dir, board_id, 5);

    let engine = Engine::open_with(&data, options).expect("the engine opens");
    assert_eq!(engine.snapshots().load(board_id).expect("reads").map(|snapshot| snapshot.seq), Some(head));
    match engine.load(board_id) {
        Err(HistoryError::Store(StoreError::Damaged(damage))) => {
            assert_eq!((damage[0].board, damage[0].seq), (Some(board_id), Some(5)), "{damage:?}");
        }
        Ok(state) => panic!("the damaged board was served from its snapshot at seq {}", state.version),
        Err(other) => panic!("{other}"),
    }
    assert_eq!(engine.store().damaged_boards().len(), 1);
}

/// Replays a board from `from_seq` through [`EventStore::replay_raw`]: the seqs visited, and
/// the head it answered.
fn replay(store: &SledStore, board_id: BoardId, from_seq: u64) -> Result<(Vec<u64>, u64), StoreError> {
    let mut visited = Vec::new();
    let head = store.replay_raw(board_id, from_seq, &mut |raw| {
        visited.push(raw.seq);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok((visited, head))
}

#[test]
fn a_replay_from_the_first_event_checks_an_unchecked_board_with_the_same_read() {
    let scratch = scratch();
    {
        let store = open(&scratch.dir);
        append(&store, request(board(1), command(1), ExpectedVersion::Any, 3)).expect("appends");
        append(&store, request(board(1), command(2), ExpectedVersion::Any, 1)).expect("appends");
        append(&store, request(board(1), command(3), ExpectedVersion::Any, 2)).expect("appends");
        append(&store, request(board(2), command(4), ExpectedVersion::Any, 6)).expect("appends");
    }
    let store = open_without_background(&scratch.dir);
    assert_eq!(replay(&store, board(1), 1).expect("replays"), ((1..=6).collect(), 6));
    // The replay's own read was the check: no scan of the board's own, before or after.
    let counts = CheckCounts { board_scans: 0, checked_while_read: 1, command_index_scans: 0 };
    assert_eq!(store.check_counts(), counts);
    // It also gave the command index the board's commands, so a retry reads nothing more.
    let record = store.command(board(1), command(1)).expect("looks up").expect("the command is stored");
    assert_eq!((record.first, record.last, record.fingerprint), (1, 3, 0xfeed));
    assert_eq!(
        store.command(board(1), command(3)).expect("looks up").map(|record| (record.first, record.last)),
        Some((5, 6))
    );
    let retried = append(&store, request(board(1), command(2), ExpectedVersion::Any, 1)).expect("answers the retry");
    assert_eq!(retried, AppendOutcome::AlreadyAppended { first: 4, last: 4 });
    assert_eq!(store.check_counts(), counts);
    // Again, and from the middle: the board is checked already, nothing is scanned again.
    assert_eq!(replay(&store, board(1), 1).expect("replays"), ((1..=6).collect(), 6));
    assert_eq!(replay(&store, board(1), 5).expect("replays"), (vec![5, 6], 6));
    assert_eq!(replay(&store, board(1), 9).expect("replays"), (vec![], 6));
    assert_eq!(store.check_counts(), counts);
    // A replay that starts later has the board checked first, by a scan of its own.
    assert_eq!(replay(&store, board(2), 4).expect("replays"), (vec![4, 5, 6], 6));
    assert_eq!(store.check_counts(), CheckCounts { board_scans: 1, ..counts });
    // A board with no events has nothing to replay.
    assert_eq!(replay(&store, board(3), 1).expect("replays"), (vec![], 0));
}

#[test]
fn a_replay_that_checks_while_reading_reports_damage_as_the_full_check_does_and_quarantines() {
    let scratch = scratch();
    boards_of_six(&scratch.dir, 3);
    damage_record(&scratch.dir, board(1), 3);
    remove_records(&scratch.dir, board(2), &[4]);
    // What a check of the whole board finds, in a copy of the data.
    let copy = tempfile::tempdir().expect("a temporary directory");
    let copied = copy.path().join("events");
    std::fs::create_dir(&copied).expect("makes the copy's directory");
    for entry in std::fs::read_dir(&scratch.dir).expect("lists the store") {
        let entry = entry.expect("lists the store");
        if entry.file_type().expect("a file type").is_file() {
            std::fs::copy(entry.path(), copied.join(entry.file_name())).expect("copies");
        }
    }
    std::fs::create_dir_all(copied.join("blobs")).expect("makes blobs/");
    let expected: Vec<Vec<Damage>> = {
        let store = open_without_background(&copied);
        [1, 2].map(|n| damage_of(store.head(board(n)))).to_vec()
    };
    assert!(expected[0][0].problem.contains("checksum"), "{expected:?}");
    assert!(expected[1][0].problem.contains("missing"), "{expected:?}");

    let store = open_without_background(&scratch.dir);
    for (n, expected) in (1..=2).zip(&expected) {
        let damage = damage_of(replay(&store, board(n), 1));
        assert_eq!(&damage, expected, "board {n}");
        assert_refused(&store, board(n));
        assert_eq!(damage_of(replay(&store, board(n), 1)), damage, "board {n} stays in quarantine");
    }
    assert_eq!(replay(&store, board(3), 1).expect("the sound board replays"), ((1..=6).collect(), 6));
    let damaged: Vec<BoardId> = store.damaged_boards().into_iter().map(|(board, _)| board).collect();
    assert_eq!(damaged, [board(1), board(2)]);
    // Each damaged board was described by its full check, after the read that found it.
    assert_eq!(store.check_counts(), CheckCounts { board_scans: 2, checked_while_read: 1, command_index_scans: 0 });
}

#[test]
fn a_board_loaded_without_a_snapshot_is_read_once_and_its_damage_found_before_it_is_served() {
    use kipina_domain::BoardState;
    use kipina_server::data_dir::DataDir;
    use kipina_server::engine::{Engine, HistoryError};
    let scratch = scratch();
    let data = DataDir::new(scratch.dir.parent().expect("the store's directory is in the data directory"));
    let options = StoreOptions { background_check: false, ..StoreOptions::default() };
    let (board_id, expected) = {
        let engine = Engine::open_with(&data, options).expect("the engine opens");
        let board_id = engine.create_demo_board(Timestamp(1_700_000_000_000)).expect("the demo board is made");
        (board_id, engine.load(board_id).expect("loads"))
    };
    assert!(!Engine::open_with(&data, options).expect("opens").snapshots().exists(board_id), "no snapshot");
    assert!(expected.version > 5);
    {
        let engine = Engine::open_with(&data, options).expect("the engine opens");
        assert_eq!(engine.load(board_id).expect("loads"), expected);
        let counts = CheckCounts { board_scans: 0, checked_while_read: 1, command_index_scans: 0 };
        assert_eq!(engine.store().check_counts(), counts, "checked by the replay's own read");
    }
    damage_record(&scratch.dir, board_id, 5);

    let engine = Engine::open_with(&data, options).expect("the engine opens");
    // Catching a fresh state up keeps nothing of what was read before the damage.
    let mut state = BoardState::default();
    match engine.catch_up(board_id, &mut state) {
        Err(HistoryError::Store(StoreError::Damaged(damage))) => {
            assert_eq!((damage[0].board, damage[0].seq), (Some(board_id), Some(5)), "{damage:?}");
        }
        other => panic!("the damaged board was caught up: {other:?}"),
    }
    assert_eq!(state, BoardState::default());
    match engine.load(board_id) {
        Err(HistoryError::Store(StoreError::Damaged(damage))) => {
            assert_eq!((damage[0].board, damage[0].seq), (Some(board_id), Some(5)), "{damage:?}");
        }
        Ok(state) => panic!("the damaged board was served at seq {}", state.version),
        Err(other) => panic!("{other}"),
    }
    assert_eq!(engine.store().damaged_boards().len(), 1);
}

#[test]
fn the_background_check_quarantines_a_damaged_board_nobody_has_used() {
    let scratch = scratch();
    boards_of_six(&scratch.dir, 2);
    damage_record(&scratch.dir, board(1), 4);

    let store = open(&scratch.dir);
    store.wait_for_background_check();
    let damaged = store.damaged_boards();
    assert_eq!(damaged.iter().map(|(board, _)| *board).collect::<Vec<_>>(), [board(1)], "{damaged:?}");
    let damage = &damaged[0].1;
    assert_eq!((damage[0].seq, damage[0].problem.contains("checksum")), (Some(4), true), "{damage:?}");
    assert!(store.unpinned_damage().is_none());
    assert_refused(&store, board(1));
    assert_eq!(seqs(&store, board(2)), [1, 2, 3, 4, 5, 6]);
}

#[test]
fn events_dropped_from_the_end_of_a_board_are_found_when_opening_without_reading_records() {
    let scratch = scratch();
    boards_of_six(&scratch.dir, 2);
    remove_records(&scratch.dir, board(1), &[5, 6]);

    // No board is used and nothing is scanned: comparing the heads finds it.
    let store = open_without_background(&scratch.dir);
    let damaged = store.damaged_boards();
    assert_eq!(damaged.iter().map(|(board, _)| *board).collect::<Vec<_>>(), [board(1)], "{damaged:?}");
    let damage = &damaged[0].1;
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].seq, Some(5));
    assert!(damage[0].problem.contains("events 5..=6 were acknowledged but are not stored"), "{damage:?}");
    assert_refused(&store, board(1));
    assert_eq!(seqs(&store, board(2)), [1, 2, 3, 4, 5, 6]);
}

#[test]
fn verify_reports_everything_a_fast_open_leaves_for_later() {
    let scratch = scratch();
    boards_of_six(&scratch.dir, 3);
    damage_record(&scratch.dir, board(1), 2);
    remove_records(&scratch.dir, board(2), &[3]);
    remove_records(&scratch.dir, board(3), &[5, 6]);

    // Opening finds the end that is gone, and leaves the rest to each board's first use.
    let store = open_without_background(&scratch.dir);
    assert_eq!(store.damaged_boards().iter().map(|(board, _)| *board).collect::<Vec<_>>(), [board(3)]);
    drop(store);

    let listed = inspect(&scratch.dir).verify();
    let found = |board_id: u128, seq: u64, words: &str| {
        listed
            .iter()
            .any(|item| item.board == Some(board(board_id)) && item.seq == Some(seq) && item.problem.contains(words))
    };
    assert!(found(1, 2, "checksum"), "{listed:?}");
    assert!(found(2, 3, "missing"), "{listed:?}");
    assert!(found(3, 5, "were acknowledged but are not stored"), "{listed:?}");
    // (and, while command records exist, board 3's command claiming the events that are gone)
    assert!(listed.iter().all(|item| [1, 2, 3].map(board).contains(&item.board.expect("a board"))), "{listed:?}");
}

#[test]
fn damage_naming_no_board_found_in_the_background_stops_writes_and_reads_go_on() {
    let scratch = scratch();
    boards_of_six(&scratch.dir, 1);
    {
        // A command key too short to name a board: opening reads no command record.
        let db = raw_sled(&scratch.dir);
        db.insert(b"c\x01\x02", b"?".to_vec()).expect("writes");
        db.flush().expect("flushes");
    }
    let store = open(&scratch.dir);
    store.wait_for_background_check();
    let damage = store.unpinned_damage().expect("the background check found the key");
    assert!(damage.iter().any(|item| item.board.is_none() && item.problem.contains("malformed key")), "{damage:?}");
    assert!(store.damaged_boards().is_empty());
    assert_eq!(seqs(&store, board(1)), [1, 2, 3, 4, 5, 6], "reads go on");
    let appended = append(&store, request(board(1), command(9), ExpectedVersion::Exact(6), 1));
    match appended {
        Err(StoreError::Damaged(refused)) => assert_eq!(refused, damage),
        other => panic!("a write after damage naming no board: {other:?}"),
    }
    assert_eq!(seqs(&store, board(1)), [1, 2, 3, 4, 5, 6]);
    drop(store);
    assert!(
        inspect(&scratch.dir).verify().iter().any(|item| item.board.is_none() && item.problem.contains("malformed"))
    );
}

// The commit log (ADR 0007): acknowledged appends are durable in the log, and sled is made
// durable only at checkpoints.

/// Copies the files of a store's directory as they are now (what a killed process or, for
/// synced data, a power cut leaves), skipping `except`.
fn copy_store(from: &Path, to: &Path, except: &[&str]) {
    std::fs::create_dir_all(to).expect("creates the copy");
    for entry in std::fs::read_dir(from).expect("lists the store") {
        let entry = entry.expect("lists the store");
        let name = entry.file_name();
        if except.iter().any(|skip| name == *skip) {
            continue;
        }
        if entry.file_type().expect("a file type").is_dir() {
            copy_store(&entry.path(), &to.join(&name), except);
        } else {
            std::fs::copy(entry.path(), to.join(&name)).expect("copies a file");
        }
    }
}

/// An event whose payload takes about `bytes` bytes.
fn large_event(n: u64, bytes: usize) -> NewEvent {
    NewEvent { payload: raw(&json!({ "n": n, "text": "k".repeat(bytes) })), ..event(n) }
}

#[test]
fn acknowledged_appends_are_recovered_from_the_commit_log_when_sleds_files_lack_them() {
    let scratch = scratch();
    let board_id = board(1);
    let image = scratch._root.path().join("image");
    let store = open(&scratch.dir);
    // sled's files as they were before any append: as if none of sled's own writes since had
    // reached the disk, while the commit log (synced before each answer) did.
    copy_store(&scratch.dir, &image, &["commit-log"]);
    let mut sent = Vec::new();
    for n in 0..30u128 {
        let request = request(board_id, command(n), ExpectedVersion::Any, 1 + n as usize % 4);
        sent.extend(request.events.clone());
        assert!(matches!(append(&store, request).expect("appends"), AppendOutcome::Appended { .. }));
    }
    for file in ["commit-log", "acknowledged", "acknowledged-heads"] {
        std::fs::copy(scratch.dir.join(file), image.join(file)).expect("copies a file");
    }
    let recovered = open(&image);
    assert_eq!(recovered.head(board_id).expect("head"), sent.len() as u64);
    assert_read_back(&recovered, board_id, &sent);
    assert!(recovered.verify().is_empty(), "{:?}", recovered.verify());
    // A retry after the recovery finds its command.
    let retry = request(board_id, command(0), ExpectedVersion::Any, 1);
    assert!(matches!(append(&recovered, retry), Ok(AppendOutcome::AlreadyAppended { first: 1, last: 1 })));
    drop(store);
}

#[test]
fn a_full_commit_log_is_checkpointed_into_sled_and_appends_go_on() {
    let scratch = scratch();
    let board_id = board(1);
    let image = scratch._root.path().join("image");
    let store = open(&scratch.dir);
    let mut sent = Vec::new();
    // About 20 MiB in appends of 40 events of 12 KiB: more than the log's 16 MiB.
    for n in 0..42u64 {
        let mut request = request(board_id, command(n as u128), ExpectedVersion::Any, 0);
        request.events = (0..40).map(|i| large_event(n * 40 + i, 12 * 1024)).collect();
        sent.extend(request.events.clone());
        assert!(matches!(append(&store, request).expect("appends"), AppendOutcome::Appended { .. }));
    }
    assert!(store.stats().checkpoints >= 1, "the log filled up: {:?}", store.stats());
    // The state a killed process leaves: what sled wrote at the checkpoint, the log since.
    copy_store(&scratch.dir, &image, &[]);
    let recovered = open(&image);
    assert_eq!(recovered.head(board_id).expect("head"), sent.len() as u64);
    assert_read_back_all(&recovered, board_id, &sent);
    drop(store);
    let reopened = open(&scratch.dir);
    assert_read_back_all(&reopened, board_id, &sent);
    assert!(reopened.verify().is_empty());
}

#[test]
fn an_append_larger_than_the_commit_log_is_made_durable_in_sled_itself() {
    let scratch = scratch();
    let board_id = board(1);
    let image = scratch._root.path().join("image");
    let store = open(&scratch.dir);
    let small = request(board_id, command(1), ExpectedVersion::NoStream, 2);
    let mut sent = small.events.clone();
    append(&store, small).expect("appends");
    // 700 events of 28 KiB: about 19 MiB in one append, more than the whole log holds.
    let mut large = request(board_id, command(2), ExpectedVersion::Exact(2), 0);
    large.events = (0..700).map(|i| large_event(i, 28 * 1024)).collect();
    sent.extend(large.events.clone());
    assert_eq!(append(&store, large).expect("appends"), AppendOutcome::Appended { first: 3, last: 702 });
    let after = request(board_id, command(3), ExpectedVersion::Exact(702), 1);
    sent.extend(after.events.clone());
    append(&store, after).expect("appends");
    copy_store(&scratch.dir, &image, &[]);
    let recovered = open(&image);
    assert_read_back_all(&recovered, board_id, &sent);
    drop(store);
}

fn assert_read_back_all(store: &SledStore, board_id: BoardId, sent: &[NewEvent]) {
    let read = store.read(board_id, 1, usize::MAX).expect("reads");
    assert_eq!(read.len(), sent.len());
    for (stored, original) in read.iter().zip(sent) {
        assert_eq!(stored.event_id, original.event_id, "seq {}", stored.seq);
        assert_eq!(
            serde_json::to_string(&stored.payload).expect("encodes"),
            original.payload.get(),
            "seq {}",
            stored.seq
        );
    }
}
