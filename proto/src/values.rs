//! Small value types shared by commands and views.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Milliseconds since the Unix epoch, UTC. Time always comes from the server's clock and is
/// handed to the domain with each command; the domain never reads a clock itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }
}

/// What a participant may do on a board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the workshop: manages columns, settings, statuses and people.
    Facilitator,
    /// Adds cards, comments, votes and reacts.
    Participant,
    /// Reads only.
    Observer,
}

/// The language a board is written in and its exports are made in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Suomi, the default.
    #[default]
    Fi,
    /// Svenska.
    Sv,
    /// English.
    En,
}

/// Where an idea card stands, in the words of an idea funnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// Uusi: just added.
    #[default]
    New,
    /// Tarkastelussa: being screened.
    UnderReview,
    /// Valittu valmisteluun: selected for preparation.
    Selected,
    /// Työn alla: being worked on.
    InProgress,
    /// Toteutettu: done.
    Done,
    /// Ei jatkoon: declined.
    Declined,
}

/// Settings a facilitator changes for the whole board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardSettings {
    /// Dots each participant may place in total.
    pub vote_budget: u32,
    /// Dots one participant may place on a single card.
    pub votes_per_card: u32,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self { vote_budget: 5, votes_per_card: 3 }
    }
}

/// What a reaction (an unbudgeted like) is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ReactionTarget {
    /// A card.
    Card(crate::CardId),
    /// A comment or reply.
    Comment(crate::CommentId),
}

/// What a new board starts with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BoardTemplate {
    /// No columns.
    #[default]
    Empty,
    /// The seven Leader principles (kulmakivet).
    LeaderPrinciples,
    /// Strengths, what we can offer, experiences and wishes.
    StrengthsOfferWishes,
    /// An idea funnel: ideas, screening, selected for preparation, funding decision, follow-up.
    IdeaFunnel,
}

/// What a participant's role allows, as the server's domain decides it. Clients use it only to
/// show or hide controls; the server checks every command itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Permissions {
    /// Add cards and comments, vote, react, and change one's own cards and comments.
    pub contribute: bool,
    /// Edit, move, label and archive anyone's cards.
    pub change_any_card: bool,
    /// Run the board: columns, labels, statuses, settings, roles.
    pub facilitate: bool,
}

/// Choices a facilitator makes for the whole board, beyond voting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardOptions {
    /// Authors of cards and comments are sent to no browser, the facilitator's included, and
    /// exports leave them out.
    pub anonymous: bool,
    /// Participants may group cards too (facilitators always may).
    pub participants_may_group: bool,
}

/// The phases of a session, in order. A session that is not running has no phase yet
/// (`None`) or is `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Ideointi: everyone adds cards.
    Ideate,
    /// Keskustelu: comments and reactions; no new cards.
    Discuss,
    /// Äänestys: dots only.
    Vote,
    /// Tulokset: results are shown; comments and reactions.
    Results,
    /// Päättynyt: the session is over; the board is open for work between sessions again.
    Closed,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [Phase::Ideate, Phase::Discuss, Phase::Vote, Phase::Results, Phase::Closed];
}

/// The things a board's phase and lock allow or forbid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Add cards, and edit, move or archive one's own.
    AddCard,
    /// Comment and reply, and edit or delete one's own comments.
    Comment,
    /// Like cards and comments.
    React,
    /// Place and take back dots.
    Vote,
    /// Group cards under a heading and ungroup them.
    Group,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [Action::AddCard, Action::Comment, Action::React, Action::Vote, Action::Group];
}

/// Whether a role may do an action right now: `None` when it may, otherwise the error code the
/// server would answer with (`phase_forbids`, `board_locked`, `forbidden`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Gate {
    pub facilitator: Option<ErrorCode>,
    pub participant: Option<ErrorCode>,
}

/// What the board's current phase and lock allow, per action. Computed by the server's rules,
/// sent so a client can disable a button and say why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Gates {
    pub add_card: Gate,
    pub comment: Gate,
    pub react: Gate,
    pub vote: Gate,
    pub group: Gate,
}
