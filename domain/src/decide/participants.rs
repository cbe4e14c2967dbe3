//! Joining, names, roles and erasure of personal data.

use super::{Context, Decision, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::state::{BoardState, Participant};
use kipina_proto::{ParticipantId, Role};

/// Joins the board. The role is the one the join link grants; the server has checked the link.
pub(super) fn join(state: &BoardState, context: &Context, display_name: &str, role: Role) -> Decision {
    if state.info.is_none() {
        return Err(DomainError::BoardNotFound);
    }
    match state.participants.get(&context.actor) {
        Some(participant) if participant.erased => return Err(DomainError::ParticipantErased),
        Some(participant) if participant.removed => return Err(DomainError::ParticipantRemoved),
        Some(_) => return Err(DomainError::AlreadyJoined),
        None => {}
    }
    if state.participants.len() >= limits::MAX_PARTICIPANTS {
        return Err(DomainError::LimitReached { what: "participants", max: limits::MAX_PARTICIPANTS });
    }
    text::single_line("display name", display_name, limits::DISPLAY_NAME)?;
    Ok(vec![Event::ParticipantJoined { participant: context.actor, display_name: display_name.into(), role }])
}

/// Anyone may change their own name, observers included: it is theirs.
pub(super) fn rename(_state: &BoardState, actor: &Participant, display_name: &str) -> Decision {
    text::single_line("display name", display_name, limits::DISPLAY_NAME)?;
    if actor.display_name.as_text() == Some(display_name) {
        return Ok(vec![]);
    }
    Ok(vec![Event::ParticipantRenamed { participant: actor.id, display_name: display_name.into() }])
}

pub(super) fn change_role(state: &BoardState, actor: &Participant, target: ParticipantId, role: Role) -> Decision {
    require_facilitator(actor, "change roles")?;
    let participant = state
        .participants
        .get(&target)
        .ok_or_else(|| DomainError::NotFound { kind: Kind::Participant, id: target.to_string() })?;
    if participant.erased {
        return Err(DomainError::ParticipantErased);
    }
    if participant.role == role {
        return Ok(vec![]);
    }
    if participant.role == Role::Facilitator && state.facilitator_count() == 1 {
        return Err(DomainError::LastFacilitator);
    }
    Ok(vec![Event::RoleChanged { participant: target, role }])
}

/// A facilitator may erase anyone (on their request); anyone may erase themselves. Erasure is
/// final and allowed even for the last facilitator, since the right to erasure outweighs the
/// board's convenience: a new facilitator can join through the facilitator link.
pub(super) fn erase(state: &BoardState, actor: &Participant, target: ParticipantId) -> Decision {
    if actor.id != target {
        require_facilitator(actor, "erase another participant")?;
    }
    let participant = state
        .participants
        .get(&target)
        .ok_or_else(|| DomainError::NotFound { kind: Kind::Participant, id: target.to_string() })?;
    if participant.erased {
        return Ok(vec![]);
    }
    Ok(vec![Event::ParticipantErased { participant: target }])
}

/// Facilitators take someone off the board (a duplicate, someone who left). Their dots in the
/// current round are released; what they wrote stays, under their name. The last facilitator
/// who can act cannot be removed (the board would have nobody to run it); erasure, which is
/// the person's right, is the other command.
pub(super) fn remove(state: &BoardState, actor: &Participant, target: ParticipantId) -> Decision {
    require_facilitator(actor, "remove a participant")?;
    let participant = state
        .participants
        .get(&target)
        .ok_or_else(|| DomainError::NotFound { kind: Kind::Participant, id: target.to_string() })?;
    if participant.removed || participant.erased {
        return Ok(vec![]);
    }
    if participant.role == Role::Facilitator && state.facilitator_count() == 1 {
        return Err(DomainError::LastFacilitator);
    }
    Ok(vec![Event::ParticipantRemoved { participant: target }])
}
