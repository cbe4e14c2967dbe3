//! The stored byte formats: keys, event records, and the files next to sled's.
//!
//! Everything the store writes to sled goes through this module, so the on-disk format is
//! decided in one place. One sled entry per event (ADR 0005):
//!
//! - key `b'e' ++ board (16 bytes) ++ seq (u64 big-endian)`;
//! - value `[format = 2][crc32][command id, 16 bytes][command fingerprint u32][JSON envelope]`,
//!   integers big-endian.
//!
//! Big-endian sequence numbers make sled's byte order the stream's order, so a board's events are
//! one contiguous key range and its head is the last key of that range. The command id and its
//! fingerprint sit in the binary header, in front of the JSON, so that the store can learn which
//! commands a board holds (to answer retries) by reading a few bytes of each record, without
//! parsing any JSON. A command's events are stored together, so its range is where its id
//! starts and ends.
//!
//! The checksum covers the key followed by everything after the checksum, so a record that was
//! damaged, or moved under another key (another board or another seq), fails its check.
//! The board and the seq are not repeated inside the envelope: they come from the key, which
//! the checksum ties to the record.
//!
//! A board's older events may be kept in *chunks* (format 3, ADR 0008): a run of consecutive
//! events in one sled entry, so reading a board from its start loads few of sled's nodes. A
//! chunk's key is the key of its last event with one more byte, [`CHUNK_MARK`]
//! (`b'e' ++ board ++ last seq ++ b'k'`), so it sorts right after that event's own key and
//! before the next one's: a board's range holds its chunks and then its events, in stream
//! order, and seeking to any seq lands on the entry that holds it. The value is
//! `[format = 3][crc32][first seq u64][count u32][count × record length u32][the records]`,
//! where the crc covers the key and the header after it (up to the last length), and each
//! record is the event's format-2 record exactly as it was stored under its own event key,
//! checksum included, so damage inside a chunk is still pinned on its event.
//!
//! Format 1, written until ADR 0005, kept the command id in the JSON envelope and stored a second
//! entry per command (key `b'c' ++ board ++ command id`, value `[1][crc32][first][last]
//! [fingerprint]`). [`legacy`] still reads it, for the upgrade that rewrites a data directory in
//! format 2 when it is first opened (see `sled_store::upgrade`); nothing else accepts it.
//!
//! Next to sled's files the store keeps one more: the acknowledgement watermark,
//! `[magic "KPA1"][acknowledged events u64][crc32]`, big-endian, the number of events the store
//! has acknowledged as durable over its whole life (see the `sled_store` module docs for why),
//! and the acknowledged heads: one 32-byte slot per board,
//! `[magic "KPH1"][board 16 bytes][acknowledged head u64][crc32 of the 28 bytes before]`, so that
//! events sled lost can be pinned on the boards they belonged to. A slot of zeros is empty.
//!
//! Decoding never panics on arbitrary bytes: every way a record can be wrong has its own
//! [`RecordError`] variant.

use super::CommandRecord;
use kipina_proto::{BoardId, CommandId, EventId, ParticipantId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use uuid::Uuid;

/// The first key byte of an event.
pub const EVENT_PREFIX: u8 = b'e';
/// The first key byte of a command record.
pub const COMMAND_PREFIX: u8 = b'c';
/// The length of an event key: prefix, board, seq.
pub const EVENT_KEY_LEN: usize = 1 + 16 + 8;
/// The length of a command key: prefix, board, command id.
pub const COMMAND_KEY_LEN: usize = 1 + 16 + 16;
/// The record format this version writes, and the only one it serves.
pub const FORMAT_V2: u8 = 2;
/// The format of a chunk of events (ADR 0008).
pub const FORMAT_CHUNK: u8 = 3;
/// The last byte of a chunk's key, after the seq of its last event.
pub const CHUNK_MARK: u8 = b'k';
/// The length of a chunk key: an event key and [`CHUNK_MARK`].
pub const CHUNK_KEY_LEN: usize = EVENT_KEY_LEN + 1;
/// The length of a chunk's fixed header: format, checksum, first seq, count.
pub const CHUNK_HEADER_LEN: usize = HEADER_LEN + 8 + 4;
/// The length of the format byte and the checksum in front of every record.
pub const HEADER_LEN: usize = 1 + 4;
/// The length of an event record's binary header: format, checksum, command id, fingerprint.
pub const EVENT_HEADER_LEN: usize = HEADER_LEN + 16 + 4;

/// The first bytes of the acknowledgement watermark file.
pub const WATERMARK_MAGIC: [u8; 4] = *b"KPA1";
/// The length of the acknowledgement watermark file.
pub const WATERMARK_LEN: usize = 4 + 8 + 4;

/// The first bytes of every slot of the acknowledged-heads file.
pub const HEAD_SLOT_MAGIC: [u8; 4] = *b"KPH1";
/// The length of one slot of the acknowledged-heads file.
pub const HEAD_SLOT_LEN: usize = 32;

/// Why a key or a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the key is empty")]
    EmptyKey,
    #[error("unknown key prefix {0:#04x}")]
    UnknownKeyPrefix(u8),
    #[error("malformed key: a key with prefix {prefix:?} must be {expected} bytes long, this one is {actual}")]
    KeyLength { prefix: char, expected: usize, actual: usize },
    #[error("an event key with sequence number 0 (streams start at 1)")]
    SeqZero,
    #[error("the record is empty")]
    Empty,
    #[error("unknown record format {0}")]
    UnknownFormat(u8),
    #[error(
        "a record in format 1, which this version reads only to upgrade it (the upgrade of this board did not finish)"
    )]
    NotUpgraded,
    #[error("the record is truncated: {actual} bytes, at least {expected} needed")]
    Truncated { expected: usize, actual: usize },
    #[error("a command record must be {expected} bytes long, this one is {actual}")]
    CommandRecordLength { expected: usize, actual: usize },
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("the envelope is not valid: {0}")]
    Envelope(#[from] serde_json::Error),
    #[error("the command record's range {first}..={last} is not a valid range")]
    CommandRange { first: u64, last: u64 },
    #[error(
        "the watermark must be {WATERMARK_LEN} bytes starting with \"KPA1\", it is {len} bytes starting with {start:02x?}"
    )]
    Watermark { len: usize, start: Vec<u8> },
    #[error("a slot of the acknowledged heads must start with \"KPH1\", this one starts with {0:02x?}")]
    HeadSlot(Vec<u8>),
    #[error("a chunk of events is malformed: {0}")]
    Chunk(String),
}

