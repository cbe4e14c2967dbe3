//! Running a workshop: sessions and phases (what each phase lets each role do), the countdown,
//! the lock, vote rounds with fresh budgets and hidden votes, anonymity, moderation and groups.

use super::*;
use kipina_proto::ErrorCode;
use kipina_proto::{Action, BoardOptions, BoardSettings, Phase, SessionId};
use std::collections::BTreeMap;

const CAMP: SessionId = session(1);
const AUTUMN: SessionId = session(2);
const GROUP: CardId = card(20);
const THIRD_CARD: CardId = card(3);

fn plan(session: SessionId, name: &str, anonymous: bool) -> Command {
    Command::CreateSession { session, name: name.into(), date: "2026-06-12".into(), anonymous }
}

fn start(session: SessionId) -> Command {
    Command::StartSession { session }
}

fn phase(session: SessionId, phase: Phase) -> Command {
    Command::SetPhase { session, phase }
}

fn options(anonymous: bool, participants_may_group: bool) -> Command {
    Command::SetBoardOptions { options: BoardOptions { anonymous, participants_may_group } }
}

fn round(vote_budget: u32, votes_per_card: u32, hidden: bool) -> Command {
    Command::StartVoteRound { settings: BoardSettings { vote_budget, votes_per_card }, hidden }
}

fn group(heading: &str, cards: &[CardId]) -> Command {
    Command::GroupCards { group: GROUP, heading: heading.into(), cards: cards.to_vec() }
}

/// [`with_cards`] with the spring camp planned and started (it is in the ideate phase), and
/// participants allowed to group.
fn camp() -> Scenario {
    with_cards()
        .given(FACILITATOR, options(false, true))
        .given(FACILITATOR, plan(CAMP, "Kevätleiri", false))
        .given(FACILITATOR, start(CAMP))
}

/// The camp in `phase`; `Closed` ends it.
fn camp_in(at: Phase) -> Scenario {
    let scenario = camp();
    if at == Phase::Ideate { scenario } else { scenario.given(FACILITATOR, phase(CAMP, at)) }
}

/// One command per action that the phase rules cover.
fn command_for(action: Action) -> Command {
    match action {
        Action::AddCard => add_card(card(9), IDEAS, "Uusi idea"),
        Action::Comment => add_comment(comment(9), BOBS_CARD, "Hyvä!"),
        Action::React => like_card(BOBS_CARD),
        Action::Vote => vote(BOBS_CARD),
        Action::Group => group("Kylätilat", &[ALICES_CARD, BOBS_CARD]),
    }
}

#[test]
fn each_phase_lets_each_role_do_what_its_table_says() {
    use Action::{AddCard, Comment, Group, React, Vote};
    // Written out, not computed: this table is the rule the product promises.
    let table: [(Phase, &[Action], &[Action]); 5] = [
        // phase, participants may, facilitators may
        (Phase::Ideate, &[AddCard, Comment, React, Group], &[AddCard, Comment, React, Group]),
        (Phase::Discuss, &[Comment, React, Group], &[AddCard, Comment, React, Group]),
        (Phase::Vote, &[Vote], &[AddCard, Comment, React, Vote, Group]),
        (Phase::Results, &[Comment, React], &[AddCard, Comment, React, Group]),
        // Closing the session ended its vote round (see below): no dots until a new round.
        (Phase::Closed, &[AddCard, Comment, React, Group], &[AddCard, Comment, React, Group]),
    ];
    for (at, participants, facilitators) in table {
        let board = camp_in(at);
        for action in Action::ALL {
            for (actor, allowed) in [(ALICE, participants), (FACILITATOR, facilitators)] {
                let outcome = board.clone().when(actor, command_for(action));
                if allowed.contains(&action) {
                    assert!(outcome.result.is_ok(), "{at:?} {action:?} by {}: {:?}", who(actor), outcome.result);
                } else if at == Phase::Closed {
                    let _ = outcome.then_error_eq(DomainError::VoteRoundEnded);
                } else {
                    let _ = outcome.then_error_eq(DomainError::PhaseForbids { action, phase: at });
                }
            }
            let _ = board.clone().when(OBSERVER, command_for(action)).then_error(ErrorCode::Forbidden);
            // The view's gate says the same as the decision.
            let gate = crate::gate(board.state(), Role::Participant, action);
            assert_eq!(gate.is_ok(), participants.contains(&action), "{at:?} {action:?}");
        }
    }
}

