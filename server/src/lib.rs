//! The Glassbox log server: an append-only Merkle log of DSSE attestations over
//! SQLite, served as a JSON API and as C2SP tlog-tiles (DESIGN §4–5).
//!
//! `main.rs` only parses flags; everything else is here so that tests can build
//! the router with [`app`] and call it without a socket.

pub mod clock;
pub mod config;
pub mod datadir;
pub mod dedupe;
pub mod error;
pub mod extract;
pub mod facts;
pub mod integrity;
pub mod leader;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ratelimit;
pub mod receipt;
pub mod registry;
pub mod routes;
pub mod sequencer;
pub mod server;
pub mod state;
pub mod storage;
pub mod tiles_dir;
pub mod validate;
pub mod web;
pub mod witnessing;

use axum::extract::DefaultBodyLimit;
use axum::Router;

pub use server::run;
pub use state::AppState;

/// The complete HTTP API and web pages (DESIGN §5) over `state`.
pub fn app(state: AppState) -> Router {
    // Every route comes from the documented route table (openapi.rs).
    openapi::router()
        .fallback(middleware::not_found)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::edge,
        ))
        .with_state(state)
}
