//! Turning the board state into the views a client renders: the whole board, and each thing a
//! change can carry (a card, a column, a participant, …), as one viewer may see it. Views are
//! whole replacements of one thing, so a client that applies one twice is unharmed and a client
//! never has to re-implement a rule to update itself. Everyone who shows a board reads it here:
//! the live fan-out (`live::changes`), the HTTP routes, the activity feed and history, and the
//! exports.
//!
//! A view is made for a [`Viewer`]: while a round's votes are hidden each participant sees only
//! their own dots (and no totals), the author of an anonymous card or comment is sent to nobody
//! but that author, and notifications and one's own marks are one's own.
//!
//! - `mod.rs`: the board, its info, participants, labels, sessions and notifications;
//! - `cards.rs`: cards and comments (authors, dots, likes, groups);
//! - `statements.rs`: columns and their statements (wordings, their differences);
//! - `results.rs`: vote rounds and the one ranking rule.

mod cards;
mod results;
mod statements;

pub(crate) use cards::voters_private;
pub use cards::{card_view, comment_view};
pub use results::{places, round_view};
pub(crate) use statements::version_is_anonymous;
pub use statements::{column_view, word_diff};

use kipina_domain::{BoardState, Label, Notification, Participant, Session};
use kipina_proto::view::{
    BoardInfoView, BoardView, LabelView, NotificationKind, NotificationView, OwnView, ParticipantView, SessionView,
};
use kipina_proto::{BoardId, ParticipantId};

/// Who is looking at a board. A participant sees what everyone sees and what is theirs alone
/// (their own hidden dots, their anonymous cards, their notifications and marks); an observer —
/// someone with the observer link, or anyone who has not joined — sees the view anyone may see,
/// which is also what exports and the Atom feed are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Viewer {
    Participant(ParticipantId),
    /// Someone with the observer link, who has not joined; the public view.
    Observer,
}

impl Viewer {
    /// The participant looking, if one is.
    pub fn participant(self) -> Option<ParticipantId> {
        match self {
            Self::Participant(participant) => Some(participant),
            Self::Observer => None,
        }
    }

    /// Whether `participant` is the one looking.
    pub fn is(self, participant: ParticipantId) -> bool {
        self == Self::Participant(participant)
    }
}

/// The whole board.
pub fn board_view(board: BoardId, state: &BoardState, viewer: Viewer) -> Option<BoardView> {
    let info = state.info.as_ref()?;
    let archived = state.columns.values().filter(|column| column.archived);
    let columns = state
        .column_order
        .iter()
        .filter_map(|id| state.columns.get(id))
        .chain(archived)
        .map(|column| column_view(state, column, viewer))
        .collect();
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
        notifications: viewer
            .participant()
            .and_then(|participant| state.notifications.get(&participant))
            .into_iter()
            .flatten()
            .map(|notification| notification_view(state, notification))
            .collect(),
        notifications_kept: u32::try_from(kipina_domain::attention::MAX_NOTIFICATIONS).unwrap_or(u32::MAX),
    })
}

/// A notification as its recipient sees it: who caused it, unless that would reveal the author
/// of something anonymous.
pub fn notification_view(state: &BoardState, notification: &Notification) -> NotificationView {
    let hidden = match notification.kind {
        NotificationKind::Mentioned | NotificationKind::Commented => notification
            .comment
            .and_then(|id| state.comments.get(&id))
            .is_none_or(|comment| state.comment_is_anonymous(comment)),
        NotificationKind::Edited | NotificationKind::StatusChanged | NotificationKind::Adopted => {
            state.cards.get(&notification.card).is_none_or(|card| {
                state.card_is_anonymous(card) && (card.author == notification.actor || card.proposal.is_some())
            })
        }
    };
    NotificationView {
        seq: notification.seq,
        at: notification.at,
        kind: notification.kind,
        card: notification.card,
        comment: notification.comment,
        actor: (!hidden).then_some(notification.actor),
    }
}

pub(crate) fn info_view(state: &BoardState, info: &kipina_domain::BoardInfo) -> BoardInfoView {
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
        gates: kipina_domain::gates(state),
        voting: voting_progress(state),
    }
}

/// "N / M have used their dots": counts over those who may vote, never who.
pub fn voting_progress(state: &BoardState) -> kipina_proto::view::VotingProgress {
    let voters = state
        .participants
        .values()
        .filter(|participant| state.active_participant(participant.id).is_some())
        .filter(|participant| kipina_domain::permissions(participant.role).contribute);
    let (mut voted, mut count) = (0u32, 0u32);
    for participant in voters {
        count += 1;
        if participant.votes_used > 0 {
            voted += 1;
        }
    }
    kipina_proto::view::VotingProgress { voted, voters: count }
}

pub fn participant_view(_state: &BoardState, participant: &Participant, viewer: Viewer) -> ParticipantView {
    // How many dots someone used is theirs to know: it would tell who voted, even when the
    // dots are hidden or the cards anonymous.
    let visible = viewer.is(participant.id);
    ParticipantView {
        id: participant.id,
        display_name: participant.display_name.as_text().map(str::to_owned),
        role: participant.role,
        permissions: kipina_domain::permissions(participant.role),
        erased: participant.erased,
        removed: participant.removed,
        joined_at: participant.joined_at,
        votes_used: visible.then_some(participant.votes_used),
        own: visible.then(|| OwnView {
            seen_through: participant.seen_through,
            notifications_read_through: participant.notifications_read_through,
            following: participant.following.iter().copied().collect(),
        }),
    }
}

pub(crate) fn label_view(label: &Label) -> LabelView {
    LabelView { id: label.id, name: label.name.clone(), color: label.color.clone() }
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
        started_seq: session.started_seq,
        ended_seq: session.ended_seq,
    }
}
