//! `decide`: every rule of the board, in one pure function per command area.
//!
//! `decide(state, context, command)` either returns the events that record what the command
//! did, or says why it was refused. It reads no clock and makes no ids: the actor and the time
//! come in the [`Context`], new ids come in the command. An empty list of events means the
//! command asked for what is already true (moving a card where it is), which is not an error.

mod board;
mod cards;
mod columns;
mod comments;
mod groups;
mod keeping_up;
mod labels;
mod participants;
mod sessions;
mod statements;
mod votes;

use super::error::{DomainError, Kind};
use super::event::Event;
use super::permissions::permissions;
use super::state::{BoardState, Card, Participant};
use kipina_proto::{CardId, Command, ParticipantId, Timestamp};

/// Who asks, and when (from the server's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    pub actor: ParticipantId,
    pub at: Timestamp,
}

/// The result of a decision.
pub type Decision = Result<Vec<Event>, DomainError>;

/// Checks `command` against the board's rules and returns the events it produces.
pub fn decide(state: &BoardState, context: &Context, command: &Command) -> Decision {
    match command {
        Command::CreateBoard { title, description, language, facilitator_name } => {
            board::create(state, context, title, description, *language, facilitator_name)
        }
        Command::Join { display_name, role } => participants::join(state, context, display_name, *role),
        other => {
            if state.info.is_none() {
                return Err(DomainError::BoardNotFound);
            }
            let actor = acting_participant(state, context.actor)?;
            decide_as(state, context, actor, other)
        }
    }
}

/// Commands that need an existing board and a participant who can act.
fn decide_as(state: &BoardState, context: &Context, actor: &Participant, command: &Command) -> Decision {
    match command {
        Command::CreateBoard { .. } => Err(DomainError::BoardExists),
        Command::Join { .. } => Err(DomainError::AlreadyJoined),
        Command::EditBoard { title, description, base_version } => {
            board::edit(state, actor, title, description, *base_version)
        }
        Command::SetBoardLanguage { language } => board::set_language(state, actor, *language),
        Command::ChangeSettings { settings } => board::change_settings(state, actor, *settings),
        Command::SetBoardOptions { options } => sessions::set_options(state, actor, *options),
        Command::SetLocked { locked } => sessions::set_locked(state, actor, *locked),
        Command::CreateSession { session, name, date, anonymous } => {
            sessions::create(state, actor, *session, name, date, *anonymous)
        }
        Command::StartSession { session } => sessions::start(state, actor, *session),
        Command::SetPhase { session, phase } => sessions::set_phase(state, actor, *session, *phase),
        Command::StartTimer { seconds } => sessions::start_timer(state, context, actor, *seconds),
        Command::ExtendTimer { seconds } => sessions::extend_timer(state, context, actor, *seconds),
        Command::StopTimer => sessions::stop_timer(state, actor),
        Command::StartVoteRound { settings, hidden } => sessions::start_round(state, actor, *settings, *hidden),
        Command::RevealVotes => sessions::reveal(state, actor),

        Command::Rename { display_name } => participants::rename(state, actor, display_name),
        Command::ChangeRole { participant, role } => participants::change_role(state, actor, *participant, *role),
        Command::EraseParticipant { participant } => participants::erase(state, actor, *participant),
        Command::RemoveParticipant { participant } => participants::remove(state, actor, *participant),

        Command::AddColumn { column, title } => columns::add(state, actor, *column, title),
        Command::RenameColumn { column, title, base_version } => {
            columns::rename(state, actor, *column, title, *base_version)
        }
        Command::MoveColumn { column, to_index } => columns::move_to(state, actor, *column, *to_index),
        Command::ArchiveColumn { column } => columns::archive(state, actor, *column),
        Command::RestoreColumn { column } => columns::restore(state, actor, *column),

        Command::AddStatement { column, title, text } => statements::add(state, actor, *column, title, text),
        Command::ProposeWording { card, statement, text, reason, base_version } => {
            statements::propose(state, actor, *card, *statement, text, reason, *base_version)
        }
        Command::RebaseProposal { card, text, base_version } => {
            statements::rebase(state, actor, *card, text, *base_version)
        }
        Command::AdoptProposal { card } => statements::adopt(state, actor, *card),

        Command::CreateLabel { label, name, color } => labels::create(state, actor, *label, name, color),
        Command::SetCardLabel { card, label, on } => labels::set_on_card(state, actor, *card, *label, *on),

        Command::AddCard { card, column, title, body } => cards::add(state, actor, *card, *column, title, body),
        Command::EditCard { card, title, body, base_version } => {
            cards::edit(state, actor, *card, title, body, *base_version)
        }
        Command::MoveCard { card, column, to_index } => cards::move_to(state, actor, *card, *column, *to_index),
        Command::SetCardStatus { card, status } => cards::set_status(state, actor, *card, *status),
        Command::ArchiveCard { card } => cards::archive(state, actor, *card),
        Command::RestoreCard { card } => cards::restore(state, actor, *card),
        Command::GroupCards { group, heading, cards } => groups::group(state, actor, *group, heading, cards),
        Command::AddToGroup { group, card } => groups::add(state, actor, *group, *card),
        Command::Ungroup { group } => groups::ungroup(state, actor, *group),

        Command::AddComment { comment, card, reply_to, body } => {
            comments::add(state, actor, *comment, *card, *reply_to, body)
        }
        Command::EditComment { comment, body, base_version } => {
            comments::edit(state, actor, *comment, body, *base_version)
        }
        Command::DeleteComment { comment } => comments::delete(state, actor, *comment),

        Command::CastVote { card } => votes::cast(state, actor, *card),
        Command::WithdrawVote { card } => votes::withdraw(state, actor, *card),
        Command::ToggleReaction { target } => votes::toggle_reaction(state, actor, *target),

        Command::FollowCard { card, follow } => keeping_up::follow(state, actor, *card, *follow),
        Command::MarkSeen { through } => keeping_up::mark_seen(state, actor, *through),
        Command::MarkNotificationsRead { through } => keeping_up::mark_notifications_read(state, actor, *through),
    }
}

