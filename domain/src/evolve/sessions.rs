//! Options, the lock, sessions and their phases, the timer and vote rounds.

use crate::event::Fact;
use crate::state::{BoardState, Session, VoteRound};
use kipina_proto::{BoardOptions, SessionId, Timestamp};

pub(super) fn options_set(state: &mut BoardState, options: &BoardOptions) {
    if let Some(info) = state.info.as_mut() {
        info.options = *options;
    }
}

pub(super) fn lock_set(state: &mut BoardState, locked: &bool) {
    if let Some(info) = state.info.as_mut() {
        info.locked = *locked;
    }
}

pub(super) fn session_created(
    state: &mut BoardState,
    fact: &Fact,
    session: &SessionId,
    name: &str,
    date: &str,
    anonymous: &bool,
) {
    let at = fact.at;
    state.sessions.insert(
        *session,
        Session {
            id: *session,
            name: name.to_owned(),
            date: date.to_owned(),
            anonymous: *anonymous,
            phase: None,
            created_at: at,
            started_at: None,
            ended_at: None,
            started_seq: None,
            ended_seq: None,
        },
    );
    state.session_order.push(*session);
}

pub(super) fn votes_revealed(state: &mut BoardState) {
    if let Some(round) = state.rounds.last_mut() {
        round.revealed = true;
    }
}

pub(super) fn set_phase(
    state: &mut BoardState,
    session: kipina_proto::SessionId,
    phase: kipina_proto::Phase,
    at: Timestamp,
    seq: u64,
) {
    let Some(found) = state.sessions.get_mut(&session) else {
        return;
    };
    found.phase = Some(phase);
    found.started_at.get_or_insert(at);
    found.started_seq.get_or_insert(seq);
    // A new phase starts without a countdown.
    state.timer_ends_at = None;
    if phase == kipina_proto::Phase::Closed {
        found.ended_at = Some(at);
        found.ended_seq = Some(seq);
        if state.running_session == Some(session) {
            state.running_session = None;
        }
    } else {
        found.ended_at = None;
        found.ended_seq = None;
        state.running_session = Some(session);
    }
}
pub(super) fn end_round(state: &mut BoardState) {
    if let Some(round) = state.rounds.last_mut().filter(|round| !round.ended) {
        round.results =
            state.cards.values().map(|card| (card.id, card.vote_total())).filter(|(_, votes)| *votes > 0).collect();
        round.ended = true;
    }
}
pub(super) fn start_round(state: &mut BoardState, settings: kipina_proto::BoardSettings, hidden: bool, at: Timestamp) {
    end_round(state);
    for card in state.cards.values_mut() {
        card.votes.clear();
    }
    for participant in state.participants.values_mut() {
        participant.votes_used = 0;
    }
    if let Some(info) = state.info.as_mut() {
        info.settings = settings;
    }
    let number = u32::try_from(state.rounds.len()).unwrap_or(u32::MAX).saturating_add(1);
    state.rounds.push(VoteRound {
        number,
        session: state.running_session,
        settings,
        hidden,
        revealed: false,
        started_at: at,
        results: Default::default(),
        ended: false,
    });
}
