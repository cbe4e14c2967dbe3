//! The pure domain core: the board's state, its events and every rule.
//!
//! Nothing in here touches actix, sled, tokio, a clock or randomness. [`decide`] turns a command
//! into events or a [`DomainError`]; [`evolve`] folds events into a [`BoardState`] and never fails.

pub mod attention;
mod decide;
pub mod demo;
mod error;
mod event;
mod evolve;
pub mod limits;
mod permissions;
mod personal;
mod state;
pub mod templates;

pub use decide::{Context, Decision, decide};
pub use error::{DomainError, Kind};
pub use event::{Event, Fact};
pub use evolve::evolve;
pub use permissions::{Read, gate, gates, may_read, permissions, phase_allows};
pub use personal::{ERASED_TAG, Opener, PERSONAL_TAG, PersonalText, SEALED_TAG, with_opener};
pub use state::{
    BoardInfo, BoardState, Card, Column, Comment, Label, Notification, Participant, Proposal, Session, Statement,
    StatementVersion, VoteRound,
};

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

/// Folds a history into a fresh state.
pub fn replay<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> BoardState {
    let mut state = BoardState::default();
    for fact in facts {
        evolve(&mut state, fact);
    }
    state
}
