//! Joining, renaming and roles. Erasure has its own file.

use super::*;
use crate::PersonalText;
use crate::limits;

fn joined(participant: ParticipantId, name: &str, role: Role) -> Vec<Event> {
    vec![Event::ParticipantJoined { participant, display_name: name.into(), role }]
}

fn rename(name: &str) -> Command {
    Command::Rename { display_name: name.into() }
}

fn change_role(participant: ParticipantId, role: Role) -> Command {
    Command::ChangeRole { participant, role }
}

#[test]
fn every_command_needs_a_participant_who_has_joined_and_was_not_erased() {
    let board = with_cards().given(ALICE, add_comment(ALICES_COMMENT, ALICES_CARD, "Kahvia!"));
    for command in every_acting_command() {
        let _ = board.clone().when(STRANGER, command.clone()).then_error_eq(DomainError::NotJoined);
        let _ = board.clone().when(ERASED, command).then_error_eq(DomainError::ParticipantErased);
    }
}

#[test]
fn people_join_with_the_role_of_their_link() {
    for role in [Role::Participant, Role::Observer, Role::Facilitator] {
        let outcome = people().when(STRANGER, join("Sanna Säkkinen", role));
        let at = outcome.at;
        let _ = outcome.then_events(joined(STRANGER, "Sanna Säkkinen", role)).then_state(|state| {
            let joined = &state.participants[&STRANGER];
            assert_eq!(joined.display_name, PersonalText::from("Sanna Säkkinen"));
            assert_eq!((joined.role, joined.joined_at, joined.erased, joined.votes_used), (role, at, false, 0));
        });
    }
}

#[test]
fn joining_needs_a_board() {
    let _ = Scenario::new().when(ALICE, join("Aino", Role::Participant)).then_error_eq(DomainError::BoardNotFound);
}

#[test]
fn nobody_joins_twice_and_an_erased_participant_does_not_come_back() {
    for actor in [FACILITATOR, ALICE, OBSERVER] {
        let _ = people().when(actor, join("Toinen kerta", Role::Participant)).then_error_eq(DomainError::AlreadyJoined);
    }
    let _ = people().when(ERASED, join("Pirkko", Role::Participant)).then_error_eq(DomainError::ParticipantErased);
}

#[test]
fn a_board_holds_at_most_max_participants() {
    let fill = |count: usize| {
        let present = people().state().participants.len();
        people().given_events(
            FACILITATOR,
            (present..count).map(|n| Event::ParticipantJoined {
                participant: participant(n as u128),
                display_name: format!("Osallistuja {n}").into(),
                role: Role::Participant,
            }),
        )
    };
    let _ = fill(limits::MAX_PARTICIPANTS - 1)
        .when(STRANGER, join("Viimeinen", Role::Participant))
        .then_events(joined(STRANGER, "Viimeinen", Role::Participant));
    let _ = fill(limits::MAX_PARTICIPANTS)
        .when(STRANGER, join("Liikaa", Role::Participant))
        .then_error_eq(DomainError::LimitReached { what: "participants", max: limits::MAX_PARTICIPANTS });
}

#[test]
fn display_names_follow_the_text_rules_when_joining() {
    check_text(Text::Line, "display name", limits::DISPLAY_NAME, |name| {
        (people().when(STRANGER, join(name, Role::Participant)), joined(STRANGER, name, Role::Participant))
    });
}

#[test]
fn everyone_may_rename_themselves_observers_too() {
    for actor in [FACILITATOR, ALICE, OBSERVER] {
        let _ = people()
            .when(actor, rename("Uusi Nimi"))
            .then_events(vec![Event::ParticipantRenamed { participant: actor, display_name: "Uusi Nimi".into() }])
            .then_state(|state| assert_eq!(state.participants[&actor].display_name.as_text(), Some("Uusi Nimi")));
    }
}

#[test]
fn renaming_to_the_same_name_is_a_no_op() {
    let _ = people().when(ALICE, rename("Aino Ääkkönen")).then_no_events();
}

#[test]
fn display_names_follow_the_text_rules_when_renaming() {
    check_text(Text::Line, "display name", limits::DISPLAY_NAME, |name| {
        let renamed = Event::ParticipantRenamed { participant: ALICE, display_name: name.into() };
        (people().when(ALICE, rename(name)), vec![renamed])
    });
}

#[test]
fn the_facilitator_changes_roles() {
    for (target, role) in [(ALICE, Role::Facilitator), (ALICE, Role::Observer), (OBSERVER, Role::Participant)] {
        let _ = people()
            .when(FACILITATOR, change_role(target, role))
            .then_events(vec![Event::RoleChanged { participant: target, role }])
            .then_state(|state| assert_eq!(state.participants[&target].role, role));
    }
    check_actors(
        &people(),
        change_role(BOB, Role::Observer),
        vec![
            (ALICE, Err(forbidden("change roles", Role::Participant))),
            (OBSERVER, Err(forbidden("change roles", Role::Observer))),
            (BOB, Err(forbidden("change roles", Role::Participant))),
        ],
    );
}

