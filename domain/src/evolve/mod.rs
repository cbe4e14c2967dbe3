//! `evolve`: folds one fact into the board state. It holds no rules and cannot fail; a fact
//! that refers to something missing (which `decide` never produces) changes nothing, so
//! replaying any history always succeeds.
//!
//! Split by area like `decide`: this file routes each event (exhaustively) to the function of
//! its area that applies it.

mod board;
mod cards;
mod columns;
mod comments;
mod groups;
mod labels;
mod participants;
mod sessions;
mod statements;
mod votes;

use super::event::{Event, Fact};
use super::state::BoardState;

/// Applies `fact` to `state`.
pub fn evolve(state: &mut BoardState, fact: &Fact) {
    apply(state, fact);
    super::attention::after(state, fact);
    state.version = fact.seq;
}

fn apply(state: &mut BoardState, fact: &Fact) {
    let at = fact.at;
    match &fact.event {
        Event::BoardCreated { title, description, language, settings } => {
            board::board_created(state, fact, title, description, language, settings)
        }
        Event::BoardEdited { title, description } => board::board_edited(state, title, description),
        Event::BoardLanguageSet { language } => board::board_language_set(state, language),
        Event::SettingsChanged { settings } => board::settings_changed(state, settings),
        Event::OptionsSet { options } => sessions::options_set(state, options),
        Event::LockSet { locked } => sessions::lock_set(state, locked),
        Event::SessionCreated { session, name, date, anonymous } => {
            sessions::session_created(state, fact, session, name, date, anonymous)
        }
        Event::PhaseSet { session, phase } => sessions::set_phase(state, *session, *phase, at, fact.seq),
        Event::TimerSet { ends_at } => state.timer_ends_at = *ends_at,
        Event::VoteRoundStarted { settings, hidden } => sessions::start_round(state, *settings, *hidden, at),
        Event::VotesRevealed {} => sessions::votes_revealed(state),
        Event::VoteRoundEnded {} => sessions::end_round(state),
        Event::ParticipantJoined { participant, display_name, role } => {
            participants::participant_joined(state, fact, participant, display_name, role)
        }
        Event::ParticipantRenamed { participant, display_name } => {
            participants::participant_renamed(state, participant, display_name)
        }
        Event::RoleChanged { participant, role } => participants::role_changed(state, participant, role),
        Event::ParticipantErased { participant } => participants::erase(state, *participant),
        Event::ParticipantRemoved { participant } => participants::participant_removed(state, participant),
        Event::ColumnAdded { column, title } => columns::column_added(state, column, title),
        Event::ColumnRenamed { column, title } => columns::column_renamed(state, column, title),
        Event::ColumnMoved { column, to_index } => columns::column_moved(state, column, to_index),
        Event::ColumnArchived { column } => columns::column_archived(state, column),
        Event::ColumnRestored { column } => columns::column_restored(state, column),
        Event::StatementAdded { column, title, text } => statements::statement_added(state, fact, column, title, text),
        Event::WordingProposed { card, statement, text, reason, base_version } => {
            statements::wording_proposed(state, fact, card, statement, text, reason, base_version)
        }
        Event::ProposalRebased { card, text, base_version } => {
            statements::proposal_rebased(state, fact, card, text, base_version)
        }
        Event::ProposalAdopted { card } => statements::adopt(state, *card, at, fact.seq),
        Event::LabelCreated { label, name, color } => labels::label_created(state, label, name, color),
        Event::CardLabelled { card, label } => labels::card_labelled(state, fact, card, label),
        Event::CardUnlabelled { card, label } => labels::card_unlabelled(state, fact, card, label),
        Event::CardAdded { card, column, title, body } => cards::card_added(state, fact, card, column, title, body),
        Event::CardEdited { card, title, body } => cards::card_edited(state, fact, card, title, body),
        Event::CardMoved { card, column, to_index } => cards::card_moved(state, fact, card, column, to_index),
        Event::CardStatusSet { card, status } => cards::card_status_set(state, fact, card, status),
        Event::CardArchived { card } => cards::card_archived(state, fact, card),
        Event::CardsGrouped { group, column, heading, cards } => {
            groups::cards_grouped(state, fact, group, column, heading, cards)
        }
        Event::CardAddedToGroup { group, card } => groups::add_to_group(state, *group, *card, at),
        Event::GroupDissolved { group } => groups::dissolve_group(state, *group, at),
        Event::CardRestored { card } => cards::card_restored(state, fact, card),
        Event::CommentAdded { comment, card, reply_to, body, mentions } => {
            comments::comment_added(state, fact, comment, card, reply_to, body, mentions)
        }
        Event::CommentEdited { comment, body, .. } => comments::comment_edited(state, fact, comment, body),
        Event::CommentDeleted { comment } => comments::comment_deleted(state, fact, comment),
        Event::VoteCast { card } => votes::vote_cast(state, fact, card),
        Event::VoteWithdrawn { card } => votes::vote_withdrawn(state, fact, card),
        Event::ReactionAdded { target } => votes::reaction_added(state, fact, target),
        Event::ReactionRemoved { target } => votes::reaction_removed(state, fact, target),
        // Follows, marks and notifications: see `attention::after`.
        Event::CardFollowed { .. }
        | Event::CardUnfollowed { .. }
        | Event::SeenThrough { .. }
        | Event::NotificationsRead { .. } => {}
    }
}
