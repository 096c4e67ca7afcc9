//! The log's persistent state behind two narrow traits: [`LogStore`] for the
//! write path, [`QueryStore`] for the HTTP side's other reads.
//!
//! The sequencer is the only writer; HTTP handlers only read. No database driver
//! type appears here, so a PostgreSQL backend (docs/design.md §4) or the fault-injecting
//! in-memory backend used by tests (feature `test-util`) plugs in unchanged.

pub mod cache;
#[cfg(feature = "test-util")]
pub mod memory;
pub mod postgres;
mod postgres_lease;
mod postgres_schema;
mod ranged;
pub mod records;
pub mod schema;
pub mod sqlite;

pub use records::{
    Batch, CheckpointRecord, DayCount, EntryRecord, FirstCopy, IndexLeaf, IndexSnapshot,
    KeyEventRecord, LogIdentity, SearchQuery, SearchTerms, DAY_MS,
};

/// A tree node: the hash of the complete subtree of `2^level` leaves starting at
/// leaf `index << level` (RFC 9162 §2.1).
pub use glassbox_core::merkle::NodeId;

/// A witness cosignature line, as [`LogStore::add_cosignatures`] takes it.
pub use glassbox_core::note::NoteSignature;
use std::sync::Arc;
/// A SHA-256 Merkle hash.
pub type Hash = [u8; 32];

/// Why a storage call failed. Nothing of a failed write is visible; the
/// sequencer treats a failed [`LogStore::append_batch`] as "nothing happened".
///
/// [`is_transient`](Self::is_transient) tells a caller whether the same call may
/// succeed if retried (the database was busy, lost a serialization race, or the
/// connection dropped) or will keep failing until an operator acts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database (or the backend around it) failed; `source` is the driver's
    /// own error, kept for the log line and for callers that inspect it.
    #[error("database error: {}", Chain(source.as_ref()))]
    Database {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Decided by the backend from the driver's error code, never from its text.
        transient: bool,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database schema version {found} is newer than this server supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// A fault the test backend was told to inject.
    #[cfg(feature = "test-util")]
    #[error("injected fault: {0}")]
    Injected(String),
    /// The batch was refused because this node no longer holds the sequencer
    /// lease, or another node extended the log first (shared PostgreSQL).
    #[error("fenced: {0}")]
    Fenced(String),
}

impl StorageError {
    /// A database failure with no driver error behind it (a poisoned lock, a
    /// backend refusing a call it does not support); retrying will not help.
    pub fn fatal(what: impl Into<String>) -> Self {
        StorageError::Database {
            source: what.into().into(),
            transient: false,
        }
    }

