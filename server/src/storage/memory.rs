//! An in-memory [`Storage`] with fault injection, for sequencer and router tests
//! (feature `test-util`, never in a release build).
//! It keeps the same contract as SQLite: a failed batch leaves no trace.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use glassbox_core::index::ListHead;

use super::records::{
    Batch, CheckpointRecord, DayCount, EntryRecord, FirstCopy, IndexSnapshot, KeyEventRecord,
    LogIdentity, DAY_MS,
};
use super::{Hash, LogStore, NodeId, QueryStore, SearchQuery, Storage, StorageError};

#[derive(Default)]
struct State {
    identity: Option<LogIdentity>,
    entries: Vec<EntryRecord>,
    /// The first index carrying each statement digest.
    by_statement: HashMap<Hash, u64>,
    nodes: HashMap<NodeId, Hash>,
    checkpoints: BTreeMap<u64, CheckpointRecord>,
    key_events: Vec<KeyEventRecord>,
    /// (checkpoint size, witness name, key ID) → the cosignature line recorded.
    cosigned: HashMap<(u64, String, u32), String>,
    /// Index leaves: value and the checkpoint size of the batch that last changed it.
    index: HashMap<[u8; 32], (ListHead, u64)>,
}

/// Called with each batch as [`LogStore::append_batch`] begins, before an injected
/// failure or the write: a test can count commits there, or hold them.
pub type AppendHook = Box<dyn Fn(&Batch) + Send + Sync>;
/// Called with the rows [`QueryStore::search`] hands out.
pub type SearchHook = Box<dyn Fn(&[EntryRecord]) + Send + Sync>;

/// In-memory storage; `fail_next_appends(n)` makes the next `n` batch appends fail,
/// and hooks let a test watch or hold appends and searches.
#[derive(Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
    failures: AtomicUsize,
    before_append: Option<AppendHook>,
    after_search: Option<SearchHook>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// This storage, calling `hook` as each batch append begins.
    pub fn before_append(mut self, hook: impl Fn(&Batch) + Send + Sync + 'static) -> Self {
        self.before_append = Some(Box::new(hook));
        self
    }

    /// This storage, calling `hook` with the rows of each search.
    pub fn after_search(mut self, hook: impl Fn(&[EntryRecord]) + Send + Sync + 'static) -> Self {
        self.after_search = Some(Box::new(hook));
        self
    }

    /// Make the next `n` calls to [`LogStore::append_batch`] fail without effect.
    pub fn fail_next_appends(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, StorageError> {
        self.state
            .lock()
            .map_err(|_| StorageError::fatal("memory storage poisoned"))
    }
}

impl LogStore for MemoryStorage {
    fn for_sequencer(self: Arc<Self>) -> Arc<dyn Storage> {
        self
    }

    fn identity(&self) -> Result<Option<LogIdentity>, StorageError> {
        Ok(self.lock()?.identity.clone())
    }

