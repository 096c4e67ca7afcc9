//! `/entry/<index>`: one entry in full — decoded statement, the raw canonical
//! envelope (the Merkle leaf), its inclusion proof against the newest
//! checkpoint — and `/entry/<index>/tlog-proof`, the same proof as a C2SP
//! tlog-proof file to keep and check offline.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::merkle;
use maud::html;

use super::decode::{decode, key_names, signer, summary};
use super::layout::{hex, page, time};
use super::WebPath as P;
use super::{ok, PageResult};
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::log::receipt::{make_receipt, StorageReader};
use crate::storage::{CheckpointRecord, EntryRecord, Storage};

/// The entry at `index` and the newest checkpoint (404 beyond the log).
fn load(s: &dyn Storage, index: u64) -> Result<(EntryRecord, CheckpointRecord), AppError> {
    let checkpoint = match s.latest_checkpoint()? {
        Some(c) if index < c.size => c,
        other => {
            return Err(AppError::NotFound(format!(
                "no entry {index}: the log has {} entries",
                other.map_or(0, |c| c.size)
            )))
        }
    };
    let entry = s.entry(index)?.ok_or_else(|| {
        AppError::Internal(format!("entry {index} below the tree size is missing"))
    })?;
    Ok((entry, checkpoint))
}

fn pretty(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

pub async fn entry(State(state): State<AppState>, P(index): P<u64>) -> PageResult {
    let (record, checkpoint, proof, names) = state
        .read(move |s| {
            let (record, checkpoint) = load(s, index)?;
            let proof = merkle::inclusion_proof(index, checkpoint.size, &StorageReader(s))
                .map_err(|e| AppError::Internal(format!("inclusion proof of {index}: {e}")))?;
            Ok((record, checkpoint, proof, key_names(s)?))
        })
        .await?;
    let signed = SignedCheckpoint::parse_unverified(&checkpoint.note).ok();
    let d = decode(record);
    let statement = d
        .envelope
        .as_ref()
        .map(|e| pretty(&e.payload))
        .unwrap_or_default();
    let body = html! {
        h1 { "Entry " (index) }
        dl {
            dt { "Kind" } dd { (d.record.kind) }
            dt { "Says" } dd { (summary(&d)) }
            dt { "Integrated" } dd { (time(d.record.integrated_at_ms)) " UTC" }
            dt { "Signed by" } dd { @for k in &d.record.signers { (signer(k, &names)) br; } }
            dt { "Leaf hash" } dd { code { (hex(&d.record.leaf_hash)) } }
            @if let Some(st) = &d.statement { dt { "Predicate type" } dd { code { (st.predicate_type) } } }
        }
        p {
            a href={ "/entry/" (index) "/tlog-proof" } download { "Download the tlog-proof file" }
            " · " a href={ "/api/v1/entries/" (index) } { "receipt (JSON)" }
        }
        section aria-labelledby="stmt-h" {
            h2 id="stmt-h" { "Statement (decoded payload)" }
            pre { code { (statement) } }
        }
        section aria-labelledby="env-h" {
            h2 id="env-h" { "Envelope" }
            p { "The log leaf is the RFC 8785 canonical form of this DSSE envelope; "
                "its SHA-256 with a 0x00 prefix is the leaf hash above (RFC 9162 §2.1.1)." }
            pre { code { (pretty(&d.record.leaf)) } }
        }
        section aria-labelledby="proof-h" {
            h2 id="proof-h" { "Inclusion proof" }
            p { "Against the newest checkpoint, tree size " (checkpoint.size) ", signed "
                (time(checkpoint.created_at_ms)) " UTC." }
            dl {
                dt { "Leaf index" } dd { (index) }
                dt { "Tree size" } dd { (checkpoint.size) }
                @if let Some(s) = &signed { dt { "Root hash" } dd { code { (hex(&s.checkpoint.root)) } } }
            }
            @if proof.is_empty() {
                p { "The tree has one leaf: its root is the leaf hash, no proof hashes are needed." }
            } @else {
                ol aria-label="Proof hashes, leaf to root" {
                    @for h in &proof { li { code { (hex(h)) } } }
                }
            }
            details {
                summary { "Checkpoint (signed note)" }
                pre { code { (String::from_utf8_lossy(&checkpoint.note)) } }
            }
        }
    };
    Ok(ok(page(&format!("Entry {index}"), body)))
}

pub async fn tlog_proof(State(state): State<AppState>, P(index): P<u64>) -> PageResult {
    let receipt = state
        .read(move |s| {
            let (record, checkpoint) = load(s, index)?;
            Ok(make_receipt(
                index,
                &record.leaf,
                &checkpoint,
                &StorageReader(s),
            )?)
        })
        .await?;
    let disposition = format!("attachment; filename=\"glassbox-entry-{index}.tlog-proof\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        receipt.tlog_proof,
    )
        .into_response())
}