#[test]
fn changing_ones_own_things_follows_the_phase_too() {
    let board = with_cards()
        .given(ALICE, add_comment(ALICES_COMMENT, ALICES_CARD, "Kahvia!"))
        .given(ALICE, vote(ALICES_CARD))
        .given(FACILITATOR, plan(CAMP, "Kevätleiri", false))
        .given(FACILITATOR, start(CAMP))
        .given(FACILITATOR, phase(CAMP, Phase::Vote));
    let vote_phase = |action| DomainError::PhaseForbids { action, phase: Phase::Vote };
    let edit = Command::EditCard { card: ALICES_CARD, title: "Kahvila".into(), body: String::new(), base_version: 1 };
    let _ = board.clone().when(ALICE, edit.clone()).then_error_eq(vote_phase(Action::AddCard));
    let _ = board.clone().when(ALICE, move_card(ALICES_CARD, LATER, 0)).then_error_eq(vote_phase(Action::AddCard));
    let _ = board
        .clone()
        .when(ALICE, Command::ArchiveCard { card: ALICES_CARD })
        .then_error_eq(vote_phase(Action::AddCard));
    let edit_comment = Command::EditComment { comment: ALICES_COMMENT, body: "Teetä".into(), base_version: 1 };
    let _ = board.clone().when(ALICE, edit_comment).then_error_eq(vote_phase(Action::Comment));
    let _ = board
        .clone()
        .when(ALICE, Command::DeleteComment { comment: ALICES_COMMENT })
        .then_error_eq(vote_phase(Action::Comment));
    let _ = board
        .clone()
        .when(ALICE, Command::WithdrawVote { card: ALICES_CARD })
        .then_events(vec![Event::VoteWithdrawn { card: ALICES_CARD }]);
    // The facilitator moderates in any phase.
    let _ = board.clone().when(FACILITATOR, edit).then_state(|state| {
        let card = &state.cards[&ALICES_CARD];
        assert_eq!((card.author, card.text_by), (ALICE, FACILITATOR), "a moderated card keeps its author");
    });
    let _ = board
        .when(FACILITATOR, Command::ArchiveCard { card: ALICES_CARD })
        .then_events(vec![Event::CardArchived { card: ALICES_CARD }]);
}

#[test]
fn participants_group_cards_only_when_the_board_allows_it() {
    let _ =
        with_cards().when(ALICE, command_for(Action::Group)).then_error_eq(forbidden("group cards", Role::Participant));
    let _ = with_cards()
        .when(FACILITATOR, command_for(Action::Group))
        .then_state(|state| assert!(state.cards[&GROUP].is_group));
    let _ = with_cards().given(FACILITATOR, options(false, true)).when(ALICE, command_for(Action::Group)).then_state(
        |state| {
            assert_eq!(state.cards[&GROUP].members, vec![ALICES_CARD, BOBS_CARD]);
        },
    );
}

#[test]
fn a_frozen_board_is_read_only_for_everyone_but_facilitators() {
    let frozen = with_cards().given(FACILITATOR, Command::SetLocked { locked: true });
    for action in Action::ALL {
        let _ = frozen.clone().when(ALICE, command_for(action)).then_error_eq(DomainError::BoardLocked);
        if action != Action::Group {
            assert!(frozen.clone().when(FACILITATOR, command_for(action)).result.is_ok(), "{action:?}");
        }
    }
    // People may still arrive and name themselves.
    let _ = frozen
        .clone()
        .when(STRANGER, join("Sanna", Role::Participant))
        .then_state(|state| assert!(state.participants.contains_key(&STRANGER)));
    assert!(frozen.clone().when(ALICE, Command::Rename { display_name: "Aino Ä.".into() }).result.is_ok());
    let _ = frozen
        .clone()
        .when(ALICE, Command::SetLocked { locked: false })
        .then_error_eq(forbidden("freeze the board", Role::Participant));
    let _ = frozen.clone().when(FACILITATOR, Command::SetLocked { locked: true }).then_no_events();
    let _ = frozen
        .when(FACILITATOR, Command::SetLocked { locked: false })
        .then_events(vec![Event::LockSet { locked: false }])
        .and()
        .when(ALICE, command_for(Action::AddCard))
        .then_state(|state| assert!(state.cards.contains_key(&card(9))));
}

