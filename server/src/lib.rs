//! Kipinä's server: the pure domain core, the durable event store, projections and the CLI.

pub mod cli;
pub mod codec;
pub mod data_dir;
pub mod domain;
pub mod engine;
pub mod personal_data;
pub mod projection;
pub mod store;
pub mod verify;
