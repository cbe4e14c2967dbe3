//! Views: the board as one viewer may see it. The server builds these from its state; the
//! client only renders them. Erased personal text is `None` (the client shows its own word for
//! "erased"); a deleted comment keeps its place with `deleted: true` and no body.

use crate::ids::{BoardId, CardId, ColumnId, CommentId, LabelId, ParticipantId, SessionId};
use crate::values::{BoardOptions, BoardSettings, CardStatus, Gates, Language, Permissions, Phase, Role, Timestamp};
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
    /// Sessions in the order they were planned.
    pub sessions: Vec<SessionView>,
    /// Vote rounds, oldest first; the last one is the current round.
    pub rounds: Vec<RoundView>,
    /// The viewer's own notifications, oldest first (the most recent ones the board keeps);
    /// empty for everyone else and for observers.
    pub notifications: Vec<NotificationView>,
    /// How many notifications the board keeps per participant (the most recent ones): a client
    /// that adds a `notification` change keeps as many, dropping the oldest.
    pub notifications_kept: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardInfoView {
    pub title: String,
    pub description: String,
    /// Send this back as `base_version` when editing title or description.
    pub text_version: u32,
    pub language: Language,
    /// The current vote round's budget and per-card cap.
    pub settings: BoardSettings,
    pub options: BoardOptions,
    pub created_at: Timestamp,
    /// Frozen by a facilitator: read-only for everyone else.
    pub locked: bool,
    /// The session that runs now, and its phase.
    pub running_session: Option<SessionId>,
    pub phase: Option<Phase>,
    /// When the phase's countdown ends, on the server's clock (see `welcome.server_time`).
    pub timer_ends_at: Option<Timestamp>,
    /// Whether what is written now carries no author (the board or the running session is
    /// anonymous).
    pub anonymous_now: bool,
    /// What each role may do right now, and why not.
    pub gates: Gates,
    /// How many of those who may vote have placed at least one dot in the current round, and
    /// how many may vote: counts only, never who ("5 / 12 have used their dots").
    pub voting: VotingProgress,
}

/// Counts for "N / M have used their dots" in the current round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VotingProgress {
    /// Participants and facilitators who can act and have a dot on some card in this round.
    pub voted: u32,
    /// Participants and facilitators who can act (observers and removed people are not counted).
    pub voters: u32,
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
    /// A facilitator removed them from the board: they can no longer act or read it.
    pub removed: bool,
    /// When they joined (the server's clock).
    pub joined_at: Timestamp,
    /// Dots placed in the current round; `None` while the round's votes are hidden from you.
    pub votes_used: Option<u32>,
    /// What only the participant themselves is sent (`None` in everyone else's view): how far
    /// they have seen the board and read their notifications, and the cards they follow.
    pub own: Option<OwnView>,
}

/// A participant's own place on the board, the same on every device they use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OwnView {
    /// Everything up to this sequence number has been seen; later cards, comments and wordings
    /// are new to them. 0 when they have not marked anything seen yet.
    pub seen_through: u64,
    /// Notifications up to this sequence number have been read.
    pub notifications_read_through: u64,
    /// The cards they follow.
    pub following: Vec<CardId>,
}

/// Something that happened that the viewer asked to hear about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NotificationView {
    /// The sequence number of the event that caused it: it is unread while greater than
    /// `notifications_read_through`.
    pub seq: u64,
    pub at: Timestamp,
    pub kind: NotificationKind,
    pub card: CardId,
    /// The comment it is about, for mentions and new comments.
    pub comment: Option<CommentId>,
    /// Who did it; `None` when what they wrote is anonymous.
    pub actor: Option<ParticipantId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Someone wrote `@your name` in a comment.
    Mentioned,
    /// A new comment on a card you follow.
    Commented,
    /// A card you follow was edited.
    Edited,
    /// A card you follow changed status.
    StatusChanged,
    /// A proposal you follow became the statement's wording.
    Adopted,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ColumnView {
    pub id: ColumnId,
    pub title: String,
    pub text_version: u32,
    pub archived: bool,
    /// Active cards, top first. For a statement: its open proposals.
    pub cards: Vec<CardId>,
    /// Set when the column is a statement (a vision, a mission, a service promise).
    pub statement: Option<StatementView>,
}