#[test]
fn a_session_is_planned_with_a_name_and_a_calendar_date() {
    let _ = with_cards()
        .when(FACILITATOR, plan(CAMP, "Kevätleiri", true))
        .then_events(vec![Event::SessionCreated {
            session: CAMP,
            name: "Kevätleiri".into(),
            date: "2026-06-12".into(),
            anonymous: true,
        }])
        .then_state(|state| {
            assert_eq!(state.session_order, vec![CAMP]);
            assert_eq!(state.sessions[&CAMP].phase, None);
            assert_eq!(state.running_session, None, "planning a session does not start it");
        });
    for date in ["2026-13-01", "12.6.2026", "2026-6-12", "", "2026-06-12T10:00"] {
        let command =
            Command::CreateSession { session: CAMP, name: "Leiri".into(), date: date.into(), anonymous: false };
        let _ = with_cards().when(FACILITATOR, command).then_error_eq(DomainError::InvalidDate);
    }
    let _ = with_cards()
        .when(FACILITATOR, plan(CAMP, " ", false))
        .then_error_eq(DomainError::TextEmpty { field: "session name" });
    let _ = with_cards()
        .given(FACILITATOR, plan(CAMP, "Kevätleiri", false))
        .when(FACILITATOR, plan(CAMP, "Syysleiri", false))
        .then_error_eq(already_exists(Kind::Session, CAMP));
    let _ = with_cards()
        .when(ALICE, plan(CAMP, "Kevätleiri", false))
        .then_error_eq(forbidden("plan sessions", Role::Participant));
}

#[test]
fn the_facilitator_moves_a_running_session_through_its_phases_forward_and_back() {
    let planned = with_cards()
        .given(FACILITATOR, plan(CAMP, "Kevätleiri", false))
        .given(FACILITATOR, plan(AUTUMN, "Syysleiri", false));
    let _ = planned.clone().when(FACILITATOR, phase(CAMP, Phase::Vote)).then_error_eq(DomainError::SessionNotStarted);
    let started = planned
        .clone()
        .when(FACILITATOR, start(CAMP))
        .then_events(vec![Event::PhaseSet { session: CAMP, phase: Phase::Ideate }])
        .then_state(|state| {
            assert_eq!(state.running_session, Some(CAMP));
            assert_eq!(state.phase(), Some(Phase::Ideate));
        })
        .and();
    let _ = started.clone().when(FACILITATOR, start(CAMP)).then_error_eq(DomainError::SessionStarted);
    let _ = started.clone().when(FACILITATOR, start(AUTUMN)).then_error_eq(DomainError::SessionRunning);
    let _ = started
        .clone()
        .when(ALICE, phase(CAMP, Phase::Vote))
        .then_error_eq(forbidden("change the phase", Role::Participant));
    let _ = started.clone().when(FACILITATOR, phase(CAMP, Phase::Ideate)).then_no_events();
    let back = started
        .given(FACILITATOR, phase(CAMP, Phase::Vote))
        .when(FACILITATOR, phase(CAMP, Phase::Discuss))
        .then_state(|state| assert_eq!(state.phase(), Some(Phase::Discuss)))
        .and();
    let closed = back
        .when(FACILITATOR, phase(CAMP, Phase::Closed))
        .then_state(|state| {
            assert_eq!(state.running_session, None, "closing ends the session");
            assert_eq!(state.phase(), None);
            assert!(state.sessions[&CAMP].ended_at.is_some());
        })
        .and();
    // The next session can run; the closed one reopens only when it is alone.
    let autumn = closed.clone().given(FACILITATOR, start(AUTUMN));
    let _ = autumn.when(FACILITATOR, phase(CAMP, Phase::Results)).then_error_eq(DomainError::SessionRunning);
    let _ = closed.when(FACILITATOR, phase(CAMP, Phase::Results)).then_state(|state| {
        assert_eq!((state.running_session, state.phase()), (Some(CAMP), Some(Phase::Results)));
        assert_eq!(state.sessions[&CAMP].ended_at, None);
    });
}

