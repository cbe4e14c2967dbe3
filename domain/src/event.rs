//! Events: facts in the past tense, the only thing the board's history is made of.
//!
//! Each variant has a stable type name (its serde tag) and a schema version. Changing a payload
//! means bumping the version and adding an upcaster in `crate::codec::upcast`, never editing
//! what old events mean. Personal content is held in [`PersonalText`] fields only, and a
//! participant's display name appears only in that participant's own events.

use super::personal::PersonalText;
use kipina_proto::{
    BoardOptions, BoardSettings, CardId, CardStatus, ColumnId, CommentId, LabelId, Language, ParticipantId, Phase,
    ReactionTarget, Role, SessionId, Timestamp,
};
use serde::{Deserialize, Serialize};

/// Everything that can happen on a board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
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
        match self {
            Event::BoardCreated { .. } => "board_created",
            Event::BoardEdited { .. } => "board_edited",
            Event::BoardLanguageSet { .. } => "board_language_set",
            Event::SettingsChanged { .. } => "settings_changed",
            Event::OptionsSet { .. } => "options_set",
            Event::LockSet { .. } => "lock_set",
            Event::SessionCreated { .. } => "session_created",
            Event::PhaseSet { .. } => "phase_set",
            Event::TimerSet { .. } => "timer_set",
            Event::VoteRoundStarted { .. } => "vote_round_started",
            Event::VotesRevealed {} => "votes_revealed",
            Event::VoteRoundEnded {} => "vote_round_ended",
            Event::ParticipantJoined { .. } => "participant_joined",
            Event::ParticipantRenamed { .. } => "participant_renamed",
            Event::RoleChanged { .. } => "role_changed",
            Event::ParticipantErased { .. } => "participant_erased",
            Event::ParticipantRemoved { .. } => "participant_removed",
            Event::ColumnAdded { .. } => "column_added",
            Event::ColumnRenamed { .. } => "column_renamed",
            Event::ColumnMoved { .. } => "column_moved",
            Event::ColumnArchived { .. } => "column_archived",
            Event::ColumnRestored { .. } => "column_restored",
            Event::StatementAdded { .. } => "statement_added",
            Event::WordingProposed { .. } => "wording_proposed",
            Event::ProposalRebased { .. } => "proposal_rebased",
            Event::ProposalAdopted { .. } => "proposal_adopted",
            Event::LabelCreated { .. } => "label_created",
            Event::CardLabelled { .. } => "card_labelled",
            Event::CardUnlabelled { .. } => "card_unlabelled",
            Event::CardAdded { .. } => "card_added",
            Event::CardEdited { .. } => "card_edited",
            Event::CardMoved { .. } => "card_moved",
            Event::CardStatusSet { .. } => "card_status_set",
            Event::CardArchived { .. } => "card_archived",
            Event::CardRestored { .. } => "card_restored",
            Event::CardsGrouped { .. } => "cards_grouped",
            Event::CardAddedToGroup { .. } => "card_added_to_group",
            Event::GroupDissolved { .. } => "group_dissolved",
            Event::CommentAdded { .. } => "comment_added",
            Event::CommentEdited { .. } => "comment_edited",
            Event::CommentDeleted { .. } => "comment_deleted",
            Event::VoteCast { .. } => "vote_cast",
            Event::VoteWithdrawn { .. } => "vote_withdrawn",
            Event::ReactionAdded { .. } => "reaction_added",
            Event::ReactionRemoved { .. } => "reaction_removed",
            Event::CardFollowed { .. } => "card_followed",
            Event::CardUnfollowed { .. } => "card_unfollowed",
            Event::SeenThrough { .. } => "seen_through",
            Event::NotificationsRead { .. } => "notifications_read",
        }
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
