//! SQLite implementation of [`Storage`]: WAL journal, `synchronous=FULL`, one
//! write connection used only by the sequencer, a small pool of read
//! connections for HTTP handlers, and a checkpointer thread with a connection
//! of its own that copies committed WAL frames into the database file.
//!
//! Checkpointing is off the commit path: with SQLite's default the commit that
//! crosses 1,000 WAL frames also copies them into the database file and fsyncs
//! it, inside the sequencer's serial stage. Here the writer's automatic
//! checkpoint is off, every commit wakes the checkpointer, and it runs a
//! `PASSIVE` checkpoint (which never blocks the writer or readers) on its own
//! thread. Durability is unchanged: a commit is durable once its WAL frames are
//! fsynced, before any checkpoint.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use super::ranged::{Held, Moved, ARTIFACTS, STATEMENTS};
use super::records::{
    decode_index_leaves, encode_index_leaves, newer, Batch, CheckpointRecord, DayCount,
    EntryRecord, FirstCopy, IndexSnapshot, KeyEventRecord, LogIdentity, DAY_MS,
};
use super::schema::{db, migrate};
use super::{Hash, LogStore, NodeId, QueryStore, SearchQuery, SearchTerms, Storage, StorageError};

/// A log stored in one SQLite file.
///
/// Handles made by [`LogStore::for_sequencer`] share the file's connections, but
/// read on a connection of their own that no other handle's reads can hold.
pub struct SqliteStorage {
    shared: Arc<Shared>,
    /// Reads go to [`Shared::sequencer_reader`] instead of the pool.
    sequencer: bool,
}

/// The connections of one database file, shared by its handles.
pub struct Shared {
    // Field order is drop order: the read-only connections close first, then
    // the checkpointer's (its thread joined), so the writer is the last connection and its close checkpoints the WAL into the
    // database file and removes it. A clean shutdown leaves one self-contained
    // file (a copy of it alone is a backup; docs/operations.md).
    readers: Vec<Mutex<Connection>>,
    /// The sequencer's own read connection: its duplicate checks and reloads never
    /// wait behind an HTTP read.
    sequencer_reader: Mutex<Connection>,
    checkpointer: Checkpointer,
    writer: Mutex<Connection>,
    next_reader: AtomicUsize,
    /// The digests not yet moved to `statement_index` and `artifact_index`
    /// (super::ranged). A lookup locks them before its snapshot's first read and
    /// until it has read both, so a range moved by a commit is never missing from
    /// both this and the lookup's snapshot.
    held: Mutex<HeldDigests>,
    /// The WAL file, and the size past which the writer checkpoints it itself.
    wal: std::path::PathBuf,
    wal_limit: AtomicU64,
    /// The write connection's page cache as last set ([`writer_cache_kib`]).
    writer_cache_kib: AtomicI64,
}

/// The recent digests of both tables kept one range per commit.
struct HeldDigests {
    statements: Held,
    artifacts: Held,
}

impl HeldDigests {
    fn catch_up(&mut self, tx: &Transaction<'_>) -> Result<(), StorageError> {
        self.statements.catch_up(tx)?;
        self.artifacts.catch_up(tx)
    }
}

