//! The storage contract suite (storage_contract_suite/) on every backend:
//! memory, SQLite and PostgreSQL. PostgreSQL runs when GLASSBOX_TEST_POSTGRES
//! names a database (`source .ci/postgres` starts one); otherwise each of its
//! tests prints `SKIPPED: GLASSBOX_TEST_POSTGRES not set` and returns.

mod pg_support;
mod storage_contract_suite;

use std::sync::Arc;

use glassbox_server::storage::{LogStore, QueryStore, Storage};

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

    /// A WAL the background checkpoint cannot empty (a writer that never
    /// pauses outruns it, as seeding a large log did; here a reader's snapshot
    /// holds it) grows past its bound; the writer then empties it itself before
    /// its next batch, so the file shrinks to that one batch.
    #[test]
    fn the_writer_empties_a_wal_past_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        // Larger than one 40-entry batch (up to ~250 KB of WAL here).
        let limit = 512 << 10;
        let store: Arc<dyn Storage> =
            Arc::new(SqliteStorage::open(&path, 1).unwrap().with_wal_limit(limit));
        let wal = dir.path().join("glassbox.db-wal");
        let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        let mut log = crate::storage_contract_suite::Log::new(store.clone());
        log.append(40, 1_767_225_600_000);
        // A snapshot kept open: no checkpoint may copy past it or restart the WAL.
        let mut reader = rusqlite::Connection::open(&path).unwrap();
        let snapshot = reader.transaction().unwrap();
        let _: i64 = snapshot
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
            .unwrap();
        let mut rounds = 1;
        while wal_len() <= limit {
            assert!(rounds < 100, "the WAL never passed its bound");
            log.append(40, 1_767_225_600_000 + rounds);
            rounds += 1;
        }
        drop(snapshot);
        let over = wal_len();
        log.append(40, 1_767_225_600_000 + rounds);
        let after = wal_len();
        assert!(
            after < limit,
            "WAL of {over} bytes, over its bound of {limit}, is {after} bytes after a batch"
        );
        assert_eq!(
            store.latest_checkpoint().unwrap().unwrap().size,
            40 * (rounds as u64 + 1)
        );
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

    /// The rows (digest, position) of a table kept one range per commit,
    /// against its watermarks: after every commit the table holds exactly the
    /// source rows below their range's watermark, and the oldest watermark is
    /// no older than the size 32 commits ago (`positions`: the source's end
    /// after each commit), so what the store holds in memory stays bounded.
    fn check_ranges(
        raw: &rusqlite::Connection,
        flushed_sql: &str,
        source_sql: &str,
        table_sql: &str,
        positions: &[u64],
        round: usize,
    ) {
        let mut flushed = [0u64; 32];
        let mut read = raw.prepare(flushed_sql).unwrap();
        let rows = read
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .unwrap();
        for row in rows {
            let (part, upto) = row.unwrap();
            flushed[part as usize] = upto as u64;
        }
        // Ranges move in turn: the one waiting longest went 32 commits ago.
        let oldest = *flushed.iter().min().unwrap();
        let floor = if positions.len() > 32 {
            positions[positions.len() - 33]
        } else {
            0
        };
        assert!(
            oldest >= floor,
            "a range waited past 32 commits: {flushed:?}"
        );
        let read_pairs = |sql: &str| -> Vec<(Vec<u8>, i64)> {
            let mut read = raw.prepare(sql).unwrap();
            let rows = read
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap);
            rows.collect()
        };
        let mut want: Vec<(Vec<u8>, i64)> = read_pairs(source_sql)
            .into_iter()
            .filter(|(d, p)| (*p as u64) < flushed[usize::from(d[0] >> 3)])
            .collect();
        want.sort();
        assert_eq!(
            read_pairs(table_sql),
            want,
            "{table_sql} after commit {round}"
        );
    }

    /// Statement digests and artifact terms reach their tables one digest
    /// range per commit ([`check_ranges`]), and every one is found after a
    /// restart, from the tables and from the rows read back.
    #[test]
    fn digests_move_to_their_tables_one_range_per_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let store: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&path, 1).unwrap());
        let mut log = crate::storage_contract_suite::Log::new(store.clone());
        let raw = rusqlite::Connection::open(&path).unwrap();
        let (mut sizes, mut term_ends) = (Vec::new(), Vec::new());
        for round in 0..80 {
            log.append(9, 1_767_225_600_000 + round as i64);
            sizes.push(log.tree.size());
            term_ends.push(
                raw.query_row("SELECT max(id) + 1 FROM term_values", [], |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap() as u64,
            );
            check_ranges(
                &raw,
                "SELECT part, upto FROM statement_flushed",
                "SELECT statement, idx FROM entries",
                "SELECT statement, idx FROM statement_index ORDER BY statement, idx",
                &sizes,
                round,
            );
            check_ranges(
                &raw,
                "SELECT part, upto FROM artifact_flushed",
                "SELECT value, id FROM term_values WHERE field = 1",
                "SELECT artifact, term FROM artifact_index ORDER BY artifact, term",
                &term_ends,
                round,
            );
        }
        // A restart (nothing is written at close) finds every statement and
        // artifact again, from the tables and from the rows read back.
        drop(log);
        drop(store);
        let reopened = SqliteStorage::open(&path, 1).unwrap();
        let digests: Vec<_> = (0..720)
            .map(crate::storage_contract_suite::statement)
            .collect();
        let found = reopened.find_statements(&digests).unwrap();
        let at: Vec<Option<u64>> = found.into_iter().map(|f| f.map(|f| f.index)).collect();
        assert_eq!(at, (0..720).map(Some).collect::<Vec<_>>());
        for index in (2..720).step_by(4) {
            let entry = crate::storage_contract_suite::entry(index, index as u32, 0);
            for artifact in &entry.terms.artifacts {
                let q = glassbox_server::storage::SearchQuery {
                    artifact: Some(artifact.clone()),
                    limit: 10,
                    ..Default::default()
                };
                let found: Vec<u64> = reopened
                    .search(&q)
                    .unwrap()
                    .iter()
                    .map(|e| e.index)
                    .collect();
                assert_eq!(found, [index], "{artifact}");
            }
        }
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