#[test]
fn roles_change_only_for_people_who_are_there() {
    let _ = people()
        .when(FACILITATOR, change_role(STRANGER, Role::Observer))
        .then_error_eq(not_found(Kind::Participant, STRANGER));
    let _ =
        people().when(FACILITATOR, change_role(ERASED, Role::Observer)).then_error_eq(DomainError::ParticipantErased);
}

#[test]
fn giving_someone_the_role_they_have_is_a_no_op() {
    let _ = people().when(FACILITATOR, change_role(ALICE, Role::Participant)).then_no_events();
    let _ = people().when(FACILITATOR, change_role(FACILITATOR, Role::Facilitator)).then_no_events();
}

#[test]
fn the_board_keeps_at_least_one_facilitator() {
    for role in [Role::Participant, Role::Observer] {
        let _ = people().when(FACILITATOR, change_role(FACILITATOR, role)).then_error_eq(DomainError::LastFacilitator);
    }
    // With a second facilitator either may step down.
    let two = people().given(FACILITATOR, change_role(ALICE, Role::Facilitator));
    let _ = two
        .clone()
        .when(FACILITATOR, change_role(FACILITATOR, Role::Participant))
        .then_events(vec![Event::RoleChanged { participant: FACILITATOR, role: Role::Participant }]);
    let _ = two
        .clone()
        .when(ALICE, change_role(FACILITATOR, Role::Observer))
        .then_events(vec![Event::RoleChanged { participant: FACILITATOR, role: Role::Observer }]);
    // An erased facilitator does not count.
    let _ = two
        .given(ALICE, Command::EraseParticipant { participant: ALICE })
        .when(FACILITATOR, change_role(FACILITATOR, Role::Participant))
        .then_error_eq(DomainError::LastFacilitator);
}

fn remove(participant: ParticipantId) -> Command {
    Command::RemoveParticipant { participant }
}

#[test]
fn a_facilitator_removes_a_participant_whose_dots_go_back_and_who_can_no_longer_act() {
    let board = with_cards()
        .given(ALICE, vote(BOBS_CARD))
        .given(ALICE, vote(BOBS_CARD))
        .given(BOB, vote(BOBS_CARD))
        .given(ALICE, vote(ALICES_CARD));
    let removed = board
        .clone()
        .when(FACILITATOR, remove(ALICE))
        .then_events(vec![Event::ParticipantRemoved { participant: ALICE }])
        .then_state(|state| {
            let alice = &state.participants[&ALICE];
            assert!(alice.removed && !alice.erased);
            assert_eq!(alice.votes_used, 0);
            assert_eq!(state.cards[&BOBS_CARD].vote_total(), 1, "Bob's own dot stays");
            assert_eq!(state.cards[&ALICES_CARD].vote_total(), 0);
            assert_eq!(state.cards[&ALICES_CARD].title, PersonalText::from("Kyläkahvila"), "her words stay");
            assert!(state.active_participant(ALICE).is_none());
        })
        .and();
    for command in every_acting_command() {
        let _ = removed.clone().when(ALICE, command).then_error_eq(DomainError::ParticipantRemoved);
    }
    let _ = removed.clone().when(ALICE, join("Aino", Role::Participant)).then_error_eq(DomainError::ParticipantRemoved);
    let _ = removed.when(FACILITATOR, remove(ALICE)).then_no_events();
}

#[test]
fn only_facilitators_remove_and_never_the_last_facilitator() {
    let _ = people().when(ALICE, remove(BOB)).then_error_eq(forbidden("remove a participant", Role::Participant));
    let _ = people().when(OBSERVER, remove(BOB)).then_error_eq(forbidden("remove a participant", Role::Observer));
    let _ = people().when(FACILITATOR, remove(FACILITATOR)).then_error_eq(DomainError::LastFacilitator);
    let _ = people().when(FACILITATOR, remove(STRANGER)).then_error_eq(not_found(Kind::Participant, STRANGER));
    let _ = people().when(FACILITATOR, remove(ERASED)).then_no_events();
    let two = people().given(FACILITATOR, change_role(BOB, Role::Facilitator));
    let _ = two
        .when(BOB, remove(FACILITATOR))
        .then_events(vec![Event::ParticipantRemoved { participant: FACILITATOR }])
        .then_state(|state| assert_eq!(state.facilitator_count(), 1));
}
