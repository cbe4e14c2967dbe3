//! Vote rounds and their results, and the one ranking rule every export uses too.

use kipina_domain::BoardState;
use kipina_proto::view::{RoundResult, RoundView};

/// The one ranking rule, used by the results view and every export: places for dot counts
/// sorted most first, where equal dots share a place and the next place skips ("standard
/// competition ranking": 5, 5, 3 dots are places 1, 1, 3).
pub fn places(sorted_votes: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut places: Vec<u32> = Vec::new();
    let mut previous = None;
    for (index, votes) in sorted_votes.into_iter().enumerate() {
        let place = match (previous, places.last()) {
            (Some(before), Some(last)) if before == votes => *last,
            _ => u32::try_from(index + 1).unwrap_or(u32::MAX),
        };
        places.push(place);
        previous = Some(votes);
    }
    places
}

/// The round at `index`. An ended round shows its totals, most first (ending a round makes its
/// totals public); the current round's totals are on its cards.
pub fn round_view(state: &BoardState, index: usize) -> Option<RoundView> {
    let round = state.rounds.get(index)?;
    let mut results: Vec<RoundResult> =
        round.results.iter().map(|(card, votes)| RoundResult { card: *card, votes: *votes, place: 0 }).collect();
    results.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.card.cmp(&b.card)));
    let ranks = places(results.iter().map(|result| result.votes).collect::<Vec<_>>());
    for (result, place) in results.iter_mut().zip(ranks) {
        result.place = place;
    }
    Some(RoundView {
        number: round.number,
        session: round.session,
        settings: round.settings,
        hidden: round.hidden,
        revealed: round.revealed,
        current: index + 1 == state.rounds.len() && !round.ended,
        started_at: round.started_at,
        results,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn equal_dots_share_a_place_and_the_next_place_skips() {
        assert_eq!(super::places([5, 5, 3, 2, 2, 2, 0]), vec![1, 1, 3, 4, 4, 4, 7]);
        assert_eq!(super::places([1]), vec![1]);
        assert!(super::places([]).is_empty());
    }
}
