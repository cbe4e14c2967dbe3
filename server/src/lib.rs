//! Kipinä's server: the durable event store, projections, HTTP/WebSocket, exports and the CLI,
//! around the pure domain core in the `kipina-domain` crate.

pub mod access;
pub mod activity;
pub mod cli;
pub mod clock;
pub mod codec;
pub mod config;
pub mod data_dir;
pub mod disk_space;
pub mod durable;
pub mod engine;
pub mod export;
pub mod fuzzing;
pub mod import;
pub mod live;
pub mod metrics;
pub mod personal_data;
pub mod projection;
pub mod routes;
pub mod search;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod verify;
