//! Joining, names, roles, erasure and removal.

use crate::event::Fact;
use crate::personal::PersonalText;
use crate::state::{BoardState, Participant};
use kipina_proto::{ParticipantId, Role};

pub(super) fn participant_joined(
    state: &mut BoardState,
    fact: &Fact,
    participant: &ParticipantId,
    display_name: &PersonalText,
    role: &Role,
) {
    let at = fact.at;
    state.participants.insert(
        *participant,
        Participant {
            id: *participant,
            display_name: display_name.clone(),
            role: *role,
            joined_at: at,
            erased: false,
            removed: false,
            votes_used: 0,
            seen_through: 0,
            notifications_read_through: 0,
            following: Default::default(),
        },
    );
}

pub(super) fn participant_renamed(state: &mut BoardState, participant: &ParticipantId, display_name: &PersonalText) {
    if let Some(found) = state.participants.get_mut(participant) {
        found.display_name = display_name.clone();
    }
}

pub(super) fn role_changed(state: &mut BoardState, participant: &ParticipantId, role: &Role) {
    if let Some(found) = state.participants.get_mut(participant) {
        found.role = *role;
    }
}

pub(super) fn participant_removed(state: &mut BoardState, participant: &ParticipantId) {
    if let Some(found) = state.participants.get_mut(participant) {
        found.removed = true;
        found.votes_used = 0;
    }
    crate::attention::unfollow_all(state, *participant);
    for card in state.cards.values_mut() {
        card.votes.remove(participant);
    }
}

pub(super) fn erase(state: &mut BoardState, participant: ParticipantId) {
    let Some(found) = state.participants.get_mut(&participant) else {
        return;
    };
    found.erased = true;
    found.display_name = PersonalText::Erased;
    for card in state.cards.values_mut() {
        if card.title_by == participant {
            card.title = PersonalText::Erased;
        }
        if card.text_by == participant {
            card.body = PersonalText::Erased;
        }
    }
    for comment in state.comments.values_mut().filter(|comment| comment.author == participant) {
        comment.body = PersonalText::Erased;
    }
    let statements = state.columns.values_mut().filter_map(|column| column.statement.as_mut());
    for version in statements.flat_map(|statement| statement.versions.iter_mut()) {
        if version.text_by == participant {
            version.text = PersonalText::Erased;
        }
        if version.reason_by == participant && version.reason.is_some() {
            version.reason = Some(PersonalText::Erased);
        }
    }
}
