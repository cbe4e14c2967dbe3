//! Views: the board as one viewer may see it. The server builds these from its state; the
//! client only renders them. Erased personal text is `None` (the client shows its own word for
//! "erased"); a deleted comment keeps its place with `deleted: true` and no body.

use crate::ids::{BoardId, CardId, ColumnId, CommentId, LabelId, ParticipantId};
use crate::values::{BoardSettings, CardStatus, Language, Permissions, Role, Timestamp};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A whole board, as sent to a client that is new or too far behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardView {
    pub id: BoardId,
    /// The sequence number of the last event this view includes.
    pub seq: u64,
    pub info: BoardInfoView,
    /// Active columns in board order, then archived ones.
    pub columns: Vec<ColumnView>,
    pub participants: Vec<ParticipantView>,
    pub labels: Vec<LabelView>,
    pub cards: Vec<CardView>,
    pub comments: Vec<CommentView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardInfoView {
    pub title: String,
    pub description: String,
    /// Send this back as `base_version` when editing title or description.
    pub text_version: u32,
    pub language: Language,
    pub settings: BoardSettings,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ParticipantView {
    pub id: ParticipantId,
    /// `None` once the participant's data was erased.
    pub display_name: Option<String>,
    pub role: Role,
    /// What the role allows (from the server's rules; for showing controls only).
    pub permissions: Permissions,
    pub erased: bool,
    /// Dots placed, over all cards.
    pub votes_used: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ColumnView {
    pub id: ColumnId,
    pub title: String,
    pub text_version: u32,
    pub archived: bool,
    /// Active cards, top first.
    pub cards: Vec<CardId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LabelView {
    pub id: LabelId,
    pub name: String,
    pub color: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CardView {
    pub id: CardId,
    pub column: ColumnId,
    /// `None` once erased.
    pub title: Option<String>,
    /// `None` once erased.
    pub body: Option<String>,
    pub author: ParticipantId,
    /// Send this back as `base_version` when editing.
    pub text_version: u32,
    pub status: CardStatus,
    pub labels: Vec<LabelId>,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// All dots on the card.
    pub vote_total: u32,
    /// Dots per voter.
    pub votes: Vec<VoteView>,
    /// Who liked the card.
    pub likes: Vec<ParticipantId>,
    /// Comments and replies, tombstones included, oldest first.
    pub comments: Vec<CommentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VoteView {
    pub participant: ParticipantId,
    pub dots: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommentView {
    pub id: CommentId,
    pub card: CardId,
    pub reply_to: Option<CommentId>,
    pub author: ParticipantId,
    /// `None` when deleted or erased.
    pub body: Option<String>,
    pub text_version: u32,
    pub deleted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub likes: Vec<ParticipantId>,
}
