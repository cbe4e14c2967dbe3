//! A board's older events in chunks (ADR 0008): the compaction against real files, and every
//! way of reading a board across its chunks and its tail.

use super::store::{append, assert_refused, board, command, damage_of, inspect, raw_sled, request, scratch, seqs};
use kipina_proto::{BoardId, CommandId, EventId};
use kipina_server::store::record::{self, CHUNK_HEADER_LEN, ParsedKey};
use kipina_server::store::sled_store::{CompactionCounts, RewriteError, rewrite, rewrite_dir};
use kipina_server::store::{
    AppendOutcome, CommandRecord, EventStore, ExpectedVersion, NewEvent, SledStore, StoreOptions,
};
use serde_json::json;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use uuid::Uuid;

/// Opens the store with its compaction on (it is off by default).
fn open(dir: &std::path::Path) -> SledStore {
    SledStore::open(dir, StoreOptions { compaction: true, ..StoreOptions::default() }).expect("the store opens")
}

/// Turns the writer's chunks back into one sled entry per event: what a store wrote before it
/// kept its boards' newest events in tails (ADR 0011), and what opening still writes of the
/// commit log after a crash. That is what the compaction works on.
fn as_events(dir: &std::path::Path) {
    drop(super::store::raw_sled_events(dir));
}

/// Appends commands of one to nine events until the board holds `events`, numbering the
/// commands from `first_command`; returns each command's id and range.
fn fill(store: &SledStore, board: BoardId, events: u64, first_command: u128) -> Vec<(CommandId, u64, u64)> {
    let mut commands = Vec::new();
    let mut head = 0;
    let mut n = first_command;
    while head < events {
        let count = ((n * 7 % 9) as u64 + 1).min(events - head) as usize;
        let outcome = append(store, request(board, command(n), ExpectedVersion::Exact(head), count)).expect("appends");
        let (first, last) = outcome.range();
        commands.push((command(n), first, last));
        head = last;
        n += 1;
    }
    commands
}

/// The board's entries in sled, as their keys say.
fn entries(store_dir: &std::path::Path, board: BoardId) -> Vec<ParsedKey> {
    let db = raw_sled(store_dir);
    db.scan_prefix(record::event_prefix(board))
        .keys()
        .map(|key| record::parse_key(&key.expect("sled reads")).expect("a key the store writes"))
        .collect()
}

/// Reads the board every way the store offers and checks that each sees events 1..=head once,
/// in order, with each command's events where the command says.
fn assert_reads_whole(store: &SledStore, board: BoardId, head: u64, commands: &[(CommandId, u64, u64)]) {
    let mut replayed = Vec::new();
    let last = store
        .replay_raw(board, 1, &mut |event| {
            replayed.push((event.seq, event.command_id));
            ControlFlow::Continue(())
        })
        .expect("replays");
    assert_eq!(last, head);
    let events = store.read(board, 1, usize::MAX).expect("reads");
    let read: Vec<(u64, CommandId)> = events.iter().map(|event| (event.seq, event.command_id)).collect();
    assert_eq!(read, replayed);
    let expected: Vec<(u64, CommandId)> = commands
        .iter()
        .flat_map(|(id, first, last)| (*first..=*last).map(move |seq| (seq, *id)))
        .filter(|(seq, _)| *seq <= head)
        .collect();
    assert_eq!(read, expected);
    for (from, limit) in [(1, 1), (60, 10), (64, 2), (65, 1), (100, 50), (head, 5), (head + 1, 5)] {
        let seqs: Vec<u64> = store.read(board, from, limit).expect("reads").iter().map(|event| event.seq).collect();
        let want: Vec<u64> = (from..from.saturating_add(limit as u64)).filter(|seq| *seq <= head).collect();
        assert_eq!(seqs, want, "read from {from}, {limit} events");
    }
    assert_eq!(store.head(board).expect("a head"), head);
    for (id, first, last) in commands {
        assert_eq!(
            store.command(board, *id).expect("looks up"),
            Some(CommandRecord { first: *first, last: *last, fingerprint: 0xfeed }),
            "command {id}"
        );
    }
}

