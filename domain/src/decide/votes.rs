//! Dot votes (a budget per participant, a cap per card) and unbudgeted reactions.

use super::{Decision, active_card, existing_card, require_contributor};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::permissions::gate;
use crate::state::{BoardState, Participant};
use kipina_proto::{Action, CardId, ReactionTarget};

pub(super) fn cast(state: &BoardState, actor: &Participant, card: CardId) -> Decision {
    require_contributor(actor, "vote")?;
    gate(state, actor.role, Action::Vote)?;
    let found = active_card(state, card)?;
    if found.group.is_some() {
        return Err(DomainError::CardInGroup);
    }
    let settings = state.info.as_ref().ok_or(DomainError::BoardNotFound)?.settings;
    if actor.votes_used >= settings.vote_budget {
        return Err(DomainError::VoteBudgetExhausted { budget: settings.vote_budget });
    }
    if found.votes.get(&actor.id).copied().unwrap_or(0) >= settings.votes_per_card {
        return Err(DomainError::VoteCapReached { cap: settings.votes_per_card });
    }
    Ok(vec![Event::VoteCast { card }])
}

/// Taking a dot back is allowed even from an archived card, so nobody's budget gets stuck.
pub(super) fn withdraw(state: &BoardState, actor: &Participant, card: CardId) -> Decision {
    require_contributor(actor, "vote")?;
    gate(state, actor.role, Action::Vote)?;
    let found = existing_card(state, card)?;
    if found.votes.get(&actor.id).copied().unwrap_or(0) == 0 {
        return Err(DomainError::NoVoteToWithdraw);
    }
    Ok(vec![Event::VoteWithdrawn { card }])
}

pub(super) fn toggle_reaction(state: &BoardState, actor: &Participant, target: ReactionTarget) -> Decision {
    require_contributor(actor, "react")?;
    gate(state, actor.role, Action::React)?;
    let liked = match target {
        ReactionTarget::Card(card) => active_card(state, card)?.likes.contains(&actor.id),
        ReactionTarget::Comment(comment) => {
            let found = state
                .comments
                .get(&comment)
                .ok_or_else(|| DomainError::NotFound { kind: Kind::Comment, id: comment.to_string() })?;
            if found.deleted {
                return Err(DomainError::CommentDeleted);
            }
            active_card(state, found.card)?;
            found.likes.contains(&actor.id)
        }
    };
    if liked { Ok(vec![Event::ReactionRemoved { target }]) } else { Ok(vec![Event::ReactionAdded { target }]) }
}
