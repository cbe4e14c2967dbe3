//! The upgrade from format 1 (an event record and a command record per command) to format 2
//! (one sled entry per event; ADR 0005), on stores written record by record as format 1 wrote
//! them. `tests/tests/it/upgrade.rs` opens a whole data directory written by the last version
//! that wrote format 1.

use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use kipina_server::store::record::{self, EnvelopeRef, ParsedKey};
use kipina_server::store::release::OpenedSled;
use kipina_server::store::{
    AppendOutcome, AppendRequest, CommandRecord, EventStore, ExpectedVersion, NewEvent, SledStore, StoreError,
    StoreOptions,
};
use serde_json::{Value, json};
use std::path::Path;
use uuid::Uuid;

fn board(n: u128) -> BoardId {
    BoardId::from_uuid(Uuid::from_u128(n))
}

fn command(n: u128) -> CommandId {
    CommandId::from_uuid(Uuid::from_u128(0xc0de_0000 + n))
}

fn actor() -> ParticipantId {
    ParticipantId::from_uuid(Uuid::from_u128(77))
}

fn raw_sled(dir: &Path) -> OpenedSled {
    OpenedSled::open(&sled::Config::new().path(dir).segment_size(8 * 1024 * 1024), dir).expect("sled opens")
}

/// One command of a format-1 store: its id, fingerprint and its events' payloads.
struct Written {
    board: BoardId,
    command: CommandId,
    fingerprint: u32,
    first: u64,
    payloads: Vec<Value>,
}

/// Writes commands as format 1 did: each event with the command id in its JSON, and a command
/// record per command. `as_format_2` lists the boards whose events are already rewritten (an
/// upgrade that stopped before deleting the command records).
fn write_format_1(dir: &Path, commands: &[Written], as_format_2: &[BoardId]) {
    let opened = raw_sled(dir);
    for written in commands {
        for (offset, payload) in written.payloads.iter().enumerate() {
            let seq = written.first + offset as u64;
            let key = record::event_key(written.board, seq);
            let payload = &*kipina_server::store::encode_payload(payload).expect("encodes");
            let envelope = EnvelopeRef {
                id: EventId::from_uuid(Uuid::from_u128(u128::from(seq) << 64 | written.command.0.as_u128())),
                command: written.command,
                fingerprint: written.fingerprint,
                actor: actor(),
                at: Timestamp(1_764_000_000_000 + seq as i64),
                event_type: "card_added",
                v: 1,
                payload,
            };
            let bytes = if as_format_2.contains(&written.board) {
                record::encode_event(&key, &envelope)
            } else {
                record::legacy::encode_event(&key, &envelope)
            };
            opened.db.insert(key, bytes.expect("encodes")).expect("writes");
        }
        let key = record::command_key(written.board, written.command);
        let last = written.first + written.payloads.len() as u64 - 1;
        let command = CommandRecord { first: written.first, last, fingerprint: written.fingerprint };
        opened.db.insert(key, record::legacy::encode_command(&key, &command)).expect("writes");
    }
    opened.db.flush().expect("flushes");
}

/// Two boards: board 1 with commands of three, one and two events, board 2 with one of two.
fn village() -> Vec<Written> {
    let payloads = |n: usize, tag: &str| -> Vec<Value> {
        (0..n).map(|i| json!({"text": format!("{tag} {i}: kylätalo ✨"), "n": i})).collect()
    };
    vec![
        Written { board: board(1), command: command(1), fingerprint: 11, first: 1, payloads: payloads(3, "a") },
        Written { board: board(1), command: command(2), fingerprint: 12, first: 4, payloads: payloads(1, "b") },
        Written { board: board(1), command: command(3), fingerprint: 13, first: 5, payloads: payloads(2, "c") },
        Written { board: board(2), command: command(4), fingerprint: 14, first: 1, payloads: payloads(2, "d") },
    ]
}

fn retry(written: &Written, fingerprint: u32) -> AppendRequest {
    AppendRequest {
        board: written.board,
        command_id: written.command,
        command_fingerprint: fingerprint,
        actor: actor(),
        at: Timestamp(1),
        expected: ExpectedVersion::Any,
        events: vec![NewEvent {
            event_id: EventId::from_uuid(Uuid::now_v7()),
            event_type: "card_added".into(),
            event_version: 1,
            payload: kipina_server::store::encode_payload(&json!({"retry": true})).expect("encodes"),
        }],
    }
}

