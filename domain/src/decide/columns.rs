//! Columns: the facilitator shapes the board.

use super::{Decision, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::state::{BoardState, Column, Participant};
use kipina_proto::ColumnId;

fn existing(state: &BoardState, column: ColumnId) -> Result<&Column, DomainError> {
    state.columns.get(&column).ok_or_else(|| DomainError::NotFound { kind: Kind::Column, id: column.to_string() })
}

pub(super) fn add(state: &BoardState, actor: &Participant, column: ColumnId, title: &str) -> Decision {
    require_facilitator(actor, "add columns")?;
    if state.columns.contains_key(&column) {
        return Err(DomainError::AlreadyExists { kind: Kind::Column, id: column.to_string() });
    }
    if state.columns.len() >= limits::MAX_COLUMNS {
        return Err(DomainError::LimitReached { what: "columns", max: limits::MAX_COLUMNS });
    }
    text::single_line("column title", title, limits::COLUMN_TITLE)?;
    Ok(vec![Event::ColumnAdded { column, title: title.to_owned() }])
}

pub(super) fn rename(
    state: &BoardState,
    actor: &Participant,
    column: ColumnId,
    title: &str,
    base_version: u32,
) -> Decision {
    require_facilitator(actor, "rename columns")?;
    let found = existing(state, column)?;
    if base_version != found.text_version {
        return Err(DomainError::StaleVersion {
            kind: Kind::Column,
            expected: base_version,
            actual: found.text_version,
        });
    }
    text::single_line("column title", title, limits::COLUMN_TITLE)?;
    if found.title == title {
        return Ok(vec![]);
    }
    Ok(vec![Event::ColumnRenamed { column, title: title.to_owned() }])
}

pub(super) fn move_to(state: &BoardState, actor: &Participant, column: ColumnId, to_index: u32) -> Decision {
    require_facilitator(actor, "move columns")?;
    let found = existing(state, column)?;
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Column });
    }
    let last = u32::try_from(state.column_order.len().saturating_sub(1)).unwrap_or(u32::MAX);
    if to_index > last {
        return Err(DomainError::InvalidPosition { index: to_index, max: last });
    }
    let current = state.column_order.iter().position(|id| *id == column);
    if current == Some(to_index as usize) {
        return Ok(vec![]);
    }
    Ok(vec![Event::ColumnMoved { column, to_index }])
}

pub(super) fn archive(state: &BoardState, actor: &Participant, column: ColumnId) -> Decision {
    require_facilitator(actor, "archive columns")?;
    if existing(state, column)?.archived {
        return Err(DomainError::Archived { kind: Kind::Column });
    }
    Ok(vec![Event::ColumnArchived { column }])
}

pub(super) fn restore(state: &BoardState, actor: &Participant, column: ColumnId) -> Decision {
    require_facilitator(actor, "restore columns")?;
    if !existing(state, column)?.archived {
        return Err(DomainError::NotArchived { kind: Kind::Column });
    }
    Ok(vec![Event::ColumnRestored { column }])
}
