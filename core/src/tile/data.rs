//! The bytes of hash tiles and entry bundles (c2sp.org/tlog-tiles).

use super::path::Tile;
use super::TILE_WIDTH;
use crate::merkle::Hash;

/// Why tile or bundle bytes could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// An entry is longer than the 65,535 bytes a `u16` length prefix can say.
    #[error("entry {index} is {len} bytes, more than the 65535 an entry bundle can hold")]
    EntryTooLarge {
        /// Position of the entry in the bundle.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// A bundle or tile would hold no entries (empty tiles are never served).
    #[error("a tile or entry bundle cannot be empty")]
    Empty,
    /// More than 256 entries or hashes.
    #[error("{count} items is more than the 256 a tile or entry bundle holds")]
    TooManyItems {
        /// How many were given or found.
        count: usize,
    },
    /// A length prefix or entry runs past the end of the bundle.
    #[error("entry bundle is truncated at byte {offset}")]
    TruncatedBundle {
        /// Where the incomplete prefix or entry starts.
        offset: usize,
    },
    /// A tile's width is outside 1..=256.
    #[error("tile width {width} is outside 1..=256")]
    InvalidWidth {
        /// The width.
        width: u16,
    },
    /// Hash tile bytes are not exactly `32 · width` long.
    #[error("hash tile of width {width} must be {} bytes, got {len}", 32 * usize::from(*.width))]
    HashTileLength {
        /// The expected width.
        width: u16,
        /// The length received.
        len: usize,
    },
    /// Two copies of a tile (e.g. a partial one and the full one) disagree on
    /// a hash they both hold: the log served inconsistent data.
    #[error("conflicting contents for tile {tile}")]
    Conflict {
        /// The tile fetched twice.
        tile: Tile,
    },
}

/// Checks a tile width is in 1..=256.
pub(crate) fn check_width(width: u16) -> Result<usize, TileError> {
    if width == 0 || u64::from(width) > TILE_WIDTH {
        return Err(TileError::InvalidWidth { width });
    }
    Ok(usize::from(width))
}

/// An entry bundle: each entry prefixed with its big-endian `u16` length.
/// 1 to 256 entries of at most 65,535 bytes each.
pub fn encode_entry_bundle(entries: &[&[u8]]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() {
        return Err(TileError::Empty);
    }
    if entries.len() as u64 > TILE_WIDTH {
        return Err(TileError::TooManyItems {
            count: entries.len(),
        });
    }
    let total: usize = entries.iter().map(|e| e.len() + 2).sum();
    let mut out = Vec::with_capacity(total);
    for (index, entry) in entries.iter().enumerate() {
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge {
            index,
            len: entry.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of an entry bundle. Fails on a truncated prefix or entry, on
/// an empty bundle and on more than 256 entries. Callers compare the count
/// with the width they asked for: a bundle is only as long as its bytes say.
pub fn decode_entry_bundle(data: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    if data.is_empty() {
        return Err(TileError::Empty);
    }
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let prefix = data
            .get(offset..offset + 2)
            .ok_or(TileError::TruncatedBundle { offset })?;
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let entry = data
            .get(offset + 2..offset + 2 + len)
            .ok_or(TileError::TruncatedBundle { offset })?;
        entries.push(entry.to_vec());
        if entries.len() as u64 > TILE_WIDTH {
            return Err(TileError::TooManyItems {
                count: entries.len(),
            });
        }
        offset += 2 + len;
    }
    Ok(entries)
}

/// The hashes of a hash tile of `width` hashes: exactly `32 · width` bytes.
pub fn decode_hash_tile(data: &[u8], width: u16) -> Result<Vec<Hash>, TileError> {
    let width_usize = check_width(width)?;
    if data.len() != 32 * width_usize {
        return Err(TileError::HashTileLength {
            width,
            len: data.len(),
        });
    }
    Ok(data
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

/// The bytes of a hash tile: its 1 to 256 hashes concatenated.
pub fn encode_hash_tile(hashes: &[Hash]) -> Result<Vec<u8>, TileError> {
    if hashes.is_empty() {
        return Err(TileError::Empty);
    }
    if hashes.len() as u64 > TILE_WIDTH {
        return Err(TileError::TooManyItems {
            count: hashes.len(),
        });
    }
    Ok(hashes.concat())
}
