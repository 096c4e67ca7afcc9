//! Tile and entry-bundle paths (c2sp.org/tlog-tiles, "Merkle Tree" and "Log
//! entries"), parsed strictly: each resource has exactly one path, so a
//! cache or a filesystem never holds the same tile twice and a server never
//! answers a path no client should ask for.

use std::fmt;

use super::{MAX_TILE_LEVEL, TILE_WIDTH};

/// A hash tile: tile `index` at tile level `level`, holding `width` hashes.
///
/// `width` is 1..=256; 256 is a full tile (served without the `.p/<W>`
/// suffix), anything less a partial tile at the right edge of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level `L`; the tile holds Merkle nodes of level `8·L`.
    pub level: u8,
    /// Position among the tiles of this level.
    pub index: u64,
    /// Number of hashes, 1..=256.
    pub width: u16,
}

/// A resource under `tile/`: a hash tile or an entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hash(Tile),
    /// `tile/entries/<N>[.p/<W>]`: the entries behind level-0 tile `index`.
    Entries {
        /// The bundle index, equal to the matching level-0 tile's index.
        index: u64,
        /// Number of entries, 1..=256.
        width: u16,
    },
}

/// Why a string is not a canonical tile path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// The path does not start with `tile/`, or has empty segments.
    #[error("not a tile path: {path:?}")]
    NotATilePath {
        /// The path as given.
        path: String,
    },
    /// `<L>` is not a decimal 0–63 without leading zeros.
    #[error("tile level {found:?} is not a decimal integer 0-63 without leading zeros")]
    InvalidLevel {
        /// The level segment as given.
        found: String,
    },
    /// The path ends before `<N>`.
    #[error("tile path {path:?} has no tile index")]
    MissingIndex {
        /// The path as given.
        path: String,
    },
    /// An element of `<N>` is not 3 digits, `x`-prefixed on all but the last.
    #[error(
        "tile index element {element:?} is malformed (want 3 digits, x-prefixed except the last)"
    )]
    InvalidIndexElement {
        /// The offending path element.
        element: String,
    },
    /// `<N>` starts with a redundant all-zero element (`x000/...`).
    #[error("tile index has a leading zero element {element:?}")]
    NonCanonicalIndex {
        /// The first element.
        element: String,
    },
    /// `<N>` is larger than any tile of a tree of at most 2^64 - 1 entries.
    #[error("tile index is too large")]
    IndexTooLarge,
    /// `<W>` is not a decimal 1–255 without leading zeros (a full tile is
    /// written without `.p/<W>`).
    #[error("partial tile width {found:?} is not a decimal integer 1-255 without leading zeros")]
    InvalidWidth {
        /// The width segment as given.
        found: String,
    },
    /// A `.p` suffix without a width, or segments after the width.
    #[error("malformed partial-tile suffix in {path:?}")]
    InvalidPartialSuffix {
        /// The path as given.
        path: String,
    },
}

/// Largest tile index: tile `N` covers leaves from `N·256`, which must fit in
/// a `u64`, so `N < 2^56`.
const MAX_TILE_INDEX: u64 = (1u64 << 56) - 1;

impl Tile {
    /// A tile, checking the level (0–63), the index (below 2^56) and the
    /// width (1–256).
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, TilePathError> {
        if level > MAX_TILE_LEVEL {
            return Err(TilePathError::InvalidLevel {
                found: level.to_string(),
            });
        }
        if index > MAX_TILE_INDEX {
            return Err(TilePathError::IndexTooLarge);
        }
        if width == 0 || u64::from(width) > TILE_WIDTH {
            return Err(TilePathError::InvalidWidth {
                found: width.to_string(),
            });
        }
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// Whether this is a full (256-hash) tile.
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The same tile with all 256 hashes.
    pub fn full(self) -> Tile {
        Tile {
            width: TILE_WIDTH as u16,
            ..self
        }
    }
}

impl TilePath {
    /// Parses a path relative to the log prefix, e.g.
    /// `tile/0/x001/x234/067.p/8` or `tile/entries/000`. Only the canonical
    /// form of each resource is accepted.
    pub fn parse(path: &str) -> Result<TilePath, TilePathError> {
        let not_tile = || TilePathError::NotATilePath {
            path: path.to_owned(),
        };
        let rest = path.strip_prefix("tile/").ok_or_else(not_tile)?;
        let mut segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(not_tile());
        }
        let head = segments.remove(0);

