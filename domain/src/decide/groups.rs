//! Grouping similar cards under a heading, as with sticky notes on a wall. A group is itself a
//! card (it has a heading, comments and dots) whose members leave their column's list; voting
//! happens on the group. Cards carrying dots of the current round are not regrouped, so no
//! one's dots move or vanish.

use super::{Decision, active_card, require_contributor, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::permissions::gate;
use crate::state::{BoardState, Card, Participant};
use kipina_proto::{Action, CardId};
use std::collections::BTreeSet;

/// A card that may go into a group: on the board, not a group, not grouped, without dots.
fn groupable(state: &BoardState, card: CardId) -> Result<&Card, DomainError> {
    let found = active_card(state, card)?;
    if found.is_group {
        return Err(DomainError::InvalidGroup("a group cannot go into another group"));
    }
    if found.proposal.is_some() {
        return Err(DomainError::InvalidGroup("proposals for a statement are not grouped"));
    }
    if found.group.is_some() {
        return Err(DomainError::CardInGroup);
    }
    if found.vote_total() > 0 {
        return Err(DomainError::HasVotes);
    }
    Ok(found)
}

/// An active group.
fn existing_group(state: &BoardState, group: CardId) -> Result<&Card, DomainError> {
    let found = active_card(state, group)?;
    if !found.is_group {
        return Err(DomainError::InvalidGroup("that card is not a group"));
    }
    Ok(found)
}

pub(super) fn group(
    state: &BoardState,
    actor: &Participant,
    group: CardId,
    heading: &str,
    cards: &[CardId],
) -> Decision {
    require_contributor(actor, "group cards")?;
    gate(state, actor.role, Action::Group)?;
    if state.cards.contains_key(&group) {
        return Err(DomainError::AlreadyExists { kind: Kind::Card, id: group.to_string() });
    }
    if state.cards.len() >= limits::MAX_CARDS {
        return Err(DomainError::LimitReached { what: "cards", max: limits::MAX_CARDS });
    }
    text::single_line("group heading", heading, limits::CARD_TITLE)?;
    if cards.len() < 2 {
        return Err(DomainError::InvalidGroup("a group needs at least two cards"));
    }
    if cards.len() > limits::MAX_GROUP {
        return Err(DomainError::LimitReached { what: "cards in a group", max: limits::MAX_GROUP });
    }
    if cards.iter().collect::<BTreeSet<_>>().len() != cards.len() {
        return Err(DomainError::InvalidGroup("a card is listed twice"));
    }
    let mut column = None;
    for card in cards {
        let found = groupable(state, *card)?;
        column.get_or_insert(found.column);
    }
    let column = column.ok_or(DomainError::InvalidGroup("a group needs at least two cards"))?;
    Ok(vec![Event::CardsGrouped { group, column, heading: heading.into(), cards: cards.to_vec() }])
}

pub(super) fn add(state: &BoardState, actor: &Participant, group: CardId, card: CardId) -> Decision {
    require_contributor(actor, "group cards")?;
    gate(state, actor.role, Action::Group)?;
    let holder = existing_group(state, group)?;
    if holder.members.len() >= limits::MAX_GROUP {
        return Err(DomainError::LimitReached { what: "cards in a group", max: limits::MAX_GROUP });
    }
    if holder.vote_total() > 0 {
        return Err(DomainError::HasVotes);
    }
    groupable(state, card)?;
    Ok(vec![Event::CardAddedToGroup { group, card }])
}

pub(super) fn ungroup(state: &BoardState, actor: &Participant, group: CardId) -> Decision {
    require_contributor(actor, "ungroup cards")?;
    gate(state, actor.role, Action::Group)?;
    let holder = existing_group(state, group)?;
    if holder.vote_total() > 0 {
        return Err(DomainError::HasVotes);
    }
    Ok(vec![Event::GroupDissolved { group }])
}