#[test]
fn the_countdown_ends_when_the_server_says_and_is_extended_or_stopped() {
    let _ = with_cards()
        .when(FACILITATOR, Command::StartTimer { seconds: 300 })
        .then_error_eq(DomainError::SessionNotRunning);
    let outcome = camp().when(FACILITATOR, Command::StartTimer { seconds: 300 });
    let started_at = outcome.at.millis();
    let running = outcome
        .then_events(vec![Event::TimerSet { ends_at: Some(Timestamp(started_at + 300_000)) }])
        .then_state(|state| assert_eq!(state.timer_ends_at, Some(Timestamp(started_at + 300_000))))
        .and();
    // Extending adds to the end, not to now.
    let _ = running
        .clone()
        .when(FACILITATOR, Command::ExtendTimer { seconds: 60 })
        .then_events(vec![Event::TimerSet { ends_at: Some(Timestamp(started_at + 360_000)) }]);
    let _ = running.clone().when(FACILITATOR, Command::StopTimer).then_events(vec![Event::TimerSet { ends_at: None }]);
    let _ =
        running.clone().when(ALICE, Command::StopTimer).then_error_eq(forbidden("run the timer", Role::Participant));
    let limit = DomainError::InvalidTimer { max: crate::limits::MAX_TIMER_SECONDS };
    let _ = camp().when(FACILITATOR, Command::StartTimer { seconds: 0 }).then_error_eq(limit.clone());
    let _ = camp().when(FACILITATOR, Command::StartTimer { seconds: 4 * 60 * 60 + 1 }).then_error_eq(limit.clone());
    let _ = camp().when(FACILITATOR, Command::ExtendTimer { seconds: 60 }).then_error_eq(DomainError::NoTimer);
    let _ = camp().when(FACILITATOR, Command::StopTimer).then_no_events();
    // A new phase starts without a countdown.
    let _ = running
        .when(FACILITATOR, phase(CAMP, Phase::Discuss))
        .then_state(|state| assert_eq!(state.timer_ends_at, None));
}

#[test]
fn an_expired_countdown_is_extended_from_now() {
    let short = camp().given(FACILITATOR, Command::StartTimer { seconds: 1 });
    // Each step is a second later, so two steps on the countdown has run out.
    let later = short.given(ALICE, like_card(BOBS_CARD));
    let outcome = later.when(FACILITATOR, Command::ExtendTimer { seconds: 30 });
    let at = outcome.at.millis();
    let _ = outcome.then_events(vec![Event::TimerSet { ends_at: Some(Timestamp(at + 30_000)) }]);
}

fn totals(state: &BoardState) -> BTreeMap<CardId, u32> {
    state.cards.values().map(|card| (card.id, card.vote_total())).filter(|(_, total)| *total > 0).collect()
}