/// What a key says about the entry it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParsedKey {
    Event {
        board: BoardId,
        seq: u64,
    },
    /// A chunk of events ending at `last` (ADR 0008).
    Chunk {
        board: BoardId,
        last: u64,
    },
    Command {
        board: BoardId,
        command_id: CommandId,
    },
}

impl ParsedKey {
    /// The board and the last seq of an entry of a board's stream: an event or a chunk.
    pub fn stream_entry(&self) -> Option<(BoardId, u64)> {
        match *self {
            ParsedKey::Event { board, seq } => Some((board, seq)),
            ParsedKey::Chunk { board, last } => Some((board, last)),
            ParsedKey::Command { .. } => None,
        }
    }
}

/// The key of the board's event with sequence number `seq`.
pub fn event_key(board: BoardId, seq: u64) -> [u8; EVENT_KEY_LEN] {
    let mut key = [0u8; EVENT_KEY_LEN];
    key[0] = EVENT_PREFIX;
    key[1..17].copy_from_slice(board.as_bytes());
    key[17..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The key of the board's chunk of events that ends at `last` (ADR 0008).
pub fn chunk_key(board: BoardId, last: u64) -> [u8; CHUNK_KEY_LEN] {
    let mut key = [0u8; CHUNK_KEY_LEN];
    key[..EVENT_KEY_LEN].copy_from_slice(&event_key(board, last));
    key[EVENT_KEY_LEN] = CHUNK_MARK;
    key
}

/// The prefix shared by all event keys of one board.
pub fn event_prefix(board: BoardId) -> [u8; 17] {
    let mut prefix = [0u8; 17];
    prefix[0] = EVENT_PREFIX;
    prefix[1..].copy_from_slice(board.as_bytes());
    prefix
}

/// The key of the board's record of a command.
pub fn command_key(board: BoardId, command_id: CommandId) -> [u8; COMMAND_KEY_LEN] {
    let mut key = [0u8; COMMAND_KEY_LEN];
    key[0] = COMMAND_PREFIX;
    key[1..17].copy_from_slice(board.as_bytes());
    key[17..].copy_from_slice(command_id.as_bytes());
    key
}

/// Reads a key back into what it names, refusing anything this format never writes.
pub fn parse_key(key: &[u8]) -> Result<ParsedKey, RecordError> {
    let (&prefix, _) = key.split_first().ok_or(RecordError::EmptyKey)?;
    if prefix == EVENT_PREFIX && key.len() == CHUNK_KEY_LEN && key[EVENT_KEY_LEN] == CHUNK_MARK {
        let ParsedKey::Event { board, seq } = parse_key(&key[..EVENT_KEY_LEN])? else {
            unreachable!("an event prefix parses as an event")
        };
        return Ok(ParsedKey::Chunk { board, last: seq });
    }
    let expected = match prefix {
        EVENT_PREFIX => EVENT_KEY_LEN,
        COMMAND_PREFIX => COMMAND_KEY_LEN,
        other => return Err(RecordError::UnknownKeyPrefix(other)),
    };
    if key.len() != expected {
        return Err(RecordError::KeyLength { prefix: char::from(prefix), expected, actual: key.len() });
    }
    let board = BoardId::from_uuid(uuid_at(key, 1));
    if prefix == EVENT_PREFIX {
        let seq = u64_at(key, 17);
        if seq == 0 {
            return Err(RecordError::SeqZero);
        }
        Ok(ParsedKey::Event { board, seq })
    } else {
        Ok(ParsedKey::Command { board, command_id: CommandId::from_uuid(uuid_at(key, 17)) })
    }
}

/// The board named by the 16 bytes after a key's prefix, when the key is long enough to have them.
/// Used to say where damage is even when the rest of the key is wrong.
pub fn board_of_key(key: &[u8]) -> Option<BoardId> {
    key.get(1..17).map(|_| BoardId::from_uuid(uuid_at(key, 1)))
}

/// An event as it is written: borrowed, so encoding copies no payload. The command id and its
/// fingerprint go into the record's binary header, the rest into the JSON envelope.
#[derive(Debug, Serialize)]
pub struct EnvelopeRef<'a> {
    pub id: EventId,
    #[serde(skip)]
    pub command: CommandId,
    #[serde(skip)]
    pub fingerprint: u32,
    pub actor: ParticipantId,
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub v: u32,
    pub payload: &'a RawValue,
}

impl<'a> EnvelopeRef<'a> {
    /// The envelope of one event of an append.
    pub fn of(request: &'a super::AppendRequest, event: &'a super::NewEvent) -> Self {
        Self {
            id: event.event_id,
            command: request.command_id,
            fingerprint: request.command_fingerprint,
            actor: request.actor,
            at: request.at,
            event_type: &event.event_type,
            v: event.event_version,
            payload: &event.payload,
        }
    }
}

/// An event as it is read back: the record's header and its envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub id: EventId,
    pub command: CommandId,
    pub fingerprint: u32,
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub event_type: String,
    pub v: u32,
    pub payload: Value,
}

