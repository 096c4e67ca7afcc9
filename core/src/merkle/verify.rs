//! Proof verification, following the algorithms of RFC 9162 §2.1.3.2
//! (inclusion) and §2.1.4.2 (consistency).
//!
//! Before running the RFC algorithm the proof length is compared with the
//! length the sizes prescribe: a proof is fully determined by its parameters,
//! so a wrong length is rejected with a precise error rather than by a root
//! mismatch. The RFC's own `sn == 0` checks are kept as a second line.

use super::error::ProofError;
use super::hash::{node_hash, Hash};
use super::plan::{consistency_spans, inclusion_spans};

/// Checks that `leaf` (a leaf *hash*) is entry `index` of the tree of `size`
/// leaves whose root is `root`, given the inclusion proof `proof`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let expected = inclusion_spans(index, size)?.len();
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let length_error = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    // fn walks the leaf's position up the tree, sn the last leaf's position;
    // where they coincide the leaf's subtree is the right edge and has no
    // right sibling at that level.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(length_error);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(length_error);
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// Checks that the tree of `size1` leaves with root `root1` is a prefix of the
/// tree of `size2` leaves with root `root2`, given the consistency proof
/// `proof` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. `size1 == 0` is rejected
/// ([`ProofError::EmptyOldTree`]): every tree extends the empty tree, so such
/// a "proof" would accept anything and a caller relying on it has a bug.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    let expected = consistency_spans(size1, size2)?.len();
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if size1 == size2 {
        if root1 != root2 {
            return Err(ProofError::RootMismatch {
                expected: *root2,
                computed: *root1,
            });
        }
        return Ok(());
    }
    let length_error = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    // When size1 is a power of two the old tree is a single node of the new
    // tree, and the RFC prepends the old root to the path instead of sending it.
    let (first, rest) = if size1.is_power_of_two() {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(length_error),
        }
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if snode == 0 {
            return Err(length_error);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(length_error);
    }
    if fr != *root1 {
        return Err(ProofError::OldRootMismatch {
            expected: *root1,
            computed: fr,
        });
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch {
            expected: *root2,
            computed: sr,
        });
    }
    Ok(())
}
