//! Between camps: `@name` mentions, following cards, notifications, and what has been seen.

use super::*;
use crate::attention::{MAX_NOTIFICATIONS, mentions};
use kipina_proto::CardStatus;
use kipina_proto::view::NotificationKind;

const NEW_COMMENT: CommentId = comment(9);

/// [`with_cards`] plus a participant whose name has spaces, a hyphen and Finnish letters, and
/// one whose name is the start of another's.
fn names() -> Scenario {
    with_cards()
        .given(participant(21), join("Åsa Mäkelä-Öhman", Role::Participant))
        .given(participant(22), join("Aino", Role::Participant))
}

fn mentioned(scenario: &Scenario, text: &str) -> Vec<ParticipantId> {
    mentions(scenario.state(), text)
}

#[test]
fn mentions_match_whole_names_with_spaces_and_finnish_letters() {
    let board = names();
    assert_eq!(mentioned(&board, "Kiitos @Eero Mäkelä!"), [BOB]);
    assert_eq!(mentioned(&board, "@åsa mäkelä-öhman, katso tämä"), [participant(21)], "case does not matter");
    // "Aino" and "Aino Ääkkönen" both fit: the longer name wins; alone, "Aino" is the other one.
    assert_eq!(mentioned(&board, "@Aino Ääkkönen ja @Aino"), [ALICE, participant(22)]);
    assert_eq!(mentioned(&board, "@Eero Mäkelä @Eero Mäkelä"), [BOB], "each person once");
}

#[test]
fn mentions_need_a_boundary_on_both_sides() {
    let board = names();
    assert!(mentioned(&board, "posti@Eero Mäkelä").is_empty(), "an e-mail address is not a mention");
    assert!(mentioned(&board, "@Eero Mäkeläinen").is_empty(), "a longer word is someone else");
    assert!(mentioned(&board, "@Pirkko Poistettu").is_empty(), "the erased cannot be mentioned");
    assert!(mentioned(&board, "@ Eero Mäkelä").is_empty());
    assert!(mentioned(&board, "@").is_empty());
    assert_eq!(mentioned(&board, "(@Eero Mäkelä)"), [BOB]);
}

#[test]
fn a_comment_records_who_it_mentions_when_written() {
    let _ = with_cards()
        .when(ALICE, add_comment(NEW_COMMENT, BOBS_CARD, "@Eero Mäkelä ja @Olli Oksanen: kahvia?"))
        .then(Ok(vec![Event::CommentAdded {
            comment: NEW_COMMENT,
            card: BOBS_CARD,
            reply_to: None,
            body: "@Eero Mäkelä ja @Olli Oksanen: kahvia?".into(),
            mentions: vec![BOB, OBSERVER],
        }]));
}

#[test]
fn the_mentioned_and_followers_are_notified_but_not_the_writer() {
    // Bob follows his own card; the observer is mentioned; Alice writes.
    let _ = with_cards().when(ALICE, add_comment(NEW_COMMENT, BOBS_CARD, "Hyvä idea, @Olli Oksanen katso")).then_state(
        |state| {
            let bob = &state.notifications[&BOB];
            assert_eq!(bob.len(), 1);
            assert_eq!(
                (bob[0].kind, bob[0].card, bob[0].comment),
                (NotificationKind::Commented, BOBS_CARD, Some(NEW_COMMENT))
            );
            let observer = &state.notifications[&OBSERVER];
            assert_eq!(observer[0].kind, NotificationKind::Mentioned);
            assert!(!state.notifications.contains_key(&ALICE), "nobody is notified of their own words");
            assert!(state.participants[&ALICE].following.contains(&BOBS_CARD), "commenting follows the card");
        },
    );
}

#[test]
fn a_mentioned_follower_gets_one_notification() {
    let _ = with_cards().when(ALICE, add_comment(NEW_COMMENT, BOBS_CARD, "@Eero Mäkelä?")).then_state(|state| {
        let kinds: Vec<_> = state.notifications[&BOB].iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NotificationKind::Mentioned]);
    });
}

#[test]
fn editing_a_comment_notifies_only_the_newly_mentioned() {
    let board = with_cards().given(ALICE, add_comment(NEW_COMMENT, ALICES_CARD, "@Eero Mäkelä"));
    assert_eq!(board.state().notifications[&BOB].len(), 1);
    let _ = board
        .when(
            ALICE,
            Command::EditComment {
                comment: NEW_COMMENT,
                body: "@Eero Mäkelä ja @Olli Oksanen".into(),
                base_version: 1,
            },
        )
        .then_state(|state| {
            assert_eq!(state.notifications[&BOB].len(), 1, "Bob was already mentioned");
            assert_eq!(state.notifications[&OBSERVER].len(), 1);
            assert_eq!(state.comments[&NEW_COMMENT].mentions, [BOB, OBSERVER]);
        });
}

