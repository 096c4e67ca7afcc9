//! Building receipts: an entry, its index and a C2SP tlog-proof against a given
//! signed checkpoint (DESIGN §5).

use std::cell::RefCell;
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

/// [`OverlayReader`] for the sequencer: nodes read from storage are kept for the reader's
/// lifetime: the proofs of one batch's receipts (and the appends of its leaves)
/// share most of their nodes, so each is read once per batch, not once per entry.
pub struct BatchReader<'a> {
    pending: &'a HashMap<NodeId, Hash>,
    storage: &'a dyn Storage,
    fetched: RefCell<HashMap<NodeId, Hash>>,
}

impl<'a> BatchReader<'a> {
    pub fn new(pending: &'a HashMap<NodeId, Hash>, storage: &'a dyn Storage) -> Self {
        BatchReader::with_fetched(pending, storage, HashMap::new())
    }

    /// A reader that already holds `fetched` (from [`into_fetched`](Self::into_fetched)
    /// of an earlier reader over the same storage): for a caller whose `pending`
    /// changes between reads.
    pub fn with_fetched(
        pending: &'a HashMap<NodeId, Hash>,
        storage: &'a dyn Storage,
        fetched: HashMap<NodeId, Hash>,
    ) -> Self {
        BatchReader {
            pending,
            storage,
            fetched: RefCell::new(fetched),
        }
    }

    /// The nodes this reader read from storage.
    pub fn into_fetched(self) -> HashMap<NodeId, Hash> {
        self.fetched.into_inner()
    }

    fn known(&self, node: &NodeId) -> Option<Hash> {
        match self.pending.get(node) {
            Some(h) => Some(*h),
            None => self.fetched.borrow().get(node).copied(),
        }
    }
}

impl HashReader for BatchReader<'_> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        let missing: Vec<NodeId> = nodes
            .iter()
            .filter(|n| self.known(n).is_none())
            .copied()
            .collect();
        if !missing.is_empty() {
            let hashes = self
                .storage
                .read_hashes(&missing)
                .map_err(HashReadError::storage)?;
            self.fetched
                .borrow_mut()
                .extend(missing.into_iter().zip(hashes));
        }
        nodes
            .iter()
            .map(|n| self.known(n).ok_or(HashReadError::Missing { node: *n }))
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
