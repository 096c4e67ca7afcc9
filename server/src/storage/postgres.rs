//! PostgreSQL implementation of [`Storage`] (docs/design.md §4): for deployments that
//! outgrow one machine, where several server nodes share one database
//! (docs/postgres.md).
//!
//! The blocking `postgres` client is used, like SQLite, from the blocking pool
//! (the trait's methods block). One write connection serves the sequencer and the
//! lease; a small pool of read connections serves HTTP handlers. A connection that
//! broke is replaced on its next use, so a database restart or failover costs the
//! requests in flight, not the process.
//!
//! Multi-statement reads run in `REPEATABLE READ READ ONLY` transactions so they
//! see one committed snapshot (the trait's "reads see a committed prefix").
//! Writes to many rows use `unnest` over arrays: one round trip per table per
//! batch rather than one per row.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use postgres::{Client, IsolationLevel, NoTls, Row, Transaction};

use super::postgres_schema::{db, migrate};
use super::records::{
    decode_index_leaves, encode_index_leaves, Batch, CheckpointRecord, DayCount, EntryRecord,
    FirstCopy, IndexSnapshot, KeyEventRecord, LogIdentity, DAY_MS,
};
use super::{Hash, LogStore, NodeId, QueryStore, SearchQuery, SearchTerms, Storage, StorageError};

/// The sequencer lease a node must hold for its batches to commit: every
/// [`LogStore::append_batch`] checks, under a row lock in the same transaction,
/// that the lease row still names this holder and epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    pub holder: String,
    pub epoch: i64,
}

/// A log stored in one PostgreSQL database.
///
/// Handles made by [`LogStore::for_sequencer`] share the connections and the
/// lease, but read on a connection of their own that no other handle's reads can
/// hold.
pub struct PostgresStorage {
    shared: Arc<Shared>,
    /// Reads go to [`Shared::sequencer_reader`] instead of the pool.
    sequencer: bool,
}

/// The connections of one database, shared by its handles.
pub struct Shared {
    config: postgres::Config,
    writer: Mutex<Option<Client>>,
    readers: Vec<Mutex<Option<Client>>>,
    /// The sequencer's own read connection: its duplicate checks and reloads never
    /// wait behind an HTTP read.
    sequencer_reader: Mutex<Option<Client>>,
    next_reader: AtomicUsize,
    /// `None`: single writer, no lease check (tests, tools). Set by the lease
    /// code (`postgres_lease.rs`) when this node takes the lease.
    pub(super) fence: Mutex<Option<Fence>>,
}

impl std::ops::Deref for PostgresStorage {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl PostgresStorage {
    /// Connect to `url` (`postgres://user@host:port/db`, libpq URL syntax; the
    /// `options` parameter may set `-c search_path=…`), migrating the schema.
    pub fn open(url: &str, read_connections: usize) -> Result<Self, StorageError> {
        let config: postgres::Config = url.parse().map_err(db)?;
        Self::open_config(config, read_connections)
    }

    /// As [`open`](Self::open), with an already parsed client configuration.
    pub fn open_config(
        config: postgres::Config,
        read_connections: usize,
    ) -> Result<Self, StorageError> {
        let mut writer = connect(&config)?;
        migrate(&mut writer)?;
        let readers = (0..read_connections.max(1))
            .map(|_| Mutex::new(None))
            .collect();
        Ok(PostgresStorage {
            shared: Arc::new(Shared {
                config,
                writer: Mutex::new(Some(writer)),
                readers,
                sequencer_reader: Mutex::new(None),
                next_reader: AtomicUsize::new(0),
                fence: Mutex::new(None),
            }),
            sequencer: false,
        })
    }

    /// Use `client` from `slot`, connecting first if it is empty or broken.
    fn with_client<T>(
        &self,
        slot: &Mutex<Option<Client>>,
        f: impl FnOnce(&mut Client) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut guard = slot
            .lock()
            .map_err(|_| StorageError::fatal("connection poisoned"))?;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(connect(&self.config)?);
        }
        let client = guard
            .as_mut()
            .ok_or_else(|| StorageError::fatal("no connection"))?;
        let out = f(client);
        if client.is_closed() {
            *guard = None;
        }
        out
    }