impl std::ops::Deref for SqliteStorage {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// Default bound of the WAL file. A `PASSIVE` checkpoint never resets the WAL
/// by itself: the writer restarts it from the beginning only when it begins a
/// transaction after a checkpoint that copied every frame. A writer that never
/// pauses (the seeding of a large log, a saturated sequencer) can therefore
/// outrun the checkpointer for good and grow the WAL until the disk is full —
/// which happened while seeding a 10^7-entry log. Past this size the writer
/// runs a `TRUNCATE` checkpoint itself before its next transaction, as SQLite's
/// automatic checkpoint would have, but only when the background one fell behind.
pub const DEFAULT_WAL_LIMIT_BYTES: u64 = 256 << 20;

/// The write connection's page cache, in KiB, for a log of `entries`: 4 MiB,
/// and 1.25 MiB more per whole million entries, up to 16 MiB (from 10 million).
/// SQLite's default of 2 MiB made a batch spill dirty index pages to the WAL
/// mid-transaction and re-read index pages from the OS on every batch once the
/// log passed ~10^5 entries. The random-keyed indexes that needed most of it
/// are gone (schemas 8–10); what a batch still dirties beyond its own entries
/// and nodes grows with the log: the pages of one range of each digest table
/// (super::ranged), about a page per moved digest once a range outgrows a batch
/// (a few million entries), ≈ 9 MB at 10^7 entries, which 16 MiB holds without
/// spilling. A fixed 16 MiB cost a small log that much resident memory for
/// pages it rereads from the OS at no measurable cost (docs/performance.md,
/// "Server RSS under ingestion").
fn writer_cache_kib(entries: u64) -> i64 {
    let millions = i64::try_from(entries / 1_000_000).unwrap_or(i64::MAX);
    millions
        .saturating_mul(1280)
        .saturating_add(WRITER_CACHE_MIN_KIB)
        .min(WRITER_CACHE_MAX_KIB)
}

const WRITER_CACHE_MIN_KIB: i64 = 4 * 1024;
const WRITER_CACHE_MAX_KIB: i64 = 16 * 1024;

/// The thread that checkpoints the WAL (see the module documentation). Dropping
/// it stops the thread after the checkpoint in progress.
struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Held while either connection checkpoints: SQLite refuses a second
    /// checkpoint at once (SQLITE_BUSY) instead of waiting for the first.
    running: Arc<Mutex<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StorageError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        // One pending wake-up is enough: a checkpoint copies every frame
        // committed before it starts, so commits during one coalesce.
        let (wake, woken) = sync_channel::<()>(1);
        let running = Arc::new(Mutex::new(()));
        let lock = running.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    let _running = lock.lock().unwrap_or_else(|p| p.into_inner());
                    // Failure is harmless (the frames stay in the WAL, readers see
                    // them there, the next checkpoint or the clean close copies
                    // them) but is worth a line in the log.
                    let r = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| StorageError::Database {
                source: Box::new(e),
                transient: false,
            })?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
            running,
        })
    }

    /// A commit added frames to the WAL.
    fn wake(&self) {
        if let Some(w) = &self.wake {
            match w.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("the WAL checkpointer stopped; the WAL grows until restart")
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl SqliteStorage {
    /// Open (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, read_connections: usize) -> Result<Self, StorageError> {
        let mut writer = Connection::open(path).map_err(db)?;
        configure(&writer)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)?;
        // A migration rewrites whole tables: it gets the largest cache, and the
        // log's own size is known once the schema is current.
        writer
            .pragma_update(None, "cache_size", -WRITER_CACHE_MAX_KIB)
            .map_err(db)?;
        migrate(&mut writer)?;
        let entries: i64 = writer
            .query_row("SELECT coalesce(max(size), 0) FROM checkpoints", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        let cache_kib = writer_cache_kib(u64::try_from(entries).unwrap_or(0));
        writer
            .pragma_update(None, "cache_size", -cache_kib)
            .map_err(db)?;
        let checkpointer = Checkpointer::start(path)?;
        let open_reader = || -> Result<Mutex<Connection>, StorageError> {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(db)?;
            Ok(Mutex::new(conn))
        };
        let readers = (0..read_connections.max(1))
            .map(|_| open_reader())
            .collect::<Result<_, _>>()?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(SqliteStorage {
            shared: Arc::new(Shared {
                readers,
                sequencer_reader: open_reader()?,
                checkpointer,
                writer: Mutex::new(writer),
                next_reader: AtomicUsize::new(0),
                held: Mutex::new(HeldDigests {
                    statements: Held::new(&STATEMENTS),
                    artifacts: Held::new(&ARTIFACTS),
                }),
                wal: wal.into(),
                wal_limit: AtomicU64::new(DEFAULT_WAL_LIMIT_BYTES),
                writer_cache_kib: AtomicI64::new(cache_kib),
            }),
            sequencer: false,
        })
    }

    /// The same store with another WAL bound (see [`DEFAULT_WAL_LIMIT_BYTES`]).
    pub fn with_wal_limit(self, bytes: u64) -> Self {
        self.wal_limit.store(bytes, Ordering::Relaxed);
        self
    }

    /// Run `f` inside a read transaction on a pooled connection, so multi-statement
    /// reads see one snapshot (WAL readers never block the writer).
    fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let slot = if self.sequencer {
            &self.sequencer_reader
        } else {
            &self.readers[self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len()]
        };
        let mut conn = slot
            .lock()
            .map_err(|_| StorageError::fatal("read connection poisoned"))?;
        let tx = conn.transaction().map_err(db)?;
        let out = f(&tx)?;
        tx.finish().map_err(db)?;
        Ok(out)
    }

    fn held(&self) -> Result<std::sync::MutexGuard<'_, HeldDigests>, StorageError> {
        self.held
            .lock()
            .map_err(|_| StorageError::fatal("held digests poisoned"))
    }

    /// The IDs of the search terms naming `artifact` (`None` when not asked),
    /// from the table and from memory. Must be the first read of `tx`: the held
    /// digests are locked before the snapshot starts.
    fn artifact_terms(
        &self,
        tx: &Transaction<'_>,
        artifact: Option<&str>,
    ) -> Result<Option<Vec<i64>>, StorageError> {
        let Some(artifact) = artifact else {
            return Ok(None);
        };
        // Artifacts are stored as 32-byte digests: any other value names none.
        let rusqlite::types::Value::Blob(bytes) = term_value(artifact) else {
            return Ok(Some(Vec::new()));
        };
        let Ok(digest) = Hash::try_from(bytes.as_slice()) else {
            return Ok(Some(Vec::new()));
        };
        let mut held = self.held()?;
        held.artifacts.catch_up(tx)?;
        let mut ids = tx
            .prepare_cached("SELECT term FROM artifact_index WHERE artifact = ?1")
            .map_err(db)?
            .query_map([&digest[..]], |r| r.get::<_, i64>(0))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        for id in held.artifacts.positions(&digest) {
            ids.push(to_i64(id)?);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(ids))
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StorageError::fatal("write connection poisoned"))?;
        if std::fs::metadata(&self.wal)
            .is_ok_and(|m| m.len() > self.wal_limit.load(Ordering::Relaxed))
        {
            // The checkpointer fell behind (DEFAULT_WAL_LIMIT_BYTES): copy every
            // frame and empty the WAL before writing more. Busy readers make it
            // wait (busy_timeout) or fail; either way the write goes on.
            let _running = self
                .checkpointer
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            }) {
                Ok(0) => {}
                Ok(_) => tracing::warn!("WAL over its bound; readers kept it from being emptied"),
                Err(e) => {
                    tracing::warn!(error = %e, "WAL over its bound and the checkpoint failed")
                }
            }
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&tx)?;
        // Durability point: with WAL and synchronous=FULL the commit returns only
        // after the WAL is fsynced.
        tx.commit().map_err(db)?;
        self.checkpointer.wake();
        Ok(out)
    }
}