#[test]
fn a_boards_settled_events_go_into_chunks_and_every_read_sees_each_once() {
    let scratch = scratch();
    let (big, small) = (board(1), board(2));
    let commands = {
        let store = open(&scratch.dir);
        let commands = fill(&store, big, 200, 1);
        fill(&store, small, 10, 1_000);
        // Nothing is settled yet: these events are in the commit log until a checkpoint.
        assert_eq!(store.wait_for_compaction(), CompactionCounts::default());
        commands
    };
    as_events(&scratch.dir);
    let store = open(&scratch.dir);
    // Opening settled everything: the full runs of 64 of the big board, and nothing of the small.
    assert_eq!(store.wait_for_compaction(), CompactionCounts { chunks: 3, events: 192 });
    assert_reads_whole(&store, big, 200, &commands);
    assert_eq!(seqs(&store, small), (1..=10).collect::<Vec<_>>());

    // A retry of a command whose events are in a chunk is still found; appends go on after it.
    let (id, first, last) = commands[20];
    assert!(last <= 192, "the command is inside a chunk");
    let retried = store
        .append(kipina_server::store::AppendRequest { command_id: id, ..request(big, id, ExpectedVersion::Any, 1) });
    assert_eq!(retried.wait().expect("answers"), AppendOutcome::AlreadyAppended { first, last });
    let appended = append(&store, request(big, command(5_000), ExpectedVersion::Exact(200), 3)).expect("appends");
    assert_eq!(appended, AppendOutcome::Appended { first: 201, last: 203 });
    drop(store);

    let stored = entries(&scratch.dir, big);
    assert_eq!(
        stored[..4],
        [
            ParsedKey::Chunk { board: big, last: 64 },
            ParsedKey::Chunk { board: big, last: 128 },
            ParsedKey::Chunk { board: big, last: 192 },
            ParsedKey::Event { board: big, seq: 193 },
        ]
    );
    assert_eq!(
        stored[3..],
        (193..=200)
            .map(|seq| ParsedKey::Event { board: big, seq })
            .chain([ParsedKey::Chunk { board: big, last: 203 }])
            .collect::<Vec<_>>(),
        "the eight events after the chunks, and the writer's chunk of its tail, the three appended since"
    );
    assert!(inspect(&scratch.dir).verify().is_empty());

    // The eight events are no full run: opening again compacts nothing more.
    let store = open(&scratch.dir);
    assert_eq!(store.wait_for_compaction(), CompactionCounts::default());
    let mut all = commands.clone();
    all.push((command(5_000), 201, 203));
    assert_reads_whole(&store, big, 203, &all);
}

#[test]
fn a_running_stores_events_go_into_chunks_from_their_boards_tails() {
    let scratch = scratch();
    let store = open(&scratch.dir);
    let board = board(3);
    // 25 KB events: 700 of them fill the 16 MiB commit log at least once, and two fit in a chunk.
    let text = "kipinä ".repeat(3_200);
    for n in 0..700u64 {
        let event = NewEvent {
            event_id: EventId::from_uuid(Uuid::now_v7()),
            event_type: "card_added".into(),
            event_version: 1,
            payload: kipina_server::store::encode_payload(&json!({"n": n, "text": text})).expect("encodes"),
        };
        let mut request = request(board, command(u128::from(n)), ExpectedVersion::Exact(n), 1);
        request.events = vec![event];
        append(&store, request).expect("appends");
    }
    assert!(store.stats().checkpoints >= 1, "{:?}", store.stats());
    // The writer put the tail into a chunk each time it held two events, and at the checkpoint
    // (ADR 0011): at most the last event is still in the tail. Nothing is left for the compaction.
    assert!(store.stats().chunked >= 699, "{:?}", store.stats());
    assert_eq!(store.wait_for_compaction(), CompactionCounts::default());
    let events = store.read(board, 1, usize::MAX).expect("reads");
    assert_eq!(events.len(), 700);
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event.seq, n as u64 + 1);
        assert_eq!(event.payload, json!({"n": n, "text": text}));
    }
    drop(store);
    // Chunks only, of two events each but where a checkpoint wrote a tail of one, the last one
    // at the shutdown.
    let mut after = 0;
    for key in entries(&scratch.dir, board) {
        let ParsedKey::Chunk { last, .. } = key else { panic!("an entry that is no chunk: {key:?}") };
        assert!(last == after + 1 || last == after + 2, "a chunk of one or two events up to {last} after {after}");
        after = last;
    }
    assert_eq!(after, 700);
    assert!(inspect(&scratch.dir).verify().is_empty());
}

