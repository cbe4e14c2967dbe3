//! Statements drafted together: a vision, a mission, a service promise. A statement is a column
//! holding the current wording and its history; its cards are proposals for a new wording, each
//! based on a version. Proposals are commented on and voted like any card; a facilitator adopts
//! one, which becomes the next version and leaves the proposals based on the older one outdated
//! until their author (or a facilitator) rebases them.

use super::{Decision, existing_card, require_author_or_facilitator, require_contributor, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::permissions::gate;
use crate::state::{BoardState, Card, Participant, Proposal, Statement};
use kipina_proto::{Action, CardId, ColumnId};

/// An active statement.
fn statement_of(state: &BoardState, column: ColumnId) -> Result<&Statement, DomainError> {
    let found = state
        .columns
        .get(&column)
        .ok_or_else(|| DomainError::NotFound { kind: Kind::Statement, id: column.to_string() })?;
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Column });
    }
    found.statement.as_ref().ok_or(DomainError::NotAStatement)
}

/// A proposal that is on the board and not yet adopted, with its statement.
fn open_proposal(state: &BoardState, card: CardId) -> Result<(&Card, &Proposal, &Statement), DomainError> {
    let found = existing_card(state, card)?;
    let proposal = found.proposal.as_ref().ok_or(DomainError::NotAProposal)?;
    if let Some(version) = proposal.adopted_as {
        return Err(DomainError::ProposalAdopted { version });
    }
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Card });
    }
    Ok((found, proposal, statement_of(state, found.column)?))
}

fn check_wording(statement: &Statement, text: &str, base_version: u32) -> Result<(), DomainError> {
    let current = statement.current();
    if base_version != current {
        return Err(DomainError::StaleVersion { kind: Kind::Statement, expected: base_version, actual: current });
    }
    text::multi_line("wording", text, limits::STATEMENT_TEXT, true)?;
    let same = statement.versions.last().and_then(|version| version.text.as_text()) == Some(text);
    if same {
        return Err(DomainError::SameWording);
    }
    Ok(())
}

pub(super) fn add(state: &BoardState, actor: &Participant, column: ColumnId, title: &str, wording: &str) -> Decision {
    require_facilitator(actor, "add statements")?;
    if state.columns.contains_key(&column) {
        return Err(DomainError::AlreadyExists { kind: Kind::Column, id: column.to_string() });
    }
    if state.columns.len() >= limits::MAX_COLUMNS {
        return Err(DomainError::LimitReached { what: "columns", max: limits::MAX_COLUMNS });
    }
    text::single_line("statement title", title, limits::COLUMN_TITLE)?;
    text::multi_line("wording", wording, limits::STATEMENT_TEXT, false)?;
    Ok(vec![Event::StatementAdded { column, title: title.to_owned(), text: wording.into() }])
}

pub(super) fn propose(
    state: &BoardState,
    actor: &Participant,
    card: CardId,
    statement: ColumnId,
    wording: &str,
    reason: &str,
    base_version: u32,
) -> Decision {
    require_contributor(actor, "propose wordings")?;
    gate(state, actor.role, Action::AddCard)?;
    if state.cards.contains_key(&card) {
        return Err(DomainError::AlreadyExists { kind: Kind::Card, id: card.to_string() });
    }
    if state.cards.len() >= limits::MAX_CARDS {
        return Err(DomainError::LimitReached { what: "cards", max: limits::MAX_CARDS });
    }
    let found = statement_of(state, statement)?;
    text::single_line("reason", reason, limits::PROPOSAL_REASON)?;
    check_wording(found, wording, base_version)?;
    Ok(vec![Event::WordingProposed { card, statement, text: wording.into(), reason: reason.into(), base_version }])
}

pub(super) fn rebase(
    state: &BoardState,
    actor: &Participant,
    card: CardId,
    wording: &str,
    base_version: u32,
) -> Decision {
    let (found, _, statement) = open_proposal(state, card)?;
    require_author_or_facilitator(actor, found.author, "rebase this proposal")?;
    gate(state, actor.role, Action::AddCard)?;
    check_wording(statement, wording, base_version)?;
    Ok(vec![Event::ProposalRebased { card, text: wording.into(), base_version }])
}

pub(super) fn adopt(state: &BoardState, actor: &Participant, card: CardId) -> Decision {
    require_facilitator(actor, "adopt proposals")?;
    let (_, proposal, statement) = open_proposal(state, card)?;
    let current = statement.current();
    if proposal.base_version != current {
        return Err(DomainError::ProposalOutdated { base: proposal.base_version, current });
    }
    Ok(vec![Event::ProposalAdopted { card }])
}