fn configure(conn: &Connection) -> Result<(), StorageError> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::fatal(format!(
            "cannot enable WAL journal mode (got {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db)?;
    Ok(())
}

pub(super) fn hash_from(blob: Vec<u8>) -> Result<Hash, StorageError> {
    blob.try_into()
        .map_err(|b: Vec<u8>| StorageError::Corrupt(format!("hash of {} bytes", b.len())))
}

pub(super) fn to_i64(v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Corrupt(format!("{v} exceeds SQLite integers")))
}

/// An entry row with its kind's value and its leaf hash (the level-0 node; a
/// missing one reads as NULL and is reported as corruption).
const ENTRY_SELECT: &str =
    "SELECT e.idx, e.leaf, n.hash, k.value, e.integrated_at, e.terms, e.statement
     FROM entries e
     JOIN term_values k ON k.id = e.kind
     LEFT JOIN nodes n ON n.level = 0 AND n.idx = e.idx";

/// (idx, leaf, leaf_hash, kind, integrated_at, term IDs, statement digest) as
/// read by [`ENTRY_SELECT`].
type EntryRow = (i64, Vec<u8>, Option<Vec<u8>>, String, i64, String, Vec<u8>);

fn entry_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        term_text(row.get_ref(3)?)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

/// The query of a search: `select` (columns of `entries e` joined as needed)
/// followed by the conditions of `q`, in index order, with its arguments.
/// `artifact_terms` are the term IDs of `q.artifact`, found beforehand
/// ([`SqliteStorage::artifact_terms`]). Every other value is looked up by the
/// partial index `term_values_interned`, which SQLite uses only for a query
/// that says `field <> 1` itself.
fn search_sql(
    select: &str,
    q: &SearchQuery,
    artifact_terms: Option<&[i64]>,
) -> Result<(String, Vec<rusqlite::types::Value>), StorageError> {
    let mut sql = format!("{select} WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(ids) = artifact_terms {
        let slots = bind_all(&mut args, ids.iter().map(|id| (*id).into()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.term IN ({slots}))"
        ));
    }
    // A value never recorded has no ID: the subquery is NULL and nothing matches.
    for (field, value) in [(COMMIT, &q.commit), (DIRHASH, &q.dir_hash)] {
        if let Some(v) = value {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.term = \
                 (SELECT id FROM term_values \
                  WHERE field = {field} AND field <> {ARTIFACT} AND value = ?{}))",
                args.len() + 1
            ));
            args.push(term_value(v));
        }
    }
    if let Some(repositories) = &q.repositories {
        let slots = bind_all(&mut args, repositories.iter().map(|v| term_value(v)));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.term IN \
             (SELECT id FROM term_values \
              WHERE field = {REPOSITORY} AND field <> {ARTIFACT} AND value IN ({slots})))"
        ));
    }
    // A signer: what the key signed, and the key events about the key.
    if let Some(keys) = &q.signers {
        // Terms are stored as bytes when hex, key events' key IDs as text.
        let terms = bind_all(&mut args, keys.iter().map(|v| term_value(v)));
        let ids = bind_all(
            &mut args,
            keys.iter().map(|v| rusqlite::types::Value::Text(v.clone())),
        );
        sql.push_str(&format!(
            " AND (EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.term IN \
             (SELECT id FROM term_values \
              WHERE field = {SIGNER} AND field <> {ARTIFACT} AND value IN ({terms}))) \
             OR EXISTS (SELECT 1 FROM key_events k WHERE k.idx = e.idx AND k.key_id IN ({ids})))"
        ));
    }
    if let Some(kind) = &q.kind {
        sql.push_str(&format!(
            " AND e.kind = (SELECT id FROM term_values \
              WHERE field = {KIND} AND field <> {ARTIFACT} AND value = ?{})",
            args.len() + 1
        ));
        args.push(term_value(kind));
    }
    if let Some(since) = q.since_ms {
        sql.push_str(&format!(" AND e.integrated_at >= ?{}", args.len() + 1));
        args.push(since.into());
    }
    if let Some(until) = q.until_ms {
        sql.push_str(&format!(" AND e.integrated_at <= ?{}", args.len() + 1));
        args.push(until.into());
    }
    if let Some(after) = q.after {
        sql.push_str(&format!(" AND e.idx > ?{}", args.len() + 1));
        args.push(to_i64(after)?.into());
    }
    if let Some(before) = q.before {
        sql.push_str(&format!(" AND e.idx < ?{}", args.len() + 1));
        args.push(to_i64(before)?.into());
    }
    sql.push_str(&format!(" ORDER BY e.idx LIMIT ?{}", args.len() + 1));
    args.push((q.limit as i64).into());
    Ok((sql, args))
}

