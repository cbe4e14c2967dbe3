//! A client's copy of a board: a `snapshot`, then each `changed` folded in. This is what the
//! protocol's messages mean to whoever receives them, written once for Rust: the black-box
//! tests' harness (`kipina-tests`) and the server's replay property (`server/tests/it`) both
//! fold with it, and compare the result with a fresh snapshot for the same viewer. It lives in
//! the wire format's crate because it is a pure function of wire types that both can reach (the
//! server's own tests cannot depend on the test harness, which depends on the server), like
//! [`CardsInserted::apply`]. It decides nothing about the board: views are whole replacements
//! by id.
//!
//! The web client keeps its board the same way in TypeScript (`web/src/lib/state/board.svelte.ts`,
//! `BoardState.applySnapshot` and `applyChanged`); a change to these rules changes both.

use crate::ids::{CardId, ColumnId, CommentId, LabelId, ParticipantId, SessionId};
use crate::message::{CardsInserted, Change};
use crate::view::{
    BoardInfoView, BoardView, CardView, ColumnView, CommentView, LabelView, NotificationView, ParticipantView,
    RoundView, SessionView,
};
use std::collections::BTreeMap;

/// A board as a client holds it, kept by id so that folding changes into it and reading a fresh
/// snapshot give equal values.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardMirror {
    /// The sequence number of the last event it includes.
    pub seq: u64,
    pub info: BoardInfoView,
    pub participants: BTreeMap<ParticipantId, ParticipantView>,
    pub columns: BTreeMap<ColumnId, ColumnView>,
    /// Active columns in board order.
    pub order: Vec<ColumnId>,
    pub labels: BTreeMap<LabelId, LabelView>,
    pub cards: BTreeMap<CardId, CardView>,
    pub comments: BTreeMap<CommentId, CommentView>,
    pub sessions: BTreeMap<SessionId, SessionView>,
    pub rounds: BTreeMap<u32, RoundView>,
    /// The viewer's own notifications, oldest first.
    pub notifications: Vec<NotificationView>,
    /// How many notifications it keeps: as many as the server keeps (`BoardView::notifications_kept`).
    pub notifications_kept: u32,
}

/// What folding a `changed` did, as the web client's `applyChanged` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The changes went past what it held and are now in it.
    Applied,
    /// Everything in them was in it already (a repeat): nothing changed.
    Old,
    /// Changes before them were missed: nothing changed, and the client must resubscribe from
    /// its `seq`.
    Gap,
}

impl BoardMirror {
    /// The copy of a snapshot.
    pub fn of(board: &BoardView) -> Self {
        Self {
            seq: board.seq,
            info: board.info.clone(),
            participants: board.participants.iter().map(|view| (view.id, view.clone())).collect(),
            columns: board.columns.iter().map(|view| (view.id, view.clone())).collect(),
            order: board.columns.iter().filter(|view| !view.archived).map(|view| view.id).collect(),
            labels: board.labels.iter().map(|view| (view.id, view.clone())).collect(),
            cards: board.cards.iter().map(|view| (view.id, view.clone())).collect(),
            comments: board.comments.iter().map(|view| (view.id, view.clone())).collect(),
            sessions: board.sessions.iter().map(|view| (view.id, view.clone())).collect(),
            rounds: board.rounds.iter().map(|view| (view.number, view.clone())).collect(),
            notifications: board.notifications.clone(),
            notifications_kept: board.notifications_kept,
        }
    }

    /// Folds a `changed` covering `first_seq..=last_seq`. It is applied when it goes past what
    /// the copy holds and starts no later than right after it (one that overlaps is applied too:
    /// its views are the board at `last_seq`, and views are whole replacements).
    pub fn apply_changed(
        &mut self,
        first_seq: u64,
        last_seq: u64,
        changes: impl IntoIterator<Item = Change>,
    ) -> Applied {
        if last_seq <= self.seq {
            return Applied::Old;
        }
        if first_seq > self.seq + 1 {
            return Applied::Gap;
        }
        for change in changes {
            self.apply(change);
        }
        self.seq = last_seq;
        Applied::Applied
    }

