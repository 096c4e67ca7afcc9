//! `GET /tile/…`: the C2SP tlog-tiles read API (hash tiles and entry bundles).
//!
//! Full tiles never change, so they are served `immutable` for a year. A partial
//! tile of width W is served whenever the current tree holds W such nodes (every
//! width a checkpoint of this log ever had, and more), with a short cache life
//! since clients move on to wider ones.
//!
//! A tile is read with one storage call (hash tiles from the node hash cache
//! once warm, storage/cache.rs) and no checkpoint: its nodes or entries exist in
//! storage only once a checkpoint covering them has committed, so a complete read
//! is proof the tile is available. Only a failed or incomplete read asks for the
//! latest checkpoint, to tell a tile beyond the tree (404, nothing logged) from a
//! storage fault.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use glassbox_core::tile::{encode_entry_bundle, TilePath, TILE_HEIGHT, TILE_WIDTH};

use crate::http::error::AppError;
use crate::http::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=5";

/// Number of level-`8·level` nodes complete in a tree of `size` leaves.
fn complete_nodes(size: u64, tile_level: u8) -> u128 {
    (size as u128) >> (u32::from(tile_level) * u32::from(TILE_HEIGHT))
}

pub async fn tile(
    State(state): State<AppState>,
    Path(rest): Path<String>,
) -> Result<Response, AppError> {
    let path = format!("tile/{rest}");
    let parsed = TilePath::parse(&path).map_err(|e| AppError::NotFound(format!("{path}: {e}")))?;
    let (start, width, full) = match &parsed {
        TilePath::Hash(t) => (
            t.index as u128 * TILE_WIDTH as u128,
            t.width,
            t.width as u64 == TILE_WIDTH,
        ),
        TilePath::Entries { index, width } => (
            *index as u128 * TILE_WIDTH as u128,
            *width,
            *width as u64 == TILE_WIDTH,
        ),
    };
    let body = state
        .read(move |s| {
            // Why the tile could not be read: beyond the tree, or `fault`.
            let unavailable = |fault: AppError| -> AppError {
                let size = match s.latest_checkpoint() {
                    Ok(c) => c.map_or(0, |c| c.size),
                    Err(e) => return e.into(),
                };
                let available = match &parsed {
                    TilePath::Hash(t) if t.level < 8 => complete_nodes(size, t.level),
                    TilePath::Hash(_) => 0,
                    TilePath::Entries { .. } => size as u128,
                };
                if start + width as u128 > available {
                    AppError::NotFound(format!("{path}: beyond the tree of size {size}"))
                } else {
                    fault
                }
            };
            match parsed {
                // Level 8 and up would start beyond leaf 2^64: never available.
                TilePath::Hash(t) if t.level >= 8 => Err(unavailable(AppError::Internal(
                    "unreachable tile level".into(),
                ))),
                TilePath::Hash(t) => match s.read_hashes(&t.nodes()) {
                    // The hashes are the tile's bytes: no copy.
                    Ok(hashes) if hashes.len() == usize::from(t.width) => {
                        Ok(hashes.into_flattened())
                    }
                    Ok(_) => Err(unavailable(AppError::Internal(format!(
                        "{path}: short hash read"
                    )))),
                    Err(e) => Err(unavailable(e.into())),
                },
                TilePath::Entries { .. } => {
                    // A bundle ending past 2^64 - 1 entries is beyond any tree.
                    let range = u64::try_from(start)
                        .ok()
                        .and_then(|start| Some((start, start.checked_add(u64::from(width))?)));
                    let Some((first, end)) = range else {
                        return Err(unavailable(AppError::Internal(
                            "entry bundle beyond 2^64 entries".into(),
                        )));
                    };
                    // A failed read (e.g. an index the database cannot represent)
                    // is judged against the tree like a short one.
                    let leaves = s.leaves(first, end).map_err(|e| unavailable(e.into()))?;
                    if leaves.len() != usize::from(width) {
                        return Err(unavailable(AppError::Internal(format!(
                            "{path}: {} of {width} entries read",
                            leaves.len()
                        ))));
                    }
                    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
                    encode_entry_bundle(&refs)
                        .map_err(|e| AppError::Internal(format!("entry bundle: {e}")))
                }
            }
        })
        .await?;
    let cache = if full { IMMUTABLE } else { SHORT };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response())
}
