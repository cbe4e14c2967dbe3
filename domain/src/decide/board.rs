//! Creating the board and changing its own fields and settings.

use super::{Context, Decision, require_facilitator, text};
use crate::error::{DomainError, Kind};
use crate::event::Event;
use crate::limits;
use crate::state::{BoardState, Participant};
use kipina_proto::{BoardSettings, Language, Role};

pub(super) fn create(
    state: &BoardState,
    context: &Context,
    title: &str,
    description: &str,
    language: Language,
    facilitator_name: &str,
) -> Decision {
    if state.info.is_some() {
        return Err(DomainError::BoardExists);
    }
    text::single_line("title", title, limits::BOARD_TITLE)?;
    text::multi_line("description", description, limits::BOARD_DESCRIPTION, false)?;
    text::single_line("display name", facilitator_name, limits::DISPLAY_NAME)?;
    // The creator's name goes into their own event, not the board's, so it can be erased alone.
    Ok(vec![
        Event::BoardCreated {
            title: title.to_owned(),
            description: description.to_owned(),
            language,
            settings: BoardSettings::default(),
        },
        Event::ParticipantJoined {
            participant: context.actor,
            display_name: facilitator_name.into(),
            role: Role::Facilitator,
        },
    ])
}

pub(super) fn edit(
    state: &BoardState,
    actor: &Participant,
    title: &str,
    description: &str,
    base_version: u32,
) -> Decision {
    require_facilitator(actor, "edit the board")?;
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    if base_version != info.text_version {
        return Err(DomainError::StaleVersion { kind: Kind::Board, expected: base_version, actual: info.text_version });
    }
    text::single_line("title", title, limits::BOARD_TITLE)?;
    text::multi_line("description", description, limits::BOARD_DESCRIPTION, false)?;
    if info.title == title && info.description == description {
        return Ok(vec![]);
    }
    Ok(vec![Event::BoardEdited { title: title.to_owned(), description: description.to_owned() }])
}

pub(super) fn set_language(state: &BoardState, actor: &Participant, language: Language) -> Decision {
    require_facilitator(actor, "change the board's language")?;
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    if info.language == language {
        return Ok(vec![]);
    }
    Ok(vec![Event::BoardLanguageSet { language }])
}

/// A dot budget and a per-card cap that make sense together.
pub(super) fn check_settings(settings: BoardSettings) -> Result<(), DomainError> {
    if settings.vote_budget == 0 || settings.vote_budget > limits::MAX_VOTE_BUDGET {
        return Err(DomainError::InvalidSettings("the dot budget must be between 1 and 100"));
    }
    if settings.votes_per_card == 0 || settings.votes_per_card > settings.vote_budget {
        return Err(DomainError::InvalidSettings("the dots per card must be between 1 and the budget"));
    }
    Ok(())
}

pub(super) fn change_settings(state: &BoardState, actor: &Participant, settings: BoardSettings) -> Decision {
    require_facilitator(actor, "change the board's settings")?;
    let info = state.info.as_ref().ok_or(DomainError::BoardNotFound)?;
    check_settings(settings)?;
    if info.settings == settings {
        return Ok(vec![]);
    }
    Ok(vec![Event::SettingsChanged { settings }])
}
