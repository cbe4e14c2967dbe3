//! Given / when / then helpers for the domain core's tests, and for other crates' tests through
//! the `testing` feature.
//!
//! A [`Scenario`] runs `given` commands through `decide` and `evolve` (they must be accepted),
//! or applies events directly when a test needs a large board quickly. `when` decides one more
//! command and returns an [`Outcome`] whose `then_*` methods check the exact events or error
//! and the state that follows. Ids are fixed and time moves on a second per step, so every
//! expected value can be written out in full.

use crate::{BoardState, Context, Decision, DomainError, Event, Fact, Kind, decide, evolve};
use kipina_proto::{
    CardId, ColumnId, Command, CommentId, ErrorCode, LabelId, Language, ParticipantId, ReactionTarget, Role, Timestamp,
};
use uuid::Uuid;

// The people of the workshop board.
/// Created the board.
pub const FACILITATOR: ParticipantId = ParticipantId(Uuid::from_u128(0xFAC1));
/// A participant, "Aino Ääkkönen".
pub const ALICE: ParticipantId = ParticipantId(Uuid::from_u128(0xA11CE));
/// Another participant, "Eero Mäkelä".
pub const BOB: ParticipantId = ParticipantId(Uuid::from_u128(0xB0B));
/// Reads only, "Olli Oksanen".
pub const OBSERVER: ParticipantId = ParticipantId(Uuid::from_u128(0x0B5));
/// Joined as a participant and was then erased.
pub const ERASED: ParticipantId = ParticipantId(Uuid::from_u128(0xE2A5));
/// Never joined.
pub const STRANGER: ParticipantId = ParticipantId(Uuid::from_u128(0x5742));

/// The columns of the workshop board, in order.
pub const IDEAS: ColumnId = column(1);
pub const LATER: ColumnId = column(2);
/// Alice's card in [`IDEAS`], and Bob's card under it.
pub const ALICES_CARD: CardId = card(1);
pub const BOBS_CARD: CardId = card(2);
/// Alice's comment on her own card.
pub const ALICES_COMMENT: CommentId = comment(1);
/// A label the facilitator made.
pub const LABEL: LabelId = label(1);

pub const fn column(n: u128) -> ColumnId {
    ColumnId(Uuid::from_u128(0xC0_0000 + n))
}
pub const fn card(n: u128) -> CardId {
    CardId(Uuid::from_u128(0xCA_0000 + n))
}
pub const fn comment(n: u128) -> CommentId {
    CommentId(Uuid::from_u128(0xC3_0000 + n))
}
pub const fn label(n: u128) -> LabelId {
    LabelId(Uuid::from_u128(0x1A_0000 + n))
}
pub const fn participant(n: u128) -> ParticipantId {
    ParticipantId(Uuid::from_u128(0x9E_0000 + n))
}

/// 2026-01-01 00:00:00 UTC; each step of a scenario happens a second after the one before.
const START: i64 = 1_767_225_600_000;

/// A board built step by step.
#[derive(Clone, Debug)]
pub struct Scenario {
    state: BoardState,
    clock: i64,
}

impl Default for Scenario {
    /// No board yet.
    fn default() -> Self {
        Self { state: BoardState::default(), clock: START }
    }
}

impl Scenario {
    /// No board yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn tick(&mut self) -> Timestamp {
        self.clock += 1_000;
        Timestamp(self.clock)
    }

    fn apply(&mut self, context: Context, events: &[Event]) {
        for event in events {
            let fact = Fact { seq: self.state.version + 1, at: context.at, actor: context.actor, event: event.clone() };
            evolve(&mut self.state, &fact);
        }
    }

    /// Runs a command that must be accepted, and applies its events.
    #[track_caller]
    pub fn given(mut self, actor: ParticipantId, command: Command) -> Self {
        let context = Context { actor, at: self.tick() };
        match decide(&self.state, &context, &command) {
            Ok(events) => self.apply(context, &events),
            Err(error) => panic!("given {} by {} was refused: {error:?}", command.name(), who(actor)),
        }
        self
    }

    /// Applies events as if `actor` had caused them, without asking `decide`: a fast way to
    /// build a board at its limits.
    pub fn given_events(mut self, actor: ParticipantId, events: impl IntoIterator<Item = Event>) -> Self {
        for event in events {
            let context = Context { actor, at: self.tick() };
            self.apply(context, &[event]);
        }
        self
    }

    /// Decides `command`; the events, if any, are applied for the `then_state` checks.
    pub fn when(mut self, actor: ParticipantId, command: Command) -> Outcome {
        let context = Context { actor, at: self.tick() };
        let before = self.state.clone();
        let result = decide(&self.state, &context, &command);
        if let Ok(events) = &result {
            self.apply(context, events);
        }
        Outcome {
            label: format!("{} by {}", command.name(), who(actor)),
            at: context.at,
            before,
            after: self.state,
            result,
        }
    }

    /// The state so far.
    pub fn state(&self) -> &BoardState {
        &self.state
    }
}

