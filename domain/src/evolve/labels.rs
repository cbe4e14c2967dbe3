//! Labels and the cards they are on.

use crate::event::Fact;
use crate::state::{BoardState, Label};
use kipina_proto::{CardId, LabelId};

pub(super) fn label_created(state: &mut BoardState, label: &LabelId, name: &str, color: &str) {
    state.labels.insert(*label, Label { id: *label, name: name.to_owned(), color: color.to_owned() });
}

pub(super) fn card_labelled(state: &mut BoardState, fact: &Fact, card: &CardId, label: &LabelId) {
    let at = fact.at;
    if !state.labels.contains_key(label) {
        return;
    }
    if let Some(found) = state.cards.get_mut(card) {
        found.labels.insert(*label);
        found.updated_at = at;
    }
}

pub(super) fn card_unlabelled(state: &mut BoardState, fact: &Fact, card: &CardId, label: &LabelId) {
    let at = fact.at;
    if let Some(found) = state.cards.get_mut(card)
        && found.labels.remove(label)
    {
        found.updated_at = at;
    }
}
