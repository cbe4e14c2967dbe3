//! What one viewer may be told of a record, judged against the board as it is now (the same
//! rules as the views, so the feed never tells what the board would not show):
//!
//! - **Anonymity.** An item about an anonymous card or comment (a proposal is a card) does not
//!   name its actor when the actor is that card's or comment's author — to anyone but the author.
//!   Someone else acting on it (a facilitator moving an anonymous card) is named: that tells
//!   nothing about who wrote it. Anonymity is the board's *current* one, as in the views: a
//!   board made anonymous later hides its earlier authors in the feed too.
//! - **Dots.** A dot placed in a round whose dots are hidden is never listed to anyone but its
//!   voter — not before the reveal, and not after it either: the reveal item stands for them,
//!   and the totals are on the cards. A dot in a visible round names its voter (the card view
//!   lists voters then too), except on an anonymous card, where it is "a card got a dot".
//! - Likes name who liked, as the views do.
//!
//! Personal events (following, seen and read marks) never become records at all.

use crate::projection::views::Viewer;
use kipina_domain::BoardState;
use kipina_proto::ParticipantId;
use kipina_proto::activity::{ActivityItem, ActivityKind};

/// The item as `viewer` may see it, or `None` when they may not learn of it at all.
pub fn for_viewer(state: &BoardState, record: &ActivityItem, viewer: Viewer) -> Option<ActivityItem> {
    let actor = record.actor?;
    if viewer.is(actor) {
        return Some(record.clone());
    }
    let hide_actor = match record.kind {
        ActivityKind::VoteCast | ActivityKind::VoteWithdrawn => {
            let round = record.round.and_then(|number| state.rounds.get(usize::try_from(number).ok()?.checked_sub(1)?));
            if round.is_none_or(|round| round.hidden) {
                return None;
            }
            record.card.and_then(|card| state.cards.get(&card)).is_none_or(|card| state.card_is_anonymous(card))
        }
        ActivityKind::ReactionAdded | ActivityKind::ReactionRemoved => false,
        ActivityKind::CommentAdded
        | ActivityKind::CommentReplied
        | ActivityKind::CommentEdited
        | ActivityKind::CommentDeleted => wrote_anonymous_comment(state, record, actor),
        _ => wrote_anonymous_card(state, record, actor),
    };
    let mut item = record.clone();
    if hide_actor {
        item.actor = None;
        item.anonymous = true;
    }
    Some(item)
}

/// Whether the item is about an anonymous card (or group) that `actor` wrote.
fn wrote_anonymous_card(state: &BoardState, record: &ActivityItem, actor: ParticipantId) -> bool {
    [record.card, record.grouped_into]
        .into_iter()
        .flatten()
        .filter_map(|card| state.cards.get(&card))
        .any(|card| card.author == actor && state.card_is_anonymous(card))
}

/// Whether the item is about an anonymous comment that `actor` wrote.
fn wrote_anonymous_comment(state: &BoardState, record: &ActivityItem, actor: ParticipantId) -> bool {
    record
        .comment
        .and_then(|comment| state.comments.get(&comment))
        .is_some_and(|comment| comment.author == actor && state.comment_is_anonymous(comment))
}
