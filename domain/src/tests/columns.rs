//! Columns: added, renamed, moved, archived and restored by the facilitator.

use super::*;
use crate::limits;

const QUESTIONS: ColumnId = column(3);

fn rename(column: ColumnId, title: &str, base_version: u32) -> Command {
    Command::RenameColumn { column, title: title.into(), base_version }
}

fn move_column(column: ColumnId, to_index: u32) -> Command {
    Command::MoveColumn { column, to_index }
}

fn archive(column: ColumnId) -> Command {
    Command::ArchiveColumn { column }
}

fn restore(column: ColumnId) -> Command {
    Command::RestoreColumn { column }
}

/// Three columns: Ideat, Myöhemmin, Kysymykset.
fn three_columns() -> Scenario {
    workshop().given(FACILITATOR, add_column(QUESTIONS, "Kysymykset"))
}

#[test]
fn the_facilitator_adds_a_column_at_the_end() {
    let _ = workshop()
        .when(FACILITATOR, add_column(QUESTIONS, "Kysymykset"))
        .then_events(vec![Event::ColumnAdded { column: QUESTIONS, title: "Kysymykset".into() }])
        .then_state(|state| {
            assert_eq!(state.column_order, [IDEAS, LATER, QUESTIONS]);
            let added = &state.columns[&QUESTIONS];
            assert_eq!((added.title.as_str(), added.text_version, added.archived), ("Kysymykset", 1, false));
            assert!(added.cards.is_empty());
        });
    check_actors(
        &workshop(),
        add_column(QUESTIONS, "Kysymykset"),
        vec![
            (ALICE, Err(forbidden("add columns", Role::Participant))),
            (OBSERVER, Err(forbidden("add columns", Role::Observer))),
        ],
    );
}

#[test]
fn a_column_id_is_used_once() {
    let _ =
        workshop().when(FACILITATOR, add_column(IDEAS, "Toinen")).then_error_eq(already_exists(Kind::Column, IDEAS));
    // Archived columns keep their ids.
    let _ = workshop()
        .given(FACILITATOR, archive(LATER))
        .when(FACILITATOR, add_column(LATER, "Toinen"))
        .then_error_eq(already_exists(Kind::Column, LATER));
}

#[test]
fn a_board_holds_at_most_max_columns_archived_ones_included() {
    let fill = |count: usize| {
        people().given_events(
            FACILITATOR,
            (0..count).map(|n| Event::ColumnAdded { column: column(100 + n as u128), title: format!("Sarake {n}") }),
        )
    };
    let _ = fill(limits::MAX_COLUMNS - 1)
        .when(FACILITATOR, add_column(QUESTIONS, "Viimeinen"))
        .then_events(vec![Event::ColumnAdded { column: QUESTIONS, title: "Viimeinen".into() }]);
    let _ = fill(limits::MAX_COLUMNS)
        .given(FACILITATOR, archive(column(100)))
        .when(FACILITATOR, add_column(QUESTIONS, "Liikaa"))
        .then_error_eq(DomainError::LimitReached { what: "columns", max: limits::MAX_COLUMNS });
}

#[test]
fn column_titles_follow_the_text_rules() {
    check_text(Text::Line, "column title", limits::COLUMN_TITLE, |title| {
        let outcome = workshop().when(FACILITATOR, add_column(QUESTIONS, title));
        (outcome, vec![Event::ColumnAdded { column: QUESTIONS, title: title.into() }])
    });
    check_text(Text::Line, "column title", limits::COLUMN_TITLE, |title| {
        let outcome = workshop().when(FACILITATOR, rename(IDEAS, title, 1));
        (outcome, vec![Event::ColumnRenamed { column: IDEAS, title: title.into() }])
    });
}

#[test]
fn the_facilitator_renames_a_column_and_its_text_version_goes_up() {
    let _ = workshop()
        .when(FACILITATOR, rename(IDEAS, "Ideoita", 1))
        .then_events(vec![Event::ColumnRenamed { column: IDEAS, title: "Ideoita".into() }])
        .then_state(|state| {
            assert_eq!((state.columns[&IDEAS].title.as_str(), state.columns[&IDEAS].text_version), ("Ideoita", 2));
        });
    check_actors(
        &workshop(),
        rename(IDEAS, "Ideoita", 1),
        vec![
            (ALICE, Err(forbidden("rename columns", Role::Participant))),
            (OBSERVER, Err(forbidden("rename columns", Role::Observer))),
        ],
    );
}

#[test]
fn renaming_checks_the_column_and_its_version() {
    let _ =
        workshop().when(FACILITATOR, rename(QUESTIONS, "Ei ole", 1)).then_error_eq(not_found(Kind::Column, QUESTIONS));
    let _ = workshop()
        .given(FACILITATOR, rename(IDEAS, "Ideoita", 1))
        .when(FACILITATOR, rename(IDEAS, "Ideat taas", 1))
        .then_error_eq(stale(Kind::Column, 1, 2));
    let _ = workshop().when(FACILITATOR, rename(IDEAS, "Ideat", 1)).then_no_events();
}

