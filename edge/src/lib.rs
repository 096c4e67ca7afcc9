//! The HTTP edge the Glassbox log server and its witness share: serving
//! connections within limits an anonymous client cannot stretch ([`serve`]),
//! and token buckets per client ([`RateLimiter`]).
//! It knows nothing of what it serves; each program passes its router and the
//! limits from its own configuration.

pub mod conn;
pub mod ratelimit;

pub use conn::{serve, ConnLimits};
pub use ratelimit::{RateLimit, RateLimiter};
