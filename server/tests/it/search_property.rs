//! Property: a search index kept up to date from an earlier whole segment (the changed
//! documents found by comparing the board with it, compacted now and then, as the search cache
//! does) answers every query, for every viewer, exactly as an index built from scratch from the
//! same board state: the same hits in the same order, the same total, the same highlights and
//! authors shown, whatever was written, edited, moved, grouped, archived, deleted, made
//! anonymous or erased in between.

use crate::replay_property::{PEOPLE, any_command, person, with_board};
use kipina_domain::{BoardState, Context, Fact, decide, evolve};
use kipina_proto::{Command, Language, Timestamp};
use kipina_server::projection::views::Viewer;
use kipina_server::search::{Changes, Corpus, Index, MAX_LIMIT, Query, Segment};
use proptest::prelude::*;
use std::sync::Arc;

/// Words of the random commands' texts (`replay_property::WORDS` and the mentions), searched
/// whole, by prefix, without accents, by stem and as parts, alone and together.
const QUERIES: [&str; 14] = [
    "kyläilta",
    "kylailta",
    "ky",
    "nuorten ääni",
    "aani",
    "äänestys",
    "äänestyksen",
    "yhteistyö",
    "työ",
    "ilta",
    "rajojen yli",
    "katsokaa",
    "lisäksi",
    "visio",
];

/// The state after each command, decided and evolved as the board's task does.
/// `per_second` commands share a second, so documents often tie on time and rank by their
/// order, and an edit may leave a text's time as it was.
fn states(commands: &[(u128, Command)], per_second: usize) -> Vec<BoardState> {
    let mut state = BoardState::default();
    let mut states = Vec::new();
    for (step, (actor, command)) in commands.iter().enumerate() {
        let context = Context { actor: person(*actor), at: Timestamp(1_000 * (1 + (step / per_second) as i64)) };
        let Ok(events) = decide(&state, &context, command) else { continue };
        for event in events {
            let fact = Fact { seq: state.version + 1, at: context.at, actor: context.actor, event };
            evolve(&mut state, &fact);
        }
        states.push(state.clone());
    }
    states
}

fn viewers() -> impl Iterator<Item = Viewer> {
    std::iter::once(Viewer::Observer).chain((0..PEOPLE).map(|index| Viewer::Participant(person(index))))
}

/// Every query, for every viewer, at a small limit (the order of ties shows) and the largest.
fn same_answers(updated: &Index, fresh: &Index) -> Result<(), TestCaseError> {
    prop_assert_eq!(updated.version(), fresh.version());
    prop_assert_eq!(updated.documents(), fresh.documents());
    for text in QUERIES {
        let query = Query::parse(text, fresh.language()).map_err(|error| TestCaseError::fail(error.to_string()))?;
        for viewer in viewers() {
            for limit in [2, MAX_LIMIT] {
                prop_assert_eq!(
                    updated.search(&query, viewer, limit),
                    fresh.search(&query, viewer, limit),
                    "{:?} for {:?}, limit {}",
                    text,
                    viewer,
                    limit
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn an_updated_index_answers_as_one_built_from_scratch(
        commands in prop::collection::vec(any_command(), 1..100),
        steps in prop::collection::vec((1..6usize, prop::bool::weighted(0.2)), 1..40),
        per_second in prop_oneof![Just(1), Just(3), Just(usize::MAX)],
    ) {
        let states = states(&with_board(commands), per_second);
        // The first search builds from scratch, somewhere in the setup.
        let mut at = steps[0].0;
        let first = &states[at.min(states.len() - 1)];
        let mut index = Index::build(Corpus::of(first));
        let mut base: Arc<Segment> = Arc::clone(index.main());
        for (skip, compact) in steps.iter().skip(1).copied().chain(std::iter::repeat((usize::MAX, false))) {
            at = at.saturating_add(skip).min(states.len() - 1);
            let state = &states[at];
            let changes = Changes::between(Arc::clone(&base), state);
            index = Index::update(changes);
            let fresh = Index::build(Corpus::of(state));
            same_answers(&index, &fresh)?;
            // A board that did not change since a whole segment differs from it in nothing.
            prop_assert_eq!(Changes::between(Arc::clone(fresh.main()), state).changed(), 0);
            if Arc::ptr_eq(index.main(), &base) {
                prop_assert!(index.changed() <= fresh.documents());
            } else {
                // Most of the board changed: the update was one whole segment.
                base = Arc::clone(index.main());
            }
            if compact {
                let compacted = Arc::new(index.compacted());
                prop_assert_eq!(compacted.documents(), fresh.main().documents());
                base = compacted;
            }
            if at == states.len() - 1 {
                break;
            }
        }
    }
}

#[test]
fn the_board_language_reads_the_queries_of_an_updated_index() {
    let commands = with_board(vec![(0, Command::SetBoardLanguage { language: Language::Sv })]);
    let states = states(&commands, 1);
    let before = Index::build(Corpus::of(&states[0]));
    let last = states.last().expect("states");
    let updated = Index::update(Changes::between(Arc::clone(before.main()), last));
    assert_eq!(updated.language(), Language::Sv);
    assert_eq!(updated.language(), Index::build(Corpus::of(last)).language());
}
