//! Who may do what: participant tokens, invitation links, join codes and rate limits.
//!
//! Nothing that grants access is stored in the clear. Participant tokens are 256 random bits,
//! kept only as SHA-256 hashes. Link secrets are an HMAC of the board and role under the
//! server's key (`DATA/access/server.key`), so they can be shown again without being stored.
//! Join codes are derived the same way and found again by their HMAC; wrong ones are limited
//! per client address because six characters can be guessed (`guesses`).

mod count;
mod guesses;
mod rate_limit;
mod store;

pub use guesses::{GuessLimiter, KNOWN_FOR, Verdict, WRONG_GUESS_BURST, WRONG_GUESS_INTERVAL_SECONDS, address_key};
pub use rate_limit::{Bucket, RateLimiter};
pub use store::{AccessError, AccessStore, Invitation, check};

/// A join code as people type it: read as the projector shows it ("8Z8 25A") or written with a
/// hyphen ("8Z8-25A"), in any case. White space (a no-break space too) and hyphens and dashes
/// are left out and letters made capitals; whether what is left is a code is the lookup's job.
pub fn typed_join_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_typed_join_code_loses_its_spaces_hyphens_and_small_letters() {
        for typed in ["8Z825A", "8Z8 25A", " 8z8 25a ", "8Z8-25A", "8z8\u{a0}25a", "8Z8\u{2013}25A", "8 Z 8 - 2 5 A"] {
            assert_eq!(super::typed_join_code(typed), "8Z825A", "{typed:?}");
        }
    }
}
