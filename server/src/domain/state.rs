//! The board as a projection of its events: what `evolve` builds and `decide` reads.
//!
//! Plain data with ordered maps, so two replays of the same events give identical values (and
//! identical bytes when serialised into a snapshot). Derived numbers that `decide` needs often,
//! such as a participant's used dots, are kept here by `evolve` so rules stay cheap to check.

use super::personal::PersonalText;
use kipina_proto::{
    BoardSettings, CardId, CardStatus, ColumnId, CommentId, LabelId, Language, ParticipantId, Role, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A whole board as of `version` (the sequence number of the last event applied).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardState {
    /// The sequence number of the last event folded in; 0 for a board that does not exist yet.
    pub version: u64,
    /// The board's own fields; `None` until the board is created.
    pub info: Option<BoardInfo>,
    pub participants: BTreeMap<ParticipantId, Participant>,
    pub columns: BTreeMap<ColumnId, Column>,
    /// Active (not archived) columns in the order shown.
    pub column_order: Vec<ColumnId>,
    pub labels: BTreeMap<LabelId, Label>,
    pub cards: BTreeMap<CardId, Card>,
    pub comments: BTreeMap<CommentId, Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardInfo {
    pub title: String,
    pub description: String,
    /// Counts edits of title and description, for stale-edit detection.
    pub text_version: u32,
    pub language: Language,
    pub settings: BoardSettings,
    pub created_at: Timestamp,
    pub created_by: ParticipantId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub display_name: PersonalText,
    pub role: Role,
    pub joined_at: Timestamp,
    /// Set when the participant's personal data was erased; they can no longer act.
    pub erased: bool,
    /// Dots this participant has placed, over all cards.
    pub votes_used: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub id: ColumnId,
    pub title: String,
    pub text_version: u32,
    pub archived: bool,
    /// Active cards of the column, top first. Archived cards keep their `column` but leave this list.
    pub cards: Vec<CardId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: LabelId,
    pub name: String,
    pub color: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub id: CardId,
    pub column: ColumnId,
    pub title: PersonalText,
    pub body: PersonalText,
    pub author: ParticipantId,
    /// Who wrote the current title and body (the author, or a facilitator who edited them):
    /// erasing that person erases this text.
    pub text_by: ParticipantId,
    pub text_version: u32,
    pub status: CardStatus,
    pub labels: BTreeSet<LabelId>,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Dots per voter.
    pub votes: BTreeMap<ParticipantId, u32>,
    pub likes: BTreeSet<ParticipantId>,
    /// Comments and replies on the card, tombstones included, oldest first.
    pub comments: Vec<CommentId>,
}

impl Card {
    /// All dots on the card.
    pub fn vote_total(&self) -> u32 {
        self.votes.values().sum()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub card: CardId,
    /// The top-level comment this replies to; replies go one level deep.
    pub reply_to: Option<CommentId>,
    pub author: ParticipantId,
    pub body: PersonalText,
    pub text_version: u32,
    /// A deleted comment stays as a tombstone with its body erased from view.
    pub deleted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub likes: BTreeSet<ParticipantId>,
}

impl BoardState {
    /// A participant who has joined and has not been erased.
    pub fn active_participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id).filter(|participant| !participant.erased)
    }

    /// How many facilitators the board has who can still act.
    pub fn facilitator_count(&self) -> usize {
        self.participants
            .values()
            .filter(|participant| !participant.erased && participant.role == Role::Facilitator)
            .count()
    }
}
