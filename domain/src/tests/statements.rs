//! Statements drafted together: propose a wording, comment and vote on it like a card, adopt it
//! as the next version; proposals on an older version are outdated until rebased.

use super::*;
use crate::PersonalText;
use kipina_proto::ErrorCode;
use kipina_proto::{BoardSettings, Phase, SessionId};

const VISION: ColumnId = column(10);
const LIISAS: CardId = card(30);
const MATTIS: CardId = card(31);
const DRAFT: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja.";
const LONGER: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja, rajoja ylittävä rohkea uudistaja.";
const OTHER: &str = "Olemme kylien ääni ja rohkea uudistaja.";

fn add_statement(text: &str) -> Command {
    Command::AddStatement { column: VISION, title: "Visio".into(), text: text.into() }
}

fn propose(card: CardId, text: &str, base_version: u32) -> Command {
    Command::ProposeWording { card, statement: VISION, text: text.into(), reason: "Rohkeampi".into(), base_version }
}

/// [`with_cards`] with the vision's first draft.
fn drafted() -> Scenario {
    with_cards().given(FACILITATOR, add_statement(DRAFT))
}

/// Alice and Bob have proposed competing wordings of version 1.
fn competing() -> Scenario {
    drafted().given(ALICE, propose(LIISAS, LONGER, 1)).given(BOB, propose(MATTIS, OTHER, 1))
}

fn versions(state: &BoardState) -> Vec<(u32, Option<&str>, ParticipantId, Option<CardId>)> {
    let statement = state.columns[&VISION].statement.as_ref().expect("the vision is a statement");
    statement
        .versions
        .iter()
        .map(|version| (version.number, version.text.as_text(), version.author, version.proposal))
        .collect()
}

#[test]
fn a_facilitator_adds_a_statement_with_its_first_wording() {
    let _ = with_cards()
        .when(FACILITATOR, add_statement(DRAFT))
        .then_events(vec![Event::StatementAdded { column: VISION, title: "Visio".into(), text: DRAFT.into() }])
        .then_state(|state| {
            assert_eq!(versions(state), vec![(1, Some(DRAFT), FACILITATOR, None)]);
            assert_eq!(state.column_order.last(), Some(&VISION), "a statement sits among the columns");
        });
    let _ =
        with_cards().when(ALICE, add_statement(DRAFT)).then_error_eq(forbidden("add statements", Role::Participant));
    let _ = with_cards()
        .when(FACILITATOR, Command::AddStatement { column: IDEAS, title: "Visio".into(), text: String::new() })
        .then_error_eq(already_exists(Kind::Column, IDEAS));
    // An empty first wording is a statement still to be written.
    let _ = with_cards()
        .when(FACILITATOR, add_statement(""))
        .then_state(|state| assert_eq!(versions(state)[0].1, Some("")));
}

#[test]
fn anyone_who_may_add_cards_proposes_a_wording_of_the_current_version() {
    let _ = drafted()
        .when(ALICE, propose(LIISAS, LONGER, 1))
        .then_events(vec![Event::WordingProposed {
            card: LIISAS,
            statement: VISION,
            text: LONGER.into(),
            reason: "Rohkeampi".into(),
            base_version: 1,
        }])
        .then_state(|state| {
            let card = &state.cards[&LIISAS];
            assert_eq!(
                (card.body.as_text(), card.title.as_text(), card.author),
                (Some(LONGER), Some("Rohkeampi"), ALICE)
            );
            assert_eq!(state.columns[&VISION].cards, vec![LIISAS]);
        });
    let _ = drafted().when(ALICE, propose(LIISAS, LONGER, 2)).then_error_eq(stale(Kind::Statement, 2, 1));
    let _ = drafted().when(ALICE, propose(LIISAS, DRAFT, 1)).then_error_eq(DomainError::SameWording);
    let _ = drafted().when(ALICE, propose(LIISAS, " ", 1)).then_error_eq(DomainError::TextEmpty { field: "wording" });
    let _ = drafted().when(OBSERVER, propose(LIISAS, LONGER, 1)).then_error(ErrorCode::Forbidden);
    let _ = drafted()
        .when(
            ALICE,
            Command::ProposeWording {
                card: LIISAS,
                statement: IDEAS,
                text: LONGER.into(),
                reason: "x".into(),
                base_version: 1,
            },
        )
        .then_error_eq(DomainError::NotAStatement);
    // A statement holds only proposals, and a proposal stays with its statement.
    let _ = drafted().when(ALICE, add_card(card(9), VISION, "Kortti")).then_error_eq(DomainError::StatementColumn);
    let _ = drafted().when(ALICE, move_card(ALICES_CARD, VISION, 0)).then_error_eq(DomainError::StatementColumn);
    let _ = competing().when(ALICE, move_card(LIISAS, IDEAS, 0)).then_error_eq(DomainError::StatementColumn);
    // The phase rules for cards apply.
    let session = SessionId(uuid::Uuid::from_u128(0x5E55));
    let voting = drafted()
        .given(
            FACILITATOR,
            Command::CreateSession { session, name: "Leiri".into(), date: "2026-06-12".into(), anonymous: false },
        )
        .given(FACILITATOR, Command::StartSession { session })
        .given(FACILITATOR, Command::SetPhase { session, phase: Phase::Vote });
    let _ = voting.when(ALICE, propose(LIISAS, LONGER, 1)).then_error(ErrorCode::PhaseForbids);
}

