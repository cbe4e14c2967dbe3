//! `evolve`: folds one fact into the board state. It holds no rules and cannot fail; a fact
//! that refers to something missing (which `decide` never produces) changes nothing, so
//! replaying any history always succeeds.

use super::event::{Event, Fact};
use super::personal::PersonalText;
use super::state::{BoardInfo, BoardState, Card, Column, Comment, Label, Participant};
use kipina_proto::{CardId, ColumnId, ParticipantId, ReactionTarget};

/// Applies `fact` to `state`.
pub fn evolve(state: &mut BoardState, fact: &Fact) {
    apply(state, fact);
    state.version = fact.seq;
}

fn apply(state: &mut BoardState, fact: &Fact) {
    let actor = fact.actor;
    let at = fact.at;
    match &fact.event {
        Event::BoardCreated { title, description, language, settings } => {
            state.info = Some(BoardInfo {
                title: title.clone(),
                description: description.clone(),
                text_version: 1,
                language: *language,
                settings: *settings,
                created_at: at,
                created_by: actor,
            });
        }
        Event::BoardEdited { title, description } => {
            if let Some(info) = state.info.as_mut() {
                info.title = title.clone();
                info.description = description.clone();
                info.text_version += 1;
            }
        }
        Event::BoardLanguageSet { language } => {
            if let Some(info) = state.info.as_mut() {
                info.language = *language;
            }
        }
        Event::SettingsChanged { settings } => {
            if let Some(info) = state.info.as_mut() {
                info.settings = *settings;
            }
        }

        Event::ParticipantJoined { participant, display_name, role } => {
            state.participants.insert(
                *participant,
                Participant {
                    id: *participant,
                    display_name: display_name.clone(),
                    role: *role,
                    joined_at: at,
                    erased: false,
                    votes_used: 0,
                },
            );
        }
        Event::ParticipantRenamed { participant, display_name } => {
            if let Some(found) = state.participants.get_mut(participant) {
                found.display_name = display_name.clone();
            }
        }
        Event::RoleChanged { participant, role } => {
            if let Some(found) = state.participants.get_mut(participant) {
                found.role = *role;
            }
        }
        Event::ParticipantErased { participant } => erase(state, *participant),

        Event::ColumnAdded { column, title } => {
            state.columns.insert(
                *column,
                Column { id: *column, title: title.clone(), text_version: 1, archived: false, cards: Vec::new() },
            );
            state.column_order.push(*column);
        }
        Event::ColumnRenamed { column, title } => {
            if let Some(found) = state.columns.get_mut(column) {
                found.title = title.clone();
                found.text_version += 1;
            }
        }
        Event::ColumnMoved { column, to_index } => {
            if let Some(current) = state.column_order.iter().position(|id| id == column) {
                state.column_order.remove(current);
                let index = (*to_index as usize).min(state.column_order.len());
                state.column_order.insert(index, *column);
            }
        }
        Event::ColumnArchived { column } => {
            if let Some(found) = state.columns.get_mut(column) {
                found.archived = true;
                state.column_order.retain(|id| id != column);
            }
        }
        Event::ColumnRestored { column } => {
            if let Some(found) = state.columns.get_mut(column)
                && found.archived
            {
                found.archived = false;
                state.column_order.push(*column);
            }
        }

        Event::LabelCreated { label, name, color } => {
            state.labels.insert(*label, Label { id: *label, name: name.clone(), color: color.clone() });
        }
        Event::CardLabelled { card, label } => {
            if !state.labels.contains_key(label) {
                return;
            }
            if let Some(found) = state.cards.get_mut(card) {
                found.labels.insert(*label);
                found.updated_at = at;
            }
        }
        Event::CardUnlabelled { card, label } => {
            if let Some(found) = state.cards.get_mut(card)
                && found.labels.remove(label)
            {
                found.updated_at = at;
            }
        }

        Event::CardAdded { card, column, title, body } => {
            if !state.columns.contains_key(column) {
                return;
            }
            state.cards.insert(
                *card,
                Card {
                    id: *card,
                    column: *column,
                    title: title.clone(),
                    body: body.clone(),
                    author: actor,
                    text_by: actor,
                    text_version: 1,
                    status: Default::default(),
                    labels: Default::default(),
                    archived: false,
                    created_at: at,
                    updated_at: at,
                    votes: Default::default(),
                    likes: Default::default(),
                    comments: Vec::new(),
                },
            );
            if let Some(found) = state.columns.get_mut(column) {
                found.cards.push(*card);
            }
        }
        Event::CardEdited { card, title, body } => {
            if let Some(found) = state.cards.get_mut(card) {
                found.title = title.clone();
                found.body = body.clone();
                found.text_by = actor;
                found.text_version += 1;
                found.updated_at = at;
            }
        }
        Event::CardMoved { card, column, to_index } => {
            if !state.columns.contains_key(column) {
                return;
            }
            let Some(found) = state.cards.get_mut(card) else {
                return;
            };
            let from = found.column;
            found.column = *column;
            found.updated_at = at;
            remove_from_column(state, from, *card);
            if let Some(target) = state.columns.get_mut(column) {
                let index = (*to_index as usize).min(target.cards.len());
                target.cards.insert(index, *card);
            }
        }
        Event::CardStatusSet { card, status } => {
            if let Some(found) = state.cards.get_mut(card) {
                found.status = *status;
                found.updated_at = at;
            }
        }
        Event::CardArchived { card } => {
            let Some(found) = state.cards.get_mut(card) else {
                return;
            };
            found.archived = true;
            found.updated_at = at;
            let column = found.column;
            remove_from_column(state, column, *card);
        }
        Event::CardRestored { card } => {
            let Some(found) = state.cards.get_mut(card) else {
                return;
            };
            if !found.archived {
                return;
            }
            found.archived = false;
            found.updated_at = at;
            let column = found.column;
            if let Some(target) = state.columns.get_mut(&column) {
                target.cards.push(*card);
            }
        }

        Event::CommentAdded { comment, card, reply_to, body } => {
            if !state.cards.contains_key(card) {
                return;
            }
            state.comments.insert(
                *comment,
                Comment {
                    id: *comment,
                    card: *card,
                    reply_to: *reply_to,
                    author: actor,
                    body: body.clone(),
                    text_version: 1,
                    deleted: false,
                    created_at: at,
                    updated_at: at,
                    likes: Default::default(),
                },
            );
            if let Some(found) = state.cards.get_mut(card) {
                found.comments.push(*comment);
            }
        }
        Event::CommentEdited { comment, body } => {
            if let Some(found) = state.comments.get_mut(comment) {
                found.body = body.clone();
                found.text_version += 1;
                found.updated_at = at;
            }
        }
        Event::CommentDeleted { comment } => {
            if let Some(found) = state.comments.get_mut(comment) {
                found.deleted = true;
                found.updated_at = at;
            }
        }

        Event::VoteCast { card } => {
            // Only a known voter's dot counts, so a card's dots always add up to the voters' used dots.
            if let Some(found) = state.cards.get_mut(card)
                && let Some(voter) = state.participants.get_mut(&actor)
            {
                *found.votes.entry(actor).or_insert(0) += 1;
                voter.votes_used += 1;
            }
        }
        Event::VoteWithdrawn { card } => {
            let Some(found) = state.cards.get_mut(card) else {
                return;
            };
            let Some(dots) = found.votes.get_mut(&actor) else {
                return;
            };
            *dots = dots.saturating_sub(1);
            if *dots == 0 {
                found.votes.remove(&actor);
            }
            if let Some(voter) = state.participants.get_mut(&actor) {
                voter.votes_used = voter.votes_used.saturating_sub(1);
            }
        }
        Event::ReactionAdded { target } => {
            if !state.participants.contains_key(&actor) {
                return;
            }
            if let Some(likes) = likes_of(state, *target) {
                likes.insert(actor);
            }
        }
        Event::ReactionRemoved { target } => {
            if let Some(likes) = likes_of(state, *target) {
                likes.remove(&actor);
            }
        }
    }
}

