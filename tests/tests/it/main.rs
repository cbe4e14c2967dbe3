//! The black-box tests: each module starts the real server (in this process, or the
//! `kipina-under-test` binary as a child) on port 0 with a fresh data directory and talks to it
//! over real HTTP and WebSocket clients.
//!
//! One test binary for the crate, with a module per area: each integration-test file used to be
//! its own binary linking the whole server, which cost a link and ~100 MB of `target/` apiece.
//! Run one area with `cargo test -p kipina-tests --test it <module>::`.

mod access_matrix;
mod activity;
mod architecture;
mod authorization;
mod backpressure;
mod collaboration;
mod compression;
mod crash;
mod damage;
mod facilitation;
mod hostile_input;
mod http;
mod idempotency;
mod keeping_up;
mod ordering;
mod origin;
mod participants;
mod powercut;
mod presence;
mod promises;
mod protocol_doc;
mod reconnect_storm;
mod restart;
mod resume;
mod search;
mod secrets_in_logs;
mod slow_reader;
mod statements;
mod tidy;
mod transfer;
mod upgrade;
