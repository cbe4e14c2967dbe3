//! Between camps: the board's activity feed, and the board as it was at a past moment.
//!
//! An [`ActivityItem`] says who did what, when, in ids and a few values: the client writes the
//! sentence in its reader's language with the names and titles it already has ("Aino lisäsi
//! kortin «Kyläkoulu»"). Items are made for one viewer on the server, like views: an anonymous
//! author or a hidden dot never reaches anyone else (see `docs/protocol.md`, "Activity").

use crate::ids::{CardId, ColumnId, CommentId, LabelId, ParticipantId, SessionId};
use crate::values::{CardStatus, Language, Phase, Role, Timestamp};
use crate::view::BoardView;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What happened. Each kind belongs to one [`ActivityGroup`] (its `group`), by which a feed
/// is filtered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    // cards
    CardAdded,
    CardEdited,
    /// Moved into `column`.
    CardMoved,
    CardStatusSet,
    CardArchived,
    CardRestored,
    CardLabelled,
    CardUnlabelled,
    /// `card` is the new group (its heading), in `column`.
    CardsGrouped,
    /// `card` went into the group `grouped_into`.
    CardAddedToGroup,
    /// `card` was a group and is no more.
    GroupDissolved,
    // comments
    CommentAdded,
    /// A reply (a comment on a comment) to a comment on `card`.
    CommentReplied,
    CommentEdited,
    CommentDeleted,
    // votes
    /// A dot on `card` (`actor` is `None` when who voted is not the viewer's to know).
    VoteCast,
    VoteWithdrawn,
    /// A like on `card`, or on `comment` (whose card is `card`).
    ReactionAdded,
    ReactionRemoved,
    // statements
    /// A statement (`column`) with its first wording.
    StatementAdded,
    /// `card` proposes a new wording of `column`, based on version `version`.
    WordingProposed,
    /// `card` now builds on version `version`.
    ProposalRebased,
    /// `card`'s wording became version `version` of `column`.
    ProposalAdopted,
    // facilitation
    BoardCreated,
    BoardEdited,
    BoardLanguageSet,
    /// The current round's budget and per-card cap changed.
    SettingsChanged,
    /// The board's options (anonymity, who may group) changed.
    OptionsChanged,
    BoardLocked,
    BoardUnlocked,
    SessionCreated,
    SessionStarted,
    /// The running session moved to `phase`.
    PhaseSet,
    SessionEnded,
    TimerStarted,
    TimerStopped,
    /// Round `round` began (`hidden`: its dots are hidden until revealed).
    VoteRoundStarted,
    VotesRevealed,
    ColumnAdded,
    ColumnRenamed,
    ColumnMoved,
    ColumnArchived,
    ColumnRestored,
    LabelCreated,
    // people
    /// `participant` joined as `role`.
    ParticipantJoined,
    ParticipantRenamed,
    /// `participant`'s role became `role`.
    RoleChanged,
    /// `participant`'s name and words were erased.
    ParticipantErased,
    ParticipantRemoved,
}

/// The groups a feed is filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ActivityGroup {
    Cards,
    Comments,
    Votes,
    Statements,
    Facilitation,
    People,
}

impl ActivityGroup {
    pub const ALL: [ActivityGroup; 6] = [
        ActivityGroup::Cards,
        ActivityGroup::Comments,
        ActivityGroup::Votes,
        ActivityGroup::Statements,
        ActivityGroup::Facilitation,
        ActivityGroup::People,
    ];

    /// The name used in `?kinds=` and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ActivityGroup::Cards => "cards",
            ActivityGroup::Comments => "comments",
            ActivityGroup::Votes => "votes",
            ActivityGroup::Statements => "statements",
            ActivityGroup::Facilitation => "facilitation",
            ActivityGroup::People => "people",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|group| group.name() == name)
    }
}

