//! Cards: added by participants, edited, moved, archived and restored by their author or a
//! facilitator; their status is the facilitator's.

use super::*;
use crate::PersonalText;
use crate::limits;
use kipina_proto::CardStatus;

fn added(card: CardId, column: ColumnId, title: &str, body: &str) -> Vec<Event> {
    vec![Event::CardAdded { card, column, title: title.into(), body: body.into() }]
}

fn edit(card: CardId, title: &str, body: &str, base_version: u32) -> Command {
    Command::EditCard { card, title: title.into(), body: body.into(), base_version }
}

fn edited(card: CardId, title: &str, body: &str) -> Vec<Event> {
    vec![Event::CardEdited { card, title: title.into(), body: body.into() }]
}

fn status(card: CardId, status: CardStatus) -> Command {
    Command::SetCardStatus { card, status }
}

fn archive(card: CardId) -> Command {
    Command::ArchiveCard { card }
}

fn restore(card: CardId) -> Command {
    Command::RestoreCard { card }
}

const NEW_CARD: CardId = card(9);
const I1: CardId = card(11);
const I2: CardId = card(12);
const I3: CardId = card(13);
const L1: CardId = card(21);
const L2: CardId = card(22);

/// Alice's cards I1, I2, I3 in "Ideat" and L1, L2 in "Myöhemmin".
fn five_cards() -> Scenario {
    workshop()
        .given(ALICE, add_card(I1, IDEAS, "Yksi"))
        .given(ALICE, add_card(I2, IDEAS, "Kaksi"))
        .given(ALICE, add_card(I3, IDEAS, "Kolme"))
        .given(ALICE, add_card(L1, LATER, "Neljä"))
        .given(ALICE, add_card(L2, LATER, "Viisi"))
}

fn order(state: &BoardState, column: ColumnId) -> Vec<CardId> {
    state.columns[&column].cards.clone()
}

#[test]
fn participants_and_facilitators_add_cards_at_the_end_of_a_column() {
    for actor in [ALICE, FACILITATOR] {
        let command = Command::AddCard {
            card: NEW_CARD,
            column: IDEAS,
            title: "Kirjastoauto".into(),
            body: "Joka toinen tiistai\nkylätalon pihalla".into(),
        };
        let outcome = with_cards().when(actor, command).then_events(added(
            NEW_CARD,
            IDEAS,
            "Kirjastoauto",
            "Joka toinen tiistai\nkylätalon pihalla",
        ));
        let at = outcome.at;
        let _ = outcome.then_state(|state| {
            let card = &state.cards[&NEW_CARD];
            assert_eq!((card.column, card.author, card.text_by, card.text_version), (IDEAS, actor, actor, 1));
            assert_eq!(card.title, PersonalText::from("Kirjastoauto"));
            assert_eq!(
                (card.status, card.archived, card.created_at, card.updated_at),
                (CardStatus::New, false, at, at)
            );
            assert_eq!(order(state, IDEAS), [ALICES_CARD, BOBS_CARD, NEW_CARD]);
        });
    }
    let _ = with_cards()
        .when(OBSERVER, add_card(NEW_CARD, IDEAS, "Katselija"))
        .then_error_eq(forbidden("add cards", Role::Observer));
}

#[test]
fn adding_a_card_checks_its_id_and_column() {
    let _ = with_cards()
        .when(BOB, add_card(ALICES_CARD, IDEAS, "Sama"))
        .then_error_eq(already_exists(Kind::Card, ALICES_CARD));
    let _ = with_cards()
        .when(ALICE, add_card(NEW_CARD, column(9), "Minne"))
        .then_error_eq(not_found(Kind::Column, column(9)));
    let _ = with_cards()
        .given(FACILITATOR, Command::ArchiveColumn { column: LATER })
        .when(ALICE, add_card(NEW_CARD, LATER, "Arkistoon"))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}