#[test]
fn a_new_round_starts_with_fresh_budgets_and_keeps_the_last_rounds_results() {
    let spent = (0..3)
        .fold(with_cards(), |scenario, _| scenario.given(ALICE, vote(ALICES_CARD)))
        .given(ALICE, vote(BOBS_CARD))
        .given(ALICE, vote(BOBS_CARD))
        .given(BOB, vote(BOBS_CARD));
    let _ = spent.clone().when(ALICE, vote(BOBS_CARD)).then_error_eq(DomainError::VoteBudgetExhausted { budget: 5 });
    let second = spent
        .when(FACILITATOR, round(2, 1, false))
        .then_events(vec![Event::VoteRoundStarted {
            settings: BoardSettings { vote_budget: 2, votes_per_card: 1 },
            hidden: false,
        }])
        .then_state(|state| {
            assert_eq!(state.rounds.len(), 2);
            assert_eq!(
                state.rounds[0].results,
                BTreeMap::from([(ALICES_CARD, 3), (BOBS_CARD, 3)]),
                "round 1's totals stay"
            );
            assert_eq!(state.rounds[1].number, 2);
            assert!(totals(state).is_empty(), "the cards start round 2 without dots");
            assert_eq!(state.participants[&ALICE].votes_used, 0);
            assert_eq!(
                state.info.as_ref().map(|info| info.settings),
                Some(BoardSettings { vote_budget: 2, votes_per_card: 1 })
            );
        })
        .and();
    let third = second
        .given(ALICE, vote(ALICES_CARD))
        .when(ALICE, vote(ALICES_CARD))
        .then_error_eq(DomainError::VoteCapReached { cap: 1 })
        .and()
        .given(ALICE, vote(BOBS_CARD))
        .when(ALICE, vote(THIRD_CARD))
        .then_error(ErrorCode::NotFound)
        .and()
        .when(ALICE, vote(BOBS_CARD))
        .then_error_eq(DomainError::VoteBudgetExhausted { budget: 2 })
        .and()
        .given(FACILITATOR, round(5, 3, true));
    assert_eq!(third.state().rounds[1].results, BTreeMap::from([(ALICES_CARD, 1), (BOBS_CARD, 1)]));
    assert_eq!(third.state().rounds[0].results, BTreeMap::from([(ALICES_CARD, 3), (BOBS_CARD, 3)]));
    let _ =
        third.clone().when(ALICE, round(5, 3, false)).then_error_eq(forbidden("start a vote round", Role::Participant));
    let _ = third.when(FACILITATOR, round(5, 6, false)).then_error(ErrorCode::InvalidSettings);
}

#[test]
fn hidden_votes_are_revealed_once_by_the_facilitator() {
    let _ = with_cards().when(FACILITATOR, Command::RevealVotes).then_error_eq(DomainError::VotesNotHidden);
    let hidden = with_cards().given(FACILITATOR, round(5, 3, true)).given(ALICE, vote(BOBS_CARD));
    assert!(hidden.state().votes_hidden());
    let _ = hidden
        .clone()
        .when(ALICE, Command::RevealVotes)
        .then_error_eq(forbidden("reveal the votes", Role::Participant));
    let _ = hidden
        .when(FACILITATOR, Command::RevealVotes)
        .then_events(vec![Event::VotesRevealed {}])
        .then_state(|state| assert!(!state.votes_hidden()))
        .and()
        .when(FACILITATOR, Command::RevealVotes)
        .then_no_events();
}

#[test]
fn cards_written_in_an_anonymous_session_stay_anonymous_after_it() {
    let anonymous = with_cards()
        .given(FACILITATOR, plan(CAMP, "Nimetön ideointi", true))
        .given(FACILITATOR, start(CAMP))
        .given(ALICE, add_card(card(9), IDEAS, "Salainen idea"))
        .given(ALICE, add_comment(comment(9), card(9), "Salainen kommentti"));
    assert!(anonymous.state().anonymous_now());
    let closed =
        anonymous.given(FACILITATOR, phase(CAMP, Phase::Closed)).given(BOB, add_card(card(10), IDEAS, "Julkinen idea"));
    let state = closed.state();
    assert!(!state.anonymous_now());
    assert!(state.card_is_anonymous(&state.cards[&card(9)]));
    assert!(state.comment_is_anonymous(&state.comments[&comment(9)]));
    assert!(!state.card_is_anonymous(&state.cards[&card(10)]));
    assert!(!state.card_is_anonymous(&state.cards[&ALICES_CARD]), "cards from before the session keep their authors");
    // An anonymous board hides every author, and turning it off does not reveal what was
    // written anonymously.
    let board = closed.given(FACILITATOR, options(true, false));
    assert!(board.state().cards.values().all(|card| board.state().card_is_anonymous(card)));
    let board = board.given(BOB, add_card(card(11), IDEAS, "Nimetön taulu")).given(FACILITATOR, options(false, false));
    let state = board.state();
    assert!(state.card_is_anonymous(&state.cards[&card(9)]));
    assert!(state.card_is_anonymous(&state.cards[&card(11)]));
    assert!(!state.card_is_anonymous(&state.cards[&card(10)]));
}

