//! Events: facts in the past tense, the only thing the board's history is made of.
//!
//! Each variant has a stable type name (its serde tag) and a schema version. Changing a payload
//! means bumping the version and adding an upcaster in the server's `codec::upcast`, never editing
//! what old events mean. Personal content is held in [`PersonalText`] fields only, and a
//! participant's display name appears only in that participant's own events.

use super::personal::PersonalText;
use kipina_proto::{
    BoardOptions, BoardSettings, CardId, CardStatus, ColumnId, CommentId, LabelId, Language, ParticipantId, Phase,
    ReactionTarget, Role, SessionId, Timestamp,
};
use serde::{Deserialize, Serialize};

/// Everything that can happen on a board.
///
/// The type name stored in an event's envelope is its serde tag; strum derives the same
/// snake_case name for [`Event::type_name`] (the codec's tests check that the two agree).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumCount)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    BoardCreated {
        title: String,
        description: String,
        language: Language,
        settings: BoardSettings,
    },
    BoardEdited {
        title: String,
        description: String,
    },
    BoardLanguageSet {
        language: Language,
    },
    SettingsChanged {
        settings: BoardSettings,
    },
    OptionsSet {
        options: BoardOptions,
    },
    LockSet {
        locked: bool,
    },

    SessionCreated {
        session: SessionId,
        name: String,
        date: String,
        anonymous: bool,
    },
    /// A session was started (`ideate`), moved to another phase, ended (`closed`) or reopened.
    PhaseSet {
        session: SessionId,
        phase: Phase,
    },
    /// The countdown ends at `ends_at` on the server's clock; `None` stops it.
    TimerSet {
        ends_at: Option<Timestamp>,
    },
    /// The current round ended (its totals are kept) and a new one began with fresh budgets.
    VoteRoundStarted {
        settings: BoardSettings,
        hidden: bool,
    },
    /// (A struct variant with no fields, so its stored payload is an object like every other.)
    VotesRevealed {},
    /// The current round ended without a new one: its session was closed. Its totals are kept
    /// as its results and no more dots are placed or taken back in it.
    VoteRoundEnded {},

    ParticipantJoined {
        participant: ParticipantId,
        display_name: PersonalText,
        role: Role,
    },
    ParticipantRenamed {
        participant: ParticipantId,
        display_name: PersonalText,
    },
    RoleChanged {
        participant: ParticipantId,
        role: Role,
    },
    ParticipantErased {
        participant: ParticipantId,
    },
    /// A facilitator took the participant off the board; their dots in the current round went
    /// back (the cards' totals fell by them).
    ParticipantRemoved {
        participant: ParticipantId,
    },

    ColumnAdded {
        column: ColumnId,
        title: String,
    },
    ColumnRenamed {
        column: ColumnId,
        title: String,
    },
    ColumnMoved {
        column: ColumnId,
        to_index: u32,
    },
    ColumnArchived {
        column: ColumnId,
    },
    ColumnRestored {
        column: ColumnId,
    },

    /// A statement column with its first version, written by the actor.
    StatementAdded {
        column: ColumnId,
        title: String,
        text: PersonalText,
    },
    /// A proposal card: its title is the reason, its body the wording.
    WordingProposed {
        card: CardId,
        statement: ColumnId,
        text: PersonalText,
        reason: PersonalText,
        base_version: u32,
    },
    ProposalRebased {
        card: CardId,
        text: PersonalText,
        base_version: u32,
    },
    ProposalAdopted {
        card: CardId,
    },

    LabelCreated {
        label: LabelId,
        name: String,
        color: String,
    },
    CardLabelled {
        card: CardId,
        label: LabelId,
    },
    CardUnlabelled {
        card: CardId,
        label: LabelId,
    },

    CardAdded {
        card: CardId,
        column: ColumnId,
        title: PersonalText,
        body: PersonalText,
    },
    CardEdited {
        card: CardId,
        title: PersonalText,
        body: PersonalText,
    },
    CardMoved {
        card: CardId,
        column: ColumnId,
        to_index: u32,
    },
    CardStatusSet {
        card: CardId,
        status: CardStatus,
    },
    CardArchived {
        card: CardId,
    },
    CardRestored {
        card: CardId,
    },
    /// `group` is a new card holding `cards`; it takes the first card's place.
    CardsGrouped {
        group: CardId,
        column: ColumnId,
        heading: PersonalText,
        cards: Vec<CardId>,
    },
    CardAddedToGroup {
        group: CardId,
        card: CardId,
    },
    GroupDissolved {
        group: CardId,
    },

    /// `mentions`: the participants its text names with `@name`, found when it was written
    /// (version 2; version 1 had none).
    CommentAdded {
        comment: CommentId,
        card: CardId,
        reply_to: Option<CommentId>,
        body: PersonalText,
        mentions: Vec<ParticipantId>,
    },
    CommentEdited {
        comment: CommentId,
        body: PersonalText,
        mentions: Vec<ParticipantId>,
    },
    CommentDeleted {
        comment: CommentId,
    },

    VoteCast {
        card: CardId,
    },
    VoteWithdrawn {
        card: CardId,
    },
    ReactionAdded {
        target: ReactionTarget,
    },
    ReactionRemoved {
        target: ReactionTarget,
    },

    /// The actor follows a card (or stops following it).
    CardFollowed {
        card: CardId,
    },
    CardUnfollowed {
        card: CardId,
    },
    /// The actor has seen the board up to `through`.
    SeenThrough {
        through: u64,
    },
    /// The actor has read their notifications up to `through`.
    NotificationsRead {
        through: u64,
    },
}

impl Event {
    /// The event's type name, as stored in the envelope.
    pub fn type_name(&self) -> &'static str {
        self.into()
    }

    /// The current schema version of the event's payload. Stored events of older versions are
    /// upcast to this one on read.
    pub fn version(&self) -> u32 {
        match self {
            // Version 1 had no language; boards were Finnish. See `codec::upcast`.
            Event::BoardCreated { .. } => 2,
            // Version 1 had no mentions. See `codec::upcast`.
            Event::CommentAdded { .. } | Event::CommentEdited { .. } => 2,
            _ => 1,
        }
    }
}

/// An event as it happened: where it sits in the board's history, when, and who did it.
/// `evolve` reads facts; the actor is the one whose key seals the event's personal content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: ParticipantId,
    pub event: Event,
}
