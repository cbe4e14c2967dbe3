//! Labels: defined by the facilitator, put on cards by the card's author or a facilitator.

use super::{Decision, active_card, require_author_or_facilitator, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::state::{BoardState, Participant};
use kipina_proto::{CardId, LabelId};

pub(super) fn create(state: &BoardState, actor: &Participant, label: LabelId, name: &str, color: &str) -> Decision {
    require_facilitator(actor, "create labels")?;
    if state.labels.contains_key(&label) {
        return Err(DomainError::AlreadyExists { kind: Kind::Label, id: label.to_string() });
    }
    if state.labels.len() >= limits::MAX_LABELS {
        return Err(DomainError::LimitReached { what: "labels", max: limits::MAX_LABELS });
    }
    // A label may have no name: Trello boards use colour-only labels.
    text::optional_single_line("label name", name, limits::LABEL_NAME)?;
    if !limits::LABEL_COLORS.contains(&color) {
        return Err(DomainError::InvalidColor(color.to_owned()));
    }
    Ok(vec![Event::LabelCreated { label, name: name.to_owned(), color: color.to_owned() }])
}

pub(super) fn set_on_card(state: &BoardState, actor: &Participant, card: CardId, label: LabelId, on: bool) -> Decision {
    let found = active_card(state, card)?;
    require_author_or_facilitator(actor, found.author, "label this card")?;
    crate::permissions::gate(state, actor.role, kipina_proto::Action::AddCard)?;
    if !state.labels.contains_key(&label) {
        return Err(DomainError::NotFound { kind: Kind::Label, id: label.to_string() });
    }
    match (on, found.labels.contains(&label)) {
        (true, false) => Ok(vec![Event::CardLabelled { card, label }]),
        (false, true) => Ok(vec![Event::CardUnlabelled { card, label }]),
        _ => Ok(vec![]),
    }
}
