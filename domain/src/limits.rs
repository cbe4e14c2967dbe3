//! The board's size limits: text lengths (in characters) and how many things a board may hold.
//! They keep one board small enough to live in memory and each stored event well under the
//! store's record limit, even when every character takes four bytes and is sealed.

pub const BOARD_TITLE: usize = 120;
pub const BOARD_DESCRIPTION: usize = 2_000;
pub const DISPLAY_NAME: usize = 60;
pub const COLUMN_TITLE: usize = 100;
pub const LABEL_NAME: usize = 40;
pub const CARD_TITLE: usize = 200;
pub const CARD_BODY: usize = 5_000;
pub const COMMENT_BODY: usize = 2_000;
pub const SESSION_NAME: usize = 120;
/// A statement's wording (a vision, a mission, a service promise).
pub const STATEMENT_TEXT: usize = 5_000;
/// The short reason given with a proposal.
pub const PROPOSAL_REASON: usize = 200;

pub const MAX_PARTICIPANTS: usize = 2_000;
pub const MAX_COLUMNS: usize = 50;
pub const MAX_LABELS: usize = 50;
pub const MAX_CARDS: usize = 10_000;
pub const MAX_COMMENTS_PER_CARD: usize = 500;
pub const MAX_SESSIONS: usize = 200;
/// The most cards one group may hold.
pub const MAX_GROUP: usize = 200;
/// The longest countdown a facilitator may start, in seconds (four hours).
pub const MAX_TIMER_SECONDS: u32 = 4 * 60 * 60;

/// The largest dot budget a facilitator may give each participant.
pub const MAX_VOTE_BUDGET: u32 = 100;

/// The label colours a board knows (Trello's palette, so imports keep their colours).
pub const LABEL_COLORS: &[&str] =
    &["green", "yellow", "orange", "red", "purple", "blue", "sky", "lime", "pink", "black", "gray"];