    /// Run `f` in a read-only snapshot on a pooled connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let slot = if self.sequencer {
            &self.sequencer_reader
        } else {
            &self.readers[self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len()]
        };
        self.with_client(slot, |client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            let out = f(&mut tx)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    /// Run `f` in a read-write transaction on the write connection; commit on `Ok`.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.with_client(&self.writer, |client| {
            let mut tx = client.transaction().map_err(db)?;
            let out = f(&mut tx)?;
            // Durability point: PostgreSQL returns from COMMIT after the WAL is
            // flushed (synchronous_commit is never off on our sessions, see connect).
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    /// The fence set by the lease code, if this node sequences under a lease.
    pub fn fence(&self) -> Option<Fence> {
        self.fence.lock().ok().and_then(|f| f.clone())
    }
}

/// A session whose commits return only once the WAL is flushed.
///
/// A receipt promises the entry is durable, and `COMMIT` is the durability point
/// (see [`PostgresStorage::write`]). With `synchronous_commit = off` — settable
/// for the whole server, a database or a role, without the log's knowledge —
/// `COMMIT` returns before the flush and a crash of the database loses
/// acknowledged entries. So every session turns it back `on` when it is `off`,
/// and keeps any setting that flushes (`local`, `on`, `remote_write`,
/// `remote_apply`), since those only add waiting for standbys (docs/postgres.md).
fn connect(config: &postgres::Config) -> Result<Client, StorageError> {
    let mut client = config.connect(NoTls).map_err(db)?;
    client
        .batch_execute(
            "SELECT set_config('synchronous_commit', 'on', false) \
             WHERE current_setting('synchronous_commit') = 'off'",
        )
        .map_err(db)?;
    Ok(client)
}

fn hash_from(blob: Vec<u8>) -> Result<Hash, StorageError> {
    blob.try_into()
        .map_err(|b: Vec<u8>| StorageError::Corrupt(format!("hash of {} bytes", b.len())))
}

fn to_i64(v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::Corrupt(format!("{v} exceeds BIGINT")))
}

fn to_u64(v: i64) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| StorageError::Corrupt(format!("negative index {v}")))
}

const ENTRY_COLUMNS: &str = "e.idx, e.leaf, e.leaf_hash, e.kind, e.integrated_at, e.statement";

/// A search's conditions with their values, owned, so that one query can be
/// written for whichever columns are selected.
struct Search<'q> {
    q: &'q SearchQuery,
    texts: Vec<(String, &'static str)>,
    ints: Vec<(i64, &'static str)>,
    limit: i64,
}

impl<'q> Search<'q> {
    fn of(q: &'q SearchQuery) -> Result<Search<'q>, StorageError> {
        let mut texts = Vec::new();
        for (field, value) in [
            ("artifact", &q.artifact),
            ("commit", &q.commit),
            ("dirhash", &q.dir_hash),
        ] {
            if let Some(v) = value {
                texts.push((v.clone(), field));
            }
        }
        let mut ints = Vec::new();
        for (v, cond) in [
            (q.since_ms, "e.integrated_at >="),
            (q.until_ms, "e.integrated_at <="),
            (q.after.map(to_i64).transpose()?, "e.idx >"),
            (q.before.map(to_i64).transpose()?, "e.idx <"),
        ] {
            if let Some(v) = v {
                ints.push((v, cond));
            }
        }
        Ok(Search {
            q,
            texts,
            ints,
            limit: i64::try_from(q.limit).unwrap_or(i64::MAX),
        })
    }

    /// `select` (columns of `entries e`) with the conditions, in index order, and
    /// the values of its parameters.
    fn sql(&self, select: &str) -> (String, Vec<&(dyn postgres::types::ToSql + Sync)>) {
        let mut sql = format!("{select} WHERE TRUE");
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
        for (value, field) in &self.texts {
            params.push(value);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.field = '{field}' AND t.value = ${})",
                params.len()
            ));
        }
        if let Some(repositories) = &self.q.repositories {
            params.push(repositories);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.field = 'repository' AND t.value = ANY(${}))",
                params.len()
            ));
        }
        // A signer: what the key signed, and the key events about the key.
        if let Some(signers) = &self.q.signers {
            params.push(signers);
            let n = params.len();
            sql.push_str(&format!(
                " AND (EXISTS (SELECT 1 FROM entry_terms t WHERE t.idx = e.idx AND t.field = 'signer' AND t.value = ANY(${n})) \
                 OR EXISTS (SELECT 1 FROM key_events k WHERE k.idx = e.idx AND k.key_id = ANY(${n})))"
            ));
        }
        if let Some(k) = &self.q.kind {
            params.push(k);
            sql.push_str(&format!(" AND e.kind = ${}", params.len()));
        }
        for (value, cond) in &self.ints {
            params.push(value);
            sql.push_str(&format!(" AND {cond} ${}", params.len()));
        }
        params.push(&self.limit);
        sql.push_str(&format!(" ORDER BY e.idx LIMIT ${}", params.len()));
        (sql, params)
    }
}

