//! The monitor's position in a log: how far it has read, the right edge of the Merkle
//! tree so far, and the key events it has accepted (to replay the registry).
//!
//! The right edge (the roots of the perfect subtrees of the tree read so far, largest
//! first) is all RFC 9162's tree-hash definition needs to extend the tree with new
//! leaves and compute the new root: recomputing the checkpoint's root from the edge
//! plus the leaves served proves at once that every new entry is in the tree and that
//! the new tree extends the one the monitor had read.

use std::fs;
use std::io;
use std::path::Path;

use glassbox_core::dsse::Envelope;
use glassbox_core::merkle::{empty_root, node_hash, Hash};
use glassbox_core::registry::Registry;
use glassbox_core::statement::Attestation;
use serde::{Deserialize, Serialize};

use crate::state::{write_atomic, StateError};

/// The right edge of a Merkle tree of `size` leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of perfect subtrees, one per set bit of `size`, largest first.
    hashes: Vec<Hash>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf_hash: Hash) {
        let mut hash = leaf_hash;
        let mut size = self.size;
        while size & 1 == 1 {
            // A set low bit means the last subtree is the same height as the new one.
            let Some(left) = self.hashes.pop() else { break };
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// RFC 9162 §2.1.1 root: the subtree roots folded from the right.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }

    fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Frontier> {
        (hashes.len() == size.count_ones() as usize).then_some(Frontier { size, hashes })
    }
}

/// One accepted key event, kept to replay the registry next round.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeptKeyEvent {
    pub index: u64,
    pub entry: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PositionFile {
    origin: String,
    size: u64,
    frontier: Vec<String>,
    key_events: Vec<KeptKeyEvent>,
}

/// Everything the monitor carries from one round to the next.
#[derive(Clone, Debug)]
pub struct Position {
    pub origin: String,
    pub frontier: Frontier,
    pub key_events: Vec<KeptKeyEvent>,
}

impl Position {
    pub fn start(origin: &str) -> Position {
        Position {
            origin: origin.to_owned(),
            frontier: Frontier::default(),
            key_events: Vec::new(),
        }
    }

    pub fn load(path: &Path, origin: &str) -> Result<Position, StateError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Position::start(origin)),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let corrupt = |detail: String| StateError::Corrupt {
            path: path.to_path_buf(),
            detail,
        };
        let file: PositionFile =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if file.origin != origin {
            return Err(corrupt(format!(
                "position of log {:?}, not {origin:?}",
                file.origin
            )));
        }
        let hashes = file
            .frontier
            .iter()
            .map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| corrupt("a frontier hash is not 32 bytes of hex".to_owned()))?;
        let frontier = Frontier::from_parts(file.size, hashes)
            .ok_or_else(|| corrupt("the frontier does not match the size".to_owned()))?;
        Ok(Position {
            origin: file.origin,
            frontier,
            key_events: file.key_events,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let file = PositionFile {
            origin: self.origin.clone(),
            size: self.frontier.size,
            frontier: self.frontier.hashes.iter().map(hex::encode).collect(),
            key_events: self.key_events.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        json.push(b'\n');
        write_atomic(path, &json)
    }

    /// The registry as the kept key events leave it.
    pub fn registry(&self) -> Result<Registry, String> {
        let mut registry = Registry::new();
        for kept in &self.key_events {
            let envelope = Envelope::from_value(&kept.entry).map_err(|e| e.to_string())?;
            let Attestation::KeyEvent(event) = Attestation::from_envelope(&envelope)
                .map_err(|e| e.to_string())?
                .1
            else {
                return Err(format!("kept entry {} is not a key event", kept.index));
            };
            registry
                .apply(kept.index, &envelope, &event)
                .map_err(|e| format!("kept key event {}: {e}", kept.index))?;
        }
        Ok(registry)
    }
}

#[cfg(test)]
mod tests {
    use glassbox_core::merkle::{leaf_hash, MemoryTree};

    use super::*;

    #[test]
    fn frontier_root_matches_the_full_tree_at_every_size() {
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), tree.root());
        for i in 0..70u32 {
            let leaf = leaf_hash(&i.to_be_bytes());
            tree.push(leaf);
            frontier.push(leaf);
            assert_eq!(frontier.root(), tree.root(), "size {}", i + 1);
        }
    }

    #[test]
    fn position_round_trips_through_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        let mut pos = Position::start("o");
        for i in 0..11u8 {
            pos.frontier.push(leaf_hash(&[i]));
        }
        pos.save(&path).expect("save");
        let loaded = Position::load(&path, "o").expect("load");
        assert_eq!(loaded.frontier, pos.frontier);
        assert!(Position::load(&path, "other").is_err());
    }
}