/// Readers racing the writer while it moves its boards' tails into chunks (ADR 0011) see
/// every event once, in order, with no gap, and find every board that has events.
#[test]
fn reads_racing_the_writers_chunks_see_every_event_once_and_every_board() {
    let scratch = scratch();
    let store = super::store::open(&scratch.dir);
    let boards: Vec<BoardId> = (20..24).map(board).collect();
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        for reader in 0..2u64 {
            let (store, boards, done) = (&store, &boards, &done);
            scope.spawn(move || {
                let mut pass = 0u64;
                while !done.load(Ordering::Acquire) {
                    for board in boards {
                        let head = store.head(*board).expect("a head");
                        let all = seqs(store, *board);
                        assert!(all.len() as u64 >= head, "reader {reader}: {} events below head {head}", all.len());
                        assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>(), "reader {reader}");
                        let from = 1 + (pass * 13 + reader * 7) % 200;
                        let read: Vec<u64> =
                            store.read(*board, from, 70).expect("reads").iter().map(|event| event.seq).collect();
                        assert_eq!(read, (from..from + read.len() as u64).collect::<Vec<_>>(), "reader {reader}");
                        if head > 0 {
                            assert!(
                                store.boards().expect("lists").contains(board),
                                "reader {reader}: {board} unlisted"
                            );
                        }
                    }
                    pass += 1;
                }
            });
        }
        for n in 0..300u64 {
            let requests = boards
                .iter()
                .enumerate()
                .map(|(index, board)| {
                    request(*board, command(u128::from(n) * 10 + index as u128), ExpectedVersion::Exact(n), 1)
                })
                .collect();
            for ticket in store.append_all(requests) {
                ticket.wait().expect("appends");
            }
        }
        done.store(true, Ordering::Release);
    });
    assert!(store.stats().chunked >= 4 * 256, "four full chunks of each board: {:?}", store.stats());
    for board in &boards {
        assert_eq!(seqs(&store, *board), (1..=300).collect::<Vec<_>>());
    }
}

#[test]
fn reads_racing_the_compaction_see_every_event_exactly_once() {
    let scratch = scratch();
    let boards: Vec<BoardId> = (1..=16).map(board).collect();
    {
        let store = open(&scratch.dir);
        for (n, board) in boards.iter().enumerate() {
            fill(&store, *board, 640, 10_000 * (n as u128 + 1));
        }
    }
    as_events(&scratch.dir);
    let store = open(&scratch.dir);
    let compacted = AtomicBool::new(false);
    let counts = thread::scope(|scope| {
        for reader in 0..2u64 {
            let (store, boards, compacted) = (&store, &boards, &compacted);
            scope.spawn(move || {
                let mut pass = 0u64;
                loop {
                    // One more whole pass once the compaction is done.
                    let last_pass = compacted.load(Ordering::Acquire);
                    for board in boards {
                        assert_eq!(seqs(store, *board), (1..=640).collect::<Vec<_>>(), "reader {reader}");
                        let from = 1 + (pass * 37 + reader * 11) % 600;
                        let read: Vec<u64> =
                            store.read(*board, from, 40).expect("reads").iter().map(|event| event.seq).collect();
                        assert_eq!(read, (from..from + 40).collect::<Vec<_>>());
                    }
                    pass += 1;
                    if last_pass {
                        break;
                    }
                }
            });
        }
        let counts = store.wait_for_compaction();
        compacted.store(true, Ordering::Release);
        counts
    });
    assert_eq!(counts, CompactionCounts { chunks: 16 * 10, events: 16 * 640 });
}

