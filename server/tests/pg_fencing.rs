//! PostgreSQL-only guarantees: versioned migrations shared by several nodes (and
//! the ones that compute statement digests and the index from stored leaves), the
//! sequencer lease taken by compare-and-swap, and fencing — a node whose lease
//! was taken over can never commit (docs/postgres.md). Skipped (with a line
//! saying so) when GLASSBOX_TEST_POSTGRES is not set.

mod pg_support;
mod storage_contract_suite;

use std::sync::Arc;
use std::time::Duration;

use glassbox_server::log::leader::LeaseStore;
use glassbox_server::storage::postgres::PostgresStorage;
use glassbox_server::storage::{
    Batch, CheckpointRecord, EntryRecord, FirstCopy, LogStore, SearchTerms, Storage, StorageError,
};
use pg_support::TestDatabase;
use storage_contract_suite::{Log, T0};

fn open(db: &TestDatabase) -> Arc<PostgresStorage> {
    Arc::new(PostgresStorage::open_config(db.config(), 1).unwrap())
}

#[test]
fn nodes_migrating_at_once_end_on_one_schema_version() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let cfg = db.config();
            std::thread::spawn(move || PostgresStorage::open_config(cfg, 1).map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let mut c = db.client();
    let versions: Vec<i64> = c
        .query("SELECT version FROM schema_version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![7]);
    c.batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    assert!(matches!(
        PostgresStorage::open_config(db.config(), 1),
        Err(StorageError::SchemaTooNew {
            found: 99,
            supported: 7
        })
    ));
}

fn key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

/// The dirHash (hex) of source `n`.
fn dir_hash(n: u8) -> String {
    hex::encode([n + 4; 32])
}

/// An entry at `index` whose leaf is a review of source `n` signed by the keys
/// of `seeds` (every leaf a log holds is an attestation, and the index is built
/// from what each one says), its signers recorded as `signers`.
fn envelope_entry(index: u64, n: u8, seeds: &[u8], signers: &[&str]) -> EntryRecord {
    use glassbox_core::statement::{
        Attestation, ReviewPredicate, Scope, SourceDigest, SourceReview, Verdict,
    };
    let review = SourceReview::new(
        SourceDigest::from_dir_hash(dir_hash(n)),
        ReviewPredicate {
            repository: "https://git.example/app".into(),
            scope: Scope::Full,
            verdict: Verdict::Approved,
            findings: None,
            report_digest: None,
            reviewed_at: "2026-01-02T00:00:00Z".into(),
        },
    )
    .unwrap();
    let keys: Vec<ed25519_dalek::SigningKey> = seeds.iter().map(|s| key(*s)).collect();
    let keys: Vec<&ed25519_dalek::SigningKey> = keys.iter().collect();
    let env = Attestation::from(review).sign(&keys).unwrap();
    let leaf = env.to_canonical_json();
    EntryRecord {
        index,
        leaf_hash: glassbox_core::merkle::leaf_hash(&leaf),
        statement_digest: env.statement_digest(),
        leaf,
        kind: "source-review".into(),
        integrated_at_ms: T0,
        signers: signers.iter().map(|s| s.to_string()).collect(),
        terms: SearchTerms::default(),
    }
}

#[test]
fn a_version_2_database_gains_the_statement_digests_and_the_index_of_its_leaves() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    // Entry 1 is a later copy of entry 0's statement with one more signer, as
    // logs written before statements were deduplicated may hold.
    let entries = vec![
        envelope_entry(0, 0, &[7], &["k7"]),
        envelope_entry(1, 0, &[7, 8], &["k7", "k8"]),
        envelope_entry(2, 2, &[9], &["k9"]),
    ];
    open(&db)
        .append_batch(&Batch {
            entries: entries.clone(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 3,
                note: b"n".to_vec(),
                created_at_ms: T0,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        })
        .unwrap();
    // Back to version 2: the column, its index and its check are what 3 added,
    // the index's table what 4 added (and 5 and 6 remade), and 7 dropped the
    // leaf hashes' unique constraint.
    db.client()
        .batch_execute(
            "DROP TABLE index_batches;
             ALTER TABLE entries DROP COLUMN statement;
             ALTER TABLE entries ADD CONSTRAINT entries_leaf_hash_key UNIQUE (leaf_hash);
             UPDATE schema_version SET version = 2;",
        )
        .unwrap();
    let s = open(&db);
    let version: i64 = db
        .client()
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 7);
    let leaf_indexes: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
             AND tablename = 'entries' AND indexdef LIKE '%leaf_hash%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaf_indexes, 0, "schema 7 drops the leaf hashes' index");
    assert_eq!(s.entries(&[0, 1, 2]).unwrap(), entries);
    let first = |index: u64, signers: &[&str]| {
        Some(FirstCopy {
            index,
            signers: signers.iter().map(|s| s.to_string()).collect(),
        })
    };
    assert_eq!(
        s.find_statements(&[
            entries[1].statement_digest,
            entries[2].statement_digest,
            [0; 32]
        ])
        .unwrap(),
        vec![first(0, &["k7"]), first(2, &["k9"]), None]
    );
    // The index is built from the stored leaves, as of the newest checkpoint:
    // each key's count and the chain over the indexes filed under it.
    use glassbox_core::index::{IndexKey, ListHead};
    let signer = |seed: u8| {
        IndexKey::Signer(glassbox_core::digest::key_id_hex(
            &key(seed).verifying_key(),
        ))
    };
    let filed = |key: IndexKey, indexes: &[u64]| (key.hash(), ListHead::of(indexes).unwrap());
    let mut want = vec![
        filed(signer(7), &[0, 1]),
        filed(signer(8), &[1]),
        filed(IndexKey::Source(dir_hash(0)), &[0, 1]),
        filed(signer(9), &[2]),
        filed(IndexKey::Source(dir_hash(2)), &[2]),
    ];
    want.sort_by_key(|(k, _)| *k);
    let mut index = s.index_leaves(0).unwrap();
    index.leaves.sort_by_key(|(k, _)| *k);
    assert_eq!(index.size, 3);
    assert_eq!(index.leaves, want);
}