    /// Whether the same call may succeed if retried without anyone acting:
    /// SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`; PostgreSQL connection failures,
    /// `serialization_failure` (40001), `deadlock_detected` (40P01) and the
    /// operator-intervention class 57P (a server shutting down or starting).
    /// Disk I/O errors, corruption, a newer schema and fencing are not: the last
    /// means another node sequences now, which a retry here cannot change.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Database { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// An error and its sources, `: `-separated: drivers such as tokio-postgres
/// keep the server's message in the source, not in their own `Display`.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

/// Persistent state of one log: what the log writes and the sequencer reads
/// ([`LogStore`]) and the reads only the HTTP side makes ([`QueryStore`]).
/// Every backend implements both; a caller asks for the narrowest it needs.
///
/// # Contract
///
/// * **Durable on return.** When a write method returns `Ok`, its data survives a
///   crash or power loss (SQLite: WAL with `synchronous=FULL`). The sequencer
///   answers submitters only after [`append_batch`](LogStore::append_batch) returns.
/// * **Atomic batches.** `append_batch` writes the entries, the new Merkle nodes,
///   the signed checkpoint and the key-registry events of one batch all together or
///   not at all. After an `Err`, none of it is visible, now or after a restart.
/// * **Reads see a committed prefix.** Every read observes the state after some
///   complete batch: a checkpoint is never visible before the entries and node
///   hashes it commits to, and the latest checkpoint's size equals the number of
///   stored entries.
/// * **Statements are found at their first position.**
///   [`find_statements`](LogStore::find_statements) answers, for a statement
///   digest, the entry with the lowest index carrying it. Storage does not refuse
///   a second entry with a logged statement (logs written before the sequencer
///   refused them hold such copies, and must still open); keeping the log free of
///   them is the sequencer's job.
/// * **The index goes with its batch.** `append_batch` stores the batch's changed
///   index leaves ([`Batch::index`]) in the same transaction, as changes recorded
///   under the batch's checkpoint size (appended, never updated in place), and
///   [`index_leaves`](LogStore::index_leaves) reads them and the latest
///   checkpoint's size from one snapshot: the stored index covers exactly the
///   entries of that checkpoint.
/// * **Append-only.** No entry, node, checkpoint, key event or index change is ever
///   updated or deleted; callers append entries with dense indexes starting at the
///   current size. One stored value is replaced by design: a witness's cosignature
///   of a checkpoint (by a later one from the same witness,
///   [`add_cosignatures`](LogStore::add_cosignatures)).
///   Every checkpoint read returns the log-signed note followed by the cosignature
///   lines recorded so far, so the log-signed bytes never change.
/// * **Errors say whether to retry** ([`StorageError::is_transient`]).
///
/// All methods block; async callers run them with `spawn_blocking`.
pub trait Storage: LogStore + QueryStore {}

impl<T: LogStore + QueryStore + ?Sized> Storage for T {}

/// What the write path needs: the sequencer (one node or the leader of a shared
/// log) appends batches and reloads its state from these; the witnessing task
/// records cosignatures. Under the [`Storage`] contract.
pub trait LogStore: Send + Sync + 'static {
    /// This store as the sequencer uses it: the same data, writes and caches, but
    /// reads on connections of its own that no other handle's reads can hold, so
    /// no number of slow HTTP reads delays a batch. Backends without a pool return
    /// themselves.
    fn for_sequencer(self: Arc<Self>) -> Arc<dyn Storage>;
    /// The origin and verifier key recorded when the log was created, if it was.
    fn identity(&self) -> Result<Option<LogIdentity>, StorageError>;
    /// Record the log's identity once; fails if a different one is recorded.
    fn set_identity(&self, identity: &LogIdentity) -> Result<(), StorageError>;

    /// Append one batch atomically and durably (see the [`Storage`] contract).
    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError>;

    /// The newest signed checkpoint, `None` for a log with no batch yet.
    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StorageError>;
    /// The signed checkpoint of exactly `size` entries, if one was issued.
    fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StorageError>;

    /// The entry at `index`, if stored (a duplicate's first copy, for its receipt).
    fn entry(&self, index: u64) -> Result<Option<EntryRecord>, StorageError>;
    /// The entries with the given indexes, in the order asked; missing ones skipped.
    fn entries(&self, indexes: &[u64]) -> Result<Vec<EntryRecord>, StorageError>;
    /// For each of `digests` ([`EntryRecord::statement_digest`]), in order: the
    /// first entry carrying that statement, with its signers, if logged. One call
    /// per batch for the sequencer's duplicate check: a miss must cost one index
    /// lookup.
    fn find_statements(&self, digests: &[Hash]) -> Result<Vec<Option<FirstCopy>>, StorageError>;
    /// Indexes of every key event, in log order (the registry is replayed from them).
    fn key_events(&self) -> Result<Vec<KeyEventRecord>, StorageError>;
    /// Hashes of the given tree nodes, in order. Missing nodes are an error.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError>;
    /// The index leaves changed by batches whose checkpoint is larger than
    /// `changed_after`, in the order the batches changed them, and the latest
    /// checkpoint's size, read from one snapshot. A key changed by several of those
    /// batches may be listed once per change: setting the leaves in the order given
    /// leaves each key with its value at that size. `0` reads the whole index; a
    /// reader that holds the index at size `s` catches up with `s`.
    fn index_leaves(&self, changed_after: u64) -> Result<IndexSnapshot, StorageError>;

    /// Record witness cosignatures (tlog-cosignature v1 signature lines) of the
    /// checkpoint of `size`, durably. A note holds one signature per key: a
    /// cosignature by a witness key that already has one on this checkpoint replaces
    /// it only when its timestamp is later (a witness asked again about the
    /// checkpoint it holds cosigns it afresh: "still the latest now"), and is
    /// ignored otherwise. The caller has verified them.
    ///
    /// The default refuses, so a backend (or test wrapper) that does not keep
    /// cosignatures fails loudly once witnesses are configured instead of dropping them.
    fn add_cosignatures(
        &self,
        size: u64,
        cosignatures: &[glassbox_core::note::NoteSignature],
    ) -> Result<(), StorageError> {
        let _ = cosignatures;
        Err(StorageError::fatal(format!(
            "this storage backend does not keep witness cosignatures (checkpoint {size})"
        )))
    }
}

