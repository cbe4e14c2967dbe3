//! Every error code the server answers with, over HTTP (`ErrorBody`) and WebSocket (`error`).
//!
//! One enum, so a code is written once: the domain names its refusals with it, the routes map
//! each to its HTTP status with an exhaustive match, `docs/protocol.md` is checked against
//! [`ErrorCode::ALL`], and the web client gets it as a TypeScript union that types its
//! translations. On the wire a code is its snake_case name (`stale_version`).

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// A stable, machine-readable error code; `docs/protocol.md` says when each is answered.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of their declaration.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it is written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // The request or message itself.
    /// Not JSON, not a known shape, a bad query, or a text frame that is not UTF-8.
    Malformed = "malformed",
    /// A WebSocket message whose `type` the server does not know.
    UnknownMessage = "unknown_message",
    /// A request body or WebSocket message over its limit.
    TooLarge = "too_large",
    /// A WebSocket command before `subscribe`.
    NotSubscribed = "not_subscribed",
    /// A second `subscribe` on one WebSocket.
    AlreadySubscribed = "already_subscribed",

    // Who is asking.
    /// No token, a wrong one, another board's, or an erased participant's.
    Unauthorized = "unauthorized",
    /// The role may not do this.
    Forbidden = "forbidden",
    /// Only the author may do this.
    NotAuthor = "not_author",
    /// The observer link only reads.
    ReadOnly = "read_only",
    /// A WebSocket upgrade from a foreign `Origin`.
    ForbiddenOrigin = "forbidden_origin",
    /// The participant was erased.
    ParticipantErased = "participant_erased",
    /// A facilitator removed the participant from the board.
    ParticipantRemoved = "participant_removed",
    /// The board must keep a facilitator.
    LastFacilitator = "last_facilitator",

    // What is asked about.
    /// No such board.
    BoardNotFound = "board_not_found",
    /// A thing on the board, a link or a code that does not exist.
    NotFound = "not_found",
    /// The person has not joined the board.
    NotJoined = "not_joined",
    /// The person has already joined the board.
    AlreadyJoined = "already_joined",
    /// A thing with this id already exists.
    AlreadyExists = "already_exists",
    /// An imported log of a board already on this server.
    BoardExists = "board_exists",
    /// The thing is archived.
    Archived = "archived",
    /// The thing is not archived.
    NotArchived = "not_archived",
    /// The comment was deleted.
    CommentDeleted = "comment_deleted",

    // The text or values of a command.
    /// A text that may not be blank is.
    TextEmpty = "text_empty",
    /// A text is longer than its limit.
    TextTooLong = "text_too_long",
    /// A text holds control characters.
    TextControlCharacters = "text_control_characters",
    /// The board holds the most cards, columns, … it may.
    LimitReached = "limit_reached",
    /// A position outside the list.
    InvalidPosition = "invalid_position",
    /// Board settings that do not hold together.
    InvalidSettings = "invalid_settings",
    /// A label colour that is not one of the palette's.
    InvalidColor = "invalid_color",
    /// A reply to a comment of another card.
    InvalidReply = "invalid_reply",
    /// A session date that is not a calendar date.
    InvalidDate = "invalid_date",
    /// A timer length out of range.
    InvalidTimer = "invalid_timer",
    /// A group that cannot be formed.
    InvalidGroup = "invalid_group",
    /// A Trello export whose plan the domain refused.
    InvalidImport = "invalid_import",

    // The board's state.
    /// The command was based on an older version.
    StaleVersion = "stale_version",
    /// The session's phase does not allow this.
    PhaseForbids = "phase_forbids",
    /// A facilitator locked the board.
    BoardLocked = "board_locked",
    /// Another session is running.
    SessionRunning = "session_running",
    /// No session is running.
    SessionNotRunning = "session_not_running",
    /// The session has not started.
    SessionNotStarted = "session_not_started",
    /// The session has already started.
    SessionStarted = "session_started",
    /// No timer is running.
    NoTimer = "no_timer",
    /// All of the round's dots are used.
    VoteBudgetExhausted = "vote_budget_exhausted",
    /// The card holds the most dots one person may give it.
    VoteCapReached = "vote_cap_reached",
    /// No dot of this person's on the card.
    NoVoteToWithdraw = "no_vote_to_withdraw",
    /// The round's votes are not hidden.
    VotesNotHidden = "votes_not_hidden",
    /// The vote round ended with its session.
    VoteRoundEnded = "vote_round_ended",
    /// The card is in a group: vote on the group.
    CardInGroup = "card_in_group",
    /// It has votes in the current round.
    HasVotes = "has_votes",
    /// A statement's column holds only proposals.
    StatementColumn = "statement_column",
    /// Not a statement.
    NotAStatement = "not_a_statement",
    /// Not a proposal.
    NotAProposal = "not_a_proposal",
    /// The proposal was already adopted.
    ProposalAdopted = "proposal_adopted",
    /// The proposal is based on an older version of the statement.
    ProposalOutdated = "proposal_outdated",
    /// The proposed wording is the current one.
    SameWording = "same_wording",

    // The server.
    /// A command id this participant used for other content, or another participant's.
    IdempotencyConflict = "idempotency_conflict",
    /// The board kept changing while the command was decided; send it again.
    Contended = "contended",
    /// Too many commands from one participant, or too many join code guesses.
    RateLimited = "rate_limited",
    /// The store or the access records cannot be used right now.
    Unavailable = "unavailable",
    /// The board's stored records are damaged: it is not served until restored.
    BoardDamaged = "board_damaged",
    /// The server is stopping: nothing was changed.
    ShuttingDown = "shutting_down",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::BTreeSet;

    #[test]
    fn each_code_is_written_on_the_wire_as_its_name() {
        for &code in ErrorCode::ALL {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&format!("\"{code}\"")).unwrap(), code);
        }
    }

    #[test]
    fn codes_are_distinct_snake_case_words() {
        let names: BTreeSet<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for name in names {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
        }
    }
}
