//! Dot votes (a budget of 5 per person and at most 3 on one card, unless the facilitator
//! changes them) and likes, which cost nothing.

use super::*;
use kipina_proto::BoardSettings;
use std::collections::BTreeMap;

const THIRD_CARD: CardId = card(3);

fn withdraw(card: CardId) -> Command {
    Command::WithdrawVote { card }
}

fn like_comment(comment: CommentId) -> Command {
    Command::ToggleReaction { target: ReactionTarget::Comment(comment) }
}

fn settings(vote_budget: u32, votes_per_card: u32) -> Command {
    Command::ChangeSettings { settings: BoardSettings { vote_budget, votes_per_card } }
}

/// Gives `actor`'s dots: `count` of them on `card`.
fn votes(scenario: Scenario, actor: ParticipantId, card: CardId, count: usize) -> Scenario {
    (0..count).fold(scenario, |scenario, _| scenario.given(actor, vote(card)))
}

fn dots(state: &BoardState, card: CardId) -> BTreeMap<ParticipantId, u32> {
    state.cards[&card].votes.clone()
}

fn used(state: &BoardState, participant: ParticipantId) -> u32 {
    state.participants[&participant].votes_used
}

#[test]
fn participants_and_facilitators_place_dots() {
    for actor in [ALICE, FACILITATOR] {
        let _ = with_cards()
            .when(actor, vote(BOBS_CARD))
            .then_events(vec![Event::VoteCast { card: BOBS_CARD }])
            .then_state(|state| {
                assert_eq!(dots(state, BOBS_CARD), BTreeMap::from([(actor, 1)]));
                assert_eq!(used(state, actor), 1);
            });
    }
    let _ = with_cards().when(OBSERVER, vote(BOBS_CARD)).then_error_eq(forbidden("vote", Role::Observer));
}

#[test]
fn dots_go_on_cards_that_are_on_the_board() {
    let _ = with_cards().when(ALICE, vote(THIRD_CARD)).then_error_eq(not_found(Kind::Card, THIRD_CARD));
    let _ = with_cards()
        .given(BOB, Command::ArchiveCard { card: BOBS_CARD })
        .when(ALICE, vote(BOBS_CARD))
        .then_error_eq(DomainError::Archived { kind: Kind::Card });
    let _ = with_cards()
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, vote(BOBS_CARD))
        .then_error_eq(DomainError::Archived { kind: Kind::Column });
}

#[test]
fn everyone_has_five_dots() {
    let spent = votes(votes(with_cards(), ALICE, BOBS_CARD, 3), ALICE, ALICES_CARD, 2);
    assert_eq!(used(spent.state(), ALICE), 5);
    let _ = spent.clone().when(ALICE, vote(ALICES_CARD)).then_error_eq(DomainError::VoteBudgetExhausted { budget: 5 });
    // Bob's dots are his own.
    let _ = spent.when(BOB, vote(ALICES_CARD)).then_events(vec![Event::VoteCast { card: ALICES_CARD }]);
}

#[test]
fn one_person_puts_at_most_three_dots_on_one_card() {
    let capped = votes(with_cards(), ALICE, BOBS_CARD, 3);
    let _ = capped.clone().when(ALICE, vote(BOBS_CARD)).then_error_eq(DomainError::VoteCapReached { cap: 3 });
    let _ = capped.clone().when(ALICE, vote(ALICES_CARD)).then_events(vec![Event::VoteCast { card: ALICES_CARD }]);
    let _ = capped.when(FACILITATOR, vote(BOBS_CARD)).then_events(vec![Event::VoteCast { card: BOBS_CARD }]);
}

#[test]
fn the_budget_is_checked_before_the_cap() {
    let _ = votes(with_cards().given(FACILITATOR, settings(3, 3)), ALICE, BOBS_CARD, 3)
        .when(ALICE, vote(BOBS_CARD))
        .then_error_eq(DomainError::VoteBudgetExhausted { budget: 3 });
}

