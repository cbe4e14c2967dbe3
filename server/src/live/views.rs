//! Turning the board state into the views a client renders, and facts into the changes a
//! client must apply. Views are whole replacements of one thing, so a client that applies one
//! twice is unharmed and a client never has to re-implement a rule to update itself.
//!
//! A view is made for a viewer: while a round's votes are hidden each participant sees only
//! their own dots (and no totals), and the author of an anonymous card or comment is sent to
//! nobody but that author. Most changes look the same to everyone, so they are rendered and
//! encoded once ([`ChangeSet::personal_viewers`] names the few viewers who need their own).

use crate::domain::{BoardState, Card, Column, Comment, Event, Fact, Label, Participant, Session};
use kipina_proto::view::{
    BoardInfoView, BoardView, CardView, ColumnView, CommentView, LabelView, ParticipantView, RoundResult, RoundView,
    SessionView, VoteView,
};
use kipina_proto::{BoardId, CardId, Change, ColumnId, CommentId, LabelId, ParticipantId, ReactionTarget, SessionId};
use std::collections::{BTreeMap, BTreeSet};

/// Who a view is for: a participant, or `None` for the view anyone may see (observers).
pub type ViewerId = Option<ParticipantId>;

/// The whole board.
pub fn board_view(board: BoardId, state: &BoardState, viewer: ViewerId) -> Option<BoardView> {
    let info = state.info.as_ref()?;
    let archived = state.columns.values().filter(|column| column.archived);
    let columns =
        state.column_order.iter().filter_map(|id| state.columns.get(id)).chain(archived).map(column_view).collect();
    Some(BoardView {
        id: board,
        seq: state.version,
        info: info_view(state, info),
        columns,
        participants: state.participants.values().map(|found| participant_view(state, found, viewer)).collect(),
        labels: state.labels.values().map(label_view).collect(),
        cards: state.cards.values().map(|card| card_view(state, card, viewer)).collect(),
        comments: state.comments.values().map(|comment| comment_view(state, comment, viewer)).collect(),
        sessions: state.session_order.iter().filter_map(|id| state.sessions.get(id)).map(session_view).collect(),
        rounds: (0..state.rounds.len()).filter_map(|index| round_view(state, index)).collect(),
    })
}

fn info_view(state: &BoardState, info: &crate::domain::BoardInfo) -> BoardInfoView {
    BoardInfoView {
        title: info.title.clone(),
        description: info.description.clone(),
        text_version: info.text_version,
        language: info.language,
        settings: info.settings,
        options: info.options,
        created_at: info.created_at,
        locked: info.locked,
        running_session: state.running_session,
        phase: state.phase(),
        timer_ends_at: state.timer_ends_at,
        anonymous_now: state.anonymous_now(),
        gates: crate::domain::gates(state),
    }
}

pub fn participant_view(state: &BoardState, participant: &Participant, viewer: ViewerId) -> ParticipantView {
    let visible = !state.votes_hidden() || viewer == Some(participant.id);
    ParticipantView {
        id: participant.id,
        display_name: participant.display_name.as_text().map(str::to_owned),
        role: participant.role,
        permissions: crate::domain::permissions(participant.role),
        erased: participant.erased,
        votes_used: visible.then_some(participant.votes_used),
    }
}

pub fn column_view(column: &Column) -> ColumnView {
    ColumnView {
        id: column.id,
        title: column.title.clone(),
        text_version: column.text_version,
        archived: column.archived,
        cards: column.cards.clone(),
    }
}

fn label_view(label: &Label) -> LabelView {
    LabelView { id: label.id, name: label.name.clone(), color: label.color.clone() }
}

/// Whether who placed which dot is private: while votes are hidden, and on an anonymous board.
fn voters_private(state: &BoardState) -> bool {
    state.votes_hidden() || state.info.as_ref().is_some_and(|info| info.options.anonymous)
}

pub fn card_view(state: &BoardState, card: &Card, viewer: ViewerId) -> CardView {
    let anonymous = state.card_is_anonymous(card);
    let votes = card
        .votes
        .iter()
        .filter(|(participant, _)| !voters_private(state) || viewer == Some(**participant))
        .map(|(participant, dots)| VoteView { participant: *participant, dots: *dots })
        .collect();
    CardView {
        id: card.id,
        column: card.column,
        title: card.title.as_text().map(str::to_owned),
        body: card.body.as_text().map(str::to_owned),
        author: (!anonymous || viewer == Some(card.author)).then_some(card.author),
        anonymous,
        moderated: card.text_by != card.author,
        text_version: card.text_version,
        status: card.status,
        labels: card.labels.iter().copied().collect(),
        archived: card.archived,
        created_at: card.created_at,
        updated_at: card.updated_at,
        vote_total: (!state.votes_hidden()).then(|| card.vote_total()),
        votes,
        likes: card.likes.iter().copied().collect(),
        comments: card.comments.clone(),
        group: card.group,
        is_group: card.is_group,
        members: card.members.clone(),
    }
}

