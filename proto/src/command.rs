//! Commands: what a person asks the board to do. A command is a wish, not a fact; the server's
//! domain core checks it against the board's rules and either records events or answers with an
//! error. Ids of new things are made by the sender, so a retried command creates nothing twice.
//! Edits of text name the version they were based on (`base_version`), so an edit made on a
//! stale copy is answered with a conflict instead of overwriting someone else's words.

use crate::ids::{CardId, ColumnId, CommentId, LabelId, ParticipantId};
use crate::values::{BoardSettings, CardStatus, Language, ReactionTarget, Role};
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
    /// Changes vote budget and per-card cap.
    ChangeSettings { settings: BoardSettings },

    // Participants
    /// Joins the board. The role comes from the link the person used, checked by the server.
    Join { display_name: String, role: Role },
    /// Changes the sender's own display name.
    Rename { display_name: String },
    /// Gives another participant a new role.
    ChangeRole { participant: ParticipantId, role: Role },
    /// Makes a participant's name and words unreadable for good (GDPR art. 17).
    EraseParticipant { participant: ParticipantId },

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
}

impl Command {
    /// The command's type name as it appears on the wire, e.g. `add_card`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateBoard { .. } => "create_board",
            Command::EditBoard { .. } => "edit_board",
            Command::SetBoardLanguage { .. } => "set_board_language",
            Command::ChangeSettings { .. } => "change_settings",
            Command::Join { .. } => "join",
            Command::Rename { .. } => "rename",
            Command::ChangeRole { .. } => "change_role",
            Command::EraseParticipant { .. } => "erase_participant",
            Command::AddColumn { .. } => "add_column",
            Command::RenameColumn { .. } => "rename_column",
            Command::MoveColumn { .. } => "move_column",
            Command::ArchiveColumn { .. } => "archive_column",
            Command::RestoreColumn { .. } => "restore_column",
            Command::CreateLabel { .. } => "create_label",
            Command::SetCardLabel { .. } => "set_card_label",
            Command::AddCard { .. } => "add_card",
            Command::EditCard { .. } => "edit_card",
            Command::MoveCard { .. } => "move_card",
            Command::SetCardStatus { .. } => "set_card_status",
            Command::ArchiveCard { .. } => "archive_card",
            Command::RestoreCard { .. } => "restore_card",
            Command::AddComment { .. } => "add_comment",
            Command::EditComment { .. } => "edit_comment",
            Command::DeleteComment { .. } => "delete_comment",
            Command::CastVote { .. } => "cast_vote",
            Command::WithdrawVote { .. } => "withdraw_vote",
            Command::ToggleReaction { .. } => "toggle_reaction",
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
