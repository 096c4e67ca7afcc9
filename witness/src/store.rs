//! The witness's only state: per log origin, the latest checkpoint it cosigned
//! (C2SP tlog-witness §Introduction: "only required to keep track of the latest
//! checkpoint it observed and verified").
//!
//! One SQLite file, WAL journal with `synchronous=FULL`: when [`Store::advance`]
//! returns, the new state survives a crash or power loss, so a cosignature is never
//! handed out for a state the witness could forget. `advance` is a compare-and-swap
//! on the stored size inside one immediate transaction, so even two processes
//! sharing the file cannot roll a log back (the race the spec describes).
//!
//! All methods block; async callers use `spawn_blocking`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

/// The latest cosigned checkpoint of one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    pub size: u64,
    pub root: [u8; 32],
    /// The checkpoint note with the log's verified signatures and this witness's
    /// cosignature: what monitors fetch.
    pub note: Vec<u8>,
    /// POSIX seconds of the cosignature.
    pub cosigned_at: u64,
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("witness database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("witness database is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "witness database schema version {found} is newer than this build supports ({supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The compare-and-swap in [`Store::advance`] lost: the stored size is not the
    /// one the caller checked against.
    #[error("the stored size of {origin} is {stored}, not {expected}")]
    Conflict {
        origin: String,
        stored: u64,
        expected: u64,
    },
}

const SCHEMA: &str = "
CREATE TABLE logs (
    origin       TEXT    PRIMARY KEY,
    size         INTEGER NOT NULL,
    root         BLOB    NOT NULL,
    note         BLOB    NOT NULL,
    cosigned_at  INTEGER NOT NULL
) STRICT;
";
const SCHEMA_VERSION: i64 = 1;

/// The witness state database.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::init(Connection::open(path)?)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Store, StoreError> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store, StoreError> {
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            let tx = conn.transaction()?;
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            // Durability point: the schema and its version commit together.
            tx.commit()?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Corrupt("connection lock poisoned".into()))
    }

    /// The latest cosigned checkpoint of `origin`, if the witness ever cosigned one.
    pub fn latest(&self, origin: &str) -> Result<Option<LogState>, StoreError> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT size, root, note, cosigned_at FROM logs WHERE origin = ?1",
                [origin],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(size, root, note, at)| {
            Ok(LogState {
                size: u64::try_from(size)
                    .map_err(|_| StoreError::Corrupt(format!("negative size for {origin}")))?,
                root: root.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("root of {origin} is not 32 bytes"))
                })?,
                note,
                cosigned_at: at as u64,
            })
        })
        .transpose()
    }

    /// Records `state` as the latest cosigned checkpoint of `origin`, only if the
    /// stored size is still `expected_size` (0 when nothing is stored). Durable on
    /// return.
    pub fn advance(
        &self,
        origin: &str,
        expected_size: u64,
        state: &LogState,
    ) -> Result<(), StoreError> {
        let to_i64 = |v: u64| {
            i64::try_from(v)
                .map_err(|_| StoreError::Corrupt(format!("{v} exceeds SQLite integers")))
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let stored: Option<i64> = tx
            .query_row("SELECT size FROM logs WHERE origin = ?1", [origin], |r| {
                r.get(0)
            })
            .optional()?;
        let stored = stored.map_or(0, |s| s as u64);
        if stored != expected_size || state.size < stored {
            return Err(StoreError::Conflict {
                origin: origin.to_owned(),
                stored,
                expected: expected_size,
            });
        }
        tx.execute(
            "INSERT INTO logs (origin, size, root, note, cosigned_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4, cosigned_at = ?5",
            params![
                origin,
                to_i64(state.size)?,
                &state.root[..],
                state.note,
                to_i64(state.cosigned_at)?
            ],
        )?;
        // DURABILITY POINT: WAL + synchronous=FULL; only after this may the
        // cosignature leave the process.
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(size: u64) -> LogState {
        LogState {
            size,
            root: [size as u8; 32],
            note: b"note".to_vec(),
            cosigned_at: 1,
        }
    }

    #[test]
    fn advance_from_nothing_then_forward() {
        let store = Store::in_memory().unwrap();
        assert_eq!(store.latest("o").unwrap(), None);
        store.advance("o", 0, &state(3)).unwrap();
        store.advance("o", 3, &state(5)).unwrap();
        assert_eq!(store.latest("o").unwrap(), Some(state(5)));
    }

    #[test]
    fn advance_with_stale_expected_size_is_a_conflict() {
        let store = Store::in_memory().unwrap();
        store.advance("o", 0, &state(5)).unwrap();
        let err = store.advance("o", 3, &state(4)).unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { stored: 5, .. }),
            "{err}"
        );
        assert_eq!(store.latest("o").unwrap().unwrap().size, 5);
    }

    #[test]
    fn advance_never_shrinks() {
        let store = Store::in_memory().unwrap();
        store.advance("o", 0, &state(5)).unwrap();
        assert!(store.advance("o", 5, &state(2)).is_err());
    }

    #[test]
    fn state_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        Store::open(&path)
            .unwrap()
            .advance("o", 0, &state(7))
            .unwrap();
        assert_eq!(
            Store::open(&path).unwrap().latest("o").unwrap(),
            Some(state(7))
        );
    }
}
