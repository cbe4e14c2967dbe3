//! A token bucket per key (a client address, a connection): `rate` per second, bursts of `burst`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// Token buckets, one per key, shared between threads.
#[derive(Debug)]
pub struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate_per_second: f64, burst: u32) -> Self {
        Self { rate: rate_per_second, burst: f64::from(burst), buckets: Mutex::new(HashMap::new()) }
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<K, Bucket>> {
        self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `key`'s bucket is empty at `now`, without taking a token.
    pub fn is_exhausted(&self, key: &K, now: Instant) -> bool {
        self.buckets().get(key).is_some_and(|bucket| bucket.available(now) < 1.0)
    }

    /// Takes one token for `key` at `now`; false when its bucket is empty.
    pub fn allow(&self, key: &K, now: Instant) -> bool {
        let mut buckets = self.buckets();
        // Forget full buckets now and then, so the map stays bounded by recent clients.
        if buckets.len() > 10_000 {
            buckets.retain(|_, bucket| bucket.available(now) < bucket.burst);
        }
        let (rate, burst) = (self.rate, self.burst);
        buckets.entry(key.clone()).or_insert_with(|| Bucket::with(rate, burst, now)).allow(now)
    }
}

/// One token bucket: `rate` tokens a second, at most `burst` of them.
#[derive(Debug)]
pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket of `rate_per_second` commands a second, with bursts of twice as many.
    pub fn new(rate_per_second: u32, now: Instant) -> Self {
        let rate = f64::from(rate_per_second.max(1));
        Self::with(rate, rate * 2.0, now)
    }

    fn with(rate: f64, burst: f64, now: Instant) -> Self {
        Self { rate, burst, tokens: burst, at: now }
    }

    /// The tokens in the bucket at `now`.
    fn available(&self, now: Instant) -> f64 {
        (self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * self.rate).min(self.burst)
    }

    /// Takes one token; false when the bucket is empty.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.tokens = self.available(now);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let start = Instant::now();
        let limiter = RateLimiter::new(1.0, 3);
        let allowed = (0..5).filter(|_| limiter.allow(&"10.0.0.1", start)).count();
        assert_eq!(allowed, 3);
        assert!(limiter.allow(&"10.0.0.2", start), "another key has its own bucket");
        assert!(!limiter.allow(&"10.0.0.1", start + Duration::from_millis(500)));
        assert!(limiter.is_exhausted(&"10.0.0.1", start + Duration::from_millis(500)));
        assert!(!limiter.is_exhausted(&"10.0.0.1", start + Duration::from_millis(1_600)));
        assert!(limiter.allow(&"10.0.0.1", start + Duration::from_millis(1_600)));
    }

    #[test]
    fn a_connection_bucket_allows_twice_its_rate_at_once() {
        let start = Instant::now();
        let mut bucket = Bucket::new(20, start);
        assert_eq!((0..100).filter(|_| bucket.allow(start)).count(), 40);
        assert!(bucket.allow(start + Duration::from_millis(60)));
    }
}
