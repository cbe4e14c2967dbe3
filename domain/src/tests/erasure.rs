//! Erasing a participant (GDPR art. 17): their name, the card texts they wrote last and their
//! comments become unreadable; everything else on the board stays exactly as it was.

use super::*;
use crate::PersonalText;
use kipina_proto::CardStatus;
use kipina_proto::ErrorCode;

const EDITED_CARD: CardId = card(5);
const ALICES_OWN_COMMENT: CommentId = comment(3);
const BOBS_COMMENT: CommentId = comment(4);
const BOBS_REPLY: CommentId = comment(2);

fn erase(participant: ParticipantId) -> Command {
    Command::EraseParticipant { participant }
}

/// A board where Alice has done a bit of everything: cards (one of them since edited by the
/// facilitator), a label, a move, comments and a reply to her, dots and likes.
fn busy_board() -> Scenario {
    let scenario = with_cards()
        .given(ALICE, Command::Rename { display_name: "Aino Ä.".into() })
        .given(ALICE, add_card(EDITED_CARD, LATER, "Aino kirjoitti tämän"))
        .given(
            FACILITATOR,
            Command::EditCard {
                card: EDITED_CARD,
                title: "Fasilitaattori kirjoitti tämän".into(),
                body: "Koottu ryhmän ideoista".into(),
                base_version: 1,
            },
        )
        .given(FACILITATOR, create_label(LABEL, "Kiireellinen", "red"))
        .given(ALICE, Command::SetCardLabel { card: ALICES_CARD, label: LABEL, on: true })
        .given(FACILITATOR, Command::SetCardStatus { card: ALICES_CARD, status: CardStatus::Selected })
        .given(ALICE, move_card(ALICES_CARD, IDEAS, 1))
        .given(ALICE, add_comment(ALICES_COMMENT, BOBS_CARD, "Hyvä idea"))
        .given(BOB, reply(BOBS_REPLY, BOBS_CARD, ALICES_COMMENT, "Kiitos, Aino"))
        .given(ALICE, add_comment(ALICES_OWN_COMMENT, ALICES_CARD, "Kahvia"))
        .given(
            ALICE,
            Command::EditComment { comment: ALICES_OWN_COMMENT, body: "Kahvia ja pullaa".into(), base_version: 1 },
        )
        .given(BOB, add_comment(BOBS_COMMENT, ALICES_CARD, "Mukana"))
        .given(ALICE, vote(BOBS_CARD))
        .given(ALICE, vote(BOBS_CARD))
        .given(ALICE, vote(ALICES_CARD))
        .given(BOB, vote(ALICES_CARD))
        .given(ALICE, like_card(BOBS_CARD))
        .given(ALICE, Command::ToggleReaction { target: ReactionTarget::Comment(BOBS_REPLY) })
        .given(BOB, Command::ToggleReaction { target: ReactionTarget::Comment(ALICES_COMMENT) });
    assert_eq!(scenario.state().cards[&EDITED_CARD].text_by, FACILITATOR);
    scenario
}

/// What erasing Alice must do to `before`, field by field, and nothing more.
fn alice_erased(before: &BoardState) -> BoardState {
    let mut expected = before.clone();
    expected.version = before.version + 1;
    let alice = expected.participants.get_mut(&ALICE).expect("Alice joined");
    alice.erased = true;
    alice.display_name = PersonalText::Erased;
    // What she followed goes with her, on both sides.
    for card in std::mem::take(&mut alice.following) {
        expected.cards.get_mut(&card).expect("a card she followed").followers.remove(&ALICE);
    }
    let card = expected.cards.get_mut(&ALICES_CARD).expect("Alice wrote it");
    card.title = PersonalText::Erased;
    card.body = PersonalText::Erased;
    for comment in [ALICES_COMMENT, ALICES_OWN_COMMENT] {
        expected.comments.get_mut(&comment).expect("Alice wrote it").body = PersonalText::Erased;
    }
    expected
}

