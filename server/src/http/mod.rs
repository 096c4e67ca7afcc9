//! The HTTP face of the log: the JSON API, the tlog-tiles paths and the web
//! pages (docs/design.md §5), their one error type, and the edge middleware.

pub mod client_ip;
pub mod error;
pub mod extract;
pub mod index;
pub mod middleware;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use state::AppState;

/// The complete HTTP API and web pages (docs/design.md §5) over `state`.
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