impl ActivityKind {
    /// The group the kind is filtered by.
    pub fn group(self) -> ActivityGroup {
        use ActivityKind::*;
        match self {
            CardAdded | CardEdited | CardMoved | CardStatusSet | CardArchived | CardRestored | CardLabelled
            | CardUnlabelled | CardsGrouped | CardAddedToGroup | GroupDissolved => ActivityGroup::Cards,
            CommentAdded | CommentReplied | CommentEdited | CommentDeleted => ActivityGroup::Comments,
            VoteCast | VoteWithdrawn | ReactionAdded | ReactionRemoved => ActivityGroup::Votes,
            StatementAdded | WordingProposed | ProposalRebased | ProposalAdopted => ActivityGroup::Statements,
            BoardCreated | BoardEdited | BoardLanguageSet | SettingsChanged | OptionsChanged | BoardLocked
            | BoardUnlocked | SessionCreated | SessionStarted | PhaseSet | SessionEnded | TimerStarted
            | TimerStopped | VoteRoundStarted | VotesRevealed | ColumnAdded | ColumnRenamed | ColumnMoved
            | ColumnArchived | ColumnRestored | LabelCreated => ActivityGroup::Facilitation,
            ParticipantJoined | ParticipantRenamed | RoleChanged | ParticipantErased | ParticipantRemoved => {
                ActivityGroup::People
            }
        }
    }
}

/// One thing that happened, as the viewer may know of it. Fields that do not apply to the kind
/// are `None`. Names and titles are not included: the client has the board's current ones (an
/// erased participant's name is `None` there; a card's title is its current one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActivityItem {
    /// The event's sequence number (also the pagination cursor).
    pub seq: u64,
    pub at: Timestamp,
    pub kind: ActivityKind,
    pub group: ActivityGroup,
    /// Who did it; `None` when that is not the viewer's to know (an anonymous author, a dot on
    /// an anonymous card).
    pub actor: Option<ParticipantId>,
    /// Set when `actor` was left out to keep something anonymous ("Nimetön lisäsi kortin…").
    pub anonymous: bool,
    pub card: Option<CardId>,
    pub comment: Option<CommentId>,
    pub column: Option<ColumnId>,
    /// For `card_added_to_group`: the group the card went into.
    pub grouped_into: Option<CardId>,
    pub session: Option<SessionId>,
    /// The participant the item is about (joined, renamed, role changed, erased).
    pub participant: Option<ParticipantId>,
    pub label: Option<LabelId>,
    pub phase: Option<Phase>,
    pub status: Option<CardStatus>,
    pub role: Option<Role>,
    pub language: Option<Language>,
    /// A statement's version: the one a proposal builds on, or the one it became.
    pub version: Option<u32>,
    /// A vote round's number.
    pub round: Option<u32>,
    /// For `vote_round_started`: whether its dots are hidden until revealed.
    pub hidden: Option<bool>,
}

/// `GET /api/boards/{board}/activity`: one page, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActivityPage {
    pub items: Vec<ActivityItem>,
    /// Send as `before` for the next, older page; `None` when nothing older matches.
    pub before: Option<u64>,
    /// The board's sequence number when the page was made.
    pub head: u64,
}

/// A point of the board's history with its time, for a date scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TimelinePoint {
    pub seq: u64,
    pub at: Timestamp,
}

/// `GET /api/boards/{board}/timeline`: what a timeline control needs besides the sessions
/// (whose `started_seq` and `ended_seq` are in `SessionView`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Timeline {
    pub head: u64,
    /// Points spread over `1..=head` (at most a few hundred, always the first and the last, and
    /// every session's start and end), oldest first: the time of any sequence number lies
    /// between those of its neighbours.
    pub points: Vec<TimelinePoint>,
}

/// `GET /api/boards/{board}/history?seq=N`: the board as it was right after event `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryView {
    /// The sequence number shown (the one asked for, at most the head and at least 1).
    pub seq: u64,
    /// When that event happened.
    pub at: Timestamp,
    pub head: u64,
    /// The board then, as the viewer may see it: read-only, and with what is anonymous now
    /// hidden even if it was not yet then.
    pub board: BoardView,
}
