//! `GET /tile/…`: the C2SP tlog-tiles read API (hash tiles and entry bundles).
//!
//! Full tiles never change, so they are served `immutable` for a year. A partial
//! tile of width W is served whenever the current tree holds W such nodes (every
//! width a checkpoint of this log ever had, and more), with a short cache life
//! since clients move on to wider ones.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use glassbox_core::tile::{encode_entry_bundle, Tile, TilePath, TILE_HEIGHT, TILE_WIDTH};

use crate::error::AppError;
use crate::state::AppState;

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
            let size = s.latest_checkpoint()?.map_or(0, |c| c.size);
            let available = match &parsed {
                TilePath::Hash(t) if t.level < 8 => complete_nodes(size, t.level),
                TilePath::Hash(_) => 0,
                TilePath::Entries { .. } => size as u128,
            };
            if start + width as u128 > available {
                return Err(AppError::NotFound(format!(
                    "{path}: beyond the tree of size {size}"
                )));
            }
            match parsed {
                TilePath::Hash(t) => hash_tile(s, t),
                TilePath::Entries { .. } => {
                    let leaves = s.leaves(start as u64, start as u64 + width as u64)?;
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

fn hash_tile(s: &dyn crate::storage::Storage, t: Tile) -> Result<Vec<u8>, AppError> {
    let hashes = s.read_hashes(&t.nodes())?;
    Ok(hashes.concat())
}