/// An encoded event record whose checksum is not filled in yet, because the key (and so the seq)
/// is decided only after the size has been checked.
#[derive(Debug)]
pub struct UnsealedRecord {
    bytes: Vec<u8>,
}

impl UnsealedRecord {
    /// Encodes an event. The length is final: sealing only fills in the checksum.
    pub fn encode(envelope: &EnvelopeRef<'_>) -> Result<Self, RecordError> {
        let mut bytes = Vec::with_capacity(EVENT_HEADER_LEN + 128 + envelope.event_type.len());
        bytes.push(FORMAT_V2);
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(envelope.command.as_bytes());
        bytes.extend_from_slice(&envelope.fingerprint.to_be_bytes());
        serde_json::to_writer(&mut bytes, envelope)?;
        Ok(Self { bytes })
    }

    /// The length of the finished record in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the record is empty; it never is, since the header is always there.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Fills in the checksum for the key the record will be stored under.
    pub fn seal(mut self, key: &[u8]) -> Vec<u8> {
        let crc = checksum(key, &self.bytes[HEADER_LEN..]);
        self.bytes[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
        self.bytes
    }
}

/// Encodes an event record for `key` in one step.
pub fn encode_event(key: &[u8], envelope: &EnvelopeRef<'_>) -> Result<Vec<u8>, RecordError> {
    Ok(UnsealedRecord::encode(envelope)?.seal(key))
}

/// Checks an event record against the key it was found under and decodes it: the envelope of
/// [`decode_event_raw`], with its payload built as a `Value`.
pub fn decode_event(key: &[u8], record: &[u8]) -> Result<Envelope, RecordError> {
    let raw = decode_event_raw(key, record)?;
    Ok(Envelope {
        id: raw.id,
        command: raw.command,
        fingerprint: raw.fingerprint,
        actor: raw.actor,
        at: raw.at,
        event_type: raw.event_type.into_owned(),
        v: raw.v,
        payload: serde_json::from_str(raw.payload.get())?,
    })
}

/// An event as read for decoding in place: the record's header, and its envelope borrowed from
/// the record's bytes, the payload left as raw JSON for the layer above to deserialize as it sees
/// fit (straight into its own types, or into a `Value` when it must rewrite the payload first).
#[derive(Debug)]
pub struct RawEnvelope<'r> {
    pub id: EventId,
    pub command: CommandId,
    pub fingerprint: u32,
    pub actor: ParticipantId,
    pub at: Timestamp,
    /// Borrowed unless the stored name has escapes (ours never do).
    pub event_type: Cow<'r, str>,
    pub v: u32,
    pub payload: &'r RawValue,
}

impl<'r> RawEnvelope<'r> {
    /// The event it holds, as the board's event at `seq`.
    pub fn recorded(&'r self, board: BoardId, seq: u64) -> super::RawRecordedEvent<'r> {
        super::RawRecordedEvent {
            board,
            seq,
            event_id: self.id,
            command_id: self.command,
            actor: self.actor,
            at: self.at,
            event_type: &self.event_type,
            event_version: self.v,
            payload: self.payload,
        }
    }
}

/// The JSON part of a format-2 record, borrowed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBody<'r> {
    id: EventId,
    actor: ParticipantId,
    at: Timestamp,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'r, str>,
    v: u32,
    #[serde(borrow)]
    payload: &'r RawValue,
}

/// Checks an event record against the key it was found under and decodes its envelope in place:
/// [`decode_event`] without building the payload.
pub fn decode_event_raw<'r>(key: &[u8], record: &'r [u8]) -> Result<RawEnvelope<'r>, RecordError> {
    let (command, fingerprint, json) = check_event_header(key, record)?;
    let body: RawBody<'r> = serde_json::from_slice(json)?;
    Ok(RawEnvelope {
        id: body.id,
        command,
        fingerprint,
        actor: body.actor,
        at: body.at,
        event_type: body.event_type,
        v: body.v,
        payload: body.payload,
    })
}

/// Checks an event record's format and checksum against the key it was found under, without
/// decoding the envelope.
pub fn check_event(key: &[u8], record: &[u8]) -> Result<(), RecordError> {
    check_event_header(key, record).map(|_| ())
}

/// Checks an event record's format and checksum and reads its command id and fingerprint, without
/// decoding the envelope: what the store needs to know which commands a board holds.
pub fn event_command(key: &[u8], record: &[u8]) -> Result<(CommandId, u32), RecordError> {
    check_event_header(key, record).map(|(command, fingerprint, _)| (command, fingerprint))
}

/// Checks an event record and splits it into its command id, fingerprint and JSON envelope.
fn check_event_header<'r>(key: &[u8], record: &'r [u8]) -> Result<(CommandId, u32, &'r [u8]), RecordError> {
    let body = check(key, record, FORMAT_V2, EVENT_HEADER_LEN)?;
    let command = CommandId::from_uuid(uuid_at(body, 0));
    let fingerprint = u32_at(body, 16);
    Ok((command, fingerprint, &body[20..]))
}

