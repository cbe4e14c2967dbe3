//! Personal bookkeeping between camps: following cards, what has been seen, what has been read.
//! Anyone who has joined may do these in any phase, on a locked board too: they change nothing
//! anyone else sees.

use super::{Decision, existing_card};
use crate::event::Event;
use crate::state::{BoardState, Participant};
use kipina_proto::CardId;

pub(super) fn follow(state: &BoardState, actor: &Participant, card: CardId, on: bool) -> Decision {
    existing_card(state, card)?;
    if actor.following.contains(&card) == on {
        return Ok(vec![]);
    }
    Ok(vec![if on { Event::CardFollowed { card } } else { Event::CardUnfollowed { card } }])
}

/// Marks are clamped to the board's head (a client cannot have seen the future) and move only
/// forward (a device that was offline does not undo what another device marked).
pub(super) fn mark_seen(state: &BoardState, actor: &Participant, through: u64) -> Decision {
    let through = through.min(state.version);
    if through <= actor.seen_through {
        return Ok(vec![]);
    }
    Ok(vec![Event::SeenThrough { through }])
}

pub(super) fn mark_notifications_read(state: &BoardState, actor: &Participant, through: u64) -> Decision {
    let through = through.min(state.version);
    if through <= actor.notifications_read_through {
        return Ok(vec![]);
    }
    Ok(vec![Event::NotificationsRead { through }])
}
