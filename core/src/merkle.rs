//! RFC 9162 Merkle tree: hashing, proof generation over a storage reader, and
//! proof verification.
//!
//! The log is an append-only Merkle Tree as defined in RFC 9162 §2.1 (the
//! same tree as RFC 6962): leaves are `SHA-256(0x00 ‖ entry)`, interior nodes
//! `SHA-256(0x01 ‖ left ‖ right)`, and the tree over `n` leaves splits at the
//! largest power of two smaller than `n`.
//!
//! Storage is reached only through [`HashReader`], which reads *complete*
//! subtree hashes (nodes named by [`NodeId`]). Every function here that needs
//! stored hashes first works out which nodes it needs — O(log n) of them — and
//! asks the reader for all of them in one call, so a database-backed reader
//! answers a proof with one query and a tile-backed reader with a handful of
//! tiles. Hashes of incomplete subtrees (the right edge of a tree whose size is
//! not a power of two) are never stored; they are folded from the complete
//! subtrees that cover them.

mod error;
mod hash;
mod memory;
pub(crate) mod node;
mod plan;
mod proof;
mod reader;
mod verify;

pub use error::ProofError;
pub use hash::{empty_root, leaf_hash, node_hash, Hash};
pub use memory::MemoryTree;
pub use node::NodeId;
pub use plan::{consistency_proof_nodes, inclusion_proof_nodes, tree_root_nodes};
pub use proof::{append_hashes, consistency_proof, inclusion_proof, tree_root};
pub use reader::{HashReadError, HashReader};
pub use verify::{verify_consistency, verify_inclusion};