/// What `when` decided, and the state before and after.
#[must_use = "an outcome is checked with a then_* method"]
#[derive(Debug)]
pub struct Outcome {
    label: String,
    /// When the command was given.
    pub at: Timestamp,
    before: BoardState,
    after: BoardState,
    /// What `decide` answered.
    pub result: Decision,
}

impl Outcome {
    /// The command was accepted with exactly these events (none means it was a no-op).
    #[track_caller]
    pub fn then_events(self, expected: Vec<Event>) -> Self {
        assert_eq!(self.result, Ok(expected), "{}", self.label);
        self
    }

    /// The command asked for what was already true: accepted, with no events and no change.
    #[track_caller]
    pub fn then_no_events(self) -> Self {
        let outcome = self.then_events(vec![]);
        assert_eq!(outcome.after, outcome.before, "{}: a no-op changed the state", outcome.label);
        outcome
    }

    /// The command was refused with exactly this error, and so produced no events.
    #[track_caller]
    pub fn then_error_eq(self, expected: DomainError) -> Self {
        assert_eq!(self.result, Err(expected), "{}", self.label);
        self.assert_nothing_recorded()
    }

    /// The command was refused with an error of this code, and so produced no events.
    #[track_caller]
    pub fn then_error(self, code: ErrorCode) -> Self {
        match &self.result {
            Err(error) => assert_eq!(error.code(), code, "{}: {error:?}", self.label),
            Ok(events) => panic!("{}: expected {code}, got events {events:?}", self.label),
        }
        self.assert_nothing_recorded()
    }

    /// Either [`then_events`](Self::then_events) or [`then_error_eq`](Self::then_error_eq),
    /// for tables of expected answers.
    #[track_caller]
    pub fn then(self, expected: Decision) -> Self {
        match expected {
            Ok(events) => self.then_events(events),
            Err(error) => self.then_error_eq(error),
        }
    }

    /// Checks the state after the command's events were applied.
    #[track_caller]
    pub fn then_state(self, check: impl FnOnce(&BoardState)) -> Self {
        check(&self.after);
        self
    }

    /// The state before the command.
    pub fn before(&self) -> &BoardState {
        &self.before
    }

    /// Goes on from the state after the command, for a further `when`.
    pub fn and(self) -> Scenario {
        Scenario { state: self.after, clock: self.at.millis() }
    }

    #[track_caller]
    fn assert_nothing_recorded(self) -> Self {
        assert_eq!(self.after, self.before, "{}: a refused command changed the state", self.label);
        self
    }
}

/// A readable name for an actor in failure messages.
pub fn who(actor: ParticipantId) -> String {
    match actor {
        FACILITATOR => "the facilitator".into(),
        ALICE => "Alice".into(),
        BOB => "Bob".into(),
        OBSERVER => "the observer".into(),
        ERASED => "the erased participant".into(),
        STRANGER => "a stranger".into(),
        other => other.to_string(),
    }
}

/// Runs `command` as each actor of the table on its own copy of `given` and checks each answer.
#[track_caller]
pub fn check_actors(given: &Scenario, command: Command, table: Vec<(ParticipantId, Decision)>) {
    for (actor, expected) in table {
        let _ = given.clone().when(actor, command.clone()).then(expected);
    }
}

// Boards to start from.

/// The board with its people: the facilitator, Alice and Bob, an observer and an erased participant.
pub fn people() -> Scenario {
    Scenario::new()
        .given(FACILITATOR, create_board())
        .given(ALICE, join("Aino Ääkkönen", Role::Participant))
        .given(BOB, join("Eero Mäkelä", Role::Participant))
        .given(OBSERVER, join("Olli Oksanen", Role::Observer))
        .given(ERASED, join("Pirkko Poistettu", Role::Participant))
        .given(ERASED, Command::EraseParticipant { participant: ERASED })
}