#[test]
fn moving_columns_reorders_the_active_ones() {
    let (a, b, c) = (IDEAS, LATER, QUESTIONS);
    for (moves, expected) in [
        (vec![(a, 2)], [b, c, a]),
        (vec![(c, 0)], [c, a, b]),
        (vec![(b, 0)], [b, a, c]),
        (vec![(a, 1)], [b, a, c]),
        (vec![(c, 1), (a, 2)], [c, b, a]),
    ] {
        let mut scenario = three_columns();
        for (column, to_index) in moves.iter().take(moves.len() - 1) {
            scenario = scenario.given(FACILITATOR, move_column(*column, *to_index));
        }
        let (column, to_index) = moves[moves.len() - 1];
        let _ = scenario
            .when(FACILITATOR, move_column(column, to_index))
            .then_events(vec![Event::ColumnMoved { column, to_index }])
            .then_state(|state| assert_eq!(state.column_order, expected, "after {moves:?}"));
    }
}

#[test]
fn moving_a_column_to_where_it_is_is_a_no_op() {
    let _ = three_columns().when(FACILITATOR, move_column(LATER, 1)).then_no_events();
}

#[test]
fn a_column_moves_only_among_the_active_columns() {
    let _ = three_columns()
        .when(FACILITATOR, move_column(IDEAS, 3))
        .then_error_eq(DomainError::InvalidPosition { index: 3, max: 2 });
    let with_archived = three_columns().given(FACILITATOR, archive(LATER));
    let _ = with_archived
        .clone()
        .when(FACILITATOR, move_column(IDEAS, 2))
        .then_error_eq(DomainError::InvalidPosition { index: 2, max: 1 });
    let _ = with_archived
        .clone()
        .when(FACILITATOR, move_column(LATER, 0))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
    let _ =
        with_archived.when(FACILITATOR, move_column(column(99), 0)).then_error_eq(not_found(Kind::Column, column(99)));
    check_actors(
        &three_columns(),
        move_column(IDEAS, 1),
        vec![
            (ALICE, Err(forbidden("move columns", Role::Participant))),
            (OBSERVER, Err(forbidden("move columns", Role::Observer))),
        ],
    );
}

#[test]
fn archiving_a_column_takes_it_off_the_board_and_restoring_puts_it_back_at_the_end() {
    let _ = three_columns()
        .given(ALICE, add_card(ALICES_CARD, IDEAS, "Kyläkahvila"))
        .when(FACILITATOR, archive(IDEAS))
        .then_events(vec![Event::ColumnArchived { column: IDEAS }])
        .then_state(|state| {
            assert_eq!(state.column_order, [LATER, QUESTIONS]);
            assert!(state.columns[&IDEAS].archived);
            // The cards stay in the column, to come back with it.
            assert_eq!(state.columns[&IDEAS].cards, [ALICES_CARD]);
        });
    let _ = three_columns()
        .given(FACILITATOR, archive(IDEAS))
        .when(FACILITATOR, restore(IDEAS))
        .then_events(vec![Event::ColumnRestored { column: IDEAS }])
        .then_state(|state| {
            assert_eq!(state.column_order, [LATER, QUESTIONS, IDEAS]);
            assert!(!state.columns[&IDEAS].archived);
        });
}

#[test]
fn archiving_and_restoring_check_the_column_and_its_state() {
    let _ = workshop().when(FACILITATOR, archive(QUESTIONS)).then_error_eq(not_found(Kind::Column, QUESTIONS));
    let _ = workshop().when(FACILITATOR, restore(QUESTIONS)).then_error_eq(not_found(Kind::Column, QUESTIONS));
    let _ = workshop()
        .given(FACILITATOR, archive(LATER))
        .when(FACILITATOR, archive(LATER))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
    let _ = workshop().when(FACILITATOR, restore(LATER)).then_error_eq(DomainError::NotArchived { kind: Kind::Column });
    check_actors(
        &workshop(),
        archive(LATER),
        vec![
            (ALICE, Err(forbidden("archive columns", Role::Participant))),
            (OBSERVER, Err(forbidden("archive columns", Role::Observer))),
        ],
    );
    check_actors(
        &workshop().given(FACILITATOR, archive(LATER)),
        restore(LATER),
        vec![
            (ALICE, Err(forbidden("restore columns", Role::Participant))),
            (OBSERVER, Err(forbidden("restore columns", Role::Observer))),
        ],
    );
}

#[test]
fn cards_in_an_archived_column_are_off_the_board() {
    let archived = with_cards().given(FACILITATOR, archive(IDEAS));
    let column_archived = DomainError::Archived { kind: Kind::Column };
    for command in [
        add_card(card(9), IDEAS, "Uusi"),
        move_card(ALICES_CARD, LATER, 0),
        vote(ALICES_CARD),
        like_card(ALICES_CARD),
        add_comment(comment(9), ALICES_CARD, "Hei"),
    ] {
        let _ = archived.clone().when(ALICE, command).then_error_eq(column_archived.clone());
    }
}
