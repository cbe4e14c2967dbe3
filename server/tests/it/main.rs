//! The server crate's integration tests: the store against real files, the CLI as a process,
//! exports, erasure, the replay property and the fuzz corpus.
//!
//! One test binary for the crate, with a module per area (see `tests/tests/it/main.rs` for why).
//! Run one area with `cargo test -p kipina-server --test it <module>::`.

mod batch_property;
mod chunks;
mod cli;
mod erasure;
mod export;
mod fuzz_corpus;
mod replay_property;
mod search_property;
mod serve;
mod store;
mod upgrade;
