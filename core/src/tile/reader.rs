//! Computing Merkle hashes from fetched tiles.

use std::collections::HashMap;

use super::data::{check_width, decode_hash_tile, TileError};
use super::path::Tile;
use super::{TILE_HEIGHT, TILE_WIDTH};
use crate::merkle::node::shl_exact;
use crate::merkle::{node_hash, Hash, HashReadError, HashReader, NodeId};

/// A [`HashReader`] over hash tiles a client has fetched, so that a verifier
/// or monitor can compute roots and proofs with [`crate::merkle`] from a
/// tlog-tiles log.
///
/// Nodes at levels that are multiples of 8 are read straight from a tile;
/// the nodes in between are recomputed by hashing up to 128 hashes of the
/// tile below (c2sp.org/tlog-tiles: "the Merkle Tree levels between those
/// expressed by the tile hashes are reconstructed by hashing the leaves").
/// Use [`tiles_for_nodes`](super::tiles_for_nodes) to learn which tiles to
/// fetch. A partial tile and the same tile at a larger width may both be
/// inserted; the widest is kept after checking they agree.
///
/// The reader trusts tile contents: a wrong tile yields wrong hashes, which
/// verification against a signed root then rejects.
#[derive(Clone, Debug, Default)]
pub struct TileHashReader {
    tiles: HashMap<(u8, u64), Vec<Hash>>,
}

impl TileHashReader {
    /// A reader holding no tiles.
    pub fn new() -> Self {
        TileHashReader::default()
    }

    /// Adds a fetched tile from its bytes.
    pub fn insert(&mut self, tile: Tile, data: &[u8]) -> Result<(), TileError> {
        let hashes = decode_hash_tile(data, tile.width)?;
        self.insert_hashes(tile, hashes)
    }

    /// Adds a tile from its decoded hashes (`tile.width` of them).
    pub fn insert_hashes(&mut self, tile: Tile, hashes: Vec<Hash>) -> Result<(), TileError> {
        let width = check_width(tile.width)?;
        if hashes.len() != width {
            return Err(TileError::HashTileLength {
                width: tile.width,
                len: hashes.len() * 32,
            });
        }
        let slot = self.tiles.entry((tile.level, tile.index)).or_default();
        let common = slot.len().min(hashes.len());
        if slot[..common] != hashes[..common] {
            return Err(TileError::Conflict { tile });
        }
        if hashes.len() > slot.len() {
            *slot = hashes;
        }
        Ok(())
    }

    /// The hash of `node`, if the tiles held can produce it.
    fn node(&self, node: NodeId) -> Option<Hash> {
        let tile_level = node.level / TILE_HEIGHT;
        let below = node.level % TILE_HEIGHT;
        let first = shl_exact(node.index, below)?;
        let tile = self.tiles.get(&(tile_level, first / TILE_WIDTH))?;
        let start = usize::try_from(first % TILE_WIDTH).ok()?;
        let mut row: Vec<Hash> = tile.get(start..start + (1usize << below))?.to_vec();
        while row.len() > 1 {
            row = row
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
        }
        row.first().copied()
    }
}

impl HashReader for TileHashReader {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        nodes
            .iter()
            .map(|&node| self.node(node).ok_or(HashReadError::Missing { node }))
            .collect()
    }
}
