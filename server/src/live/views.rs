//! Turning the board state into the views a client renders, and facts into the changes a
//! client must apply. Views are whole replacements of one thing, so a client that applies one
//! twice is unharmed and a client never has to re-implement a rule to update itself.

use crate::domain::{BoardState, Card, Column, Comment, Event, Fact, Label, Participant};
use kipina_proto::view::{
    BoardInfoView, BoardView, CardView, ColumnView, CommentView, LabelView, ParticipantView, VoteView,
};
use kipina_proto::{BoardId, CardId, Change, ColumnId, CommentId, LabelId, ParticipantId, ReactionTarget};
use std::collections::BTreeSet;

/// The whole board.
pub fn board_view(board: BoardId, state: &BoardState) -> Option<BoardView> {
    let info = state.info.as_ref()?;
    let archived = state.columns.values().filter(|column| column.archived);
    let columns =
        state.column_order.iter().filter_map(|id| state.columns.get(id)).chain(archived).map(column_view).collect();
    Some(BoardView {
        id: board,
        seq: state.version,
        info: info_view(info),
        columns,
        participants: state.participants.values().map(participant_view).collect(),
        labels: state.labels.values().map(label_view).collect(),
        cards: state.cards.values().map(card_view).collect(),
        comments: state.comments.values().map(comment_view).collect(),
    })
}

fn info_view(info: &crate::domain::BoardInfo) -> BoardInfoView {
    BoardInfoView {
        title: info.title.clone(),
        description: info.description.clone(),
        text_version: info.text_version,
        language: info.language,
        settings: info.settings,
        created_at: info.created_at,
    }
}

pub fn participant_view(participant: &Participant) -> ParticipantView {
    ParticipantView {
        id: participant.id,
        display_name: participant.display_name.as_text().map(str::to_owned),
        role: participant.role,
        permissions: crate::domain::permissions(participant.role),
        erased: participant.erased,
        votes_used: participant.votes_used,
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

pub fn card_view(card: &Card) -> CardView {
    CardView {
        id: card.id,
        column: card.column,
        title: card.title.as_text().map(str::to_owned),
        body: card.body.as_text().map(str::to_owned),
        author: card.author,
        text_version: card.text_version,
        status: card.status,
        labels: card.labels.iter().copied().collect(),
        archived: card.archived,
        created_at: card.created_at,
        updated_at: card.updated_at,
        vote_total: card.vote_total(),
        votes: card
            .votes
            .iter()
            .map(|(participant, dots)| VoteView { participant: *participant, dots: *dots })
            .collect(),
        likes: card.likes.iter().copied().collect(),
        comments: card.comments.clone(),
    }
}

pub fn comment_view(comment: &Comment) -> CommentView {
    CommentView {
        id: comment.id,
        card: comment.card,
        reply_to: comment.reply_to,
        author: comment.author,
        // A deleted comment keeps its place in the thread but not its words.
        body: if comment.deleted { None } else { comment.body.as_text().map(str::to_owned) },
        text_version: comment.text_version,
        deleted: comment.deleted,
        created_at: comment.created_at,
        updated_at: comment.updated_at,
        likes: comment.likes.iter().copied().collect(),
    }
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
}

/// Collects what a run of facts touched, then renders the current views of it.
#[derive(Debug, Default)]
pub struct ChangeSet {
    touched: BTreeSet<Touched>,
}

impl ChangeSet {
    /// Records what `fact` touched. Call after the fact was folded into `state` (erasure looks
    /// at the state to find everything that was blanked).
    pub fn add(&mut self, state: &BoardState, fact: &Fact) {
        let touched = &mut self.touched;
        match &fact.event {
            Event::BoardCreated { .. }
            | Event::BoardEdited { .. }
            | Event::BoardLanguageSet { .. }
            | Event::SettingsChanged { .. } => {
                touched.insert(Touched::Board);
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
            Event::CardMoved { card, column, .. } => {
                touched.insert(Touched::Card(*card));
                touched.insert(Touched::Column(*column));
                // The column it left is not in the event; every column listing it is refreshed.
                for other in state.columns.values() {
                    touched.insert(Touched::Column(other.id));
                }
            }
            Event::CardArchived { card } | Event::CardRestored { card } => {
                touched.insert(Touched::Card(*card));
                if let Some(found) = state.cards.get(card) {
                    touched.insert(Touched::Column(found.column));
                }
            }
            Event::CommentAdded { comment, card, .. } => {
                touched.insert(Touched::Comment(*comment));
                touched.insert(Touched::Card(*card));
            }
            Event::CommentEdited { comment, .. } | Event::CommentDeleted { comment } => {
                touched.insert(Touched::Comment(*comment));
            }
            Event::VoteCast { card } | Event::VoteWithdrawn { card } => {
                touched.insert(Touched::Card(*card));
                touched.insert(Touched::Participant(fact.actor));
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

    /// The current views of everything touched.
    pub fn render(&self, state: &BoardState) -> Vec<Change> {
        self.touched
            .iter()
            .filter_map(|touched| match touched {
                Touched::Board => state.info.as_ref().map(|info| Change::Board(info_view(info))),
                Touched::Participant(id) => {
                    state.participants.get(id).map(|found| Change::Participant(participant_view(found)))
                }
                Touched::ColumnOrder => Some(Change::ColumnOrder(state.column_order.clone())),
                Touched::Column(id) => state.columns.get(id).map(|found| Change::Column(column_view(found))),
                Touched::Label(id) => state.labels.get(id).map(|found| Change::Label(label_view(found))),
                Touched::Card(id) => state.cards.get(id).map(|found| Change::Card(card_view(found))),
                Touched::Comment(id) => state.comments.get(id).map(|found| Change::Comment(comment_view(found))),
            })
            .collect()
    }
}