#[test]
fn a_board_holds_at_most_max_cards_archived_ones_included() {
    let fill = |count: usize| {
        let cards = (0..count).map(|n| Event::CardAdded {
            card: card(1_000 + n as u128),
            column: IDEAS,
            title: "Idea".into(),
            body: PersonalText::from(""),
        });
        workshop().given_events(ALICE, cards).given_events(ALICE, [Event::CardArchived { card: card(1_000) }])
    };
    let _ = fill(limits::MAX_CARDS - 1).when(ALICE, add_card(NEW_CARD, IDEAS, "Viimeinen")).then_events(added(
        NEW_CARD,
        IDEAS,
        "Viimeinen",
        "",
    ));
    let _ = fill(limits::MAX_CARDS)
        .when(ALICE, add_card(NEW_CARD, IDEAS, "Liikaa"))
        .then_error_eq(DomainError::LimitReached { what: "cards", max: limits::MAX_CARDS });
}

#[test]
fn card_titles_and_texts_follow_the_text_rules() {
    check_text(Text::Line, "card title", limits::CARD_TITLE, |title| {
        let command = Command::AddCard { card: NEW_CARD, column: IDEAS, title: title.into(), body: "Teksti".into() };
        (workshop().when(ALICE, command), added(NEW_CARD, IDEAS, title, "Teksti"))
    });
    check_text(Text::Body, "card text", limits::CARD_BODY, |body| {
        let command = Command::AddCard { card: NEW_CARD, column: IDEAS, title: "Otsikko".into(), body: body.into() };
        (workshop().when(ALICE, command), added(NEW_CARD, IDEAS, "Otsikko", body))
    });
    check_text(Text::Line, "card title", limits::CARD_TITLE, |title| {
        (with_cards().when(ALICE, edit(ALICES_CARD, title, "", 1)), edited(ALICES_CARD, title, ""))
    });
    check_text(Text::Body, "card text", limits::CARD_BODY, |body| {
        let title = "Kyläkahvila ja kirjasto";
        (with_cards().when(ALICE, edit(ALICES_CARD, title, body, 1)), edited(ALICES_CARD, title, body))
    });
}

#[test]
fn the_author_or_a_facilitator_edits_a_card() {
    check_actors(
        &with_cards(),
        edit(ALICES_CARD, "Kyläkahvila", "Lauantaisin", 1),
        vec![
            (ALICE, Ok(edited(ALICES_CARD, "Kyläkahvila", "Lauantaisin"))),
            (FACILITATOR, Ok(edited(ALICES_CARD, "Kyläkahvila", "Lauantaisin"))),
            (BOB, Err(not_author("edit this card"))),
            (OBSERVER, Err(forbidden("edit this card", Role::Observer))),
        ],
    );
}

#[test]
fn an_edit_records_who_wrote_the_text_and_bumps_its_version() {
    let edited_by_alice = with_cards().given(ALICE, edit(ALICES_CARD, "Kyläkahvila", "Lauantaisin", 1));
    let card = &edited_by_alice.state().cards[&ALICES_CARD];
    assert_eq!((card.text_by, card.text_version), (ALICE, 2));
    let outcome = edited_by_alice.when(FACILITATOR, edit(ALICES_CARD, "Kyläkahvila", "Lauantaisin kello 10", 2));
    let at = outcome.at;
    let _ = outcome.then_state(|state| {
        let card = &state.cards[&ALICES_CARD];
        assert_eq!((card.author, card.text_by, card.text_version, card.updated_at), (ALICE, FACILITATOR, 3, at));
        assert_eq!(card.body, PersonalText::from("Lauantaisin kello 10"));
    });
}

#[test]
fn editing_checks_the_card_and_its_version() {
    let _ = with_cards().when(ALICE, edit(NEW_CARD, "Ei ole", "", 1)).then_error_eq(not_found(Kind::Card, NEW_CARD));
    let _ = with_cards()
        .given(ALICE, archive(ALICES_CARD))
        .when(ALICE, edit(ALICES_CARD, "Arkistossa", "", 1))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = with_cards()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, edit(ALICES_CARD, "Arkistossa", "", 1))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
    let _ = with_cards()
        .given(FACILITATOR, edit(ALICES_CARD, "Kahvila", "", 1))
        .when(ALICE, edit(ALICES_CARD, "Kyläkahvila!", "", 1))
        .then_error_eq(stale(Kind::Card, 1, 2));
    let _ = with_cards().when(ALICE, edit(ALICES_CARD, "Kyläkahvila", "", 1)).then_no_events();
}