/// Turn `entries` rows into records, attaching every entry's search terms and
/// signers with one query.
fn complete_entries(
    tx: &mut Transaction<'_>,
    rows: Vec<Row>,
) -> Result<Vec<EntryRecord>, StorageError> {
    let idxs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let mut terms: HashMap<i64, (SearchTerms, Vec<String>)> = HashMap::new();
    if !idxs.is_empty() {
        let term_rows = tx
            .query(
                "SELECT idx, field, value FROM entry_terms WHERE idx = ANY($1)
                 ORDER BY idx, field, value",
                &[&idxs],
            )
            .map_err(db)?;
        for r in term_rows {
            let (idx, field, value): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
            let (t, signers) = terms.entry(idx).or_default();
            match field.as_str() {
                "artifact" => t.artifacts.push(value),
                "commit" => t.commits.push(value),
                "dirhash" => t.dir_hashes.push(value),
                "repository" => t.repositories.push(value),
                "signer" => signers.push(value),
                other => return Err(StorageError::Corrupt(format!("unknown term field {other}"))),
            }
        }
    }
    rows.into_iter()
        .map(|r| {
            let idx: i64 = r.get(0);
            let (terms, signers) = terms.remove(&idx).unwrap_or_default();
            Ok(EntryRecord {
                index: to_u64(idx)?,
                leaf: r.get(1),
                leaf_hash: hash_from(r.get(2))?,
                statement_digest: hash_from(r.get(5))?,
                kind: r.get(3),
                integrated_at_ms: r.get(4),
                signers,
                terms,
            })
        })
        .collect()
}

fn checkpoint_of(r: &Row) -> Result<CheckpointRecord, StorageError> {
    Ok(CheckpointRecord {
        size: to_u64(r.get(0))?,
        note: r.get(1),
        created_at_ms: r.get(2),
    })
}

/// Checkpoint rows as records, each note followed by its recorded witness
/// cosignature lines (in the order they were added).
fn checkpoints_of(
    tx: &mut Transaction<'_>,
    rows: &[Row],
) -> Result<Vec<CheckpointRecord>, StorageError> {
    let mut records = rows
        .iter()
        .map(checkpoint_of)
        .collect::<Result<Vec<_>, _>>()?;
    let sizes = rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>();
    if sizes.is_empty() {
        return Ok(records);
    }
    let lines = tx
        .query(
            "SELECT size, line FROM cosignatures WHERE size = ANY($1)
             ORDER BY size, added_at, name, key_id",
            &[&sizes],
        )
        .map_err(db)?;
    for l in lines {
        let size = to_u64(l.get(0))?;
        if let Some(rec) = records.iter_mut().find(|r| r.size == size) {
            rec.note.extend_from_slice(l.get::<_, &str>(1).as_bytes());
            rec.note.push(b'\n');
        }
    }
    Ok(records)
}

/// The size of the newest checkpoint, 0 for none.
fn current_size(tx: &mut Transaction<'_>) -> Result<i64, StorageError> {
    let row = tx
        .query_one("SELECT COALESCE(MAX(size), -1) FROM checkpoints", &[])
        .map_err(db)?;
    Ok(row.get::<_, i64>(0))
}

impl LogStore for PostgresStorage {
    fn for_sequencer(self: Arc<Self>) -> Arc<dyn Storage> {
        Arc::new(PostgresStorage {
            shared: self.shared.clone(),
            sequencer: true,
        })
    }