/// Bind `values` as the next arguments of `args`; their placeholders, joined by
/// commas (none for no values: `IN ()` matches nothing).
fn bind_all(
    args: &mut Vec<rusqlite::types::Value>,
    values: impl IntoIterator<Item = rusqlite::types::Value>,
) -> String {
    let slots: Vec<String> = values
        .into_iter()
        .map(|v| {
            args.push(v);
            format!("?{}", args.len())
        })
        .collect();
    slots.join(", ")
}

/// `term_values.field` of each search column (schema migration 3). Values are
/// stored once each (the partial unique index `term_values_interned`), except
/// artifacts (schema 10): a build's artifact gets a term of its own, found by
/// `artifact_index` (super::ranged), so no commit writes a random page of a
/// unique index per new artifact.
const KIND: i64 = 0;
const ARTIFACT: i64 = 1;
const COMMIT: i64 = 2;
const DIRHASH: i64 = 3;
const REPOSITORY: i64 = 4;
const SIGNER: i64 = 5;

/// A search value as stored: lowercase hex of even length as its bytes (half the
/// space), anything else as text. The mapping is one-to-one, so an exact match on
/// the stored value is an exact match on the string, as before.
fn term_value(v: &str) -> rusqlite::types::Value {
    let hex = !v.is_empty()
        && v.len().is_multiple_of(2)
        && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match hex::decode(v) {
        Ok(bytes) if hex => rusqlite::types::Value::Blob(bytes),
        _ => rusqlite::types::Value::Text(v.to_owned()),
    }
}

/// The string a stored search value stands for (inverse of [`term_value`]).
fn term_text(v: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<String> {
    match v {
        rusqlite::types::ValueRef::Blob(b) => Ok(hex::encode(b)),
        other => other.as_str().map(str::to_owned).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

/// The ID of search value ?2 of field ?1, not an artifact, by the partial
/// unique index (which SQLite uses only when the query says `field <> 1`).
const INTERNED_ID: &str =
    "SELECT id FROM term_values WHERE field = ?1 AND field <> 1 AND value = ?2";

/// The ID of a search value, recording it if new; an artifact is recorded as a
/// new term (its ID and digest added to `artifacts`) unless the batch named it
/// before. `cache` spares the lookups of the values a batch repeats (its
/// signers, repositories, commits).
fn intern<'v>(
    tx: &Transaction<'_>,
    cache: &mut HashMap<(i64, &'v str), i64>,
    artifacts: &mut Vec<(Hash, u64)>,
    field: i64,
    value: &'v str,
) -> Result<i64, StorageError> {
    if let Some(&id) = cache.get(&(field, value)) {
        return Ok(id);
    }
    let stored = term_value(value);
    if field == ARTIFACT {
        let digest = match &stored {
            rusqlite::types::Value::Blob(b) => Hash::try_from(b.as_slice()).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            StorageError::fatal(format!(
                "artifact {value:?} is not a lowercase hex SHA-256 digest"
            ))
        })?;
        tx.prepare_cached("INSERT INTO term_values (field, value) VALUES (?1, ?2)")
            .map_err(db)?
            .execute(params![field, stored])
            .map_err(db)?;
        let id = tx.last_insert_rowid();
        artifacts.push((digest, id as u64));
        cache.insert((field, value), id);
        return Ok(id);
    }
    // Insert first: a value the batch has not met yet is often new (a source's
    // commit and dirHash), and one statement then does what a lookup and an
    // insert did.
    let inserted = tx
        .prepare_cached("INSERT OR IGNORE INTO term_values (field, value) VALUES (?1, ?2)")
        .map_err(db)?
        .execute(params![field, stored])
        .map_err(db)?;
    let id = if inserted == 1 {
        tx.last_insert_rowid()
    } else {
        tx.prepare_cached(INTERNED_ID)
            .map_err(db)?
            .query_row(params![field, stored], |r| r.get(0))
            .map_err(db)?
    };
    cache.insert((field, value), id);
    Ok(id)
}

/// Turn raw rows into records, attaching each entry's search terms and signers
/// (sorted and without repeats per field, as they always were returned).
fn complete_entries(
    tx: &Transaction<'_>,
    rows: Vec<EntryRow>,
) -> Result<Vec<EntryRecord>, StorageError> {
    let mut value_stmt = tx
        .prepare_cached("SELECT field, value FROM term_values WHERE id = ?1")
        .map_err(db)?;
    let mut values: HashMap<i64, (i64, String)> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (idx, leaf, leaf_hash, kind, integrated_at, ids, statement) in rows {
        let mut terms = SearchTerms::default();
        let mut signers = Vec::new();
        for id in ids.split_ascii_whitespace() {
            let id: i64 = id
                .parse()
                .map_err(|_| StorageError::Corrupt(format!("entry {idx}: term ID {id:?}")))?;
            let (field, value) = match values.entry(id) {
                std::collections::hash_map::Entry::Occupied(v) => v.get().clone(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let v = value_stmt
                        .query_row([id], |r| {
                            Ok((r.get::<_, i64>(0)?, term_text(r.get_ref(1)?)?))
                        })
                        .optional()
                        .map_err(db)?
                        .ok_or_else(|| {
                            StorageError::Corrupt(format!("entry {idx}: term {id} is missing"))
                        })?;
                    slot.insert(v).clone()
                }
            };
            match field {
                ARTIFACT => terms.artifacts.push(value),
                COMMIT => terms.commits.push(value),
                DIRHASH => terms.dir_hashes.push(value),
                REPOSITORY => terms.repositories.push(value),
                SIGNER => signers.push(value),
                other => return Err(StorageError::Corrupt(format!("unknown term field {other}"))),
            }
        }
        for list in [
            &mut terms.artifacts,
            &mut terms.commits,
            &mut terms.dir_hashes,
            &mut terms.repositories,
            &mut signers,
        ] {
            list.sort();
            list.dedup();
        }
        let leaf_hash = leaf_hash
            .ok_or_else(|| StorageError::Corrupt(format!("entry {idx} has no leaf hash node")))?;
        out.push(EntryRecord {
            index: idx as u64,
            leaf,
            leaf_hash: hash_from(leaf_hash)?,
            statement_digest: hash_from(statement)?,
            kind,
            integrated_at_ms: integrated_at,
            signers,
            terms,
        });
    }
    Ok(out)
}

fn checkpoint_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CheckpointRecord> {
    Ok(CheckpointRecord {
        size: row.get::<_, i64>(0)? as u64,
        note: row.get(1)?,
        created_at_ms: row.get(2)?,
    })
}

/// Append the recorded cosignature lines of `record`'s checkpoint to its note.
fn with_cosignatures(
    tx: &Transaction<'_>,
    mut record: CheckpointRecord,
) -> Result<CheckpointRecord, StorageError> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT line FROM cosignatures WHERE size = ?1 ORDER BY added_at, name, key_id",
        )
        .map_err(db)?;
    let lines = stmt
        .query_map([to_i64(record.size)?], |r| r.get::<_, String>(0))
        .map_err(db)?;
    for line in lines {
        record.note.extend_from_slice(line.map_err(db)?.as_bytes());
        record.note.push(b'\n');
    }
    Ok(record)
}