/// The reads only the HTTP side makes (history pages, search, tiles, export),
/// never on the path of a submission. Under the [`Storage`] contract.
pub trait QueryStore: Send + Sync + 'static {
    /// Signed checkpoints with size ≥ `since`, oldest first, at most `limit`.
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError>;
    /// Leaf bytes of entries `start..end`, in order.
    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError>;
    /// Entries matching every term of `query`, ordered by index, after `query.after`.
    fn search(&self, query: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError>;

    /// The log index and kind of each entry [`search`](QueryStore::search) returns for
    /// `query`, without reading the entries: an index lookup lists the entries filed
    /// under thousands of keys at once (a release bundle proves every file of a
    /// release), and each may be a build naming thousands of subjects.
    ///
    /// The default reads the entries; backends override it with a query of the two columns.
    fn search_indices(&self, query: &SearchQuery) -> Result<Vec<(u64, String)>, StorageError> {
        Ok(self
            .search(query)?
            .into_iter()
            .map(|e| (e.index, e.kind))
            .collect())
    }

    /// How many entries were integrated on each UTC day from the day holding
    /// `since_ms` on, oldest first; days without entries are left out. Days are
    /// numbered from the Unix epoch (`integrated_at_ms / 86_400_000`). Backs the
    /// home page's activity chart, so it must not read the entries themselves.
    ///
    /// The default pages through [`search`](QueryStore::search); backends override
    /// it with an aggregate query.
    fn entries_per_day(&self, since_ms: i64) -> Result<Vec<DayCount>, StorageError> {
        let day0 = since_ms.div_euclid(DAY_MS);
        let mut out: Vec<DayCount> = Vec::new();
        let mut after = None;
        loop {
            let page = self.search(&SearchQuery {
                since_ms: Some(day0 * DAY_MS),
                after,
                limit: 1000,
                ..SearchQuery::default()
            })?;
            for e in &page {
                let day = e.integrated_at_ms.div_euclid(DAY_MS);
                match out.last_mut() {
                    Some(last) if last.day == day => last.entries += 1,
                    _ => out.push(DayCount { day, entries: 1 }),
                }
            }
            match page.last() {
                Some(last) if page.len() == 1000 => after = Some(last.index),
                _ => break,
            }
        }
        out.sort_by_key(|d| d.day);
        Ok(out)
    }
}

/// Test support: with every one of `pool` pooled read connections held by a read
/// that waits (as a slow HTTP read would; `hold(wait)` runs `wait` inside a pooled
/// read), `sequencer` — the store's [`LogStore::for_sequencer`] handle — still reads.
#[cfg(test)]
pub(crate) fn assert_sequencer_reads_past_held_pool(
    pool: usize,
    hold: impl Fn(&dyn Fn()) + Send + Sync + 'static,
    sequencer: Arc<dyn Storage>,
) {
    use std::sync::{mpsc, Mutex};
    use std::time::Duration;
    let hold = Arc::new(hold);
    let (held_tx, held) = mpsc::channel();
    let (release_tx, release) = mpsc::channel::<()>();
    let release = Arc::new(Mutex::new(release));
    let holders: Vec<_> = (0..pool)
        .map(|_| {
            let (hold, held_tx, release) = (hold.clone(), held_tx.clone(), release.clone());
            std::thread::spawn(move || {
                hold(&|| {
                    held_tx.send(()).unwrap();
                    let _ = release.lock().unwrap().recv();
                })
            })
        })
        .collect();
    for _ in 0..pool {
        held.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || done_tx.send(sequencer.find_statements(&[[7; 32]])));
    let found = done
        .recv_timeout(Duration::from_secs(30))
        .expect("the sequencer's read waited for a pooled connection");
    assert_eq!(found.unwrap(), vec![None]);
    drop(release_tx);
    for h in holders {
        h.join().unwrap();
    }
}