    fn identity(&self) -> Result<Option<LogIdentity>, StorageError> {
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT key, value FROM meta WHERE key IN ('origin', 'vkey')",
                    &[],
                )
                .map_err(db)?;
            let get = |k: &str| {
                rows.iter()
                    .find(|r| r.get::<_, &str>(0) == k)
                    .map(|r| r.get::<_, String>(1))
            };
            LogIdentity::from_stored(get("origin"), get("vkey"))
        })
    }

    fn set_identity(&self, identity: &LogIdentity) -> Result<(), StorageError> {
        self.write(|tx| {
            // Several nodes may record the identity at once: serialise on the table.
            tx.batch_execute("LOCK TABLE meta IN EXCLUSIVE MODE")
                .map_err(db)?;
            for (key, value) in [("origin", &identity.origin), ("vkey", &identity.vkey)] {
                let existing = tx
                    .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
                    .map_err(db)?
                    .map(|r| r.get::<_, String>(0));
                match existing {
                    Some(v) if &v == value => {}
                    Some(v) => {
                        return Err(StorageError::Corrupt(format!(
                            "log {key} is already recorded as {v:?}"
                        )))
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO meta (key, value) VALUES ($1, $2)",
                            &[&key, value],
                        )
                        .map_err(db)?;
                    }
                }
            }
            Ok(())
        })
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        let fence = self.fence();
        self.write(|tx| {
            // FENCE: hold the lease row locked until commit, so no other node can
            // take the lease (and start sequencing) between this check and the
            // commit, and a node whose lease was taken over can never commit.
            if let Some(f) = &fence {
                let row = tx
                    .query_opt(
                        "SELECT holder, epoch FROM lease WHERE name = 'sequencer' FOR UPDATE",
                        &[],
                    )
                    .map_err(db)?;
                let held = row.map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
                if held.as_ref() != Some(&(f.holder.clone(), f.epoch)) {
                    return Err(StorageError::Fenced(format!(
                        "lease epoch {} of {} is no longer held (now {:?})",
                        f.epoch, f.holder, held
                    )));
                }
            }
            // Tree-size compare-and-swap: the batch must extend exactly the newest
            // committed tree, whoever wrote it.
            let current = current_size(tx)?;
            let first = match batch.entries.first() {
                Some(e) => to_i64(e.index)?,
                None => to_i64(batch.checkpoint.size)?,
            };
            let expected_first = current.max(0);
            let dense = batch
                .entries
                .iter()
                .enumerate()
                .all(|(i, e)| e.index == (first as u64) + i as u64);
            let fits = if batch.entries.is_empty() {
                current < first
            } else {
                first == expected_first
                    && dense
                    && batch.checkpoint.size == first as u64 + batch.entries.len() as u64
            };
            if !fits {
                return Err(StorageError::Fenced(format!(
                    "batch for size {} does not extend the stored tree of size {current}",
                    batch.checkpoint.size
                )));
            }

            let mut idx = Vec::new();
            let mut leaf = Vec::new();
            let mut leaf_hash = Vec::new();
            let mut statement = Vec::new();
            let mut kind = Vec::new();
            let mut at = Vec::new();
            let (mut t_field, mut t_value, mut t_idx) = (Vec::new(), Vec::new(), Vec::new());
            for e in &batch.entries {
                let i = to_i64(e.index)?;
                idx.push(i);
                leaf.push(e.leaf.as_slice());
                leaf_hash.push(&e.leaf_hash[..]);
                statement.push(&e.statement_digest[..]);
                kind.push(e.kind.as_str());
                at.push(e.integrated_at_ms);
                let fields = [
                    ("artifact", &e.terms.artifacts),
                    ("commit", &e.terms.commits),
                    ("dirhash", &e.terms.dir_hashes),
                    ("repository", &e.terms.repositories),
                    ("signer", &e.signers),
                ];
                for (field, values) in fields {
                    for v in values {
                        t_field.push(field);
                        t_value.push(v.as_str());
                        t_idx.push(i);
                    }
                }
            }
            if !idx.is_empty() {
                tx.execute(
                    "INSERT INTO entries (idx, leaf, leaf_hash, kind, integrated_at, statement)
                     SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[],
                                          $5::bigint[], $6::bytea[])",
                    &[&idx, &leaf, &leaf_hash, &kind, &at, &statement],
                )
                .map_err(db)?;
            }
            if !t_idx.is_empty() {
                tx.execute(
                    "INSERT INTO entry_terms (field, value, idx)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
                     ON CONFLICT DO NOTHING",
                    &[&t_field, &t_value, &t_idx],
                )
                .map_err(db)?;
            }
            if !batch.nodes.is_empty() {
                let levels: Vec<i16> = batch
                    .nodes
                    .iter()
                    .map(|(n, _)| i16::from(n.level))
                    .collect();
                let indexes = batch
                    .nodes
                    .iter()
                    .map(|(n, _)| to_i64(n.index))
                    .collect::<Result<Vec<_>, _>>()?;
                let hashes: Vec<&[u8]> = batch.nodes.iter().map(|(_, h)| &h[..]).collect();
                tx.execute(
                    "INSERT INTO nodes (level, idx, hash)
                     SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                    &[&levels, &indexes, &hashes],
                )
                .map_err(db)?;
            }
            for ev in &batch.key_events {
                tx.execute(
                    "INSERT INTO key_events (idx, key_id, action, details) VALUES ($1, $2, $3, $4)",
                    &[
                        &to_i64(ev.index)?,
                        &ev.key_id,
                        &ev.action,
                        &ev.details.to_string(),
                    ],
                )
                .map_err(db)?;
            }
            let cp = &batch.checkpoint;
            tx.execute(
                "INSERT INTO checkpoints (size, note, created_at) VALUES ($1, $2, $3)",
                &[&to_i64(cp.size)?, &cp.note, &cp.created_at_ms],
            )
            .map_err(db)?;
            if !batch.index.is_empty() {
                tx.execute(
                    "INSERT INTO index_batches (size, leaves) VALUES ($1, $2)",
                    &[&to_i64(cp.size)?, &encode_index_leaves(&batch.index)],
                )
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn index_leaves(&self, changed_after: u64) -> Result<IndexSnapshot, StorageError> {
        let after = to_i64(changed_after)?;
        // One repeatable-read transaction: the size and the leaves are one snapshot.
        self.read(|tx| {
            let size: Option<i64> = tx
                .query_one("SELECT max(size) FROM checkpoints", &[])
                .map_err(db)?
                .get(0);
            let mut leaves = Vec::new();
            for row in tx
                .query(
                    "SELECT size, leaves FROM index_batches WHERE size > $1 ORDER BY size",
                    &[&after],
                )
                .map_err(db)?
            {
                let at: i64 = row.get(0);
                decode_index_leaves(at as u64, row.get(1), &mut leaves)?;
            }
            Ok(IndexSnapshot {
                size: size.map_or(0, |s| s as u64),
                leaves,
            })
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StorageError> {
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT size, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1",
                    &[],
                )
                .map_err(db)?;
            Ok(checkpoints_of(tx, &rows)?.pop())
        })
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StorageError> {
        let size = to_i64(size)?;
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT size, note, created_at FROM checkpoints WHERE size = $1",
                    &[&size],
                )
                .map_err(db)?;
            Ok(checkpoints_of(tx, &rows)?.pop())
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
            for sig in cosignatures {
                let old = tx
                    .query_opt(
                        "SELECT line FROM cosignatures WHERE size = $1 AND name = $2 AND key_id = $3",
                        &[&size, &sig.name, &i64::from(sig.key_id)],
                    )
                    .map_err(db)?
                    .map(|r| r.get::<_, String>(0));
                if old.is_some_and(|line| !super::records::newer(sig, &line)) {
                    continue;
                }
                tx.execute(
                    "INSERT INTO cosignatures (size, name, key_id, line, added_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (size, name, key_id)
                     DO UPDATE SET line = excluded.line, added_at = excluded.added_at",
                    &[
                        &size,
                        &sig.name,
                        &i64::from(sig.key_id),
                        &sig.to_line(),
                        &now,
                    ],
                )
                .map_err(db)?;
            }
            Ok(())
        })
    }

    fn entry(&self, index: u64) -> Result<Option<EntryRecord>, StorageError> {
        Ok(self.entries(&[index])?.pop())
    }

    fn entries(&self, indexes: &[u64]) -> Result<Vec<EntryRecord>, StorageError> {
        let wanted = indexes
            .iter()
            .filter_map(|&i| i64::try_from(i).ok())
            .collect::<Vec<_>>();
        let found = self.read(|tx| {
            let rows = tx
                .query(
                    &format!("SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.idx = ANY($1)"),
                    &[&wanted],
                )
                .map_err(db)?;
            complete_entries(tx, rows)
        })?;
        let by_index: HashMap<u64, EntryRecord> = found.into_iter().map(|e| (e.index, e)).collect();
        // In the order asked; missing ones skipped.
        Ok(indexes
            .iter()
            .filter_map(|i| by_index.get(i).cloned())
            .collect())
    }

    fn find_statements(&self, digests: &[Hash]) -> Result<Vec<Option<FirstCopy>>, StorageError> {
        let digests: Vec<&[u8]> = digests.iter().map(|d| &d[..]).collect();
        self.read(|tx| {
            // One round trip for the batch, each digest one seek on entries_statement.
            let rows = tx
                .query(
                    "SELECT (SELECT e.idx FROM entries e WHERE e.statement = u.digest
                             ORDER BY e.idx LIMIT 1)
                     FROM unnest($1::bytea[]) WITH ORDINALITY AS u (digest, n)
                     ORDER BY u.n",
                    &[&digests],
                )
                .map_err(db)?;
            let first: Vec<Option<i64>> = rows.iter().map(|r| r.get(0)).collect();
            let hits: Vec<i64> = first.iter().flatten().copied().collect();
            let mut signers: HashMap<i64, Vec<String>> = HashMap::new();
            if !hits.is_empty() {
                // A hit is a re-submission, which is rare: a second round trip.
                for r in tx
                    .query(
                        "SELECT idx, value FROM entry_terms
                         WHERE field = 'signer' AND idx = ANY($1) ORDER BY idx, value",
                        &[&hits],
                    )
                    .map_err(db)?
                {
                    signers.entry(r.get(0)).or_default().push(r.get(1));
                }
            }
            first
                .into_iter()
                .map(|idx| {
                    idx.map(|i| {
                        Ok(FirstCopy {
                            index: to_u64(i)?,
                            signers: signers.get(&i).cloned().unwrap_or_default(),
                        })
                    })
                    .transpose()
                })
                .collect()
        })
    }

    fn key_events(&self) -> Result<Vec<KeyEventRecord>, StorageError> {
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT idx, key_id, action, details FROM key_events ORDER BY idx",
                    &[],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let idx: i64 = r.get(0);
                    let details = serde_json::from_str(r.get::<_, &str>(3))
                        .map_err(|e| StorageError::Corrupt(format!("key event {idx}: {e}")))?;
                    Ok(KeyEventRecord {
                        index: to_u64(idx)?,
                        key_id: r.get(1),
                        action: r.get(2),
                        details,
                    })
                })
                .collect()
        })
    }

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        if nodes.is_empty() {
            return Ok(Vec::new());
        }
        let levels: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
        let indexes = nodes
            .iter()
            .map(|n| to_i64(n.index))
            .collect::<Result<Vec<_>, _>>()?;
        let found = self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT n.level, n.idx, n.hash FROM nodes n
                     JOIN unnest($1::smallint[], $2::bigint[]) AS q(level, idx)
                       ON n.level = q.level AND n.idx = q.idx",
                    &[&levels, &indexes],
                )
                .map_err(db)?;
            rows.into_iter()
                .map(|r| {
                    Ok((
                        (r.get::<_, i16>(0), r.get::<_, i64>(1)),
                        hash_from(r.get(2))?,
                    ))
                })
                .collect::<Result<HashMap<_, _>, StorageError>>()
        })?;
        levels
            .iter()
            .zip(&indexes)
            .map(|(l, i)| {
                found.get(&(*l, *i)).copied().ok_or_else(|| {
                    StorageError::Corrupt(format!("tree node level {l} index {i} is missing"))
                })
            })
            .collect()
    }
}