#[test]
fn moving_cards_within_and_across_columns_keeps_the_order_asked_for() {
    for ((card, column, to_index), ideas, later) in [
        ((I1, IDEAS, 2), vec![I2, I3, I1], vec![L1, L2]),
        ((I3, IDEAS, 0), vec![I3, I1, I2], vec![L1, L2]),
        ((I1, IDEAS, 1), vec![I2, I1, I3], vec![L1, L2]),
        ((I2, IDEAS, 2), vec![I1, I3, I2], vec![L1, L2]),
        ((I1, LATER, 0), vec![I2, I3], vec![I1, L1, L2]),
        ((I2, LATER, 1), vec![I1, I3], vec![L1, I2, L2]),
        ((I2, LATER, 2), vec![I1, I3], vec![L1, L2, I2]),
        ((L2, IDEAS, 1), vec![I1, L2, I2, I3], vec![L1]),
        ((L1, IDEAS, 3), vec![I1, I2, I3, L1], vec![L2]),
    ] {
        let outcome = five_cards().when(ALICE, move_card(card, column, to_index)).then_events(vec![Event::CardMoved {
            card,
            column,
            to_index,
        }]);
        let at = outcome.at;
        let _ = outcome.then_state(|state| {
            assert_eq!((order(state, IDEAS), order(state, LATER)), (ideas, later), "{card} to {to_index}");
            assert_eq!((state.cards[&card].column, state.cards[&card].updated_at), (column, at));
        });
    }
}

#[test]
fn a_card_moves_to_a_place_that_exists() {
    let _ = five_cards()
        .when(ALICE, move_card(I1, IDEAS, 3))
        .then_error_eq(DomainError::InvalidPosition { index: 3, max: 2 });
    let _ = five_cards()
        .when(ALICE, move_card(I1, LATER, 3))
        .then_error_eq(DomainError::InvalidPosition { index: 3, max: 2 });
    let _ = five_cards()
        .when(ALICE, move_card(I1, LATER, u32::MAX))
        .then_error_eq(DomainError::InvalidPosition { index: u32::MAX, max: 2 });
}

#[test]
fn moving_a_card_to_where_it_is_is_a_no_op() {
    for (card, to_index) in [(I1, 0), (I2, 1), (I3, 2)] {
        let _ = five_cards().when(ALICE, move_card(card, IDEAS, to_index)).then_no_events();
    }
}

#[test]
fn the_author_or_a_facilitator_moves_a_card() {
    let moved = Ok(vec![Event::CardMoved { card: ALICES_CARD, column: LATER, to_index: 0 }]);
    check_actors(
        &with_cards(),
        move_card(ALICES_CARD, LATER, 0),
        vec![
            (ALICE, moved.clone()),
            (FACILITATOR, moved),
            (BOB, Err(not_author("move this card"))),
            (OBSERVER, Err(forbidden("move this card", Role::Observer))),
        ],
    );
}

#[test]
fn moving_needs_a_card_and_a_column_on_the_board() {
    let _ = with_cards().when(ALICE, move_card(NEW_CARD, LATER, 0)).then_error_eq(not_found(Kind::Card, NEW_CARD));
    let _ = with_cards()
        .when(ALICE, move_card(ALICES_CARD, column(9), 0))
        .then_error_eq(not_found(Kind::Column, column(9)));
    let _ = with_cards()
        .given(FACILITATOR, Command::ArchiveColumn { column: LATER })
        .when(ALICE, move_card(ALICES_CARD, LATER, 0))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
    let _ = with_cards()
        .given(ALICE, archive(ALICES_CARD))
        .when(ALICE, move_card(ALICES_CARD, LATER, 0))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = with_cards()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, move_card(ALICES_CARD, LATER, 0))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}

