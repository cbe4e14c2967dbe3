//! The board as a projection of its events: what `evolve` builds and `decide` reads.
//!
//! Plain data with ordered maps, so two replays of the same events give identical values (and
//! identical bytes when serialised into a snapshot). Derived numbers that `decide` needs often,
//! such as a participant's used dots, are kept here by `evolve` so rules stay cheap to check.

use super::personal::PersonalText;
use kipina_proto::{
    BoardOptions, BoardSettings, CardId, CardStatus, ColumnId, CommentId, LabelId, Language, ParticipantId, Phase,
    Role, SessionId, Timestamp,
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
    pub sessions: BTreeMap<SessionId, Session>,
    /// Sessions in the order they were planned.
    pub session_order: Vec<SessionId>,
    /// The session whose phase rules apply now.
    pub running_session: Option<SessionId>,
    /// When the current phase's countdown ends.
    pub timer_ends_at: Option<Timestamp>,
    /// Vote rounds, oldest first; the last is the current one (the board starts with round 1).
    pub rounds: Vec<VoteRound>,
    /// Each participant's most recent notifications, oldest first (see `domain::attention`).
    pub notifications: BTreeMap<ParticipantId, Vec<Notification>>,
}

/// Something a participant asked to hear about: a mention, or news of a card they follow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The event that caused it.
    pub seq: u64,
    pub at: Timestamp,
    pub kind: kipina_proto::view::NotificationKind,
    pub card: CardId,
    pub comment: Option<CommentId>,
    pub actor: ParticipantId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardInfo {
    pub title: String,
    pub description: String,
    /// Counts edits of title and description, for stale-edit detection.
    pub text_version: u32,
    pub language: Language,
    /// The current vote round's budget and cap.
    pub settings: BoardSettings,
    pub options: BoardOptions,
    /// Read-only for everyone but facilitators.
    pub locked: bool,
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
    /// Set when a facilitator removed them from the board; they can no longer act or read it.
    #[serde(default)]
    pub removed: bool,
    /// Dots this participant has placed in the current round.
    pub votes_used: u32,
    /// Everything up to this sequence number has been seen (on any of their devices).
    pub seen_through: u64,
    /// Notifications up to this sequence number have been read.
    pub notifications_read_through: u64,
    /// Cards they follow: added or commented on by them, or followed explicitly.
    pub following: BTreeSet<CardId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub id: ColumnId,
    pub title: String,
    pub text_version: u32,
    pub archived: bool,
    /// Active cards of the column, top first. Archived cards keep their `column` but leave this list.
    /// For a statement: its open proposals.
    pub cards: Vec<CardId>,
    /// Set when the column is a statement.
    pub statement: Option<Statement>,
}

/// A statement's wording through time; the last version is the current one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub versions: Vec<StatementVersion>,
}

