//! Turning the board state into the views a client renders, and facts into the changes a
//! client must apply. Views are whole replacements of one thing, so a client that applies one
//! twice is unharmed and a client never has to re-implement a rule to update itself.
//!
//! A view is made for a viewer: while a round's votes are hidden each participant sees only
//! their own dots (and no totals), and the author of an anonymous card or comment is sent to
//! nobody but that author. Most changes look the same to everyone, so they are rendered and
//! encoded once ([`ChangeSet::personal_viewers`] names the few viewers who need their own).

use kipina_domain::{BoardState, Card, Column, Comment, Event, Fact, Label, Notification, Participant, Session};
use kipina_proto::view::{
    BoardInfoView, BoardView, CardView, ColumnView, CommentView, DiffKind, DiffSpan, LabelView, NotificationKind,
    NotificationView, OwnView, ParticipantView, ProposalView, RoundResult, RoundView, SessionView,
    StatementVersionView, StatementView, VoteView,
};
use kipina_proto::{
    BoardId, CardId, CardPlace, CardsInserted, Change, ColumnId, CommentId, LabelId, ParticipantId, ReactionTarget,
    SessionId,
};
use std::collections::{BTreeMap, BTreeSet};

/// Who a view is for: a participant, or `None` for the view anyone may see (observers).
pub type ViewerId = Option<ParticipantId>;

/// The whole board.
pub fn board_view(board: BoardId, state: &BoardState, viewer: ViewerId) -> Option<BoardView> {
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
            .and_then(|participant| state.notifications.get(&participant))
            .into_iter()
            .flatten()
            .map(|notification| notification_view(state, notification))
            .collect(),
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

fn info_view(state: &BoardState, info: &kipina_domain::BoardInfo) -> BoardInfoView {
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

pub fn participant_view(_state: &BoardState, participant: &Participant, viewer: ViewerId) -> ParticipantView {
    // How many dots someone used is theirs to know: it would tell who voted, even when the
    // dots are hidden or the cards anonymous.
    let visible = viewer == Some(participant.id);
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

pub fn column_view(state: &BoardState, column: &Column, viewer: ViewerId) -> ColumnView {
    ColumnView {
        id: column.id,
        title: column.title.clone(),
        text_version: column.text_version,
        archived: column.archived,
        cards: column.cards.clone(),
        statement: column.statement.as_ref().map(|statement| statement_view(state, statement, viewer)),
    }
}

fn statement_view(state: &BoardState, statement: &kipina_domain::Statement, viewer: ViewerId) -> StatementView {
    let mut previous = "";
    let versions = statement
        .versions
        .iter()
        .map(|version| {
            let text = version.text.as_text();
            let anonymous = version_is_anonymous(state, version);
            // An erased wording has no difference to show, and the next one is compared with the
            // last wording that can still be read.
            let diff = text.map(|text| word_diff(previous, text)).unwrap_or_default();
            if let Some(text) = text {
                previous = text;
            }
            StatementVersionView {
                number: version.number,
                text: text.map(str::to_owned),
                author: (!anonymous || viewer == Some(version.author)).then_some(version.author),
                anonymous,
                reason: version.reason.as_ref().and_then(|reason| reason.as_text()).map(str::to_owned),
                adopted_at: version.adopted_at,
                adopted_seq: version.adopted_seq,
                session: version.session,
                proposal: version.proposal,
                diff,
            }
        })
        .collect();
    StatementView { versions }
}

/// A wording is as anonymous as the proposal it came from.
fn version_is_anonymous(state: &BoardState, version: &kipina_domain::StatementVersion) -> bool {
    version.proposal.and_then(|card| state.cards.get(&card)).is_some_and(|card| state.card_is_anonymous(card))
}

/// `new` against `old`, word by word, in runs of the same kind.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffSpan> {
    let mut spans: Vec<DiffSpan> = Vec::new();
    for change in similar::TextDiff::from_words(old, new).iter_all_changes() {
        let kind = match change.tag() {
            similar::ChangeTag::Equal => DiffKind::Same,
            similar::ChangeTag::Insert => DiffKind::Added,
            similar::ChangeTag::Delete => DiffKind::Removed,
        };
        match spans.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => spans.push(DiffSpan { kind, text: change.value().to_owned() }),
        }
    }
    spans
}

fn label_view(label: &Label) -> LabelView {
    LabelView { id: label.id, name: label.name.clone(), color: label.color.clone() }
}

/// Whether who placed which dot on `card` is private: while votes are hidden, and on an
/// anonymous card (a dot from its author would give them away).
fn voters_private(state: &BoardState, card: &Card) -> bool {
    state.votes_hidden() || state.card_is_anonymous(card)
}

pub fn card_view(state: &BoardState, card: &Card, viewer: ViewerId) -> CardView {
    let anonymous = state.card_is_anonymous(card);
    let votes = card
        .votes
        .iter()
        .filter(|(participant, _)| !voters_private(state, card) || viewer == Some(**participant))
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
        created_seq: card.created_seq,
        vote_total: (!state.votes_hidden()).then(|| card.vote_total()),
        votes,
        likes: card.likes.iter().copied().collect(),
        comments: card.comments.clone(),
        total_likes: count(with_members(state, card).map(|card| card.likes.len())),
        total_comments: count(with_members(state, card).map(|card| {
            card.comments.iter().filter(|id| state.comments.get(id).is_some_and(|comment| !comment.deleted)).count()
        })),
        group: card.group,
        is_group: card.is_group,
        members: card.members.clone(),
        proposal: card.proposal.as_ref().map(|proposal| {
            let current = state
                .columns
                .get(&card.column)
                .and_then(|column| column.statement.as_ref())
                .map_or(0, |statement| statement.current());
            ProposalView {
                statement: card.column,
                base_version: proposal.base_version,
                outdated: proposal.adopted_as.is_none() && proposal.base_version < current,
                adopted_as: proposal.adopted_as,
            }
        }),
    }
}

