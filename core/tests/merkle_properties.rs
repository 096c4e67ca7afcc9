//! Property tests: generated proofs equal a naive reference implementation of
//! RFC 9162 §2.1 (`MTH`, `PATH`, `SUBPROOF` written as recursive definitions
//! over slices), verify, and stop verifying after any single-bit change.
//!
//! One 65,536-leaf tree is built once; since complete subtrees never change,
//! it serves every tree size up to 65,536. Sizes mix a few large fixed ones
//! (powers of two and their neighbours) with random smaller ones.

use std::sync::OnceLock;

use glassbox_core::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, tree_root,
    verify_consistency, verify_inclusion, Hash, MemoryTree,
};
use proptest::prelude::*;

const MAX: u64 = 65_536;

struct Fixture {
    leaves: Vec<Hash>,
    tree: MemoryTree,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let leaves: Vec<Hash> = (0..MAX).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        Fixture { leaves, tree }
    })
}

/// Reference implementation, straight from the RFC's recursive definitions.
mod reference {
    use super::*;

    /// The largest power of two smaller than `n` (RFC 9162 §2.1.1's `k`).
    pub fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// `MTH(D[n])`, RFC 9162 §2.1.1.
    pub fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split(n);
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    /// `PATH(m, D[n])`, RFC 9162 §2.1.3.1.
    pub fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// `SUBPROOF(m, D[n], b)`, RFC 9162 §2.1.4.1.
    pub fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// The branch sequence `PATH` takes (true = sibling on the left). Two
    /// (index, size) pairs with the same shape are verified by the very same
    /// computation, so an inclusion proof cannot tell them apart.
    pub fn path_shape(m: u64, n: u64) -> Option<Vec<bool>> {
        if m >= n {
            return None;
        }
        let (mut m, mut n, mut shape) = (m, n, vec![]);
        while n > 1 {
            let k = split_u64(n);
            if m < k {
                shape.push(false);
                n = k;
            } else {
                shape.push(true);
                m -= k;
                n -= k;
            }
        }
        Some(shape)
    }

    /// The branch sequence of `SUBPROOF`, plus whether the final subtree is
    /// sent or already known; same role as [`path_shape`].
    pub fn subproof_shape(m: u64, n: u64) -> Option<(Vec<bool>, bool)> {
        if m == 0 || m > n {
            return None;
        }
        let (mut m, mut n, mut b, mut shape) = (m, n, true, vec![]);
        while m != n {
            let k = split_u64(n);
            if m <= k {
                shape.push(false);
                n = k;
            } else {
                shape.push(true);
                m -= k;
                n -= k;
                b = false;
            }
        }
        Some((shape, b))
    }

    fn split_u64(n: u64) -> u64 {
        let mut k = 1u64;
        while k.checked_mul(2).is_some_and(|k2| k2 < n) {
            k *= 2;
        }
        k
    }
}

