//! Groups: a card whose members leave their column's list.

use super::cards::remove_from_column;
use crate::event::Fact;
use crate::personal::PersonalText;
use crate::state::{BoardState, Card};
use kipina_proto::{CardId, ColumnId, Timestamp};

pub(super) fn cards_grouped(
    state: &mut BoardState,
    fact: &Fact,
    group: &CardId,
    column: &ColumnId,
    heading: &PersonalText,
    cards: &[CardId],
) {
    group_cards(state, fact, *group, *column, heading, cards)
}

pub(super) fn group_cards(
    state: &mut BoardState,
    fact: &Fact,
    group: CardId,
    column: ColumnId,
    heading: &PersonalText,
    cards: &[CardId],
) {
    if !state.columns.contains_key(&column) || state.cards.contains_key(&group) {
        return;
    }
    let members: Vec<CardId> =
        cards.iter().copied().filter(|id| state.cards.get(id).is_some_and(|card| !card.is_group)).collect();
    // The group takes the place of its first card in the column.
    let place = members
        .first()
        .and_then(|first| state.columns.get(&column).and_then(|found| found.cards.iter().position(|id| id == first)));
    let anonymous = state.anonymous_now();
    let mut holder = Card::new(group, column, heading.clone(), PersonalText::from(""), fact.actor, fact.at, anonymous);
    holder.created_seq = fact.seq;
    holder.is_group = true;
    state.cards.insert(group, holder);
    if let Some(target) = state.columns.get_mut(&column) {
        let index = place.unwrap_or(target.cards.len()).min(target.cards.len());
        target.cards.insert(index, group);
    }
    for card in members {
        add_to_group(state, group, card, fact.at);
    }
}
pub(super) fn add_to_group(state: &mut BoardState, group: CardId, card: CardId, at: Timestamp) {
    let Some(column) = state.cards.get(&group).filter(|found| found.is_group).map(|found| found.column) else {
        return;
    };
    let Some(found) = state.cards.get_mut(&card) else {
        return;
    };
    if found.is_group || card == group {
        return;
    }
    let from = found.column;
    let previous = found.group.replace(group);
    found.column = column;
    found.updated_at = at;
    leave_group(state, previous, card);
    remove_from_column(state, from, card);
    if let Some(holder) = state.cards.get_mut(&group) {
        holder.members.push(card);
        holder.updated_at = at;
    }
}
pub(super) fn dissolve_group(state: &mut BoardState, group: CardId, at: Timestamp) {
    let Some(found) = state.cards.get_mut(&group).filter(|found| found.is_group) else {
        return;
    };
    // The dissolved group keeps the list of what it held, for the record; the cards are free.
    let members = found.members.clone();
    found.archived = true;
    found.updated_at = at;
    let column = found.column;
    for member in &members {
        if let Some(card) = state.cards.get_mut(member) {
            card.group = None;
            card.updated_at = at;
        }
    }
    if let Some(target) = state.columns.get_mut(&column) {
        match target.cards.iter().position(|id| *id == group) {
            Some(index) => {
                target.cards.splice(index..=index, members);
            }
            None => target.cards.extend(members),
        }
    }
}
pub(super) fn leave_group(state: &mut BoardState, group: Option<CardId>, card: CardId) {
    if let Some(holder) = group.and_then(|group| state.cards.get_mut(&group)) {
        holder.members.retain(|id| *id != card);
    }
}
