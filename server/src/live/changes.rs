//! The change sets of the fan-out: which views a run of facts touched, rendered for each viewer
//! as `changed` messages carry them. The views themselves are made in `projection::views`.
//!
//! Most changes look the same to everyone, so they are rendered and encoded once
//! ([`ChangeSet::personal_viewers`] names the few viewers who need their own: their own hidden
//! dot, their own anonymous card, their own dots used, their own marks and notifications).

use crate::projection::views::{
    Viewer, card_view, column_view, comment_view, info_view, label_view, notification_view, participant_view,
    round_view, session_view, version_is_anonymous, voters_private,
};
use kipina_domain::{BoardState, Event, Fact};
use kipina_proto::{
    CardId, CardPlace, CardsInserted, Change, ColumnId, CommentId, LabelId, ParticipantId, ReactionTarget, SessionId,
};
use std::collections::{BTreeMap, BTreeSet};

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

    /// The participants for whom [`ChangeSet::render`] differs from an observer's view; every
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
    pub fn render(&self, state: &BoardState, viewer: Viewer) -> Vec<Change> {
        let own = viewer.participant().and_then(|participant| self.private.get(&participant));
        let touched: BTreeSet<&Touched> = self.touched.iter().chain(own.into_iter().flatten()).collect();
        Self::render_each(state, touched, viewer).chain(self.insertions(state)).collect()
    }

    /// What only `viewer` is told: the views of what was touched for them alone. For a viewer
    /// not among [`ChangeSet::viewers_of_their_own`], these after the shared changes
    /// (`render(state, None)`) tell them what `render(state, Some(viewer))` does.
    pub fn render_private(&self, state: &BoardState, viewer: ParticipantId) -> Vec<Change> {
        let own = self.private.get(&viewer).into_iter().flatten().filter(|touched| !self.touched.contains(touched));
        Self::render_each(state, own.collect(), Viewer::Participant(viewer)).collect()
    }

    fn render_each<'a>(
        state: &'a BoardState,
        touched: BTreeSet<&'a Touched>,
        viewer: Viewer,
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
            Touched::Notification(participant, seq) => viewer
                .is(*participant)
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
    use crate::projection::views::board_view;
    use kipina_domain::testing::{
        ALICE, ALICES_CARD, BOB, BOBS_CARD, FACILITATOR, IDEAS, OBSERVER, Scenario, add_card, add_comment, comment,
        like_card, session, vote, with_cards,
    };
    use kipina_domain::{Context, decide, evolve};
    use kipina_proto::BoardId;
    use kipina_proto::view::{NotificationKind, VoteView};
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
            let shared = changes.render(&self.state, Viewer::Observer);
            for viewer in [FACILITATOR, ALICE, BOB, OBSERVER] {
                if !personal.contains(&viewer) {
                    assert_eq!(
                        changes.render(&self.state, Viewer::Participant(viewer)),
                        shared,
                        "{viewer} may get the shared bytes"
                    );
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
        for other in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
            // Only the count of those who have used dots: not which card, nor who.
            let told = changes.render(&live.state, other);
            assert!(
                matches!(told.as_slice(), [Change::Board(info)] if info.voting.voted == 1),
                "{other:?} must not learn that a card got a dot: {told:?}"
            );
        }
        let own = changes.render(&live.state, Viewer::Participant(ALICE));
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
        let bobs = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Participant(BOB))
            .expect("the board");
        for card in &bobs.cards {
            assert_eq!(card.vote_total, None);
            assert!(card.votes.iter().all(|vote| vote.participant == BOB), "{:?}", card.votes);
        }
        let alice = bobs.participants.iter().find(|participant| participant.id == ALICE).expect("Alice");
        assert_eq!(alice.votes_used, None);
        let observers =
            board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Observer).expect("the board");
        assert!(observers.cards.iter().all(|card| card.votes.is_empty() && card.vote_total.is_none()));

        // Revealing shows everyone every total at once.
        let revealed = live.run(FACILITATOR, Command::RevealVotes);
        live.check_shared(&revealed);
        let shared = revealed.render(&live.state, Viewer::Observer);
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
            for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
                let sent = json(&change.render(&live.state, viewer));
                assert!(!sent.contains(&alice), "{viewer:?} was sent Alice's id: {sent}");
            }
            let own = json(&change.render(&live.state, Viewer::Participant(ALICE)));
            assert!(own.contains(&alice), "Alice sees that it is hers: {own}");
        }
        // The whole board: Alice is a participant, but no card or comment names her.
        for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
            let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, viewer).expect("the board");
            let secret = view.cards.iter().find(|card| card.id == secret_card()).expect("the card");
            assert_eq!((secret.author, secret.anonymous), (None, true));
            assert!(!json(&secret).contains(&alice));
            assert!(!json(&view.comments).contains(&alice));
        }
        // Cards from before the session still name their authors.
        let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Participant(BOB))
            .expect("the board");
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
            changes.render(&live.state, Viewer::Participant(viewer)).into_iter().find_map(|change| match change {
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
        assert!(!json(&changes.render(&live.state, Viewer::Observer)).contains("notification"));
        // Alice now follows Bob's card: she alone is told.
        let own = |viewer| {
            let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Participant(viewer))
                .expect("the board");
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
        assert_eq!(changes.render(&live.state, Viewer::Participant(BOB)), vec![]);
        assert_eq!(changes.render(&live.state, Viewer::Observer), vec![]);
        assert_eq!(changes.render(&live.state, Viewer::Participant(ALICE)).len(), 1);
    }

    #[test]
    fn a_notification_of_an_anonymous_comment_does_not_name_its_writer() {
        let mut live = Live::from(&with_cards());
        live.run(
            FACILITATOR,
            Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } },
        );
        let changes = live.run(ALICE, add_comment(comment(9), BOBS_CARD, "@Eero Mäkelä, nimettömästi"));
        let sent = json(&changes.render(&live.state, Viewer::Participant(BOB)));
        assert!(sent.contains("mentioned"), "{sent}");
        assert!(!sent.contains(&ALICE.to_string()), "Bob must not learn who wrote it: {sent}");
        let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Participant(BOB))
            .expect("the board");
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
        let shared = json(&changes.render(&live.state, Viewer::Observer));
        assert!(!shared.contains(&alice) && !shared.contains(&bob), "{shared}");
        let view = board_view(BoardId::from_uuid(uuid::Uuid::nil()), &live.state, Viewer::Participant(FACILITATOR))
            .expect("the board");
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
        let shared = changes.render(&live.state, Viewer::Observer);
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
        let info = changes.render(&live.state, Viewer::Observer).into_iter().find_map(|change| match change {
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
        for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
            let sent = json(&adopted.render(&live.state, viewer));
            assert!(!sent.contains(&alice), "{viewer:?} was told who proposed it: {sent}");
            assert!(sent.contains("\"kind\":\"added\",\"text\":\"Visio\""), "{sent}");
        }
        assert!(json(&adopted.render(&live.state, Viewer::Participant(ALICE))).contains(&alice));
    }

    /// The card Alice writes during the anonymous session.
    fn secret_card() -> CardId {
        kipina_domain::testing::card(9)
    }
}
