//! Many concurrent submitters against one SQLite-backed log: dense indexes (each
//! batch ended by the log's index commitment), no duplicates, every receipt
//! verifiable and consistent with the final checkpoint, and the tree recomputed
//! from /tile/entries matches.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::merkle::{self, MemoryTree};
use glassbox_core::statement::Role;
use glassbox_core::tile::decode_entry_bundle;
use glassbox_server::storage::sqlite::SqliteStorage;
use support::*;

const SUBMITTERS: u32 = 32;
const EACH: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submitters_get_dense_verifiable_entries() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("log.db"), 4).unwrap());
    let log = Arc::new(TestLog::with(Options::default(), Some(storage)).await);
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let vendor = Arc::new(vendor);

    let mut tasks = Vec::new();
    for t in 0..SUBMITTERS {
        let (log, vendor) = (log.clone(), vendor.clone());
        tasks.push(tokio::spawn(async move {
            let mut receipts = Vec::new();
            for i in 0..EACH {
                let env = submission(&vendor, "https://git.example/c", t * 1000 + i, "1");
                let (status, body) = log.submit(&env).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                receipts.push(body);
            }
            receipts
        }));
    }
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.extend(t.await.unwrap());
    }

    let indexes: BTreeSet<u64> = receipts
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes.len(), receipts.len(), "duplicate indexes");

    let (_, _, note) = log.get("/checkpoint").await;
    let fin = SignedCheckpoint::open(&note, &log.vkey).unwrap().checkpoint;

    // Every receipt verifies, and its checkpoint is consistent with the final one.
    let mut roots = BTreeMap::new();
    for r in &receipts {
        let cp = verify_receipt(r, &log.vkey);
        roots.insert(cp.size, cp.root);
    }
    let decode = |v: &serde_json::Value| -> [u8; 32] {
        STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    for (size, root) in &roots {
        let (status, c) = log
            .get_json(&format!(
                "/api/v1/proof/consistency?from={size}&to={}",
                fin.size
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let hashes: Vec<[u8; 32]> = c["hashes"].as_array().unwrap().iter().map(decode).collect();
        merkle::verify_consistency(*size, fin.size, &hashes, root, &fin.root).unwrap();
    }

    // Recompute the tree from the entry bundles.
    let mut leaves = Vec::new();
    let mut tree = MemoryTree::new();
    let mut n = 0u64;
    while tree.size() < fin.size {
        let left = fin.size - tree.size();
        let path = if left >= 256 {
            format!("/tile/entries/{n:03}")
        } else {
            format!("/tile/entries/{n:03}.p/{left}")
        };
        let (status, headers, data) = log.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        if left >= 256 {
            assert!(headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"));
        }
        for leaf in decode_entry_bundle(&data).unwrap() {
            tree.push(merkle::leaf_hash(&leaf));
            leaves.push(leaf);
        }
        n += 1;
    }
    assert_eq!(tree.root(), fin.root);

    // Dense: every position holds a receipt's entry, the genesis or the vendor's
    // registration (one batch each), or the index commitment that ends a batch.
    for r in &receipts {
        let index = r["index"].as_u64().unwrap() as usize;
        assert_eq!(
            glassbox_core::jcs::canonicalize(&r["entry"]).unwrap(),
            leaves[index]
        );
    }
    let commitments: BTreeSet<u64> = (0..fin.size)
        .filter(|&i| is_index_commitment(&leaves[i as usize]))
        .collect();
    assert!(
        commitments.is_disjoint(&indexes),
        "a receipt for a commitment"
    );
    let seeded = BTreeSet::from([one_per_batch(0), one_per_batch(1)]);
    assert!(seeded.is_disjoint(&indexes) && seeded.is_disjoint(&commitments));
    let all: BTreeSet<u64> = indexes
        .iter()
        .chain(&commitments)
        .chain(&seeded)
        .copied()
        .collect();
    assert_eq!(
        all,
        (0..fin.size).collect::<BTreeSet<_>>(),
        "indexes not dense"
    );
    assert_eq!(receipts.len(), (SUBMITTERS * EACH) as usize);
    // Every checkpoint a receipt was proved against ends with a commitment.
    for size in roots.keys() {
        assert!(commitments.contains(&(size - 1)), "checkpoint {size}");
    }
    // The first full hash tile holds the first 256 leaf hashes.
    let (status, _, tile) = log.get("/tile/0/000").await;
    assert_eq!(status, StatusCode::OK);
    let want: Vec<u8> = (0..256)
        .flat_map(|i| tree.node(merkle::NodeId::new(0, i)).unwrap())
        .collect();
    assert_eq!(tile, want);
}

/// More reads than the blocking pool has threads, none of which finishes (as slow
/// searches under a flood would): the reads past the slots wait without a thread,
/// so submissions are still sequenced and answered, and every read is answered
/// once the stuck ones end.
#[test]
fn reads_past_their_slots_leave_the_log_its_threads() {
    const BLOCKING_THREADS: usize = 12;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("log.db"), 1).unwrap());
        let log = TestLog::with(Options::default(), Some(storage)).await;
        let vendor = participant(2);
        log.enrol(&vendor, &[Role::Vendor]).await;
        let slots = log.state.reads.available();
        assert!(slots < BLOCKING_THREADS);
        let (held_tx, mut held) = tokio::sync::mpsc::unbounded_channel();
        let (release_tx, release) = std::sync::mpsc::channel::<()>();
        let release = Arc::new(std::sync::Mutex::new(release));
        let reads: Vec<_> = (0..BLOCKING_THREADS + 4)
            .map(|_| {
                let (state, held_tx, release) =
                    (log.state.clone(), held_tx.clone(), release.clone());
                tokio::spawn(async move {
                    state
                        .read(move |s| {
                            let size = s.latest_checkpoint()?.map(|c| c.size);
                            held_tx.send(()).unwrap();
                            let _ = release.lock().unwrap().recv();
                            Ok(size)
                        })
                        .await
                })
            })
            .collect();
        for _ in 0..slots {
            held.recv().await.unwrap();
        }
        assert_eq!(log.state.reads.available(), 0);
        for n in 0..3 {
            let env = submission(&vendor, "https://git.example/r", n, "1");
            let (status, body) = log.submit(&env).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        drop(release_tx);
        for r in reads {
            assert!(r.await.unwrap().unwrap().is_some());
        }
    });
}
