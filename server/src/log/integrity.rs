//! The start-up integrity check against a compromised host (docs/threat-model.md,
//! "A compromised host"): before serving, the server proves to itself that the
//! stored log is the one its newest checkpoint commits to, so a corrupted,
//! truncated or swapped database is refused instead of being extended into a fork.
//!
//! The check costs O(log n) reads, not a scan: the root is recomputed from the
//! stored complete-subtree hashes exactly as a receipt's proof would be
//! (RFC 9162 §2.1), the newest entry is re-hashed against its stored leaf hash,
//! and the entry count is checked at both ends. Damage deeper in the tree shows
//! up when a proof touching it is served; `glassbox monitor` recomputes
//! everything from the tiles.

use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::merkle::{self, NodeId};
use glassbox_core::note::NoteVerifierKey;

use crate::log::receipt::StorageReader;
use crate::storage::{LogStore, StorageError};

/// What is wrong with the stored log. Every variant refuses the start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    #[error("the database cannot be read (corrupt or truncated file?): {0}")]
    Unreadable(#[from] StorageError),
    #[error(
        "the newest checkpoint (size {size}) does not verify with this server's log key {vkey}: \
         {reason}; the log key (log.pem) or the database was replaced"
    )]
    CheckpointSignature {
        size: u64,
        vkey: String,
        reason: String,
    },
    #[error("the newest checkpoint record says size {record} but its signed text says {signed}")]
    CheckpointSize { record: u64, signed: u64 },
    #[error("the database holds entries but no checkpoint: it is corrupt or was truncated")]
    NoCheckpoint,
    #[error(
        "the newest checkpoint covers {size} entries but entry {index} is missing: \
         the database is truncated or corrupt"
    )]
    MissingEntry { index: u64, size: u64 },
    #[error(
        "entry {index} is stored beyond the newest checkpoint (size {size}): \
         the database was modified outside the server"
    )]
    ExtraEntry { index: u64, size: u64 },
    #[error("entry {index} does not hash to its stored leaf hash: the database is corrupt")]
    LeafMismatch { index: u64 },
    #[error("the stored tree of size {size} is incomplete: {reason}")]
    TreeUnreadable { size: u64, reason: String },
    #[error(
        "the tree recomputed from stored hashes has root {recomputed} at size {size}, \
         but the newest checkpoint signs root {signed}: the database is corrupt"
    )]
    RootMismatch {
        size: u64,
        recomputed: String,
        signed: String,
    },
}

/// Check the newest checkpoint against the stored tree and the log key `log`.
/// Returns the checked size.
pub fn check(storage: &dyn LogStore, log: &NoteVerifierKey) -> Result<u64, IntegrityError> {
    let Some(record) = storage.latest_checkpoint()? else {
        return match storage.entry(0)? {
            Some(_) => Err(IntegrityError::NoCheckpoint),
            None => Ok(0),
        };
    };
    let signed = SignedCheckpoint::open(&record.note, log)
        .map_err(|e| IntegrityError::CheckpointSignature {
            size: record.size,
            vkey: log.to_string(),
            reason: e.to_string(),
        })?
        .checkpoint;
    let size = record.size;
    if signed.size != size {
        return Err(IntegrityError::CheckpointSize {
            record: size,
            signed: signed.size,
        });
    }
    if storage.entry(size)?.is_some() {
        return Err(IntegrityError::ExtraEntry { index: size, size });
    }
    if size == 0 {
        return Ok(0);
    }
    let newest = size - 1;
    let entry = storage.entry(newest)?.ok_or(IntegrityError::MissingEntry {
        index: newest,
        size,
    })?;
    let leaf = merkle::leaf_hash(&entry.leaf);
    let stored = storage.read_hashes(&[NodeId {
        level: 0,
        index: newest,
    }]);
    if leaf != entry.leaf_hash || stored.ok().as_deref() != Some(&[leaf][..]) {
        return Err(IntegrityError::LeafMismatch { index: newest });
    }
    let root = merkle::tree_root(size, &StorageReader(storage)).map_err(|e| {
        IntegrityError::TreeUnreadable {
            size,
            reason: e.to_string(),
        }
    })?;
    if root != signed.root {
        return Err(IntegrityError::RootMismatch {
            size,
            recomputed: hex::encode(root),
            signed: hex::encode(signed.root),
        });
    }
    Ok(size)
}