/// Every event, command and retry of `commands` is as written, and sled holds one entry per event.
fn assert_upgraded(dir: &Path, commands: &[Written]) {
    {
        let store = SledStore::open(dir, StoreOptions::default()).expect("the upgraded store opens");
        assert!(store.damaged_boards().is_empty(), "{:?}", store.damaged_boards());
        for written in commands {
            let events = store.read(written.board, written.first, written.payloads.len()).expect("reads");
            assert_eq!(events.len(), written.payloads.len());
            for (event, payload) in events.iter().zip(&written.payloads) {
                assert_eq!(event.command_id, written.command);
                assert_eq!(&event.payload, payload);
                assert_eq!(event.actor, actor());
                assert_eq!(event.at, Timestamp(1_764_000_000_000 + event.seq as i64));
            }
            let last = written.first + written.payloads.len() as u64 - 1;
            let expected = CommandRecord { first: written.first, last, fingerprint: written.fingerprint };
            assert_eq!(store.command(written.board, written.command).expect("looks up"), Some(expected));
            // A retry finds the command; another content under its id is refused.
            let again = store.append(retry(written, written.fingerprint)).wait().expect("a retry is answered");
            assert_eq!(again, AppendOutcome::AlreadyAppended { first: written.first, last });
            let other = store.append(retry(written, written.fingerprint + 1)).wait();
            assert!(matches!(other, Err(StoreError::IdempotencyConflict { .. })), "{other:?}");
        }
        // Appending goes on after the last sequence number.
        let mut next = retry(&commands[0], 99);
        next.command_id = command(100);
        let head = store.head(board(1)).expect("a head");
        assert_eq!(
            store.append(next).wait().expect("appends"),
            AppendOutcome::Appended { first: head + 1, last: head + 1 }
        );
        assert!(store.verify().is_empty(), "{:?}", store.verify());
    }
    let opened = raw_sled(dir);
    for item in opened.db.iter() {
        let (key, value) = item.expect("sled reads");
        match record::parse_key(&key) {
            Ok(ParsedKey::Event { .. }) => assert_eq!(value[0], record::FORMAT_V2, "every event is in format 2"),
            // The event appended after the upgrade, in the chunk the writer made of its board's
            // tail at the shutdown (ADR 0011).
            Ok(ParsedKey::Chunk { .. }) => {
                let chunk = record::decode_chunk(&key, &value).expect("a sound chunk");
                assert!(chunk.records().all(|(_, _, bytes)| bytes[0] == record::FORMAT_V2), "events in format 2");
            }
            _ => panic!("only events and chunks of them are left, found {key:02x?}"),
        }
    }
}

#[test]
fn a_format_1_store_is_rewritten_as_one_entry_per_event_and_answers_retries_as_before() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let commands = village();
    write_format_1(dir.path(), &commands, &[]);
    assert_upgraded(dir.path(), &commands);
}

#[test]
fn an_upgrade_that_stopped_half_way_continues_at_the_next_open() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let commands = village();
    // Board 1 was rewritten but its command records not yet deleted; board 2 not yet touched.
    write_format_1(dir.path(), &commands, &[board(1)]);
    assert_upgraded(dir.path(), &commands);
}

#[test]
fn a_board_that_cannot_be_upgraded_is_quarantined_and_the_others_are_served() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let commands = village();
    write_format_1(dir.path(), &commands, &[]);
    {
        // Board 2's only command record goes missing: its events name a command nobody recorded.
        let opened = raw_sled(dir.path());
        opened.db.remove(record::command_key(board(2), command(4))).expect("removes");
        opened.db.flush().expect("flushes");
    }
    let store = SledStore::open(dir.path(), StoreOptions::default()).expect("the store opens");
    // Board 2 is checked when first used (ADR 0006): it is refused, with why, and quarantined.
    match store.read(board(2), 1, 10) {
        Err(StoreError::Damaged(damage)) => assert!(
            damage.iter().any(|damage| damage.problem.contains("format 1")),
            "the damage says the board is still in format 1: {damage:?}"
        ),
        other => panic!("board 2 is refused as damaged, not {other:?}"),
    }
    let damaged = store.damaged_boards();
    assert_eq!(damaged.iter().map(|(board, _)| *board).collect::<Vec<_>>(), [board(2)], "{damaged:?}");
    assert_eq!(store.read(board(1), 1, 100).expect("board 1 is served").len(), 6);
}
