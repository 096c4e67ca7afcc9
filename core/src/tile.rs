//! C2SP tlog-tiles: the Merkle tree and the entries served as static,
//! immutable, cacheable resources.
//!
//! A *tile* is a run of up to 256 consecutive hashes at one tree height: tile
//! level `L` holds Merkle nodes of level `8·L` (c2sp.org/tlog-tiles, "Merkle
//! Tree"). Level 0 tiles hold leaf hashes; each hash of a level-`L` tile is
//! the root of a full tile at level `L-1`. The 7 Merkle levels between two
//! tile levels are not served: they are recomputed from the tile below, which
//! [`TileHashReader`] does so that a client holding fetched tiles can compute
//! any root or proof with [`crate::merkle`].
//!
//! Entry bundles (`tile/entries/<N>`) hold the entries whose leaf hashes form
//! level-0 tile `N`, each prefixed with its big-endian `u16` length.

mod data;
mod math;
mod path;
mod reader;

pub use data::{
    decode_entry_bundle, decode_hash_tile, encode_entry_bundle, encode_hash_tile, TileError,
};
pub use math::{tiles_changed, tiles_for_nodes, tiles_for_size};
pub use path::{Tile, TilePath, TilePathError};
pub use reader::TileHashReader;

/// Merkle levels per tile (c2sp.org/tlog-tiles fixes this at 8).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, and entries in a full entry bundle.
pub const TILE_WIDTH: u64 = 256;
/// Highest tile level a path may name (c2sp.org/tlog-tiles: `<L>` is 0–63).
pub const MAX_TILE_LEVEL: u8 = 63;
