//! `GET /checkpoint` (C2SP tlog-tiles: the latest signed note) and
//! `GET /api/v1/checkpoints` (the history of every signed checkpoint).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use glassbox_core::api::{CheckpointItem, CheckpointPage};
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::state::AppState;
use crate::log::clock::rfc3339_ms;

pub async fn latest(State(state): State<AppState>) -> Result<Response, AppError> {
    let cp = state
        .read(|s| {
            s.latest_checkpoint()?
                .ok_or_else(|| AppError::NotFound("the log has no checkpoint yet".into()))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        cp.note,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    since: Option<u64>,
    limit: Option<usize>,
}

pub async fn history(
    State(state): State<AppState>,
    Q(q): Q<HistoryQuery>,
) -> Result<Json<CheckpointPage>, AppError> {
    let limit = crate::http::routes::search::check_limit(q.limit)?;
    let since = q.since.unwrap_or(0);
    let rows = state
        .read(move |s| Ok(s.checkpoints(since, limit + 1)?))
        .await?;
    let next_since = rows.get(limit).map(|c| c.size);
    let checkpoints = rows
        .into_iter()
        .take(limit)
        .map(|c| CheckpointItem {
            size: c.size,
            created_at: rfc3339_ms(c.created_at_ms),
            checkpoint: String::from_utf8_lossy(&c.note).into_owned(),
        })
        .collect();
    Ok(Json(CheckpointPage {
        checkpoints,
        next_since,
    }))
}
