//! The Glassbox log server: an append-only Merkle log of DSSE attestations over
//! SQLite, served as a JSON API and as C2SP tlog-tiles (docs/design.md §4–5).
//!
//! Three rooms: [`log`] is the log's domain (admission, sequencing, receipts,
//! keys), [`storage`] is where it is kept, and [`http`] serves it. `main.rs`
//! only parses flags; everything else is here so that tests can build the
//! router with [`app`] and call it without a socket.

pub mod config;
pub mod http;
pub mod log;
pub mod metrics;
pub mod server;
pub mod storage;

pub use http::app;
pub use http::state::AppState;
pub use server::run;
