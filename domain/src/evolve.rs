//! `evolve`: folds one fact into the board state. It holds no rules and cannot fail; a fact
//! that refers to something missing (which `decide` never produces) changes nothing, so
//! replaying any history always succeeds.

use super::event::{Event, Fact};
use super::personal::PersonalText;
use super::state::{
    BoardInfo, BoardState, Card, Column, Comment, Label, Participant, Proposal, Session, Statement, StatementVersion,
    VoteRound,
};
use kipina_proto::{CardId, ColumnId, ParticipantId, ReactionTarget, Timestamp};

/// Applies `fact` to `state`.
pub fn evolve(state: &mut BoardState, fact: &Fact) {
    apply(state, fact);
    super::attention::after(state, fact);
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
            if let Some(round) = state.rounds.last_mut() {
                round.settings = *settings;
            }
        }
        Event::OptionsSet { options } => {
            if let Some(info) = state.info.as_mut() {
                info.options = *options;
            }
        }
        Event::LockSet { locked } => {
            if let Some(info) = state.info.as_mut() {
                info.locked = *locked;
            }
        }
        Event::SessionCreated { session, name, date, anonymous } => {
            state.sessions.insert(
                *session,
                Session {
                    id: *session,
                    name: name.clone(),
                    date: date.clone(),
                    anonymous: *anonymous,
                    phase: None,
                    created_at: at,
                    started_at: None,
                    ended_at: None,
                    started_seq: None,
                    ended_seq: None,
                },
            );
            state.session_order.push(*session);
        }
        Event::PhaseSet { session, phase } => set_phase(state, *session, *phase, at, fact.seq),
        Event::TimerSet { ends_at } => state.timer_ends_at = *ends_at,
        Event::VoteRoundStarted { settings, hidden } => start_round(state, *settings, *hidden, at),
        Event::VotesRevealed {} => {
            if let Some(round) = state.rounds.last_mut() {
                round.revealed = true;
            }
        }
        Event::VoteRoundEnded {} => end_round(state),

        Event::ParticipantJoined { participant, display_name, role } => {
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
        Event::ParticipantRemoved { participant } => {
            if let Some(found) = state.participants.get_mut(participant) {
                found.removed = true;
                found.votes_used = 0;
                found.following.clear();
            }
            for card in state.cards.values_mut() {
                card.votes.remove(participant);
            }
        }

        Event::ColumnAdded { column, title } => {
            state.columns.insert(
                *column,
                Column {
                    id: *column,
                    title: title.clone(),
                    text_version: 1,
                    archived: false,
                    cards: Vec::new(),
                    statement: None,
                },
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

        Event::StatementAdded { column, title, text } => {
            let first = StatementVersion {
                number: 1,
                text: text.clone(),
                author: actor,
                text_by: actor,
                reason: None,
                reason_by: actor,
                adopted_at: at,
                adopted_seq: fact.seq,
                session: state.running_session,
                proposal: None,
            };
            state.columns.insert(
                *column,
                Column {
                    id: *column,
                    title: title.clone(),
                    text_version: 1,
                    archived: false,
                    cards: Vec::new(),
                    statement: Some(Statement { versions: vec![first] }),
                },
            );
            state.column_order.push(*column);
        }
        Event::WordingProposed { card, statement, text, reason, base_version } => {
            if state.columns.get(statement).is_none_or(|column| column.statement.is_none()) {
                return;
            }
            let anonymous = state.anonymous_now();
            let mut proposal = Card::new(*card, *statement, reason.clone(), text.clone(), actor, at, anonymous);
            proposal.created_seq = fact.seq;
            proposal.proposal = Some(Proposal { base_version: *base_version, adopted_as: None });
            state.cards.insert(*card, proposal);
            if let Some(found) = state.columns.get_mut(statement) {
                found.cards.push(*card);
            }
        }
        Event::ProposalRebased { card, text, base_version } => {
            if let Some(found) = state.cards.get_mut(card)
                && let Some(proposal) = found.proposal.as_mut()
            {
                proposal.base_version = *base_version;
                found.body = text.clone();
                found.text_by = actor;
                found.text_version += 1;
                found.updated_at = at;
            }
        }
        Event::ProposalAdopted { card } => adopt(state, *card, at, fact.seq),

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
            let anonymous = state.anonymous_now();
            let mut added = Card::new(*card, *column, title.clone(), body.clone(), actor, at, anonymous);
            added.created_seq = fact.seq;
            state.cards.insert(*card, added);
            if let Some(found) = state.columns.get_mut(column) {
                found.cards.push(*card);
            }
        }
        Event::CardEdited { card, title, body } => {
            if let Some(found) = state.cards.get_mut(card) {
                found.title = title.clone();
                found.body = body.clone();
                found.text_by = actor;
                found.title_by = actor;
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
            // Moving a card out of a group takes it out of the group.
            let group = found.group.take();
            leave_group(state, group, *card);
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
            let group = found.group.take();
            leave_group(state, group, *card);
            remove_from_column(state, column, *card);
        }
        Event::CardsGrouped { group, column, heading, cards } => {
            group_cards(state, fact, *group, *column, heading, cards)
        }
        Event::CardAddedToGroup { group, card } => add_to_group(state, *group, *card, at),
        Event::GroupDissolved { group } => dissolve_group(state, *group, at),
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

        Event::CommentAdded { comment, card, reply_to, body, mentions } => {
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
                    anonymous: state.anonymous_now(),
                    created_at: at,
                    updated_at: at,
                    created_seq: fact.seq,
                    mentions: mentions.clone(),
                    likes: Default::default(),
                },
            );
            if let Some(found) = state.cards.get_mut(card) {
                found.comments.push(*comment);
            }
        }
        Event::CommentEdited { comment, body, .. } => {
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
        // Follows, marks and notifications: see `attention::after`.
        Event::CardFollowed { .. }
        | Event::CardUnfollowed { .. }
        | Event::SeenThrough { .. }
        | Event::NotificationsRead { .. } => {}
    }
}

