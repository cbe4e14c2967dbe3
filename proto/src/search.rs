//! Search over one board: `GET /api/boards/{board}/search?q=…&limit=…` (see `docs/protocol.md`).
//!
//! Matched text comes back as plain spans, each marked highlighted or not, so a client renders
//! text (a `<mark>` around the highlighted spans) and never HTML made by the server.

use crate::ids::{CardId, ColumnId, CommentId, ParticipantId};
use crate::values::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The answer to a search: the best matches first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SearchResults {
    /// The words searched for, as the server compares them: lower case, without accents.
    pub words: Vec<String>,
    /// The board's sequence number the results describe.
    pub seq: u64,
    /// How many things matched every word; `hits` holds the best of them, at most `limit`.
    pub total: u32,
    pub hits: Vec<SearchHit>,
}

/// One card, comment or statement that matched every word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SearchHit {
    pub target: SearchTarget,
    /// Where the best match was.
    pub field: SearchField,
    /// The heading to show: the card's title (for a comment, its card's title), a statement's
    /// name, a proposal's wording. Empty when that text was erased.
    pub title: Vec<TextSpan>,
    /// The rest of the matched thing around its first match: a card's body, the comment, a
    /// statement's current wording, a proposal's reason. Long texts are cut to a window
    /// (the cuts shown as `…`); empty when there is nothing more to show.
    pub snippet: Vec<TextSpan>,
    /// The column the thing is in (a statement is a column).
    pub column: ColumnId,
    /// Who wrote it, unless it is anonymous (then only its author is told it is theirs).
    pub author: Option<ParticipantId>,
    pub anonymous: bool,
    /// The card (or the comment's card, or the column) is archived.
    pub archived: bool,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What a hit is, with the ids a client needs to open it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SearchTarget {
    /// A card; `group` is the group it is in, if any.
    Card { card: CardId, group: Option<CardId> },
    /// A proposed wording of a statement (a card in the statement's column).
    Proposal { card: CardId, statement: ColumnId },
    /// A comment (or reply) on a card.
    Comment { comment: CommentId, card: CardId },
    /// A statement's current wording.
    Statement { statement: ColumnId, version: u32 },
}

/// The kinds of text searched, from the weightiest match to the lightest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// A card's title or a statement's name.
    Title,
    /// A statement's wording, or the wording a proposal suggests.
    Statement,
    /// A card's body, or a proposal's reason.
    Body,
    Comment,
}

/// A piece of text, highlighted where it matched a searched word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TextSpan {
    pub text: String,
    pub highlight: bool,
}