fn size_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => 1u64..=300,
        2 => 1u64..=MAX,
        1 => prop::sample::select(vec![MAX, MAX - 1, 32_768, 32_769, 65_000]),
    ]
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_proofs_match_reference_verify_and_reject_bit_flips(
        size in size_strategy(),
        index_seed in any::<u64>(),
        hash_bit in 0usize..256,
        number_bit in 0u32..64,
        element_seed in any::<usize>(),
    ) {
        let f = fixture();
        let index = index_seed % size;
        let d = &f.leaves[..size as usize];
        let proof = inclusion_proof(index, size, &f.tree).expect("proof");
        prop_assert_eq!(&proof, &reference::path(index as usize, d));
        let root = tree_root(size, &f.tree).expect("root");
        prop_assert_eq!(root, reference::mth(d));
        let leaf = f.leaves[index as usize];
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));

        if !proof.is_empty() {
            let mut bad = proof.clone();
            let at = element_seed % bad.len();
            bad[at] = flip(&bad[at], hash_bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
        }
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, hash_bit)).is_err());
        prop_assert!(verify_inclusion(&flip(&leaf, hash_bit), index, size, &proof, &root).is_err());

        // A changed index or size must fail unless it leaves the branch
        // sequence unchanged, in which case the proof is the same computation
        // (e.g. leaf 0 of sizes 6 and 7); the signed checkpoint binds the size.
        let own = reference::path_shape(index, size);
        let other_index = index ^ (1 << number_bit);
        let same = reference::path_shape(other_index, size) == own;
        prop_assert!(!same, "two indices share a branch sequence");
        prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());
        let other_size = size ^ (1 << number_bit);
        let result = verify_inclusion(&leaf, index, other_size, &proof, &root);
        prop_assert_eq!(result.is_ok(), reference::path_shape(index, other_size) == own);
    }

    #[test]
    fn consistency_proofs_match_reference_verify_and_reject_bit_flips(
        size2 in size_strategy(),
        size1_seed in any::<u64>(),
        hash_bit in 0usize..256,
        number_bit in 0u32..64,
        element_seed in any::<usize>(),
    ) {
        let f = fixture();
        let size1 = 1 + size1_seed % size2;
        let d = &f.leaves[..size2 as usize];
        let proof = consistency_proof(size1, size2, &f.tree).expect("proof");
        prop_assert_eq!(&proof, &reference::subproof(size1 as usize, d, true));
        let root1 = tree_root(size1, &f.tree).expect("root1");
        let root2 = tree_root(size2, &f.tree).expect("root2");
        prop_assert_eq!(verify_consistency(size1, size2, &proof, &root1, &root2), Ok(()));

        if !proof.is_empty() {
            let mut bad = proof.clone();
            let at = element_seed % bad.len();
            bad[at] = flip(&bad[at], hash_bit);
            prop_assert!(verify_consistency(size1, size2, &bad, &root1, &root2).is_err());
        }
        prop_assert!(verify_consistency(size1, size2, &proof, &flip(&root1, hash_bit), &root2).is_err());
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &flip(&root2, hash_bit)).is_err());

        let own = reference::subproof_shape(size1, size2);
        let other1 = size1 ^ (1 << number_bit);
        let result = verify_consistency(other1, size2, &proof, &root1, &root2);
        prop_assert_eq!(result.is_ok(), reference::subproof_shape(other1, size2) == own);
        let other2 = size2 ^ (1 << number_bit);
        let result = verify_consistency(size1, other2, &proof, &root1, &root2);
        prop_assert_eq!(result.is_ok(), reference::subproof_shape(size1, other2) == own);
    }
}

#[test]
fn inclusion_proof_does_not_bind_the_size_when_the_shape_is_equal() {
    // Documents the RFC 9162 property the bit-flip test allows for: leaf 0's
    // proof in the 6-leaf tree also verifies as a proof in a 7-leaf tree
    // with the same root. Verifiers must take the size from a signed
    // checkpoint, never from the proof's sender alone.
    let f = fixture();
    let proof = inclusion_proof(0, 6, &f.tree).expect("proof");
    let root = tree_root(6, &f.tree).expect("root");
    assert_eq!(verify_inclusion(&f.leaves[0], 0, 7, &proof, &root), Ok(()));
}

#[test]
fn every_proof_in_a_small_tree_matches_the_reference() {
    let f = fixture();
    for size in 1..=40u64 {
        let d = &f.leaves[..size as usize];
        for index in 0..size {
            assert_eq!(
                inclusion_proof(index, size, &f.tree).expect("proof"),
                reference::path(index as usize, d),
                "inclusion {index} of {size}"
            );
        }
        for size1 in 1..=size {
            assert_eq!(
                consistency_proof(size1, size, &f.tree).expect("proof"),
                reference::subproof(size1 as usize, d, true),
                "consistency {size1} to {size}"
            );
        }
    }
}
