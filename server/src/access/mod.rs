//! Who may do what: participant tokens, invitation links, join codes and rate limits.
//!
//! Nothing that grants access is stored in the clear. Participant tokens are 256 random bits,
//! kept only as SHA-256 hashes. Link secrets are an HMAC of the board and role under the
//! server's key (`DATA/access/server.key`), so they can be shown again without being stored.
//! Join codes are derived the same way and looked up in a small table; they are rate-limited
//! per client address because six characters can be guessed.

mod rate_limit;
mod store;

pub use rate_limit::{Bucket, RateLimiter};
pub use store::{AccessError, AccessStore, Invitation};