#[test]
fn the_facilitator_sets_a_cards_status() {
    let _ = with_cards()
        .when(FACILITATOR, status(ALICES_CARD, CardStatus::Selected))
        .then_events(vec![Event::CardStatusSet { card: ALICES_CARD, status: CardStatus::Selected }])
        .then_state(|state| assert_eq!(state.cards[&ALICES_CARD].status, CardStatus::Selected));
    let _ = with_cards().when(FACILITATOR, status(ALICES_CARD, CardStatus::New)).then_no_events();
    let _ = with_cards()
        .when(FACILITATOR, status(NEW_CARD, CardStatus::Done))
        .then_error_eq(not_found(Kind::Card, NEW_CARD));
    check_actors(
        &with_cards(),
        status(ALICES_CARD, CardStatus::Done),
        vec![
            (ALICE, Err(forbidden("set a card's status", Role::Participant))),
            (OBSERVER, Err(forbidden("set a card's status", Role::Observer))),
        ],
    );
}

#[test]
fn an_archived_card_still_gets_a_status() {
    let _ = with_cards()
        .given(ALICE, archive(ALICES_CARD))
        .when(FACILITATOR, status(ALICES_CARD, CardStatus::Declined))
        .then_events(vec![Event::CardStatusSet { card: ALICES_CARD, status: CardStatus::Declined }]);
}

#[test]
fn archiving_takes_a_card_off_its_column_and_restoring_puts_it_back_at_the_end() {
    let _ =
        five_cards().when(ALICE, archive(I1)).then_events(vec![Event::CardArchived { card: I1 }]).then_state(|state| {
            assert_eq!(order(state, IDEAS), [I2, I3]);
            assert!(state.cards[&I1].archived);
            assert_eq!(state.cards[&I1].column, IDEAS);
        });
    let _ = five_cards()
        .given(ALICE, archive(I1))
        .when(ALICE, restore(I1))
        .then_events(vec![Event::CardRestored { card: I1 }])
        .then_state(|state| {
            assert_eq!(order(state, IDEAS), [I2, I3, I1]);
            assert!(!state.cards[&I1].archived);
        });
}

#[test]
fn the_author_or_a_facilitator_archives_and_restores_a_card() {
    check_actors(
        &with_cards(),
        archive(ALICES_CARD),
        vec![
            (ALICE, Ok(vec![Event::CardArchived { card: ALICES_CARD }])),
            (FACILITATOR, Ok(vec![Event::CardArchived { card: ALICES_CARD }])),
            (BOB, Err(not_author("archive this card"))),
            (OBSERVER, Err(forbidden("archive this card", Role::Observer))),
        ],
    );
    check_actors(
        &with_cards().given(ALICE, archive(ALICES_CARD)),
        restore(ALICES_CARD),
        vec![
            (ALICE, Ok(vec![Event::CardRestored { card: ALICES_CARD }])),
            (FACILITATOR, Ok(vec![Event::CardRestored { card: ALICES_CARD }])),
            (BOB, Err(not_author("restore this card"))),
            (OBSERVER, Err(forbidden("restore this card", Role::Observer))),
        ],
    );
}

#[test]
fn archiving_and_restoring_check_the_card_and_its_column() {
    let _ = with_cards().when(ALICE, archive(NEW_CARD)).then_error_eq(not_found(Kind::Card, NEW_CARD));
    let _ = with_cards().when(ALICE, restore(NEW_CARD)).then_error_eq(not_found(Kind::Card, NEW_CARD));
    let _ = with_cards()
        .given(ALICE, archive(ALICES_CARD))
        .when(ALICE, archive(ALICES_CARD))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = with_cards().when(ALICE, restore(ALICES_CARD)).then_error_eq(DomainError::NotArchived { kind: Kind::Card });
    let _ = with_cards()
        .given(ALICE, archive(ALICES_CARD))
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, restore(ALICES_CARD))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}
