//! `GET /api/v1/bundle?artifact=`: everything a verifier needs for one artifact
//! (core::bundle::Bundle), every proof against one checkpoint.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::Json;
use glassbox_core::bundle::{Bundle, BUNDLE_MEDIA_TYPE};
use glassbox_core::digest::Sha256Digest;
use serde::Deserialize;

use crate::error::AppError;
use crate::extract::Q;
use crate::receipt::{make_receipt, StorageReader};
use crate::state::AppState;
use crate::storage::{SearchQuery, Storage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleParams {
    artifact: String,
}

/// Page size for the bundle's internal searches.
const PAGE: usize = 1000;

/// Every entry matching `q` below `size`, paging through storage.
fn all(
    s: &dyn Storage,
    mut q: SearchQuery,
    size: u64,
) -> Result<Vec<crate::storage::EntryRecord>, AppError> {
    q.before = Some(size);
    q.limit = PAGE;
    let mut out = Vec::new();
    loop {
        let page = s.search(&q)?;
        let done = page.len() < PAGE;
        q.after = page.last().map(|e| e.index);
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

pub async fn bundle(
    State(state): State<AppState>,
    Q(p): Q<BundleParams>,
) -> Result<Json<Bundle>, AppError> {
    let artifact = p
        .artifact
        .parse::<Sha256Digest>()
        .map_err(|e| AppError::BadRequest(format!("artifact: {e}")))?;
    let bundle = state
        .read(move |s| {
            // One checkpoint fixes the snapshot: nothing past its size is included.
            let checkpoint = s
                .latest_checkpoint()?
                .ok_or_else(|| AppError::NotFound("the log is empty".into()))?;
            let size = checkpoint.size;
            let builds = all(
                s,
                SearchQuery {
                    artifact: Some(artifact.hex()),
                    kind: Some("build".into()),
                    ..Default::default()
                },
                size,
            )?;
            if builds.is_empty() {
                return Err(AppError::NotFound(format!(
                    "no build attestation names artifact {artifact}"
                )));
            }
            let sources: BTreeSet<String> = builds
                .iter()
                .flat_map(|b| b.terms.dir_hashes.iter().cloned())
                .collect();
            let mut source_entries = BTreeSet::new();
            for dir_hash in &sources {
                for kind in ["source-submission", "source-review"] {
                    let q = SearchQuery {
                        dir_hash: Some(dir_hash.clone()),
                        kind: Some(kind.into()),
                        ..Default::default()
                    };
                    for e in all(s, q, size)? {
                        source_entries.insert(e.index);
                    }
                }
            }
            let reader = StorageReader(s);
            let mut entries = Vec::new();
            for e in &builds {
                entries.push(make_receipt(e.index, &e.leaf, &checkpoint, &reader)?);
            }
            let source_indexes: Vec<u64> = source_entries.into_iter().collect();
            for e in s.entries(&source_indexes)? {
                entries.push(make_receipt(e.index, &e.leaf, &checkpoint, &reader)?);
            }
            let event_indexes: Vec<u64> = s
                .key_events()?
                .into_iter()
                .map(|k| k.index)
                .filter(|&i| i < size)
                .collect();
            let mut key_events = Vec::new();
            for e in s.entries(&event_indexes)? {
                key_events.push(make_receipt(e.index, &e.leaf, &checkpoint, &reader)?);
            }
            Ok(Bundle {
                media_type: BUNDLE_MEDIA_TYPE.to_string(),
                artifact: artifact.to_string(),
                checkpoint: String::from_utf8_lossy(&checkpoint.note).into_owned(),
                entries,
                key_events,
            })
        })
        .await?;
    Ok(Json(bundle))
}
