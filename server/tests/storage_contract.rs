//! The storage contract suite (storage_contract_suite/) on every backend:
//! memory, SQLite and PostgreSQL. PostgreSQL runs when GLASSBOX_TEST_POSTGRES
//! names a database (`source .ci/postgres` starts one); otherwise each of its
//! tests prints `SKIPPED: GLASSBOX_TEST_POSTGRES not set` and returns.

mod pg_support;
mod storage_contract_suite;

use std::sync::Arc;

use glassbox_server::storage::Storage;

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
}
