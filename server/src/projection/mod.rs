//! Projections of the log. The board state itself is `domain::BoardState`, built by `evolve`;
//! this folder holds what keeps it fast to rebuild (disposable snapshots) and what everyone who
//! shows a board reads it through: the views of the state for one viewer (`views`).

pub mod snapshot;
pub mod views;

pub use snapshot::{Snapshot, SnapshotStore};
