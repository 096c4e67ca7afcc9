//! Plain data exchanged with [`Storage`](super::Storage): what the log keeps per
//! entry, checkpoint and key event.

use std::collections::HashMap;

use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, ListHead};
use glassbox_core::statement::Attestation;

use super::{Hash, NodeId};

/// Fixed facts of a log, checked at every start so a data directory is never
/// served under another name or key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogIdentity {
    /// Checkpoint origin line and key name.
    pub origin: String,
    /// The log's C2SP verifier key string.
    pub vkey: String,
}

impl LogIdentity {
    /// The identity from its two stored halves: both or neither, anything else is
    /// a corrupt store.
    pub fn from_stored(
        origin: Option<String>,
        vkey: Option<String>,
    ) -> Result<Option<LogIdentity>, super::StorageError> {
        match (origin, vkey) {
            (Some(origin), Some(vkey)) => Ok(Some(LogIdentity { origin, vkey })),
            (None, None) => Ok(None),
            _ => Err(super::StorageError::Corrupt(
                "log identity is half recorded".into(),
            )),
        }
    }
}

/// Multi-valued, normalised search columns of an entry (lowercase hex for
/// digests, repository URLs as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchTerms {
    /// Artifact SHA-256 digests (lowercase hex, no prefix).
    pub artifacts: Vec<String>,
    /// Source git commit IDs (lowercase hex).
    pub commits: Vec<String>,
    /// Source dirHashes (lowercase hex).
    pub dir_hashes: Vec<String>,
    /// Source repository URLs.
    pub repositories: Vec<String>,
}

/// One logged entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRecord {
    pub index: u64,
    /// The canonical envelope bytes: the Merkle leaf.
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
    /// SHA-256 of the envelope's DSSE PAE (`Envelope::statement_digest`): the
    /// statement's identity, the same for every envelope carrying it whatever its
    /// signatures (docs/formats/attestations.md, "Statement digest").
    pub statement_digest: Hash,
    /// `submission`, `review`, `build` or `key-event`.
    pub kind: String,
    /// When the sequencer integrated the entry, Unix milliseconds.
    pub integrated_at_ms: i64,
    /// Key IDs of every signature (lowercase hex).
    pub signers: Vec<String>,
    pub terms: SearchTerms,
}

/// The statement digest of a stored leaf (canonical DSSE envelope JSON), for
/// migrations that add it to entries logged before it was kept; `index` names
/// the entry when the leaf is not an envelope, which the log never stores.
pub(super) fn statement_digest_of_leaf(
    index: i64,
    leaf: &[u8],
) -> Result<Hash, super::StorageError> {
    glassbox_core::dsse::Envelope::from_json(leaf)
        .map(|e| e.statement_digest())
        .map_err(|e| {
            super::StorageError::Corrupt(format!(
                "entry {index}: the stored leaf is not a DSSE envelope: {e}"
            ))
        })
}

/// The first logged entry carrying a statement, as the sequencer's duplicate
/// check needs it ([`LogStore::find_statements`](super::LogStore::find_statements)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstCopy {
    pub index: u64,
    /// Key IDs of every signature of that entry ([`EntryRecord::signers`]).
    pub signers: Vec<String>,
}

/// One signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub size: u64,
    /// The complete signed note.
    pub note: Vec<u8>,
    /// Unix milliseconds at signing.
    pub created_at_ms: i64,
}

/// A key-registry event, as applied at log position `index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEventRecord {
    pub index: u64,
    /// The participant key the event is about.
    pub key_id: String,
    /// `register` or `revoke`.
    pub action: String,
    /// The event's details as JSON (public key, name, organisation, roles, reason,
    /// compromisedSince), so the registry view need not re-parse the entry.
    pub details: serde_json::Value,
}

/// Everything one sequencing step makes durable at once.
#[derive(Clone, Debug)]
pub struct Batch {
    pub entries: Vec<EntryRecord>,
    /// Nodes that became complete, including the level-0 leaf hashes.
    pub nodes: Vec<(NodeId, Hash)>,
    pub checkpoint: CheckpointRecord,
    pub key_events: Vec<KeyEventRecord>,
    /// The verifiable index's leaves this batch changed, with their values after
    /// it (each key once): stored with the batch, so the stored index always
    /// covers exactly the entries of the latest checkpoint.
    pub index: Vec<IndexLeaf>,
}

