//! The sled-backed store (being written).
