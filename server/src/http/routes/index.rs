//! `GET /api/v1/index?key=`: one index key's complete list of log entries, with
//! the proof that it is complete — the lookup proof against the log's index
//! commitment, the commitment's inclusion proof, and the signed checkpoint whose
//! last entry it is (docs/formats/index.md, docs/api.md) — and
//! `GET /api/v1/index/list`, the rest of a list too long for one answer.

use axum::extract::State;
use axum::Json;
use glassbox_core::api::{IndexAnswer, IndexPage};
use glassbox_core::index::IndexKey;
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::index::list_page;
use crate::http::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexParams {
    key: String,
}

/// The index key `text` names, or `400` saying why it names none.
fn index_key(text: &str) -> Result<IndexKey, AppError> {
    text.parse()
        .map_err(|e: glassbox_core::index::keys::BadIndexKey| AppError::BadRequest(e.to_string()))
}

pub async fn lookup(
    State(state): State<AppState>,
    Q(p): Q<IndexParams>,
) -> Result<Json<IndexAnswer>, AppError> {
    let key = index_key(&p.key)?;
    let index = state.index.clone();
    let (mut proven, next_after) = state.read(move |s| index.prove_first_page(s, &key)).await?;
    let lookup = proven
        .lookups
        .pop()
        .ok_or_else(|| AppError::Internal("a lookup proved no key".into()))?;
    Ok(Json(IndexAnswer {
        checkpoint: String::from_utf8_lossy(&proven.checkpoint.note).into_owned(),
        commitment: proven.commitment,
        lookup,
        next_after,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    key: String,
    size: u64,
    after: u64,
}

/// `GET /api/v1/index/list?key=&size=&after=`: the entries of a key's list after
/// `after`, as of the checkpoint of `size`, a page at a time (as long as one
/// lookup answer lists). The pages are unproven: the client chains them after the
/// lookup's first page and checks the whole against its proof.
pub async fn list(
    State(state): State<AppState>,
    Q(p): Q<ListParams>,
) -> Result<Json<IndexPage>, AppError> {
    let key = index_key(&p.key)?;
    let limit = state.index.max_listed();
    let (size, after, shown) = (p.size, p.after, key.to_string());
    let (indices, next_after) = state
        .read(move |s| {
            let latest = s.latest_checkpoint()?.map_or(0, |c| c.size);
            if size == 0 || size > latest {
                return Err(AppError::BadRequest(format!(
                    "size {size} is not a checkpoint size of this log (1 ..= {latest})"
                )));
            }
            // The commitment ending the checkpoint is filed under no key.
            Ok(list_page(s, &key, size - 1, Some(after), limit)?)
        })
        .await?;
    Ok(Json(IndexPage {
        key: shown,
        size,
        indices,
        next_after,
    }))
}
