//! `GET /api/v1/bundle?artifact=`: everything a verifier needs for one artifact
//! (core::bundle::Bundle), every proof against one checkpoint.
//!
//! The evidence is the builds naming the artifact and, for every source dirHash
//! they name, every submission, review and build naming that dirHash: builds of
//! other artifacts from the same source let the verifier see a trusted builder
//! who got other bytes from the same source and recipe. Entries and key events
//! are each in strictly increasing log index, once: the verifier counts a
//! statement only at its first position and refuses evidence out of log order
//! as tampered (DESIGN §6a; docs/formats/bundle.md).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::Json;
use glassbox_core::bundle::{Bundle, BUNDLE_MEDIA_TYPE};
use glassbox_core::digest::Sha256Digest;
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::state::AppState;
use crate::log::receipt::{make_receipt, StorageReader};
use crate::storage::{EntryRecord, SearchQuery, Storage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleParams {
    artifact: String,
}

/// Page size for the bundle's internal searches.
const PAGE: usize = 1000;

/// Every entry matching `q` below `size`, paging through storage.
fn all(s: &dyn Storage, mut q: SearchQuery, size: u64) -> Result<Vec<EntryRecord>, AppError> {
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
            // Keyed by index: log order, each entry once.
            let mut evidence: BTreeMap<u64, EntryRecord> =
                builds.into_iter().map(|e| (e.index, e)).collect();
            for dir_hash in &sources {
                for kind in ["source-submission", "source-review", "build"] {
                    let q = SearchQuery {
                        dir_hash: Some(dir_hash.clone()),
                        kind: Some(kind.into()),
                        ..Default::default()
                    };
                    for e in all(s, q, size)? {
                        evidence.entry(e.index).or_insert(e);
                    }
                }
            }
            let reader = StorageReader(s);
            let entries = evidence
                .values()
                .map(|e| make_receipt(e.index, &e.leaf, &checkpoint, &reader))
                .collect::<Result<Vec<_>, _>>()?;
            let event_indexes: Vec<u64> = s
                .key_events()?
                .into_iter()
                .map(|k| k.index)
                .filter(|&i| i < size)
                .collect::<BTreeSet<u64>>()
                .into_iter()
                .collect();
            let key_events = s
                .entries(&event_indexes)?
                .iter()
                .map(|e| make_receipt(e.index, &e.leaf, &checkpoint, &reader))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Bundle {
                media_type: BUNDLE_MEDIA_TYPE.to_string(),
                artifact: artifact.to_string(),
                checkpoint: String::from_utf8_lossy(&checkpoint.note).into_owned(),
                entries,
                key_events,
                index: None,
            })
        })
        .await?;
    Ok(Json(bundle))
}