/// [`people`] with two columns, "Ideat" and "Myöhemmin".
pub fn workshop() -> Scenario {
    people().given(FACILITATOR, add_column(IDEAS, "Ideat")).given(FACILITATOR, add_column(LATER, "Myöhemmin"))
}

/// [`workshop`] with Alice's card "Kyläkahvila" and Bob's card "Nuorisotila" in "Ideat".
pub fn with_cards() -> Scenario {
    workshop()
        .given(ALICE, add_card(ALICES_CARD, IDEAS, "Kyläkahvila"))
        .given(BOB, add_card(BOBS_CARD, IDEAS, "Nuorisotila"))
}

// Commands, short.

pub fn create_board() -> Command {
    Command::CreateBoard {
        title: "Leaderin kulmakivet".into(),
        description: "Kevään ideatyöpaja".into(),
        language: Language::Fi,
        facilitator_name: "Fanni Fasilitaattori".into(),
    }
}

pub fn join(display_name: &str, role: Role) -> Command {
    Command::Join { display_name: display_name.into(), role }
}

pub fn add_column(column: ColumnId, title: &str) -> Command {
    Command::AddColumn { column, title: title.into() }
}

pub fn add_card(card: CardId, column: ColumnId, title: &str) -> Command {
    Command::AddCard { card, column, title: title.into(), body: String::new() }
}

pub fn move_card(card: CardId, column: ColumnId, to_index: u32) -> Command {
    Command::MoveCard { card, column, to_index }
}

pub fn add_comment(comment: CommentId, card: CardId, body: &str) -> Command {
    Command::AddComment { comment, card, reply_to: None, body: body.into() }
}

pub fn reply(comment: CommentId, card: CardId, parent: CommentId, body: &str) -> Command {
    Command::AddComment { comment, card, reply_to: Some(parent), body: body.into() }
}

pub fn create_label(label: LabelId, name: &str, color: &str) -> Command {
    Command::CreateLabel { label, name: name.into(), color: color.into() }
}

pub fn vote(card: CardId) -> Command {
    Command::CastVote { card }
}

pub fn like_card(card: CardId) -> Command {
    Command::ToggleReaction { target: ReactionTarget::Card(card) }
}

// Errors, short.

pub fn forbidden(action: &'static str, role: Role) -> DomainError {
    DomainError::Forbidden { action, role }
}

pub fn not_author(action: &'static str) -> DomainError {
    DomainError::NotAuthor { action }
}

pub fn not_found(kind: Kind, id: impl ToString) -> DomainError {
    DomainError::NotFound { kind, id: id.to_string() }
}

pub fn already_exists(kind: Kind, id: impl ToString) -> DomainError {
    DomainError::AlreadyExists { kind, id: id.to_string() }
}

pub fn stale(kind: Kind, expected: u32, actual: u32) -> DomainError {
    DomainError::StaleVersion { kind, expected, actual }
}

