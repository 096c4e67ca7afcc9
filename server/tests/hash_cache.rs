//! The node hash cache (server/src/storage/cache.rs): it answers exactly what the
//! storage under it answers, keeps nothing of a failed batch, and stays within
//! its memory bound.

use std::collections::HashMap;
use std::sync::Arc;

use glassbox_core::merkle::{self, Hash, MemoryTree, NodeId};
use glassbox_server::log::receipt::{OverlayReader, StorageReader};
use glassbox_server::storage::cache::{CachedStorage, TILE_BYTES};
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::{
    Batch, CheckpointRecord, EntryRecord, LogStore, SearchTerms, Storage,
};

/// Appends batches of plain entries through `store` the way the sequencer does
/// (sibling reads through an overlay of the batch's own nodes), mirrored in a
/// MemoryTree.
struct Log {
    store: Arc<dyn Storage>,
    tree: MemoryTree,
}

impl Log {
    fn new(store: Arc<dyn Storage>) -> Log {
        Log {
            store,
            tree: MemoryTree::new(),
        }
    }

    fn batch(&self, count: u64) -> (Batch, MemoryTree) {
        let mut tree = self.tree.clone();
        let mut pending: HashMap<NodeId, Hash> = HashMap::new();
        let mut entries = Vec::new();
        let mut nodes = Vec::new();
        for _ in 0..count {
            let index = tree.size();
            let leaf = format!("{{\"leaf\":{index}}}").into_bytes();
            let leaf_hash = merkle::leaf_hash(&leaf);
            let reader = OverlayReader {
                pending: &pending,
                storage: self.store.as_ref(),
            };
            for (node, hash) in merkle::append_hashes(index, leaf_hash, &reader).unwrap() {
                pending.insert(node, hash);
                nodes.push((node, hash));
            }
            tree.push(leaf_hash);
            entries.push(EntryRecord {
                index,
                // Any value: the cache passes statements through.
                statement_digest: merkle::leaf_hash(index.to_string().as_bytes()),
                leaf,
                leaf_hash,
                kind: "build".into(),
                integrated_at_ms: 0,
                signers: Vec::new(),
                terms: SearchTerms::default(),
            });
        }
        let checkpoint = CheckpointRecord {
            size: tree.size(),
            note: format!("test\n{}\n", tree.size()).into_bytes(),
            created_at_ms: 0,
        };
        let batch = Batch {
            entries,
            nodes,
            checkpoint,
            key_events: Vec::new(),
            index: Vec::new(),
        };
        (batch, tree)
    }

    fn append(&mut self, count: u64) -> Result<Batch, glassbox_server::storage::StorageError> {
        let (batch, tree) = self.batch(count);
        self.store.append_batch(&batch)?;
        self.tree = tree;
        Ok(batch)
    }
}

fn cached(inner: &Arc<MemoryStorage>, bytes: usize) -> Arc<CachedStorage> {
    Arc::new(CachedStorage::new(inner.clone(), bytes))
}

#[test]
fn failed_append_leaves_none_of_its_nodes_in_the_cache() {
    let inner = Arc::new(MemoryStorage::new());
    let cache = cached(&inner, 1 << 20);
    let mut log = Log::new(cache.clone());
    log.append(300).unwrap();
    // The right edge is cached from the committed batch.
    assert!(cache.is_cached(NodeId::leaf(299)));
    assert!(cache.is_cached(NodeId::new(8, 0)));

    inner.fail_next_appends(1);
    let failed = log.append(250).unwrap_err();
    assert!(failed.to_string().contains("injected"));
    let (batch, _) = log.batch(250);
    for (node, _) in &batch.nodes {
        assert!(
            !cache.is_cached(*node),
            "{node:?} of the failed batch is cached"
        );
        assert!(cache.read_hashes(&[*node]).is_err(), "{node:?} is readable");
    }
    // The same batch, committed, is served from memory.
    let committed = log.append(250).unwrap();
    for (node, hash) in &committed.nodes {
        assert!(cache.is_cached(*node), "{node:?} of the committed batch");
        assert_eq!(cache.read_hashes(&[*node]).unwrap(), vec![*hash]);
    }
}

#[test]
fn cache_stays_within_its_byte_bound() {
    let inner = Arc::new(MemoryStorage::new());
    let bound = 5 * TILE_BYTES;
    let cache = cached(&inner, bound);
    let mut log = Log::new(cache.clone());
    for round in 0..40u64 {
        log.append(97 + round * 13).unwrap();
        assert!(cache.cached_bytes() <= bound, "after append {round}");
        let size = log.tree.size();
        for k in 0..20u64 {
            let index = (k * 7919 + round * 104_729) % size;
            let proof = merkle::inclusion_proof(index, size, &StorageReader(cache.as_ref()));
            assert_eq!(
                proof.unwrap(),
                merkle::inclusion_proof(index, size, &log.tree).unwrap()
            );
            assert!(cache.cached_bytes() <= bound, "after proof {round}/{k}");
        }
    }
    assert!(cache.cached_bytes() > 0);
    // A bound below one tile caches nothing, and still answers.
    let tiny = cached(&inner, TILE_BYTES - 1);
    let size = log.tree.size();
    assert_eq!(
        merkle::tree_root(size, &StorageReader(tiny.as_ref())).unwrap(),
        log.tree.root()
    );
    assert_eq!(tiny.cached_bytes(), 0);
}

