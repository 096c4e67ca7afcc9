//! `GET /api/v1/index?key=`: one index key's complete list of log entries, with
//! the proof that it is complete — the lookup proof against the log's index
//! commitment, the commitment's inclusion proof, and the signed checkpoint whose
//! last entry it is (docs/formats/index.md, docs/api.md).

use axum::extract::State;
use axum::Json;
use glassbox_core::api::IndexAnswer;
use glassbox_core::index::IndexKey;
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexParams {
    key: String,
}

pub async fn lookup(
    State(state): State<AppState>,
    Q(p): Q<IndexParams>,
) -> Result<Json<IndexAnswer>, AppError> {
    let key: IndexKey = p
        .key
        .parse()
        .map_err(|e: glassbox_core::index::keys::BadIndexKey| {
            AppError::BadRequest(e.to_string())
        })?;
    let index = state.index.clone();
    let mut proven = state.read(move |s| index.prove(s, &[key])).await?;
    let lookup = proven
        .lookups
        .pop()
        .ok_or_else(|| AppError::Internal("a lookup proved no key".into()))?;
    Ok(Json(IndexAnswer {
        checkpoint: String::from_utf8_lossy(&proven.checkpoint.note).into_owned(),
        commitment: proven.commitment,
        lookup,
    }))
}