/// The participant behind a command, if they have joined and can still act.
fn acting_participant(state: &BoardState, actor: ParticipantId) -> Result<&Participant, DomainError> {
    match state.participants.get(&actor) {
        None => Err(DomainError::NotJoined),
        Some(participant) if participant.erased => Err(DomainError::ParticipantErased),
        Some(participant) if participant.removed => Err(DomainError::ParticipantRemoved),
        Some(participant) => Ok(participant),
    }
}

/// Facilitators only.
fn require_facilitator(actor: &Participant, action: &'static str) -> Result<(), DomainError> {
    if permissions(actor.role).facilitate { Ok(()) } else { Err(DomainError::Forbidden { action, role: actor.role }) }
}

/// Facilitators and participants; observers only read.
fn require_contributor(actor: &Participant, action: &'static str) -> Result<(), DomainError> {
    if permissions(actor.role).contribute { Ok(()) } else { Err(DomainError::Forbidden { action, role: actor.role }) }
}

/// Facilitators, or the participant who is the author of the thing.
fn require_author_or_facilitator(
    actor: &Participant,
    author: ParticipantId,
    action: &'static str,
) -> Result<(), DomainError> {
    require_contributor(actor, action)?;
    if permissions(actor.role).change_any_card || actor.id == author {
        Ok(())
    } else {
        Err(DomainError::NotAuthor { action })
    }
}

/// A card that exists.
fn existing_card(state: &BoardState, card: CardId) -> Result<&Card, DomainError> {
    state.cards.get(&card).ok_or_else(|| DomainError::NotFound { kind: Kind::Card, id: card.to_string() })
}

/// A card that exists and is on the board (neither it nor its column archived).
fn active_card(state: &BoardState, card: CardId) -> Result<&Card, DomainError> {
    let found = existing_card(state, card)?;
    if found.archived {
        return Err(DomainError::Archived { kind: Kind::Card });
    }
    if state.columns.get(&found.column).is_some_and(|column| column.archived) {
        return Err(DomainError::Archived { kind: Kind::Column });
    }
    Ok(found)
}

/// Text checks shared by every command that carries words.
mod text {
    use super::DomainError;

    /// A one-line text such as a title or a name: not blank, not too long, no control characters.
    pub fn single_line(field: &'static str, text: &str, max: usize) -> Result<(), DomainError> {
        if text.trim().is_empty() {
            return Err(DomainError::TextEmpty { field });
        }
        optional_single_line(field, text, max)
    }

    /// A one-line text that may be empty (an unnamed label).
    pub fn optional_single_line(field: &'static str, text: &str, max: usize) -> Result<(), DomainError> {
        length(field, text, max)?;
        if text.chars().any(char::is_control) {
            return Err(DomainError::TextControlCharacters { field });
        }
        Ok(())
    }

    /// A body of text: may span lines, may be empty when `required` is false.
    pub fn multi_line(field: &'static str, text: &str, max: usize, required: bool) -> Result<(), DomainError> {
        if required && text.trim().is_empty() {
            return Err(DomainError::TextEmpty { field });
        }
        length(field, text, max)?;
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(DomainError::TextControlCharacters { field });
        }
        Ok(())
    }

    fn length(field: &'static str, text: &str, max: usize) -> Result<(), DomainError> {
        let actual = text.chars().count();
        if actual > max {
            return Err(DomainError::TextTooLong { field, max, actual });
        }
        Ok(())
    }
}
