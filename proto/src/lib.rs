//! The wire format of Kipinä: every type a browser or another program sends or receives.
//!
//! This crate is the only place that decides how things look on the wire. The server's domain
//! core takes [`Command`]s from here and keeps its own event types private; the web client gets
//! these types as generated TypeScript. Nothing in here holds a rule: limits, permissions and
//! budgets live in the server's domain core.

pub mod activity;
pub mod api;
pub mod command;
pub mod error;
pub mod ids;
pub mod message;
pub mod mirror;
pub mod search;
pub mod values;
pub mod view;

pub use command::Command;
pub use error::ErrorCode;
pub use ids::{BoardId, CardId, ColumnId, CommandId, CommentId, EventId, LabelId, ParticipantId, SessionId};
pub use message::{AckOutcome, CardPlace, CardsInserted, Change, ClientMessage, ServerMessage};
pub use values::{
    Action, BoardOptions, BoardSettings, BoardTemplate, CardStatus, Gate, Gates, Language, Permissions, Phase,
    ReactionTarget, Role, Timestamp,
};