#[test]
fn grouped_cards_leave_their_column_and_come_back_in_place_when_ungrouped() {
    let board = with_cards().given(ALICE, add_card(THIRD_CARD, IDEAS, "Kirjasto"));
    let grouped = board
        .clone()
        .when(FACILITATOR, group("Kylätilat", &[BOBS_CARD, THIRD_CARD]))
        .then_events(vec![Event::CardsGrouped {
            group: GROUP,
            column: IDEAS,
            heading: "Kylätilat".into(),
            cards: vec![BOBS_CARD, THIRD_CARD],
        }])
        .then_state(|state| {
            assert_eq!(state.columns[&IDEAS].cards, vec![ALICES_CARD, GROUP], "the group takes its first card's place");
            assert_eq!(state.cards[&GROUP].members, vec![BOBS_CARD, THIRD_CARD]);
            assert_eq!(state.cards[&BOBS_CARD].group, Some(GROUP));
        })
        .and();
    // A group is voted on as one item.
    let _ = grouped.clone().when(ALICE, vote(BOBS_CARD)).then_error_eq(DomainError::CardInGroup);
    let voted = grouped.clone().given(ALICE, vote(GROUP));
    assert_eq!(totals(voted.state()), BTreeMap::from([(GROUP, 1)]));
    let _ = voted.clone().when(FACILITATOR, Command::Ungroup { group: GROUP }).then_error_eq(DomainError::HasVotes);
    let _ = voted
        .when(FACILITATOR, Command::AddToGroup { group: GROUP, card: ALICES_CARD })
        .then_error_eq(DomainError::HasVotes);
    // Ungrouping restores the cards where the group was.
    let _ = grouped
        .clone()
        .when(FACILITATOR, Command::Ungroup { group: GROUP })
        .then_events(vec![Event::GroupDissolved { group: GROUP }])
        .then_state(|state| {
            assert_eq!(state.columns[&IDEAS].cards, vec![ALICES_CARD, BOBS_CARD, THIRD_CARD]);
            assert_eq!(state.cards[&BOBS_CARD].group, None);
            assert!(state.cards[&GROUP].archived, "the dissolved group is kept for the record, off the board");
        })
        .and()
        .when(FACILITATOR, Command::RestoreCard { card: GROUP })
        .then_error(ErrorCode::InvalidGroup);
    // One more card, and a card taken out by moving it.
    let _ = grouped
        .clone()
        .when(ALICE, Command::AddToGroup { group: GROUP, card: ALICES_CARD })
        .then_error_eq(forbidden("group cards", Role::Participant));
    let _ = grouped
        .clone()
        .when(FACILITATOR, Command::AddToGroup { group: GROUP, card: ALICES_CARD })
        .then_state(|state| {
            assert_eq!(state.columns[&IDEAS].cards, vec![GROUP]);
            assert_eq!(state.cards[&GROUP].members, vec![BOBS_CARD, THIRD_CARD, ALICES_CARD]);
        })
        .and()
        .when(BOB, move_card(BOBS_CARD, LATER, 0))
        .then_state(|state| {
            assert_eq!(state.cards[&GROUP].members, vec![THIRD_CARD, ALICES_CARD]);
            assert_eq!(state.cards[&BOBS_CARD].group, None);
            assert_eq!(state.columns[&LATER].cards, vec![BOBS_CARD]);
        });
    let _ = grouped.clone().when(FACILITATOR, Command::ArchiveCard { card: GROUP }).then_error(ErrorCode::InvalidGroup);
    let _ = grouped.when(BOB, Command::ArchiveCard { card: BOBS_CARD }).then_state(|state| {
        assert_eq!(state.cards[&GROUP].members, vec![THIRD_CARD], "an archived card leaves its group");
    });
}

