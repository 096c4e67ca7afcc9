//! PostgreSQL-only guarantees: versioned migrations shared by several nodes, the
//! sequencer lease taken by compare-and-swap, and fencing — a node whose lease
//! was taken over can never commit (docs/postgres.md). Skipped (with a line
//! saying so) when GLASSBOX_TEST_POSTGRES is not set.

mod pg_support;
mod storage_contract_suite;

use std::sync::Arc;
use std::time::Duration;

use glassbox_server::leader::LeaseStore;
use glassbox_server::storage::postgres::PostgresStorage;
use glassbox_server::storage::{Storage, StorageError};
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
    assert_eq!(versions, vec![2]);
    c.batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    assert!(matches!(
        PostgresStorage::open_config(db.config(), 1),
        Err(StorageError::SchemaTooNew {
            found: 99,
            supported: 2
        })
    ));
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
    assert_eq!(fresh.find_leaf(&batch.entries[0].leaf_hash).unwrap(), None);
}