/// Every proof and root from the cache equals the one from the storage under it,
/// for sizes around tile boundaries up to a tree with level-2 tiles, read warm
/// (the cache that appended), cold (a fresh cache) and through eviction.
#[test]
fn cached_proofs_equal_inner_proofs_for_many_sizes() {
    let inner = Arc::new(MemoryStorage::new());
    let warm = cached(&inner, 64 << 20);
    let mut log = Log::new(warm.clone());
    let mut sizes = Vec::new();
    for count in [
        1,
        1,
        2,
        60,
        192,
        1,
        255,
        2,
        511,
        1024,
        3000,
        65_536 - 5055,
        7,
        4096,
    ] {
        log.append(count).unwrap();
        sizes.push(log.tree.size());
    }
    let newest = log.tree.size();
    assert!(newest > 65_536, "reaches level-2 tiles");
    sizes.extend([3, 255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537]);
    let cold = cached(&inner, 64 << 20);
    let evicting = cached(&inner, 3 * TILE_BYTES);
    let plain = StorageReader(inner.as_ref());
    for store in [&warm, &cold, &evicting] {
        let reader = StorageReader(store.as_ref());
        for &size in &sizes {
            assert_eq!(
                merkle::tree_root(size, &reader).unwrap(),
                merkle::tree_root(size, &plain).unwrap(),
                "root {size}"
            );
            assert_eq!(
                merkle::consistency_proof(size, newest, &reader).unwrap(),
                merkle::consistency_proof(size, newest, &plain).unwrap(),
                "consistency {size} -> {newest}"
            );
            for index in [0, 1, size / 3, size / 2, size - 1]
                .into_iter()
                .filter(|&i| i < size)
            {
                assert_eq!(
                    merkle::inclusion_proof(index, size, &reader).unwrap(),
                    merkle::inclusion_proof(index, size, &plain).unwrap(),
                    "inclusion {index} in {size}"
                );
            }
        }
        // A whole tile of each level in one read, and the nodes past the tree refused.
        let tile: Vec<NodeId> = (256..512).map(NodeId::leaf).collect();
        assert_eq!(
            store.read_hashes(&tile).unwrap(),
            inner.read_hashes(&tile).unwrap()
        );
        let level1: Vec<NodeId> = (0..256).map(|i| NodeId::new(8, i)).collect();
        assert_eq!(
            store.read_hashes(&level1).unwrap(),
            inner.read_hashes(&level1).unwrap()
        );
        assert!(store.read_hashes(&[NodeId::leaf(newest)]).is_err());
        assert!(store.read_hashes(&[NodeId::new(63, 1)]).is_err());
        assert!(store.read_hashes(&[NodeId::new(3, u64::MAX)]).is_err());
    }
}

#[test]
fn appends_after_another_writer_do_not_leave_gaps_in_the_cache() {
    // Two caches on one storage, as two nodes on one PostgreSQL database.
    let inner = Arc::new(MemoryStorage::new());
    let a = cached(&inner, 1 << 20);
    let b = cached(&inner, 1 << 20);
    let mut log = Log::new(a.clone());
    log.append(10).unwrap();
    // b reads the edge tile as of size 10.
    assert_eq!(
        merkle::tree_root(10, &StorageReader(b.as_ref())).unwrap(),
        log.tree.root()
    );
    log.append(20).unwrap();
    // b becomes the writer: its cached tile ends at 10, the batch starts at 30.
    log.store = b.clone();
    log.append(40).unwrap();
    let size = log.tree.size();
    for reader in [StorageReader(a.as_ref()), StorageReader(b.as_ref())] {
        assert_eq!(merkle::tree_root(size, &reader).unwrap(), log.tree.root());
        for index in 0..size {
            assert_eq!(
                merkle::inclusion_proof(index, size, &reader).unwrap(),
                merkle::inclusion_proof(index, size, &log.tree).unwrap()
            );
        }
    }
}

