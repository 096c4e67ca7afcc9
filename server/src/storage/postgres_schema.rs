//! The PostgreSQL schema and its migrations, versioned in a `schema_version` table.
//!
//! Several nodes may start at once against one database, so every migration step
//! runs in its own transaction under a transaction-scoped advisory lock: one node
//! migrates, the others wait, then find the version already current. PostgreSQL
//! DDL is transactional, so a crash mid-migration leaves the previous version.
//! Migrations are only ever appended to this list.

use postgres::{Client, Transaction};

use super::records::{statement_digest_of_leaf, IndexBuilder};
use super::StorageError;

/// One step of the schema.
enum Migration {
    /// What SQL alone can do.
    Sql(&'static str),
    /// A step that computes from stored data what SQL cannot (in the same
    /// transaction as the version bump, like an SQL step).
    Code(fn(&mut Transaction<'_>) -> Result<(), StorageError>),
}

impl Migration {
    fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), StorageError> {
        match self {
            Migration::Sql(sql) => tx.batch_execute(sql).map_err(db),
            Migration::Code(step) => step(tx),
        }
    }
}

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 1: the initial schema (the same tables as SQLite's, plus the sequencer lease).
    Migration::Sql(
        "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE entries (
        idx            BIGINT PRIMARY KEY,
        leaf           BYTEA  NOT NULL,
        leaf_hash      BYTEA  NOT NULL UNIQUE,
        kind           TEXT   NOT NULL,
        integrated_at  BIGINT NOT NULL
    );
    CREATE INDEX entries_kind ON entries (kind, idx);
    CREATE INDEX entries_integrated_at ON entries (integrated_at, idx);
    CREATE TABLE entry_terms (
        field  TEXT   NOT NULL,
        value  TEXT   NOT NULL,
        idx    BIGINT NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (field, value, idx)
    );
    CREATE INDEX entry_terms_by_entry ON entry_terms (idx);
    CREATE TABLE nodes (
        level  SMALLINT NOT NULL,
        idx    BIGINT   NOT NULL,
        hash   BYTEA    NOT NULL,
        PRIMARY KEY (level, idx)
    );
    CREATE TABLE checkpoints (
        size        BIGINT PRIMARY KEY,
        note        BYTEA  NOT NULL,
        created_at  BIGINT NOT NULL
    );
    CREATE TABLE key_events (
        idx      BIGINT PRIMARY KEY REFERENCES entries (idx),
        key_id   TEXT NOT NULL,
        action   TEXT NOT NULL,
        details  TEXT NOT NULL
    );
    CREATE INDEX key_events_by_key ON key_events (key_id, idx);
    -- The sequencer lease (docs/postgres.md): one row, taken and renewed by
    -- compare-and-swap; epoch grows with every change of holder and fences commits.
    CREATE TABLE lease (
        name        TEXT PRIMARY KEY,
        holder      TEXT        NOT NULL,
        epoch       BIGINT      NOT NULL,
        url         TEXT        NOT NULL,
        expires_at  TIMESTAMPTZ NOT NULL
    );
    ",
    ),
    // 2: witness cosignatures (C2SP tlog-cosignature v1) gathered after a checkpoint
    // was signed; at most one per witness key per checkpoint.
    Migration::Sql(
        "
    CREATE TABLE cosignatures (
        size      BIGINT NOT NULL REFERENCES checkpoints (size),
        name      TEXT   NOT NULL,
        key_id    BIGINT NOT NULL,
        line      TEXT   NOT NULL,
        added_at  BIGINT NOT NULL,
        PRIMARY KEY (size, name, key_id)
    );
    ",
    ),
    // 3: every entry's statement digest, indexed (see `add_statement_digests`).
    Migration::Code(add_statement_digests),
    // 4: the verifiable index's leaves (see `add_index`).
    Migration::Code(add_index),
    // 5: the index's leaves as an append-only record of changes (the same table as
    // SQLite's schema 6): a batch inserts at the right edge of one B-tree instead of
    // updating rows all over two of them.
    Migration::Sql(
        "
    CREATE TABLE index_changes (
        size   BIGINT NOT NULL,
        key    BYTEA  NOT NULL CHECK (octet_length(key) = 32),
        count  BIGINT NOT NULL CHECK (count > 0),
        head   BYTEA  NOT NULL CHECK (octet_length(head) = 32),
        PRIMARY KEY (size, key)
    );
    INSERT INTO index_changes (size, key, count, head)
        SELECT changed_at, key, count, head FROM index_leaves;
    DROP TABLE index_leaves;
    ",
    ),
    // 6: the index's changes as one record per batch (the same table as SQLite's
    // schema 7): the leaves a batch changed, each key, count (big-endian, as
    // `int8send` writes it) and head, in key order, under the batch's size.
    Migration::Sql(
        "
    CREATE TABLE index_batches (
        size    BIGINT PRIMARY KEY,
        leaves  BYTEA  NOT NULL
    );
    INSERT INTO index_batches (size, leaves)
        SELECT size, string_agg(key || int8send(count) || head, ''::bytea ORDER BY key)
        FROM index_changes GROUP BY size;
    DROP TABLE index_changes;
    ",
    ),
    // 7: no index of leaf hashes (SQLite's schema 8): nothing looks an entry up by
    // its leaf hash (the duplicate rule is on statement digests), and the unique
    // constraint's index took a random B-tree page per entry in every commit. A
    // batch rewriting a stored entry is still refused, by the primary keys of
    // `entries` and `nodes`.
    Migration::Sql("ALTER TABLE entries DROP CONSTRAINT entries_leaf_hash_key;"),
];

/// Schema 4: the verifiable index (docs/formats/index.md), one row per index key
/// with its value and the size of the checkpoint of the batch that last changed
/// it (the same table as SQLite's schema 5). A log written before the index was
/// kept is indexed here, from its stored leaves, a page per round trip.
fn add_index(tx: &mut Transaction<'_>) -> Result<(), StorageError> {
    tx.batch_execute(
        "
        CREATE TABLE index_leaves (
            key         BYTEA  PRIMARY KEY CHECK (octet_length(key) = 32),
            count       BIGINT NOT NULL CHECK (count > 0),
            head        BYTEA  NOT NULL CHECK (octet_length(head) = 32),
            changed_at  BIGINT NOT NULL
        );
        CREATE INDEX index_leaves_changed ON index_leaves (changed_at);
        ",
    )
    .map_err(db)?;
    let mut builder = IndexBuilder::default();
    let size = for_each_page_of_leaves(tx, |_, rows| {
        rows.iter()
            .try_for_each(|r| builder.add(r.get(0), r.get(1)))
    })?;
    let leaves = builder.finish();
    for page in leaves.chunks(BACKFILL_PAGE as usize) {
        let keys: Vec<&[u8]> = page.iter().map(|(k, _)| &k[..]).collect();
        let counts = page
            .iter()
            .map(|(_, v)| i64::try_from(v.count))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| StorageError::Corrupt("index count out of range".into()))?;
        let heads: Vec<&[u8]> = page.iter().map(|(_, v)| &v.head[..]).collect();
        tx.execute(
            "INSERT INTO index_leaves (key, count, head, changed_at)
             SELECT u.key, u.count, u.head, $4 FROM unnest($1::bytea[], $2::bigint[], $3::bytea[])
                 AS u (key, count, head)",
            &[&keys, &counts, &heads, &size],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// Entries one round trip of a migration reads ([`for_each_page_of_leaves`]).
const BACKFILL_PAGE: i64 = 1000;

/// Calls `page` with every stored entry's (idx, leaf), in log order, a page of
/// [`BACKFILL_PAGE`] rows per round trip; returns the number of entries read past
/// (the last index plus one, 0 for an empty log).
fn for_each_page_of_leaves(
    tx: &mut Transaction<'_>,
    mut page: impl FnMut(&mut Transaction<'_>, &[postgres::Row]) -> Result<(), StorageError>,
) -> Result<i64, StorageError> {
    let mut after = -1i64;
    loop {
        let rows = tx
            .query(
                "SELECT idx, leaf FROM entries WHERE idx > $1 ORDER BY idx LIMIT $2",
                &[&after, &BACKFILL_PAGE],
            )
            .map_err(db)?;
        let Some(last) = rows.last() else {
            return Ok(after + 1);
        };
        after = last.get(0);
        page(tx, &rows)?;
    }
}

/// Schema 3: the statement digest of every entry (SHA-256 of the DSSE PAE,
/// docs/formats/attestations.md), indexed with the entry's index so that the
/// first entry carrying a statement is one index seek: the sequencer logs a
/// statement once, at its first position (docs/decisions.md).
///
/// The digest is computed here from each stored leaf (canonical envelope JSON),
/// a page of entries per round trip. A leaf that is not a DSSE envelope stops
/// the migration: the log stores nothing else, so the database is corrupt.
fn add_statement_digests(tx: &mut Transaction<'_>) -> Result<(), StorageError> {
    tx.batch_execute("ALTER TABLE entries ADD COLUMN statement BYTEA")
        .map_err(db)?;
    for_each_page_of_leaves(tx, |tx, rows| {
        let mut idx = Vec::with_capacity(rows.len());
        let mut digests = Vec::with_capacity(rows.len());
        for r in rows {
            let i: i64 = r.get(0);
            digests.push(statement_digest_of_leaf(i, r.get(1))?.to_vec());
            idx.push(i);
        }
        tx.execute(
            "UPDATE entries e SET statement = u.statement
             FROM unnest($1::bigint[], $2::bytea[]) AS u (idx, statement)
             WHERE e.idx = u.idx",
            &[&idx, &digests],
        )
        .map_err(db)?;
        Ok(())
    })?;
    tx.batch_execute(
        "
        ALTER TABLE entries ALTER COLUMN statement SET NOT NULL;
        ALTER TABLE entries ADD CONSTRAINT entries_statement_is_sha256
            CHECK (octet_length(statement) = 32);
        CREATE INDEX entries_statement ON entries (statement, idx);
        ",
    )
    .map_err(db)
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Advisory lock key serialising migrations across nodes ("glassbox" in ASCII).
const MIGRATION_LOCK: i64 = 0x676c_6173_7362_6f78;

/// Bring the database up to [`SCHEMA_VERSION`]; refuse a newer one.
pub fn migrate(client: &mut Client) -> Result<(), StorageError> {
    loop {
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .map_err(db)?;
        let found: i64 = tx
            .query_opt("SELECT version FROM schema_version", &[])
            .map_err(db)?
            .map_or(0, |r| r.get(0));
        if found > SCHEMA_VERSION {
            return Err(StorageError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(step) = MIGRATIONS.get(found as usize) else {
            return tx.commit().map_err(db);
        };
        step.apply(&mut tx)?;
        if found == 0 {
            tx.execute("INSERT INTO schema_version (version) VALUES (1)", &[])
                .map_err(db)?;
        } else {
            tx.execute("UPDATE schema_version SET version = $1", &[&(found + 1)])
                .map_err(db)?;
        }
        // Durability point: the migration and its version number commit together.
        tx.commit().map_err(db)?;
    }
}

/// A PostgreSQL error, transient when a retry may succeed (see [`is_transient`]).
pub(super) fn db(e: postgres::Error) -> StorageError {
    StorageError::Database {
        transient: is_transient(&e),
        source: Box::new(e),
    }
}

/// Connection failures (the connection closed, could not be made or broke
/// mid-call: class 08 or an I/O error on the socket), `serialization_failure`,
/// `deadlock_detected` and class 57P (the server shutting down or starting).
/// Everything else (constraint violations, bad SQL, a failed type conversion,
/// disk full on the server) will fail again.
pub(super) fn is_transient(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    if let Some(code) = e.code() {
        return *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || code.code().starts_with("57P")
            || code.code().starts_with("08");
    }
    e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client on the test database (`source .ci/postgres`), or `None` (skipped).
    fn client() -> Option<Client> {
        let url = std::env::var("GLASSBOX_TEST_POSTGRES").ok()?;
        Some(Client::connect(&url, postgres::NoTls).expect("connect to test PostgreSQL"))
    }

    /// The error of a statement raising SQLSTATE `code` on the server.
    fn raised(c: &mut Client, code: &str) -> StorageError {
        let sql = format!("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{code}'; END $$");
        db(c.batch_execute(&sql).unwrap_err())
    }

    #[test]
    fn serialization_deadlock_and_shutdown_are_transient_and_the_rest_fatal() {
        let Some(mut c) = client() else {
            eprintln!("SKIPPED: GLASSBOX_TEST_POSTGRES not set");
            return;
        };
        for code in ["40001", "40P01", "57P01", "57P03", "08006"] {
            assert!(raised(&mut c, code).is_transient(), "{code}");
        }
        // unique_violation, division_by_zero, disk_full, io_error, syntax_error
        for code in ["23505", "22012", "53100", "58030", "42601"] {
            assert!(!raised(&mut c, code).is_transient(), "{code}");
        }
        // The server's message survives in the error's text.
        assert!(raised(&mut c, "40001").to_string().contains("raised"));
    }

    #[test]
    fn a_server_nobody_listens_on_is_transient() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://nobody@127.0.0.1:{port}/none?connect_timeout=5");
        let err = Client::connect(&url, postgres::NoTls)
            .map(drop)
            .map_err(db)
            .unwrap_err();
        assert!(err.is_transient(), "{err}");
    }

    #[test]
    fn a_connection_the_server_terminated_is_transient() {
        let (Some(mut victim), Some(mut admin)) = (client(), client()) else {
            eprintln!("SKIPPED: GLASSBOX_TEST_POSTGRES not set");
            return;
        };
        let pid: i32 = victim
            .query_one("SELECT pg_backend_pid()", &[])
            .unwrap()
            .get(0);
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
        let err = victim.batch_execute("SELECT 1").map_err(db).unwrap_err();
        assert!(err.is_transient(), "{err}");
    }
}