fn remove_from_column(state: &mut BoardState, column: ColumnId, card: CardId) {
    if let Some(found) = state.columns.get_mut(&column) {
        found.cards.retain(|id| *id != card);
    }
}

fn likes_of(state: &mut BoardState, target: ReactionTarget) -> Option<&mut std::collections::BTreeSet<ParticipantId>> {
    match target {
        ReactionTarget::Card(card) => state.cards.get_mut(&card).map(|found| &mut found.likes),
        ReactionTarget::Comment(comment) => state.comments.get_mut(&comment).map(|found| &mut found.likes),
    }
}

/// Blanks every piece of the participant's personal content: their name, the card texts they
/// wrote last and their comments. Votes, reactions and structure stay as they were, so nothing
/// else on the board changes. Replaying the log after the key is destroyed reads the same
/// fields as erased, so live state and replay agree.
fn erase(state: &mut BoardState, participant: ParticipantId) {
    let Some(found) = state.participants.get_mut(&participant) else {
        return;
    };
    found.erased = true;
    found.display_name = PersonalText::Erased;
    for card in state.cards.values_mut().filter(|card| card.text_by == participant) {
        card.title = PersonalText::Erased;
        card.body = PersonalText::Erased;
    }
    for comment in state.comments.values_mut().filter(|comment| comment.author == participant) {
        comment.body = PersonalText::Erased;
    }
}
