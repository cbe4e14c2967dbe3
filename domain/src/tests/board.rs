//! Creating the board, editing its title and description, its language and its settings.

use super::*;
use crate::limits;
use kipina_proto::BoardSettings;

fn created(title: &str, description: &str, name: &str) -> Vec<Event> {
    vec![
        Event::BoardCreated {
            title: title.into(),
            description: description.into(),
            language: Language::Fi,
            settings: BoardSettings::default(),
        },
        Event::ParticipantJoined { participant: FACILITATOR, display_name: name.into(), role: Role::Facilitator },
    ]
}

fn create(title: &str, description: &str, name: &str) -> Command {
    Command::CreateBoard {
        title: title.into(),
        description: description.into(),
        language: Language::Fi,
        facilitator_name: name.into(),
    }
}

fn edit(title: &str, description: &str, base_version: u32) -> Command {
    Command::EditBoard { title: title.into(), description: description.into(), base_version }
}

fn settings(vote_budget: u32, votes_per_card: u32) -> BoardSettings {
    BoardSettings { vote_budget, votes_per_card }
}

#[test]
fn creating_a_board_makes_the_creator_its_first_facilitator() {
    let outcome = Scenario::new().when(FACILITATOR, create_board()).then_events(created(
        "Leaderin kulmakivet",
        "Kevään ideatyöpaja",
        "Fanni Fasilitaattori",
    ));
    let at = outcome.at;
    let _ = outcome.then_state(|state| {
        let info = state.info.as_ref().expect("the board was created");
        assert_eq!(info.title, "Leaderin kulmakivet");
        assert_eq!((info.text_version, info.created_by, info.created_at), (1, FACILITATOR, at));
        assert_eq!(info.settings, settings(5, 3));
        let facilitator = &state.participants[&FACILITATOR];
        assert_eq!(facilitator.role, Role::Facilitator);
        assert_eq!(facilitator.display_name.as_text(), Some("Fanni Fasilitaattori"));
        assert_eq!(state.version, 2);
    });
}

#[test]
fn a_board_is_created_in_the_language_asked_for() {
    let command = Command::CreateBoard {
        title: "Byaråd".into(),
        description: String::new(),
        language: Language::Sv,
        facilitator_name: "Fanny".into(),
    };
    let _ = Scenario::new()
        .when(FACILITATOR, command)
        .then_state(|state| assert_eq!(state.info.as_ref().map(|info| info.language), Some(Language::Sv)));
}

#[test]
fn a_board_is_created_once() {
    for actor in [FACILITATOR, ALICE, STRANGER] {
        let _ = people().when(actor, create_board()).then_error_eq(DomainError::BoardExists);
    }
}

#[test]
fn board_title_description_and_creator_name_follow_the_text_rules() {
    check_text(Text::Line, "title", limits::BOARD_TITLE, |title| {
        (Scenario::new().when(FACILITATOR, create(title, "", "Fanni")), created(title, "", "Fanni"))
    });
    check_text(Text::Body, "description", limits::BOARD_DESCRIPTION, |description| {
        (
            Scenario::new().when(FACILITATOR, create("Työpaja", description, "Fanni")),
            created("Työpaja", description, "Fanni"),
        )
    });
    check_text(Text::Line, "display name", limits::DISPLAY_NAME, |name| {
        (Scenario::new().when(FACILITATOR, create("Työpaja", "", name)), created("Työpaja", "", name))
    });
}

#[test]
fn every_other_command_needs_a_board() {
    let mut commands = every_acting_command();
    commands.push(join("Aino", Role::Participant));
    for command in commands {
        let _ = Scenario::new().when(FACILITATOR, command).then_error_eq(DomainError::BoardNotFound);
    }
}

#[test]
fn the_facilitator_edits_the_board_and_its_text_version_goes_up() {
    let command = edit("Kulmakivet 2026", "Syksyn työpaja", 1);
    let _ = people()
        .when(FACILITATOR, command.clone())
        .then_events(vec![Event::BoardEdited {
            title: "Kulmakivet 2026".into(), description: "Syksyn työpaja".into()
        }])
        .then_state(|state| {
            let info = state.info.as_ref().expect("the board exists");
            assert_eq!((info.title.as_str(), info.description.as_str()), ("Kulmakivet 2026", "Syksyn työpaja"));
            assert_eq!(info.text_version, 2);
        });
    check_actors(
        &people(),
        command,
        vec![
            (ALICE, Err(forbidden("edit the board", Role::Participant))),
            (OBSERVER, Err(forbidden("edit the board", Role::Observer))),
        ],
    );
}