#[test]
fn changed_settings_apply_to_the_next_dot() {
    let wider = votes(with_cards().given(FACILITATOR, settings(8, 4)), ALICE, BOBS_CARD, 4);
    let _ = wider.clone().when(ALICE, vote(BOBS_CARD)).then_error_eq(DomainError::VoteCapReached { cap: 4 });
    let _ = wider.when(ALICE, vote(ALICES_CARD)).then_events(vec![Event::VoteCast { card: ALICES_CARD }]);
    // A budget lowered below what someone has placed stops further dots but takes none away.
    let _ = votes(with_cards(), ALICE, BOBS_CARD, 3)
        .given(FACILITATOR, settings(2, 1))
        .when(ALICE, vote(ALICES_CARD))
        .then_error_eq(DomainError::VoteBudgetExhausted { budget: 2 })
        .then_state(|state| assert_eq!(used(state, ALICE), 3));
}

#[test]
fn dots_are_counted_per_card_and_per_person_as_they_come_and_go() {
    let board = votes(votes(with_cards(), ALICE, BOBS_CARD, 2), ALICE, ALICES_CARD, 1);
    let board = votes(board, BOB, BOBS_CARD, 1);
    assert_eq!(dots(board.state(), BOBS_CARD), BTreeMap::from([(ALICE, 2), (BOB, 1)]));
    assert_eq!((used(board.state(), ALICE), used(board.state(), BOB)), (3, 1));
    let once = board
        .when(ALICE, withdraw(BOBS_CARD))
        .then_events(vec![Event::VoteWithdrawn { card: BOBS_CARD }])
        .then_state(|state| {
            assert_eq!(dots(state, BOBS_CARD), BTreeMap::from([(ALICE, 1), (BOB, 1)]));
            assert_eq!(state.cards[&BOBS_CARD].vote_total(), 2);
            assert_eq!(dots(state, ALICES_CARD), BTreeMap::from([(ALICE, 1)]));
            assert_eq!((used(state, ALICE), used(state, BOB)), (2, 1));
        });
    let _ = once
        .and()
        .when(ALICE, withdraw(BOBS_CARD))
        .then_events(vec![Event::VoteWithdrawn { card: BOBS_CARD }])
        .then_state(|state| {
            // No dots left means no entry, not an entry of zero.
            assert_eq!(dots(state, BOBS_CARD), BTreeMap::from([(BOB, 1)]));
            assert_eq!(used(state, ALICE), 1);
        });
}

#[test]
fn a_withdrawn_dot_can_be_placed_again() {
    let _ = votes(votes(with_cards(), ALICE, BOBS_CARD, 3), ALICE, ALICES_CARD, 2)
        .given(ALICE, withdraw(BOBS_CARD))
        .when(ALICE, vote(ALICES_CARD))
        .then_events(vec![Event::VoteCast { card: ALICES_CARD }]);
}

#[test]
fn only_a_dot_that_was_placed_is_taken_back() {
    let _ = with_cards().when(ALICE, withdraw(BOBS_CARD)).then_error_eq(DomainError::NoVoteToWithdraw);
    let _ = votes(with_cards(), ALICE, BOBS_CARD, 1)
        .when(BOB, withdraw(BOBS_CARD))
        .then_error_eq(DomainError::NoVoteToWithdraw);
    let _ = with_cards().when(ALICE, withdraw(THIRD_CARD)).then_error_eq(not_found(Kind::Card, THIRD_CARD));
    let _ = votes(with_cards(), ALICE, BOBS_CARD, 1)
        .given(FACILITATOR, Command::ChangeRole { participant: ALICE, role: Role::Observer })
        .when(ALICE, withdraw(BOBS_CARD))
        .then_error_eq(forbidden("vote", Role::Observer));
}

