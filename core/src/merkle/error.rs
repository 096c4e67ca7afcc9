//! Errors of proof generation and verification.

use super::hash::Hash;
use super::reader::HashReadError;

/// Why a proof could not be generated or did not verify.
///
/// Verification failures name the check that failed so that a verifier can
/// say precisely why it rejected a log's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`).
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("tree size {size1} is larger than tree size {size2}")]
    SizesOutOfOrder {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// A consistency proof from the empty tree proves nothing (every tree
    /// extends it), so it is refused rather than silently accepted.
    #[error("consistency from the empty tree is meaningless")]
    EmptyOldTree,
    /// The proof has the wrong number of hashes for these sizes: a proof is
    /// fully determined by its index and sizes, so any other length is forged
    /// or truncated.
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongProofLength {
        /// The length RFC 9162 prescribes for these parameters.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// The root recomputed from the proof differs from the claimed root (for a
    /// consistency proof: the newer root).
    #[error("computed root {} does not match expected root {}", hex::encode(.computed), hex::encode(.expected))]
    RootMismatch {
        /// The root the proof was checked against.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// The older root recomputed from a consistency proof differs from the
    /// claimed older root.
    #[error("computed old root {} does not match expected old root {}", hex::encode(.computed), hex::encode(.expected))]
    OldRootMismatch {
        /// The older root the proof was checked against.
        expected: Hash,
        /// The older root the proof leads to.
        computed: Hash,
    },
    /// The reader returned a different number of hashes than were asked for,
    /// breaking the [`HashReader`](super::HashReader) contract.
    #[error("hash reader returned {returned} hashes for {requested} nodes")]
    ReaderContract {
        /// Nodes requested.
        requested: usize,
        /// Hashes returned.
        returned: usize,
    },
    /// A size or index is too large for the arithmetic (beyond `u64`).
    #[error("tree size or index overflows u64")]
    Overflow,
    /// Storage could not supply a hash.
    #[error(transparent)]
    Read(#[from] HashReadError),
}