        // A partial tile ends in `<last element>.p/<W>`.
        let mut width = TILE_WIDTH as u16;
        let partial_at = segments.iter().position(|s| s.ends_with(".p"));
        if let Some(at) = partial_at {
            if at + 2 != segments.len() {
                return Err(TilePathError::InvalidPartialSuffix {
                    path: path.to_owned(),
                });
            }
            let w = segments.pop().unwrap_or_default();
            width = parse_width(w)?;
            let last = segments.len() - 1;
            segments[last] = segments[last].strip_suffix(".p").unwrap_or_default();
            if segments[last].is_empty() {
                return Err(TilePathError::InvalidPartialSuffix {
                    path: path.to_owned(),
                });
            }
        }
        if segments.is_empty() {
            return Err(TilePathError::MissingIndex {
                path: path.to_owned(),
            });
        }
        let index = parse_index(&segments)?;
        if head == "entries" {
            return Ok(TilePath::Entries { index, width });
        }
        let level = parse_level(head)?;
        Ok(TilePath::Hash(Tile {
            level,
            index,
            width,
        }))
    }
}

/// A decimal with no sign and no leading zeros (a lone `0` is fine).
fn canonical_decimal(s: &str) -> Option<u64> {
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (s.len() > 1 && s.starts_with('0')) || s.len() > 19 {
        return None;
    }
    s.parse().ok()
}

fn parse_level(s: &str) -> Result<u8, TilePathError> {
    match canonical_decimal(s) {
        Some(level) if level <= u64::from(MAX_TILE_LEVEL) => Ok(level as u8),
        _ => Err(TilePathError::InvalidLevel {
            found: s.to_owned(),
        }),
    }
}

fn parse_width(s: &str) -> Result<u16, TilePathError> {
    match canonical_decimal(s) {
        Some(w) if (1..TILE_WIDTH).contains(&w) => Ok(w as u16),
        _ => Err(TilePathError::InvalidWidth {
            found: s.to_owned(),
        }),
    }
}

/// `<N>`: zero-padded 3-digit elements, all but the last prefixed with `x`.
fn parse_index(elements: &[&str]) -> Result<u64, TilePathError> {
    let last = elements.len() - 1;
    let mut index: u64 = 0;
    for (i, element) in elements.iter().enumerate() {
        let digits = if i == last {
            *element
        } else {
            element
                .strip_prefix('x')
                .ok_or_else(|| TilePathError::InvalidIndexElement {
                    element: (*element).to_owned(),
                })?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TilePathError::InvalidIndexElement {
                element: (*element).to_owned(),
            });
        }
        let value: u64 = digits
            .parse()
            .map_err(|_| TilePathError::InvalidIndexElement {
                element: (*element).to_owned(),
            })?;
        if i == 0 && i != last && value == 0 {
            return Err(TilePathError::NonCanonicalIndex {
                element: (*element).to_owned(),
            });
        }
        index = index
            .checked_mul(1000)
            .and_then(|n| n.checked_add(value))
            .ok_or(TilePathError::IndexTooLarge)?;
    }
    if index > MAX_TILE_INDEX {
        return Err(TilePathError::IndexTooLarge);
    }
    Ok(index)
}

/// Writes `<N>[.p/<W>]`.
fn write_index_and_width(f: &mut fmt::Formatter<'_>, index: u64, width: u16) -> fmt::Result {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    for (i, group) in groups.iter().rev().enumerate() {
        if i + 1 == groups.len() {
            write!(f, "{group:03}")?;
        } else {
            write!(f, "x{group:03}/")?;
        }
    }
    if u64::from(width) != TILE_WIDTH {
        write!(f, ".p/{width}")?;
    }
    Ok(())
}

impl fmt::Display for Tile {
    /// `tile/<L>/<N>[.p/<W>]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile/{}/", self.level)?;
        write_index_and_width(f, self.index, self.width)
    }
}

impl fmt::Display for TilePath {
    /// The canonical path, the inverse of [`TilePath::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TilePath::Hash(tile) => tile.fmt(f),
            TilePath::Entries { index, width } => {
                f.write_str("tile/entries/")?;
                write_index_and_width(f, *index, *width)
            }
        }
    }
}

impl std::str::FromStr for TilePath {
    type Err = TilePathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TilePath::parse(s)
    }
}
