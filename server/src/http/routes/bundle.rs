//! `GET /api/v1/bundle?artifact=`: everything a verifier needs for one artifact
//! (core::bundle::Bundle, version 2), every proof against one checkpoint.
//!
//! The evidence is every entry the log's index files under the artifact (its
//! builds), with `release=true` under each other subject of those builds (the rest of
//! a release, and their builds), and under each source all those builds name (every submission, review and
//! build of it — builds of other artifacts from the same source let the verifier
//! see a trusted builder who got other bytes from the same source and recipe), and
//! every key event; with, for each of those keys, the index lookup proving the
//! list complete, and the index commitment that ends the checkpoint. Entries and
//! key events are each in strictly increasing log index, once: the verifier counts
//! a statement only at its first position and refuses evidence out of log order
//! as tampered (docs/formats/bundle.md).

use std::collections::BTreeSet;

use axum::extract::State;
use axum::Json;
use glassbox_core::bundle::{Bundle, BundleIndex, BUNDLE_MEDIA_TYPE_V2};
use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::IndexKey;
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::index::{IndexReader, Proven};
use crate::http::state::AppState;
use crate::log::receipt::{make_receipt, StorageReader};
use crate::storage::{CheckpointRecord, Storage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleParams {
    artifact: String,
    /// Also prove the other subjects of the artifact's builds (a release bundle).
    #[serde(default)]
    release: bool,
}

/// Prove the artifact's key, the registry, with `release` the key of every other
/// subject of the artifact's builds (a release attested in one build: one bundle then
/// verifies each of its files) and the key of every source the builds of all those
/// artifacts name, all at one checkpoint. Without `release` a bundle stays the size
/// of one artifact's evidence, however large the release it belongs to. A build logged between two reads may name
/// a subject or source not yet asked for: then everything is proven again, at the
/// newer checkpoint, until nothing new is named. Only the requested artifact's
/// builds add subjects, so the closure is one release wide, not the whole log.
fn prove_closure(
    s: &dyn Storage,
    index: &IndexReader,
    artifact: &Sha256Digest,
    release: bool,
) -> Result<Proven, AppError> {
    let own = IndexKey::Artifact(artifact.hex()).to_string();
    let mut siblings: BTreeSet<String> = BTreeSet::new();
    let mut sources: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut keys = vec![IndexKey::Artifact(artifact.hex()), IndexKey::Registry];
        keys.extend(siblings.iter().cloned().map(IndexKey::Artifact));
        keys.extend(sources.iter().cloned().map(IndexKey::Source));
        let proven = index.prove(s, &keys)?;
        let mut builds = BTreeSet::new();
        let mut named_subjects = BTreeSet::new();
        for lookup in &proven.lookups {
            if lookup.key == own {
                if lookup.indices.is_empty() {
                    return Err(AppError::NotFound(format!(
                        "no build attestation names artifact {artifact}"
                    )));
                }
                if release {
                    for build in s.entries(&lookup.indices)? {
                        named_subjects.extend(build.terms.artifacts.iter().cloned());
                    }
                }
            }
            if lookup.key.starts_with("artifact:") {
                builds.extend(lookup.indices.iter().copied());
            }
        }
        named_subjects.remove(&artifact.hex());
        let builds: Vec<u64> = builds.into_iter().collect();
        let named_sources: BTreeSet<String> = s
            .entries(&builds)?
            .iter()
            .flat_map(|b| b.terms.dir_hashes.iter().cloned())
            .collect();
        if named_subjects.is_subset(&siblings) && named_sources.is_subset(&sources) {
            return Ok(proven);
        }
        siblings.extend(named_subjects);
        sources.extend(named_sources);
    }
}

/// The most entry bytes (entries and key events, as logged) one bundle carries:
/// 32 MiB, about 43 MiB of JSON. An artifact whose evidence is larger is answered
/// `422 answer_too_large` (docs/api.md), having read at most one chunk past it.
pub const MAX_BUNDLE_ENTRY_BYTES: usize = 32 << 20;

/// Entries read from storage at a time while a bundle is made.
const CHUNK: usize = 256;

/// Receipts against `checkpoint` for the entries at `indices`, adding their bytes
/// to `bytes` and refusing once it passes [`MAX_BUNDLE_ENTRY_BYTES`].
fn receipts(
    s: &dyn Storage,
    indices: &BTreeSet<u64>,
    checkpoint: &CheckpointRecord,
    bytes: &mut usize,
) -> Result<Vec<glassbox_core::bundle::Receipt>, AppError> {
    let indices: Vec<u64> = indices.iter().copied().collect();
    let reader = StorageReader(s);
    let mut out = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(CHUNK) {
        let found = s.entries(chunk)?;
        if found.len() != chunk.len() {
            return Err(AppError::Internal(
                "an entry the index lists is missing from storage".into(),
            ));
        }
        *bytes += found.iter().map(|e| e.leaf.len()).sum::<usize>();
        if *bytes > MAX_BUNDLE_ENTRY_BYTES {
            return Err(AppError::AnswerTooLarge(format!(
                "the evidence about this artifact passes {} MiB, the most one bundle carries",
                MAX_BUNDLE_ENTRY_BYTES >> 20
            )));
        }
        for e in &found {
            out.push(make_receipt(e.index, &e.leaf, checkpoint, &reader)?);
        }
    }
    Ok(out)
}

pub async fn bundle(
    State(state): State<AppState>,
    Q(p): Q<BundleParams>,
) -> Result<Json<Bundle>, AppError> {
    let artifact = p
        .artifact
        .parse::<Sha256Digest>()
        .map_err(|e| AppError::BadRequest(format!("artifact: {e}")))?;
    let index = state.index.clone();
    let bundle = state
        .read(move |s| {
            let proven = prove_closure(s, &index, &artifact, p.release)?;
            // The evidence: everything under the artifact and source keys, once, in
            // log order; the key events: everything under the registry key.
            let mut evidence = BTreeSet::new();
            let mut events = BTreeSet::new();
            for lookup in &proven.lookups {
                let into = if lookup.key == IndexKey::Registry.to_string() {
                    &mut events
                } else {
                    &mut evidence
                };
                into.extend(lookup.indices.iter().copied());
            }
            let mut bytes = 0;
            Ok(Bundle {
                media_type: BUNDLE_MEDIA_TYPE_V2.to_string(),
                artifact: artifact.to_string(),
                checkpoint: String::from_utf8_lossy(&proven.checkpoint.note).into_owned(),
                entries: receipts(s, &evidence, &proven.checkpoint, &mut bytes)?,
                key_events: receipts(s, &events, &proven.checkpoint, &mut bytes)?,
                index: Some(BundleIndex {
                    commitment: proven.commitment,
                    lookups: proven.lookups,
                }),
            })
        })
        .await?;
    Ok(Json(bundle))
}