#[test]
fn a_group_needs_two_free_cards_without_dots() {
    let board = with_cards().given(ALICE, add_card(THIRD_CARD, IDEAS, "Kirjasto"));
    let invalid = |reason| DomainError::InvalidGroup(reason);
    let _ = board
        .clone()
        .when(FACILITATOR, group("Yksin", &[ALICES_CARD]))
        .then_error_eq(invalid("a group needs at least two cards"));
    let _ = board
        .clone()
        .when(FACILITATOR, group("Kahdesti", &[ALICES_CARD, ALICES_CARD]))
        .then_error_eq(invalid("a card is listed twice"));
    let _ = board
        .clone()
        .when(FACILITATOR, group(" ", &[ALICES_CARD, BOBS_CARD]))
        .then_error_eq(DomainError::TextEmpty { field: "group heading" });
    let _ = board
        .clone()
        .when(FACILITATOR, group("Puuttuva", &[ALICES_CARD, card(99)]))
        .then_error_eq(not_found(Kind::Card, card(99)));
    let _ = board
        .clone()
        .given(BOB, vote(ALICES_CARD))
        .when(FACILITATOR, group("Äänet", &[ALICES_CARD, BOBS_CARD]))
        .then_error_eq(DomainError::HasVotes);
    let grouped = board.clone().given(FACILITATOR, group("Kylätilat", &[ALICES_CARD, BOBS_CARD]));
    let second = Command::GroupCards { group: card(21), heading: "Toinen".into(), cards: vec![GROUP, THIRD_CARD] };
    let _ = grouped.clone().when(FACILITATOR, second).then_error_eq(invalid("a group cannot go into another group"));
    let again = Command::GroupCards { group: card(21), heading: "Toinen".into(), cards: vec![ALICES_CARD, THIRD_CARD] };
    let _ = grouped.clone().when(FACILITATOR, again).then_error_eq(DomainError::CardInGroup);
    let _ = grouped
        .clone()
        .when(FACILITATOR, group("Sama id", &[THIRD_CARD, card(1)]))
        .then_error_eq(already_exists(Kind::Card, GROUP));
    let _ = grouped
        .when(FACILITATOR, Command::Ungroup { group: THIRD_CARD })
        .then_error_eq(invalid("that card is not a group"));
}

/// What closing a session means for its vote round: the round ends, its totals at the close are
/// its results for good (the projector's and every export's), and dots are neither placed nor
/// taken back until a facilitator starts a new round. Reopening the session does not reopen it.
#[test]
fn closing_a_session_ends_its_vote_round_and_freezes_its_results() {
    let voting = camp_in(Phase::Vote).given(ALICE, vote(BOBS_CARD)).given(BOB, vote(BOBS_CARD));
    let closed = voting
        .when(FACILITATOR, phase(CAMP, Phase::Closed))
        .then_events(vec![Event::VoteRoundEnded {}, Event::PhaseSet { session: CAMP, phase: Phase::Closed }])
        .then_state(|state| {
            let round = state.current_round().expect("the round");
            assert!(round.ended);
            assert_eq!(round.results, std::collections::BTreeMap::from([(BOBS_CARD, 2)]));
            assert_eq!(state.cards[&BOBS_CARD].votes.values().sum::<u32>(), 2, "the dots stay on the card");
        })
        .and();
    for actor in [ALICE, BOB, FACILITATOR] {
        let _ = closed.clone().when(actor, vote(ALICES_CARD)).then_error(ErrorCode::VoteRoundEnded);
    }
    let _ = closed.clone().when(ALICE, Command::WithdrawVote { card: BOBS_CARD }).then_error(ErrorCode::VoteRoundEnded);
    assert_eq!(crate::gate(closed.state(), Role::Participant, Action::Vote), Err(DomainError::VoteRoundEnded));
    // Reopening the session and going back to voting does not reopen the round; a new round does.
    let reopened = closed.clone().given(FACILITATOR, phase(CAMP, Phase::Vote));
    let _ = reopened.clone().when(ALICE, vote(ALICES_CARD)).then_error(ErrorCode::VoteRoundEnded);
    let _ = reopened.given(FACILITATOR, round(5, 3, false)).when(ALICE, vote(ALICES_CARD)).then_state(|state| {
        assert_eq!(state.rounds[state.rounds.len() - 2].results, std::collections::BTreeMap::from([(BOBS_CARD, 2)]));
    });
    // Closing again ends nothing more: the ended round is not ended twice.
    let _ = closed
        .given(FACILITATOR, phase(CAMP, Phase::Results))
        .when(FACILITATOR, phase(CAMP, Phase::Closed))
        .then_events(vec![Event::PhaseSet { session: CAMP, phase: Phase::Closed }]);
}
