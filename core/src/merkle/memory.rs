//! A whole Merkle tree held in memory.

use super::hash::Hash;
use super::node::NodeId;
use super::reader::{HashReadError, HashReader};

/// Every complete-subtree hash of a tree, kept in memory.
///
/// Used where the whole tree is small or already local: tests, the CLI
/// rebuilding a tree from fetched entries, and a verifier cross-checking a
/// log. It stores `2n - popcount(n)` hashes for `n` leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of `NodeId { level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// A tree holding `leaves` (leaf hashes) in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let row = &self.levels[level];
            // A node at an odd position completes its parent.
            if row.len() % 2 == 1 {
                break;
            }
            hash = super::node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
        index
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The root of the whole tree (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        // The root folds, from the smallest up, the last node of every level
        // whose row has odd length: those are the complete subtrees on the
        // right edge (one per set bit of the size).
        let mut root: Option<Hash> = None;
        for row in &self.levels {
            if row.len() % 2 == 1 {
                if let Some(last) = row.last() {
                    root = Some(match root {
                        None => *last,
                        Some(right) => super::node_hash(last, &right),
                    });
                }
            }
        }
        root.unwrap_or_else(super::empty_root)
    }

    /// The hash of `node`, if the tree holds it.
    pub fn node(&self, node: NodeId) -> Option<Hash> {
        let row = self.levels.get(usize::from(node.level))?;
        let index = usize::try_from(node.index).ok()?;
        row.get(index).copied()
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        nodes
            .iter()
            .map(|&node| self.node(node).ok_or(HashReadError::Missing { node }))
            .collect()
    }
}