/// One command of every kind that needs a board and a participant who can act.
pub fn every_acting_command() -> Vec<Command> {
    vec![
        Command::EditBoard { title: "Uusi".into(), description: String::new(), base_version: 1 },
        Command::SetBoardLanguage { language: Language::Sv },
        Command::ChangeSettings { settings: kipina_proto::BoardSettings { vote_budget: 7, votes_per_card: 2 } },
        Command::Rename { display_name: "Uusi nimi".into() },
        Command::ChangeRole { participant: BOB, role: Role::Observer },
        Command::EraseParticipant { participant: BOB },
        add_column(column(9), "Kysymykset"),
        Command::RenameColumn { column: IDEAS, title: "Ideoita".into(), base_version: 1 },
        Command::MoveColumn { column: IDEAS, to_index: 1 },
        Command::ArchiveColumn { column: LATER },
        Command::RestoreColumn { column: LATER },
        create_label(label(9), "Kiireellinen", "red"),
        Command::SetCardLabel { card: ALICES_CARD, label: LABEL, on: true },
        add_card(card(9), IDEAS, "Uusi idea"),
        Command::EditCard {
            card: ALICES_CARD,
            title: "Kyläkahvila ja kirjasto".into(),
            body: String::new(),
            base_version: 1,
        },
        move_card(ALICES_CARD, LATER, 0),
        Command::SetCardStatus { card: ALICES_CARD, status: kipina_proto::CardStatus::Selected },
        Command::ArchiveCard { card: ALICES_CARD },
        Command::RestoreCard { card: ALICES_CARD },
        add_comment(comment(9), ALICES_CARD, "Hyvä idea"),
        Command::EditComment { comment: ALICES_COMMENT, body: "Parempi".into(), base_version: 1 },
        Command::DeleteComment { comment: ALICES_COMMENT },
        vote(ALICES_CARD),
        Command::WithdrawVote { card: ALICES_CARD },
        like_card(ALICES_CARD),
        Command::SetBoardOptions {
            options: kipina_proto::BoardOptions { anonymous: true, participants_may_group: true },
        },
        Command::SetLocked { locked: true },
        Command::CreateSession {
            session: session(9),
            name: "Kevätleiri".into(),
            date: "2026-06-12".into(),
            anonymous: false,
        },
        Command::StartSession { session: session(9) },
        Command::SetPhase { session: session(9), phase: kipina_proto::Phase::Vote },
        Command::StartTimer { seconds: 300 },
        Command::ExtendTimer { seconds: 60 },
        Command::StopTimer,
        Command::StartVoteRound {
            settings: kipina_proto::BoardSettings { vote_budget: 3, votes_per_card: 1 },
            hidden: true,
        },
        Command::RevealVotes,
        Command::GroupCards { group: card(19), heading: "Kylätilat".into(), cards: vec![ALICES_CARD, BOBS_CARD] },
        Command::AddToGroup { group: card(19), card: ALICES_CARD },
        Command::Ungroup { group: card(19) },
    ]
}

pub const fn session(n: u128) -> kipina_proto::SessionId {
    kipina_proto::SessionId(Uuid::from_u128(0x5E_0000 + n))
}

// Text rules.

/// How a text field is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    /// A title or a name: one line, not blank.
    Line,
    /// One line that may be empty (a label's name).
    OptionalLine,
    /// Lines of text that may be empty (a card's or the board's description).
    Body,
    /// Lines of text that must say something (a comment).
    RequiredBody,
}

/// `n` characters of Finnish, two bytes for every "ä" and "ö", so counting bytes would be wrong.
pub fn finnish(n: usize) -> String {
    "ääkkönen ".chars().cycle().take(n).collect()
}

/// Rows of text and the error each must get from a field of this kind, or `None` when accepted.
fn text_cases(kind: Text, field: &'static str, max: usize) -> Vec<(String, Option<DomainError>)> {
    let empty = Some(DomainError::TextEmpty { field });
    let control = Some(DomainError::TextControlCharacters { field });
    let multi_line = matches!(kind, Text::Body | Text::RequiredBody);
    let line_break = if multi_line { None } else { control.clone() };
    let mut cases = vec![
        (finnish(max), None),
        (finnish(max + 1), Some(DomainError::TextTooLong { field, max, actual: max + 1 })),
        ("kello\u{7}soi".into(), control.clone()),
        ("nolla\u{0}".into(), control.clone()),
        ("seuraava\u{85}rivi".into(), control.clone()),
        ("rivi\nrivi".into(), line_break.clone()),
        ("rivi\r\nrivi".into(), line_break.clone()),
        ("sarake\tsarake".into(), line_break),
    ];
    match kind {
        Text::Line | Text::RequiredBody => {
            cases.push((String::new(), empty.clone()));
            cases.push((" \n\t ".into(), empty));
        }
        Text::OptionalLine => cases.push((String::new(), None)),
        Text::Body => {
            cases.push((String::new(), None));
            cases.push(("  \n  ".into(), None));
        }
    }
    cases
}

/// Checks a text field against every row of [`text_cases`]. `run` gives the command for a text
/// and the events it must produce when the text is accepted.
#[track_caller]
pub fn check_text(kind: Text, field: &'static str, max: usize, run: impl Fn(&str) -> (Outcome, Vec<Event>)) {
    for (text, error) in text_cases(kind, field, max) {
        let (outcome, accepted) = run(&text);
        let _ = match error {
            Some(error) => outcome.then_error_eq(error),
            None => outcome.then_events(accepted),
        };
    }
}
