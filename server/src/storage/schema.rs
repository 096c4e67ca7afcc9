//! The SQLite schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Each migration runs in its own transaction together with the version bump, so a
//! crash mid-migration leaves the previous version intact. Migrations are only
//! ever appended to this list.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::records::{
    encode_index_leaves, index_leaf, statement_digest_of_leaf, IndexBuilder, IndexLeaf,
};
use super::StorageError;

/// One step of the schema.
enum Migration {
    /// What SQL alone can do.
    Sql(&'static str),
    /// A step that computes from stored data what SQL cannot (in the same
    /// transaction as the version bump, like an SQL step).
    Code(fn(&Transaction<'_>) -> Result<(), StorageError>),
}

impl Migration {
    fn apply(&self, tx: &Transaction<'_>) -> Result<(), StorageError> {
        match self {
            Migration::Sql(sql) => tx.execute_batch(sql).map_err(db),
            Migration::Code(step) => step(tx),
        }
    }
}

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 1: the initial schema.
    Migration::Sql(
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
    ),
    // 2: witness cosignatures (C2SP tlog-cosignature v1) gathered after a checkpoint
    // was signed; at most one per witness key per checkpoint.
    Migration::Sql(
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
    ),
    // 3: compact entries and search terms (docs/performance.md, "Storage").
    // Every distinct search value is stored once in `term_values`, as a BLOB when it
    // is lowercase hex of even length (digests, commit and key IDs: half the bytes)
    // and as TEXT otherwise, so equality on the encoded value is equality on the
    // original string. `entry_terms` keeps only (term, entry) pairs for search; an
    // entry lists its own term IDs in `entries.terms`, so the per-entry index on
    // `entry_terms` goes. The kind is a term too. The leaf hash is no longer a
    // column of `entries`: it is the level-0 node, found by a partial unique index.
    // The writer runs this with foreign keys off (tables are rebuilt); `migrate`
    // checks them before committing.
    Migration::Sql(
        "
    CREATE TABLE term_values (
        id     INTEGER PRIMARY KEY,
        -- 0 kind, 1 artifact, 2 commit, 3 dirhash, 4 repository, 5 signer
        field  INTEGER NOT NULL,
        value  ANY     NOT NULL,
        UNIQUE (field, value)
    ) STRICT;
    WITH old (field, value) AS (
        SELECT 0, kind FROM entries
        UNION
        SELECT CASE field WHEN 'artifact' THEN 1 WHEN 'commit' THEN 2 WHEN 'dirhash' THEN 3
                          WHEN 'repository' THEN 4 WHEN 'signer' THEN 5 END, value
        FROM entry_terms
    )
    INSERT INTO term_values (field, value)
    SELECT field, CASE WHEN length(value) > 0 AND length(value) % 2 = 0
                            AND value NOT GLOB '*[^0-9a-f]*'
                       THEN unhex(value) ELSE value END
    FROM old ORDER BY field, value;

    CREATE TABLE entry_terms_v3 (
        term  INTEGER NOT NULL REFERENCES term_values (id),
        idx   INTEGER NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (term, idx)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO entry_terms_v3 (term, idx)
    SELECT v.id, t.idx
    FROM entry_terms t JOIN term_values v
      ON v.field = CASE t.field WHEN 'artifact' THEN 1 WHEN 'commit' THEN 2
                   WHEN 'dirhash' THEN 3 WHEN 'repository' THEN 4 WHEN 'signer' THEN 5 END
     AND v.value = CASE WHEN length(t.value) > 0 AND length(t.value) % 2 = 0
                             AND t.value NOT GLOB '*[^0-9a-f]*'
                        THEN unhex(t.value) ELSE t.value END
    ORDER BY 1, 2;

    CREATE TABLE entries_v3 (
        idx            INTEGER PRIMARY KEY,
        kind           INTEGER NOT NULL REFERENCES term_values (id),
        integrated_at  INTEGER NOT NULL,
        -- IDs of the entry's term_values, space-separated.
        terms          TEXT    NOT NULL,
        leaf           BLOB    NOT NULL
    ) STRICT;
    INSERT INTO entries_v3 (idx, kind, integrated_at, terms, leaf)
    SELECT e.idx, k.id, e.integrated_at,
           -- From the old table, whose index by entry makes this a lookup per entry.
           COALESCE((SELECT group_concat(v.id, ' ')
                     FROM entry_terms t JOIN term_values v
                       ON v.field = CASE t.field WHEN 'artifact' THEN 1 WHEN 'commit' THEN 2
                                    WHEN 'dirhash' THEN 3 WHEN 'repository' THEN 4
                                    WHEN 'signer' THEN 5 END
                      AND v.value = CASE WHEN length(t.value) > 0 AND length(t.value) % 2 = 0
                                              AND t.value NOT GLOB '*[^0-9a-f]*'
                                         THEN unhex(t.value) ELSE t.value END
                     WHERE t.idx = e.idx), ''),
           e.leaf
    FROM entries e JOIN term_values k
      ON k.field = 0
     AND k.value = CASE WHEN length(e.kind) > 0 AND length(e.kind) % 2 = 0
                             AND e.kind NOT GLOB '*[^0-9a-f]*'
                        THEN unhex(e.kind) ELSE e.kind END
    ORDER BY e.idx;

    -- Every entry's leaf hash becomes (or already is) its level-0 node.
    INSERT OR IGNORE INTO nodes (level, idx, hash) SELECT 0, idx, leaf_hash FROM entries;
    CREATE UNIQUE INDEX nodes_leaf_hash ON nodes (hash) WHERE level = 0;

    DROP TABLE entry_terms;
    DROP TABLE entries;
    ALTER TABLE entries_v3 RENAME TO entries;
    ALTER TABLE entry_terms_v3 RENAME TO entry_terms;
    CREATE INDEX entries_kind ON entries (kind, idx);
    CREATE INDEX entries_integrated_at ON entries (integrated_at, idx);
    ",
    ),
    // 4: every entry's statement digest, indexed (see `add_statement_digests`).
    Migration::Code(add_statement_digests),
    // 5: the verifiable index's leaves (see `add_index`).
    Migration::Code(add_index),
    // 6: the index's leaves as an append-only record of changes, one row per key
    // a batch changed, keyed by the batch's checkpoint size: a batch appends at the
    // end of one B-tree instead of updating rows all over two of them.
    Migration::Sql(
        "
    CREATE TABLE index_changes (
        size   INTEGER NOT NULL,
        key    BLOB    NOT NULL CHECK (length(key) = 32),
        count  INTEGER NOT NULL CHECK (count > 0),
        head   BLOB    NOT NULL CHECK (length(head) = 32),
        PRIMARY KEY (size, key)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO index_changes (size, key, count, head)
        SELECT changed_at, key, count, head FROM index_leaves ORDER BY changed_at, key;
    DROP TABLE index_leaves;
    ",
    ),
    // 7: the index's changes as one record per batch (see `index_batches`).
    Migration::Code(index_batches),
    // 8: no index of leaf hashes. Nothing looks an entry up by its leaf hash (the
    // log's duplicate rule is on statement digests, `entries_statement`), and the
    // index cost a random B-tree page per entry in every commit (docs/decisions.md,
    // "No index of leaf hashes").
    Migration::Sql("DROP INDEX nodes_leaf_hash;"),
    // 9: statement digests in a table of their own, filled one digest range at a
    // time from memory (super::statements), instead of an index on `entries`
    // that every commit wrote a random page of per entry. Every entry so far is
    // in the table; `statement_flushed` says so for each of the 32 ranges.
    Migration::Sql(
        "
    CREATE TABLE statement_index (
        statement  BLOB    NOT NULL CHECK (length(statement) = 32),
        idx        INTEGER NOT NULL,
        PRIMARY KEY (statement, idx)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO statement_index (statement, idx)
        SELECT statement, idx FROM entries ORDER BY statement, idx;
    DROP INDEX entries_statement;
    CREATE TABLE statement_flushed (
        part  INTEGER PRIMARY KEY CHECK (part >= 0 AND part < 32),
        upto  INTEGER NOT NULL CHECK (upto >= 0)
    ) STRICT;
    WITH RECURSIVE parts (part) AS (SELECT 0 UNION ALL SELECT part + 1 FROM parts WHERE part < 31)
    INSERT INTO statement_flushed (part, upto)
        SELECT part, (SELECT coalesce(max(idx) + 1, 0) FROM entries) FROM parts;
    ",
    ),
    // 10: artifact terms leave the unique index of search values, the last index
    // a commit wrote a random page of per entry: every build's artifact becomes
    // a term of its own, found by digest in `artifact_index`, which is filled one
    // digest range at a time from memory like `statement_index` (super::ranged).
    // Every other search value is still stored once, under a partial unique
    // index. The table is rebuilt with the same IDs to drop its UNIQUE clause.
    Migration::Sql(
        "
    CREATE TABLE term_values_v10 (
        id     INTEGER PRIMARY KEY,
        -- 0 kind, 1 artifact, 2 commit, 3 dirhash, 4 repository, 5 signer
        field  INTEGER NOT NULL,
        value  ANY     NOT NULL
    ) STRICT;
    INSERT INTO term_values_v10 (id, field, value)
        SELECT id, field, value FROM term_values ORDER BY id;
    DROP TABLE term_values;
    ALTER TABLE term_values_v10 RENAME TO term_values;
    CREATE UNIQUE INDEX term_values_interned ON term_values (field, value) WHERE field <> 1;
    CREATE TABLE artifact_index (
        artifact  BLOB    NOT NULL CHECK (length(artifact) = 32),
        term      INTEGER NOT NULL,
        PRIMARY KEY (artifact, term)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO artifact_index (artifact, term)
        SELECT value, id FROM term_values WHERE field = 1 ORDER BY value, id;
    CREATE TABLE artifact_flushed (
        part  INTEGER PRIMARY KEY CHECK (part >= 0 AND part < 32),
        upto  INTEGER NOT NULL CHECK (upto >= 0)
    ) STRICT;
    WITH RECURSIVE parts (part) AS (SELECT 0 UNION ALL SELECT part + 1 FROM parts WHERE part < 31)
    INSERT INTO artifact_flushed (part, upto)
        SELECT part, (SELECT coalesce(max(id) + 1, 0) FROM term_values) FROM parts;
    ",
    ),
];

/// Schema 7: the index leaves a batch changed, stored as one value under the
/// batch's checkpoint size ([`encode_index_leaves`]) instead of one row per key:
/// a batch writes one row where it wrote one per changed key, and a start reads
/// one value per batch. The rows of schema 6 are regrouped here, in key order
/// within each batch (each key appears once per batch, so the order is free).
fn index_batches(tx: &Transaction<'_>) -> Result<(), StorageError> {
    tx.execute_batch(
        "
        CREATE TABLE index_batches (
            size    INTEGER PRIMARY KEY,
            leaves  BLOB    NOT NULL
        ) STRICT;
        ",
    )
    .map_err(db)?;
    {
        let mut read = tx
            .prepare("SELECT size, key, count, head FROM index_changes ORDER BY size, key")
            .map_err(db)?;
        let mut write = tx
            .prepare("INSERT INTO index_batches (size, leaves) VALUES (?1, ?2)")
            .map_err(db)?;
        let mut rows = read.query([]).map_err(db)?;
        let mut batch: Option<(i64, Vec<IndexLeaf>)> = None;
        let mut flush = |batch: Option<(i64, Vec<IndexLeaf>)>| match batch {
            Some((size, leaves)) => write
                .execute(params![size, encode_index_leaves(&leaves)])
                .map(drop)
                .map_err(db),
            None => Ok(()),
        };
        while let Some(row) = rows.next().map_err(db)? {
            let size: i64 = row.get(0).map_err(db)?;
            let leaf = index_leaf((
                row.get(1).map_err(db)?,
                row.get(2).map_err(db)?,
                row.get(3).map_err(db)?,
            ))?;
            match &mut batch {
                Some((at, leaves)) if *at == size => leaves.push(leaf),
                _ => flush(batch.replace((size, vec![leaf])))?,
            }
        }
        flush(batch)?;
    }
    tx.execute_batch("DROP TABLE index_changes;").map_err(db)
}

/// Schema 5: the verifiable index (docs/formats/index.md), one row per index key
/// with its value — the count of entries filed under it and the head of the chain
/// over their log indices — and the size of the checkpoint of the batch that last
/// changed it, so a reader holding the index at one size catches up with one
/// range read. A log written before the index was kept is indexed here, from its
/// stored leaves, once.
fn add_index(tx: &Transaction<'_>) -> Result<(), StorageError> {
    tx.execute_batch(
        "
        CREATE TABLE index_leaves (
            key         BLOB    PRIMARY KEY CHECK (length(key) = 32),
            count       INTEGER NOT NULL CHECK (count > 0),
            head        BLOB    NOT NULL CHECK (length(head) = 32),
            changed_at  INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX index_leaves_changed ON index_leaves (changed_at);
        ",
    )
    .map_err(db)?;
    let mut builder = IndexBuilder::default();
    let mut size: i64 = 0;
    {
        let mut read = tx
            .prepare("SELECT idx, leaf FROM entries ORDER BY idx")
            .map_err(db)?;
        let mut rows = read.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let idx: i64 = row.get(0).map_err(db)?;
            let leaf = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(db)?;
            builder.add(idx, leaf)?;
            size = idx + 1;
        }
    }
    let mut write = tx
        .prepare("INSERT INTO index_leaves (key, count, head, changed_at) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?;
    for (key, value) in builder.finish() {
        let count = i64::try_from(value.count)
            .map_err(|_| StorageError::Corrupt("index count out of range".into()))?;
        write
            .execute(params![&key[..], count, &value.head[..], size])
            .map_err(db)?;
    }
    Ok(())
}

/// Schema 4: the statement digest of every entry (SHA-256 of the DSSE PAE,
/// docs/formats/attestations.md), indexed with the entry's index so that the
/// first entry carrying a statement is one index seek: the sequencer logs a
/// statement once, at its first position (docs/decisions.md).
///
/// The digest is computed from the stored leaf (canonical envelope JSON), which
/// SQL cannot decode, so the table is rebuilt here rather than in SQL: that also
/// makes the column `NOT NULL` (an added column could not be) and keeps the leaf
/// last, where a large leaf's overflow pages do not lie between a row's other
/// columns. A leaf that is not a DSSE envelope stops the migration: the log
/// stores nothing else, so the database is corrupt.
fn add_statement_digests(tx: &Transaction<'_>) -> Result<(), StorageError> {
    tx.execute_batch(
        "
        CREATE TABLE entries_v4 (
            idx            INTEGER PRIMARY KEY,
            kind           INTEGER NOT NULL REFERENCES term_values (id),
            integrated_at  INTEGER NOT NULL,
            terms          TEXT    NOT NULL,
            statement      BLOB    NOT NULL CHECK (length(statement) = 32),
            leaf           BLOB    NOT NULL
        ) STRICT;
        ",
    )
    .map_err(db)?;
    {
        let mut read = tx
            .prepare("SELECT idx, kind, integrated_at, terms, leaf FROM entries ORDER BY idx")
            .map_err(db)?;
        let mut write = tx
            .prepare(
                "INSERT INTO entries_v4 (idx, kind, integrated_at, terms, statement, leaf)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db)?;
        let mut rows = read.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let idx: i64 = row.get(0).map_err(db)?;
            let leaf = row.get_ref(4).and_then(|v| Ok(v.as_blob()?)).map_err(db)?;
            let statement = statement_digest_of_leaf(idx, leaf)?;
            write
                .execute(params![
                    idx,
                    row.get::<_, i64>(1).map_err(db)?,
                    row.get::<_, i64>(2).map_err(db)?,
                    row.get::<_, String>(3).map_err(db)?,
                    &statement[..],
                    leaf
                ])
                .map_err(db)?;
        }
    }
    tx.execute_batch(
        "
        DROP TABLE entries;
        ALTER TABLE entries_v4 RENAME TO entries;
        CREATE INDEX entries_kind ON entries (kind, idx);
        CREATE INDEX entries_integrated_at ON entries (integrated_at, idx);
        CREATE INDEX entries_statement ON entries (statement, idx);
        ",
    )
    .map_err(db)
}

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
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // A migration that rebuilds a table drops the old one while other tables still
    // reference it, so foreign keys are off while migrating (the pragma cannot
    // change inside a transaction) and checked before each commit instead
    // (the SQLite documentation's procedure for schema changes).
    let enforced: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(db)?;
    let result = run_migrations(conn, found);
    conn.pragma_update(None, "foreign_keys", enforced)
        .map_err(db)?;
    result
}

fn run_migrations(conn: &mut Connection, found: i64) -> Result<(), StorageError> {
    for (version, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(db)?;
        step.apply(&tx)?;
        let violation: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if let Some(table) = violation {
            return Err(StorageError::Corrupt(format!(
                "migration to schema version {} leaves a dangling reference in {table}",
                version + 1
            )));
        }
        tx.pragma_update(None, "user_version", version as i64 + 1)
            .map_err(db)?;
        // Durability point: the migration and its version number commit together.
        tx.commit().map_err(db)?;
    }
    Ok(())
}

/// A SQLite error, transient when another connection held a lock past the busy
/// timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`); disk I/O, a full disk or a corrupt
/// file are not.
pub(super) fn db(e: rusqlite::Error) -> StorageError {
    let transient = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    StorageError::Database {
        source: Box::new(e),
        transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    use crate::storage::IndexSnapshot;
    use crate::storage::{
        Batch, CheckpointRecord, EntryRecord, FirstCopy, Hash, LogStore, NodeId, QueryStore,
        SearchQuery, SearchTerms,
    };
    use ed25519_dalek::SigningKey;
    use glassbox_core::dsse::Envelope;
    use glassbox_core::index::{IndexKey, ListHead};
    use glassbox_core::statement::{
        Attestation, KeyEvent, ReviewRequest, Role, Scope, SourceDigest, SourceSubmission,
        SubmissionPredicate,
    };

    fn sqlite_failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn a_busy_or_locked_database_is_transient() {
        assert!(db(sqlite_failure(rusqlite::ffi::SQLITE_BUSY)).is_transient());
        assert!(db(sqlite_failure(rusqlite::ffi::SQLITE_LOCKED)).is_transient());
    }

    #[test]
    fn disk_io_a_full_disk_and_corruption_are_fatal() {
        for code in [
            rusqlite::ffi::SQLITE_IOERR,
            rusqlite::ffi::SQLITE_FULL,
            rusqlite::ffi::SQLITE_CORRUPT,
            rusqlite::ffi::SQLITE_READONLY,
        ] {
            assert!(!db(sqlite_failure(code)).is_transient(), "code {code}");
        }
        assert!(!db(rusqlite::Error::QueryReturnedNoRows).is_transient());
    }

    #[test]
    fn a_real_lock_held_by_another_connection_is_transient() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        let err = other
            .execute("INSERT INTO t VALUES (2)", [])
            .map_err(db)
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
        // The driver's error is kept as the source, not flattened to text.
        let source = std::error::Error::source(&err).unwrap();
        assert!(source.is::<rusqlite::Error>());
    }
    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn key_id(seed: u8) -> String {
        glassbox_core::digest::key_id_hex(&key(seed).verifying_key())
    }

    /// The canonical leaf of an envelope and its statement digest.
    fn leaf(env: &Envelope) -> (Vec<u8>, Hash) {
        (env.to_canonical_json(), env.statement_digest())
    }

    /// A vendor's submission of the source with commit `[3; 20]` and dirHash
    /// `[4; 32]` (in hex), signed by the keys of `seeds`: every leaf a log holds
    /// is an attestation, and the index is built from what each one says.
    fn submission(seeds: &[u8]) -> Envelope {
        let s = SourceSubmission::new(
            SourceDigest::from_git(
                hex::encode([3; 20]),
                hex::encode([5; 20]),
                hex::encode([4; 32]),
            ),
            SubmissionPredicate {
                repository: "https://git.example/app".into(),
                product: "app".into(),
                version: "1.0".into(),
                review_request: ReviewRequest {
                    scope: Scope::Full,
                    notes: None,
                },
                submitted_at: "2026-01-01T00:00:00Z".into(),
            },
        )
        .unwrap();
        let keys: Vec<SigningKey> = seeds.iter().map(|s| key(*s)).collect();
        let keys: Vec<&SigningKey> = keys.iter().collect();
        Attestation::from(s).sign(&keys).unwrap()
    }

    /// The registration of the key of seed 10, signed by the key of seed 9.
    fn registration() -> Envelope {
        let event = KeyEvent::register(
            &key(10).verifying_key(),
            "someone",
            "org",
            vec![Role::Vendor],
        )
        .unwrap();
        Attestation::from(event).sign(&[&key(9)]).unwrap()
    }

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

    /// A version-2 database with entries written as version 2 wrote them: their
    /// terms as text rows, the leaf hash as a column. Entry 2 has no level-0 node.
    /// Entry 1 is a later copy of entry 0's statement with one more signer, as
    /// logs written before statements were deduplicated may hold.
    fn version_2_database(path: &std::path::Path) -> Vec<EntryRecord> {
        let mut conn = Connection::open(path).unwrap();
        let tx = conn.transaction().unwrap();
        for step in &MIGRATIONS[..2] {
            step.apply(&tx).unwrap();
        }
        let leaves = [
            leaf(&submission(&[7])),
            leaf(&submission(&[7, 8])),
            leaf(&registration()),
        ];
        tx.pragma_update(None, "user_version", 2).unwrap();
        let artifact = |n: u8| hex::encode([n; 32]);
        let records = vec![
            EntryRecord {
                index: 0,
                leaf: leaves[0].0.clone(),
                leaf_hash: [0xa0; 32],
                statement_digest: leaves[0].1,
                kind: "build".into(),
                integrated_at_ms: 1_000,
                signers: vec![hex::encode([7; 32])],
                terms: SearchTerms {
                    artifacts: vec![artifact(1), artifact(2)],
                    commits: vec![hex::encode([3; 20])],
                    dir_hashes: vec![artifact(4)],
                    repositories: vec!["https://git.example/app".into()],
                },
            },
            EntryRecord {
                index: 1,
                leaf: leaves[1].0.clone(),
                leaf_hash: [0xa1; 32],
                statement_digest: leaves[1].1,
                kind: "source-submission".into(),
                integrated_at_ms: 2_000,
                signers: vec![hex::encode([7; 32]), hex::encode([8; 32])],
                terms: SearchTerms {
                    // Not canonical hex: stays text, and only matches itself.
                    commits: vec!["ABCDEF".into(), hex::encode([3; 20])],
                    dir_hashes: vec![artifact(4)],
                    repositories: vec!["https://git.example/app".into(), "0bad".into()],
                    ..SearchTerms::default()
                },
            },
            EntryRecord {
                index: 2,
                leaf: leaves[2].0.clone(),
                leaf_hash: [0xa2; 32],
                statement_digest: leaves[2].1,
                kind: "key-event".into(),
                integrated_at_ms: 3_000,
                signers: Vec::new(),
                terms: SearchTerms::default(),
            },
        ];
        for e in &records {
            tx.execute(
                "INSERT INTO entries (idx, leaf, leaf_hash, kind, integrated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![e.index as i64, e.leaf, &e.leaf_hash[..], e.kind, e.integrated_at_ms],
            )
            .unwrap();
            let fields = [
                ("artifact", &e.terms.artifacts),
                ("commit", &e.terms.commits),
                ("dirhash", &e.terms.dir_hashes),
                ("repository", &e.terms.repositories),
                ("signer", &e.signers),
            ];
            for (field, values) in fields {
                for v in values {
                    tx.execute(
                        "INSERT INTO entry_terms (field, value, idx) VALUES (?1, ?2, ?3)",
                        rusqlite::params![field, v, e.index as i64],
                    )
                    .unwrap();
                }
            }
            if e.index != 2 {
                tx.execute(
                    "INSERT INTO nodes (level, idx, hash) VALUES (0, ?1, ?2)",
                    rusqlite::params![e.index as i64, &e.leaf_hash[..]],
                )
                .unwrap();
            }
        }
        tx.execute(
            "INSERT INTO key_events (idx, key_id, action, details) VALUES (2, 'k', 'register', '{}')",
            [],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO checkpoints (size, note, created_at) VALUES (3, x'6e6f7465', 3000)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
        records
    }

    #[test]
    fn a_version_2_database_migrates_in_place_and_searches_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let mut expected = version_2_database(&path);
        // Version 2 returned every field's values sorted.
        for e in &mut expected {
            e.terms.commits.sort();
            e.terms.repositories.sort();
            e.signers.sort();
        }
        let s = SqliteStorage::open(&path, 1).unwrap();
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // Schema 3's index of leaf hashes is gone again at schema 8.
        let leaf_index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'nodes_leaf_hash'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(leaf_index, 0);
        // Each entry with its leaf hash (its level-0 node).
        assert_eq!(s.entries(&[0, 1, 2]).unwrap(), expected);
        // Every statement is found at its first position, the later copy's too.
        assert_eq!(
            s.find_statements(&[expected[1].statement_digest, expected[2].statement_digest])
                .unwrap(),
            vec![
                Some(FirstCopy {
                    index: 0,
                    signers: expected[0].signers.clone()
                }),
                Some(FirstCopy {
                    index: 2,
                    signers: Vec::new()
                }),
            ]
        );
        assert_eq!(
            s.read_hashes(&[NodeId { level: 0, index: 2 }]).unwrap(),
            [[0xa2; 32]]
        );
        assert_eq!(s.key_events().unwrap().len(), 1);
        // The index is built from the stored leaves, as of the newest checkpoint:
        // each key's count and the chain over the indexes filed under it.
        let mut index = s.index_leaves(0).unwrap();
        index.leaves.sort_by_key(|(k, _)| *k);
        let filed = |key: IndexKey, indexes: &[u64]| (key.hash(), ListHead::of(indexes).unwrap());
        let source = IndexKey::Source(hex::encode([4; 32]));
        let mut want = vec![
            filed(IndexKey::Signer(key_id(7)), &[0, 1]),
            filed(IndexKey::Signer(key_id(8)), &[1]),
            filed(source, &[0, 1]),
            filed(IndexKey::Signer(key_id(9)), &[2]),
            filed(IndexKey::Signer(key_id(10)), &[2]),
            filed(IndexKey::Registry, &[2]),
        ];
        want.sort_by_key(|(k, _)| *k);
        assert_eq!(
            index,
            IndexSnapshot {
                size: 3,
                leaves: want
            }
        );
        let found = |q: SearchQuery| -> Vec<u64> {
            s.search(&SearchQuery { limit: 10, ..q })
                .unwrap()
                .iter()
                .map(|e| e.index)
                .collect()
        };
        let some = |v: &str| Some(v.to_string());
        assert_eq!(
            found(SearchQuery {
                artifact: some(&hex::encode([2; 32])),
                ..Default::default()
            }),
            [0]
        );
        assert_eq!(
            found(SearchQuery {
                commit: some(&hex::encode([3; 20])),
                ..Default::default()
            }),
            [0, 1]
        );
        assert_eq!(
            found(SearchQuery {
                commit: some("ABCDEF"),
                ..Default::default()
            }),
            [1]
        );
        assert_eq!(
            found(SearchQuery {
                commit: some("abcdef"),
                ..Default::default()
            }),
            [0u64; 0]
        );
        assert_eq!(
            found(SearchQuery {
                dir_hash: some(&hex::encode([4; 32])),
                ..Default::default()
            }),
            [0, 1]
        );
        assert_eq!(
            found(SearchQuery {
                repositories: Some(vec!["0bad".into()]),
                ..Default::default()
            }),
            [1]
        );
        assert_eq!(
            found(SearchQuery {
                repositories: Some(vec!["https://git.example/app".into()]),
                kind: some("build"),
                ..Default::default()
            }),
            [0]
        );
        assert_eq!(
            found(SearchQuery {
                signers: Some(vec![hex::encode([8; 32])]),
                ..Default::default()
            }),
            [1]
        );
        assert_eq!(
            found(SearchQuery {
                kind: some("key-event"),
                ..Default::default()
            }),
            [2]
        );
        assert_eq!(
            found(SearchQuery {
                kind: some("review"),
                ..Default::default()
            }),
            [0u64; 0]
        );
        // The migrated log grows.
        let next = |leaf_hash: Hash| Batch {
            entries: vec![EntryRecord {
                index: 3,
                leaf_hash,
                ..expected[0].clone()
            }],
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 4,
                note: b"n".to_vec(),
                created_at_ms: 4_000,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        };
        s.append_batch(&next([0xa3; 32])).unwrap();
        assert_eq!(s.entry(3).unwrap().unwrap().leaf_hash, [0xa3; 32]);
        assert_eq!(
            found(SearchQuery {
                artifact: some(&hex::encode([2; 32])),
                ..Default::default()
            }),
            [0, 3]
        );
    }

    #[test]
    fn a_stored_leaf_that_is_no_envelope_stops_the_migration_at_version_3() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for step in &MIGRATIONS[..3] {
                step.apply(&tx).unwrap();
            }
            tx.execute_batch(
                "INSERT INTO term_values (id, field, value) VALUES (1, 0, 'build');
                 INSERT INTO entries (idx, kind, integrated_at, terms, leaf)
                 VALUES (0, 1, 0, '1', x'7b7d');",
            )
            .unwrap();
            tx.pragma_update(None, "user_version", 3).unwrap();
            tx.commit().unwrap();
        }
        let err = SqliteStorage::open(&path, 1).err().expect("a corrupt leaf");
        assert!(
            matches!(&err, StorageError::Corrupt(m) if m.contains("entry 0")),
            "{err}"
        );
        let conn = Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 3);
        let leaf: Vec<u8> = conn
            .query_row("SELECT leaf FROM entries WHERE idx = 0", [], |r| r.get(0))
            .unwrap();
        assert_eq!(leaf, b"{}");
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
