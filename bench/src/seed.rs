//! Growing a stopped server's log to millions of entries through the storage API
//! (`glassbox_server::storage`), exactly as the sequencer writes a batch: entries,
//! the Merkle nodes they complete, and a checkpoint signed with the log's key — so
//! the server restarts on it, passes its integrity check and serves proofs. Much
//! faster than HTTP, which the ingestion measurement covers separately.
//!
//! Fast enough for 10^7 entries: a producer thread signs envelopes and derives
//! their leaves, leaf hashes and search facts on every core (rayon) while the
//! calling thread writes the previous chunk in one storage transaction; the tree
//! is carried as its right edge ([`Frontier`], O(log n) hashes) instead of a
//! whole in-memory tree rebuilt by reading every stored leaf back.

use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::{keys_of, IndexCommitment, IndexKey, Trie};
use glassbox_core::merkle::{
    append_hashes, leaf_hash, node_hash, Hash, HashReadError, HashReader, NodeId,
};
use glassbox_core::note::NoteSigner;
use glassbox_server::log::admission::facts::{commitment_entry, facts};
use glassbox_server::log::datadir::{DB_FILE, LOG_KEY_FILE};
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord, LogStore};
use rayon::prelude::*;

use crate::envelopes;

/// Entries per storage batch (one transaction, one fsync). Bigger than the
/// sequencer's batches: fewer commits, and a chunk (~2.5 kB per entry, two in
/// memory at once) still fits comfortably in memory.
const CHUNK: u64 = 50_000;

/// Integration time written into seeded entries and checkpoints (2026-01-01).
const SEEDED_AT_MS: i64 = 1_767_225_600_000;

/// The right edge of a Merkle tree of `size` leaves: for each set bit `l` of
/// `size`, the hash of the complete subtree `NodeId { level: l, index: (size >>
/// l) - 1 }`. That is every node [`append_hashes`] asks for, and the root
/// folds from it.
pub struct Frontier {
    size: u64,
    edge: [Hash; 64],
}

impl Frontier {
    /// The right edge of the tree of `size` leaves that `storage` holds.
    pub fn load(storage: &impl LogStore, size: u64) -> Result<Frontier> {
        let levels: Vec<u8> = (0..64u8).filter(|l| size >> l & 1 == 1).collect();
        let nodes: Vec<NodeId> = levels
            .iter()
            .map(|&l| NodeId::new(l, (size >> l) - 1))
            .collect();
        let hashes = storage.read_hashes(&nodes)?;
        let mut edge = [[0u8; 32]; 64];
        for (&l, h) in levels.iter().zip(hashes) {
            edge[usize::from(l)] = h;
        }
        Ok(Frontier { size, edge })
    }