#[test]
fn a_live_lease_is_not_taken_and_an_expired_one_is_taken_with_a_new_epoch() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b) = (open(&db), open(&db));
    let ttl = Duration::from_millis(400);
    assert_eq!(a.acquire_or_renew("a", "http://a", ttl).unwrap(), Some(1));
    assert_eq!(b.acquire_or_renew("b", "http://b", ttl).unwrap(), None);
    // Renewal keeps the epoch.
    assert_eq!(a.acquire_or_renew("a", "http://a", ttl).unwrap(), Some(1));
    let lease = b.current_lease().unwrap().unwrap();
    assert_eq!(
        (lease.holder.as_str(), lease.url.as_str(), lease.live),
        ("a", "http://a", true)
    );
    std::thread::sleep(ttl + Duration::from_millis(100));
    assert!(!b.current_lease().unwrap().unwrap().live);
    assert_eq!(b.acquire_or_renew("b", "http://b", ttl).unwrap(), Some(2));
    assert_eq!(a.acquire_or_renew("a", "http://a", ttl).unwrap(), None);
    // A released lease is free at once.
    b.release("b").unwrap();
    assert_eq!(a.acquire_or_renew("a", "http://a", ttl).unwrap(), Some(3));
}

#[test]
fn a_stale_leader_cannot_commit_and_leaves_nothing() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let (a, b) = (open(&db), open(&db));
    let ttl = Duration::from_millis(400);
    a.acquire_or_renew("a", "http://a", ttl).unwrap().unwrap();
    let mut log_a = Log::new(a.clone() as Arc<dyn Storage>);
    log_a.append(3, T0);
    // `a` stalls past its lease; `b` takes over and extends the log.
    std::thread::sleep(ttl + Duration::from_millis(100));
    b.acquire_or_renew("b", "http://b", ttl).unwrap().unwrap();
    let (stale, _) = log_a.batch(2, T0 + 1);
    match a.append_batch(&stale) {
        Err(StorageError::Fenced(_)) => {}
        other => panic!("stale leader's batch: {other:?}"),
    }
    assert_eq!(b.latest_checkpoint().unwrap().unwrap().size, 3);
    assert_eq!(b.entry(3).unwrap(), None);
    // The new leader, having reloaded (same tree here), commits.
    let mut log_b = Log::new(b.clone() as Arc<dyn Storage>);
    log_b.tree = log_a.tree.clone();
    log_b.next_n = 100;
    log_b.append(2, T0 + 2);
    assert_eq!(a.latest_checkpoint().unwrap().unwrap().size, 5);
}

#[test]
fn a_batch_that_does_not_extend_the_stored_tree_is_refused() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = open(&db);
    let mut log = Log::new(s.clone() as Arc<dyn Storage>);
    log.append(3, T0);
    // Built before another writer extended the log: same positions again.
    let (late, _) = log.batch(2, T0 + 1);
    log.next_n = 50;
    log.append(1, T0 + 1);
    assert!(matches!(
        s.append_batch(&late),
        Err(StorageError::Fenced(_))
    ));
    assert_eq!(s.latest_checkpoint().unwrap().unwrap().size, 4);
}

#[test]
fn a_batch_failing_after_its_entries_are_written_is_rolled_back() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let s = open(&db);
    let mut log = Log::new(s.clone() as Arc<dyn Storage>);
    log.append(2, T0);
    // A key event naming an entry that is not in the batch breaks the foreign
    // key only after entries, terms and nodes were inserted.
    let (mut batch, _) = log.batch(3, T0 + 1);
    batch
        .key_events
        .push(glassbox_server::storage::KeyEventRecord {
            index: 1_000,
            key_id: "00".repeat(32),
            action: "register".into(),
            details: serde_json::json!({}),
        });
    assert!(s.append_batch(&batch).is_err());
    let fresh = open(&db);
    assert_eq!(fresh.latest_checkpoint().unwrap().unwrap().size, 2);
    assert_eq!(fresh.entry(2).unwrap(), None);
    assert_eq!(
        fresh
            .find_statements(&[batch.entries[0].statement_digest])
            .unwrap(),
        [None]
    );
}
