//! Why a command was refused. Each variant has a stable code (for clients and tests) and a
//! message a person can read; the API layer maps codes to HTTP statuses and WebSocket errors.

use kipina_proto::ErrorCode;
use kipina_proto::{Action, Phase, Role};

/// The kinds of thing a command can refer to, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Board,
    Participant,
    Column,
    Label,
    Card,
    Comment,
    Session,
    Statement,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Board => "board",
            Kind::Participant => "participant",
            Kind::Column => "column",
            Kind::Label => "label",
            Kind::Card => "card",
            Kind::Comment => "comment",
            Kind::Session => "session",
            Kind::Statement => "statement",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A refused command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the board does not exist")]
    BoardNotFound,
    #[error("the board already exists")]
    BoardExists,
    #[error("you have not joined this board")]
    NotJoined,
    #[error("you have already joined this board")]
    AlreadyJoined,
    #[error("this participant's data has been erased")]
    ParticipantErased,
    #[error("a facilitator has removed you from this board")]
    ParticipantRemoved,
    #[error("a {role:?} may not {action}")]
    Forbidden { action: &'static str, role: Role },
    #[error("only the author may {action}")]
    NotAuthor { action: &'static str },
    #[error("no {kind} with id {id}")]
    NotFound { kind: Kind, id: String },
    #[error("a {kind} with id {id} already exists")]
    AlreadyExists { kind: Kind, id: String },
    #[error("the {kind} is archived")]
    Archived { kind: Kind },
    #[error("the {kind} is not archived")]
    NotArchived { kind: Kind },
    #[error("the comment was deleted")]
    CommentDeleted,
    #[error(
        "someone changed this {kind} first: your edit was based on version {expected}, it is now at version {actual}"
    )]
    StaleVersion { kind: Kind, expected: u32, actual: u32 },
    #[error("{field} must not be empty")]
    TextEmpty { field: &'static str },
    #[error("{field} is too long: {actual} characters, at most {max}")]
    TextTooLong { field: &'static str, max: usize, actual: usize },
    #[error("{field} may not contain control characters")]
    TextControlCharacters { field: &'static str },
    #[error("the board already has the most {what} it may hold ({max})")]
    LimitReached { what: &'static str, max: usize },
    #[error("position {index} is past the end (at most {max})")]
    InvalidPosition { index: u32, max: u32 },
    #[error("all {budget} of your dots are used")]
    VoteBudgetExhausted { budget: u32 },
    #[error("you already have {cap} dots on this card, the most one card may get from one person")]
    VoteCapReached { cap: u32 },
    #[error("you have no dot on this card to take back")]
    NoVoteToWithdraw,
    #[error("a reply must answer a top-level comment on the same card")]
    InvalidReply,
    #[error("the board must keep at least one facilitator")]
    LastFacilitator,
    #[error("invalid settings: {0}")]
    InvalidSettings(&'static str),
    #[error("unknown label colour {0:?}")]
    InvalidColor(String),
    #[error("the {phase:?} phase does not allow this ({action:?})")]
    PhaseForbids { action: Action, phase: Phase },
    #[error("the facilitator has frozen the board; it is read-only for now")]
    BoardLocked,
    #[error("another session is running; close it first")]
    SessionRunning,
    #[error("no session is running")]
    SessionNotRunning,
    #[error("the session has not been started")]
    SessionNotStarted,
    #[error("the session has already been started")]
    SessionStarted,
    #[error("the date must be a calendar date like 2026-11-23")]
    InvalidDate,
    #[error("a timer must run between 1 second and {max} seconds")]
    InvalidTimer { max: u32 },
    #[error("no timer is running")]
    NoTimer,
    #[error("the current vote round's votes are not hidden")]
    VotesNotHidden,
    #[error("the card is in a group; vote on the group")]
    CardInGroup,
    #[error("the vote round ended when its session was closed; a facilitator may start a new round")]
    VoteRoundEnded,
    #[error("dots have been placed on it in the current round; take them back or start a new round first")]
    HasVotes,
    #[error("invalid group: {0}")]
    InvalidGroup(&'static str),
    #[error("a statement holds proposals: propose a wording instead")]
    StatementColumn,
    #[error("that column is not a statement")]
    NotAStatement,
    #[error("that card is not a proposal")]
    NotAProposal,
    #[error("the proposal was already adopted as version {version}")]
    ProposalAdopted { version: u32 },
    #[error("the proposal is based on version {base} but the statement is at version {current}; rebase it first")]
    ProposalOutdated { base: u32, current: u32 },
    #[error("the proposal's wording is the same as the current one")]
    SameWording,
}

impl DomainError {
    /// A stable, machine-readable code for the error.
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::BoardNotFound => ErrorCode::BoardNotFound,
            DomainError::BoardExists => ErrorCode::BoardExists,
            DomainError::NotJoined => ErrorCode::NotJoined,
            DomainError::AlreadyJoined => ErrorCode::AlreadyJoined,
            DomainError::ParticipantErased => ErrorCode::ParticipantErased,
            DomainError::ParticipantRemoved => ErrorCode::ParticipantRemoved,
            DomainError::Forbidden { .. } => ErrorCode::Forbidden,
            DomainError::NotAuthor { .. } => ErrorCode::NotAuthor,
            DomainError::NotFound { .. } => ErrorCode::NotFound,
            DomainError::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            DomainError::Archived { .. } => ErrorCode::Archived,
            DomainError::NotArchived { .. } => ErrorCode::NotArchived,
            DomainError::CommentDeleted => ErrorCode::CommentDeleted,
            DomainError::StaleVersion { .. } => ErrorCode::StaleVersion,
            DomainError::TextEmpty { .. } => ErrorCode::TextEmpty,
            DomainError::TextTooLong { .. } => ErrorCode::TextTooLong,
            DomainError::TextControlCharacters { .. } => ErrorCode::TextControlCharacters,
            DomainError::LimitReached { .. } => ErrorCode::LimitReached,
            DomainError::InvalidPosition { .. } => ErrorCode::InvalidPosition,
            DomainError::VoteBudgetExhausted { .. } => ErrorCode::VoteBudgetExhausted,
            DomainError::VoteCapReached { .. } => ErrorCode::VoteCapReached,
            DomainError::NoVoteToWithdraw => ErrorCode::NoVoteToWithdraw,
            DomainError::InvalidReply => ErrorCode::InvalidReply,
            DomainError::LastFacilitator => ErrorCode::LastFacilitator,
            DomainError::InvalidSettings(_) => ErrorCode::InvalidSettings,
            DomainError::InvalidColor(_) => ErrorCode::InvalidColor,
            DomainError::PhaseForbids { .. } => ErrorCode::PhaseForbids,
            DomainError::BoardLocked => ErrorCode::BoardLocked,
            DomainError::SessionRunning => ErrorCode::SessionRunning,
            DomainError::SessionNotRunning => ErrorCode::SessionNotRunning,
            DomainError::SessionNotStarted => ErrorCode::SessionNotStarted,
            DomainError::SessionStarted => ErrorCode::SessionStarted,
            DomainError::InvalidDate => ErrorCode::InvalidDate,
            DomainError::InvalidTimer { .. } => ErrorCode::InvalidTimer,
            DomainError::NoTimer => ErrorCode::NoTimer,
            DomainError::VotesNotHidden => ErrorCode::VotesNotHidden,
            DomainError::CardInGroup => ErrorCode::CardInGroup,
            DomainError::VoteRoundEnded => ErrorCode::VoteRoundEnded,
            DomainError::HasVotes => ErrorCode::HasVotes,
            DomainError::InvalidGroup(_) => ErrorCode::InvalidGroup,
            DomainError::StatementColumn => ErrorCode::StatementColumn,
            DomainError::NotAStatement => ErrorCode::NotAStatement,
            DomainError::NotAProposal => ErrorCode::NotAProposal,
            DomainError::ProposalAdopted { .. } => ErrorCode::ProposalAdopted,
            DomainError::ProposalOutdated { .. } => ErrorCode::ProposalOutdated,
            DomainError::SameWording => ErrorCode::SameWording,
        }
    }
}