impl LogStore for SqliteStorage {
    fn for_sequencer(self: Arc<Self>) -> Arc<dyn Storage> {
        Arc::new(SqliteStorage {
            shared: self.shared.clone(),
            sequencer: true,
        })
    }

    fn identity(&self) -> Result<Option<LogIdentity>, StorageError> {
        self.read(|tx| {
            let get = |key: &str| -> Result<Option<String>, StorageError> {
                tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()
                    .map_err(db)
            };
            LogIdentity::from_stored(get("origin")?, get("vkey")?)
        })
    }

    fn set_identity(&self, identity: &LogIdentity) -> Result<(), StorageError> {
        self.write(|tx| {
            for (key, value) in [("origin", &identity.origin), ("vkey", &identity.vkey)] {
                let existing: Option<String> = tx
                    .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                match existing {
                    Some(v) if &v == value => {}
                    Some(v) => {
                        return Err(StorageError::Corrupt(format!(
                            "log {key} is already recorded as {v:?}"
                        )))
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                            [key, value],
                        )
                        .map_err(db)?;
                    }
                }
            }
            Ok(())
        })
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        let statements: Vec<(Hash, u64)> = batch
            .entries
            .iter()
            .map(|e| (e.statement_digest, e.index))
            .collect();
        let mut artifacts: Vec<(Hash, u64)> = Vec::new();
        let moved: (Moved, Moved) = self.write(|tx| {
            self.held()?.catch_up(tx)?;
            let cache_kib = writer_cache_kib(batch.checkpoint.size);
            if self.writer_cache_kib.swap(cache_kib, Ordering::Relaxed) != cache_kib {
                tx.pragma_update(None, "cache_size", -cache_kib)
                    .map_err(db)?;
            }
            // The level-0 node of every entry is its leaf hash. A batch may leave
            // the level-0 nodes out (they are added here), but may not contradict
            // them, nor rewrite a stored node (the primary key refuses it).
            let mut nodes: Vec<(u8, u64, Hash)> = batch
                .nodes
                .iter()
                .map(|(n, h)| (n.level, n.index, *h))
                .collect();
            let leaves: HashMap<u64, Hash> = batch
                .nodes
                .iter()
                .filter(|(n, _)| n.level == 0)
                .map(|(n, h)| (n.index, *h))
                .collect();
            for e in &batch.entries {
                match leaves.get(&e.index) {
                    Some(h) if *h == e.leaf_hash => {}
                    Some(_) => {
                        return Err(StorageError::fatal(format!(
                            "entry {}'s leaf hash differs from its level-0 node in the batch",
                            e.index
                        )))
                    }
                    None => nodes.push((0, e.index, e.leaf_hash)),
                }
            }
            let mut insert_entry = tx
                .prepare_cached(
                    "INSERT INTO entries (idx, kind, integrated_at, terms, statement, leaf)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db)?;
            let mut insert_term = tx
                .prepare_cached("INSERT OR IGNORE INTO entry_terms (term, idx) VALUES (?1, ?2)")
                .map_err(db)?;
            let mut cache = HashMap::new();
            let mut list = String::new();
            for e in &batch.entries {
                let idx = to_i64(e.index)?;
                let kind = intern(tx, &mut cache, &mut artifacts, KIND, &e.kind)?;
                let fields = [
                    (ARTIFACT, &e.terms.artifacts),
                    (COMMIT, &e.terms.commits),
                    (DIRHASH, &e.terms.dir_hashes),
                    (REPOSITORY, &e.terms.repositories),
                    (SIGNER, &e.signers),
                ];
                let mut ids = Vec::new();
                for (field, values) in fields {
                    for v in values {
                        let id = intern(tx, &mut cache, &mut artifacts, field, v)?;
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                list.clear();
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        list.push(' ');
                    }
                    // Writing to a String cannot fail.
                    let _ = write!(list, "{id}");
                }
                insert_entry
                    .execute(params![
                        idx,
                        kind,
                        e.integrated_at_ms,
                        list,
                        &e.statement_digest[..],
                        e.leaf
                    ])
                    .map_err(db)?;
                for id in ids {
                    insert_term.execute(params![id, idx]).map_err(db)?;
                }
            }
            let mut insert_node = tx
                .prepare_cached("INSERT INTO nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (level, index, hash) in &nodes {
                insert_node
                    .execute(params![level, to_i64(*index)?, &hash[..]])
                    .map_err(db)?;
            }
            let mut insert_event = tx
                .prepare_cached(
                    "INSERT INTO key_events (idx, key_id, action, details) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for ev in &batch.key_events {
                insert_event
                    .execute(params![
                        to_i64(ev.index)?,
                        ev.key_id,
                        ev.action,
                        ev.details.to_string()
                    ])
                    .map_err(db)?;
            }
            let cp = &batch.checkpoint;
            tx.execute(
                "INSERT INTO checkpoints (size, note, created_at) VALUES (?1, ?2, ?3)",
                params![to_i64(cp.size)?, cp.note, cp.created_at_ms],
            )
            .map_err(db)?;
            if !batch.index.is_empty() {
                tx.execute(
                    "INSERT INTO index_batches (size, leaves) VALUES (?1, ?2)",
                    params![to_i64(cp.size)?, encode_index_leaves(&batch.index)],
                )
                .map_err(db)?;
            }
            let terms_end: i64 = tx
                .query_row(
                    "SELECT coalesce(max(id), -1) + 1 FROM term_values",
                    [],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let held = self.held()?;
            Ok((
                held.statements.move_one(tx, &statements, cp.size)?,
                held.artifacts.move_one(tx, &artifacts, terms_end as u64)?,
            ))
        })?;
        let mut held = self.held()?;
        held.statements.moved(&statements, moved.0);
        held.artifacts.moved(&artifacts, moved.1);
        Ok(())
    }

    fn index_leaves(&self, changed_after: u64) -> Result<IndexSnapshot, StorageError> {
        self.read(|tx| {
            // One read transaction: the size and the leaves come from one snapshot.
            let size: Option<i64> = tx
                .query_row("SELECT max(size) FROM checkpoints", [], |r| r.get(0))
                .map_err(db)?;
            let mut stmt = tx
                .prepare_cached(
                    "SELECT size, leaves FROM index_batches WHERE size > ?1 ORDER BY size",
                )
                .map_err(db)?;
            let mut rows = stmt.query(params![to_i64(changed_after)?]).map_err(db)?;
            let mut leaves = Vec::new();
            while let Some(row) = rows.next().map_err(db)? {
                let at: i64 = row.get(0).map_err(db)?;
                // Read in place: a start reads every batch's record.
                let record = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(db)?;
                decode_index_leaves(at as u64, record, &mut leaves)?;
            }
            Ok(IndexSnapshot {
                size: size.map_or(0, |s| s as u64),
                leaves,
            })
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StorageError> {
        self.read(|tx| {
            tx.query_row(
                "SELECT size, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                checkpoint_row,
            )
            .optional()
            .map_err(db)?
            .map(|r| with_cosignatures(tx, r))
            .transpose()
        })
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StorageError> {
        let size = to_i64(size)?;
        self.read(|tx| {
            tx.query_row(
                "SELECT size, note, created_at FROM checkpoints WHERE size = ?1",
                [size],
                checkpoint_row,
            )
            .optional()
            .map_err(db)?
            .map(|r| with_cosignatures(tx, r))
            .transpose()
        })
    }

    fn add_cosignatures(
        &self,
        size: u64,
        cosignatures: &[glassbox_core::note::NoteSignature],
    ) -> Result<(), StorageError> {
        let size = to_i64(size)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.write(|tx| {
            let mut held = tx
                .prepare_cached(
                    "SELECT line FROM cosignatures WHERE size = ?1 AND name = ?2 AND key_id = ?3",
                )
                .map_err(db)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO cosignatures (size, name, key_id, line, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO UPDATE SET line = excluded.line, added_at = excluded.added_at",
                )
                .map_err(db)?;
            for sig in cosignatures {
                let old: Option<String> = held
                    .query_row(params![size, sig.name, i64::from(sig.key_id)], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                if old.is_some_and(|line| !newer(sig, &line)) {
                    continue;
                }
                insert
                    .execute(params![size, sig.name, i64::from(sig.key_id), sig.to_line(), now])
                    .map_err(db)?;
            }
            Ok(())
        })
    }

    fn entry(&self, index: u64) -> Result<Option<EntryRecord>, StorageError> {
        Ok(self.entries(&[index])?.pop())
    }

    fn entries(&self, indexes: &[u64]) -> Result<Vec<EntryRecord>, StorageError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.idx = ?1"))
                .map_err(db)?;
            let mut rows = Vec::with_capacity(indexes.len());
            for &i in indexes {
                if let Some(row) = stmt
                    .query_row([to_i64(i)?], entry_row)
                    .optional()
                    .map_err(db)?
                {
                    rows.push(row);
                }
            }
            complete_entries(tx, rows)
        })
    }

    fn find_statements(&self, digests: &[Hash]) -> Result<Vec<Option<FirstCopy>>, StorageError> {
        self.read(|tx| {
            // Locked before the snapshot is taken (its first read), held to the end.
            let mut held = self.held()?;
            held.statements.catch_up(tx)?;
            // A miss in the table reads no entry row.
            let mut stored = tx
                .prepare_cached(
                    "SELECT idx FROM statement_index WHERE statement = ?1 ORDER BY idx LIMIT 1",
                )
                .map_err(db)?;
            let mut by_index = tx
                .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.idx = ?1"))
                .map_err(db)?;
            digests
                .iter()
                .map(|d| {
                    let stored = stored
                        .query_row([&d[..]], |r| r.get::<_, i64>(0))
                        .optional()
                        .map_err(db)?;
                    let in_memory = held
                        .statements
                        .positions(d)
                        .next()
                        .map(to_i64)
                        .transpose()?;
                    // A log written before statements were logged once may hold
                    // later copies: the first is the smaller index.
                    let Some(idx) = stored.into_iter().chain(in_memory).min() else {
                        return Ok(None);
                    };
                    // A hit is a re-submission, which is rare: the first copy's
                    // signers come from its whole record, in the same snapshot.
                    let row = by_index.query_row([idx], entry_row).map_err(db)?;
                    let e = complete_entries(tx, vec![row])?
                        .pop()
                        .ok_or_else(|| StorageError::Corrupt(format!("entry {idx} vanished")))?;
                    Ok(Some(FirstCopy {
                        index: e.index,
                        signers: e.signers,
                    }))
                })
                .collect()
        })
    }

    fn key_events(&self) -> Result<Vec<KeyEventRecord>, StorageError> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached("SELECT idx, key_id, action, details FROM key_events ORDER BY idx")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (idx, key_id, action, details) = row.map_err(db)?;
                let details = serde_json::from_str(&details)
                    .map_err(|e| StorageError::Corrupt(format!("key event {idx}: {e}")))?;
                out.push(KeyEventRecord {
                    index: idx as u64,
                    key_id,
                    action,
                    details,
                });
            }
            Ok(out)
        })
    }

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        self.read(|tx| {
            let mut one = tx
                .prepare_cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2")
                .map_err(db)?;
            let mut range = tx
                .prepare_cached(
                    "SELECT idx, hash FROM nodes WHERE level = ?1 AND idx BETWEEN ?2 AND ?3 ORDER BY idx",
                )
                .map_err(db)?;
            let missing = |node: &NodeId| {
                StorageError::Corrupt(format!(
                    "tree node level {} index {} is missing",
                    node.level, node.index
                ))
            };
            let mut out = Vec::with_capacity(nodes.len());
            let mut rest = nodes;
            while let Some(first) = rest.first() {
                // A run of consecutive nodes of one level (a cache tile's row) is
                // one range read.
                let run = 1 + rest
                    .windows(2)
                    .take_while(|w| {
                        w[1].level == w[0].level && w[0].index.checked_add(1) == Some(w[1].index)
                    })
                    .count();
                if run < RANGE_READ_MIN {
                    let blob: Option<Vec<u8>> = one
                        .query_row(params![first.level, to_i64(first.index)?], |r| r.get(0))
                        .optional()
                        .map_err(db)?;
                    out.push(hash_from(blob.ok_or_else(|| missing(first))?)?);
                    rest = &rest[1..];
                    continue;
                }
                // `run` ≥ 1 nodes from `first`, the last of which is a valid u64.
                let last = to_i64(first.index + (run as u64 - 1))?;
                let mut rows = range
                    .query(params![first.level, to_i64(first.index)?, last])
                    .map_err(db)?;
                for node in &rest[..run] {
                    let row = rows.next().map_err(db)?.ok_or_else(|| missing(node))?;
                    let idx: i64 = row.get(0).map_err(db)?;
                    if idx != to_i64(node.index)? {
                        return Err(missing(node));
                    }
                    out.push(hash_from(row.get(1).map_err(db)?)?);
                }
                rest = &rest[run..];
            }
            Ok(out)
        })
    }
}