#[test]
fn damage_inside_a_chunk_is_pinned_on_its_event_and_a_broken_chunk_header_on_its_first() {
    let scratch = scratch();
    let (first, second) = (board(1), board(2));
    {
        let store = open(&scratch.dir);
        fill(&store, first, 130, 1);
        fill(&store, second, 130, 1_000);
    }
    as_events(&scratch.dir);
    assert_eq!(open(&scratch.dir).wait_for_compaction(), CompactionCounts { chunks: 4, events: 256 });
    {
        let db = raw_sled(&scratch.dir);
        // One byte near the end of seq 10's record, inside the first board's first chunk.
        let key = record::chunk_key(first, 64);
        let mut value = db.get(key).expect("reads").expect("the chunk exists").to_vec();
        let at = {
            let chunk = record::decode_chunk(&key, &value).expect("a sound chunk");
            let (seq, _, bytes) = chunk.records().nth(9).expect("64 records");
            assert_eq!(seq, 10);
            bytes.as_ptr() as usize - value.as_ptr() as usize + bytes.len() - 3
        };
        value[at] ^= 0x20;
        db.insert(key, value).expect("writes");
        // One byte of the header (its count) of the second board's second chunk.
        let key = record::chunk_key(second, 128);
        let mut value = db.get(key).expect("reads").expect("the chunk exists").to_vec();
        value[CHUNK_HEADER_LEN - 1] ^= 1;
        db.insert(key, value).expect("writes");
        db.flush().expect("flushes");
    }

    let store = open(&scratch.dir);
    store.wait_for_background_check();
    let damaged = store.damaged_boards();
    let boards: Vec<BoardId> = damaged.iter().map(|(board, _)| *board).collect();
    assert_eq!(boards, [first, second], "{damaged:?}");
    let first_damage = &damaged[0].1;
    assert_eq!((first_damage[0].board, first_damage[0].seq), (Some(first), Some(10)), "{first_damage:?}");
    assert!(first_damage[0].problem.contains("checksum"), "{first_damage:?}");
    let second_damage = &damaged[1].1;
    assert_eq!((second_damage[0].board, second_damage[0].seq), (Some(second), Some(65)), "{second_damage:?}");
    assert!(second_damage[0].problem.contains("chunk"), "{second_damage:?}");
    assert_refused(&store, first);
    assert_refused(&store, second);
    drop(store);

    // Inspection finds the same, and reads what comes before the damage.
    let store = inspect(&scratch.dir);
    let listed = store.verify();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!((listed[0].board, listed[0].seq), (Some(first), Some(10)));
    assert_eq!((listed[1].board, listed[1].seq), (Some(second), Some(65)));
    assert_eq!(store.read(first, 1, 9).expect("reads").len(), 9);
    assert_eq!(store.read(second, 1, 64).expect("reads").len(), 64);
    let read_damage = damage_of(store.read(first, 5, 10));
    assert_eq!((read_damage[0].board, read_damage[0].seq), (Some(first), Some(10)));
    let read_damage = damage_of(store.read(second, 60, 10));
    assert_eq!((read_damage[0].board, read_damage[0].seq), (Some(second), Some(65)));
}

#[test]
fn events_a_crash_left_beside_their_chunk_read_once_and_are_removed_by_the_next_compaction() {
    let scratch = scratch();
    let board = board(4);
    let commands = {
        let store = open(&scratch.dir);
        fill(&store, board, 150, 1)
    };
    as_events(&scratch.dir);
    assert_eq!(open(&scratch.dir).wait_for_compaction(), CompactionCounts { chunks: 2, events: 128 });
    {
        // What a crash after writing the second chunk and removing only its last events leaves:
        // the chunk, and its first ten events still stored on their own.
        let db = raw_sled(&scratch.dir);
        let key = record::chunk_key(board, 128);
        let value = db.get(key).expect("reads").expect("the chunk exists");
        let chunk = record::decode_chunk(&key, &value).expect("a sound chunk");
        for (seq, event_key, bytes) in chunk.records().take(10) {
            assert!(seq >= 65);
            db.insert(event_key, bytes).expect("writes");
        }
        db.flush().expect("flushes");
    }
    assert!(inspect(&scratch.dir).verify().is_empty(), "a chunk's events beside it are no damage");
    let store = open(&scratch.dir);
    store.wait_for_background_check();
    assert!(store.damaged_boards().is_empty());
    assert_reads_whole(&store, board, 150, &commands);
    // The compaction finds the leftovers at its first look at the board, and writes no chunk.
    assert_eq!(store.wait_for_compaction(), CompactionCounts::default());
    drop(store);
    let stored = entries(&scratch.dir, board);
    assert_eq!(
        stored[..3],
        [
            ParsedKey::Chunk { board, last: 64 },
            ParsedKey::Chunk { board, last: 128 },
            ParsedKey::Event { board, seq: 129 },
        ]
    );
    assert_eq!(stored.len(), 2 + 22);
}

