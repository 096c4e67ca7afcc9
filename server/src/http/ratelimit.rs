//! Token-bucket rate limiting keyed by client IP or signer key ID: the
//! limiter the witness uses too (glassbox_edge::ratelimit).

pub use glassbox_edge::ratelimit::RateLimiter;