impl QueryStore for SqliteStorage {
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError> {
        let since = to_i64(since)?;
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT size, note, created_at FROM checkpoints WHERE size >= ?1 ORDER BY size LIMIT ?2",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![since, limit as i64], checkpoint_row)
                .map_err(db)?;
            let rows = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
            rows.into_iter().map(|r| with_cosignatures(tx, r)).collect()
        })
    }

    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let (start, end) = (to_i64(start)?, to_i64(end)?);
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT idx, leaf FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([start, end], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for (expected, row) in (start..).zip(rows) {
                let (idx, leaf) = row.map_err(db)?;
                if idx != expected {
                    return Err(StorageError::Corrupt(format!(
                        "entry {expected} is missing"
                    )));
                }
                out.push(leaf);
            }
            Ok(out)
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError> {
        self.read(|tx| {
            let artifact_terms = self.artifact_terms(tx, q.artifact.as_deref())?;
            let (sql, args) = search_sql(ENTRY_SELECT, q, artifact_terms.as_deref())?;
            let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), entry_row)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            complete_entries(tx, rows)
        })
    }

    fn search_indices(&self, q: &SearchQuery) -> Result<Vec<(u64, String)>, StorageError> {
        let select = "SELECT e.idx, k.value FROM entries e JOIN term_values k ON k.id = e.kind";
        self.read(|tx| {
            let artifact_terms = self.artifact_terms(tx, q.artifact.as_deref())?;
            let (sql, args) = search_sql(select, q, artifact_terms.as_deref())?;
            let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((r.get::<_, i64>(0)? as u64, term_text(r.get_ref(1)?)?))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(rows)
        })
    }

    fn entries_per_day(&self, since_ms: i64) -> Result<Vec<DayCount>, StorageError> {
        let from = since_ms.div_euclid(DAY_MS) * DAY_MS;
        self.read(|tx| {
            // Served from the entries_integrated_at index; integration times are
            // never negative, so integer division is the floor.
            let mut stmt = tx
                .prepare_cached(
                    "SELECT integrated_at / ?1 AS day, COUNT(*) FROM entries
                     WHERE integrated_at >= ?2 GROUP BY day ORDER BY day",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![DAY_MS, from], |r| {
                    Ok(DayCount {
                        day: r.get(0)?,
                        entries: r.get::<_, i64>(1)? as u64,
                    })
                })
                .map_err(db)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(db)
        })
    }
}

