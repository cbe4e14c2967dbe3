//! The board's title, description, language and settings.

use crate::event::Fact;
use crate::state::{BoardInfo, BoardState, VoteRound};
use kipina_proto::{BoardSettings, Language};

pub(super) fn board_created(
    state: &mut BoardState,
    fact: &Fact,
    title: &str,
    description: &str,
    language: &Language,
    settings: &BoardSettings,
) {
    let actor = fact.actor;
    let at = fact.at;
    state.info = Some(BoardInfo {
        title: title.to_owned(),
        description: description.to_owned(),
        text_version: 1,
        language: *language,
        settings: *settings,
        options: Default::default(),
        locked: false,
        created_at: at,
        created_by: actor,
    });
    state.rounds = vec![VoteRound {
        number: 1,
        session: None,
        settings: *settings,
        hidden: false,
        revealed: false,
        started_at: at,
        results: Default::default(),
        ended: false,
    }];
}

pub(super) fn board_edited(state: &mut BoardState, title: &str, description: &str) {
    if let Some(info) = state.info.as_mut() {
        info.title = title.to_owned();
        info.description = description.to_owned();
        info.text_version += 1;
    }
}

pub(super) fn board_language_set(state: &mut BoardState, language: &Language) {
    if let Some(info) = state.info.as_mut() {
        info.language = *language;
    }
}

pub(super) fn settings_changed(state: &mut BoardState, settings: &BoardSettings) {
    if let Some(info) = state.info.as_mut() {
        info.settings = *settings;
    }
    if let Some(round) = state.rounds.last_mut() {
        round.settings = *settings;
    }
}