#[test]
fn followers_hear_of_edits_and_status_changes() {
    let board = with_cards().given(ALICE, Command::FollowCard { card: BOBS_CARD, follow: true });
    let board = board
        .when(
            BOB,
            Command::EditCard {
                card: BOBS_CARD,
                title: "Nuorisotila kouluun".into(),
                body: String::new(),
                base_version: 1,
            },
        )
        .then_state(|state| assert_eq!(state.notifications[&ALICE][0].kind, NotificationKind::Edited))
        .and()
        .when(FACILITATOR, Command::SetCardStatus { card: BOBS_CARD, status: CardStatus::Selected })
        .then_state(|state| {
            let kinds: Vec<_> = state.notifications[&ALICE].iter().map(|n| n.kind).collect();
            assert_eq!(kinds, [NotificationKind::Edited, NotificationKind::StatusChanged]);
            let bob: Vec<_> = state.notifications[&BOB].iter().map(|n| n.kind).collect();
            assert_eq!(bob, [NotificationKind::StatusChanged], "the author follows their card");
        })
        .and();
    // Unfollowing stops it.
    let _ = board
        .given(ALICE, Command::FollowCard { card: BOBS_CARD, follow: false })
        .when(FACILITATOR, Command::SetCardStatus { card: BOBS_CARD, status: CardStatus::Done })
        .then_state(|state| assert_eq!(state.notifications[&ALICE].len(), 2));
}

#[test]
fn following_twice_or_unfollowing_what_is_not_followed_changes_nothing() {
    let _ = with_cards().when(ALICE, Command::FollowCard { card: ALICES_CARD, follow: true }).then_no_events();
    let _ = with_cards().when(ALICE, Command::FollowCard { card: BOBS_CARD, follow: false }).then_no_events();
    let _ = with_cards()
        .when(ALICE, Command::FollowCard { card: card(99), follow: true })
        .then_error_eq(not_found(Kind::Card, card(99)));
    // Observers follow and mark too: it changes nothing anyone else sees.
    let _ = with_cards()
        .when(OBSERVER, Command::FollowCard { card: BOBS_CARD, follow: true })
        .then_events(vec![Event::CardFollowed { card: BOBS_CARD }]);
}

#[test]
fn seen_and_read_marks_move_only_forward_and_never_past_the_head() {
    let board = with_cards();
    let head = board.state().version;
    let board = board
        .when(ALICE, Command::MarkSeen { through: head + 100 })
        .then_events(vec![Event::SeenThrough { through: head }])
        .and();
    let _ = board.clone().when(ALICE, Command::MarkSeen { through: head - 1 }).then_no_events();
    let _ = board.clone().when(ALICE, Command::MarkSeen { through: head }).then_no_events();
    let _ = board
        .when(ALICE, Command::MarkNotificationsRead { through: 3 })
        .then_events(vec![Event::NotificationsRead { through: 3 }])
        .then_state(|state| {
            assert_eq!(state.participants[&ALICE].seen_through, head);
            assert_eq!(state.participants[&ALICE].notifications_read_through, 3);
            assert_eq!(state.participants[&BOB].seen_through, 0);
        });
}

#[test]
fn personal_commands_work_on_a_locked_board() {
    let _ = with_cards()
        .given(FACILITATOR, Command::SetLocked { locked: true })
        .when(BOB, Command::FollowCard { card: ALICES_CARD, follow: true })
        .then_events(vec![Event::CardFollowed { card: ALICES_CARD }]);
}

#[test]
fn a_participant_keeps_only_the_most_recent_notifications() {
    let many = (0..MAX_NOTIFICATIONS as u128 + 5)
        .map(|n| add_comment(comment(100 + n), BOBS_CARD, "Lisää"))
        .fold(with_cards(), |board, command| board.given(ALICE, command));
    let bob = &many.state().notifications[&BOB];
    assert_eq!(bob.len(), MAX_NOTIFICATIONS);
    assert_eq!(bob.last().and_then(|n| n.comment), Some(comment(100 + MAX_NOTIFICATIONS as u128 + 4)));
}

#[test]
fn sessions_remember_where_they_started_and_ended() {
    let session = kipina_proto::SessionId(Uuid::from_u128(0x5E5));
    let board = with_cards().given(
        FACILITATOR,
        Command::CreateSession { session, name: "Kesäleiri".into(), date: "2026-06-12".into(), anonymous: false },
    );
    let board = board.given(FACILITATOR, Command::StartSession { session });
    let started = board.state().version;
    let board = board.given(ALICE, add_card(card(7), IDEAS, "Kesäidea"));
    let board = board.given(FACILITATOR, Command::SetPhase { session, phase: kipina_proto::Phase::Closed });
    let ended = board.state().version;
    let found = &board.state().sessions[&session];
    assert_eq!((found.started_seq, found.ended_seq), (Some(started), Some(ended)));
    assert_eq!(board.state().cards[&card(7)].created_seq, started + 1);
}
