//! The storage contract suite (storage_contract_suite/) on every backend:
//! memory, SQLite and PostgreSQL. PostgreSQL runs when GLASSBOX_TEST_POSTGRES
//! names a database (`source .ci/postgres` starts one); otherwise each of its
//! tests prints `SKIPPED: GLASSBOX_TEST_POSTGRES not set` and returns.

mod pg_support;
mod storage_contract_suite;

use std::sync::Arc;

use glassbox_server::storage::{LogStore, Storage};

type Run<'a> = &'a dyn Fn(storage_contract_suite::Factory);

mod memory {
    use super::*;
    use glassbox_server::storage::memory::MemoryStorage;

    fn backend(run: Run) {
        let store: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        run(&|| store.clone());
    }

    crate::contract_tests!(backend);
}

mod sqlite {
    use super::*;
    use glassbox_server::storage::sqlite::SqliteStorage;

    fn backend(run: Run) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        run(&|| Arc::new(SqliteStorage::open(&path, 2).unwrap()) as Arc<dyn Storage>);
    }

    crate::contract_tests!(backend);

    /// A writer that never pauses outruns the background checkpoint (the WAL
    /// is only reset when a transaction starts after a complete checkpoint);
    /// past its bound the writer empties the WAL itself, so the file stays
    /// within the bound plus one batch.
    ///
    /// The bound is larger than any one batch (a 40-entry batch dirties one
    /// page per entry in each random-keyed index, up to ~600 KB of WAL here):
    /// a batch written into a just-emptied WAL is then within it whatever its
    /// size, and the batch term of the assertion, measured as growth between
    /// rounds, only has to cover rounds that began under the bound.
    #[test]
    fn the_wal_stays_bounded_under_writes_without_pauses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let limit = 1 << 20;
        let store: Arc<dyn Storage> =
            Arc::new(SqliteStorage::open(&path, 1).unwrap().with_wal_limit(limit));
        let wal = dir.path().join("glassbox.db-wal");
        let mut log = crate::storage_contract_suite::Log::new(store.clone());
        let mut largest = 0;
        let mut largest_batch = 0;
        let mut over_bound = 0;
        for round in 0..150 {
            let before = std::fs::metadata(&wal).map_or(0, |m| m.len());
            over_bound += usize::from(before > limit);
            log.append(40, 1_767_225_600_000 + round);
            let after = std::fs::metadata(&wal).map_or(0, |m| m.len());
            largest = largest.max(after);
            largest_batch = largest_batch.max(after.saturating_sub(before));
        }
        assert!(over_bound > 0, "the WAL never passed its bound");
        assert!(
            largest <= limit + largest_batch,
            "WAL reached {largest} bytes; bound {limit} + one batch {largest_batch}"
        );
        assert_eq!(store.latest_checkpoint().unwrap().unwrap().size, 6000);
    }

    /// Commits leave the WAL to the checkpointer thread, which copies it into
    /// the database file while the store is open; a clean close leaves the file
    /// alone, complete.
    #[test]
    fn a_background_checkpoint_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let store: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&path, 1).unwrap());
        let before = std::fs::metadata(&path).unwrap().len();
        let mut log = crate::storage_contract_suite::Log::new(store.clone());
        for round in 0..20 {
            log.append(50, 1_767_225_600_000 + round);
        }
        // The writer never checkpoints (wal_autocheckpoint=0): only the
        // checkpointer can grow the database file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::fs::metadata(&path).unwrap().len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 20 s: the database file stayed at {before} bytes"
            );
            std::thread::yield_now();
        }
        drop(log);
        drop(store);
        assert!(
            !dir.path().join("glassbox.db-wal").exists(),
            "a clean close leaves no WAL"
        );
        let reopened = SqliteStorage::open(&path, 1).unwrap();
        assert_eq!(reopened.latest_checkpoint().unwrap().unwrap().size, 1000);
        assert_eq!(reopened.entry(999).unwrap().unwrap().index, 999);
    }

    /// Statement digests reach `statement_index` one range (of 32, by the
    /// digest's top five bits) per commit: after every batch the table holds
    /// exactly the entries below their range's watermark, and no range waits
    /// more than 32 commits, so what the store holds in memory stays bounded.
    #[test]
    fn statement_digests_move_to_their_table_one_range_per_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let store: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&path, 1).unwrap());
        let mut log = crate::storage_contract_suite::Log::new(store.clone());
        let raw = rusqlite::Connection::open(&path).unwrap();
        let mut sizes = Vec::new();
        for round in 0..80 {
            log.append(9, 1_767_225_600_000 + round);
            let size = log.tree.size();
            sizes.push(size);
            let mut flushed = [0u64; 32];
            let mut read = raw
                .prepare("SELECT part, upto FROM statement_flushed")
                .unwrap();
            let rows = read
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .unwrap();
            for row in rows {
                let (part, upto) = row.unwrap();
                flushed[part as usize] = upto as u64;
            }
            // Ranges move in turn: the one waiting longest went 32 commits ago.
            let oldest = *flushed.iter().min().unwrap();
            let floor = if sizes.len() > 32 {
                sizes[sizes.len() - 33]
            } else {
                0
            };
            assert!(
                oldest >= floor,
                "a range waited past 32 commits: {flushed:?}"
            );
            let mut read = raw.prepare("SELECT statement, idx FROM entries").unwrap();
            let mut want: Vec<(Vec<u8>, i64)> = read
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .filter(|(d, i): &(Vec<u8>, i64)| (*i as u64) < flushed[usize::from(d[0] >> 3)])
                .collect();
            want.sort();
            let mut read = raw
                .prepare("SELECT statement, idx FROM statement_index ORDER BY statement, idx")
                .unwrap();
            let got: Vec<(Vec<u8>, i64)> = read
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, want, "after commit {round}");
        }
        // A restart (nothing is written at close) finds every statement again,
        // from the table and from the entries read back.
        drop(log);
        drop(store);
        let reopened = SqliteStorage::open(&path, 1).unwrap();
        let digests: Vec<_> = (0..720)
            .map(crate::storage_contract_suite::statement)
            .collect();
        let found = reopened.find_statements(&digests).unwrap();
        let at: Vec<Option<u64>> = found.into_iter().map(|f| f.map(|f| f.index)).collect();
        assert_eq!(at, (0..720).map(Some).collect::<Vec<_>>());
    }
}

