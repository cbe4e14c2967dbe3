//! Projections of the log. The board state itself is `domain::BoardState`, built by `evolve`;
//! this folder holds what keeps it fast to rebuild: disposable snapshots.

pub mod snapshot;

pub use snapshot::{Snapshot, SnapshotStore};
