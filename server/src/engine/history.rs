//! Reading a board's history as facts, and building its state from a snapshot plus the log.

use super::Engine;
use crate::codec::{self, DecodeError};
use crate::personal_data::{SealError, SealedOpener, unseal};
use crate::store::{EventStore, RawRecordedEvent, RecordedEvent, StoreError};
use kipina_domain::{BoardState, Event, Fact, evolve, with_opener};
use kipina_proto::{BoardId, ParticipantId};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::ControlFlow;
use std::rc::Rc;

/// How many events are read from the store at a time while replaying.
const READ_CHUNK: usize = 4_096;

/// The openers of the actors met so far in one replay of one board.
type Openers = HashMap<ParticipantId, Rc<SealedOpener>>;

/// Why a board's history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("board {board} seq {seq}: {source}")]
    Decode { board: BoardId, seq: u64, source: DecodeError },
    #[error("board {board} seq {seq}: {source}")]
    Seal { board: BoardId, seq: u64, source: SealError },
    #[error(
        "board {board}: an erasure is recorded but could not be completed on disk (retried at next load): {source}"
    )]
    Erasure { board: BoardId, source: std::io::Error },
    #[error("board {board} seq {seq}: reading a key failed: {source}")]
    Key { board: BoardId, seq: u64, source: std::io::Error },
}

impl<S: EventStore> Engine<S> {
    /// Turns one stored event into a fact: opens its sealed fields with the actor's key (or
    /// marks them erased) and upcasts and decodes the payload.
    pub fn fact_of(&self, recorded: RecordedEvent) -> Result<Fact, HistoryError> {
        let RecordedEvent { board, seq, actor, at, event_type, event_version, mut payload, .. } = recorded;
        let key = self.keys.get(board, actor).map_err(|source| HistoryError::Key { board, seq, source })?;
        unseal(&mut payload, board, actor, key.as_ref()).map_err(|source| HistoryError::Seal { board, seq, source })?;
        let event = codec::decode(&event_type, event_version, payload).map_err(|source| HistoryError::Decode {
            board,
            seq,
            source,
        })?;
        Ok(Fact { seq, at, actor, event })
    }

    /// [`Engine::fact_of`] for an event read in place: decoded straight from its raw payload
    /// when no upcaster applies to it, its sealed fields opened on the way with its actor's
    /// opener from `openers` (made on first need, then kept for the rest of the replay). Anything
    /// that path refuses, and every event that needs upcasting, goes through the `Value` path,
    /// which also says precisely what is wrong.
    fn fact_of_raw(&self, raw: RawRecordedEvent<'_>, openers: &mut Openers) -> Result<Fact, HistoryError> {
        let RawRecordedEvent { board, seq, actor, at, event_type, event_version, payload, .. } = raw;
        if !codec::upcast::applies(event_type, event_version) {
            let opener = match openers.entry(actor) {
                Entry::Occupied(entry) => Rc::clone(entry.get()),
                Entry::Vacant(entry) => {
                    let key = self.keys.get(board, actor).map_err(|source| HistoryError::Key { board, seq, source })?;
                    Rc::clone(entry.insert(Rc::new(SealedOpener::new(board, actor, key.as_ref()))))
                }
            };
            if let Ok(event) = with_opener(opener, || codec::decode_raw(event_type, event_version, payload)) {
                return Ok(Fact { seq, at, actor, event });
            }
        }
        let recorded = raw.to_recorded().map_err(|source| HistoryError::Decode {
            board,
            seq,
            source: DecodeError::Payload { event_type: event_type.to_owned(), source },
        })?;
        self.fact_of(recorded)
    }

    /// Facts of a board with `from_seq <= seq <= to_seq`, in order.
    pub fn history(&self, board: BoardId, from_seq: u64, to_seq: u64) -> Result<Vec<Fact>, HistoryError> {
        let mut facts = Vec::new();
        self.for_each_fact(board, from_seq, to_seq, |fact| facts.push(fact))?;
        Ok(facts)
    }

    fn for_each_fact(
        &self,
        board: BoardId,
        from_seq: u64,
        to_seq: u64,
        mut visit: impl FnMut(Fact),
    ) -> Result<(), HistoryError> {
        let mut openers = Openers::new();
        let mut next = from_seq.max(1);
        while next <= to_seq {
            let limit = usize::try_from(to_seq - next + 1).unwrap_or(usize::MAX).min(READ_CHUNK);
            let mut failed = None;
            let last =
                self.store.read_raw(board, next, limit, &mut |raw| match self.fact_of_raw(raw, &mut openers) {
                    Ok(fact) => {
                        visit(fact);
                        ControlFlow::Continue(())
                    }
                    Err(error) => {
                        failed = Some(error);
                        ControlFlow::Break(())
                    }
                })?;
            if let Some(error) = failed {
                return Err(error);
            }
            if last == 0 {
                break;
            }
            next = last + 1;
        }
        Ok(())
    }

