//! WebSocket messages. A browser keeps one WebSocket per board (`/api/boards/{id}/ws`). It
//! first sends [`ClientMessage::Subscribe`] with its token and the last sequence number it has
//! seen; the server answers with [`ServerMessage::Welcome`] and either a [`ServerMessage::Snapshot`]
//! or a [`ServerMessage::Changed`] with exactly what was missed, then streams every change in
//! sequence order. See `docs/protocol.md` for the whole exchange and every error code.

use crate::command::Command;
use crate::error::ErrorCode;
use crate::ids::{BoardId, CardId, ColumnId, CommandId, ParticipantId};
use crate::values::{Role, Timestamp};
use crate::view::{
    BoardInfoView, BoardView, CardView, ColumnView, CommentView, LabelView, NotificationView, ParticipantView,
    RoundView, SessionView,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientMessage {
    /// Starts (or resumes) receiving the board. `token` is a participant token or an observer
    /// link's secret; `last_seq` is the last sequence number the client has applied, if any.
    Subscribe { token: String, last_seq: Option<u64> },
    /// Asks the board to do something. The id is made by the client; resending the same id
    /// (after a reconnect, say) never applies the command twice.
    Command { command_id: CommandId, command: Command },
    /// Keeps the connection alive through proxies; answered with `pong`.
    Ping,
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerMessage {
    /// The subscription is accepted. `you` is `None` for observers who have not joined.
    Welcome { board: BoardId, you: Option<ParticipantId>, role: Role, server_time: Timestamp },
    /// The whole board as of `board.seq`.
    Snapshot { board: Box<BoardView> },
    /// Events `first_seq..=last_seq` happened; `changes` are the new views of everything they
    /// touched. Every sequence number is covered by exactly one `changed` or a snapshot.
    Changed { first_seq: u64, last_seq: u64, changes: Vec<Change> },
    /// The command with this id was executed (or had been already).
    Ack { command_id: CommandId, outcome: AckOutcome },
    /// Something was refused or went wrong. `command_id` names the command when there was one.
    Error { command_id: Option<CommandId>, code: ErrorCode, message: String },
    /// Who is connected now (participants; observers are only counted).
    Presence { online: Vec<ParticipantId>, observers: u32 },
    /// The server could not keep this connection up to date (it fell too far behind) and will
    /// close it; reconnect and subscribe with the last sequence number seen.
    Resync { reason: String },
    /// The answer to `ping`.
    Pong,
}

/// What happened to an acknowledged command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum AckOutcome {
    /// Stored durably as events `first_seq..=last_seq`.
    Applied { first_seq: u64, last_seq: u64 },
    /// This command id was executed before; this is its first result and nothing new happened.
    Duplicate { first_seq: u64, last_seq: u64 },
    /// The command asked for what was already so; nothing was stored.
    Unchanged,
}

/// The new view of one thing an event touched, or its removal from view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[ts(export)]
pub enum Change {
    Board(BoardInfoView),
    Participant(ParticipantView),
    Column(ColumnView),
    /// The order of the active columns.
    ColumnOrder(Vec<ColumnId>),
    /// Cards put into a column's list (`ColumnView.cards`) when nothing else in that list
    /// changed: sent instead of the whole column, whose list may hold thousands of cards.
    CardsInserted(CardsInserted),
    Label(LabelView),
    Card(CardView),
    Comment(CommentView),
    Session(SessionView),
    Round(RoundView),
    /// A new notification for the viewer (sent to them only).
    Notification(NotificationView),
}

/// New cards in a column's list. To apply: take `cards` out of the column's list wherever they
/// are, then insert each at its `index`, in the order given (indices ascend). The result is the
/// column's list as of the `changed`'s `last_seq`, also when part of the range was applied before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CardsInserted {
    pub column: ColumnId,
    pub cards: Vec<CardPlace>,
}

/// Where a card now is in its column's list (0 is the top).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CardPlace {
    pub index: u32,
    pub card: CardId,
}

impl CardsInserted {
    /// Applies the insertion to a column's list of cards (see the type's docs).
    pub fn apply(&self, list: &mut Vec<CardId>) {
        list.retain(|card| !self.cards.iter().any(|place| place.card == *card));
        for place in &self.cards {
            let index = usize::try_from(place.index).unwrap_or(usize::MAX).min(list.len());
            list.insert(index, place.card);
        }
    }
}
