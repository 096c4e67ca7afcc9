//! The SQLite schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Each migration runs in its own transaction together with the version bump, so a
//! crash mid-migration leaves the previous version intact. Migrations are only
//! ever appended to this list.

use rusqlite::Connection;

use super::StorageError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    CREATE TABLE entries (
        idx            INTEGER PRIMARY KEY,
        leaf           BLOB    NOT NULL,
        leaf_hash      BLOB    NOT NULL UNIQUE,
        kind           TEXT    NOT NULL,
        integrated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX entries_kind ON entries (kind, idx);
    CREATE INDEX entries_integrated_at ON entries (integrated_at, idx);
    -- Normalised multi-valued search columns: field is artifact, commit, dirhash,
    -- repository or signer; value is lowercase hex for digests and key IDs.
    CREATE TABLE entry_terms (
        field  TEXT    NOT NULL,
        value  TEXT    NOT NULL,
        idx    INTEGER NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (field, value, idx)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX entry_terms_by_entry ON entry_terms (idx);
    CREATE TABLE nodes (
        level  INTEGER NOT NULL,
        idx    INTEGER NOT NULL,
        hash   BLOB    NOT NULL,
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE checkpoints (
        size        INTEGER PRIMARY KEY,
        note        BLOB    NOT NULL,
        created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE key_events (
        idx      INTEGER PRIMARY KEY REFERENCES entries (idx),
        key_id   TEXT    NOT NULL,
        action   TEXT    NOT NULL,
        details  TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX key_events_by_key ON key_events (key_id, idx);
    ",
    // 2: witness cosignatures (C2SP tlog-cosignature v1) gathered after a checkpoint
    // was signed; at most one per witness key per checkpoint.
    "
    CREATE TABLE cosignatures (
        size      INTEGER NOT NULL REFERENCES checkpoints (size),
        name      TEXT    NOT NULL,
        key_id    INTEGER NOT NULL,
        line      TEXT    NOT NULL,
        added_at  INTEGER NOT NULL,
        PRIMARY KEY (size, name, key_id)
    ) STRICT, WITHOUT ROWID;
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database up to [`SCHEMA_VERSION`]; refuse a newer one.
pub fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db)?;
    if found > SCHEMA_VERSION {
        return Err(StorageError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)
            .map_err(db)?;
        // Durability point: the migration and its version number commit together.
        tx.commit().map_err(db)?;
    }
    Ok(())
}

pub(super) fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Database(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StorageError::SchemaTooNew { .. })
        ));
    }
}
