//! The Glassbox log server: an append-only Merkle log of DSSE attestations over
//! SQLite, served as a JSON API and as C2SP tlog-tiles (DESIGN §4–5).
//!
//! `main.rs` only parses flags; everything else is here so that tests can build
//! the router with [`app`] and call it without a socket.

pub mod config;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod storage;
