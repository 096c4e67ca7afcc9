//! Which tiles a tree has, and which tile holds a node.
//!
//! c2sp.org/tlog-tiles: tile `N` at level `L` holds the Merkle nodes of level
//! `8·L` with indices `N·256 .. N·256+255`. A tree of size `s` has
//! `floor(s / 256^L)` nodes at that level, hence `floor(s / 256^(L+1))` full
//! tiles and, when `floor(s / 256^L) mod 256` is not zero, one partial tile of
//! that width.

use std::collections::BTreeSet;

use super::path::Tile;
use super::{MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH};
use crate::merkle::NodeId;

/// Number of Merkle nodes of level `8·level` in a tree of `size` leaves.
fn nodes_at_tile_level(level: u8, size: u64) -> u64 {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    size.checked_shr(shift).unwrap_or(0)
}

/// The width tile `(level, index)` has in a tree of `size` leaves; 0 when the
/// tree has no such tile.
pub(crate) fn width_at(level: u8, index: u64, size: u64) -> u16 {
    let count = nodes_at_tile_level(level, size);
    let full = count / TILE_WIDTH;
    if index < full {
        TILE_WIDTH as u16
    } else if index == full {
        (count % TILE_WIDTH) as u16
    } else {
        0
    }
}

/// Every hash tile of a tree of `size` leaves: the full tiles and the partial
/// ones, level by level. An empty tree has no tiles.
///
/// The list has about `size / 255` entries; a log serving tiles uses
/// [`tiles_changed`] to find what one append touched.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    for level in 0..=MAX_TILE_LEVEL {
        let count = nodes_at_tile_level(level, size);
        if count == 0 {
            break;
        }
        for index in 0..count.div_ceil(TILE_WIDTH) {
            let width = width_at(level, index, size);
            tiles.push(Tile {
                level,
                index,
                width,
            });
        }
    }
    tiles
}

/// The hash tiles of the tree of `new_size` that the tree of `old_size` does
/// not have, or has narrower: exactly what a log must write after growing from
/// `old_size` to `new_size`. Each is listed at its `new_size` width. Level-0
/// tiles in the list name the entry bundles to write as well. Empty when
/// `new_size <= old_size`.
pub fn tiles_changed(old_size: u64, new_size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    if new_size <= old_size {
        return tiles;
    }
    for level in 0..=MAX_TILE_LEVEL {
        let count_new = nodes_at_tile_level(level, new_size);
        if count_new == 0 {
            break;
        }
        let first = nodes_at_tile_level(level, old_size) / TILE_WIDTH;
        for index in first..count_new.div_ceil(TILE_WIDTH) {
            let width = width_at(level, index, new_size);
            if width > width_at(level, index, old_size) {
                tiles.push(Tile {
                    level,
                    index,
                    width,
                });
            }
        }
    }
    tiles
}

/// The tiles, at their width in the tree of `size` leaves, that a
/// [`TileHashReader`](super::TileHashReader) needs to answer `nodes` — e.g.
/// the output of [`crate::merkle::inclusion_proof_nodes`]. A node of level
/// `8·L + r` is computed from `2^r` hashes of one level-`L` tile. Nodes that
/// are not complete in the tree of `size` are skipped: no tile of that tree
/// holds them. Sorted, without duplicates.
pub fn tiles_for_nodes(nodes: &[NodeId], size: u64) -> Vec<Tile> {
    let mut tiles = BTreeSet::new();
    for node in nodes {
        if node.min_tree_size().is_none_or(|min| min > size) {
            continue;
        }
        let level = node.level / TILE_HEIGHT;
        let below = node.level % TILE_HEIGHT;
        let Some(first) = crate::merkle::node::shl_exact(node.index, below) else {
            continue;
        };
        let index = first / TILE_WIDTH;
        let width = width_at(level, index, size);
        if width > 0 {
            tiles.insert(Tile {
                level,
                index,
                width,
            });
        }
    }
    tiles.into_iter().collect()
}

impl Tile {
    /// The Merkle nodes (of level `8·self.level`) this tile holds, in order.
    ///
    /// Tiles above level 31 would hold nodes of level 256 or more, which no
    /// tree with a `u64` size has and [`NodeId`] cannot name; for them, and for
    /// positions whose index would overflow `u64`, nothing is returned.
    pub fn nodes(&self) -> Vec<NodeId> {
        let Some(level) = self.level.checked_mul(TILE_HEIGHT) else {
            return Vec::new();
        };
        let Some(first) = self.index.checked_mul(TILE_WIDTH) else {
            return Vec::new();
        };
        (0..u64::from(self.width))
            .map_while(|i| first.checked_add(i))
            .map(|index| NodeId::new(level, index))
            .collect()
    }
}
