//! Who may do what: participant tokens, invitation links, join codes and rate limits.
//!
//! Nothing that grants access is stored in the clear. Participant tokens are 256 random bits,
//! kept only as SHA-256 hashes. Link secrets are an HMAC of the board and role under the
//! server's key (`DATA/access/server.key`), so they can be shown again without being stored.
//! Join codes are derived the same way and found again by their HMAC; wrong ones are limited
//! per client address because six characters can be guessed (`guesses`).

mod guesses;
mod rate_limit;
mod store;

pub use guesses::{GuessLimiter, KNOWN_FOR, Verdict, WRONG_GUESS_BURST, WRONG_GUESS_INTERVAL_SECONDS, address_key};
pub use rate_limit::{Bucket, RateLimiter};
pub use store::{AccessError, AccessStore, Invitation};