/// The proposal's wording becomes its statement's next version.
fn adopt(state: &mut BoardState, card: CardId, at: Timestamp, seq: u64) {
    let session = state.running_session;
    let Some(found) = state.cards.get_mut(&card) else {
        return;
    };
    let Some(proposal) = found.proposal.as_mut().filter(|proposal| proposal.adopted_as.is_none()) else {
        return;
    };
    let Some(statement) = state.columns.get_mut(&found.column).and_then(|column| column.statement.as_mut()) else {
        return;
    };
    let number = statement.current() + 1;
    statement.versions.push(StatementVersion {
        number,
        text: found.body.clone(),
        author: found.author,
        text_by: found.text_by,
        reason_by: found.title_by,
        reason: Some(found.title.clone()),
        adopted_at: at,
        adopted_seq: seq,
        session,
        proposal: Some(card),
    });
    proposal.adopted_as = Some(number);
    found.updated_at = at;
    let column = found.column;
    remove_from_column(state, column, card);
}

fn set_phase(
    state: &mut BoardState,
    session: kipina_proto::SessionId,
    phase: kipina_proto::Phase,
    at: Timestamp,
    seq: u64,
) {
    let Some(found) = state.sessions.get_mut(&session) else {
        return;
    };
    found.phase = Some(phase);
    found.started_at.get_or_insert(at);
    found.started_seq.get_or_insert(seq);
    // A new phase starts without a countdown.
    state.timer_ends_at = None;
    if phase == kipina_proto::Phase::Closed {
        found.ended_at = Some(at);
        found.ended_seq = Some(seq);
        if state.running_session == Some(session) {
            state.running_session = None;
        }
    } else {
        found.ended_at = None;
        found.ended_seq = None;
        state.running_session = Some(session);
    }
}