#[test]
fn erasing_blanks_the_persons_words_and_changes_nothing_else() {
    let outcome =
        busy_board().when(FACILITATOR, erase(ALICE)).then_events(vec![Event::ParticipantErased { participant: ALICE }]);
    let expected = alice_erased(outcome.before());
    let _ = outcome.then_state(|state| {
        assert_eq!(*state, expected);
        // Spelled out, the things that must survive:
        let edited = &state.cards[&EDITED_CARD];
        assert_eq!(edited.title, PersonalText::from("Fasilitaattori kirjoitti tämän"));
        assert_eq!(edited.author, ALICE);
        let card = &state.cards[&ALICES_CARD];
        assert_eq!((card.status, card.labels.len(), card.vote_total()), (CardStatus::Selected, 1, 2));
        assert_eq!(state.columns[&IDEAS].cards, [BOBS_CARD, ALICES_CARD]);
        assert_eq!(state.cards[&BOBS_CARD].votes[&ALICE], 2);
        assert_eq!(state.participants[&ALICE].votes_used, 3);
        assert!(state.cards[&BOBS_CARD].likes.contains(&ALICE));
        assert_eq!(state.comments[&BOBS_REPLY].body, PersonalText::from("Kiitos, Aino"));
        assert_eq!(state.participants[&BOB].display_name, PersonalText::from("Eero Mäkelä"));
        assert!(!state.comments[&ALICES_COMMENT].deleted);
    });
}

#[test]
fn a_participant_may_erase_themselves() {
    let outcome =
        busy_board().when(ALICE, erase(ALICE)).then_events(vec![Event::ParticipantErased { participant: ALICE }]);
    let expected = alice_erased(outcome.before());
    let _ = outcome.then_state(|state| assert_eq!(*state, expected));
    let _ =
        people().when(OBSERVER, erase(OBSERVER)).then_events(vec![Event::ParticipantErased { participant: OBSERVER }]);
}

#[test]
fn a_card_text_belongs_to_whoever_wrote_it_last() {
    // Alice, now a facilitator, rewrites Bob's card: the words are hers.
    let rewritten =
        with_cards().given(FACILITATOR, Command::ChangeRole { participant: ALICE, role: Role::Facilitator }).given(
            ALICE,
            Command::EditCard {
                card: BOBS_CARD,
                title: "Nuorisotila kirjastoon".into(),
                body: String::new(),
                base_version: 1,
            },
        );
    let _ = rewritten.clone().when(FACILITATOR, erase(ALICE)).then_state(|state| {
        assert_eq!(state.cards[&BOBS_CARD].title, PersonalText::Erased);
        assert_eq!(state.cards[&BOBS_CARD].author, BOB);
    });
    let _ = rewritten.when(FACILITATOR, erase(BOB)).then_state(|state| {
        assert_eq!(state.cards[&BOBS_CARD].title, PersonalText::from("Nuorisotila kirjastoon"));
        assert_eq!(state.participants[&BOB].display_name, PersonalText::Erased);
    });
}

#[test]
fn only_a_facilitator_erases_someone_else() {
    check_actors(
        &busy_board(),
        erase(BOB),
        vec![
            (FACILITATOR, Ok(vec![Event::ParticipantErased { participant: BOB }])),
            (ALICE, Err(forbidden("erase another participant", Role::Participant))),
            (OBSERVER, Err(forbidden("erase another participant", Role::Observer))),
        ],
    );
}

#[test]
fn erasing_someone_who_never_joined_is_refused() {
    let _ = people().when(FACILITATOR, erase(STRANGER)).then_error_eq(not_found(Kind::Participant, STRANGER));
}

#[test]
fn erasing_twice_is_a_no_op() {
    let _ = people().when(FACILITATOR, erase(ERASED)).then_no_events();
    let _ = busy_board().given(FACILITATOR, erase(ALICE)).when(FACILITATOR, erase(ALICE)).then_no_events();
}

#[test]
fn an_erased_participant_can_do_nothing_more() {
    let erased = busy_board().given(ALICE, erase(ALICE));
    for command in [
        add_card(card(9), IDEAS, "Vielä yksi"),
        vote(BOBS_CARD),
        Command::WithdrawVote { card: BOBS_CARD },
        Command::Rename { display_name: "Aino".into() },
        erase(ALICE),
        join("Aino", Role::Participant),
    ] {
        let _ = erased.clone().when(ALICE, command).then_error(ErrorCode::ParticipantErased);
    }
}

#[test]
fn even_the_last_facilitator_may_be_erased() {
    let _ = people()
        .when(FACILITATOR, erase(FACILITATOR))
        .then_events(vec![Event::ParticipantErased { participant: FACILITATOR }])
        .then_state(|state| assert_eq!(state.facilitator_count(), 0));
}