/// A missed leaf tile is read whole while every tile of the tree fits the
/// cache; in a larger tree only the nodes asked for are read (a tile read whole
/// would mostly be evicted before its next use).
#[test]
fn a_missed_leaf_tile_is_read_whole_only_while_the_tree_fits() {
    let inner = Arc::new(MemoryStorage::new());
    let mut log = Log::new(inner.clone());
    log.append(16 * 256).unwrap(); // 16 leaf tiles, one level-1 tile.
    let asked = NodeId::leaf(5);
    let neighbour = NodeId::leaf(200); // same leaf tile, not asked for
    for (bytes, whole) in [(64 << 20, true), (8 * TILE_BYTES, false)] {
        let cache = cached(&inner, bytes);
        cache.latest_checkpoint().unwrap(); // the cache learns the tree size
        assert_eq!(
            cache.read_hashes(&[asked]).unwrap(),
            inner.read_hashes(&[asked]).unwrap()
        );
        assert!(cache.is_cached(asked), "{bytes} bytes");
        assert_eq!(cache.is_cached(neighbour), whole, "{bytes} bytes");
    }
}

#[test]
fn a_leaf_tile_an_append_completed_leaves_the_cache_two_appends_later() {
    let inner = Arc::new(MemoryStorage::new());
    let cache = cached(&inner, 64 << 20);
    let mut log = Log::new(cache.clone());
    // Batches of 200 leaves: the second completes leaf tile 0 (leaves 0..256).
    log.append(200).unwrap();
    log.append(200).unwrap();
    assert!(cache.is_cached(NodeId::leaf(0)), "completed by this append");
    log.append(200).unwrap();
    assert!(cache.is_cached(NodeId::leaf(0)), "one append later");
    log.append(200).unwrap();
    assert!(!cache.is_cached(NodeId::leaf(0)), "two appends later");
    assert!(!cache.is_cached(NodeId::new(7, 1)));
    // Tile 1 was completed by the third append and is still held, as are the
    // right edge and the tiles above the leaves.
    assert!(cache.is_cached(NodeId::leaf(511)));
    assert!(cache.is_cached(NodeId::leaf(799)));
    assert!(cache.is_cached(NodeId::new(8, 0)));

    // Under a steady load the cache holds a few tiles, not the whole tree.
    for _ in 0..60 {
        log.append(300).unwrap();
    }
    let size = log.tree.size();
    assert!(size > 70 * 256);
    assert!(
        cache.cached_bytes() <= 6 * TILE_BYTES,
        "{} bytes cached for {size} leaves",
        cache.cached_bytes()
    );
    // A retired tile is read back (whole) for a proof, and the proof is right.
    let proof = merkle::inclusion_proof(3, size, &StorageReader(cache.as_ref())).unwrap();
    assert_eq!(proof, merkle::inclusion_proof(3, size, &log.tree).unwrap());
    assert!(cache.is_cached(NodeId::leaf(200)));
}

/// Filling the cache ahead of requests reads every tile of a tree that fits the
/// bound — the right edge's partial tiles too — and serves the same hashes as
/// storage; a tree larger than the bound is left to the requests.
#[test]
fn filling_reads_every_tile_of_a_tree_that_fits_and_nothing_otherwise() {
    let inner = Arc::new(MemoryStorage::new());
    let mut log = Log::new(inner.clone());
    let empty = cached(&inner, 64 << 20);
    assert_eq!(
        CachedStorage::warm(&Arc::downgrade(&empty)).unwrap(),
        0,
        "an empty log has no tile"
    );
    log.append(16 * 256 + 100).unwrap(); // 17 leaf tiles (the last partial), one level-1 tile
    let size = log.tree.size();

    let cache = cached(&inner, 64 << 20);
    assert_eq!(
        CachedStorage::warm(&Arc::downgrade(&cache)).unwrap(),
        17 + 1
    );
    assert_eq!(cache.cached_bytes(), 18 * TILE_BYTES);
    for node in [
        NodeId::leaf(0),
        NodeId::leaf(2_000),
        NodeId::leaf(size - 1),
        NodeId::new(7, 31),
        NodeId::new(8, 15),
        NodeId::new(12, 0),
    ] {
        assert!(cache.is_cached(node), "{node:?}");
    }
    for index in [0, 777, size - 1] {
        let proof = merkle::inclusion_proof(index, size, &StorageReader(cache.as_ref())).unwrap();
        assert_eq!(
            proof,
            merkle::inclusion_proof(index, size, &log.tree).unwrap()
        );
    }

    let small = cached(&inner, 8 * TILE_BYTES);
    assert_eq!(CachedStorage::warm(&Arc::downgrade(&small)).unwrap(), 0);
    assert_eq!(small.cached_bytes(), 0);

    // Filling a cache others own (a server's): the same while they hold it,
    // nothing once they have let it go.
    let held = cached(&inner, 64 << 20);
    assert_eq!(CachedStorage::warm(&Arc::downgrade(&held)).unwrap(), 18);
    assert_eq!(held.cached_bytes(), 18 * TILE_BYTES);
    let gone = Arc::downgrade(&cached(&inner, 64 << 20));
    assert_eq!(CachedStorage::warm(&gone).unwrap(), 0);
}
