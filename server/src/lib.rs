//! Kipinä's server: the pure domain core, the durable event store, projections and the CLI.

pub mod domain;
pub mod store;