    /// Append `leaf` (a leaf hash): the nodes it completes, as [`append_hashes`].
    pub fn push(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>> {
        let nodes = append_hashes(self.size, leaf, &*self)?;
        // The highest completed node is the new tree's lowest right-edge node;
        // the levels below it are now even and drop off the edge.
        let &(top, hash) = nodes.last().context("append_hashes returned no node")?;
        self.edge[usize::from(top.level)] = hash;
        self.size += 1;
        Ok(nodes)
    }

    /// The root of the tree (RFC 9162 §2.1.1): the right-edge nodes folded from
    /// the smallest up.
    pub fn root(&self) -> Hash {
        let mut root: Option<Hash> = None;
        for l in (0..64).filter(|l| self.size >> l & 1 == 1) {
            let h = self.edge[l];
            root = Some(match root {
                None => h,
                Some(right) => node_hash(&h, &right),
            });
        }
        root.unwrap_or_else(glassbox_core::merkle::empty_root)
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, HashReadError> {
        nodes
            .iter()
            .map(|n| {
                let on_edge = n.level < 64
                    && self.size >> n.level & 1 == 1
                    && n.index == (self.size >> n.level) - 1;
                if on_edge {
                    Ok(self.edge[usize::from(n.level)])
                } else {
                    Err(HashReadError::Missing { node: *n })
                }
            })
            .collect()
    }
}

/// An entry and the (hashed) index keys it is filed under.
type Indexed = (EntryRecord, Vec<[u8; 32]>);

/// Entries `first..first + count`: build attestations signed by `builder`, with
/// their leaves, leaf hashes, search facts and index keys, made on every core.
fn prepare(builder: &SigningKey, first: u64, count: u64) -> Result<Vec<Indexed>> {
    (first..first + count)
        .into_par_iter()
        .map(|index| {
            // Serial numbers far from the ingestion run's, so artifacts never collide.
            let n = 1 << 40 | index;
            let env = envelopes::build(
                builder,
                Sha256Digest::of(&n.to_le_bytes()),
                "https://bench.glassbox.invalid/builder",
                0,
            )?;
            let f = facts(&env).map_err(|e| anyhow!("facts: {e}"))?;
            let keys = keys_of(&env, &f.attestation)
                .iter()
                .map(IndexKey::hash)
                .collect();
            let leaf = env.to_canonical_json();
            let entry = EntryRecord {
                index,
                leaf_hash: leaf_hash(&leaf),
                statement_digest: f.statement_digest,
                leaf,
                kind: f.kind.to_string(),
                integrated_at_ms: SEEDED_AT_MS,
                signers: env.signatures.iter().map(|s| s.keyid.clone()).collect(),
                terms: f.terms,
            };
            Ok((entry, keys))
        })
        .collect()
}

/// Append build entries signed by `builder` (already registered with the builder
/// role) until the log at `data` holds at least `target` entries, each chunk a
/// batch ending with the log's index commitment as the sequencer writes it.
/// Returns the time spent.
pub fn grow(data: &Path, target: u64, builder: &SigningKey) -> Result<Duration> {
    let start = Instant::now();
    let storage = SqliteStorage::open(&data.join(DB_FILE), 1)?;
    let identity = storage
        .identity()?
        .context("the data directory has no log identity; start the server on it once")?;
    let signer = NoteSigner::new(
        &identity.origin,
        glassbox_keys::load_signing_key(&data.join(LOG_KEY_FILE))?,
    )
    .map_err(|e| anyhow!("log key: {e}"))?;
    let from = storage.latest_checkpoint()?.map_or(0, |c| c.size);
    let mut tree = Frontier::load(&storage, from)?;
    let mut index = Trie::new();
    for (key, value) in storage.index_leaves(0)?.leaves {
        index.set(key, value);
    }
    if from >= target {
        return Ok(start.elapsed());
    }
    // The producer prepares the next chunk while this thread writes one; the
    // channel's one slot bounds memory to three chunks.
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<Indexed>>>(1);
    let producer_key = builder.clone();
    let producer = std::thread::spawn(move || {
        let mut first = from;
        while first < target {
            let count = CHUNK.min(target - first);
            let chunk = prepare(&producer_key, first, count);
            let failed = chunk.is_err();
            if tx.send(chunk).is_err() || failed {
                return;
            }
            // Each chunk ends with the log's index commitment.
            first += count + 1;
        }
    });
    // Where the time goes: waiting for the producer vs writing to storage.
    let (mut waiting, mut writing) = (Duration::ZERO, Duration::ZERO);
    let written = (|| -> Result<()> {
        while tree.size < target {
            let t = Instant::now();
            let chunk = rx.recv().context("the seeding producer stopped early")??;
            waiting += t.elapsed();
            let t = Instant::now();
            let mut nodes = Vec::with_capacity(chunk.len() * 2);
            let mut entries = Vec::with_capacity(chunk.len() + 1);
            let mut filed = HashSet::new();
            for (e, keys) in chunk {
                nodes.extend(tree.push(e.leaf_hash)?);
                for key in keys {
                    index.append(key, e.index);
                    filed.insert(key);
                }
                entries.push(e);
            }
            let commitment = commitment(&signer, tree.size, &mut index)?;
            nodes.extend(tree.push(commitment.leaf_hash)?);
            entries.push(commitment);
            let note = Checkpoint {
                origin: identity.origin.clone(),
                size: tree.size,
                root: tree.root(),
                extensions: Vec::new(),
            }
            .sign(&signer)
            .map_err(|e| anyhow!("signing checkpoint: {e}"))?;
            storage.append_batch(&Batch {
                entries,
                nodes,
                checkpoint: CheckpointRecord {
                    size: tree.size,
                    note,
                    created_at_ms: SEEDED_AT_MS,
                },
                key_events: Vec::new(),
                index: filed.into_iter().map(|k| (k, index.get(&k))).collect(),
            })?;
            writing += t.elapsed();
        }
        Ok(())
    })();
    eprintln!(
        "glassbox-bench: seeded {from} → {} entries in {:.1} s ({:.1} s writing to storage, \
         {:.1} s waiting for signed envelopes)",
        tree.size,
        start.elapsed().as_secs_f64(),
        writing.as_secs_f64(),
        waiting.as_secs_f64()
    );
    drop(rx);
    producer
        .join()
        .map_err(|_| anyhow!("the seeding producer panicked"))?;
    written?;
    Ok(start.elapsed())
}

/// The log's index commitment over entries `0 … size−1`, as the entry at `size`.
fn commitment(signer: &NoteSigner, size: u64, index: &mut Trie) -> Result<EntryRecord> {
    let envelope = IndexCommitment {
        origin: signer.name().to_string(),
        size,
        root: index.root(),
        keys: index.len() as u64,
    }
    .sign(signer.ed25519())
    .map_err(|e| anyhow!("signing the index commitment: {e}"))?;
    Ok(commitment_entry(size, &envelope, SEEDED_AT_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use glassbox_core::merkle::MemoryTree;

    /// A frontier that drifted from the real tree would seed a log whose
    /// checkpoints the server's integrity check rejects.
    #[test]
    fn frontier_appends_and_roots_match_a_whole_tree() {
        let mut whole = MemoryTree::new();
        let mut edge = Frontier {
            size: 0,
            edge: [[0u8; 32]; 64],
        };
        assert_eq!(edge.root(), whole.root());
        for i in 0..300u64 {
            let leaf = leaf_hash(&i.to_le_bytes());
            let expected = append_hashes(i, leaf, &whole).unwrap();
            assert_eq!(edge.push(leaf).unwrap(), expected, "leaf {i}");
            whole.push(leaf);
            assert_eq!(edge.root(), whole.root(), "size {}", i + 1);
        }
    }
}
