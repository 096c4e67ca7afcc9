//! Token-bucket rate limiting keyed by client IP or signer key ID.
//!
//! Time is passed in, so tests drive the buckets with a fake clock.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Buckets per key; idle full buckets are dropped so memory stays bounded.
pub struct RateLimiter<K> {
    limit: RateLimit,
    buckets: Mutex<HashMap<K, Bucket>>,
}

/// Buckets kept before idle ones are swept.
const SWEEP_THRESHOLD: usize = 10_000;

impl<K: Eq + Hash + Clone> RateLimiter<K> {
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key` at time `now`; `Err(wait)` says when one will be free.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > SWEEP_THRESHOLD {
            let (rate, burst) = (self.limit.rate_per_sec, self.limit.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.limit.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.rate_per_sec).min(self.limit.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(Duration::from_secs_f64(missing / self.limit.rate_per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_then_refill() {
        let rl = RateLimiter::new(RateLimit {
            rate_per_sec: 2.0,
            burst: 3.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            rl.check(&"a", t0).unwrap();
        }
        let wait = rl.check(&"a", t0).unwrap_err();
        assert!(wait <= Duration::from_millis(500) && wait > Duration::ZERO);
        rl.check(&"b", t0).unwrap();
        rl.check(&"a", t0 + Duration::from_millis(500)).unwrap();
    }
}
