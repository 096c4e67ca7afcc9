//! Token buckets per client (or any key), and the bucket a client address
//! counts in.
//!
//! Time is passed in, so tests drive the buckets with a fake clock.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token-bucket parameters: `rate` tokens per second, at most `burst` stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub rate_per_sec: f64,
    pub burst: f64,
}

impl RateLimit {
    /// Whether buckets with these parameters ever let a request through.
    pub fn is_valid(&self) -> bool {
        self.rate_per_sec > 0.0 && self.burst >= 1.0
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, what a dual-stack socket
/// reports for an IPv4 client) as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The rate-limit bucket of client `ip`: an IPv4 address is its own, an IPv6
/// address shares its /64 (written as the network's first address), since one
/// host usually holds a whole /64.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

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
