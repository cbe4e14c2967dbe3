//! Cards: added by participants, edited and moved by their author or a facilitator.

use super::{
    Decision, active_card, existing_card, require_author_or_facilitator, require_contributor, require_facilitator, text,
};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::permissions::gate;
use crate::state::{BoardState, Column, Participant};
use kipina_proto::Action;
use kipina_proto::{CardId, CardStatus, ColumnId};

/// A column that exists and is not archived, for cards to go into.
fn open_column(state: &BoardState, column: ColumnId) -> Result<&Column, DomainError> {
    let found = state
        .columns
        .get(&column)
        .ok_or_else(|| DomainError::NotFound { kind: Kind::Column, id: column.to_string() })?;
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Column });
    }
    Ok(found)
}

fn check_texts(title: &str, body: &str) -> Result<(), DomainError> {
    text::single_line("card title", title, limits::CARD_TITLE)?;
    text::multi_line("card text", body, limits::CARD_BODY, false)
}

pub(super) fn add(
    state: &BoardState,
    actor: &Participant,
    card: CardId,
    column: ColumnId,
    title: &str,
    body: &str,
) -> Decision {
    require_contributor(actor, "add cards")?;
    gate(state, actor.role, Action::AddCard)?;
    if state.cards.contains_key(&card) {
        return Err(DomainError::AlreadyExists { kind: Kind::Card, id: card.to_string() });
    }
    if state.cards.len() >= limits::MAX_CARDS {
        return Err(DomainError::LimitReached { what: "cards", max: limits::MAX_CARDS });
    }
    if open_column(state, column)?.statement.is_some() {
        return Err(DomainError::StatementColumn);
    }
    check_texts(title, body)?;
    Ok(vec![Event::CardAdded { card, column, title: title.into(), body: body.into() }])
}

pub(super) fn edit(
    state: &BoardState,
    actor: &Participant,
    card: CardId,
    title: &str,
    body: &str,
    base_version: u32,
) -> Decision {
    let found = active_card(state, card)?;
    require_author_or_facilitator(actor, found.author, "edit this card")?;
    gate(state, actor.role, Action::AddCard)?;
    if base_version != found.text_version {
        return Err(DomainError::StaleVersion { kind: Kind::Card, expected: base_version, actual: found.text_version });
    }
    check_texts(title, body)?;
    if let Some(proposal) = &found.proposal {
        // An adopted wording is history now; an open one must keep saying something.
        if let Some(version) = proposal.adopted_as {
            return Err(DomainError::ProposalAdopted { version });
        }
        text::multi_line("wording", body, limits::STATEMENT_TEXT, true)?;
    }
    if found.title.as_text() == Some(title) && found.body.as_text() == Some(body) {
        return Ok(vec![]);
    }
    Ok(vec![Event::CardEdited { card, title: title.into(), body: body.into() }])
}

pub(super) fn move_to(
    state: &BoardState,
    actor: &Participant,
    card: CardId,
    column: ColumnId,
    to_index: u32,
) -> Decision {
    let found = active_card(state, card)?;
    require_author_or_facilitator(actor, found.author, "move this card")?;
    gate(state, actor.role, Action::AddCard)?;
    let target = open_column(state, column)?;
    // A proposal stays with its statement, and a statement holds only proposals.
    if found.proposal.is_some() || target.statement.is_some() {
        return Err(DomainError::StatementColumn);
    }
    let others = target.cards.iter().filter(|id| **id != card).count();
    let max = u32::try_from(others).unwrap_or(u32::MAX);
    if to_index > max {
        return Err(DomainError::InvalidPosition { index: to_index, max });
    }
    let already_there =
        found.column == column && target.cards.iter().position(|id| *id == card) == Some(to_index as usize);
    if already_there {
        return Ok(vec![]);
    }
    Ok(vec![Event::CardMoved { card, column, to_index }])
}

pub(super) fn set_status(state: &BoardState, actor: &Participant, card: CardId, status: CardStatus) -> Decision {
    require_facilitator(actor, "set a card's status")?;
    let found = existing_card(state, card)?;
    if found.status == status {
        return Ok(vec![]);
    }
    Ok(vec![Event::CardStatusSet { card, status }])
}

pub(super) fn archive(state: &BoardState, actor: &Participant, card: CardId) -> Decision {
    let found = existing_card(state, card)?;
    require_author_or_facilitator(actor, found.author, "archive this card")?;
    gate(state, actor.role, Action::AddCard)?;
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Card });
    }
    if !found.members.is_empty() {
        return Err(DomainError::InvalidGroup("ungroup its cards before archiving the group"));
    }
    Ok(vec![Event::CardArchived { card }])
}

pub(super) fn restore(state: &BoardState, actor: &Participant, card: CardId) -> Decision {
    let found = existing_card(state, card)?;
    require_author_or_facilitator(actor, found.author, "restore this card")?;
    gate(state, actor.role, Action::AddCard)?;
    if !found.archived {
        return Err(DomainError::NotArchived { kind: Kind::Card });
    }
    if found.is_group {
        return Err(DomainError::InvalidGroup("a dissolved group cannot come back; group the cards again"));
    }
    // A card comes back into its own column, which must itself be on the board.
    open_column(state, found.column)?;
    Ok(vec![Event::CardRestored { card }])
}
