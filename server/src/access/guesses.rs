//! Wrong join codes, limited per client address, without locking a venue out.
//!
//! A join code is six characters (887 million codes), so it can be guessed; links carry 128-bit
//! secrets and cannot, so they are never limited. Each address (an IPv6 address by its /64, which
//! one household or phone is given) may guess wrong ten times at once and then once every ten
//! seconds. Right codes cost nothing.
//!
//! While an address has used up its wrong guesses, no code from it is tried against the boards it
//! does not know (the answer is `rate_limited`, right or wrong, so the limit cannot be used to
//! tell a right code from a wrong one). It still joins the boards it knows: a board it created,
//! or one that someone at that address opened with a link, a right code or a participant's token
//! (over HTTP or a WebSocket subscription) in the last day. So one person guessing at a venue cannot keep the workshop from joining once
//! its first participant has scanned the QR code or the facilitator has opened the board there.
//! No scheme can do more: if every right code passed from an address however much it had guessed,
//! the answer itself would let that address try codes without limit.

use super::RateLimiter;
use kipina_proto::BoardId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong guesses an address may make at once.
pub const WRONG_GUESS_BURST: u32 = 10;
/// One more wrong guess every this many seconds.
pub const WRONG_GUESS_INTERVAL_SECONDS: u32 = 10;
/// How long an address is remembered to know a board.
pub const KNOWN_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// Known (address, board) pairs kept at most; the oldest are forgotten first.
const MAX_KNOWN: usize = 100_000;

/// The key an address is limited by: IPv4 as it is (IPv4-mapped IPv6 too), IPv6 by its /64.
pub fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
    }
}

/// What to answer a join code from an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The code is right and may be used.
    Pass,
    /// The code is wrong, and the address still had a guess left (now spent).
    Wrong,
    /// The address has guessed wrong too often; the code was not tried.
    Limited,
}

/// Wrong-guess buckets per address, and the boards each address is known to have opened.
#[derive(Debug)]
pub struct GuessLimiter {
    wrong: RateLimiter<IpAddr>,
    known: Mutex<HashMap<(IpAddr, BoardId), Instant>>,
}

impl Default for GuessLimiter {
    fn default() -> Self {
        Self {
            wrong: RateLimiter::new(1.0 / f64::from(WRONG_GUESS_INTERVAL_SECONDS), WRONG_GUESS_BURST),
            known: Mutex::new(HashMap::new()),
        }
    }
}

impl GuessLimiter {
    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<(IpAddr, BoardId), Instant>> {
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers that someone at `address` opened `board` with something only its people have.
    pub fn remember(&self, address: IpAddr, board: BoardId, now: Instant) {
        let mut known = self.known();
        if known.len() >= MAX_KNOWN {
            known.retain(|_, at| now.saturating_duration_since(*at) < KNOWN_FOR);
            if known.len() >= MAX_KNOWN {
                // Still full of recent pairs: forget the older half.
                let mut times: Vec<Instant> = known.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                known.retain(|_, at| *at > cut);
            }
        }
        known.insert((address_key(address), board), now);
    }

    fn knows(&self, address: IpAddr, board: BoardId, now: Instant) -> bool {
        self.known()
            .get(&(address_key(address), board))
            .is_some_and(|at| now.saturating_duration_since(*at) < KNOWN_FOR)
    }

    /// Judges a join code from `address` that leads to `board` (`None`: a wrong code).
    pub fn judge(&self, address: IpAddr, board: Option<BoardId>, now: Instant) -> Verdict {
        let key = address_key(address);
        let limited = self.wrong.is_exhausted(&key, now);
        match board {
            Some(board) if !limited || self.knows(address, board, now) => {
                self.remember(address, board, now);
                Verdict::Pass
            }
            Some(_) => Verdict::Limited,
            None if self.wrong.allow(&key, now) => Verdict::Wrong,
            None => Verdict::Limited,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    const VENUE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const BOARD: BoardId = BoardId(Uuid::from_u128(1));
    const OTHER: BoardId = BoardId(Uuid::from_u128(2));

    #[test]
    fn right_codes_cost_nothing_and_wrong_ones_run_out() {
        let limiter = GuessLimiter::default();
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(limiter.judge(VENUE, Some(BOARD), now), Verdict::Pass);
        }
        for _ in 0..WRONG_GUESS_BURST {
            assert_eq!(limiter.judge(VENUE, None, now), Verdict::Wrong);
        }
        assert_eq!(limiter.judge(VENUE, None, now), Verdict::Limited);
        let later = now + Duration::from_secs(u64::from(WRONG_GUESS_INTERVAL_SECONDS));
        assert_eq!(limiter.judge(VENUE, None, later), Verdict::Wrong, "one more guess after the interval");
        assert_eq!(limiter.judge(VENUE, None, later), Verdict::Limited);
    }

    #[test]
    fn a_limited_address_still_joins_the_boards_it_knows_and_learns_nothing_of_others() {
        let limiter = GuessLimiter::default();
        let now = Instant::now();
        limiter.remember(VENUE, BOARD, now);
        for _ in 0..WRONG_GUESS_BURST {
            limiter.judge(VENUE, None, now);
        }
        assert_eq!(limiter.judge(VENUE, Some(BOARD), now), Verdict::Pass);
        assert_eq!(limiter.judge(VENUE, Some(OTHER), now), Verdict::Limited, "a right code of another board");
        assert_eq!(limiter.judge(VENUE, None, now), Verdict::Limited);
        let tomorrow = now + KNOWN_FOR;
        for _ in 0..WRONG_GUESS_BURST {
            limiter.judge(VENUE, None, tomorrow);
        }
        assert_eq!(limiter.judge(VENUE, Some(BOARD), tomorrow), Verdict::Limited, "forgotten after a day");
    }

    #[test]
    fn ipv6_addresses_are_limited_by_their_64_prefix() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap(); // unwrap: a literal
        let two: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap(); // unwrap: a literal
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap(); // unwrap: a literal
        assert_eq!(address_key(one), address_key(two));
        assert_eq!(address_key(mapped), VENUE);
        let limiter = GuessLimiter::default();
        let now = Instant::now();
        for _ in 0..WRONG_GUESS_BURST {
            limiter.judge(one, None, now);
        }
        assert_eq!(limiter.judge(two, None, now), Verdict::Limited);
    }
}