#[test]
fn a_dot_comes_back_even_from_an_archived_card_or_column() {
    let withdrawn = Ok(vec![Event::VoteWithdrawn { card: BOBS_CARD }]);
    let voted = votes(with_cards(), ALICE, BOBS_CARD, 1);
    let _ = voted
        .clone()
        .given(BOB, Command::ArchiveCard { card: BOBS_CARD })
        .when(ALICE, withdraw(BOBS_CARD))
        .then(withdrawn.clone());
    let _ = voted
        .given(FACILITATOR, Command::ArchiveColumn { column: IDEAS })
        .when(ALICE, withdraw(BOBS_CARD))
        .then(withdrawn)
        .then_state(|state| assert_eq!(used(state, ALICE), 0));
}

#[test]
fn a_like_on_a_card_toggles_on_and_off_and_costs_no_dots() {
    let target = ReactionTarget::Card(BOBS_CARD);
    let _ = with_cards()
        .when(ALICE, like_card(BOBS_CARD))
        .then_events(vec![Event::ReactionAdded { target }])
        .then_state(|state| {
            assert_eq!(state.cards[&BOBS_CARD].likes, [ALICE].into());
            assert_eq!(used(state, ALICE), 0);
        });
    let _ = with_cards()
        .given(ALICE, like_card(BOBS_CARD))
        .given(BOB, like_card(BOBS_CARD))
        .when(ALICE, like_card(BOBS_CARD))
        .then_events(vec![Event::ReactionRemoved { target }])
        .then_state(|state| assert_eq!(state.cards[&BOBS_CARD].likes, [BOB].into()));
}

#[test]
fn a_like_on_a_comment_toggles_on_and_off() {
    let target = ReactionTarget::Comment(ALICES_COMMENT);
    let commented = with_cards().given(ALICE, add_comment(ALICES_COMMENT, ALICES_CARD, "Kahvia!"));
    let _ = commented
        .clone()
        .when(FACILITATOR, like_comment(ALICES_COMMENT))
        .then_events(vec![Event::ReactionAdded { target }])
        .then_state(|state| assert_eq!(state.comments[&ALICES_COMMENT].likes, [FACILITATOR].into()));
    let _ = commented
        .given(FACILITATOR, like_comment(ALICES_COMMENT))
        .when(FACILITATOR, like_comment(ALICES_COMMENT))
        .then_events(vec![Event::ReactionRemoved { target }])
        .then_state(|state| assert!(state.comments[&ALICES_COMMENT].likes.is_empty()));
}

#[test]
fn likes_go_on_cards_and_comments_that_are_on_the_board() {
    let commented = with_cards().given(ALICE, add_comment(ALICES_COMMENT, ALICES_CARD, "Kahvia!"));
    let _ = commented.clone().when(OBSERVER, like_card(BOBS_CARD)).then_error_eq(forbidden("react", Role::Observer));
    let _ = commented
        .clone()
        .when(OBSERVER, like_comment(ALICES_COMMENT))
        .then_error_eq(forbidden("react", Role::Observer));
    let _ = commented.clone().when(BOB, like_card(THIRD_CARD)).then_error_eq(not_found(Kind::Card, THIRD_CARD));
    let _ = commented.clone().when(BOB, like_comment(comment(9))).then_error_eq(not_found(Kind::Comment, comment(9)));
    let _ = commented
        .clone()
        .given(ALICE, Command::DeleteComment { comment: ALICES_COMMENT })
        .when(BOB, like_comment(ALICES_COMMENT))
        .then_error_eq(DomainError::CommentDeleted);
    let archived_card = commented.clone().given(ALICE, Command::ArchiveCard { card: ALICES_CARD });
    for command in [like_card(ALICES_CARD), like_comment(ALICES_COMMENT)] {
        let _ = archived_card.clone().when(BOB, command).then_error_eq(DomainError::Archived { kind: Kind::Card });
    }
    let archived_column = commented.given(FACILITATOR, Command::ArchiveColumn { column: IDEAS });
    for command in [like_card(ALICES_CARD), like_comment(ALICES_COMMENT)] {
        let _ = archived_column.clone().when(BOB, command).then_error_eq(DomainError::Archived { kind: Kind::Column });
    }
}