/// Runs of at least this many consecutive nodes are read with one range query.
const RANGE_READ_MIN: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every search value but an artifact is found through the partial unique
    /// index, which SQLite uses only when the query itself says `field <> 1`:
    /// a lookup that lost it would scan every term a log ever recorded.
    #[test]
    fn search_values_are_looked_up_by_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("g.db"), 1).unwrap();
        let some = |v: &str| Some(v.to_string());
        let q = SearchQuery {
            artifact: some(&"ab".repeat(32)),
            commit: some(&"cd".repeat(20)),
            dir_hash: some(&"ef".repeat(32)),
            repositories: Some(vec!["https://git.example/a".into()]),
            signers: Some(vec!["01".repeat(32)]),
            kind: some("build"),
            limit: 10,
            ..SearchQuery::default()
        };
        let search = search_sql(ENTRY_SELECT, &q, Some(&[3, 4])).unwrap();
        let intern = (
            INTERNED_ID.to_string(),
            vec![COMMIT.into(), term_value(&"cd".repeat(20))],
        );
        let writer = storage.writer.lock().unwrap();
        for (sql, params) in [intern, search] {
            let mut plan = writer
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let details: Vec<String> = plan
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let term_reads: Vec<&String> = details
                .iter()
                .filter(|d| d.contains("term_values"))
                .collect();
            assert!(!term_reads.is_empty(), "{details:?}");
            assert!(
                term_reads
                    .iter()
                    .all(|d| d.contains("term_values_interned") || d.contains("PRIMARY KEY")),
                "{details:?}"
            );
        }
    }

    /// The write connection's page cache follows the log's size: set when the
    /// store opens, and again by the first batch that takes the log past the
    /// next million entries.
    #[test]
    fn the_writers_cache_grows_with_the_log() {
        assert_eq!(writer_cache_kib(0), 4096);
        assert_eq!(writer_cache_kib(999_999), 4096);
        assert_eq!(writer_cache_kib(1_000_000), 4096 + 1280);
        assert_eq!(writer_cache_kib(9_999_999), 4096 + 9 * 1280);
        assert_eq!(writer_cache_kib(10_000_000), 16384);
        assert_eq!(writer_cache_kib(u64::MAX), 16384);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let cache = |storage: &SqliteStorage| -> i64 {
            let writer = storage.writer.lock().unwrap();
            writer
                .query_row("PRAGMA cache_size", [], |r| r.get(0))
                .unwrap()
        };
        let storage = SqliteStorage::open(&path, 1).unwrap();
        assert_eq!(cache(&storage), -4096);
        // A batch whose checkpoint says the log holds 2.5 million entries: the
        // storage takes the size as given.
        let batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 2_500_000,
                note: b"test.example/log\n2500000\n\n".to_vec(),
                created_at_ms: 0,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        };
        storage.append_batch(&batch).unwrap();
        assert_eq!(cache(&storage), -(4096 + 2 * 1280));
        drop(storage);
        let storage = SqliteStorage::open(&path, 1).unwrap();
        assert_eq!(cache(&storage), -(4096 + 2 * 1280));
    }

    #[test]
    fn the_sequencer_reads_while_every_pooled_connection_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("g.db"), 2).unwrap());
        let pooled = storage.clone();
        super::super::assert_sequencer_reads_past_held_pool(
            2,
            move |wait| {
                pooled
                    .read(|_| {
                        wait();
                        Ok(())
                    })
                    .unwrap()
            },
            storage.for_sequencer(),
        );
    }
}
