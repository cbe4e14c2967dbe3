//! Commands: what a person asks the board to do. A command is a wish, not a fact; the server's
//! domain core checks it against the board's rules and either records events or answers with an
//! error. Ids of new things are made by the sender, so a retried command creates nothing twice.
//! Edits of text name the version they were based on (`base_version`), so an edit made on a
//! stale copy is answered with a conflict instead of overwriting someone else's words.

use crate::ids::{CardId, ColumnId, CommentId, LabelId, ParticipantId, SessionId};
use crate::values::{BoardOptions, BoardSettings, CardStatus, Language, Phase, ReactionTarget, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Everything a participant can ask a board to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Command {
    // Board
    /// Creates the board; the sender becomes its first facilitator under `facilitator_name`.
    CreateBoard { title: String, description: String, language: Language, facilitator_name: String },
    /// Changes the board's title and description.
    EditBoard { title: String, description: String, base_version: u32 },
    /// Changes the board's language.
    SetBoardLanguage { language: Language },
    /// Changes the current vote round's budget and per-card cap.
    ChangeSettings { settings: BoardSettings },
    /// Makes the board anonymous or not, and lets participants group cards or not.
    SetBoardOptions { options: BoardOptions },
    /// Freezes the board (read-only for everyone but facilitators) or unfreezes it.
    SetLocked { locked: bool },

    // Sessions, phases and the timer
    /// Plans a session (a workshop or camp). `date` is a calendar date, `YYYY-MM-DD`. In an
    /// anonymous session, cards and comments written while it runs carry no author.
    CreateSession { session: SessionId, name: String, date: String, anonymous: bool },
    /// Starts a session: it opens in the ideate phase. One session runs at a time.
    StartSession { session: SessionId },
    /// Moves the running session to another phase, forward or back; `closed` ends it. A closed
    /// session can be reopened (to `results`, say) when no other session runs.
    SetPhase { session: SessionId, phase: Phase },
    /// Starts a countdown of `seconds` for the current phase (replacing any running one).
    StartTimer { seconds: u32 },
    /// Adds `seconds` to the running countdown.
    ExtendTimer { seconds: u32 },
    /// Stops the countdown.
    StopTimer,

    // Vote rounds
    /// Starts a new vote round with fresh budgets; the current round's results are kept.
    /// With `hidden`, each participant sees only their own dots until `reveal_votes`.
    StartVoteRound { settings: BoardSettings, hidden: bool },
    /// Shows everyone the hidden votes of the current round.
    RevealVotes,

    // Participants
    /// Joins the board. The role comes from the link the person used, checked by the server.
    Join { display_name: String, role: Role },
    /// Changes the sender's own display name.
    Rename { display_name: String },
    /// Gives another participant a new role.
    ChangeRole { participant: ParticipantId, role: Role },
    /// Makes a participant's name and words unreadable for good (GDPR art. 17).
    EraseParticipant { participant: ParticipantId },
    /// Facilitators: takes someone off the board (a duplicate made by joining twice, someone who
    /// left): they can no longer act or read the board, and their dots in the current round are
    /// released. Unlike erasure, their name and words stay readable.
    RemoveParticipant { participant: ParticipantId },

    // Columns
    /// Adds a column at the end.
    AddColumn { column: ColumnId, title: String },
    /// Renames a column.
    RenameColumn { column: ColumnId, title: String, base_version: u32 },
    /// Moves a column to another place among the active columns (0 is first).
    MoveColumn { column: ColumnId, to_index: u32 },
    /// Hides a column and its cards from the board; nothing is deleted.
    ArchiveColumn { column: ColumnId },
    /// Brings an archived column back at the end.
    RestoreColumn { column: ColumnId },

    // Statements: a vision, a mission, a service promise drafted together
    /// Adds a statement (a column of its own, holding the current wording and its history, with
    /// proposals as its cards). `text` is its first version and may be empty.
    AddStatement { column: ColumnId, title: String, text: String },
    /// Proposes a new wording of a statement, based on its version `base_version` (which must be
    /// the current one), with a short reason. A proposal is a card: it is commented on and voted
    /// like any other.
    ProposeWording { card: CardId, statement: ColumnId, text: String, reason: String, base_version: u32 },
    /// Brings a proposal made on an older version up to date: a new wording based on the
    /// statement's current version. By its author or a facilitator.
    RebaseProposal { card: CardId, text: String, base_version: u32 },
    /// Makes a proposal the statement's next version. Facilitators only; the proposal must be
    /// based on the current version.
    AdoptProposal { card: CardId },

    // Labels
    /// Defines a label; `color` is a name such as "green" (Trello's palette).
    CreateLabel { label: LabelId, name: String, color: String },
    /// Puts a label on a card or takes it off.
    SetCardLabel { card: CardId, label: LabelId, on: bool },

    // Cards
    /// Adds a card at the end of a column.
    AddCard { card: CardId, column: ColumnId, title: String, body: String },
    /// Changes a card's title and body.
    EditCard { card: CardId, title: String, body: String, base_version: u32 },
    /// Moves a card to a column and a place in it (0 is top).
    MoveCard { card: CardId, column: ColumnId, to_index: u32 },
    /// Sets a card's status in the idea funnel.
    SetCardStatus { card: CardId, status: CardStatus },
    /// Hides a card; nothing is deleted.
    ArchiveCard { card: CardId },
    /// Brings an archived card back at the end of its column.
    RestoreCard { card: CardId },

    // Groups
    /// Groups cards under a heading, as with sticky notes on a wall. The group (`group`, a new
    /// card id) takes the place of the first card; a group is voted on as one item.
    GroupCards { group: CardId, heading: String, cards: Vec<CardId> },
    /// Puts one more card into a group.
    AddToGroup { group: CardId, card: CardId },
    /// Dissolves a group: its cards come back to its column where the group was.
    Ungroup { group: CardId },

    // Comments
    /// Comments on a card, or replies to a top-level comment (`reply_to`).
    AddComment { comment: CommentId, card: CardId, reply_to: Option<CommentId>, body: String },
    /// Changes the text of the sender's own comment.
    EditComment { comment: CommentId, body: String, base_version: u32 },
    /// Deletes a comment, leaving a tombstone so the thread stays readable.
    DeleteComment { comment: CommentId },

    // Votes and reactions
    /// Places one dot on a card.
    CastVote { card: CardId },
    /// Takes one of the sender's dots back from a card.
    WithdrawVote { card: CardId },
    /// Likes a card or a comment, or takes the like back.
    ToggleReaction { target: ReactionTarget },

    // Keeping up between camps: personal, allowed to anyone who has joined, in any phase.
    /// Follows a card (`follow: true`) or stops following it. Followers are notified of its new
    /// comments, edits, status changes and adoption. Adding a card or commenting on it follows it.
    FollowCard { card: CardId, follow: bool },
    /// Everything up to sequence number `through` has been seen (on any device): it is no longer
    /// highlighted as new. Moves only forward.
    MarkSeen { through: u64 },
    /// Notifications up to sequence number `through` have been read. Moves only forward.
    MarkNotificationsRead { through: u64 },
}

impl Command {
    /// The command's type name as it appears on the wire, e.g. `add_card`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateBoard { .. } => "create_board",
            Command::EditBoard { .. } => "edit_board",
            Command::SetBoardLanguage { .. } => "set_board_language",
            Command::ChangeSettings { .. } => "change_settings",
            Command::SetBoardOptions { .. } => "set_board_options",
            Command::SetLocked { .. } => "set_locked",
            Command::CreateSession { .. } => "create_session",
            Command::StartSession { .. } => "start_session",
            Command::SetPhase { .. } => "set_phase",
            Command::StartTimer { .. } => "start_timer",
            Command::ExtendTimer { .. } => "extend_timer",
            Command::StopTimer => "stop_timer",
            Command::StartVoteRound { .. } => "start_vote_round",
            Command::RevealVotes => "reveal_votes",
            Command::Join { .. } => "join",
            Command::Rename { .. } => "rename",
            Command::ChangeRole { .. } => "change_role",
            Command::EraseParticipant { .. } => "erase_participant",
            Command::RemoveParticipant { .. } => "remove_participant",
            Command::AddColumn { .. } => "add_column",
            Command::RenameColumn { .. } => "rename_column",
            Command::MoveColumn { .. } => "move_column",
            Command::ArchiveColumn { .. } => "archive_column",
            Command::RestoreColumn { .. } => "restore_column",
            Command::AddStatement { .. } => "add_statement",
            Command::ProposeWording { .. } => "propose_wording",
            Command::RebaseProposal { .. } => "rebase_proposal",
            Command::AdoptProposal { .. } => "adopt_proposal",
            Command::CreateLabel { .. } => "create_label",
            Command::SetCardLabel { .. } => "set_card_label",
            Command::AddCard { .. } => "add_card",
            Command::EditCard { .. } => "edit_card",
            Command::MoveCard { .. } => "move_card",
            Command::SetCardStatus { .. } => "set_card_status",
            Command::ArchiveCard { .. } => "archive_card",
            Command::RestoreCard { .. } => "restore_card",
            Command::GroupCards { .. } => "group_cards",
            Command::AddToGroup { .. } => "add_to_group",
            Command::Ungroup { .. } => "ungroup",
            Command::AddComment { .. } => "add_comment",
            Command::EditComment { .. } => "edit_comment",
            Command::DeleteComment { .. } => "delete_comment",
            Command::CastVote { .. } => "cast_vote",
            Command::WithdrawVote { .. } => "withdraw_vote",
            Command::ToggleReaction { .. } => "toggle_reaction",
            Command::FollowCard { .. } => "follow_card",
            Command::MarkSeen { .. } => "mark_seen",
            Command::MarkNotificationsRead { .. } => "mark_notifications_read",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_tagged_by_their_snake_case_name() {
        let command = Command::CastVote { card: CardId(uuid::Uuid::nil()) };
        let json = serde_json::to_value(&command).unwrap(); // unwrap: a plain enum always serialises
        assert_eq!(json["type"], command.name());
        let back: Command = serde_json::from_value(json).unwrap(); // unwrap: it was just written
        assert_eq!(back, command);
    }
}
