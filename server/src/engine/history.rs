//! Reading a board's history as facts, and building its state from a snapshot plus the log.

use super::Engine;
use crate::codec::{self, DecodeError};
use crate::personal_data::{SealError, unseal};
use crate::store::{EventStore, RecordedEvent, StoreError};
use kipina_domain::{BoardState, Event, Fact, evolve};
use kipina_proto::BoardId;

/// How many events are read from the store at a time while replaying.
const READ_CHUNK: usize = 4_096;

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
        let mut next = from_seq.max(1);
        while next <= to_seq {
            let limit = usize::try_from(to_seq - next + 1).unwrap_or(usize::MAX).min(READ_CHUNK);
            let chunk = self.store.read(board, next, limit)?;
            let Some(last) = chunk.last().map(|event| event.seq) else { break };
            for recorded in chunk {
                visit(self.fact_of(recorded)?);
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

    /// Brings `state` up to the board's head.
    pub fn catch_up(&self, board: BoardId, state: &mut BoardState) -> Result<(), HistoryError> {
        let head = self.store.head(board)?;
        if self.catch_up_to(board, state, head)? {
            self.finish_erasures(board, state)?;
        }
        Ok(())
    }

    /// The board's current state: its snapshot (when usable) plus the events after it.
    pub fn load(&self, board: BoardId) -> Result<BoardState, HistoryError> {
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