/// Encodes a chunk of consecutive events of one board, `first` onwards, from their records as
/// stored (each under its own event key, so each keeps its own checksum). `key` is the chunk's
/// key, [`chunk_key`] of the last event.
pub fn encode_chunk(key: &[u8], first: u64, records: &[&[u8]]) -> Vec<u8> {
    let count = records.len();
    let header = CHUNK_HEADER_LEN + 4 * count;
    let mut bytes = Vec::with_capacity(header + records.iter().map(|record| record.len()).sum::<usize>());
    bytes.push(FORMAT_CHUNK);
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&first.to_be_bytes());
    bytes.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes());
    for record in records {
        bytes.extend_from_slice(&u32::try_from(record.len()).unwrap_or(u32::MAX).to_be_bytes());
    }
    let crc = checksum(key, &bytes[HEADER_LEN..header]);
    bytes[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
    for record in records {
        bytes.extend_from_slice(record);
    }
    bytes
}

/// A chunk of events as stored, checked against its key (format, header checksum, the seqs it
/// covers, lengths that add up); its records are checked one by one as they are read.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'v> {
    board: BoardId,
    first: u64,
    lengths: &'v [u8],
    records: &'v [u8],
}

/// Reads a chunk's header, checked against the key it was found under.
pub fn decode_chunk<'v>(key: &[u8], value: &'v [u8]) -> Result<Chunk<'v>, RecordError> {
    let ParsedKey::Chunk { board, last } = parse_key(key)? else {
        return Err(RecordError::Chunk(format!("key {key:02x?} is not a chunk's key")));
    };
    let (&format, _) = value.split_first().ok_or(RecordError::Empty)?;
    if format != FORMAT_CHUNK {
        return Err(RecordError::UnknownFormat(format));
    }
    if value.len() < CHUNK_HEADER_LEN {
        return Err(RecordError::Truncated { expected: CHUNK_HEADER_LEN, actual: value.len() });
    }
    let first = u64_at(value, HEADER_LEN);
    let count = u32_at(value, HEADER_LEN + 8) as usize;
    let header = count
        .checked_mul(4)
        .and_then(|lengths| lengths.checked_add(CHUNK_HEADER_LEN))
        .filter(|header| *header <= value.len())
        .ok_or(RecordError::Truncated {
            expected: CHUNK_HEADER_LEN.saturating_add(count.saturating_mul(4)),
            actual: value.len(),
        })?;
    let stored = u32_at(value, 1);
    let computed = checksum(key, &value[HEADER_LEN..header]);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    if count == 0 || first == 0 || first.checked_add(count as u64 - 1) != Some(last) {
        return Err(RecordError::Chunk(format!("{count} events from seq {first} do not end at seq {last}")));
    }
    let lengths = &value[CHUNK_HEADER_LEN..header];
    let records = &value[header..];
    let total: u64 = lengths.chunks_exact(4).map(|length| u64::from(u32_at(length, 0))).sum();
    if total != records.len() as u64 {
        return Err(RecordError::Chunk(format!("its records take {} bytes, its lengths say {total}", records.len())));
    }
    Ok(Chunk { board, first, lengths, records })
}

impl<'v> Chunk<'v> {
    /// The seq of the first event in the chunk.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The seq of the last event in the chunk.
    pub fn last(&self) -> u64 {
        self.first + (self.lengths.len() / 4) as u64 - 1
    }

    /// The chunk's events in order: each seq, the event key its record was stored (and
    /// checksummed) under, and the record.
    pub fn records(&self) -> impl Iterator<Item = (u64, [u8; EVENT_KEY_LEN], &'v [u8])> + use<'v> {
        let board = self.board;
        let mut rest = self.records;
        self.lengths.chunks_exact(4).zip(self.first..).map(move |(length, seq)| {
            // The lengths were checked to add up to the records' bytes.
            let (record, after) = rest.split_at(u32_at(length, 0) as usize);
            rest = after;
            (seq, event_key(board, seq), record)
        })
    }
}

/// Encodes the acknowledgement watermark.
pub fn encode_watermark(acknowledged_events: u64) -> [u8; WATERMARK_LEN] {
    let mut bytes = [0u8; WATERMARK_LEN];
    bytes[..4].copy_from_slice(&WATERMARK_MAGIC);
    bytes[4..12].copy_from_slice(&acknowledged_events.to_be_bytes());
    let crc = crc32fast::hash(&bytes[..12]);
    bytes[12..].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Decodes the acknowledgement watermark.
pub fn decode_watermark(bytes: &[u8]) -> Result<u64, RecordError> {
    if bytes.len() != WATERMARK_LEN || bytes[..4] != WATERMARK_MAGIC {
        return Err(RecordError::Watermark { len: bytes.len(), start: bytes.iter().take(4).copied().collect() });
    }
    let stored = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    let computed = crc32fast::hash(&bytes[..12]);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    Ok(u64_at(bytes, 4))
}

/// Encodes one slot of the acknowledged-heads file: the board and its acknowledged head.
pub fn encode_head_slot(board: BoardId, head: u64) -> [u8; HEAD_SLOT_LEN] {
    let mut bytes = [0u8; HEAD_SLOT_LEN];
    bytes[..4].copy_from_slice(&HEAD_SLOT_MAGIC);
    bytes[4..20].copy_from_slice(board.as_bytes());
    bytes[20..28].copy_from_slice(&head.to_be_bytes());
    let crc = crc32fast::hash(&bytes[..28]);
    bytes[28..].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Decodes one slot of the acknowledged-heads file: `Ok(None)` for an empty slot (all zeros).
pub fn decode_head_slot(bytes: &[u8; HEAD_SLOT_LEN]) -> Result<Option<(BoardId, u64)>, RecordError> {
    if bytes.iter().all(|byte| *byte == 0) {
        return Ok(None);
    }
    if bytes[..4] != HEAD_SLOT_MAGIC {
        return Err(RecordError::HeadSlot(bytes[..4].to_vec()));
    }
    let stored = u32::from_be_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]);
    let computed = crc32fast::hash(&bytes[..28]);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    Ok(Some((BoardId::from_uuid(uuid_at(bytes, 4)), u64_at(bytes, 20))))
}

/// Checks the format byte and the checksum and returns the bytes after the checksum.
fn check<'r>(key: &[u8], record: &'r [u8], expected: u8, min_len: usize) -> Result<&'r [u8], RecordError> {
    let (&format, _) = record.split_first().ok_or(RecordError::Empty)?;
    if format != expected {
        return Err(if format == legacy::FORMAT_V1 {
            RecordError::NotUpgraded
        } else {
            RecordError::UnknownFormat(format)
        });
    }
    if record.len() < min_len {
        return Err(RecordError::Truncated { expected: min_len, actual: record.len() });
    }
    let stored = u32::from_be_bytes([record[1], record[2], record[3], record[4]]);
    let body = &record[HEADER_LEN..];
    let computed = checksum(key, body);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    Ok(body)
}

