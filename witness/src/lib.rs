//! The Glassbox witness: a C2SP tlog-witness service (<https://c2sp.org/tlog-witness>).
//!
//! A witness follows a set of logs, each known by its checkpoint verifier key. A log
//! sends it each new checkpoint with a consistency proof from the last checkpoint the
//! witness cosigned; the witness checks the log's signature and the proof against
//! its own stored state and answers with a C2SP tlog-cosignature v1 line. Because it
//! never cosigns two incompatible views of one log, a verifier that demands
//! cosignatures from enough independent witnesses cannot be shown a split view.
//!
//! [`app`] is the HTTP surface (callable without a socket) and
//! [`serve::run_blocking`] the process the crate's `glassbox-witness` binary runs. The
//! state is one SQLite file ([`store`]), written durably before any cosignature is
//! returned.

pub mod error;
pub mod limit;
pub mod serve;
pub mod store;
pub mod witness;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use error::AddError;
pub use witness::{Clock, Witness};

/// Largest `add-checkpoint` body accepted: a checkpoint note plus 63 proof lines is
/// a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Content type of a successful `add-checkpoint` response: signature lines.
pub const COSIGNATURE_CONTENT_TYPE: &str = "text/x.tlog.signature";

/// The witness's HTTP API:
///
/// * `POST /add-checkpoint` — C2SP tlog-witness §add-checkpoint;
/// * `GET /checkpoint/<origin>` — the latest checkpoint this witness cosigned for
///   `origin` (log signature and cosignature), for monitors;
/// * `GET /healthz` — liveness.
pub fn app(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/checkpoint/{*origin}", get(latest))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(
    State(witness): State<Arc<Witness>>,
    body: Bytes,
) -> Result<Response, AddError> {
    let req = glassbox_core::api::add_checkpoint::parse_add_checkpoint(&body)?;
    let cosigned = witness.add_checkpoint(req).await?;
    Ok((
        [(header::CONTENT_TYPE, COSIGNATURE_CONTENT_TYPE)],
        format!("{}\n", cosigned.cosignature.to_line()),
    )
        .into_response())
}

async fn latest(State(witness): State<Arc<Witness>>, Path(origin): Path<String>) -> Response {
    match witness.latest(&origin).await {
        Ok(Some(state)) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            state.note,
        )
            .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            format!("no checkpoint of {origin:?} has been cosigned\n"),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading witness state");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
