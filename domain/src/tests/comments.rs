//! Comments and replies: one level deep, edited only by their author, deleted to a tombstone.

use super::*;
use crate::PersonalText;
use crate::limits;

const NEW_COMMENT: CommentId = comment(9);
const BOBS_REPLY: CommentId = comment(2);

fn added(comment: CommentId, card: CardId, reply_to: Option<CommentId>, body: &str) -> Vec<Event> {
    vec![Event::CommentAdded { comment, card, reply_to, body: body.into(), mentions: vec![] }]
}

fn edit(comment: CommentId, body: &str, base_version: u32) -> Command {
    Command::EditComment { comment, body: body.into(), base_version }
}

fn delete(comment: CommentId) -> Command {
    Command::DeleteComment { comment }
}

/// [`with_cards`] with Alice's comment "Kahvia!" on her card.
fn commented() -> Scenario {
    with_cards().given(ALICE, add_comment(ALICES_COMMENT, ALICES_CARD, "Kahvia!"))
}

#[test]
fn participants_and_facilitators_comment_on_any_card() {
    for actor in [ALICE, BOB, FACILITATOR] {
        let outcome = commented().when(actor, add_comment(NEW_COMMENT, ALICES_CARD, "Ja pullaa")).then_events(added(
            NEW_COMMENT,
            ALICES_CARD,
            None,
            "Ja pullaa",
        ));
        let at = outcome.at;
        let _ = outcome.then_state(|state| {
            let comment = &state.comments[&NEW_COMMENT];
            assert_eq!((comment.card, comment.author, comment.reply_to), (ALICES_CARD, actor, None));
            assert_eq!((comment.text_version, comment.deleted, comment.created_at), (1, false, at));
            assert_eq!(comment.body, PersonalText::from("Ja pullaa"));
            assert_eq!(state.cards[&ALICES_CARD].comments, [ALICES_COMMENT, NEW_COMMENT]);
        });
    }
    let _ = commented()
        .when(OBSERVER, add_comment(NEW_COMMENT, ALICES_CARD, "Hei"))
        .then_error_eq(forbidden("comment", Role::Observer));
}

#[test]
fn a_reply_answers_a_top_level_comment_on_the_same_card() {
    let _ = commented()
        .when(BOB, reply(BOBS_REPLY, ALICES_CARD, ALICES_COMMENT, "Minä leivon"))
        .then_events(added(BOBS_REPLY, ALICES_CARD, Some(ALICES_COMMENT), "Minä leivon"))
        .then_state(|state| {
            assert_eq!(state.comments[&BOBS_REPLY].reply_to, Some(ALICES_COMMENT));
            assert_eq!(state.cards[&ALICES_CARD].comments, [ALICES_COMMENT, BOBS_REPLY]);
        });
}

#[test]
fn replies_go_one_level_deep_on_the_same_card_to_a_comment_still_there() {
    let replied = commented().given(BOB, reply(BOBS_REPLY, ALICES_CARD, ALICES_COMMENT, "Minä leivon"));
    let _ = replied
        .clone()
        .when(ALICE, reply(NEW_COMMENT, ALICES_CARD, BOBS_REPLY, "Kiitos"))
        .then_error_eq(DomainError::InvalidReply);
    let _ = replied
        .clone()
        .when(ALICE, reply(NEW_COMMENT, BOBS_CARD, ALICES_COMMENT, "Väärä kortti"))
        .then_error_eq(DomainError::InvalidReply);
    let _ = replied
        .clone()
        .when(ALICE, reply(NEW_COMMENT, ALICES_CARD, comment(99), "Kenelle"))
        .then_error_eq(not_found(Kind::Comment, comment(99)));
    let _ = replied
        .given(ALICE, delete(ALICES_COMMENT))
        .when(BOB, reply(NEW_COMMENT, ALICES_CARD, ALICES_COMMENT, "Myöhässä"))
        .then_error_eq(DomainError::CommentDeleted);
}

#[test]
fn commenting_checks_the_id_and_the_card() {
    let _ = commented()
        .when(BOB, add_comment(ALICES_COMMENT, BOBS_CARD, "Sama id"))
        .then_error_eq(already_exists(Kind::Comment, ALICES_COMMENT));
    let _ =
        commented().when(BOB, add_comment(NEW_COMMENT, card(9), "Minne")).then_error_eq(not_found(Kind::Card, card(9)));
    let _ = commented()
        .given(ALICE, Command::ArchiveCard { card: ALICES_CARD })
        .when(BOB, add_comment(NEW_COMMENT, ALICES_CARD, "Arkistoon"))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = commented()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(BOB, add_comment(NEW_COMMENT, ALICES_CARD, "Arkistoon"))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}

#[test]
fn a_card_holds_at_most_max_comments_tombstones_included() {
    let fill = |count: usize| {
        let comments = (0..count).map(|n| Event::CommentAdded {
            comment: comment(1_000 + n as u128),
            card: ALICES_CARD,
            reply_to: None,
            body: "Kommentti".into(),
            mentions: vec![],
        });
        with_cards().given_events(BOB, comments).given_events(BOB, [Event::CommentDeleted { comment: comment(1_000) }])
    };
    let _ = fill(limits::MAX_COMMENTS_PER_CARD - 1)
        .when(ALICE, add_comment(NEW_COMMENT, ALICES_CARD, "Viimeinen"))
        .then_events(added(NEW_COMMENT, ALICES_CARD, None, "Viimeinen"));
    let full = fill(limits::MAX_COMMENTS_PER_CARD);
    let _ = full
        .clone()
        .when(ALICE, add_comment(NEW_COMMENT, ALICES_CARD, "Liikaa"))
        .then_error_eq(DomainError::LimitReached { what: "comments on a card", max: limits::MAX_COMMENTS_PER_CARD });
    let _ = full.when(ALICE, add_comment(NEW_COMMENT, BOBS_CARD, "Toiselle kortille mahtuu")).then_events(added(
        NEW_COMMENT,
        BOBS_CARD,
        None,
        "Toiselle kortille mahtuu",
    ));
}

