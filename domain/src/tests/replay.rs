//! `evolve` holds no rules and cannot fail: a fact about something that is not there (which
//! `decide` never produces, but a damaged or hand-made history might hold) changes nothing but
//! the version, so replaying any history succeeds.

use super::*;
use kipina_proto::{BoardSettings, CardStatus};

/// Facts that each refer to a card, column, comment, label or participant the board lacks,
/// or to a vote or like that was never given.
fn facts_about_missing_things() -> Vec<(ParticipantId, Event)> {
    let (no_card, no_column, no_comment, no_label) = (card(99), column(99), comment(99), label(99));
    vec![
        (ALICE, Event::CardMoved { card: no_card, column: IDEAS, to_index: 0 }),
        (ALICE, Event::CardMoved { card: ALICES_CARD, column: no_column, to_index: 0 }),
        (ALICE, Event::CardAdded { card: no_card, column: no_column, title: "Minne".into(), body: "".into() }),
        (ALICE, Event::CardEdited { card: no_card, title: "Mikä".into(), body: "".into() }),
        (FACILITATOR, Event::CardStatusSet { card: no_card, status: CardStatus::Done }),
        (ALICE, Event::CardArchived { card: no_card }),
        (ALICE, Event::CardRestored { card: no_card }),
        (ALICE, Event::CardRestored { card: ALICES_CARD }),
        (ALICE, Event::CardLabelled { card: no_card, label: LABEL }),
        (ALICE, Event::CardLabelled { card: ALICES_CARD, label: no_label }),
        (ALICE, Event::CardUnlabelled { card: ALICES_CARD, label: no_label }),
        (ALICE, Event::CardUnlabelled { card: no_card, label: LABEL }),
        (
            ALICE,
            Event::CommentAdded {
                comment: no_comment,
                card: no_card,
                reply_to: None,
                body: "Hei".into(),
                mentions: vec![],
            },
        ),
        (ALICE, Event::CommentEdited { comment: no_comment, body: "Hei".into(), mentions: vec![] }),
        (ALICE, Event::CommentDeleted { comment: no_comment }),
        (ALICE, Event::VoteCast { card: no_card }),
        (STRANGER, Event::VoteCast { card: ALICES_CARD }),
        (BOB, Event::VoteWithdrawn { card: ALICES_CARD }),
        (ALICE, Event::VoteWithdrawn { card: no_card }),
        (ALICE, Event::ReactionAdded { target: ReactionTarget::Card(no_card) }),
        (ALICE, Event::ReactionAdded { target: ReactionTarget::Comment(no_comment) }),
        (STRANGER, Event::ReactionAdded { target: ReactionTarget::Card(ALICES_CARD) }),
        (BOB, Event::ReactionRemoved { target: ReactionTarget::Card(ALICES_CARD) }),
        (ALICE, Event::ReactionRemoved { target: ReactionTarget::Comment(no_comment) }),
        (FACILITATOR, Event::ColumnRenamed { column: no_column, title: "Ei".into() }),
        (FACILITATOR, Event::ColumnMoved { column: no_column, to_index: 0 }),
        (FACILITATOR, Event::ColumnArchived { column: no_column }),
        (FACILITATOR, Event::ColumnRestored { column: no_column }),
        (FACILITATOR, Event::ColumnRestored { column: IDEAS }),
        (STRANGER, Event::ParticipantRenamed { participant: STRANGER, display_name: "Kuka".into() }),
        (FACILITATOR, Event::RoleChanged { participant: STRANGER, role: Role::Facilitator }),
        (FACILITATOR, Event::ParticipantErased { participant: STRANGER }),
    ]
}

#[test]
fn facts_about_missing_things_change_only_the_version() {
    let board = with_cards().given(FACILITATOR, create_label(LABEL, "Kiireellinen", "red"));
    for (actor, event) in facts_about_missing_things() {
        let before = board.state().clone();
        let after = board.clone().given_events(actor, [event.clone()]);
        let expected = BoardState { version: before.version + 1, ..before };
        assert_eq!(*after.state(), expected, "{event:?}");
    }
}

#[test]
fn board_facts_before_the_board_exists_change_only_the_version() {
    for event in [
        Event::BoardEdited { title: "Ei vielä".into(), description: String::new() },
        Event::BoardLanguageSet { language: Language::En },
        Event::SettingsChanged { settings: BoardSettings { vote_budget: 9, votes_per_card: 9 } },
    ] {
        let after = Scenario::new().given_events(FACILITATOR, [event.clone()]);
        assert_eq!(*after.state(), BoardState { version: 1, ..BoardState::default() }, "{event:?}");
    }
}
