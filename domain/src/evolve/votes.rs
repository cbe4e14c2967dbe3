//! Dots and likes.

use crate::event::Fact;
use crate::state::BoardState;
use kipina_proto::{CardId, ParticipantId, ReactionTarget};

pub(super) fn vote_cast(state: &mut BoardState, fact: &Fact, card: &CardId) {
    let actor = fact.actor;
    // Only a known voter's dot counts, so a card's dots always add up to the voters' used dots.
    if let Some(found) = state.cards.get_mut(card)
        && let Some(voter) = state.participants.get_mut(&actor)
    {
        *found.votes.entry(actor).or_insert(0) += 1;
        voter.votes_used += 1;
    }
}

pub(super) fn vote_withdrawn(state: &mut BoardState, fact: &Fact, card: &CardId) {
    let actor = fact.actor;
    let Some(found) = state.cards.get_mut(card) else {
        return;
    };
    let Some(dots) = found.votes.get_mut(&actor) else {
        return;
    };
    *dots = dots.saturating_sub(1);
    if *dots == 0 {
        found.votes.remove(&actor);
    }
    if let Some(voter) = state.participants.get_mut(&actor) {
        voter.votes_used = voter.votes_used.saturating_sub(1);
    }
}

pub(super) fn reaction_added(state: &mut BoardState, fact: &Fact, target: &ReactionTarget) {
    let actor = fact.actor;
    if !state.participants.contains_key(&actor) {
        return;
    }
    if let Some(likes) = likes_of(state, *target) {
        likes.insert(actor);
    }
}

pub(super) fn reaction_removed(state: &mut BoardState, fact: &Fact, target: &ReactionTarget) {
    let actor = fact.actor;
    if let Some(likes) = likes_of(state, *target) {
        likes.remove(&actor);
    }
}

pub(super) fn likes_of(
    state: &mut BoardState,
    target: ReactionTarget,
) -> Option<&mut std::collections::BTreeSet<ParticipantId>> {
    match target {
        ReactionTarget::Card(card) => state.cards.get_mut(&card).map(|found| &mut found.likes),
        ReactionTarget::Comment(comment) => state.comments.get_mut(&comment).map(|found| &mut found.likes),
    }
}