#[test]
fn comments_follow_the_text_rules() {
    check_text(Text::RequiredBody, "comment", limits::COMMENT_BODY, |body| {
        (
            commented().when(BOB, add_comment(NEW_COMMENT, ALICES_CARD, body)),
            added(NEW_COMMENT, ALICES_CARD, None, body),
        )
    });
    check_text(Text::RequiredBody, "comment", limits::COMMENT_BODY, |body| {
        let edited = Event::CommentEdited { comment: ALICES_COMMENT, body: body.into(), mentions: vec![] };
        (commented().when(ALICE, edit(ALICES_COMMENT, body, 1)), vec![edited])
    });
}

#[test]
fn only_the_author_edits_a_comment() {
    let edited = Event::CommentEdited { comment: ALICES_COMMENT, body: "Kahvia ja pullaa!".into(), mentions: vec![] };
    check_actors(
        &commented(),
        edit(ALICES_COMMENT, "Kahvia ja pullaa!", 1),
        vec![
            (ALICE, Ok(vec![edited])),
            (FACILITATOR, Err(not_author("edit this comment"))),
            (BOB, Err(not_author("edit this comment"))),
            (OBSERVER, Err(forbidden("edit comments", Role::Observer))),
        ],
    );
    let outcome = commented().when(ALICE, edit(ALICES_COMMENT, "Kahvia ja pullaa!", 1));
    let at = outcome.at;
    let _ = outcome.then_state(|state| {
        let comment = &state.comments[&ALICES_COMMENT];
        assert_eq!((comment.text_version, comment.updated_at), (2, at));
        assert_eq!(comment.body, PersonalText::from("Kahvia ja pullaa!"));
    });
    // An author who has become an observer only reads.
    let _ = commented()
        .given(FACILITATOR, Command::ChangeRole { participant: ALICE, role: Role::Observer })
        .when(ALICE, edit(ALICES_COMMENT, "Muokattu", 1))
        .then_error_eq(forbidden("edit comments", Role::Observer));
}

#[test]
fn editing_checks_the_comment_its_card_and_its_version() {
    let _ =
        commented().when(ALICE, edit(NEW_COMMENT, "Ei ole", 1)).then_error_eq(not_found(Kind::Comment, NEW_COMMENT));
    let _ = commented()
        .given(ALICE, delete(ALICES_COMMENT))
        .when(ALICE, edit(ALICES_COMMENT, "Takaisin", 1))
        .then_error_eq(DomainError::CommentDeleted);
    let _ = commented()
        .given(ALICE, Command::ArchiveCard { card: ALICES_CARD })
        .when(ALICE, edit(ALICES_COMMENT, "Arkistossa", 1))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = commented()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, edit(ALICES_COMMENT, "Arkistossa", 1))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
    let _ = commented()
        .given(ALICE, edit(ALICES_COMMENT, "Kahvia.", 1))
        .when(ALICE, edit(ALICES_COMMENT, "Kahvia?", 1))
        .then_error_eq(stale(Kind::Comment, 1, 2));
    let _ = commented().when(ALICE, edit(ALICES_COMMENT, "Kahvia!", 1)).then_no_events();
}

#[test]
fn the_author_or_a_facilitator_deletes_a_comment_leaving_a_tombstone() {
    let deleted = Ok(vec![Event::CommentDeleted { comment: ALICES_COMMENT }]);
    check_actors(
        &commented(),
        delete(ALICES_COMMENT),
        vec![
            (ALICE, deleted.clone()),
            (FACILITATOR, deleted),
            (BOB, Err(not_author("delete this comment"))),
            (OBSERVER, Err(forbidden("delete this comment", Role::Observer))),
        ],
    );
    let _ = commented()
        .given(BOB, reply(BOBS_REPLY, ALICES_CARD, ALICES_COMMENT, "Minä leivon"))
        .when(FACILITATOR, delete(ALICES_COMMENT))
        .then_state(|state| {
            let tombstone = &state.comments[&ALICES_COMMENT];
            assert!(tombstone.deleted);
            assert_eq!((tombstone.author, tombstone.body.clone()), (ALICE, PersonalText::from("Kahvia!")));
            assert_eq!(state.cards[&ALICES_CARD].comments, [ALICES_COMMENT, BOBS_REPLY]);
            assert!(!state.comments[&BOBS_REPLY].deleted);
        });
}

#[test]
fn deleting_checks_the_comment() {
    let _ = commented().when(ALICE, delete(NEW_COMMENT)).then_error_eq(not_found(Kind::Comment, NEW_COMMENT));
    let _ = commented()
        .given(ALICE, delete(ALICES_COMMENT))
        .when(FACILITATOR, delete(ALICES_COMMENT))
        .then_error_eq(DomainError::CommentDeleted);
}
