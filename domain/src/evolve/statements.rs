//! Statements, proposed wordings and their adoption.

use super::cards::remove_from_column;
use crate::event::Fact;
use crate::personal::PersonalText;
use crate::state::{BoardState, Card, Column, Proposal, Statement, StatementVersion};
use kipina_proto::{CardId, ColumnId, Timestamp};

pub(super) fn statement_added(
    state: &mut BoardState,
    fact: &Fact,
    column: &ColumnId,
    title: &str,
    text: &PersonalText,
) {
    let actor = fact.actor;
    let at = fact.at;
    let first = StatementVersion {
        number: 1,
        text: text.clone(),
        author: actor,
        text_by: actor,
        reason: None,
        reason_by: actor,
        adopted_at: at,
        adopted_seq: fact.seq,
        session: state.running_session,
        proposal: None,
    };
    state.columns.insert(
        *column,
        Column {
            id: *column,
            title: title.to_owned(),
            text_version: 1,
            archived: false,
            cards: Vec::new(),
            statement: Some(Statement { versions: vec![first] }),
        },
    );
    state.column_order.push(*column);
}

pub(super) fn wording_proposed(
    state: &mut BoardState,
    fact: &Fact,
    card: &CardId,
    statement: &ColumnId,
    text: &PersonalText,
    reason: &PersonalText,
    base_version: &u32,
) {
    let actor = fact.actor;
    let at = fact.at;
    if state.columns.get(statement).is_none_or(|column| column.statement.is_none()) {
        return;
    }
    let anonymous = state.anonymous_now();
    let mut proposal = Card::new(*card, *statement, reason.clone(), text.clone(), actor, at, anonymous);
    proposal.created_seq = fact.seq;
    proposal.proposal = Some(Proposal { base_version: *base_version, adopted_as: None });
    state.cards.insert(*card, proposal);
    if let Some(found) = state.columns.get_mut(statement) {
        found.cards.push(*card);
    }
}

pub(super) fn proposal_rebased(
    state: &mut BoardState,
    fact: &Fact,
    card: &CardId,
    text: &PersonalText,
    base_version: &u32,
) {
    let actor = fact.actor;
    let at = fact.at;
    if let Some(found) = state.cards.get_mut(card)
        && let Some(proposal) = found.proposal.as_mut()
    {
        proposal.base_version = *base_version;
        found.body = text.clone();
        found.text_by = actor;
        found.text_version += 1;
        found.updated_at = at;
    }
}

pub(super) fn adopt(state: &mut BoardState, card: CardId, at: Timestamp, seq: u64) {
    let session = state.running_session;
    let Some(found) = state.cards.get_mut(&card) else {
        return;
    };
    let Some(proposal) = found.proposal.as_mut().filter(|proposal| proposal.adopted_as.is_none()) else {
        return;
    };
    let Some(statement) = state.columns.get_mut(&found.column).and_then(|column| column.statement.as_mut()) else {
        return;
    };
    let number = statement.current() + 1;
    statement.versions.push(StatementVersion {
        number,
        text: found.body.clone(),
        author: found.author,
        text_by: found.text_by,
        reason_by: found.title_by,
        reason: Some(found.title.clone()),
        adopted_at: at,
        adopted_seq: seq,
        session,
        proposal: Some(card),
    });
    proposal.adopted_as = Some(number);
    found.updated_at = at;
    let column = found.column;
    remove_from_column(state, column, card);
}
