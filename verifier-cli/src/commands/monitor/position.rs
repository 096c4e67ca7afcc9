//! The monitor's position in a log: how far it has read, the right edge of the Merkle
//! tree so far, and the key events it has accepted (to replay the registry).
//!
//! The right edge (the roots of the perfect subtrees of the tree read so far, largest
//! first) is all RFC 9162's tree-hash definition needs to extend the tree with new
//! leaves and compute the new root: recomputing the checkpoint's root from the edge
//! plus the leaves served proves at once that every new entry is in the tree and that
//! the new tree extends the one the monitor had read.
//!
//! The position also keeps the log's index as rebuilt from the entries read, to audit
//! the log's index commitments. Its leaves (key, count, head: 72 bytes each) go in a
//! file beside the position named by the size they belong to (`NAME.index-SIZE`),
//! written before the position that names it and removed once a newer one is in
//! place, so a crash between the two writes leaves the previous pair intact.

use std::fs;
use std::io;
use std::path::Path;

use glassbox_core::dsse::Envelope;
use glassbox_core::index::{ListHead, Trie};
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
    /// The log size from which `index` holds every entry (0: from the start).
    /// Absent in positions saved before the monitor kept the index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index_from: Option<u64>,
}

/// Bytes per saved index leaf: key, count, head.
const INDEX_LEAF_BYTES: usize = 32 + 8 + 32;

/// Everything the monitor carries from one round to the next.
#[derive(Clone, Debug)]
pub struct Position {
    pub origin: String,
    pub frontier: Frontier,
    pub key_events: Vec<KeptKeyEvent>,
    /// The log's index, rebuilt from the entries read since `index_from`.
    pub index: Trie,
    /// 0 when `index` holds every entry read; otherwise the size at which this
    /// monitor began keeping it, and commitments cannot be audited.
    pub index_from: u64,
    /// The size of the position on disk (loaded or last saved), whose index file
    /// a save replaces.
    saved_size: Option<u64>,
}

impl Position {
    pub fn start(origin: &str) -> Position {
        Position {
            origin: origin.to_owned(),
            frontier: Frontier::default(),
            key_events: Vec::new(),
            index: Trie::new(),
            index_from: 0,
            saved_size: None,
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
        let (index, index_from) = match file.index_from {
            Some(from) => (load_index(&index_path(path, file.size))?, from),
            // Kept before the monitor rebuilt the index: it starts here.
            None => (Trie::new(), file.size),
        };
        Ok(Position {
            origin: file.origin,
            frontier,
            key_events: file.key_events,
            index,
            index_from,
            saved_size: Some(file.size),
        })
    }

    pub fn save(&mut self, path: &Path) -> Result<(), StateError> {
        let file = PositionFile {
            origin: self.origin.clone(),
            size: self.frontier.size,
            frontier: self.frontier.hashes.iter().map(hex::encode).collect(),
            key_events: self.key_events.clone(),
            index_from: Some(self.index_from),
        };
        let mut leaves = Vec::with_capacity(self.index.len() * INDEX_LEAF_BYTES);
        for (key, value) in self.index.leaves() {
            leaves.extend(key);
            leaves.extend(value.count.to_be_bytes());
            leaves.extend(value.head);
        }
        write_atomic(&index_path(path, self.frontier.size), &leaves)?;
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        json.push(b'\n');
        write_atomic(path, &json)?;
        if let Some(old) = self.saved_size.filter(|&old| old != self.frontier.size) {
            // The position no longer names it; a failure here leaves a stale file only.
            let _ = fs::remove_file(index_path(path, old));
        }
        self.saved_size = Some(self.frontier.size);
        Ok(())
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

/// The index leaves file belonging to the position at `path` of log size `size`.
fn index_path(path: &Path, size: u64) -> std::path::PathBuf {
    path.with_extension(format!("index-{size}"))
}

fn load_index(path: &Path) -> Result<Trie, StateError> {
    let bytes = fs::read(path).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.len() % INDEX_LEAF_BYTES != 0 {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            detail: format!(
                "{} bytes is not a whole number of {INDEX_LEAF_BYTES}-byte index leaves",
                bytes.len()
            ),
        });
    }
    let mut trie = Trie::new();
    for leaf in bytes.chunks_exact(INDEX_LEAF_BYTES) {
        let (key, rest) = leaf.split_at(32);
        let (count, head) = rest.split_at(8);
        let value = ListHead {
            count: u64::from_be_bytes(count.try_into().expect("8 bytes")),
            head: head.try_into().expect("32 bytes"),
        };
        trie.set(key.try_into().expect("32 bytes"), value);
    }
    Ok(trie)
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
        for n in 0..40u64 {
            pos.index.append([n as u8 % 13; 32], n);
        }
        pos.save(&path).expect("save");
        let mut loaded = Position::load(&path, "o").expect("load");
        assert_eq!(loaded.frontier, pos.frontier);
        assert_eq!(loaded.index.root(), pos.index.root());
        assert_eq!(loaded.index_from, 0);
        assert!(Position::load(&path, "other").is_err());

        // The next save replaces the index file of the previous size.
        pos.frontier.push(leaf_hash(b"more"));
        pos.save(&path).expect("save again");
        assert!(!dir.path().join("p.index-11").exists());
        assert!(dir.path().join("p.index-12").exists());

        // A truncated index file is corrupt state, not a silently smaller index.
        let file = dir.path().join("p.index-12");
        let bytes = fs::read(&file).unwrap();
        fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            Position::load(&path, "o"),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_position_saved_before_the_index_audit_starts_its_index_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        fs::write(
            &path,
            r#"{"origin": "o", "size": 1, "frontier": ["0000000000000000000000000000000000000000000000000000000000000000"], "keyEvents": []}"#,
        )
        .unwrap();
        let loaded = Position::load(&path, "o").expect("load");
        assert_eq!(loaded.index_from, 1);
        assert!(loaded.index.is_empty());
    }
}