/// A card and, for a group, the cards in it now (an ungrouped group keeps its member list, but
/// its cards have left it: their likes and comments are no longer the group's).
fn with_members<'a>(state: &'a BoardState, card: &'a Card) -> impl Iterator<Item = &'a Card> {
    std::iter::once(card).chain(
        card.members.iter().filter_map(|id| state.cards.get(id)).filter(move |member| member.group == Some(card.id)),
    )
}

fn count(counts: impl Iterator<Item = usize>) -> u32 {
    u32::try_from(counts.sum::<usize>()).unwrap_or(u32::MAX)
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
        created_seq: comment.created_seq,
        mentions: comment.mentions.clone(),
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
        started_seq: session.started_seq,
        ended_seq: session.ended_seq,
    }
}

/// The one ranking rule, used by the results view and every export: places for dot counts
/// sorted most first, where equal dots share a place and the next place skips ("standard
/// competition ranking": 5, 5, 3 dots are places 1, 1, 3).
pub fn places(sorted_votes: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut places: Vec<u32> = Vec::new();
    let mut previous = None;
    for (index, votes) in sorted_votes.into_iter().enumerate() {
        let place = match (previous, places.last()) {
            (Some(before), Some(last)) if before == votes => *last,
            _ => u32::try_from(index + 1).unwrap_or(u32::MAX),
        };
        places.push(place);
        previous = Some(votes);
    }
    places
}

/// The round at `index`. An ended round shows its totals, most first (ending a round makes its
/// totals public); the current round's totals are on its cards.
pub fn round_view(state: &BoardState, index: usize) -> Option<RoundView> {
    let round = state.rounds.get(index)?;
    let mut results: Vec<RoundResult> =
        round.results.iter().map(|(card, votes)| RoundResult { card: *card, votes: *votes, place: 0 }).collect();
    results.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.card.cmp(&b.card)));
    let ranks = places(results.iter().map(|result| result.votes).collect::<Vec<_>>());
    for (result, place) in results.iter_mut().zip(ranks) {
        result.place = place;
    }
    Some(RoundView {
        number: round.number,
        session: round.session,
        settings: round.settings,
        hidden: round.hidden,
        revealed: round.revealed,
        current: index + 1 == state.rounds.len() && !round.ended,
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
    /// A participant's notification from the event with this sequence number.
    Notification(ParticipantId, u64),
}

/// Collects what a run of facts touched, then renders the current views of it for a viewer.
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// Touched in a way everyone may learn of.
    touched: BTreeSet<Touched>,
    /// Touched in a way only one participant may learn of (their own hidden dot).
    private: BTreeMap<ParticipantId, BTreeSet<Touched>>,
    /// Cards added to a column's list. When nothing else touched that column, the change says
    /// only where they went (`Change::CardsInserted`), not the column's whole list.
    inserted: BTreeMap<ColumnId, BTreeSet<CardId>>,
}