/// One leaf of the verifiable index: a hashed index key (`IndexKey::hash`) and
/// the value under it.
pub type IndexLeaf = ([u8; 32], ListHead);

/// The stored index as of one checkpoint ([`LogStore::index_leaves`](super::LogStore::index_leaves)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexSnapshot {
    /// The size of the latest checkpoint when read: the index covers every entry
    /// before it.
    pub size: u64,
    /// The leaves changed by batches that ended after the size asked for, in the
    /// order they were changed: a key may be listed more than once, and its last
    /// listing is its value at `size`.
    pub leaves: Vec<IndexLeaf>,
}

/// Whether cosignature `sig` should replace the stored line `held` of the same
/// witness key on the same checkpoint: when it was made later (a witness asked
/// again about a checkpoint it holds cosigns it afresh). A stored line that does not
/// parse is replaced.
pub(super) fn newer(sig: &glassbox_core::note::NoteSignature, held: &str) -> bool {
    let held_at = glassbox_core::note::NoteSignature::from_line(held)
        .and_then(|s| glassbox_core::cosignature::cosigned_at(&s));
    match (glassbox_core::cosignature::cosigned_at(sig), held_at) {
        (Some(new), Some(old)) => new > old,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// An index leaf as a row of SQLite's schema 6 held it (key, count, head), checked.
pub(super) fn index_leaf(
    (key, count, head): (Vec<u8>, i64, Vec<u8>),
) -> Result<IndexLeaf, super::StorageError> {
    let corrupt = || super::StorageError::Corrupt("a stored index leaf is malformed".into());
    Ok((
        key.try_into().map_err(|_| corrupt())?,
        ListHead {
            count: u64::try_from(count).map_err(|_| corrupt())?,
            head: head.try_into().map_err(|_| corrupt())?,
        },
    ))
}

/// Bytes of one index leaf in a batch's stored record ([`encode_index_leaves`]):
/// the key, the count as a big-endian u64, the chain head.
pub(super) const INDEX_LEAF_BYTES: usize = 32 + 8 + 32;

/// The index leaves one batch changed as the backends store them: one value per
/// batch (not one row per key), each leaf [`INDEX_LEAF_BYTES`] in the order
/// given. docs/formats/index.md, "Serving and storing".
pub(super) fn encode_index_leaves(leaves: &[IndexLeaf]) -> Vec<u8> {
    let mut out = Vec::with_capacity(leaves.len() * INDEX_LEAF_BYTES);
    for (key, value) in leaves {
        out.extend_from_slice(key);
        out.extend_from_slice(&value.count.to_be_bytes());
        out.extend_from_slice(&value.head);
    }
    out
}

/// Appends the leaves of one stored batch record ([`encode_index_leaves`]) to
/// `out`. A record that is not whole leaves, or holds a count of zero, is a
/// corrupt store (`size` names the batch in the error).
pub(super) fn decode_index_leaves(
    size: u64,
    record: &[u8],
    out: &mut Vec<IndexLeaf>,
) -> Result<(), super::StorageError> {
    let corrupt = |why: &str| {
        super::StorageError::Corrupt(format!(
            "the stored index leaves of the batch ending at {size} are malformed: {why}"
        ))
    };
    if !record.len().is_multiple_of(INDEX_LEAF_BYTES) {
        return Err(corrupt("not a whole number of leaves"));
    }
    out.reserve(record.len() / INDEX_LEAF_BYTES);
    for leaf in record.chunks_exact(INDEX_LEAF_BYTES) {
        // Every chunk is INDEX_LEAF_BYTES long: the copies cannot fail.
        let (mut key, mut count, mut head) = ([0; 32], [0; 8], [0; 32]);
        key.copy_from_slice(&leaf[..32]);
        count.copy_from_slice(&leaf[32..40]);
        head.copy_from_slice(&leaf[40..]);
        let count = u64::from_be_bytes(count);
        if count == 0 {
            return Err(corrupt("a key with no entry"));
        }
        out.push((key, ListHead { count, head }));
    }
    Ok(())
}

/// Builds the index leaves of stored entries, for migrations that add the index
/// to a log written before it was kept. Entries are fed in log order.
#[derive(Default)]
pub(super) struct IndexBuilder {
    leaves: HashMap<[u8; 32], ListHead>,
}

impl IndexBuilder {
    /// File entry `index` (its canonical leaf) under its keys. A leaf that is not
    /// an envelope, or not an attestation the log admits, is a corrupt store:
    /// logs written before the index held nothing else.
    pub(super) fn add(&mut self, index: i64, leaf: &[u8]) -> Result<(), super::StorageError> {
        let corrupt = |why: String| {
            super::StorageError::Corrupt(format!(
                "entry {index}: cannot index the stored leaf: {why}"
            ))
        };
        let envelope = Envelope::from_json(leaf).map_err(|e| corrupt(e.to_string()))?;
        let (_, attestation) =
            Attestation::from_envelope(&envelope).map_err(|e| corrupt(e.to_string()))?;
        let position = u64::try_from(index).map_err(|_| corrupt("negative index".into()))?;
        for key in keys_of(&envelope, &attestation) {
            let value = self.leaves.entry(key.hash()).or_insert(ListHead::EMPTY);
            *value = value.push(position);
        }
        Ok(())
    }

    /// The leaves built, in no particular order.
    pub(super) fn finish(self) -> Vec<IndexLeaf> {
        self.leaves.into_iter().collect()
    }
}

/// A search: every `Some` field must match; results ordered by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub artifact: Option<String>,
    pub commit: Option<String>,
    pub dir_hash: Option<String>,
    /// Entries naming any of these repository URLs, spelled exactly as logged
    /// (the caller lists every spelling it accepts). `Some` of none matches nothing.
    pub repositories: Option<Vec<String>>,
    /// Entries any of these keys signed, and the key events about them (the
    /// index's `signer:` keys). `Some` of none matches nothing.
    pub signers: Option<Vec<String>>,
    pub kind: Option<String>,
    /// Integrated at or after, Unix ms.
    pub since_ms: Option<i64>,
    /// Integrated at or before, Unix ms.
    pub until_ms: Option<i64>,
    /// Only entries with index > after.
    pub after: Option<u64>,
    /// Only entries with index < before (the latest checkpoint's size).
    pub before: Option<u64>,
    pub limit: usize,
}

/// Milliseconds in a UTC day (Unix time has no leap seconds).
pub const DAY_MS: i64 = 86_400_000;

/// Entries integrated on one UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayCount {
    /// Days since 1970-01-01 (`integrated_at_ms / DAY_MS`).
    pub day: i64,
    pub entries: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(seed: u8, count: u64) -> IndexLeaf {
        (
            [seed; 32],
            ListHead {
                count,
                head: [seed ^ 0xff; 32],
            },
        )
    }

    #[test]
    fn a_batch_record_reads_back_the_leaves_in_their_order() {
        let leaves = vec![leaf(9, 1), leaf(1, u64::MAX), leaf(5, 300)];
        let record = encode_index_leaves(&leaves);
        assert_eq!(record.len(), 3 * INDEX_LEAF_BYTES);
        // The count is big-endian right after the key.
        assert_eq!(record[32..40], 1u64.to_be_bytes());
        assert_eq!(record[72..104], [1; 32]);
        let mut out = vec![leaf(7, 2)];
        decode_index_leaves(10, &record, &mut out).unwrap();
        assert_eq!(out, [vec![leaf(7, 2)], leaves].concat());
        decode_index_leaves(11, &[], &mut out).unwrap();
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn a_cut_record_or_a_zero_count_is_corrupt() {
        let record = encode_index_leaves(&[leaf(1, 1), leaf(2, 2)]);
        let mut out = Vec::new();
        let cut = decode_index_leaves(40, &record[..record.len() - 1], &mut out).unwrap_err();
        assert!(cut.to_string().contains("batch ending at 40"), "{cut}");
        assert!(cut.to_string().contains("whole number"), "{cut}");
        let zero = encode_index_leaves(&[leaf(3, 0)]);
        let err = decode_index_leaves(41, &zero, &mut out).unwrap_err();
        assert!(err.to_string().contains("no entry"), "{err}");
    }
}