/// Ends the current round, keeping its totals as its results (once: an ended round's results
/// stay as they were). The dots stay on the cards until the next round starts.
fn end_round(state: &mut BoardState) {
    if let Some(round) = state.rounds.last_mut().filter(|round| !round.ended) {
        round.results =
            state.cards.values().map(|card| (card.id, card.vote_total())).filter(|(_, votes)| *votes > 0).collect();
        round.ended = true;
    }
}

/// Ends the current round, keeping its totals, and starts the next with fresh budgets.
fn start_round(state: &mut BoardState, settings: kipina_proto::BoardSettings, hidden: bool, at: Timestamp) {
    end_round(state);
    for card in state.cards.values_mut() {
        card.votes.clear();
    }
    for participant in state.participants.values_mut() {
        participant.votes_used = 0;
    }
    if let Some(info) = state.info.as_mut() {
        info.settings = settings;
    }
    let number = u32::try_from(state.rounds.len()).unwrap_or(u32::MAX).saturating_add(1);
    state.rounds.push(VoteRound {
        number,
        session: state.running_session,
        settings,
        hidden,
        revealed: false,
        started_at: at,
        results: Default::default(),
        ended: false,
    });
}

fn group_cards(
    state: &mut BoardState,
    fact: &Fact,
    group: CardId,
    column: ColumnId,
    heading: &PersonalText,
    cards: &[CardId],
) {
    if !state.columns.contains_key(&column) || state.cards.contains_key(&group) {
        return;
    }
    let members: Vec<CardId> =
        cards.iter().copied().filter(|id| state.cards.get(id).is_some_and(|card| !card.is_group)).collect();
    // The group takes the place of its first card in the column.
    let place = members
        .first()
        .and_then(|first| state.columns.get(&column).and_then(|found| found.cards.iter().position(|id| id == first)));
    let anonymous = state.anonymous_now();
    let mut holder = Card::new(group, column, heading.clone(), PersonalText::from(""), fact.actor, fact.at, anonymous);
    holder.created_seq = fact.seq;
    holder.is_group = true;
    state.cards.insert(group, holder);
    if let Some(target) = state.columns.get_mut(&column) {
        let index = place.unwrap_or(target.cards.len()).min(target.cards.len());
        target.cards.insert(index, group);
    }
    for card in members {
        add_to_group(state, group, card, fact.at);
    }
}

fn add_to_group(state: &mut BoardState, group: CardId, card: CardId, at: Timestamp) {
    let Some(column) = state.cards.get(&group).filter(|found| found.is_group).map(|found| found.column) else {
        return;
    };
    let Some(found) = state.cards.get_mut(&card) else {
        return;
    };
    if found.is_group || card == group {
        return;
    }
    let from = found.column;
    let previous = found.group.replace(group);
    found.column = column;
    found.updated_at = at;
    leave_group(state, previous, card);
    remove_from_column(state, from, card);
    if let Some(holder) = state.cards.get_mut(&group) {
        holder.members.push(card);
        holder.updated_at = at;
    }
}

/// The cards come back into the group's column where the group was.
fn dissolve_group(state: &mut BoardState, group: CardId, at: Timestamp) {
    let Some(found) = state.cards.get_mut(&group).filter(|found| found.is_group) else {
        return;
    };
    // The dissolved group keeps the list of what it held, for the record; the cards are free.
    let members = found.members.clone();
    found.archived = true;
    found.updated_at = at;
    let column = found.column;
    for member in &members {
        if let Some(card) = state.cards.get_mut(member) {
            card.group = None;
            card.updated_at = at;
        }
    }
    if let Some(target) = state.columns.get_mut(&column) {
        match target.cards.iter().position(|id| *id == group) {
            Some(index) => {
                target.cards.splice(index..=index, members);
            }
            None => target.cards.extend(members),
        }
    }
}

fn leave_group(state: &mut BoardState, group: Option<CardId>, card: CardId) {
    if let Some(holder) = group.and_then(|group| state.cards.get_mut(&group)) {
        holder.members.retain(|id| *id != card);
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