#[test]
fn the_compaction_is_off_unless_asked_for() {
    let scratch = scratch();
    {
        let store = super::store::open(&scratch.dir);
        fill(&store, board(5), 130, 1);
    }
    as_events(&scratch.dir);
    let store = super::store::open(&scratch.dir);
    assert_eq!(store.wait_for_compaction(), CompactionCounts::default());
    drop(store);
    let stored = entries(&scratch.dir, board(5));
    assert_eq!(stored.len(), 130);
    assert!(stored.iter().all(|key| matches!(key, ParsedKey::Event { .. })), "{stored:?}");
}

#[test]
fn a_rewrite_puts_full_runs_in_chunks_swaps_the_store_in_and_it_reads_the_same() {
    let scratch = scratch();
    let (big, small) = (board(6), board(7));
    let commands = {
        let store = super::store::open(&scratch.dir);
        let commands = fill(&store, big, 300, 1);
        fill(&store, small, 10, 1_000);
        commands
    };
    // What an interrupted rewrite left behind is removed first.
    std::fs::create_dir_all(rewrite_dir(&scratch.dir).join("leftover")).expect("a directory");
    let report = rewrite(&scratch.dir).expect("the store is rewritten");
    assert_eq!((report.boards, report.events, report.chunks, report.chunked_events), (2, 310, 4, 256));
    assert!(report.bytes_after > 0);
    assert!(!rewrite_dir(&scratch.dir).exists(), "the old store is removed after the swap");
    assert_eq!(entries(&scratch.dir, big).len(), 4 + 44, "four chunks and the 44 events after them");
    assert_eq!(entries(&scratch.dir, small).len(), 10);
    assert!(inspect(&scratch.dir).verify().is_empty());

    let store = super::store::open(&scratch.dir);
    assert_reads_whole(&store, big, 300, &commands);
    let appended = append(&store, request(big, command(9_000), ExpectedVersion::Exact(300), 2)).expect("appends");
    assert_eq!(appended, AppendOutcome::Appended { first: 301, last: 302 });
    drop(store);
    // A second rewrite keeps the chunks and adds none: the 46 events after them are no full run.
    let again = rewrite(&scratch.dir).expect("rewritten again");
    assert_eq!((again.events, again.chunks, again.chunked_events), (312, 4, 256));
}

#[test]
fn a_store_with_damage_is_not_rewritten() {
    let scratch = scratch();
    let board = board(8);
    {
        let store = super::store::open(&scratch.dir);
        fill(&store, board, 100, 1);
    }
    {
        let db = super::store::raw_sled_events(&scratch.dir);
        let key = record::event_key(board, 5);
        let mut value = db.get(key).expect("reads").expect("seq 5 exists").to_vec();
        let last = value.len() - 2;
        value[last] ^= 0x01;
        db.insert(key, value).expect("writes");
        db.flush().expect("flushes");
    }
    match rewrite(&scratch.dir) {
        Err(RewriteError::Damaged(damage)) => {
            assert_eq!((damage[0].board, damage[0].seq), (Some(board), Some(5)), "{damage:?}");
        }
        other => panic!("expected the damage to stop the rewrite, got {other:?}"),
    }
    assert!(!rewrite_dir(&scratch.dir).exists());
    assert_eq!(entries(&scratch.dir, board).len(), 100, "the store is as it was");
}

#[test]
fn opening_the_store_removes_what_an_interrupted_rewrite_left_beside_it() {
    let scratch = scratch();
    let board = board(9);
    {
        let store = super::store::open(&scratch.dir);
        fill(&store, board, 70, 1);
    }
    // A copy the rewrite was writing when it was killed (or the old store it had swapped out).
    let leftover = rewrite_dir(&scratch.dir);
    std::fs::create_dir_all(leftover.join("blobs")).expect("a directory");
    std::fs::write(leftover.join("db"), b"half a copy").expect("a file");
    let store = super::store::open(&scratch.dir);
    assert!(!leftover.exists(), "the leftover is removed");
    assert_eq!(store.head(board).expect("reads"), 70, "and the store is as it was");
}