    fn set_identity(&self, identity: &LogIdentity) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        match &s.identity {
            Some(existing) if existing != identity => Err(StorageError::Corrupt(format!(
                "log identity is already recorded as {existing:?}"
            ))),
            _ => {
                s.identity = Some(identity.clone());
                Ok(())
            }
        }
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        if let Some(hook) = &self.before_append {
            hook(batch);
        }
        let pending = self.failures.load(Ordering::SeqCst);
        if pending > 0 {
            self.failures.store(pending - 1, Ordering::SeqCst);
            return Err(StorageError::Injected("append_batch".into()));
        }
        let mut s = self.lock()?;
        // Check everything before changing anything, so a refused batch is invisible.
        for (i, e) in batch.entries.iter().enumerate() {
            if e.index != (s.entries.len() + i) as u64 {
                return Err(StorageError::Corrupt(format!(
                    "entry {} is not dense",
                    e.index
                )));
            }
        }
        if let Some((n, _)) = batch.nodes.iter().find(|(n, _)| s.nodes.contains_key(n)) {
            return Err(StorageError::Corrupt(format!(
                "node ({}, {}) is already stored",
                n.level, n.index
            )));
        }
        if s.checkpoints.contains_key(&batch.checkpoint.size) {
            return Err(StorageError::Corrupt(
                "checkpoint size already recorded".into(),
            ));
        }
        for e in &batch.entries {
            s.by_statement.entry(e.statement_digest).or_insert(e.index);
            s.entries.push(e.clone());
        }
        s.nodes.extend(batch.nodes.iter().copied());
        s.key_events.extend(batch.key_events.iter().cloned());
        s.checkpoints
            .insert(batch.checkpoint.size, batch.checkpoint.clone());
        for (key, value) in &batch.index {
            s.index.insert(*key, (*value, batch.checkpoint.size));
        }
        Ok(())
    }

    fn index_leaves(&self, changed_after: u64) -> Result<IndexSnapshot, StorageError> {
        let s = self.lock()?;
        Ok(IndexSnapshot {
            size: s.checkpoints.keys().next_back().copied().unwrap_or(0),
            leaves: s
                .index
                .iter()
                .filter(|(_, (_, at))| *at > changed_after)
                .map(|(key, (value, _))| (*key, *value))
                .collect(),
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StorageError> {
        Ok(self.lock()?.checkpoints.values().next_back().cloned())
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<CheckpointRecord>, StorageError> {
        Ok(self.lock()?.checkpoints.get(&size).cloned())
    }

    fn add_cosignatures(
        &self,
        size: u64,
        cosignatures: &[glassbox_core::note::NoteSignature],
    ) -> Result<(), StorageError> {
        let mut s = self.lock()?;
        let s = &mut *s;
        let Some(record) = s.checkpoints.get_mut(&size) else {
            return Err(StorageError::Corrupt(format!(
                "no checkpoint of size {size}"
            )));
        };
        for sig in cosignatures {
            // One signature per key (name, key ID) on a note; a later one replaces it.
            let line = format!("{}\n", sig.to_line());
            match s.cosigned.entry((size, sig.name.clone(), sig.key_id)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    record.note.extend_from_slice(line.as_bytes());
                    slot.insert(line);
                }
                std::collections::hash_map::Entry::Occupied(mut held) => {
                    if !super::records::newer(sig, held.get().trim_end()) {
                        continue;
                    }
                    let old = held.get().as_bytes();
                    if let Some(at) = record.note.windows(old.len()).position(|w| w == old) {
                        record.note.splice(at..at + old.len(), line.bytes());
                    }
                    held.insert(line);
                }
            }
        }
        Ok(())
    }

    fn entry(&self, index: u64) -> Result<Option<EntryRecord>, StorageError> {
        Ok(self.lock()?.entries.get(index as usize).cloned())
    }

    fn entries(&self, indexes: &[u64]) -> Result<Vec<EntryRecord>, StorageError> {
        let s = self.lock()?;
        Ok(indexes
            .iter()
            .filter_map(|&i| s.entries.get(i as usize).cloned())
            .collect())
    }

    fn find_statements(&self, digests: &[Hash]) -> Result<Vec<Option<FirstCopy>>, StorageError> {
        let s = self.lock()?;
        Ok(digests
            .iter()
            .map(|d| {
                let index = *s.by_statement.get(d)?;
                Some(FirstCopy {
                    index,
                    signers: s.entries[index as usize].signers.clone(),
                })
            })
            .collect())
    }

    fn key_events(&self) -> Result<Vec<KeyEventRecord>, StorageError> {
        Ok(self.lock()?.key_events.clone())
    }

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StorageError> {
        let s = self.lock()?;
        nodes
            .iter()
            .map(|n| {
                s.nodes.get(n).copied().ok_or_else(|| {
                    StorageError::Corrupt(format!(
                        "tree node level {} index {} is missing",
                        n.level, n.index
                    ))
                })
            })
            .collect()
    }
}

impl QueryStore for MemoryStorage {
    fn checkpoints(&self, since: u64, limit: usize) -> Result<Vec<CheckpointRecord>, StorageError> {
        Ok(self
            .lock()?
            .checkpoints
            .range(since..)
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn leaves(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StorageError> {
        let s = self.lock()?;
        let end = (end as usize).min(s.entries.len());
        let start = (start as usize).min(end);
        Ok(s.entries[start..end]
            .iter()
            .map(|e| e.leaf.clone())
            .collect())
    }

    fn search(&self, q: &SearchQuery) -> Result<Vec<EntryRecord>, StorageError> {
        let s = self.lock()?;
        let has = |values: &[String], want: &Option<String>| {
            want.as_ref().is_none_or(|w| values.iter().any(|v| v == w))
        };
        let has_any = |values: &[String], want: &Option<Vec<String>>| {
            want.as_ref()
                .is_none_or(|w| values.iter().any(|v| w.contains(v)))
        };
        // Indexes are dense from 0, so `after` is a position: paging stays linear.
        let start = q
            .after
            .map_or(0, |a| (a as usize).saturating_add(1).min(s.entries.len()));
        let rows: Vec<EntryRecord> = s.entries[start..]
            .iter()
            .filter(|e| q.after.is_none_or(|a| e.index > a))
            .filter(|e| q.before.is_none_or(|b| e.index < b))
            .filter(|e| has(&e.terms.artifacts, &q.artifact))
            .filter(|e| has(&e.terms.commits, &q.commit))
            .filter(|e| has(&e.terms.dir_hashes, &q.dir_hash))
            .filter(|e| has_any(&e.terms.repositories, &q.repositories))
            // A signer: what the key signed, and the key events about the key.
            .filter(|e| {
                has_any(&e.signers, &q.signers)
                    || q.signers.as_ref().is_some_and(|keys| {
                        s.key_events
                            .iter()
                            .any(|ev| ev.index == e.index && keys.contains(&ev.key_id))
                    })
            })
            .filter(|e| q.kind.as_ref().is_none_or(|k| &e.kind == k))
            .filter(|e| q.since_ms.is_none_or(|t| e.integrated_at_ms >= t))
            .filter(|e| q.until_ms.is_none_or(|t| e.integrated_at_ms <= t))
            .take(q.limit)
            .cloned()
            .collect();
        drop(s);
        if let Some(hook) = &self.after_search {
            hook(&rows);
        }
        Ok(rows)
    }

    fn entries_per_day(&self, since_ms: i64) -> Result<Vec<DayCount>, StorageError> {
        let day0 = since_ms.div_euclid(DAY_MS);
        let mut days: BTreeMap<i64, u64> = BTreeMap::new();
        for e in &self.lock()?.entries {
            let day = e.integrated_at_ms.div_euclid(DAY_MS);
            if day >= day0 {
                *days.entry(day).or_default() += 1;
            }
        }
        Ok(days
            .into_iter()
            .map(|(day, entries)| DayCount { day, entries })
            .collect())
    }
}