#[test]
fn proposals_are_commented_and_voted_like_cards_with_the_same_budget_and_hiding() {
    let board = competing()
        .given(BOB, add_comment(comment(9), LIISAS, "Hyvä, mutta pitkä"))
        .given(
            FACILITATOR,
            Command::StartVoteRound { settings: BoardSettings { vote_budget: 2, votes_per_card: 1 }, hidden: true },
        )
        .given(ALICE, vote(LIISAS))
        .given(BOB, vote(LIISAS));
    let state = board.state();
    assert_eq!(state.cards[&LIISAS].comments, vec![comment(9)]);
    assert_eq!(state.cards[&LIISAS].vote_total(), 2);
    assert!(state.votes_hidden());
    let _ = board.clone().when(ALICE, vote(LIISAS)).then_error_eq(DomainError::VoteCapReached { cap: 1 });
    let _ = board
        .given(ALICE, vote(MATTIS))
        .when(ALICE, vote(ALICES_CARD))
        .then_error_eq(DomainError::VoteBudgetExhausted { budget: 2 });
}

#[test]
fn the_facilitator_adopts_a_proposal_and_the_others_become_outdated() {
    let outcome = competing().when(FACILITATOR, Command::AdoptProposal { card: LIISAS });
    let at = outcome.at;
    let adopted = outcome
        .then_events(vec![Event::ProposalAdopted { card: LIISAS }])
        .then_state(|state| {
            assert_eq!(
                versions(state),
                vec![(1, Some(DRAFT), FACILITATOR, None), (2, Some(LONGER), ALICE, Some(LIISAS))]
            );
            let statement = state.columns[&VISION].statement.as_ref().expect("a statement");
            assert_eq!(statement.versions[1].adopted_at, at);
            assert_eq!(statement.versions[1].reason, Some(PersonalText::from("Rohkeampi")));
            assert_eq!(state.cards[&LIISAS].proposal.as_ref().and_then(|proposal| proposal.adopted_as), Some(2));
            assert_eq!(state.columns[&VISION].cards, vec![MATTIS], "the adopted wording leaves the open proposals");
        })
        .and();
    let _ = adopted
        .clone()
        .when(FACILITATOR, Command::AdoptProposal { card: LIISAS })
        .then_error_eq(DomainError::ProposalAdopted { version: 2 });
    // Bob's proposal was made on version 1: it cannot be adopted over version 2 as it is.
    let _ = adopted
        .clone()
        .when(FACILITATOR, Command::AdoptProposal { card: MATTIS })
        .then_error_eq(DomainError::ProposalOutdated { base: 1, current: 2 });
    let _ = adopted
        .clone()
        .when(ALICE, Command::AdoptProposal { card: MATTIS })
        .then_error_eq(forbidden("adopt proposals", Role::Participant));
    let _ = adopted
        .clone()
        .when(FACILITATOR, Command::AdoptProposal { card: ALICES_CARD })
        .then_error_eq(DomainError::NotAProposal);
    let edit = Command::EditCard { card: LIISAS, title: "Muutos".into(), body: OTHER.into(), base_version: 1 };
    let _ = adopted.when(ALICE, edit).then_error_eq(DomainError::ProposalAdopted { version: 2 });
}

#[test]
fn an_outdated_proposal_is_rebased_by_its_author_then_adopted() {
    let adopted = competing().given(FACILITATOR, Command::AdoptProposal { card: LIISAS });
    let rebase = |text: &str, base_version| Command::RebaseProposal { card: MATTIS, text: text.into(), base_version };
    let rebased_text = "Olemme paikallisyhteisöjen elinvoiman kasvattaja, kylien ääni ja rohkea uudistaja.";
    let _ = adopted.clone().when(BOB, rebase(rebased_text, 1)).then_error_eq(stale(Kind::Statement, 1, 2));
    let _ = adopted.clone().when(ALICE, rebase(rebased_text, 2)).then_error_eq(not_author("rebase this proposal"));
    let _ = adopted.clone().when(BOB, rebase(LONGER, 2)).then_error_eq(DomainError::SameWording);
    let _ = adopted
        .when(BOB, rebase(rebased_text, 2))
        .then_events(vec![Event::ProposalRebased { card: MATTIS, text: rebased_text.into(), base_version: 2 }])
        .then_state(|state| {
            let card = &state.cards[&MATTIS];
            assert_eq!(card.body.as_text(), Some(rebased_text));
            assert_eq!(card.proposal.as_ref().map(|proposal| proposal.base_version), Some(2));
        })
        .and()
        .when(FACILITATOR, Command::AdoptProposal { card: MATTIS })
        .then_state(|state| {
            let numbers: Vec<u32> = versions(state).iter().map(|version| version.0).collect();
            assert_eq!(numbers, vec![1, 2, 3]);
            assert_eq!(versions(state)[2].1, Some(rebased_text));
        });
}

#[test]
fn erasing_a_proposals_author_erases_the_wording_they_wrote() {
    let board = competing()
        .given(FACILITATOR, Command::AdoptProposal { card: LIISAS })
        .given(ALICE, Command::EraseParticipant { participant: ALICE });
    let state = board.state();
    assert_eq!(versions(state)[1].1, None, "the adopted wording was Alice's words");
    assert_eq!(versions(state)[0].1, Some(DRAFT), "the facilitator's draft stays");
}
