//! Stored record format (being written).
