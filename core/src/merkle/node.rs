//! Names of complete subtrees, the only hashes storage ever holds.

/// The hash of the complete subtree of `2^level` leaves starting at leaf
/// `index << level`.
///
/// Level 0 nodes are leaf hashes; node `(l, i)` is
/// `node_hash((l-1, 2i), (l-1, 2i+1))`. A node is part of the tree of size `n`
/// exactly when `(index + 1) << level <= n`, and once it exists it never
/// changes: appending only creates nodes, which is what makes the log
/// append-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; the subtree covers `2^level` leaves.
    pub level: u8,
    /// Position among the nodes of this level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The level-0 node of leaf `index`.
    pub const fn leaf(index: u64) -> Self {
        NodeId { level: 0, index }
    }

    /// The first leaf this node covers, or `None` when that index does not fit
    /// in a `u64` (such a node belongs to no representable tree).
    pub fn first_leaf(&self) -> Option<u64> {
        shl_exact(self.index, self.level)
    }

    /// The smallest tree size that contains this node, or `None` when it is
    /// larger than `u64::MAX`.
    pub fn min_tree_size(&self) -> Option<u64> {
        let end = self.index.checked_add(1)?;
        shl_exact(end, self.level)
    }
}

/// `value << shift`, or `None` if any set bit would be shifted out.
pub(crate) fn shl_exact(value: u64, shift: u8) -> Option<u64> {
    if shift >= 64 {
        return if value == 0 { Some(0) } else { None };
    }
    if value.leading_zeros() < u32::from(shift) {
        return None;
    }
    Some(value << shift)
}
