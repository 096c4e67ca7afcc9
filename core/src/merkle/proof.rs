//! Proof and root generation over a [`HashReader`].
//!
//! Each function computes the nodes it needs from the sizes
//! ([`super::plan`]), reads them in one call, and folds them.

use super::error::ProofError;
use super::hash::{empty_root, node_hash, Hash};
use super::node::NodeId;
use super::plan::{consistency_spans, inclusion_spans, Span};
use super::reader::HashReader;

/// Reads `nodes` and checks the reader kept its side of the contract.
fn read_all(reader: &impl HashReader, nodes: &[NodeId]) -> Result<Vec<Hash>, ProofError> {
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(nodes)?;
    if hashes.len() != nodes.len() {
        return Err(ProofError::ReaderContract {
            requested: nodes.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

/// Folds the hashes of a span's complete subtrees (left to right) into the
/// span's Merkle Tree Hash: the right edge of an RFC 9162 §2.1.1 tree is
/// `node_hash(largest, MTH(rest))`, so fold from the right.
fn fold(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, left| node_hash(left, &acc))
}

/// Reads every span's nodes in one batch and returns one hash per span.
fn span_hashes(spans: &[Span], reader: &impl HashReader) -> Result<Vec<Hash>, ProofError> {
    let per_span: Vec<Vec<NodeId>> = spans.iter().map(|s| s.nodes()).collect();
    let all: Vec<NodeId> = per_span.iter().flatten().copied().collect();
    let hashes = read_all(reader, &all)?;
    let mut out = Vec::with_capacity(spans.len());
    let mut offset = 0;
    for nodes in &per_span {
        out.push(fold(&hashes[offset..offset + nodes.len()]));
        offset += nodes.len();
    }
    Ok(out)
}

/// The nodes that become complete when leaf `index` is appended, with their
/// hashes, in increasing level order (level 0 is `leaf` itself).
///
/// `reader` must hold the tree of size `index` (the tree before this leaf);
/// it is asked for the left siblings along the new leaf's path, one per
/// trailing 1 bit of `index`. The result is what storage must write to hold
/// the tree of size `index + 1`.
pub fn append_hashes(
    index: u64,
    leaf: Hash,
    reader: &impl HashReader,
) -> Result<Vec<(NodeId, Hash)>, ProofError> {
    if index == u64::MAX {
        return Err(ProofError::Overflow);
    }
    // Each trailing 1 bit of `index` is a level at which the new node is a
    // right child whose left sibling is already complete.
    let completed = index.trailing_ones() as u8;
    let siblings: Vec<NodeId> = (0..completed)
        .map(|level| NodeId::new(level, (index >> level) - 1))
        .collect();
    let sibling_hashes = read_all(reader, &siblings)?;
    let mut out = Vec::with_capacity(siblings.len() + 1);
    out.push((NodeId::leaf(index), leaf));
    let mut hash = leaf;
    for (level, sibling) in sibling_hashes.iter().enumerate() {
        hash = node_hash(sibling, &hash);
        let level = level as u8 + 1;
        out.push((NodeId::new(level, index >> level), hash));
    }
    Ok(out)
}

/// The Merkle Tree Hash `MTH(D[0:size])` (RFC 9162 §2.1.1) of the first `size`
/// leaves; the empty tree's root is [`empty_root`].
pub fn tree_root(size: u64, reader: &impl HashReader) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    let root = span_hashes(
        &[Span {
            start: 0,
            end: size,
        }],
        reader,
    )?;
    Ok(root[0])
}

/// The inclusion proof `PATH(index, D[0:size])` of RFC 9162 §2.1.3.1: the
/// sibling hashes from the leaf up to the root, reading O(log size) nodes.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, ProofError> {
    span_hashes(&inclusion_spans(index, size)?, reader)
}

/// The consistency proof `PROOF(size1, D[0:size2])` of RFC 9162 §2.1.4.1,
/// showing that the tree of `size1` leaves is a prefix of the tree of `size2`
/// leaves. Equal sizes give an empty proof; `size1 == 0` is refused as
/// meaningless ([`ProofError::EmptyOldTree`]).
pub fn consistency_proof(
    size1: u64,
    size2: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, ProofError> {
    span_hashes(&consistency_spans(size1, size2)?, reader)
}