impl QueryStore for PostgresStorage {
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError> {
        let since = to_i64(since)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT size, note, created_at FROM checkpoints WHERE size >= $1 ORDER BY size LIMIT $2",
                    &[&since, &limit],
                )
                .map_err(db)?;
            checkpoints_of(tx, &rows)
        })
    }

    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let (start, end) = (to_i64(start)?, to_i64(end)?);
        self.read(|tx| {
            let rows = tx
                .query(
                    "SELECT idx, leaf FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &[&start, &end],
                )
                .map_err(db)?;
            let mut out = Vec::with_capacity(rows.len());
            for (expected, row) in (start..).zip(rows) {
                if row.get::<_, i64>(0) != expected {
                    return Err(StorageError::Corrupt(format!(
                        "entry {expected} is missing"
                    )));
                }
                out.push(row.get(1));
            }
            Ok(out)
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError> {
        let search = Search::of(q)?;
        let (sql, params) = search.sql(&format!("SELECT {ENTRY_COLUMNS} FROM entries e"));
        self.read(|tx| {
            let rows = tx.query(&sql, &params).map_err(db)?;
            complete_entries(tx, rows)
        })
    }

    fn search_indices(&self, q: &SearchQuery) -> Result<Vec<(u64, String)>, StorageError> {
        let search = Search::of(q)?;
        let (sql, params) = search.sql("SELECT e.idx, e.kind FROM entries e");
        self.read(|tx| {
            tx.query(&sql, &params)
                .map_err(db)?
                .iter()
                .map(|r| Ok((to_u64(r.get(0))?, r.get(1))))
                .collect()
        })
    }

    fn entries_per_day(&self, since_ms: i64) -> Result<Vec<DayCount>, StorageError> {
        let from = since_ms.div_euclid(DAY_MS) * DAY_MS;
        self.read(|tx| {
            // Served from the entries_integrated_at index; integration times are
            // never negative, so integer division is the floor.
            let rows = tx
                .query(
                    "SELECT integrated_at / $1 AS day, COUNT(*) FROM entries
                     WHERE integrated_at >= $2 GROUP BY day ORDER BY day",
                    &[&DAY_MS, &from],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(DayCount {
                        day: r.get(0),
                        entries: to_u64(r.get(1))?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh schema `name` on the test database (`source .ci/postgres`), dropped
    /// with this value; `None` when no test database is set.
    struct TestSchema {
        admin: Client,
        url: String,
        name: String,
    }

    impl TestSchema {
        fn create(name: String) -> Option<TestSchema> {
            let url = std::env::var("GLASSBOX_TEST_POSTGRES").ok()?;
            let mut admin = Client::connect(&url, NoTls).expect("connect to test PostgreSQL");
            admin
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
                ))
                .unwrap();
            Some(TestSchema { admin, url, name })
        }

        /// A storage in the schema, its sessions started with `options` too.
        fn open(&self, options: &str, read_connections: usize) -> PostgresStorage {
            let mut config: postgres::Config = self.url.parse().unwrap();
            config.options(&format!("-c search_path={} {options}", self.name));
            PostgresStorage::open_config(config, read_connections).unwrap()
        }
    }

    impl Drop for TestSchema {
        fn drop(&mut self) {
            let _ = self
                .admin
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }

    /// The session's `synchronous_commit` on the write and on a read connection of
    /// a storage opened with `options` on the test database.
    fn sessions_with(options: &str) -> Option<(String, String)> {
        let schema = TestSchema::create(format!("sync_{}_{}", std::process::id(), options.len()))?;
        let storage = schema.open(options, 1);
        let show = |c: &mut Client| -> Result<String, StorageError> {
            Ok(c.query_one("SHOW synchronous_commit", &[])
                .map_err(db)?
                .get(0))
        };
        let writer = storage.with_client(&storage.writer, show).unwrap();
        let reader = storage.with_client(&storage.readers[0], show).unwrap();
        Some((writer, reader))
    }

    /// Every pooled read connection held by a slow read: the sequencer still reads.
    #[test]
    fn the_sequencer_reads_while_every_pooled_connection_is_held() {
        let Some(schema) = TestSchema::create(format!("seqread_{}", std::process::id())) else {
            eprintln!("SKIPPED: GLASSBOX_TEST_POSTGRES not set");
            return;
        };
        let storage = Arc::new(schema.open("", 2));
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

    #[test]
    fn a_database_that_turned_synchronous_commit_off_gets_it_on_in_every_session() {
        let Some(sessions) = sessions_with("-c synchronous_commit=off") else {
            eprintln!("SKIPPED: GLASSBOX_TEST_POSTGRES not set");
            return;
        };
        assert_eq!(sessions, ("on".to_string(), "on".to_string()));
    }

    #[test]
    fn a_setting_that_also_waits_for_standbys_is_kept() {
        let Some(sessions) = sessions_with("-c synchronous_commit=remote_apply") else {
            eprintln!("SKIPPED: GLASSBOX_TEST_POSTGRES not set");
            return;
        };
        assert_eq!(
            sessions,
            ("remote_apply".to_string(), "remote_apply".to_string())
        );
    }
}
