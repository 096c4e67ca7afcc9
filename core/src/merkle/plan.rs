//! Which hashes a proof or root needs, computed from sizes alone.
//!
//! RFC 9162 §2.1.3.1 (`PATH`) and §2.1.4.1 (`SUBPROOF`) define proofs
//! recursively over sub-ranges of the leaves. Each proof element is the
//! Merkle Tree Hash of one such range, a [`Span`]. A span whose width is a
//! power of two is a single stored node; otherwise it is the right edge of a
//! tree and its hash is folded from the complete nodes that tile it. Working
//! this out before touching storage lets callers read every needed hash in
//! one batch, and lets tile clients know which tiles to fetch.

use super::error::ProofError;
use super::node::NodeId;

/// The leaves `[start, end)`, a range RFC 9162 §2.1 takes the hash of. The
/// recursion only produces ranges whose start is a multiple of the largest
/// power of two not above their width, so they decompose into aligned
/// complete subtrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The complete subtrees covering this span, left to right (so from the
    /// largest to the smallest).
    pub fn nodes(self) -> Vec<NodeId> {
        let mut nodes = Vec::new();
        let mut pos = self.start;
        let width = self.end - self.start;
        for level in (0..64u8).rev() {
            let size = 1u64 << level;
            if width & size != 0 {
                nodes.push(NodeId::new(level, pos >> level));
                pos += size;
            }
        }
        nodes
    }
}

/// The largest power of two strictly below `n`; `n` must be at least 2
/// (the split point `k` of RFC 9162 §2.1.1).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The spans of `PATH(index, D[0:size])` (RFC 9162 §2.1.3.1), in proof
/// order: from the leaf's sibling up to the child of the root.
pub(crate) fn inclusion_spans(index: u64, size: u64) -> Result<Vec<Span>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut top_down = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            top_down.push(Span {
                start: start + k,
                end: start + n,
            });
            n = k;
        } else {
            top_down.push(Span {
                start,
                end: start + k,
            });
            start += k;
            m -= k;
            n -= k;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// The spans of `PROOF(size1, D[0:size2]) = SUBPROOF(size1, D[0:size2], true)`
/// (RFC 9162 §2.1.4.1), in proof order. Equal sizes give an empty proof; an
/// old size of 0 is refused ([`ProofError::EmptyOldTree`]).
pub(crate) fn consistency_spans(size1: u64, size2: u64) -> Result<Vec<Span>, ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    let mut top_down = Vec::new();
    let (mut start, mut n, mut m, mut whole_old_tree_known) = (0u64, size2, size1, true);
    loop {
        if m == n {
            // SUBPROOF(m, D[m], b): the verifier already knows MTH(D[0:m]) when
            // b is true (it is the old root), so it is sent only when b is false.
            if !whole_old_tree_known {
                top_down.push(Span {
                    start,
                    end: start + n,
                });
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            top_down.push(Span {
                start: start + k,
                end: start + n,
            });
            n = k;
        } else {
            top_down.push(Span {
                start,
                end: start + k,
            });
            start += k;
            m -= k;
            n -= k;
            whole_old_tree_known = false;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// Every stored node [`inclusion_proof`](super::inclusion_proof) reads for
/// this index and size (at most 2·log2(size) nodes), in reading order.
pub fn inclusion_proof_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    Ok(inclusion_spans(index, size)?
        .into_iter()
        .flat_map(Span::nodes)
        .collect())
}

/// Every stored node [`consistency_proof`](super::consistency_proof) reads for
/// these sizes, in reading order.
pub fn consistency_proof_nodes(size1: u64, size2: u64) -> Result<Vec<NodeId>, ProofError> {
    Ok(consistency_spans(size1, size2)?
        .into_iter()
        .flat_map(Span::nodes)
        .collect())
}

/// The complete subtrees whose hashes fold into the root of a tree of `size`
/// leaves, left to right (one per set bit of `size`; none for the empty tree).
pub fn tree_root_nodes(size: u64) -> Vec<NodeId> {
    Span {
        start: 0,
        end: size,
    }
    .nodes()
}
