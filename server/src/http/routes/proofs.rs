//! `GET /api/v1/proof/inclusion` and `/api/v1/proof/consistency` between any
//! sizes up to the latest checkpoint (RFC 9162 §2.1.3, §2.1.4).
//!
//! Each proof reads every node it needs with one storage call (served from the
//! node hash cache once warm, storage/cache.rs) and no checkpoint: a tree's root
//! nodes exist in storage only once a checkpoint of at least that size has
//! committed (the storage contract's committed prefix), so reading them proves
//! the size is within the log. Only a failed read asks for the latest checkpoint,
//! to tell a size beyond the log (400) from a storage fault.

use std::cell::Cell;

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::api::{ConsistencyProof, InclusionProof};
use glassbox_core::merkle::{self, HashReadError, HashReader};
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::state::AppState;
use crate::storage::{Hash, NodeId, Storage, StorageError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    index: u64,
    size: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    from: u64,
    to: u64,
}

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

/// Node hashes read with one storage call, handed out to the proof functions in
/// the order they ask (`merkle::*_nodes` list them in reading order).
struct Prefetched {
    nodes: Vec<NodeId>,
    hashes: Vec<Hash>,
    next: Cell<usize>,
}

impl Prefetched {
    /// Read `nodes`; a failure is a size beyond the log (`name` `size`) or a storage fault.
    fn read(
        s: &dyn Storage,
        nodes: Vec<NodeId>,
        name: &str,
        size: u64,
    ) -> Result<Prefetched, AppError> {
        match s.read_hashes(&nodes) {
            Ok(hashes) if hashes.len() == nodes.len() => Ok(Prefetched {
                nodes,
                hashes,
                next: Cell::new(0),
            }),
            Ok(hashes) => Err(AppError::Internal(format!(
                "storage returned {} hashes for {} nodes",
                hashes.len(),
                nodes.len()
            ))),
            Err(e) => Err(beyond_log(s, name, size, e)),
        }
    }
}

impl HashReader for Prefetched {
    fn read_hashes(&self, want: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        let start = self.next.get();
        let end = start + want.len();
        if self.nodes.get(start..end) == Some(want) {
            self.next.set(end);
            return Ok(self.hashes[start..end].to_vec());
        }
        // Asked out of the planned order: still answer from what was read.
        want.iter()
            .map(|n| match self.nodes.iter().position(|m| m == n) {
                Some(i) => Ok(self.hashes[i]),
                None => Err(HashReadError::Missing { node: *n }),
            })
            .collect()
    }
}

/// The answer to a failed node read for a tree of `size`: 400 if the log is
/// smaller, else the storage error itself.
fn beyond_log(s: &dyn Storage, name: &str, size: u64, read: StorageError) -> AppError {
    match s.latest_checkpoint() {
        Ok(latest) => {
            let log = latest.map_or(0, |c| c.size);
            if size > log {
                AppError::BadRequest(format!("{name} {size} exceeds the log's size {log}"))
            } else {
                read.into()
            }
        }
        Err(e) => e.into(),
    }
}

fn internal(e: merkle::ProofError) -> AppError {
    AppError::Internal(format!("proof: {e}"))
}

pub async fn inclusion(
    State(state): State<AppState>,
    Q(p): Q<InclusionParams>,
) -> Result<Json<InclusionProof>, AppError> {
    let proof = state
        .read(move |s| {
            if p.index >= p.size {
                // Sizes beyond the log are refused first, as they always were.
                let log = s.latest_checkpoint()?.map_or(0, |c| c.size);
                return Err(AppError::BadRequest(if p.size > log {
                    format!("size {} exceeds the log's size {log}", p.size)
                } else {
                    format!("index {} is not below size {}", p.index, p.size)
                }));
            }
            let mut nodes = merkle::inclusion_proof_nodes(p.index, p.size).map_err(internal)?;
            nodes.extend(merkle::tree_root_nodes(p.size));
            nodes.push(NodeId::leaf(p.index));
            let reader = Prefetched::read(s, nodes, "size", p.size)?;
            let hashes = merkle::inclusion_proof(p.index, p.size, &reader).map_err(internal)?;
            let root = merkle::tree_root(p.size, &reader).map_err(internal)?;
            let leaf = reader.hashes.last().copied().unwrap_or_default();
            Ok(InclusionProof {
                index: p.index,
                size: p.size,
                leaf_hash: STANDARD.encode(leaf),
                root: STANDARD.encode(root),
                hashes: b64(&hashes),
            })
        })
        .await?;
    Ok(Json(proof))
}

pub async fn consistency(
    State(state): State<AppState>,
    Q(p): Q<ConsistencyParams>,
) -> Result<Json<ConsistencyProof>, AppError> {
    let proof = state
        .read(move |s| {
            if p.from == 0 || p.from > p.to {
                let log = s.latest_checkpoint()?.map_or(0, |c| c.size);
                return Err(AppError::BadRequest(if p.to > log {
                    format!("to {} exceeds the log's size {log}", p.to)
                } else {
                    format!(
                        "from must satisfy 1 <= from <= to; got from={} to={}",
                        p.from, p.to
                    )
                }));
            }
            let mut nodes = merkle::consistency_proof_nodes(p.from, p.to).map_err(internal)?;
            nodes.extend(merkle::tree_root_nodes(p.from));
            nodes.extend(merkle::tree_root_nodes(p.to));
            let reader = Prefetched::read(s, nodes, "to", p.to)?;
            let hashes = merkle::consistency_proof(p.from, p.to, &reader).map_err(internal)?;
            Ok(ConsistencyProof {
                from: p.from,
                to: p.to,
                from_root: STANDARD.encode(merkle::tree_root(p.from, &reader).map_err(internal)?),
                to_root: STANDARD.encode(merkle::tree_root(p.to, &reader).map_err(internal)?),
                hashes: b64(&hashes),
            })
        })
        .await?;
    Ok(Json(proof))
}
