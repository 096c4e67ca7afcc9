//! Building receipts: an entry, its index and a C2SP tlog-proof against a given
//! signed checkpoint (docs/design.md §5).

use std::cell::RefCell;
use std::collections::HashMap;

use bytes::Bytes;
use glassbox_core::bundle::Receipt;
use glassbox_core::merkle::{self, HashReadError, HashReader};
use glassbox_core::tlog_proof;
use serde::de::IgnoredAny;

use crate::log::error::LogError;
use crate::storage::{CheckpointRecord, Hash, LogStore, NodeId};

/// Hash reads served from `pending` (nodes of a batch not yet committed) first,
/// then from storage.
pub struct OverlayReader<'a> {
    pub pending: &'a HashMap<NodeId, Hash>,
    pub storage: &'a dyn LogStore,
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
    storage: &'a dyn LogStore,
    fetched: RefCell<HashMap<NodeId, Hash>>,
}

impl<'a> BatchReader<'a> {
    pub fn new(pending: &'a HashMap<NodeId, Hash>, storage: &'a dyn LogStore) -> Self {
        BatchReader::with_fetched(pending, storage, HashMap::new())
    }

    /// A reader that already holds `fetched` (from [`into_fetched`](Self::into_fetched)
    /// of an earlier reader over the same storage): for a caller whose `pending`
    /// changes between reads.
    pub fn with_fetched(
        pending: &'a HashMap<NodeId, Hash>,
        storage: &'a dyn LogStore,
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
pub struct StorageReader<'a>(pub &'a dyn LogStore);

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
) -> Result<Receipt, LogError> {
    let entry: serde_json::Value = serde_json::from_slice(leaf).map_err(|e| not_json(index, e))?;
    Ok(Receipt {
        index,
        entry,
        tlog_proof: proof_text(index, checkpoint, reader)?,
    })
}

/// A receipt as the JSON the API answers with (the shape of [`Receipt`]),
/// written once. The stored leaf is canonical JSON already, so it is embedded
/// byte for byte: the entry is not parsed into a tree and written out again, and
/// a client reading `entry` sees exactly the bytes the Merkle leaf hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptJson {
    /// The entry's position in the log.
    pub index: u64,
    /// `{"index", "entry", "tlogProof"}`.
    pub json: Bytes,
}

/// [`make_receipt`] as [`ReceiptJson`].
pub fn receipt_json(
    index: u64,
    leaf: &[u8],
    checkpoint: &CheckpointRecord,
    reader: &impl HashReader,
) -> Result<ReceiptJson, LogError> {
    // Storage holds only leaves the log wrote, but embedding bytes unchecked
    // would turn a damaged row into a malformed answer rather than an error.
    serde_json::from_slice::<IgnoredAny>(leaf).map_err(|e| not_json(index, e))?;
    let proof = proof_text(index, checkpoint, reader)?;
    let mut out = Vec::with_capacity(64 + leaf.len() + proof.len() * 11 / 10);
    out.extend_from_slice(b"{\"index\":");
    out.extend_from_slice(index.to_string().as_bytes());
    out.extend_from_slice(b",\"entry\":");
    out.extend_from_slice(leaf);
    out.extend_from_slice(b",\"tlogProof\":");
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, &proof);
    out.push(b'}');
    Ok(ReceiptJson {
        index,
        json: Bytes::from(out),
    })
}

/// The tlog-proof text of the entry at `index` in `checkpoint`.
fn proof_text(
    index: u64,
    checkpoint: &CheckpointRecord,
    reader: &impl HashReader,
) -> Result<String, LogError> {
    let hashes = merkle::inclusion_proof(index, checkpoint.size, reader).map_err(|source| {
        LogError::InclusionProof {
            index,
            size: checkpoint.size,
            source,
        }
    })?;
    Ok(tlog_proof::proof_text(
        None,
        index,
        &hashes,
        &checkpoint.note,
    ))
}

fn not_json(index: u64, source: serde_json::Error) -> LogError {
    LogError::LeafNotJson { index, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader for a one-entry log, whose inclusion proof is empty.
    struct NoNodes;

    impl HashReader for NoNodes {
        fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
            panic!("a one-entry log needs no nodes, asked for {nodes:?}")
        }
    }

    fn checkpoint() -> CheckpointRecord {
        CheckpointRecord {
            size: 1,
            // Quotes, a backslash and newlines: the proof text must be escaped.
            note: b"origin \"x\\y\"\n1\nAAAA\n\n\xe2\x80\x94 origin sig\n".to_vec(),
            created_at_ms: 0,
        }
    }

    #[test]
    fn the_written_receipt_is_the_receipt_with_the_leaf_verbatim() {
        let leaf = br#"{"payload":"eyJ9","payloadType":"t","signatures":[{"keyid":"k\u00e9","sig":"AA=="}]}"#;
        let written = receipt_json(0, leaf, &checkpoint(), &NoNodes).unwrap();
        assert_eq!(written.index, 0);
        let parsed: Receipt = serde_json::from_slice(&written.json).unwrap();
        assert_eq!(
            parsed,
            make_receipt(0, leaf, &checkpoint(), &NoNodes).unwrap()
        );
        let text = std::str::from_utf8(&written.json).unwrap();
        let embedded = std::str::from_utf8(leaf).unwrap();
        assert!(text.contains(&format!(",\"entry\":{embedded},")), "{text}");
    }

    #[test]
    fn a_damaged_stored_leaf_is_an_error_not_a_malformed_answer() {
        for leaf in [&b"{\"payload\":"[..], b"", b"{} trailing"] {
            match receipt_json(0, leaf, &checkpoint(), &NoNodes) {
                Err(e @ LogError::LeafNotJson { index: 0, .. }) => {
                    assert!(e.to_string().contains("not JSON"), "{e}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