    /// Folds the log from `state.version + 1` up to `to_seq` into `state`. Returns whether any
    /// of the folded facts erased a participant.
    pub fn catch_up_to(&self, board: BoardId, state: &mut BoardState, to_seq: u64) -> Result<bool, HistoryError> {
        let mut erased = false;
        self.for_each_fact(board, state.version + 1, to_seq, |fact| {
            erased |= matches!(fact.event, Event::ParticipantErased { .. });
            evolve(state, &fact);
        })?;
        Ok(erased)
    }

    /// Folds the log from `state.version + 1` up to the board's head into `state`, reading it
    /// with [`EventStore::replay_raw`]: from the first event, a board not checked since the
    /// store opened is checked while it is read, so its records are read once. Returns the head
    /// and whether any of the folded facts erased a participant. On an error `state` may hold
    /// part of what was read: the caller throws it away.
    fn fold_to_head(&self, board: BoardId, state: &mut BoardState) -> Result<(u64, bool), HistoryError> {
        let mut erased = false;
        let mut openers = Openers::new();
        let mut failed = None;
        let head =
            self.store.replay_raw(board, state.version + 1, &mut |raw| match self.fact_of_raw(raw, &mut openers) {
                Ok(fact) => {
                    erased |= matches!(fact.event, Event::ParticipantErased { .. });
                    evolve(state, &fact);
                    ControlFlow::Continue(())
                }
                Err(error) => {
                    failed = Some(error);
                    ControlFlow::Break(())
                }
            })?;
        match failed {
            Some(error) => Err(error),
            None => Ok((head, erased)),
        }
    }

    /// Brings `state` up to the board's head.
    pub fn catch_up(&self, board: BoardId, state: &mut BoardState) -> Result<(), HistoryError> {
        // From the first event the board may be checked while it is read: `state` takes the
        // result only once all of it passed. Later on, it was checked before anything was read.
        let erased = if state.version == 0 {
            let mut caught_up = state.clone();
            let (_, erased) = self.fold_to_head(board, &mut caught_up)?;
            *state = caught_up;
            erased
        } else {
            self.fold_to_head(board, state)?.1
        };
        if erased {
            self.finish_erasures(board, state)?;
        }
        Ok(())
    }

    /// The board's current state: its snapshot (when usable) plus the events after it.
    pub fn load(&self, board: BoardId) -> Result<BoardState, HistoryError> {
        if !self.snapshots.exists(board) {
            // The whole log, read once (see `fold_to_head`).
            let mut state = BoardState::default();
            let (head, erased) = self.fold_to_head(board, &mut state)?;
            if erased {
                self.finish_erasures(board, &state)?;
            } else if head >= self.snapshot_every {
                self.save_snapshot(board, &state);
            }
            return Ok(state);
        }
        // The head first, so a board in quarantine is refused before its snapshot is read.
        let head = self.store.head(board)?;
        let mut state = self.usable_snapshot(board, head).unwrap_or_default();
        let from_snapshot = state.version;
        let erased = self.catch_up_to(board, &mut state, head)?;
        if erased {
            // The snapshot may predate an erasure whose clean-up was cut short by a crash.
            self.finish_erasures(board, &state)?;
        } else if head - from_snapshot >= self.snapshot_every {
            self.save_snapshot(board, &state);
        }
        Ok(state)
    }

    /// The board as it was right after event `seq` ("the board at the end of the November camp").
    pub fn state_at(&self, board: BoardId, seq: u64) -> Result<BoardState, HistoryError> {
        let head = self.store.head(board)?;
        let seq = seq.min(head);
        let mut state = self.usable_snapshot(board, seq).unwrap_or_default();
        self.catch_up_to(board, &mut state, seq)?;
        Ok(state)
    }

