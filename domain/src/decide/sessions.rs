//! Running a workshop: sessions and their phases, the countdown, the lock, the board's options
//! and vote rounds. All of it is the facilitator's.

use super::board::check_settings;
use super::{Context, Decision, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::state::{BoardState, Participant};
use kipina_proto::{BoardOptions, BoardSettings, Phase, SessionId, Timestamp};

pub(super) fn set_options(state: &BoardState, actor: &Participant, options: BoardOptions) -> Decision {
    require_facilitator(actor, "change the board's options")?;
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    if info.options == options {
        return Ok(vec![]);
    }
    Ok(vec![Event::OptionsSet { options }])
}

pub(super) fn set_locked(state: &BoardState, actor: &Participant, locked: bool) -> Decision {
    require_facilitator(actor, "freeze the board")?;
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    if info.locked == locked {
        return Ok(vec![]);
    }
    Ok(vec![Event::LockSet { locked }])
}

pub(super) fn create(
    state: &BoardState,
    actor: &Participant,
    session: SessionId,
    name: &str,
    date: &str,
    anonymous: bool,
) -> Decision {
    require_facilitator(actor, "plan sessions")?;
    if state.sessions.contains_key(&session) {
        return Err(DomainError::AlreadyExists { kind: Kind::Session, id: session.to_string() });
    }
    if state.sessions.len() >= limits::MAX_SESSIONS {
        return Err(DomainError::LimitReached { what: "sessions", max: limits::MAX_SESSIONS });
    }
    text::single_line("session name", name, limits::SESSION_NAME)?;
    let valid_date = date.len() == 10 && date.parse::<jiff::civil::Date>().is_ok();
    if !valid_date {
        return Err(DomainError::InvalidDate);
    }
    Ok(vec![Event::SessionCreated { session, name: name.to_owned(), date: date.to_owned(), anonymous }])
}

pub(super) fn start(state: &BoardState, actor: &Participant, session: SessionId) -> Decision {
    require_facilitator(actor, "start sessions")?;
    let found = existing_session(state, session)?;
    if found.phase.is_some() {
        return Err(DomainError::SessionStarted);
    }
    if state.running_session.is_some() {
        return Err(DomainError::SessionRunning);
    }
    Ok(vec![Event::PhaseSet { session, phase: Phase::Ideate }])
}

pub(super) fn set_phase(state: &BoardState, actor: &Participant, session: SessionId, phase: Phase) -> Decision {
    require_facilitator(actor, "change the phase")?;
    let found = existing_session(state, session)?;
    let Some(current) = found.phase else {
        return Err(DomainError::SessionNotStarted);
    };
    if current == phase {
        return Ok(vec![]);
    }
    // Reopening a closed session makes it the running one, so no other may be running.
    let reopening = current == Phase::Closed;
    if reopening && state.running_session.is_some_and(|running| running != session) {
        return Err(DomainError::SessionRunning);
    }
    // Closing a session ends the vote round open then: the results shown at the close are the
    // results (docs/protocol.md, "Closing a session ends its vote round").
    // The round ends first, so the board "at the end of the session" (as of the closing
    // `PhaseSet`'s sequence number) has its results.
    let ending_round = phase == Phase::Closed && state.current_round().is_some_and(|round| !round.ended);
    let mut events = Vec::new();
    if ending_round {
        events.push(Event::VoteRoundEnded {});
    }
    events.push(Event::PhaseSet { session, phase });
    Ok(events)
}

fn timer_seconds(seconds: u32) -> Result<i64, DomainError> {
    if seconds == 0 || seconds > limits::MAX_TIMER_SECONDS {
        return Err(DomainError::InvalidTimer { max: limits::MAX_TIMER_SECONDS });
    }
    Ok(i64::from(seconds) * 1_000)
}

pub(super) fn start_timer(state: &BoardState, context: &Context, actor: &Participant, seconds: u32) -> Decision {
    require_facilitator(actor, "run the timer")?;
    if state.running_session.is_none() {
        return Err(DomainError::SessionNotRunning);
    }
    let length = timer_seconds(seconds)?;
    Ok(vec![Event::TimerSet { ends_at: Some(Timestamp(context.at.millis() + length)) }])
}

/// Adds time to a running countdown; one that has already run out starts again from now.
pub(super) fn extend_timer(state: &BoardState, context: &Context, actor: &Participant, seconds: u32) -> Decision {
    require_facilitator(actor, "run the timer")?;
    let Some(ends_at) = state.timer_ends_at else {
        return Err(DomainError::NoTimer);
    };
    let length = timer_seconds(seconds)?;
    let from = ends_at.millis().max(context.at.millis());
    let until = from + length;
    if until - context.at.millis() > i64::from(limits::MAX_TIMER_SECONDS) * 1_000 {
        return Err(DomainError::InvalidTimer { max: limits::MAX_TIMER_SECONDS });
    }
    Ok(vec![Event::TimerSet { ends_at: Some(Timestamp(until)) }])
}

pub(super) fn stop_timer(state: &BoardState, actor: &Participant) -> Decision {
    require_facilitator(actor, "run the timer")?;
    if state.timer_ends_at.is_none() {
        return Ok(vec![]);
    }
    Ok(vec![Event::TimerSet { ends_at: None }])
}

pub(super) fn start_round(_state: &BoardState, actor: &Participant, settings: BoardSettings, hidden: bool) -> Decision {
    require_facilitator(actor, "start a vote round")?;
    check_settings(settings)?;
    Ok(vec![Event::VoteRoundStarted { settings, hidden }])
}

pub(super) fn reveal(state: &BoardState, actor: &Participant) -> Decision {
    require_facilitator(actor, "reveal the votes")?;
    let round = state.current_round().ok_or(DomainError::BoardNotFound)?;
    if !round.hidden {
        return Err(DomainError::VotesNotHidden);
    }
    if round.revealed {
        return Ok(vec![]);
    }
    Ok(vec![Event::VotesRevealed {}])
}

fn existing_session(state: &BoardState, session: SessionId) -> Result<&crate::Session, DomainError> {
    state.sessions.get(&session).ok_or_else(|| DomainError::NotFound { kind: Kind::Session, id: session.to_string() })
}