pub fn comment_view(state: &BoardState, comment: &Comment, viewer: ViewerId) -> CommentView {
    let anonymous = state.comment_is_anonymous(comment);
    CommentView {
        id: comment.id,
        card: comment.card,
        reply_to: comment.reply_to,
        author: (!anonymous || viewer == Some(comment.author)).then_some(comment.author),
        anonymous,
        // A deleted comment keeps its place in the thread but not its words.
        body: if comment.deleted { None } else { comment.body.as_text().map(str::to_owned) },
        text_version: comment.text_version,
        deleted: comment.deleted,
        created_at: comment.created_at,
        updated_at: comment.updated_at,
        likes: comment.likes.iter().copied().collect(),
    }
}

pub fn session_view(session: &Session) -> SessionView {
    SessionView {
        id: session.id,
        name: session.name.clone(),
        date: session.date.clone(),
        anonymous: session.anonymous,
        phase: session.phase,
        created_at: session.created_at,
        started_at: session.started_at,
        ended_at: session.ended_at,
    }
}

/// The round at `index`. An ended round shows its totals, most first (ending a round makes its
/// totals public); the current round's totals are on its cards.
pub fn round_view(state: &BoardState, index: usize) -> Option<RoundView> {
    let round = state.rounds.get(index)?;
    let mut results: Vec<RoundResult> =
        round.results.iter().map(|(card, votes)| RoundResult { card: *card, votes: *votes }).collect();
    results.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.card.cmp(&b.card)));
    Some(RoundView {
        number: round.number,
        session: round.session,
        settings: round.settings,
        hidden: round.hidden,
        revealed: round.revealed,
        current: index + 1 == state.rounds.len(),
        started_at: round.started_at,
        results,
    })
}

/// Something a fact touched, whose new view the clients need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Touched {
    Board,
    Participant(ParticipantId),
    ColumnOrder,
    Column(ColumnId),
    Label(LabelId),
    Card(CardId),
    Comment(CommentId),
    Session(SessionId),
    Round(usize),
}

/// Collects what a run of facts touched, then renders the current views of it for a viewer.
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// Touched in a way everyone may learn of.
    touched: BTreeSet<Touched>,
    /// Touched in a way only one participant may learn of (their own hidden dot).
    private: BTreeMap<ParticipantId, BTreeSet<Touched>>,
}