impl ChangeSet {
    /// Records what `fact` touched for a catch-up, which renders many facts from the state at
    /// its end: whether a dot was then someone's first or last is no longer known there, so any
    /// dot placed or taken back sends the board's voting counts (a count, never who).
    pub fn add_caught_up(&mut self, state: &BoardState, fact: &Fact) {
        if matches!(fact.event, Event::VoteCast { .. } | Event::VoteWithdrawn { .. }) {
            self.touched.insert(Touched::Board);
        }
        self.add(state, fact);
    }

    /// Records what `fact` touched. Call after the fact was folded into `state` (erasure looks
    /// at the state to find everything that was blanked).
    pub fn add(&mut self, state: &BoardState, fact: &Fact) {
        self.add_personal(state, fact);
        let touched = &mut self.touched;
        let every_card =
            |touched: &mut BTreeSet<Touched>| touched.extend(state.cards.keys().map(|id| Touched::Card(*id)));
        let every_participant = |touched: &mut BTreeSet<Touched>| {
            touched.extend(state.participants.keys().map(|id| Touched::Participant(*id)))
        };
        let every_column =
            |touched: &mut BTreeSet<Touched>| touched.extend(state.columns.keys().map(|id| Touched::Column(*id)));
        let current_round = state.rounds.len().saturating_sub(1);
        match &fact.event {
            Event::BoardCreated { .. } => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(0));
            }
            Event::BoardEdited { .. }
            | Event::BoardLanguageSet { .. }
            | Event::LockSet { .. }
            | Event::TimerSet { .. } => {
                touched.insert(Touched::Board);
            }
            Event::SettingsChanged { .. } => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(current_round));
            }
            Event::OptionsSet { .. } => {
                // Anonymity changes how every card, comment and adopted wording is shown, and
                // whether each notification names who caused it.
                for (participant, list) in &state.notifications {
                    let own = self.private.entry(*participant).or_default();
                    own.extend(list.iter().map(|notification| Touched::Notification(*participant, notification.seq)));
                }
                let touched = &mut self.touched;
                touched.insert(Touched::Board);
                every_card(touched);
                every_column(touched);
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
            Event::VotesRevealed {} | Event::VoteRoundEnded {} => {
                touched.insert(Touched::Board);
                touched.insert(Touched::Round(current_round));
                every_card(touched);
            }
            Event::ParticipantJoined { participant, .. } | Event::RoleChanged { participant, .. } => {
                // Who may vote changed: the board's voting counts.
                touched.insert(Touched::Participant(*participant));
                touched.insert(Touched::Board);
            }
            Event::ParticipantRenamed { participant, .. } => {
                touched.insert(Touched::Participant(*participant));
            }
            Event::ParticipantRemoved { participant } => {
                // Their dots went back: every card's total may have fallen (which cards held
                // them is not in the event; the state no longer knows).
                touched.insert(Touched::Participant(*participant));
                touched.insert(Touched::Board);
                every_card(touched);
            }
            Event::ParticipantErased { participant } => {
                touched.insert(Touched::Participant(*participant));
                touched.insert(Touched::Board);
                for card in
                    state.cards.values().filter(|card| card.text_by == *participant || card.title_by == *participant)
                {
                    touched.insert(Touched::Card(card.id));
                }
                for comment in state.comments.values().filter(|comment| comment.author == *participant) {
                    touched.insert(Touched::Comment(comment.id));
                }
                for column in state.columns.values() {
                    let versions = column.statement.iter().flat_map(|statement| &statement.versions);
                    if versions
                        .into_iter()
                        .any(|version| version.text_by == *participant || version.reason_by == *participant)
                    {
                        touched.insert(Touched::Column(column.id));
                    }
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
            Event::StatementAdded { column, .. } => {
                touched.insert(Touched::Column(*column));
                touched.insert(Touched::ColumnOrder);
            }
            Event::WordingProposed { card, statement, .. } => {
                touched.insert(Touched::Card(*card));
                touched.insert(Touched::Column(*statement));
            }
            Event::ProposalRebased { card, .. } => {
                touched.insert(Touched::Card(*card));
            }
            Event::ProposalAdopted { card } => {
                // A new version: the statement, and whether each of its proposals is outdated.
                if let Some(column) = state.cards.get(card).map(|found| found.column) {
                    touched.insert(Touched::Column(column));
                    touched.extend(
                        state
                            .cards
                            .values()
                            .filter(|found| found.column == column)
                            .map(|found| Touched::Card(found.id)),
                    );
                }
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
                self.inserted.entry(*column).or_default().insert(*card);
            }
            Event::CardMoved { card, .. } | Event::CardAddedToGroup { card, .. } => {
                touched.insert(Touched::Card(*card));
                if let Event::CardAddedToGroup { group, .. } = &fact.event {
                    touched.insert(Touched::Card(*group));
                }
                // The column it left (and the group it left) are not in the event; every
                // column and group is refreshed.
                every_column(touched);
                touched
                    .extend(state.cards.values().filter(|found| found.is_group).map(|found| Touched::Card(found.id)));
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
                touched
                    .extend(state.cards.values().filter(|found| found.is_group).map(|found| Touched::Card(found.id)));
            }
            Event::CommentAdded { comment, card, .. } => {
                touched.insert(Touched::Comment(*comment));
                touched.insert(Touched::Card(*card));
            }
            Event::CommentEdited { comment, .. } => {
                touched.insert(Touched::Comment(*comment));
            }
            Event::CommentDeleted { comment } => {
                touched.insert(Touched::Comment(*comment));
                // The card's count of comments changed.
                if let Some(found) = state.comments.get(comment) {
                    touched.insert(Touched::Card(found.card));
                }
            }
            Event::VoteCast { card } | Event::VoteWithdrawn { card } => {
                // A hidden dot is news to its voter only: others must not even learn which card
                // moved. The count of used dots is the voter's alone in any case.
                // How many have used their dots is counted for everyone (never who): it moves
                // only with someone's first dot placed or last dot taken back.
                let votes_used = state.participants.get(&fact.actor).map_or(0, |found| found.votes_used);
                let first_or_last = match fact.event {
                    Event::VoteCast { .. } => votes_used == 1,
                    _ => votes_used == 0,
                };
                if first_or_last {
                    touched.insert(Touched::Board);
                }
                let own = self.private.entry(fact.actor).or_default();
                own.insert(Touched::Participant(fact.actor));
                if state.votes_hidden() {
                    own.insert(Touched::Card(*card));
                } else {
                    touched.insert(Touched::Card(*card));
                }
            }
            Event::CardFollowed { .. }
            | Event::CardUnfollowed { .. }
            | Event::SeenThrough { .. }
            | Event::NotificationsRead { .. } => {
                self.private.entry(fact.actor).or_default().insert(Touched::Participant(fact.actor));
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
        // A group shows its cards' likes and comments: a like or a comment on a card in a group
        // touches the group too.
        let liked_or_commented = match &fact.event {
            Event::ReactionAdded { target: ReactionTarget::Card(card) }
            | Event::ReactionRemoved { target: ReactionTarget::Card(card) }
            | Event::CommentAdded { card, .. } => Some(*card),
            Event::CommentDeleted { comment } => state.comments.get(comment).map(|comment| comment.card),
            _ => None,
        };
        if let Some(group) = liked_or_commented.and_then(|card| state.cards.get(&card)).and_then(|card| card.group) {
            self.touched.insert(Touched::Card(group));
        }
    }

    /// Records what `fact` told one participant alone: a notification, and what they now follow.
    fn add_personal(&mut self, state: &BoardState, fact: &Fact) {
        for participant in kipina_domain::attention::notified_by(state, fact.seq) {
            self.private.entry(participant).or_default().insert(Touched::Notification(participant, fact.seq));
        }
        if matches!(fact.event, Event::CardAdded { .. } | Event::WordingProposed { .. } | Event::CommentAdded { .. }) {
            // Adding a card or commenting on one follows it.
            self.private.entry(fact.actor).or_default().insert(Touched::Participant(fact.actor));
        }
    }

    /// The participants for whom [`ChangeSet::render`] differs from the view for `None`; every
    /// other viewer can be sent the same bytes.
    pub fn personal_viewers(&self, state: &BoardState) -> BTreeSet<ParticipantId> {
        let mut viewers = self.viewers_of_their_own(state);
        viewers.extend(self.private.keys().copied());
        viewers
    }

    /// The participants to whom something everyone is told looks different (their own anonymous
    /// card, their own hidden dot, their own participant view). The others among
    /// [`ChangeSet::personal_viewers`] see the shared changes as everyone does, and get
    /// [`ChangeSet::render_private`] on top.
    pub fn viewers_of_their_own(&self, state: &BoardState) -> BTreeSet<ParticipantId> {
        let mut viewers = BTreeSet::new();
        for touched in &self.touched {
            match touched {
                Touched::Card(id) => {
                    if let Some(card) = state.cards.get(id) {
                        if state.card_is_anonymous(card) {
                            viewers.insert(card.author);
                        }
                        if voters_private(state, card) {
                            viewers.extend(card.votes.keys().copied());
                        }
                    }
                }
                Touched::Comment(id) => {
                    if let Some(comment) = state.comments.get(id).filter(|found| state.comment_is_anonymous(found)) {
                        viewers.insert(comment.author);
                    }
                }
                Touched::Column(id) => {
                    let versions = state.columns.get(id).and_then(|column| column.statement.as_ref());
                    for version in versions.into_iter().flat_map(|statement| &statement.versions) {
                        if version_is_anonymous(state, version) {
                            viewers.insert(version.author);
                        }
                    }
                }
                Touched::Participant(id) => {
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
        Self::render_each(state, touched, viewer).chain(self.insertions(state)).collect()
    }

    /// What only `viewer` is told: the views of what was touched for them alone. For a viewer
    /// not among [`ChangeSet::viewers_of_their_own`], these after the shared changes
    /// (`render(state, None)`) tell them what `render(state, Some(viewer))` does.
    pub fn render_private(&self, state: &BoardState, viewer: ParticipantId) -> Vec<Change> {
        let own = self.private.get(&viewer).into_iter().flatten().filter(|touched| !self.touched.contains(touched));
        Self::render_each(state, own.collect(), Some(viewer)).collect()
    }

    fn render_each<'a>(
        state: &'a BoardState,
        touched: BTreeSet<&'a Touched>,
        viewer: ViewerId,
    ) -> impl Iterator<Item = Change> + 'a {
        touched.into_iter().filter_map(move |touched| match touched {
            Touched::Board => state.info.as_ref().map(|info| Change::Board(info_view(state, info))),
            Touched::Participant(id) => {
                state.participants.get(id).map(|found| Change::Participant(participant_view(state, found, viewer)))
            }
            Touched::ColumnOrder => Some(Change::ColumnOrder(state.column_order.clone())),
            Touched::Column(id) => state.columns.get(id).map(|found| Change::Column(column_view(state, found, viewer))),
            Touched::Label(id) => state.labels.get(id).map(|found| Change::Label(label_view(found))),
            Touched::Card(id) => state.cards.get(id).map(|found| Change::Card(card_view(state, found, viewer))),
            Touched::Comment(id) => {
                state.comments.get(id).map(|found| Change::Comment(comment_view(state, found, viewer)))
            }
            Touched::Session(id) => state.sessions.get(id).map(|found| Change::Session(session_view(found))),
            Touched::Round(index) => round_view(state, *index).map(Change::Round),
            Touched::Notification(participant, seq) => (viewer == Some(*participant))
                .then(|| state.notifications.get(participant))
                .flatten()
                .and_then(|list| list.iter().rev().find(|notification| notification.seq == *seq))
                .map(|notification| Change::Notification(notification_view(state, notification))),
        })
    }

    /// Where the added cards went, for each column nothing else touched (a column touched
    /// otherwise is sent whole, which covers them).
    fn insertions<'a>(&'a self, state: &'a BoardState) -> impl Iterator<Item = Change> + 'a {
        self.inserted.iter().filter(|(column, _)| !self.touched.contains(&Touched::Column(**column))).filter_map(
            |(column, cards)| {
                let list = &state.columns.get(column)?.cards;
                let places: Vec<CardPlace> = list
                    .iter()
                    .enumerate()
                    .filter(|(_, card)| cards.contains(card))
                    .map(|(index, card)| CardPlace { index: u32::try_from(index).unwrap_or(u32::MAX), card: *card })
                    .collect();
                (!places.is_empty()).then_some(Change::CardsInserted(CardsInserted { column: *column, cards: places }))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    //! What each viewer is sent: hidden dots and anonymous authors never reach anyone else, in a
    //! snapshot or in a change, and everyone outside `personal_viewers` gets the shared bytes.

    use super::*;

    #[test]
    fn equal_dots_share_a_place_and_the_next_place_skips() {
        assert_eq!(super::places([5, 5, 3, 2, 2, 2, 0]), vec![1, 1, 3, 4, 4, 4, 7]);
        assert_eq!(super::places([1]), vec![1]);
        assert!(super::places([]).is_empty());
    }
    use kipina_domain::testing::{
        ALICE, ALICES_CARD, BOB, BOBS_CARD, FACILITATOR, IDEAS, OBSERVER, Scenario, add_card, add_comment, comment,
        like_card, session, vote, with_cards,
    };
    use kipina_domain::{Context, decide, evolve};
    use kipina_proto::view::{DiffKind, NotificationKind};
    use kipina_proto::{BoardOptions, BoardSettings, Command, ErrorCode, Phase, Timestamp};

    /// Runs commands on a board and collects what they touched, as the board task does.
    struct Live {
        state: BoardState,
        at: i64,
    }

    impl Live {
        fn from(scenario: &Scenario) -> Self {
            Self { state: scenario.state().clone(), at: 1_800_000_000_000 }
        }

        fn run(&mut self, actor: ParticipantId, command: Command) -> ChangeSet {
            self.at += 1_000;
            let context = Context { actor, at: Timestamp(self.at) };
            let events =
                decide(&self.state, &context, &command).unwrap_or_else(|error| panic!("{command:?}: {error:?}"));
            let mut changes = ChangeSet::default();
            for event in events {
                let fact = Fact { seq: self.state.version + 1, at: context.at, actor, event };
                evolve(&mut self.state, &fact);
                changes.add(&self.state, &fact);
            }
            changes
        }

        /// Checks that every viewer outside `personal_viewers` sees what the shared view shows.
        fn check_shared(&self, changes: &ChangeSet) {
            let personal = changes.personal_viewers(&self.state);
            let shared = changes.render(&self.state, None);
            for viewer in [FACILITATOR, ALICE, BOB, OBSERVER] {
                if !personal.contains(&viewer) {
                    assert_eq!(changes.render(&self.state, Some(viewer)), shared, "{viewer} may get the shared bytes");
                }
            }
        }
    }

    fn json(value: &impl serde::Serialize) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    fn hidden_round() -> Command {
        Command::StartVoteRound { settings: BoardSettings { vote_budget: 5, votes_per_card: 3 }, hidden: true }
    }

    #[test]
    fn a_hidden_dot_reaches_only_its_voter() {
        let mut live = Live::from(&with_cards());
        live.run(FACILITATOR, hidden_round());
        let changes = live.run(ALICE, vote(BOBS_CARD));
        live.check_shared(&changes);
        assert_eq!(changes.personal_viewers(&live.state), BTreeSet::from([ALICE]));
        for other in [None, Some(BOB), Some(FACILITATOR)] {
            // Only the count of those who have used dots: not which card, nor who.
            let told = changes.render(&live.state, other);
            assert!(
                matches!(told.as_slice(), [Change::Board(info)] if info.voting.voted == 1),
                "{other:?} must not learn that a card got a dot: {told:?}"
            );
        }
        let own = changes.render(&live.state, Some(ALICE));
        let card = own.iter().find_map(|change| match change {
            Change::Card(card) => Some(card.clone()),
            _ => None,
        });
        let card = card.expect("Alice sees her dot");
        assert_eq!((card.vote_total, card.votes), (None, vec![VoteView { participant: ALICE, dots: 1 }]));
        let own_count = own.iter().find_map(|change| match change {
            Change::Participant(participant) => participant.votes_used,
            _ => None,
        });
        assert_eq!(own_count, Some(1));

        // Bob's snapshot shows neither Alice's dot nor any total, nor how many dots she used.
        live.run(BOB, vote(BOBS_CARD));
        let bobs = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Some(BOB)).expect("the board");
        for card in &bobs.cards {
            assert_eq!(card.vote_total, None);
            assert!(card.votes.iter().all(|vote| vote.participant == BOB), "{:?}", card.votes);
        }
        let alice = bobs.participants.iter().find(|participant| participant.id == ALICE).expect("Alice");
        assert_eq!(alice.votes_used, None);
        let observers = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, None).expect("the board");
        assert!(observers.cards.iter().all(|card| card.votes.is_empty() && card.vote_total.is_none()));

        // Revealing shows everyone every total at once.
        let revealed = live.run(FACILITATOR, Command::RevealVotes);
        live.check_shared(&revealed);
        let shared = revealed.render(&live.state, None);
        let total = shared.iter().find_map(|change| match change {
            Change::Card(card) if card.id == BOBS_CARD => card.vote_total,
            _ => None,
        });
        assert_eq!(total, Some(2));
    }

    #[test]
    fn an_anonymous_author_is_sent_to_nobody_else_in_any_view() {
        let mut live = Live::from(&with_cards());
        live.run(
            FACILITATOR,
            Command::CreateSession {
                session: session(1),
                name: "Nimetön".into(),
                date: "2026-06-12".into(),
                anonymous: true,
            },
        );
        live.run(FACILITATOR, Command::StartSession { session: session(1) });
        let alice = ALICE.to_string();
        let mut changes = vec![
            live.run(ALICE, add_card(secret_card(), IDEAS, "Salainen idea")),
            live.run(ALICE, add_comment(comment(9), secret_card(), "Salainen kommentti")),
            live.run(BOB, like_card(secret_card())),
            live.run(
                ALICE,
                Command::EditCard {
                    card: secret_card(),
                    title: "Salaisempi".into(),
                    body: String::new(),
                    base_version: 1,
                },
            ),
        ];
        live.run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Vote });
        changes.push(live.run(ALICE, vote(secret_card())));
        for change in &changes {
            live.check_shared(change);
            for viewer in [None, Some(BOB), Some(FACILITATOR)] {
                let sent = json(&change.render(&live.state, viewer));
                assert!(!sent.contains(&alice), "{viewer:?} was sent Alice's id: {sent}");
            }
            let own = json(&change.render(&live.state, Some(ALICE)));
            assert!(own.contains(&alice), "Alice sees that it is hers: {own}");
        }
        // The whole board: Alice is a participant, but no card or comment names her.
        for viewer in [None, Some(BOB), Some(FACILITATOR)] {
            let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, viewer).expect("the board");
            let secret = view.cards.iter().find(|card| card.id == secret_card()).expect("the card");
            assert_eq!((secret.author, secret.anonymous), (None, true));
            assert!(!json(&secret).contains(&alice));
            assert!(!json(&view.comments).contains(&alice));
        }
        // Cards from before the session still name their authors.
        let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Some(BOB)).expect("the board");
        let older = view.cards.iter().find(|card| card.id == ALICES_CARD).expect("Alice's older card");
        assert_eq!(older.author, Some(ALICE));
    }

    #[test]
    fn a_notification_and_what_one_follows_reach_only_that_participant() {
        let mut live = Live::from(&with_cards());
        let changes = live.run(ALICE, add_comment(comment(9), BOBS_CARD, "Katso @Olli Oksanen"));
        live.check_shared(&changes);
        assert_eq!(changes.personal_viewers(&live.state), BTreeSet::from([ALICE, BOB, OBSERVER]));
        let notification = |viewer| {
            changes.render(&live.state, Some(viewer)).into_iter().find_map(|change| match change {
                Change::Notification(view) => Some(view),
                _ => None,
            })
        };
        let mention = notification(OBSERVER).expect("the observer was mentioned");
        assert_eq!(
            (mention.kind, mention.actor, mention.comment),
            (NotificationKind::Mentioned, Some(ALICE), Some(comment(9)))
        );
        assert_eq!(notification(BOB).map(|view| view.kind), Some(NotificationKind::Commented), "Bob follows his card");
        assert_eq!(notification(ALICE), None);
        assert_eq!(notification(FACILITATOR), None);
        assert!(!json(&changes.render(&live.state, None)).contains("notification"));
        // Alice now follows Bob's card: she alone is told.
        let own = |viewer| {
            let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Some(viewer)).expect("the board");
            let alice = view.participants.iter().find(|found| found.id == ALICE).expect("Alice").clone();
            (alice.own, view.notifications.len())
        };
        let (alices, alices_notifications) = own(ALICE);
        assert!(alices.expect("her own view").following.contains(&BOBS_CARD));
        assert_eq!(alices_notifications, 0);
        let (seen_by_bob, bobs_notifications) = own(BOB);
        assert_eq!(seen_by_bob, None, "Bob is not told what Alice follows");
        assert_eq!(bobs_notifications, 1);
        // Marking seen is Alice's alone: everyone else gets an empty change.
        let changes = live.run(ALICE, Command::MarkSeen { through: live.state.version });
        assert_eq!(changes.render(&live.state, Some(BOB)), vec![]);
        assert_eq!(changes.render(&live.state, None), vec![]);
        assert_eq!(changes.render(&live.state, Some(ALICE)).len(), 1);
    }

    #[test]
    fn a_notification_of_an_anonymous_comment_does_not_name_its_writer() {
        let mut live = Live::from(&with_cards());
        live.run(
            FACILITATOR,
            Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } },
        );
        let changes = live.run(ALICE, add_comment(comment(9), BOBS_CARD, "@Eero Mäkelä, nimettömästi"));
        let sent = json(&changes.render(&live.state, Some(BOB)));
        assert!(sent.contains("mentioned"), "{sent}");
        assert!(!sent.contains(&ALICE.to_string()), "Bob must not learn who wrote it: {sent}");
        let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Some(BOB)).expect("the board");
        assert_eq!(view.notifications[0].actor, None);
    }

    #[test]
    fn making_the_board_anonymous_hides_every_author_and_every_voter() {
        let mut live = Live::from(&with_cards());
        live.run(BOB, vote(ALICES_CARD));
        let changes = live.run(
            FACILITATOR,
            Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } },
        );
        live.check_shared(&changes);
        let alice = ALICE.to_string();
        let bob = BOB.to_string();
        let shared = json(&changes.render(&live.state, None));
        assert!(!shared.contains(&alice) && !shared.contains(&bob), "{shared}");
        let view =
            board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Some(FACILITATOR)).expect("the board");
        assert!(view.cards.iter().all(|card| card.author.is_none() && card.votes.is_empty()));
        assert_eq!(view.cards.iter().find(|card| card.id == ALICES_CARD).and_then(|card| card.vote_total), Some(1));
    }

    #[test]
    fn a_facilitators_edit_is_marked_and_names_nobody() {
        let mut live = Live::from(&with_cards());
        let changes = live.run(
            FACILITATOR,
            Command::EditCard {
                card: ALICES_CARD,
                title: "Kyläkahvila (tarkennettu)".into(),
                body: String::new(),
                base_version: 1,
            },
        );
        let shared = changes.render(&live.state, None);
        let card = shared.iter().find_map(|change| match change {
            Change::Card(card) => Some(card),
            _ => None,
        });
        assert_eq!(card.map(|card| (card.moderated, card.author)), Some((true, Some(ALICE))));
    }

    #[test]
    fn phase_changes_carry_the_gates_every_client_shows() {
        let mut live = Live::from(&with_cards());
        live.run(
            FACILITATOR,
            Command::CreateSession {
                session: session(1),
                name: "Leiri".into(),
                date: "2026-06-12".into(),
                anonymous: false,
            },
        );
        live.run(FACILITATOR, Command::StartSession { session: session(1) });
        let changes = live.run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Discuss });
        let info = changes.render(&live.state, None).into_iter().find_map(|change| match change {
            Change::Board(info) => Some(info),
            _ => None,
        });
        let info = info.expect("the board's info changed");
        assert_eq!(info.phase, Some(Phase::Discuss));
        assert_eq!(info.gates.add_card.participant, Some(ErrorCode::PhaseForbids));
        assert_eq!(info.gates.add_card.facilitator, None);
        assert_eq!(info.gates.comment.participant, None);
        assert_eq!(info.gates.vote.participant, Some(ErrorCode::PhaseForbids));
    }

    #[test]
    fn a_new_wording_is_compared_with_the_last_word_by_word() {
        let spans = |old, new| word_diff(old, new).into_iter().map(|span| (span.kind, span.text)).collect::<Vec<_>>();
        assert_eq!(
            spans("Olemme elinvoiman kasvattaja.", "Olemme rohkea elinvoiman uudistaja."),
            vec![
                (DiffKind::Same, "Olemme ".to_owned()),
                (DiffKind::Added, "rohkea ".to_owned()),
                (DiffKind::Same, "elinvoiman ".to_owned()),
                (DiffKind::Removed, "kasvattaja.".to_owned()),
                (DiffKind::Added, "uudistaja.".to_owned()),
            ]
        );
        assert_eq!(spans("", "Visio"), vec![(DiffKind::Added, "Visio".to_owned())]);
    }

    #[test]
    fn an_anonymous_proposals_adopted_wording_names_nobody_else() {
        let vision = kipina_domain::testing::column(10);
        let mut live = Live::from(&with_cards());
        live.run(FACILITATOR, Command::AddStatement { column: vision, title: "Visio".into(), text: "Luonnos".into() });
        live.run(
            FACILITATOR,
            Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } },
        );
        let proposal = kipina_domain::testing::card(30);
        let command = Command::ProposeWording {
            card: proposal,
            statement: vision,
            text: "Visio".into(),
            reason: "Selkeämpi".into(),
            base_version: 1,
        };
        live.run(ALICE, command);
        let adopted = live.run(FACILITATOR, Command::AdoptProposal { card: proposal });
        live.check_shared(&adopted);
        let alice = ALICE.to_string();
        for viewer in [None, Some(BOB), Some(FACILITATOR)] {
            let sent = json(&adopted.render(&live.state, viewer));
            assert!(!sent.contains(&alice), "{viewer:?} was told who proposed it: {sent}");
            assert!(sent.contains("\"kind\":\"added\",\"text\":\"Visio\""), "{sent}");
        }
        assert!(json(&adopted.render(&live.state, Some(ALICE))).contains(&alice));
    }

    /// The card Alice writes during the anonymous session.
    fn secret_card() -> CardId {
        kipina_domain::testing::card(9)
    }
}