    /// Puts one change in place: a view replaces the one with its id.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Board(info) => self.info = info,
            Change::Participant(view) => drop(self.participants.insert(view.id, view)),
            Change::Column(view) => drop(self.columns.insert(view.id, view)),
            Change::ColumnOrder(order) => self.order = order,
            Change::CardsInserted(inserted) => self.insert_cards(&inserted),
            Change::Label(view) => drop(self.labels.insert(view.id, view)),
            Change::Card(view) => drop(self.cards.insert(view.id, view)),
            Change::Comment(view) => drop(self.comments.insert(view.id, view)),
            Change::Session(view) => drop(self.sessions.insert(view.id, view)),
            Change::Round(view) => drop(self.rounds.insert(view.number, view)),
            Change::Notification(view) => {
                // By sequence number, oldest first, the newest as many as the server keeps.
                self.notifications.retain(|kept| kept.seq != view.seq);
                self.notifications.push(view);
                self.notifications.sort_by_key(|kept| kept.seq);
                let kept = usize::try_from(self.notifications_kept).unwrap_or(usize::MAX);
                let excess = self.notifications.len().saturating_sub(kept);
                self.notifications.drain(..excess);
            }
        }
    }

    fn insert_cards(&mut self, inserted: &CardsInserted) {
        if let Some(column) = self.columns.get_mut(&inserted.column) {
            inserted.apply(&mut column.cards);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Applied, BoardMirror};
    use crate::message::{CardPlace, CardsInserted, Change};
    use crate::view::{BoardView, NotificationView};

    /// A board with one column holding `k1`, at sequence number 10.
    fn board(notifications_kept: u32) -> BoardView {
        let gate = serde_json::json!({ "facilitator": null, "participant": null });
        serde_json::from_value(serde_json::json!({
            "id": "00000000-0000-0000-0000-0000000000b1",
            "seq": 10,
            "info": {
                "title": "Leaderin kulmakivet", "description": "", "text_version": 1, "language": "fi",
                "settings": { "vote_budget": 5, "votes_per_card": 3 },
                "options": { "anonymous": false, "participants_may_group": false },
                "created_at": 1_700_000_000_000_i64, "locked": false, "running_session": null, "phase": null,
                "timer_ends_at": null, "anonymous_now": false,
                "gates": { "add_card": gate, "comment": gate, "react": gate, "vote": gate, "group": gate },
                "voting": { "voted": 0, "voters": 0 }
            },
            "columns": [{
                "id": "00000000-0000-0000-0000-0000000000c1", "title": "Ideat", "text_version": 1,
                "archived": false, "cards": ["00000000-0000-0000-0000-0000000000a1"], "statement": null
            }],
            "participants": [], "labels": [], "cards": [], "comments": [], "sessions": [], "rounds": [],
            "notifications": [], "notifications_kept": notifications_kept
        }))
        .expect("a board view")
    }

    fn notification(seq: u64) -> Change {
        Change::Notification(NotificationView {
            seq,
            at: crate::Timestamp(seq as i64),
            kind: crate::view::NotificationKind::Commented,
            card: crate::CardId(uuid::Uuid::from_u128(0xa1)),
            comment: None,
            actor: None,
        })
    }

    fn seqs(mirror: &BoardMirror) -> Vec<u64> {
        mirror.notifications.iter().map(|found| found.seq).collect()
    }

    #[test]
    fn a_changed_is_applied_once_and_a_gap_is_refused() {
        let mut mirror = BoardMirror::of(&board(200));
        assert_eq!(mirror.apply_changed(12, 12, [notification(12)]), Applied::Gap);
        assert_eq!(mirror.apply_changed(10, 10, [notification(10)]), Applied::Old);
        assert_eq!((mirror.seq, seqs(&mirror)), (10, vec![]));
        assert_eq!(mirror.apply_changed(11, 11, [notification(11)]), Applied::Applied);
        // One that overlaps what it holds and goes further is applied: views replace by id.
        assert_eq!(mirror.apply_changed(11, 12, [notification(11), notification(12)]), Applied::Applied);
        assert_eq!((mirror.seq, seqs(&mirror)), (12, vec![11, 12]));
    }

    #[test]
    fn notifications_are_kept_by_sequence_number_as_many_as_the_board_keeps() {
        let mut mirror = BoardMirror::of(&board(2));
        for seq in [13, 11, 12] {
            mirror.apply(notification(seq));
        }
        assert_eq!(seqs(&mirror), vec![12, 13]);
    }

    /// The steps of `web/src/test/mirror-cases.json`, which the web client's tests run too: both
    /// folds must answer and end each step alike.
    #[test]
    fn the_web_clients_cases_fold_alike() {
        #[derive(serde::Deserialize)]
        struct Cases {
            snapshot: BoardView,
            steps: Vec<Step>,
        }
        #[derive(serde::Deserialize)]
        struct Step {
            first_seq: u64,
            last_seq: u64,
            changes: Vec<Change>,
            answer: String,
            seq: u64,
            notifications: Vec<u64>,
            c1: Vec<crate::CardId>,
            order: Vec<crate::ColumnId>,
        }
        let cases: Cases =
            serde_json::from_str(include_str!("../../web/src/test/mirror-cases.json")).expect("the cases parse");
        let c1 = cases.snapshot.columns[0].id;
        let mut mirror = BoardMirror::of(&cases.snapshot);
        for (number, step) in cases.steps.into_iter().enumerate() {
            let answer = match mirror.apply_changed(step.first_seq, step.last_seq, step.changes) {
                Applied::Applied => "applied",
                Applied::Old => "old",
                Applied::Gap => "gap",
            };
            assert_eq!(answer, step.answer, "step {number}");
            assert_eq!(mirror.seq, step.seq, "step {number}");
            assert_eq!(seqs(&mirror), step.notifications, "step {number}");
            assert_eq!(mirror.columns[&c1].cards, step.c1, "step {number}");
            assert_eq!(mirror.order, step.order, "step {number}");
        }
    }

    #[test]
    fn inserted_cards_go_to_their_places_once() {
        let mut mirror = BoardMirror::of(&board(200));
        let column = crate::ColumnId(uuid::Uuid::from_u128(0xc1));
        let (old, new) = (crate::CardId(uuid::Uuid::from_u128(0xa1)), crate::CardId(uuid::Uuid::from_u128(0xa2)));
        let inserted = CardsInserted { column, cards: vec![CardPlace { index: 0, card: new }] };
        for _ in 0..2 {
            mirror.apply(Change::CardsInserted(inserted.clone()));
        }
        assert_eq!(mirror.columns[&column].cards, vec![new, old]);
    }
}
