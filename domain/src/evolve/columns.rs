//! Columns: added, renamed, moved, archived and restored.

use crate::state::{BoardState, Column};
use kipina_proto::ColumnId;

pub(super) fn column_added(state: &mut BoardState, column: &ColumnId, title: &str) {
    state.columns.insert(
        *column,
        Column {
            id: *column,
            title: title.to_owned(),
            text_version: 1,
            archived: false,
            cards: Vec::new(),
            statement: None,
        },
    );
    state.column_order.push(*column);
}

pub(super) fn column_renamed(state: &mut BoardState, column: &ColumnId, title: &str) {
    if let Some(found) = state.columns.get_mut(column) {
        found.title = title.to_owned();
        found.text_version += 1;
    }
}

pub(super) fn column_moved(state: &mut BoardState, column: &ColumnId, to_index: &u32) {
    if let Some(current) = state.column_order.iter().position(|id| id == column) {
        state.column_order.remove(current);
        let index = (*to_index as usize).min(state.column_order.len());
        state.column_order.insert(index, *column);
    }
}

pub(super) fn column_archived(state: &mut BoardState, column: &ColumnId) {
    if let Some(found) = state.columns.get_mut(column) {
        found.archived = true;
        state.column_order.retain(|id| id != column);
    }
}

pub(super) fn column_restored(state: &mut BoardState, column: &ColumnId) {
    if let Some(found) = state.columns.get_mut(column)
        && found.archived
    {
        found.archived = false;
        state.column_order.push(*column);
    }
}