/// The CRC32 of the key followed by the record body.
fn checksum(key: &[u8], body: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(body);
    hasher.finalize()
}

/// The big-endian u64 at `at`. Callers have checked the length, so the slice is in bounds.
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut array = [0u8; 8];
    array.copy_from_slice(&bytes[at..at + 8]);
    u64::from_be_bytes(array)
}

/// The big-endian u32 at `at`. Callers have checked the length, so the slice is in bounds.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut array = [0u8; 4];
    array.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(array)
}

/// The UUID at `at`. Callers have checked the length, so the slice is in bounds.
fn uuid_at(bytes: &[u8], at: usize) -> Uuid {
    let mut array = [0u8; 16];
    array.copy_from_slice(&bytes[at..at + 16]);
    Uuid::from_bytes(array)
}

/// Format 1, read only to upgrade it (see the module docs).
pub mod legacy {
    use super::*;

    /// The format byte of format 1, for event and command records alike.
    pub const FORMAT_V1: u8 = 1;
    /// The length of a whole format-1 command record.
    pub const COMMAND_RECORD_LEN: usize = HEADER_LEN + 8 + 8 + 4;

    /// A format-1 envelope: the command id was part of the JSON.
    #[derive(Clone, Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EnvelopeV1 {
        pub id: EventId,
        pub command: CommandId,
        pub actor: ParticipantId,
        pub at: Timestamp,
        #[serde(rename = "type")]
        pub event_type: String,
        pub v: u32,
        pub payload: Value,
    }

    /// Checks a format-1 event record against its key and decodes its envelope.
    pub fn decode_event(key: &[u8], record: &[u8]) -> Result<EnvelopeV1, RecordError> {
        let body = check_v1(key, record, HEADER_LEN)?;
        Ok(serde_json::from_slice(body)?)
    }

    /// Checks a format-1 command record against its key and decodes it.
    pub fn decode_command(key: &[u8], record: &[u8]) -> Result<CommandRecord, RecordError> {
        let body = check_v1(key, record, HEADER_LEN)?;
        if record.len() != COMMAND_RECORD_LEN {
            return Err(RecordError::CommandRecordLength { expected: COMMAND_RECORD_LEN, actual: record.len() });
        }
        let first = u64_at(body, 0);
        let last = u64_at(body, 8);
        let fingerprint = u32_at(body, 16);
        if first == 0 || first > last {
            return Err(RecordError::CommandRange { first, last });
        }
        Ok(CommandRecord { first, last, fingerprint })
    }

    /// Encodes a format-1 event record, as the versions before ADR 0005 did: for tests of the
    /// upgrade.
    pub fn encode_event(key: &[u8], envelope: &EnvelopeRef<'_>) -> Result<Vec<u8>, RecordError> {
        #[derive(Serialize)]
        struct V1<'a> {
            id: EventId,
            command: CommandId,
            actor: ParticipantId,
            at: Timestamp,
            #[serde(rename = "type")]
            event_type: &'a str,
            v: u32,
            payload: &'a RawValue,
        }
        let mut bytes = vec![FORMAT_V1, 0, 0, 0, 0];
        serde_json::to_writer(
            &mut bytes,
            &V1 {
                id: envelope.id,
                command: envelope.command,
                actor: envelope.actor,
                at: envelope.at,
                event_type: envelope.event_type,
                v: envelope.v,
                payload: envelope.payload,
            },
        )?;
        Ok(seal_v1(key, bytes))
    }

    /// Encodes a format-1 command record: for tests of the upgrade.
    pub fn encode_command(key: &[u8], command: &CommandRecord) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(COMMAND_RECORD_LEN);
        bytes.extend_from_slice(&[FORMAT_V1, 0, 0, 0, 0]);
        bytes.extend_from_slice(&command.first.to_be_bytes());
        bytes.extend_from_slice(&command.last.to_be_bytes());
        bytes.extend_from_slice(&command.fingerprint.to_be_bytes());
        seal_v1(key, bytes)
    }

    fn seal_v1(key: &[u8], mut bytes: Vec<u8>) -> Vec<u8> {
        let crc = checksum(key, &bytes[HEADER_LEN..]);
        bytes[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    fn check_v1<'r>(key: &[u8], record: &'r [u8], min_len: usize) -> Result<&'r [u8], RecordError> {
        check(key, record, FORMAT_V1, min_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn check_event_checks_the_checksum_but_not_the_envelope() {
        let key = event_key(BoardId::from_uuid(Uuid::from_u128(1)), 1);
        let mut record = vec![FORMAT_V2, 0, 0, 0, 0];
        record.extend_from_slice(&[8; 20]);
        record.extend_from_slice(b"not json");
        let crc = checksum(&key, &record[HEADER_LEN..]);
        record[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
        assert!(check_event(&key, &record).is_ok());
        assert!(matches!(decode_event(&key, &record), Err(RecordError::Envelope(_))));
        record[HEADER_LEN] ^= 1;
        assert!(matches!(check_event(&key, &record), Err(RecordError::Checksum { .. })));
    }

    fn board(n: u8) -> BoardId {
        BoardId::from_uuid(Uuid::from_bytes([n; 16]))
    }

    fn raw(payload: &Value) -> Box<RawValue> {
        crate::store::encode_payload(payload).expect("encodes")
    }

    fn envelope_ref(payload: &RawValue) -> EnvelopeRef<'_> {
        EnvelopeRef {
            id: EventId::from_uuid(Uuid::from_bytes([7; 16])),
            command: CommandId::from_uuid(Uuid::from_bytes([8; 16])),
            fingerprint: 0x0102_0304,
            actor: ParticipantId::from_uuid(Uuid::from_bytes([9; 16])),
            at: Timestamp(1_764_000_000_000),
            event_type: "card_added",
            v: 2,
            payload,
        }
    }

    #[test]
    fn an_event_record_round_trips() {
        let payload = json!({"text": "Kipinä ✨", "n": [1, 2.5, -3], "nested": {"ok": true}});
        let key = event_key(board(1), 42);
        let bytes = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
        assert_eq!(bytes[0], FORMAT_V2);
        let envelope = decode_event(&key, &bytes).expect("decodes");
        assert_eq!(envelope.payload, payload);
        assert_eq!(envelope.command, CommandId::from_uuid(Uuid::from_bytes([8; 16])));
        assert_eq!(envelope.fingerprint, 0x0102_0304);
        assert_eq!(event_command(&key, &bytes).expect("reads the header"), (envelope.command, 0x0102_0304));
        assert_eq!(envelope.event_type, "card_added");
        assert_eq!(envelope.v, 2);
        assert_eq!(envelope.at, Timestamp(1_764_000_000_000));
        assert_eq!(envelope.id, EventId::from_uuid(Uuid::from_bytes([7; 16])));
    }

    #[test]
    fn the_envelope_uses_the_documented_field_names() {
        let payload = json!({"a": 1});
        let key = event_key(board(1), 1);
        let bytes = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
        assert_eq!(bytes[HEADER_LEN..HEADER_LEN + 16], [8; 16], "the command id follows the checksum");
        assert_eq!(bytes[HEADER_LEN + 16..EVENT_HEADER_LEN], [1, 2, 3, 4], "then the fingerprint, big-endian");
        let json: Value = serde_json::from_slice(&bytes[EVENT_HEADER_LEN..]).expect("the body is JSON");
        let mut fields: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["actor", "at", "id", "payload", "type", "v"]);
    }

    #[test]
    fn a_record_moved_to_another_seq_or_board_fails_its_checksum() {
        let payload = json!({"a": 1});
        let bytes = encode_event(&event_key(board(1), 5), &envelope_ref(&raw(&payload))).expect("encodes");
        assert!(matches!(decode_event(&event_key(board(1), 6), &bytes), Err(RecordError::Checksum { .. })));
        assert!(matches!(decode_event(&event_key(board(2), 5), &bytes), Err(RecordError::Checksum { .. })));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let payload = json!({"text": "hello"});
        let key = event_key(board(3), 9);
        let bytes = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
        for index in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[index] ^= 1 << bit;
                assert!(decode_event(&key, &damaged).is_err(), "flip of bit {bit} in byte {index} went unnoticed");
            }
        }
    }

    #[test]
    fn precise_errors_for_short_or_foreign_records() {
        let key = event_key(board(1), 1);
        assert!(matches!(decode_event(&key, &[]), Err(RecordError::Empty)));
        assert!(matches!(decode_event(&key, &[3, 0, 0, 0, 0]), Err(RecordError::UnknownFormat(3))));
        assert!(matches!(decode_event(&key, &[1, 0, 0, 0, 0]), Err(RecordError::NotUpgraded)));
        assert!(matches!(
            decode_event(&key, &[2, 0, 0]),
            Err(RecordError::Truncated { expected: EVENT_HEADER_LEN, actual: 3 })
        ));
        // A correct checksum over a body that is not an envelope is an envelope error, not a panic.
        let mut not_json = vec![2, 0, 0, 0, 0];
        not_json.extend_from_slice(&[0; 20]);
        not_json.extend_from_slice(b"{\"id\":");
        let crc = checksum(&key, &not_json[HEADER_LEN..]);
        not_json[1..HEADER_LEN].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(decode_event(&key, &not_json), Err(RecordError::Envelope(_))));
    }

    #[test]
    fn a_legacy_command_record_round_trips_and_checks_its_range() {
        use legacy::{COMMAND_RECORD_LEN, decode_command, encode_command};
        let key = command_key(board(1), CommandId::from_uuid(Uuid::from_bytes([4; 16])));
        let record = CommandRecord { first: 3, last: 7, fingerprint: 0xdead_beef };
        let bytes = encode_command(&key, &record);
        assert_eq!(bytes.len(), COMMAND_RECORD_LEN);
        assert_eq!(decode_command(&key, &bytes).expect("decodes"), record);

        let other_key = command_key(board(2), CommandId::from_uuid(Uuid::from_bytes([4; 16])));
        assert!(matches!(decode_command(&other_key, &bytes), Err(RecordError::Checksum { .. })));

        let backwards = encode_command(&key, &CommandRecord { first: 7, last: 3, fingerprint: 0 });
        assert!(matches!(decode_command(&key, &backwards), Err(RecordError::CommandRange { first: 7, last: 3 })));

        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(decode_command(&key, &long), Err(RecordError::Checksum { .. })));
    }

    #[test]
    fn a_legacy_event_record_decodes_only_as_legacy() {
        let payload = json!({"a": 1});
        let key = event_key(board(1), 4);
        let bytes = legacy::encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
        let envelope = legacy::decode_event(&key, &bytes).expect("decodes as format 1");
        assert_eq!(envelope.command, CommandId::from_uuid(Uuid::from_bytes([8; 16])));
        assert_eq!(envelope.payload, payload);
        assert!(matches!(decode_event(&key, &bytes), Err(RecordError::NotUpgraded)));
        let current = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
        assert!(matches!(legacy::decode_event(&key, &current), Err(RecordError::UnknownFormat(2))));
    }

    #[test]
    fn keys_parse_back_and_malformed_keys_are_refused() {
        let command_id = CommandId::from_uuid(Uuid::from_bytes([5; 16]));
        assert_eq!(parse_key(&event_key(board(1), 77)).expect("parses"), ParsedKey::Event { board: board(1), seq: 77 });
        assert_eq!(
            parse_key(&command_key(board(1), command_id)).expect("parses"),
            ParsedKey::Command { board: board(1), command_id }
        );
        assert!(matches!(parse_key(&[]), Err(RecordError::EmptyKey)));
        assert!(matches!(parse_key(b"x123"), Err(RecordError::UnknownKeyPrefix(b'x'))));
        assert!(matches!(
            parse_key(&event_key(board(1), 1)[..20]),
            Err(RecordError::KeyLength { prefix: 'e', expected: EVENT_KEY_LEN, actual: 20 })
        ));
        assert!(matches!(parse_key(&event_key(board(1), 0)), Err(RecordError::SeqZero)));
        assert_eq!(board_of_key(&event_key(board(6), 1)[..18]), Some(board(6)));
        assert_eq!(board_of_key(b"e12"), None);
    }

    #[test]
    fn big_endian_seqs_sort_in_stream_order() {
        let mut keys: Vec<[u8; EVENT_KEY_LEN]> =
            [300u64, 2, 256, 1, 70_000].map(|seq| event_key(board(1), seq)).to_vec();
        keys.sort_unstable();
        let seqs: Vec<u64> = keys
            .iter()
            .map(|key| match parse_key(key) {
                Ok(ParsedKey::Event { seq, .. }) => seq,
                other => panic!("not an event key: {other:?}"),
            })
            .collect();
        assert_eq!(seqs, [1, 2, 256, 300, 70_000]);
    }

    #[test]
    fn a_head_slot_round_trips_and_refuses_damage() {
        let slot = encode_head_slot(board(7), 42);
        assert_eq!(decode_head_slot(&slot).expect("decodes"), Some((board(7), 42)));
        assert_eq!(decode_head_slot(&[0; HEAD_SLOT_LEN]).expect("an empty slot"), None);
        for at in 0..HEAD_SLOT_LEN {
            let mut damaged = slot;
            damaged[at] ^= 0x10;
            assert!(decode_head_slot(&damaged).is_err(), "a flip at byte {at} went unnoticed");
        }
    }

    #[test]
    fn the_watermark_round_trips_and_refuses_damage() {
        let bytes = encode_watermark(123_456);
        assert_eq!(decode_watermark(&bytes).expect("decodes"), 123_456);
        assert!(matches!(decode_watermark(&bytes[..15]), Err(RecordError::Watermark { len: 15, .. })));
        assert!(matches!(decode_watermark(&[]), Err(RecordError::Watermark { len: 0, .. })));
        let mut damaged = bytes;
        damaged[7] ^= 0x10;
        assert!(matches!(decode_watermark(&damaged), Err(RecordError::Checksum { .. })));
    }

    /// A chunk of `count` events of board 1 from seq `first`, each record encoded under its own
    /// event key, with payloads of different lengths.
    fn chunk_of(first: u64, count: u64) -> ([u8; CHUNK_KEY_LEN], Vec<u8>) {
        let records: Vec<Vec<u8>> = (first..first + count)
            .map(|seq| {
                let payload = json!({"text": "x".repeat(seq as usize), "seq": seq});
                encode_event(&event_key(board(1), seq), &envelope_ref(&raw(&payload))).expect("encodes")
            })
            .collect();
        let key = chunk_key(board(1), first + count - 1);
        let borrowed: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        (key, encode_chunk(&key, first, &borrowed))
    }

    /// Checks a chunk and every record in it, as a read does.
    fn chunk_checks(key: &[u8], bytes: &[u8]) -> Result<Vec<(u64, Envelope)>, RecordError> {
        let chunk = decode_chunk(key, bytes)?;
        chunk.records().map(|(seq, event_key, record)| Ok((seq, decode_event(&event_key, record)?))).collect()
    }

    #[test]
    fn a_chunk_round_trips_and_its_key_sorts_between_its_last_event_and_the_next() {
        let (key, bytes) = chunk_of(65, 64);
        assert_eq!(parse_key(&key).expect("parses"), ParsedKey::Chunk { board: board(1), last: 128 });
        assert_eq!(parse_key(&key).expect("parses").stream_entry(), Some((board(1), 128)));
        let chunk = decode_chunk(&key, &bytes).expect("decodes");
        assert_eq!((chunk.first(), chunk.last()), (65, 128));
        let events = chunk_checks(&key, &bytes).expect("every record checks");
        assert_eq!(events.len(), 64);
        for (at, (seq, envelope)) in events.iter().enumerate() {
            assert_eq!(*seq, 65 + at as u64);
            assert_eq!(envelope.payload["seq"], json!(seq));
        }
        let mut keys: Vec<Vec<u8>> = vec![
            event_key(board(1), 129).to_vec(),
            key.to_vec(),
            event_key(board(1), 128).to_vec(),
            chunk_key(board(1), 64).to_vec(),
            event_key(board(1), 127).to_vec(),
        ];
        keys.sort();
        let order: Vec<ParsedKey> = keys.iter().map(|key| parse_key(key).expect("parses")).collect();
        assert_eq!(
            order,
            [
                ParsedKey::Chunk { board: board(1), last: 64 },
                ParsedKey::Event { board: board(1), seq: 127 },
                ParsedKey::Event { board: board(1), seq: 128 },
                ParsedKey::Chunk { board: board(1), last: 128 },
                ParsedKey::Event { board: board(1), seq: 129 },
            ]
        );
    }

    #[test]
    fn a_chunk_under_another_key_or_claiming_other_seqs_is_refused() {
        let (_, bytes) = chunk_of(1, 4);
        // Another board, another last seq: the header's checksum covers the key.
        assert!(matches!(decode_chunk(&chunk_key(board(2), 4), &bytes), Err(RecordError::Checksum { .. })));
        assert!(matches!(decode_chunk(&chunk_key(board(1), 5), &bytes), Err(RecordError::Checksum { .. })));
        // A header whose seqs do not end at the key's, with a valid checksum.
        let records: Vec<Vec<u8>> = (1..=4)
            .map(|seq| encode_event(&event_key(board(1), seq), &envelope_ref(&raw(&json!({})))).expect("encodes"))
            .collect();
        let borrowed: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let key = chunk_key(board(1), 9);
        assert!(matches!(decode_chunk(&key, &encode_chunk(&key, 1, &borrowed)), Err(RecordError::Chunk(_))));
        assert!(matches!(decode_chunk(&key, &encode_chunk(&key, 9, &[])), Err(RecordError::Chunk(_))));
        // Records moved inside the chunk fail their own checksums.
        let swapped = [borrowed[1], borrowed[0], borrowed[2], borrowed[3]];
        let key = chunk_key(board(1), 4);
        let moved = encode_chunk(&key, 1, &swapped);
        assert!(matches!(chunk_checks(&key, &moved), Err(RecordError::Checksum { .. })));
        // A chunk is not an event, nor an event a chunk.
        assert!(decode_event(&key, &bytes).is_err());
        assert!(decode_chunk(&event_key(board(1), 4), &records[3]).is_err());
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(key in proptest::collection::vec(any::<u8>(), 0..40),
                                                 record in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_key(&key);
            let _ = board_of_key(&key);
            let _ = decode_event(&key, &record);
            let _ = event_command(&key, &record);
            let _ = legacy::decode_event(&key, &record);
            let _ = legacy::decode_command(&key, &record);
            let _ = decode_watermark(&record);
            if let Ok(chunk) = decode_chunk(&key, &record) {
                let _ = chunk.records().count();
            }
        }

        #[test]
        fn any_change_to_a_chunk_is_found_in_its_header_or_in_the_record_it_hits(
            index in 0usize..2_000, value in any::<u8>(), cut in 0usize..2_000) {
            let (key, bytes) = chunk_of(7, 4);
            let index = index % bytes.len();
            let mut changed = bytes.clone();
            prop_assume!(changed[index] != value);
            changed[index] = value;
            prop_assert!(chunk_checks(&key, &changed).is_err());
            let cut = cut % bytes.len();
            prop_assert!(chunk_checks(&key, &bytes[..cut]).is_err());
        }

        #[test]
        fn every_truncation_of_a_valid_record_is_an_error(cut in 0usize..200) {
            let payload = json!({"text": "a fairly long payload to cut at many places", "n": 12345});
            let key = event_key(board(1), 3);
            let bytes = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(decode_event(&key, &bytes[..cut]).is_err());
            prop_assert!(event_command(&key, &bytes[..cut]).is_err());
            let command = legacy::encode_command(&key, &CommandRecord { first: 1, last: 2, fingerprint: 3 });
            let cut = cut.min(command.len() - 1);
            prop_assert!(legacy::decode_command(&key, &command[..cut]).is_err());
        }

        #[test]
        fn valid_records_with_random_bytes_appended_or_a_random_byte_changed_fail(
            index in 0usize..500, value in any::<u8>(), tail in proptest::collection::vec(any::<u8>(), 1..8)) {
            let payload = json!({"text": "x"});
            let key = event_key(board(1), 3);
            let bytes = encode_event(&key, &envelope_ref(&raw(&payload))).expect("encodes");
            let index = index % bytes.len();
            let mut changed = bytes.clone();
            prop_assume!(changed[index] != value);
            changed[index] = value;
            prop_assert!(decode_event(&key, &changed).is_err());
            let mut longer = bytes.clone();
            longer.extend_from_slice(&tail);
            prop_assert!(decode_event(&key, &longer).is_err());
        }
    }
}