    /// The board's snapshot if it can be trusted and is not past `at_most`.
    fn usable_snapshot(&self, board: BoardId, at_most: u64) -> Option<BoardState> {
        match self.snapshots.load(board) {
            Ok(Some(snapshot)) if snapshot.seq <= at_most => Some(snapshot.state),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%board, %error, "ignoring the board's snapshot; rebuilding from the log");
                None
            }
        }
    }

    /// Writes a snapshot; failure is reported loudly but is not the command's failure, since the
    /// events are already durable and a snapshot is only a shortcut.
    pub(super) fn save_snapshot(&self, board: BoardId, state: &BoardState) {
        if let Err(error) = self.snapshots.save(board, state) {
            tracing::error!(%board, %error, "could not save the board's snapshot");
        }
    }

    /// Makes every erasure recorded in `state` final on disk: destroys the erased participants'
    /// keys and replaces the snapshot (which may hold their words in the clear). Safe to repeat;
    /// a failure here is an error, because an erasure that did not happen must not look done.
    pub(super) fn finish_erasures(&self, board: BoardId, state: &BoardState) -> Result<(), HistoryError> {
        let erasure = |source: std::io::Error| HistoryError::Erasure { board, source };
        for participant in state.participants.values().filter(|participant| participant.erased) {
            self.keys.destroy(board, participant.id).map_err(erasure)?;
        }
        self.snapshots.remove(board).map_err(|error| erasure(std::io::Error::other(error)))?;
        self.save_snapshot(board, state);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_dir::DataDir;
    use crate::personal_data::seal;
    use crate::store::{AppendRequest, ExpectedVersion, NewEvent, encode_payload};
    use kipina_domain::PersonalText;
    use kipina_proto::{BoardSettings, CardId, ColumnId, CommandId, CommentId, EventId, Language, Timestamp};
    use serde_json::json;
    use uuid::Uuid;

    /// Appends events as stored payloads (personal fields sealed with the actor's key), as one
    /// command of `actor`.
    fn append(engine: &Engine, board: BoardId, actor: ParticipantId, events: Vec<(&str, u32, serde_json::Value)>) {
        let key = engine.keys().get_or_create(board, actor).expect("a key");
        let events = events
            .into_iter()
            .map(|(event_type, event_version, mut payload)| {
                seal(&mut payload, board, actor, &key).expect("seals");
                let payload = encode_payload(&payload).expect("encodes");
                NewEvent { event_id: EventId(Uuid::now_v7()), event_type: event_type.into(), event_version, payload }
            })
            .collect();
        let request = AppendRequest {
            board,
            command_id: CommandId(Uuid::now_v7()),
            command_fingerprint: 1,
            actor,
            at: Timestamp(1_764_000_000_000),
            expected: ExpectedVersion::Any,
            events,
        };
        engine.store().append(request).wait().expect("appends");
    }

    #[test]
    fn a_replay_decodes_current_events_directly_and_upcasts_old_ones() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = Engine::open(&DataDir::new(dir.path().to_owned())).expect("opens");
        let board = BoardId(Uuid::now_v7());
        let (facilitator, aino) = (ParticipantId(Uuid::from_u128(1)), ParticipantId(Uuid::from_u128(2)));
        let (column, card, comment) =
            (ColumnId(Uuid::from_u128(3)), CardId(Uuid::from_u128(4)), CommentId(Uuid::from_u128(5)));
        // Version 1 of board_created (no language: Finnish) and of comment_added (no mentions).
        append(
            &engine,
            board,
            facilitator,
            vec![(
                "board_created",
                1,
                json!({"title": "Kulmakivet", "description": "", "settings": {"vote_budget": 5, "votes_per_card": 3}}),
            )],
        );
        append(&engine, board, facilitator, vec![("column_added", 1, json!({"column": column, "title": "Ideat"}))]);
        append(
            &engine,
            board,
            aino,
            vec![
                (
                    "card_added",
                    1,
                    json!({"card": card, "column": column, "title": {"$personal": "Kylätalo"}, "body": {"$personal": ""}}),
                ),
                (
                    "comment_added",
                    1,
                    json!({"comment": comment, "card": card, "reply_to": null, "body": {"$personal": "Hyvä"}}),
                ),
                (
                    "comment_added",
                    2,
                    json!({"comment": comment, "card": card, "reply_to": null, "body": {"$personal": "@Aino"}, "mentions": [aino]}),
                ),
            ],
        );

        let events: Vec<Event> =
            engine.history(board, 1, 5).expect("the history reads").into_iter().map(|fact| fact.event).collect();
        let expected = vec![
            Event::BoardCreated {
                title: "Kulmakivet".into(),
                description: String::new(),
                language: Language::Fi,
                settings: BoardSettings { vote_budget: 5, votes_per_card: 3 },
            },
            Event::ColumnAdded { column, title: "Ideat".into() },
            Event::CardAdded { card, column, title: "Kylätalo".into(), body: "".into() },
            Event::CommentAdded { comment, card, reply_to: None, body: "Hyvä".into(), mentions: vec![] },
            Event::CommentAdded { comment, card, reply_to: None, body: "@Aino".into(), mentions: vec![aino] },
        ];
        assert_eq!(events, expected);

        // Aino's key destroyed: her words read as erased on both paths, the rest as before.
        engine.keys().destroy(board, aino).expect("destroys");
        let events: Vec<Event> =
            engine.history(board, 3, 5).expect("the history reads").into_iter().map(|fact| fact.event).collect();
        assert!(
            matches!(
                &events[..],
                [
                    Event::CardAdded { title: PersonalText::Erased, body: PersonalText::Erased, .. },
                    Event::CommentAdded { body: PersonalText::Erased, .. },
                    Event::CommentAdded { body: PersonalText::Erased, .. },
                ]
            ),
            "{events:?}"
        );
    }
}
