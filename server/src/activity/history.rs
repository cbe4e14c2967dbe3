//! The board as it was: `Engine::state_at` gives the state right after an event, and the
//! views render it for the viewer as they would have then — with what is private *now* kept
//! private. A card or comment that is anonymous now (the board was made anonymous later) does
//! not name its author in the past either, nor its voters; a comment deleted since shows no
//! words. Everything else is as it was: earlier titles, cards in their old columns, the
//! statement's wording of the time, dots hidden if they were hidden then.

use crate::projection::views::{Viewer, board_view};
use kipina_domain::BoardState;
use kipina_proto::BoardId;
use kipina_proto::view::BoardView;

/// The board of `then` as `viewer` may see it, judged also by `now` (the board at its head).
/// `None` when the board did not exist yet at that point.
pub fn history_view(board: BoardId, then: &BoardState, now: &BoardState, viewer: Viewer) -> Option<BoardView> {
    let mut view = board_view(board, then, viewer)?;
    for card in &mut view.cards {
        let Some(current) = now.cards.get(&card.id) else { continue };
        if now.card_is_anonymous(current) {
            card.anonymous = true;
            if !viewer.is(current.author) {
                card.author = None;
            }
            card.votes.retain(|vote| viewer.is(vote.participant));
        }
    }
    for comment in &mut view.comments {
        let Some(current) = now.comments.get(&comment.id) else { continue };
        if now.comment_is_anonymous(current) {
            comment.anonymous = true;
            if !viewer.is(current.author) {
                comment.author = None;
            }
        }
        if current.deleted {
            comment.deleted = true;
            comment.body = None;
        }
    }
    for column in &mut view.columns {
        let versions = column.statement.iter_mut().flat_map(|statement| statement.versions.iter_mut());
        for version in versions {
            let proposal = version.proposal.and_then(|card| now.cards.get(&card));
            if let Some(proposal) = proposal.filter(|card| now.card_is_anonymous(card)) {
                version.anonymous = true;
                if !viewer.is(proposal.author) {
                    version.author = None;
                }
            }
        }
    }
    // Notifications are the viewer's news now, not part of the board then.
    view.notifications.clear();
    Some(view)
}
