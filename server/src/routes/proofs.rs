//! `GET /api/v1/proof/inclusion` and `/api/v1/proof/consistency` between any
//! sizes up to the latest checkpoint (RFC 9162 §2.1.3, §2.1.4).

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::merkle;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::extract::Q;
use crate::receipt::StorageReader;
use crate::state::AppState;
use crate::storage::Storage;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    index: u64,
    size: u64,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// Base64 leaf hash of the entry.
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// Base64 root of the tree of `size` entries.
    pub root: String,
    /// Base64 sibling hashes, leaf to root.
    pub hashes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    from: u64,
    to: u64,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    #[serde(rename = "fromRoot")]
    pub from_root: String,
    #[serde(rename = "toRoot")]
    pub to_root: String,
    pub hashes: Vec<String>,
}

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

fn log_size(s: &dyn Storage) -> Result<u64, AppError> {
    Ok(s.latest_checkpoint()?.map_or(0, |c| c.size))
}

fn check_size(name: &str, size: u64, log: u64) -> Result<(), AppError> {
    if size > log {
        return Err(AppError::BadRequest(format!(
            "{name} {size} exceeds the log's size {log}"
        )));
    }
    Ok(())
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
            check_size("size", p.size, log_size(s)?)?;
            if p.index >= p.size {
                return Err(AppError::BadRequest(format!(
                    "index {} is not below size {}",
                    p.index, p.size
                )));
            }
            let reader = StorageReader(s);
            let hashes = merkle::inclusion_proof(p.index, p.size, &reader).map_err(internal)?;
            let root = merkle::tree_root(p.size, &reader).map_err(internal)?;
            let leaf = s.read_hashes(&[crate::storage::NodeId {
                level: 0,
                index: p.index,
            }])?[0];
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
            check_size("to", p.to, log_size(s)?)?;
            if p.from == 0 || p.from > p.to {
                return Err(AppError::BadRequest(format!(
                    "from must satisfy 1 <= from <= to; got from={} to={}",
                    p.from, p.to
                )));
            }
            let reader = StorageReader(s);
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
