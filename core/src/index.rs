//! The verifiable index: for a key — an artifact, a source tree, a signer, the key
//! registry — the complete, ordered list of log entries about it, with a proof.
//!
//! A transparency log proves that what it shows is in the log; it cannot prove that
//! nothing was left out. Glassbox's verdict depends on absences (no rejecting review,
//! no revocation, no contradicting build), so every entry is also filed, by pure code
//! anyone can rerun, under the keys it is about ([`keys`]), and the map from key to
//! list of log indices is a Merkle prefix trie ([`trie`]) whose root the log commits
//! to. A lookup then has one answer, and a proof ([`proof`]) shows the list is the
//! whole list at that root — or that there is none.
//!
//! The three parts, as `docs/formats/index.md` specifies them for an independent
//! implementation:
//!
//! * [`keys`]: which keys an entry is filed under, and how a key is hashed.
//! * [`list`]: the value under a key — the count of its entries and a hash chain over
//!   their log indices, so one append costs one hash whatever the list's length.
//! * [`trie`] and [`proof`]: the crit-bit Merkle trie over the hashed keys, its root,
//!   and lookup proofs of membership (with the list) and non-membership.
//! * [`commitment`]: the log-signed entry that ends every batch and gives the index
//!   root over every entry before it, so the index is as witnessed as the log.

pub mod commitment;
pub mod keys;
pub mod list;
pub mod proof;
pub mod trie;

pub use commitment::{CommitmentError, IndexCommitment, INDEX_COMMITMENT_V1};
pub use keys::{keys_of, IndexKey};
pub use list::ListHead;
pub use proof::{IndexProof, IndexProofError, Lookup};
pub use trie::{Trie, TrieView};