/// The node hash cache over memory (default bound) and over SQLite (a bound of
/// two tiles, so eviction runs too): it must be invisible.
mod cached_memory {
    use super::*;
    use glassbox_server::storage::cache::{CachedStorage, DEFAULT_CACHE_BYTES};
    use glassbox_server::storage::memory::MemoryStorage;

    fn backend(run: Run) {
        let inner = Arc::new(MemoryStorage::new());
        let store: Arc<dyn Storage> = Arc::new(CachedStorage::new(inner, DEFAULT_CACHE_BYTES));
        run(&|| store.clone());
    }

    crate::contract_tests!(backend);
}

mod cached_sqlite {
    use super::*;
    use glassbox_server::storage::cache::{CachedStorage, TILE_BYTES};
    use glassbox_server::storage::sqlite::SqliteStorage;

    fn backend(run: Run) {
        let dir = tempfile::tempdir().unwrap();
        let inner = Arc::new(SqliteStorage::open(&dir.path().join("glassbox.db"), 2).unwrap());
        let store: Arc<dyn Storage> = Arc::new(CachedStorage::new(inner, 2 * TILE_BYTES));
        run(&|| store.clone());
    }

    crate::contract_tests!(backend);
}

mod postgres {
    use super::*;
    use glassbox_server::storage::postgres::PostgresStorage;

    fn backend(run: Run) {
        let Some(db) = crate::pg_support::TestDatabase::create() else {
            return;
        };
        run(&|| {
            Arc::new(PostgresStorage::open_config(db.config(), 2).unwrap()) as Arc<dyn Storage>
        });
    }

    crate::contract_tests!(backend);

    /// Schema 7 drops the leaf-hash index nothing reads (as SQLite's schema 8
    /// does): no index of `entries` covers the leaf hash.
    #[test]
    fn the_leaf_hash_is_not_indexed() {
        let Some(db) = crate::pg_support::TestDatabase::create() else {
            return;
        };
        PostgresStorage::open_config(db.config(), 1).unwrap();
        let indexes: Vec<String> = db
            .client()
            .query(
                "SELECT indexdef FROM pg_indexes
                 WHERE schemaname = current_schema() AND tablename = 'entries'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(!indexes.is_empty(), "entries has its primary key");
        assert!(
            indexes.iter().all(|d| !d.contains("leaf_hash")),
            "{indexes:?}"
        );
    }
}
