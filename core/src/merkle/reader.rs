//! The one storage interface the Merkle code depends on.

use super::hash::Hash;
use super::node::NodeId;

/// Read access to the complete-subtree hashes of a log's Merkle tree.
///
/// # Contract
///
/// - `read_hashes` returns exactly one hash per requested node, in the order
///   requested (duplicates included), or an error. It never returns a partial
///   answer.
/// - A reader that "holds the tree of size `n`" can answer every node that is
///   complete in that tree, i.e. every `NodeId { level, index }` with
///   `(index + 1) << level <= n`. Because complete subtrees never change when
///   the log grows, a reader holding a larger tree also holds every smaller one.
/// - Asking for a node the reader does not hold is an error
///   ([`HashReadError::Missing`]), never a made-up hash.
/// - Implementations must not retain or reorder the request; the callers in
///   this module make one call per operation with O(log n) nodes, so a database
///   reader should answer it in one round trip.
///
/// Storage back ends map their own failures into [`HashReadError::Storage`];
/// no driver type appears here.
pub trait HashReader {
    /// The hashes of `nodes`, in the same order.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        (**self).read_hashes(nodes)
    }
}

/// Why a [`HashReader`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashReadError {
    /// The reader does not hold this node (the tree it holds is too small, or
    /// the tile or row containing it has not been fetched or written).
    #[error("hash of node level {} index {} is not available", .node.level, .node.index)]
    Missing {
        /// The first node that could not be read.
        node: NodeId,
    },
    /// The storage back end failed; `message` is its description, for logs.
    #[error("hash storage failed: {message}")]
    Storage {
        /// What the back end reported.
        message: String,
    },
}

impl HashReadError {
    /// A back-end failure, described by `err`.
    pub fn storage(err: impl std::fmt::Display) -> Self {
        HashReadError::Storage {
            message: err.to_string(),
        }
    }
}
