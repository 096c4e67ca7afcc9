//! The storage query behind the home page's activity chart: both backends and
//! the trait's default agree on per-day counts.

mod web_support;

use std::sync::Arc;

use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{DayCount, SearchQuery, Storage, StorageError, DAY_MS};

/// Delegates only the required methods, so `entries_per_day` runs the trait default.
struct DefaultsOnly(Arc<dyn Storage>);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret { self.0.$name($($arg),*) })*
    };
}

impl Storage for DefaultsOnly {
    delegate! {
        identity() -> Result<Option<glassbox_server::storage::LogIdentity>, StorageError>;
        set_identity(i: &glassbox_server::storage::LogIdentity) -> Result<(), StorageError>;
        append_batch(b: &glassbox_server::storage::Batch) -> Result<(), StorageError>;
        latest_checkpoint() -> Result<Option<glassbox_server::storage::CheckpointRecord>, StorageError>;
        checkpoint_at(size: u64) -> Result<Option<glassbox_server::storage::CheckpointRecord>, StorageError>;
        checkpoints(since: u64, limit: usize) -> Result<Vec<glassbox_server::storage::CheckpointRecord>, StorageError>;
        entry(index: u64) -> Result<Option<glassbox_server::storage::EntryRecord>, StorageError>;
        entries(indexes: &[u64]) -> Result<Vec<glassbox_server::storage::EntryRecord>, StorageError>;
        leaves(start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError>;
        find_leaf(h: &[u8; 32]) -> Result<Option<u64>, StorageError>;
        find_statements(d: &[[u8; 32]]) -> Result<Vec<Option<glassbox_server::storage::FirstCopy>>, StorageError>;
        search(q: &SearchQuery) -> Result<Vec<glassbox_server::storage::EntryRecord>, StorageError>;
        key_events() -> Result<Vec<glassbox_server::storage::KeyEventRecord>, StorageError>;
        read_hashes(n: &[glassbox_server::storage::NodeId]) -> Result<Vec<[u8; 32]>, StorageError>;
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

fn check(storage: &dyn Storage) {
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