#[test]
fn an_edit_based_on_an_old_version_is_refused_naming_both_versions() {
    let _ = people().when(FACILITATOR, edit("Uusi", "", 0)).then_error_eq(stale(Kind::Board, 0, 1));
    let _ = people()
        .given(FACILITATOR, edit("Toinen", "", 1))
        .when(FACILITATOR, edit("Kolmas", "", 1))
        .then_error_eq(stale(Kind::Board, 1, 2));
    let _ = people().when(FACILITATOR, edit("Tuleva", "", 5)).then_error_eq(stale(Kind::Board, 5, 1));
}

#[test]
fn editing_the_board_to_what_it_says_is_a_no_op() {
    let _ = people().when(FACILITATOR, edit("Leaderin kulmakivet", "Kevään ideatyöpaja", 1)).then_no_events();
}

#[test]
fn board_edits_follow_the_text_rules() {
    check_text(Text::Line, "title", limits::BOARD_TITLE, |title| {
        let outcome = people().when(FACILITATOR, edit(title, "Kevään ideatyöpaja", 1));
        (outcome, vec![Event::BoardEdited { title: title.into(), description: "Kevään ideatyöpaja".into() }])
    });
    check_text(Text::Body, "description", limits::BOARD_DESCRIPTION, |description| {
        let outcome = people().when(FACILITATOR, edit("Leaderin kulmakivet", description, 1));
        (outcome, vec![Event::BoardEdited { title: "Leaderin kulmakivet".into(), description: description.into() }])
    });
}

#[test]
fn the_facilitator_sets_the_board_language() {
    let command = Command::SetBoardLanguage { language: Language::En };
    let _ = people()
        .when(FACILITATOR, command.clone())
        .then_events(vec![Event::BoardLanguageSet { language: Language::En }])
        .then_state(|state| assert_eq!(state.info.as_ref().map(|info| info.language), Some(Language::En)));
    let _ = people().when(FACILITATOR, Command::SetBoardLanguage { language: Language::Fi }).then_no_events();
    check_actors(
        &people(),
        command,
        vec![
            (ALICE, Err(forbidden("change the board's language", Role::Participant))),
            (OBSERVER, Err(forbidden("change the board's language", Role::Observer))),
        ],
    );
}

#[test]
fn the_facilitator_changes_the_dot_settings() {
    let command = Command::ChangeSettings { settings: settings(8, 2) };
    let _ = people()
        .when(FACILITATOR, command.clone())
        .then_events(vec![Event::SettingsChanged { settings: settings(8, 2) }])
        .then_state(|state| assert_eq!(state.info.as_ref().map(|info| info.settings), Some(settings(8, 2))));
    let _ = people().when(FACILITATOR, Command::ChangeSettings { settings: settings(5, 3) }).then_no_events();
    check_actors(
        &people(),
        command,
        vec![
            (ALICE, Err(forbidden("change the board's settings", Role::Participant))),
            (OBSERVER, Err(forbidden("change the board's settings", Role::Observer))),
        ],
    );
}

#[test]
fn dot_settings_must_be_sensible() {
    let budget = DomainError::InvalidSettings("the dot budget must be between 1 and 100");
    let per_card = DomainError::InvalidSettings("the dots per card must be between 1 and the budget");
    let max = limits::MAX_VOTE_BUDGET;
    for (vote_budget, votes_per_card, expected) in [
        (0, 0, Err(budget.clone())),
        (0, 1, Err(budget.clone())),
        (max + 1, 3, Err(budget)),
        (5, 0, Err(per_card.clone())),
        (2, 3, Err(per_card)),
        (1, 1, Ok(())),
        (max, max, Ok(())),
        (4, 4, Ok(())),
    ] {
        let new = settings(vote_budget, votes_per_card);
        let expected = expected.map(|()| vec![Event::SettingsChanged { settings: new }]);
        let _ = people().when(FACILITATOR, Command::ChangeSettings { settings: new }).then(expected);
    }
}
