//! Between camps: the activity feed, the board's history and its Atom feed — all projections of
//! the log.
//!
//! A [`Projection`] folds a board's facts one by one: it keeps the board's state (with the same
//! `evolve` as everywhere), one record per event that is anyone's business (`record`), and the
//! time of every event. A page of the feed renders records newest first for one viewer
//! (`visibility`) against the state at the head, so anonymity and hidden dots follow the same
//! rules as the views. `ActivityCache` keeps a projection per board and folds only the events
//! that arrived since it was last read. `history` shows the board as it was at a sequence
//! number; `feed` writes the public activity as Atom.

mod cache;
pub mod feed;
pub mod history;
mod record;
pub mod visibility;
mod words;

#[cfg(test)]
mod tests;

pub use cache::ActivityCache;
pub use record::record_of;

use crate::projection::views::Viewer;
use kipina_domain::{BoardState, Fact, evolve};
use kipina_proto::ParticipantId;
use kipina_proto::Timestamp;
use kipina_proto::activity::{ActivityGroup, ActivityItem, ActivityPage, Timeline, TimelinePoint};
use std::collections::BTreeSet;

/// Items per page unless asked otherwise, and the most a page holds.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
/// About how many points a timeline carries besides the sessions' starts and ends.
const TIMELINE_POINTS: u64 = 256;

/// Which items a page holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only items older than this sequence number; `None` for the newest.
    pub before: Option<u64>,
    /// At most this many items (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// Only these groups; `None` for all.
    pub groups: Option<BTreeSet<ActivityGroup>>,
    /// Only what this participant did, where the viewer may know it was them.
    pub actor: Option<ParticipantId>,
}

impl Query {
    pub fn newest(limit: usize) -> Self {
        Self { limit, ..Self::default() }
    }
}

/// A board's activity, folded from its log.
#[derive(Clone, Debug, Default)]
pub struct Projection {
    state: BoardState,
    /// Oldest first, one per event that is anyone's business, each with its actor.
    records: Vec<ActivityItem>,
    /// The time of every event: `times[seq - 1]`.
    times: Vec<Timestamp>,
}

impl Projection {
    /// Folds the next fact in. Facts must come in sequence order from 1; one that is not the
    /// next is ignored (it was folded already).
    pub fn fold(&mut self, fact: &Fact) {
        if fact.seq != self.state.version + 1 {
            return;
        }
        let record = record_of(&self.state, fact);
        evolve(&mut self.state, fact);
        self.records.extend(record);
        self.times.push(fact.at);
    }

    /// The sequence number of the last fact folded in.
    pub fn head(&self) -> u64 {
        self.state.version
    }

    /// The board as of [`Projection::head`].
    pub fn state(&self) -> &BoardState {
        &self.state
    }

    /// When event `seq` happened.
    pub fn time_of(&self, seq: u64) -> Option<Timestamp> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.times.get(index).copied()
    }

    /// One page of the feed as `viewer` may see it, newest first.
    pub fn page(&self, viewer: Viewer, query: &Query) -> ActivityPage {
        let limit = query.limit.clamp(1, MAX_LIMIT);
        let before = query.before.unwrap_or(u64::MAX);
        let end = self.records.partition_point(|record| record.seq < before);
        let mut matching = self.records[..end]
            .iter()
            .rev()
            .filter(|record| query.groups.as_ref().is_none_or(|groups| groups.contains(&record.group)))
            .filter_map(|record| visibility::for_viewer(&self.state, record, viewer))
            .filter(|item| query.actor.is_none_or(|actor| item.actor == Some(actor)));
        let items: Vec<ActivityItem> = matching.by_ref().take(limit).collect();
        // One more look tells whether an older page has anything in it.
        let more = matching.next().is_some();
        ActivityPage { before: items.last().filter(|_| more).map(|item| item.seq), items, head: self.head() }
    }

    /// Points of the board's history with their times: spread evenly, plus the first, the last
    /// and every session's start and end.
    pub fn timeline(&self) -> Timeline {
        let head = self.head();
        let step = head.div_ceil(TIMELINE_POINTS).max(1);
        let mut seqs: BTreeSet<u64> = (1..=head).step_by(usize::try_from(step).unwrap_or(usize::MAX)).collect();
        seqs.insert(head);
        for session in self.state.sessions.values() {
            seqs.extend(session.started_seq);
            seqs.extend(session.ended_seq);
        }
        let points = seqs.into_iter().filter_map(|seq| self.time_of(seq).map(|at| TimelinePoint { seq, at })).collect();
        Timeline { head, points }
    }
}