impl Statement {
    /// The current version's number.
    pub fn current(&self) -> u32 {
        self.versions.last().map_or(0, |version| version.number)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementVersion {
    pub number: u32,
    pub text: PersonalText,
    /// Who proposed the wording (for the first version, who added the statement).
    pub author: ParticipantId,
    /// Whose key sealed the text: erasing them erases it.
    pub text_by: ParticipantId,
    /// Why it was proposed; `None` for the first version.
    pub reason: Option<PersonalText>,
    /// Whose key sealed the reason.
    pub reason_by: ParticipantId,
    pub adopted_at: Timestamp,
    /// The sequence number of the event that made it the wording.
    pub adopted_seq: u64,
    pub session: Option<SessionId>,
    pub proposal: Option<CardId>,
}

/// What makes a card a proposal for the statement in its column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub base_version: u32,
    pub adopted_as: Option<u32>,
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
    /// Who wrote the current body (the author, or a facilitator who edited it): erasing that
    /// person erases it.
    pub text_by: ParticipantId,
    /// Who wrote the current title. The same as `text_by` except for a proposal rebased by
    /// someone else, whose reason stays its author's.
    pub title_by: ParticipantId,
    pub text_version: u32,
    pub status: CardStatus,
    pub labels: BTreeSet<LabelId>,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The sequence number of the event that added it.
    pub created_seq: u64,
    /// Written while the board or the session was anonymous: its author is never shown.
    pub anonymous: bool,
    /// Dots per voter in the current round.
    pub votes: BTreeMap<ParticipantId, u32>,
    pub likes: BTreeSet<ParticipantId>,
    /// Comments and replies on the card, tombstones included, oldest first.
    pub comments: Vec<CommentId>,
    /// The group holding this card; a grouped card leaves its column's list.
    pub group: Option<CardId>,
    /// Set on a group: the card is a heading over `members`.
    pub is_group: bool,
    pub members: Vec<CardId>,
    /// Set when the card is a proposed wording of the statement in its column.
    pub proposal: Option<Proposal>,
    /// Who follows the card: the other side of [`Participant::following`], changed only
    /// together with it (in `attention`), so a comment finds whom to tell without walking every
    /// participant.
    pub followers: BTreeSet<ParticipantId>,
}

impl Card {
    /// A new card on the board as `author` wrote it at `at`.
    pub fn new(
        id: CardId,
        column: ColumnId,
        title: PersonalText,
        body: PersonalText,
        author: ParticipantId,
        at: Timestamp,
        anonymous: bool,
    ) -> Self {
        Card {
            id,
            column,
            title,
            body,
            author,
            text_by: author,
            title_by: author,
            text_version: 1,
            status: CardStatus::default(),
            labels: BTreeSet::new(),
            archived: false,
            created_at: at,
            updated_at: at,
            created_seq: 0,
            anonymous,
            votes: BTreeMap::new(),
            likes: BTreeSet::new(),
            comments: Vec::new(),
            group: None,
            is_group: false,
            members: Vec::new(),
            proposal: None,
            followers: BTreeSet::new(),
        }
    }

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
    /// Written while the board or the session was anonymous.
    pub anonymous: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The sequence number of the event that added it.
    pub created_seq: u64,
    /// Who its current text mentions with `@name`.
    pub mentions: Vec<ParticipantId>,
    pub likes: BTreeSet<ParticipantId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
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
    /// The sequence numbers of its first start and its latest end.
    pub started_seq: Option<u64>,
    pub ended_seq: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRound {
    pub number: u32,
    pub session: Option<SessionId>,
    pub settings: BoardSettings,
    pub hidden: bool,
    pub revealed: bool,
    pub started_at: Timestamp,
    /// Dots per card, filled in when the round ends.
    pub results: BTreeMap<CardId, u32>,
    /// Ended: by the next round, or by closing its session (then no dots are placed or taken
    /// back until a facilitator starts a new round).
    #[serde(default)]
    pub ended: bool,
}

impl VoteRound {
    /// Whether each participant sees only their own dots now.
    pub fn votes_hidden(&self) -> bool {
        self.hidden && !self.revealed && !self.ended
    }
}

impl BoardState {
    /// The round that takes votes now.
    pub fn current_round(&self) -> Option<&VoteRound> {
        self.rounds.last()
    }

    /// Whether the current round's votes are hidden.
    pub fn votes_hidden(&self) -> bool {
        self.current_round().is_some_and(VoteRound::votes_hidden)
    }

    /// The running session's phase.
    pub fn phase(&self) -> Option<Phase> {
        self.running_session.and_then(|id| self.sessions.get(&id)).and_then(|session| session.phase)
    }

    /// Whether what is written now carries no author.
    pub fn anonymous_now(&self) -> bool {
        let board = self.info.as_ref().is_some_and(|info| info.options.anonymous);
        let session =
            self.running_session.and_then(|id| self.sessions.get(&id)).is_some_and(|session| session.anonymous);
        board || session
    }

    /// Whether a card's author is hidden.
    pub fn card_is_anonymous(&self, card: &Card) -> bool {
        card.anonymous || self.info.as_ref().is_some_and(|info| info.options.anonymous)
    }

    /// Whether a comment's author is hidden.
    pub fn comment_is_anonymous(&self, comment: &Comment) -> bool {
        comment.anonymous || self.info.as_ref().is_some_and(|info| info.options.anonymous)
    }

    /// A participant who has joined and has been neither erased nor removed.
    pub fn active_participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id).filter(|participant| !participant.erased && !participant.removed)
    }

    /// How many facilitators the board has who can still act.
    pub fn facilitator_count(&self) -> usize {
        self.participants
            .values()
            .filter(|participant| !participant.erased && !participant.removed && participant.role == Role::Facilitator)
            .count()
    }
}
