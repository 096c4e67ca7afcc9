//! Building receipts: an entry, its index and a C2SP tlog-proof against a given
//! signed checkpoint (DESIGN §5).

use std::collections::HashMap;

use glassbox_core::bundle::Receipt;
use glassbox_core::merkle::{self, HashReadError, HashReader};
use glassbox_core::tlog_proof::TlogProof;

use crate::error::AppError;
use crate::storage::{CheckpointRecord, Hash, NodeId, Storage};

/// Hash reads served from `pending` (nodes of a batch not yet committed) first,
/// then from storage.
pub struct OverlayReader<'a> {
    pub pending: &'a HashMap<NodeId, Hash>,
    pub storage: &'a dyn Storage,
}

impl HashReader for OverlayReader<'_> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        let missing: Vec<NodeId> = nodes
            .iter()
            .filter(|n| !self.pending.contains_key(n))
            .copied()
            .collect();
        let mut fetched = if missing.is_empty() {
            Vec::new()
        } else {
            self.storage
                .read_hashes(&missing)
                .map_err(HashReadError::storage)?
        }
        .into_iter();
        nodes
            .iter()
            .map(|n| match self.pending.get(n) {
                Some(h) => Ok(*h),
                None => fetched.next().ok_or(HashReadError::Missing { node: *n }),
            })
            .collect()
    }
}

/// Hash reads straight from storage.
pub struct StorageReader<'a>(pub &'a dyn Storage);

impl HashReader for StorageReader<'_> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        self.0.read_hashes(nodes).map_err(HashReadError::storage)
    }
}

/// The receipt for the entry at `index` with leaf bytes `leaf`, proved against
/// `checkpoint` using node hashes from `reader`.
pub fn make_receipt(
    index: u64,
    leaf: &[u8],
    checkpoint: &CheckpointRecord,
    reader: &impl HashReader,
) -> Result<Receipt, AppError> {
    let hashes = merkle::inclusion_proof(index, checkpoint.size, reader).map_err(|e| {
        AppError::Internal(format!(
            "inclusion proof of {index} in {}: {e}",
            checkpoint.size
        ))
    })?;
    let entry: serde_json::Value = serde_json::from_slice(leaf)
        .map_err(|e| AppError::Internal(format!("stored leaf {index} is not JSON: {e}")))?;
    let proof = TlogProof {
        extra: None,
        index,
        hashes,
        checkpoint: checkpoint.note.clone(),
    };
    Ok(Receipt {
        index,
        entry,
        tlog_proof: proof.to_text(),
    })
}
