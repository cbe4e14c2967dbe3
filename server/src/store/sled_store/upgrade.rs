//! The upgrade of a data directory written in format 1 (two sled entries per event) to format 2
//! (one), run by [`SledStore::open`] before anything else reads the store (ADR 0005).
//!
//! Format 1 kept a command record per command (`c` keys) and the command id inside each event's
//! JSON. The upgrade rewrites each event record with the command id and fingerprint in its
//! header, then deletes the board's command records. A board is converted in chunks of
//! [`CHUNK`] events, each one sled batch, and its command records go last, in the batch of its
//! last chunk: so a board still has every command record until each of its events is in format
//! 2, and an upgrade stopped anywhere (a crash, a power cut) simply continues at the next open.
//! Events already in format 2 are left alone. At the end the whole upgrade is made durable with
//! one `fdatasync` of sled's file before the store serves anything.
//!
//! The events themselves do not change: the same envelope, payload, sequence numbers and count,
//! so the acknowledgement watermark and heads stay true. A board that cannot be converted (a
//! record that fails its checksum, an event whose command has no record) is left as it was and
//! reported as damage, so it is quarantined exactly as a damaged board always was.

use super::*;
use record::legacy;

/// Events rewritten per sled batch: bounds the memory of upgrading a large board.
const CHUNK: usize = 4096;

/// What an upgrade did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Upgraded {
    pub(super) boards: usize,
    pub(super) events: u64,
    /// Boards left in format 1, with why.
    pub(super) damage: Vec<Damage>,
}

/// Whether sled still holds any format-1 command record: one seek. When sled cannot read the
/// node where they would start, the upgrade is left alone: the scan that follows pins that
/// damage on its board, and any format-1 event it meets is damage too.
pub(super) fn needed(db: &sled::Db) -> bool {
    match db.scan_prefix([record::COMMAND_PREFIX]).next() {
        None => false,
        Some(Ok(_)) => true,
        Some(Err(error)) => {
            tracing::warn!(%error, "cannot tell whether the event store needs an upgrade; the open check will say what is damaged");
            false
        }
    }
}

/// Rewrites every board that still has command records; see the module docs.
pub(super) fn run(db: &sled::Db, db_file: &File) -> Result<Upgraded, StoreError> {
    let mut upgraded = Upgraded::default();
    if !needed(db) {
        return Ok(upgraded);
    }
    for board in boards_with_commands(db)? {
        match convert(db, board) {
            Ok(events) => {
                upgraded.boards += 1;
                upgraded.events += events;
            }
            Err(Failure::Store(error)) => return Err(error),
            Err(Failure::Damage(problem)) => upgraded.damage.push(Damage {
                board: Some(board),
                seq: None,
                problem: format!("cannot upgrade this board from format 1: {problem}"),
            }),
        }
    }
    db.flush()?;
    db_file.sync_all()?;
    Ok(upgraded)
}

/// Every board that has at least one command record, in order. A key in that range too short to
/// name a board is passed over: it is no command record of format 1, and the check of every
/// record after opening reports it as damage that names no board.
fn boards_with_commands(db: &sled::Db) -> Result<Vec<BoardId>, StoreError> {
    let mut boards = Vec::new();
    let mut lower = vec![record::COMMAND_PREFIX];
    loop {
        let next = db.range::<Vec<u8>, _>((Bound::Included(lower), Bound::Excluded(vec![record::COMMAND_PREFIX + 1])));
        let Some(item) = next.into_iter().next() else { break };
        let (key, _) = item?;
        lower = match record::board_of_key(&key) {
            Some(board) => {
                boards.push(board);
                // Past every key of this board: its prefix followed by the highest byte.
                let mut past = vec![record::COMMAND_PREFIX];
                past.extend_from_slice(board.as_bytes());
                past.push(0xff);
                past
            }
            None => {
                let mut past = key.to_vec();
                past.push(0);
                past
            }
        };
    }
    Ok(boards)
}

/// Why a board was not converted.
enum Failure {
    /// Its records are damaged: the board stays as it is, to be quarantined.
    Damage(String),
    /// Writing failed: the store does not open.
    Store(StoreError),
}

impl From<String> for Failure {
    fn from(problem: String) -> Self {
        Failure::Damage(problem)
    }
}

/// Converts one board; returns the events rewritten, or why it could not.
fn convert(db: &sled::Db, board: BoardId) -> Result<u64, Failure> {
    let mut prefix = vec![record::COMMAND_PREFIX];
    prefix.extend_from_slice(board.as_bytes());
    let mut commands: HashMap<CommandId, CommandRecord> = HashMap::new();
    let mut command_keys = Vec::new();
    for item in db.scan_prefix(&prefix) {
        let (key, value) = item.map_err(|error| error.to_string())?;
        let Ok(ParsedKey::Command { command_id, .. }) = record::parse_key(&key) else {
            return Err(format!("malformed command key {key:02x?}").into());
        };
        let command = legacy::decode_command(&key, &value)
            .map_err(|error| format!("the record of command {command_id}: {error}"))?;
        commands.insert(command_id, command);
        command_keys.push(key);
    }

    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    let mut rewritten = 0;
    for item in db.scan_prefix(record::event_prefix(board)) {
        let (key, value) = item.map_err(|error| error.to_string())?;
        let Ok(ParsedKey::Event { seq, .. }) = record::parse_key(&key) else {
            return Err(format!("malformed event key {key:02x?}").into());
        };
        if value.first() == Some(&record::FORMAT_V2) {
            // Converted by an upgrade that stopped before deleting the command records.
            continue;
        }
        let old = legacy::decode_event(&key, &value).map_err(|error| format!("seq {seq}: {error}"))?;
        let command = commands
            .get(&old.command)
            .filter(|command| (command.first..=command.last).contains(&seq))
            .ok_or_else(|| format!("seq {seq}: its command {} has no record that covers it", old.command))?;
        let payload = crate::store::encode_payload(&old.payload).map_err(|error| format!("seq {seq}: {error}"))?;
        let envelope = record::EnvelopeRef {
            id: old.id,
            command: old.command,
            fingerprint: command.fingerprint,
            actor: old.actor,
            at: old.at,
            event_type: &old.event_type,
            v: old.v,
            payload: &payload,
        };
        let encoded = record::encode_event(&key, &envelope).map_err(|error| format!("seq {seq}: {error}"))?;
        batch.insert(&key[..], encoded);
        in_batch += 1;
        rewritten += 1;
        if in_batch == CHUNK {
            db.apply_batch(std::mem::take(&mut batch)).map_err(|error| Failure::Store(error.into()))?;
            in_batch = 0;
        }
    }
    for key in command_keys {
        batch.remove(key);
    }
    db.apply_batch(batch).map_err(|error| Failure::Store(error.into()))?;
    Ok(rewritten)
}
