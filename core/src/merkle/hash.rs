//! The RFC 9162 §2.1.1 hash functions, with domain separation between leaves
//! and interior nodes so that a leaf can never be passed off as a node (the
//! second-preimage defence of RFC 9162 §2.1.1).

use sha2::{Digest, Sha256};

/// A SHA-256 Merkle Tree Hash.
pub type Hash = [u8; 32];

/// Domain-separation prefix of leaf hashes (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of interior-node hashes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// `MTH({d}) = SHA-256(0x00 ‖ d)`: the hash of a one-entry tree, which is also
/// the level-0 node of that entry in every larger tree.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `MTH({}) = SHA-256("")`: the root of the tree with no entries.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}
