//! The storage query behind the home page's activity chart: both backends and
//! the trait's default agree on per-day counts.

mod web_support;

use std::sync::Arc;

use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{
    CheckpointRecord, DayCount, EntryRecord, QueryStore, SearchQuery, Storage, StorageError, DAY_MS,
};

/// Delegates only the required methods, so `entries_per_day` runs the trait default.
struct DefaultsOnly(Arc<dyn Storage>);

impl QueryStore for DefaultsOnly {
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError> {
        self.0.checkpoints(since, limit)
    }
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        self.0.leaves(start, end)
    }
    fn search(&self, query: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError> {
        self.0.search(query)
    }
}

const DAY0: i64 = 20_454; // 2026-01-01

/// 2500 entries (more than one default page): 1000 on day 0, none on day 1,
/// 1500 on day 2 spread over the day.
fn time(i: u64) -> i64 {
    if i < 1000 {
        DAY0 * DAY_MS + i as i64
    } else {
        (DAY0 + 2) * DAY_MS + (i as i64 - 1000) * 50_000
    }
}

fn check(storage: &dyn QueryStore) {
    let all = storage.entries_per_day(0).unwrap();
    assert_eq!(
        all,
        vec![
            DayCount {
                day: DAY0,
                entries: 1000
            },
            DayCount {
                day: DAY0 + 2,
                entries: 1500
            },
        ]
    );
    // `since` inside day 2 still counts the whole of day 2.
    let later = storage
        .entries_per_day((DAY0 + 2) * DAY_MS + 12_345)
        .unwrap();
    assert_eq!(
        later,
        vec![DayCount {
            day: DAY0 + 2,
            entries: 1500
        }]
    );
    assert!(storage
        .entries_per_day((DAY0 + 3) * DAY_MS)
        .unwrap()
        .is_empty());
}

#[test]
fn entries_per_day_agrees_across_memory_sqlite_and_the_default() {
    let memory: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
    web_support::seed(memory.as_ref(), 0, 2500, time);
    check(memory.as_ref());
    check(&DefaultsOnly(memory));

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStorage::open(&dir.path().join("log.db"), 1).unwrap();
    web_support::seed(&sqlite, 0, 2500, time);
    check(&sqlite);
}