impl ChangeSet {
    /// Records what `fact` touched. Call after the fact was folded into `state` (erasure looks
    /// at the state to find everything that was blanked).
    pub fn add(&mut self, state: &BoardState, fact: &Fact) {
        let touched = &mut self.touched;
        let every_card = |touched: &mut BTreeSet<Touched>| touched.extend(state.cards.keys().map(|id| Touched::Card(*id)));
        let every_participant =
            |touched: &mut BTreeSet<Touched>| touched.extend(state.participants.keys().map(|id| Touched::Participant(*id)));
        let every_column =
            |touched: &mut BTreeSet<Touched>| touched.extend(state.columns.keys().map(|id| Touched::Column(*id)));
        let current_round = state.rounds.len().saturating_sub(1);
        match &fact.event {
            Event::BoardCreated { .. } => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(0));
            }
            Event::BoardEdited { .. } | Event::BoardLanguageSet { .. } | Event::LockSet { .. } | Event::TimerSet { .. } => {
                touched.insert(Touched::Board);
            }
            Event::SettingsChanged { .. } => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(current_round));
            }
            Event::OptionsSet { .. } => {
                // Anonymity changes how every card and comment is shown.
                touched.insert(Touched::Board);
                every_card(touched);
                touched.extend(state.comments.keys().map(|id| Touched::Comment(*id)));
            }
            Event::SessionCreated { session, .. } => {
                touched.insert(Touched::Session(*session));
            }
            Event::PhaseSet { session, .. } => {
                touched.insert(Touched::Session(*session));
                touched.insert(Touched::Board);
            }
            Event::VoteRoundStarted { .. } => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(current_round));
                touched.insert(Touched::Round(current_round.saturating_sub(1)));
                every_card(touched);
                every_participant(touched);
            }
            Event::VotesRevealed => {
                touched.insert(Touched::Round(current_round));
                every_card(touched);
                every_participant(touched);
            }
            Event::ParticipantJoined { participant, .. }
            | Event::ParticipantRenamed { participant, .. }
            | Event::RoleChanged { participant, .. } => {
                touched.insert(Touched::Participant(*participant));
            }
            Event::ParticipantErased { participant } => {
                touched.insert(Touched::Participant(*participant));
                for card in state.cards.values().filter(|card| card.text_by == *participant) {
                    touched.insert(Touched::Card(card.id));
                }
                for comment in state.comments.values().filter(|comment| comment.author == *participant) {
                    touched.insert(Touched::Comment(comment.id));
                }
            }
            Event::ColumnAdded { column, .. }
            | Event::ColumnMoved { column, .. }
            | Event::ColumnArchived { column }
            | Event::ColumnRestored { column } => {
                touched.insert(Touched::Column(*column));
                touched.insert(Touched::ColumnOrder);
            }
            Event::ColumnRenamed { column, .. } => {
                touched.insert(Touched::Column(*column));
            }
            Event::LabelCreated { label, .. } => {
                touched.insert(Touched::Label(*label));
            }
            Event::CardLabelled { card, .. }
            | Event::CardUnlabelled { card, .. }
            | Event::CardEdited { card, .. }
            | Event::CardStatusSet { card, .. } => {
                touched.insert(Touched::Card(*card));
            }
            Event::CardAdded { card, column, .. } => {
                touched.insert(Touched::Card(*card));
                touched.insert(Touched::Column(*column));
            }
            Event::CardMoved { card, .. } | Event::CardAddedToGroup { card, .. } => {
                touched.insert(Touched::Card(*card));
                if let Event::CardAddedToGroup { group, .. } = &fact.event {
                    touched.insert(Touched::Card(*group));
                }
                // The column it left (and the group it left) are not in the event; every
                // column and group is refreshed.
                every_column(touched);
                touched.extend(state.cards.values().filter(|found| found.is_group).map(|found| Touched::Card(found.id)));
            }
            Event::CardsGrouped { group, .. } | Event::GroupDissolved { group } => {
                touched.insert(Touched::Card(*group));
                if let Some(found) = state.cards.get(group) {
                    touched.extend(found.members.iter().map(|id| Touched::Card(*id)));
                }
                every_column(touched);
            }
            Event::CardArchived { card } | Event::CardRestored { card } => {
                touched.insert(Touched::Card(*card));
                if let Some(found) = state.cards.get(card) {
                    touched.insert(Touched::Column(found.column));
                }
                // An archived card leaves its group.
                touched.extend(state.cards.values().filter(|found| found.is_group).map(|found| Touched::Card(found.id)));
            }
            Event::CommentAdded { comment, card, .. } => {
                touched.insert(Touched::Comment(*comment));
                touched.insert(Touched::Card(*card));
            }
            Event::CommentEdited { comment, .. } | Event::CommentDeleted { comment } => {
                touched.insert(Touched::Comment(*comment));
            }
            Event::VoteCast { card } | Event::VoteWithdrawn { card } => {
                // A hidden dot is news to its voter only: others must not even learn which card
                // moved.
                let audience =
                    if state.votes_hidden() { self.private.entry(fact.actor).or_default() } else { touched };
                audience.insert(Touched::Card(*card));
                audience.insert(Touched::Participant(fact.actor));
            }
            Event::ReactionAdded { target } | Event::ReactionRemoved { target } => match target {
                ReactionTarget::Card(card) => {
                    touched.insert(Touched::Card(*card));
                }
                ReactionTarget::Comment(comment) => {
                    touched.insert(Touched::Comment(*comment));
                }
            },
        }
    }

    /// The participants for whom [`ChangeSet::render`] differs from the view for `None`; every
    /// other viewer can be sent the same bytes.
    pub fn personal_viewers(&self, state: &BoardState) -> BTreeSet<ParticipantId> {
        let mut viewers: BTreeSet<ParticipantId> = self.private.keys().copied().collect();
        let voters_private = voters_private(state);
        let votes_hidden = state.votes_hidden();
        for touched in &self.touched {
            match touched {
                Touched::Card(id) => {
                    if let Some(card) = state.cards.get(id) {
                        if state.card_is_anonymous(card) {
                            viewers.insert(card.author);
                        }
                        if voters_private {
                            viewers.extend(card.votes.keys().copied());
                        }
                    }
                }
                Touched::Comment(id) => {
                    if let Some(comment) = state.comments.get(id).filter(|found| state.comment_is_anonymous(found)) {
                        viewers.insert(comment.author);
                    }
                }
                Touched::Participant(id) if votes_hidden => {
                    viewers.insert(*id);
                }
                _ => {}
            }
        }
        viewers
    }

    /// The current views of everything touched, as `viewer` may see them.
    pub fn render(&self, state: &BoardState, viewer: ViewerId) -> Vec<Change> {
        let own = viewer.and_then(|participant| self.private.get(&participant));
        let touched: BTreeSet<&Touched> = self.touched.iter().chain(own.into_iter().flatten()).collect();
        touched
            .into_iter()
            .filter_map(|touched| match touched {
                Touched::Board => state.info.as_ref().map(|info| Change::Board(info_view(state, info))),
                Touched::Participant(id) => {
                    state.participants.get(id).map(|found| Change::Participant(participant_view(state, found, viewer)))
                }
                Touched::ColumnOrder => Some(Change::ColumnOrder(state.column_order.clone())),
                Touched::Column(id) => state.columns.get(id).map(|found| Change::Column(column_view(found))),
                Touched::Label(id) => state.labels.get(id).map(|found| Change::Label(label_view(found))),
                Touched::Card(id) => state.cards.get(id).map(|found| Change::Card(card_view(state, found, viewer))),
                Touched::Comment(id) => {
                    state.comments.get(id).map(|found| Change::Comment(comment_view(state, found, viewer)))
                }
                Touched::Session(id) => state.sessions.get(id).map(|found| Change::Session(session_view(found))),
                Touched::Round(index) => round_view(state, *index).map(Change::Round),
            })
            .collect()
    }
}
