//! Cards: added, edited, moved, given a status, archived and restored.

use super::groups::leave_group;
use crate::event::Fact;
use crate::personal::PersonalText;
use crate::state::{BoardState, Card};
use kipina_proto::{CardId, CardStatus, ColumnId};

pub(super) fn card_added(
    state: &mut BoardState,
    fact: &Fact,
    card: &CardId,
    column: &ColumnId,
    title: &PersonalText,
    body: &PersonalText,
) {
    let actor = fact.actor;
    let at = fact.at;
    if !state.columns.contains_key(column) {
        return;
    }
    let anonymous = state.anonymous_now();
    let mut added = Card::new(*card, *column, title.clone(), body.clone(), actor, at, anonymous);
    added.created_seq = fact.seq;
    state.cards.insert(*card, added);
    if let Some(found) = state.columns.get_mut(column) {
        found.cards.push(*card);
    }
}

pub(super) fn card_edited(
    state: &mut BoardState,
    fact: &Fact,
    card: &CardId,
    title: &PersonalText,
    body: &PersonalText,
) {
    let actor = fact.actor;
    let at = fact.at;
    if let Some(found) = state.cards.get_mut(card) {
        found.title = title.clone();
        found.body = body.clone();
        found.text_by = actor;
        found.title_by = actor;
        found.text_version += 1;
        found.updated_at = at;
    }
}

pub(super) fn card_moved(state: &mut BoardState, fact: &Fact, card: &CardId, column: &ColumnId, to_index: &u32) {
    let at = fact.at;
    if !state.columns.contains_key(column) {
        return;
    }
    let Some(found) = state.cards.get_mut(card) else {
        return;
    };
    let from = found.column;
    found.column = *column;
    found.updated_at = at;
    // Moving a card out of a group takes it out of the group.
    let group = found.group.take();
    leave_group(state, group, *card);
    remove_from_column(state, from, *card);
    if let Some(target) = state.columns.get_mut(column) {
        let index = (*to_index as usize).min(target.cards.len());
        target.cards.insert(index, *card);
    }
}

pub(super) fn card_status_set(state: &mut BoardState, fact: &Fact, card: &CardId, status: &CardStatus) {
    let at = fact.at;
    if let Some(found) = state.cards.get_mut(card) {
        found.status = *status;
        found.updated_at = at;
    }
}

pub(super) fn card_archived(state: &mut BoardState, fact: &Fact, card: &CardId) {
    let at = fact.at;
    let Some(found) = state.cards.get_mut(card) else {
        return;
    };
    found.archived = true;
    found.updated_at = at;
    let column = found.column;
    let group = found.group.take();
    leave_group(state, group, *card);
    remove_from_column(state, column, *card);
}

pub(super) fn card_restored(state: &mut BoardState, fact: &Fact, card: &CardId) {
    let at = fact.at;
    let Some(found) = state.cards.get_mut(card) else {
        return;
    };
    if !found.archived {
        return;
    }
    found.archived = false;
    found.updated_at = at;
    let column = found.column;
    if let Some(target) = state.columns.get_mut(&column) {
        target.cards.push(*card);
    }
}

pub(super) fn remove_from_column(state: &mut BoardState, column: ColumnId, card: CardId) {
    if let Some(found) = state.columns.get_mut(&column) {
        found.cards.retain(|id| *id != card);
    }
}
