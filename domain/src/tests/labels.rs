//! Labels: made by the facilitator, put on cards by the card's author or a facilitator.

use super::*;
use crate::limits;

fn label_on(card: CardId, label: LabelId, on: bool) -> Command {
    Command::SetCardLabel { card, label, on }
}

fn created(label: LabelId, name: &str, color: &str) -> Vec<Event> {
    vec![Event::LabelCreated { label, name: name.into(), color: color.into() }]
}

/// Alice's and Bob's cards and the label "Kiireellinen".
fn labelled_board() -> Scenario {
    with_cards().given(FACILITATOR, create_label(LABEL, "Kiireellinen", "red"))
}

#[test]
fn the_facilitator_creates_labels() {
    let _ = workshop()
        .when(FACILITATOR, create_label(LABEL, "Kiireellinen", "red"))
        .then_events(created(LABEL, "Kiireellinen", "red"))
        .then_state(|state| {
            let made = &state.labels[&LABEL];
            assert_eq!((made.name.as_str(), made.color.as_str()), ("Kiireellinen", "red"));
        });
    check_actors(
        &workshop(),
        create_label(LABEL, "Kiireellinen", "red"),
        vec![
            (ALICE, Err(forbidden("create labels", Role::Participant))),
            (OBSERVER, Err(forbidden("create labels", Role::Observer))),
        ],
    );
}

#[test]
fn a_label_id_is_used_once() {
    let _ = labelled_board()
        .when(FACILITATOR, create_label(LABEL, "Toinen", "blue"))
        .then_error_eq(already_exists(Kind::Label, LABEL));
}

#[test]
fn a_board_holds_at_most_max_labels() {
    let fill = |count: usize| {
        workshop().given_events(
            FACILITATOR,
            (0..count).map(|n| Event::LabelCreated {
                label: label(100 + n as u128),
                name: format!("Tunniste {n}"),
                color: "green".into(),
            }),
        )
    };
    let _ = fill(limits::MAX_LABELS - 1)
        .when(FACILITATOR, create_label(LABEL, "Viimeinen", "pink"))
        .then_events(created(LABEL, "Viimeinen", "pink"));
    let _ = fill(limits::MAX_LABELS)
        .when(FACILITATOR, create_label(LABEL, "Liikaa", "pink"))
        .then_error_eq(DomainError::LimitReached { what: "labels", max: limits::MAX_LABELS });
}

#[test]
fn label_colours_come_from_the_palette() {
    for color in limits::LABEL_COLORS {
        let _ =
            workshop().when(FACILITATOR, create_label(LABEL, "Väri", color)).then_events(created(LABEL, "Väri", color));
    }
    for color in ["Green", "teal", "", "#ff0000", " red"] {
        let _ = workshop()
            .when(FACILITATOR, create_label(LABEL, "Väri", color))
            .then_error_eq(DomainError::InvalidColor(color.into()));
    }
}

#[test]
fn label_names_may_be_empty_but_follow_the_other_text_rules() {
    check_text(Text::OptionalLine, "label name", limits::LABEL_NAME, |name| {
        (workshop().when(FACILITATOR, create_label(LABEL, name, "sky")), created(LABEL, name, "sky"))
    });
}

#[test]
fn the_author_or_a_facilitator_puts_a_label_on_a_card_and_takes_it_off() {
    let on = Ok(vec![Event::CardLabelled { card: ALICES_CARD, label: LABEL }]);
    check_actors(
        &labelled_board(),
        label_on(ALICES_CARD, LABEL, true),
        vec![
            (ALICE, on.clone()),
            (FACILITATOR, on),
            (BOB, Err(not_author("label this card"))),
            (OBSERVER, Err(forbidden("label this card", Role::Observer))),
        ],
    );
    let with_label = labelled_board().given(ALICE, label_on(ALICES_CARD, LABEL, true));
    assert!(with_label.state().cards[&ALICES_CARD].labels.contains(&LABEL));
    let off = Ok(vec![Event::CardUnlabelled { card: ALICES_CARD, label: LABEL }]);
    check_actors(
        &with_label,
        label_on(ALICES_CARD, LABEL, false),
        vec![
            (ALICE, off.clone()),
            (FACILITATOR, off),
            (BOB, Err(not_author("label this card"))),
            (OBSERVER, Err(forbidden("label this card", Role::Observer))),
        ],
    );
    let _ = with_label
        .when(ALICE, label_on(ALICES_CARD, LABEL, false))
        .then_state(|state| assert!(state.cards[&ALICES_CARD].labels.is_empty()));
}

#[test]
fn labelling_to_what_is_already_true_is_a_no_op() {
    let _ = labelled_board().when(ALICE, label_on(ALICES_CARD, LABEL, false)).then_no_events();
    let _ = labelled_board()
        .given(ALICE, label_on(ALICES_CARD, LABEL, true))
        .when(FACILITATOR, label_on(ALICES_CARD, LABEL, true))
        .then_no_events();
}

#[test]
fn labelling_needs_a_label_and_a_card_on_the_board() {
    let _ = labelled_board()
        .when(ALICE, label_on(ALICES_CARD, label(9), true))
        .then_error_eq(not_found(Kind::Label, label(9)));
    let _ = labelled_board().when(ALICE, label_on(card(9), LABEL, true)).then_error_eq(not_found(Kind::Card, card(9)));
    let _ = labelled_board()
        .given(ALICE, Command::ArchiveCard { card: ALICES_CARD })
        .when(ALICE, label_on(ALICES_CARD, LABEL, true))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = labelled_board()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(FACILITATOR, label_on(ALICES_CARD, LABEL, true))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}