/// A statement's wording through time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatementView {
    /// Oldest first; the last is the current wording. Send its `number` as `base_version`.
    pub versions: Vec<StatementVersionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatementVersionView {
    /// 1, 2, 3…
    pub number: u32,
    /// `None` once its writer's data was erased.
    pub text: Option<String>,
    /// Who wrote this wording; `None` when it was proposed anonymously (except in the author's
    /// own view).
    pub author: Option<ParticipantId>,
    pub anonymous: bool,
    /// Why it was proposed (the proposal's reason); `None` for the first version.
    pub reason: Option<String>,
    /// When it became the statement's wording (and the sequence number of that event), and in
    /// which session.
    pub adopted_at: Timestamp,
    pub adopted_seq: u64,
    pub session: Option<SessionId>,
    /// The proposal it came from.
    pub proposal: Option<CardId>,
    /// Word by word against the version before (the first version is all `added`).
    pub diff: Vec<DiffSpan>,
}

/// A run of words that stayed, were added or were removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DiffSpan {
    pub kind: DiffKind,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    Same,
    Added,
    Removed,
}

/// What makes a card a proposal for a statement: its title is the reason, its body the wording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ProposalView {
    pub statement: ColumnId,
    /// The version of the statement the wording was based on.
    pub base_version: u32,
    /// Based on an older version than the current one: its author (or a facilitator) may rebase it.
    pub outdated: bool,
    /// The version it became, once adopted.
    pub adopted_as: Option<u32>,
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
    /// `None` when the card is anonymous (except in its author's own view).
    pub author: Option<ParticipantId>,
    /// Written anonymously, or the board is anonymous.
    pub anonymous: bool,
    /// A facilitator changed the wording ("muokattu fasilitaattorin toimesta").
    pub moderated: bool,
    /// Send this back as `base_version` when editing.
    pub text_version: u32,
    pub status: CardStatus,
    pub labels: Vec<LabelId>,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The sequence number of the event that added it (what is new since a visit).
    pub created_seq: u64,
    /// All dots on the card in the current round; `None` while the round's votes are hidden.
    pub vote_total: Option<u32>,
    /// Dots per voter in the current round: only your own while votes are hidden or the board
    /// is anonymous.
    pub votes: Vec<VoteView>,
    /// The group this card was put into (it then leaves its column's list).
    pub group: Option<CardId>,
    /// For a group: its cards, in order. A group is voted on as one item.
    pub is_group: bool,
    pub members: Vec<CardId>,
    /// Set when the card is a proposed wording of a statement.
    pub proposal: Option<ProposalView>,
    /// Who liked the card.
    pub likes: Vec<ParticipantId>,
    /// Comments and replies, tombstones included, oldest first.
    pub comments: Vec<CommentId>,
    /// Likes on the card and, for a group, on its cards too.
    pub total_likes: u32,
    /// Comments and replies that are not deleted, on the card and, for a group, on its cards too.
    pub total_comments: u32,
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
    /// `None` when the comment is anonymous (except in its author's own view).
    pub author: Option<ParticipantId>,
    pub anonymous: bool,
    /// `None` when deleted or erased.
    pub body: Option<String>,
    pub text_version: u32,
    pub deleted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The sequence number of the event that added it.
    pub created_seq: u64,
    /// Who the comment mentions with `@name`, as decided by the server when it was written.
    pub mentions: Vec<ParticipantId>,
    pub likes: Vec<ParticipantId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionView {
    pub id: SessionId,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub anonymous: bool,
    /// `None` until started.
    pub phase: Option<Phase>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// The sequence numbers of its first start and of its (latest) end: the board "at the end of
    /// the session" is the board as of `ended_seq`.
    pub started_seq: Option<u64>,
    pub ended_seq: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoundView {
    /// 1, 2, 3… in the order started.
    pub number: u32,
    /// The session that was running when the round started.
    pub session: Option<SessionId>,
    pub settings: BoardSettings,
    pub hidden: bool,
    pub revealed: bool,
    /// The round that takes votes now (the last one).
    pub current: bool,
    pub started_at: Timestamp,
    /// For an ended round: dots per card and group, most first. Empty for the current round
    /// (its totals are on the cards).
    pub results: Vec<RoundResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RoundResult {
    pub card: CardId,
    pub votes: u32,
    /// 1-based; cards with as many dots share a place and the next place skips (1, 1, 3).
    pub place: u32,
}
