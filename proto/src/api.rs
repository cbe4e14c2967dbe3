//! HTTP request and response bodies (JSON). See `docs/protocol.md` for the routes.

use crate::command::Command;
use crate::error::ErrorCode;
use crate::ids::{BoardId, CommandId, ParticipantId};
use crate::message::AckOutcome;
use crate::values::{BoardTemplate, Language, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `POST /api/boards`: a facilitator creates a board and joins it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CreateBoardRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub language: Language,
    pub facilitator_name: String,
    /// The columns the board starts with.
    #[serde(default)]
    pub template: BoardTemplate,
}

/// The links of a board: whole URLs on this server, for a facilitator to share (or show as a QR code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BoardLinks {
    /// Joins as a facilitator (for co-facilitators).
    pub facilitator: String,
    /// Joins as a participant.
    pub participant: String,
    /// Reads the board without joining.
    pub observer: String,
    /// A short code for typing on a phone; exchanged for a participant token.
    pub join_code: String,
}

/// The answer to creating a board or joining one: who you are and the token that says so.
/// The client keeps the token (it is shown once and stored only as a hash on the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Session {
    pub board: BoardId,
    pub participant: ParticipantId,
    pub role: Role,
    pub token: String,
}

/// `POST /api/boards` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CreateBoardResponse {
    pub session: Session,
    pub links: BoardLinks,
}

/// `POST /api/join`: exchanges an invitation (a link's secret or a join code) and a display
/// name for a participant token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct JoinRequest {
    pub invitation: String,
    pub display_name: String,
    /// Participant tokens this browser already holds (for any board; at most
    /// [`JoinRequest::MAX_KNOWN_TOKENS`] are looked at). When one belongs to the invited board and
    /// its participant can still act there, the answer is that same session (same id, same
    /// token) and `display_name` is not used: the same browser stays the same participant
    /// whichever way it comes back, so its dots, cards and notifications stay its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<String>>")]
    pub known_tokens: Vec<String>,
}

impl JoinRequest {
    pub const MAX_KNOWN_TOKENS: usize = 64;
}

/// `GET /api/invitations/{secret}`: what a link leads to, before joining.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct InvitationInfo {
    pub board: BoardId,
    pub title: String,
    pub role: Role,
}

/// `POST /api/boards/{id}/commands` (with `Authorization: Bearer <token>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommandRequest {
    pub command_id: CommandId,
    pub command: Command,
}

/// The answer to a command sent over HTTP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CommandResponse {
    pub command_id: CommandId,
    pub outcome: AckOutcome,
}

/// Every error answer, over HTTP and (as `ServerMessage::Error`) over WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ErrorBody {
    /// Stable and machine-readable, e.g. `stale_version`.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}
