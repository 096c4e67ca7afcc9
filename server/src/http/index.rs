//! The read side of the verifiable index: the index trie as of the latest
//! checkpoint, and the complete, proven list of entries under a key
//! (`GET /api/v1/index`, and the bundle's completeness proofs).
//!
//! On the node that sequences, the trie is the sequencer's own, read as of the
//! newest committed checkpoint (crate::log::shared_index). A node that does not
//! sequence — a follower, whose log another node extends — or one whose
//! sequencer failed to read its index keeps a copy of its own, brought up to the newest
//! checkpoint before each use by reading only the index leaves changed since
//! ([`LogStore::index_leaves`]), and lets it go once the shared one is back.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use glassbox_core::bundle::{IndexLookup, Receipt};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{IndexCommitment, IndexKey, ListHead, Trie, TrieView};
use tokio::sync::watch;

use crate::http::error::AppError;
use crate::log::admission::facts::INDEX_COMMITMENT_KIND;
use crate::log::receipt::{make_receipt, StorageReader};
use crate::log::shared_index::{Read, SharedIndex};
use crate::storage::{CheckpointRecord, SearchQuery, Storage, StorageError};

/// The index as of one checkpoint, for the HTTP handlers.
pub struct IndexReader {
    /// The sequencer's trie and the size of the newest committed checkpoint, on a
    /// node that sequences.
    shared: Option<(Arc<SharedIndex>, watch::Receiver<u64>)>,
    /// A copy of its own, when no trie is shared.
    held: Mutex<Held>,
    /// `held` holds a copy (dropped once the shared trie answers again).
    has_copy: AtomicBool,
    /// The most log indices one answer lists ([`MAX_LISTED`] unless set).
    max_listed: u64,
}

/// How often a reader asks the shared trie again when the log moved on between
/// reading the committed size and reading the trie, before reading storage.
const SHARED_ATTEMPTS: usize = 8;

impl Default for IndexReader {
    fn default() -> Self {
        Self::with_max_listed(MAX_LISTED)
    }
}

#[derive(Default)]
struct Held {
    /// The checkpoint size the trie covers.
    size: u64,
    trie: Trie,
}

/// Proven lists of some keys, all as of one checkpoint.
pub struct Proven {
    /// The checkpoint, whose last entry is the commitment.
    pub checkpoint: CheckpointRecord,
    /// The commitment with its proof against `checkpoint`.
    pub commitment: Receipt,
    /// One lookup per key asked, in the order asked.
    pub lookups: Vec<IndexLookup>,
}

impl IndexReader {
    /// A reader whose answers list at most `max_listed` log indices.
    pub fn with_max_listed(max_listed: u64) -> Self {
        IndexReader {
            shared: None,
            held: Mutex::default(),
            has_copy: AtomicBool::new(false),
            max_listed,
        }
    }

    /// This reader, reading the sequencer's trie (`Sequencer::shared_index`) as
    /// of the size `committed` follows (`Sequencer::committed_checkpoints`)
    /// whenever the sequencer holds it.
    pub fn sharing(mut self, index: Arc<SharedIndex>, committed: watch::Receiver<u64>) -> Self {
        self.shared = Some((index, committed));
        self
    }

    /// The most log indices one answer lists.
    pub fn max_listed(&self) -> u64 {
        self.max_listed
    }

    /// How many entries the index files under each of `keys`, as of the latest
    /// checkpoint (unproven counts, for display), and that checkpoint's size.
    pub fn counts(&self, s: &dyn Storage, keys: &[IndexKey]) -> Result<(u64, Vec<u64>), AppError> {
        self.read(s, |size, trie| {
            let counts = keys.iter().map(|k| trie.get(&k.hash()).count).collect();
            (size, counts)
        })
    }

    /// The size of the latest checkpoint when the index files exactly `shown` (log
    /// indices, increasing) under `key` there; `None` when it files anything else.
    /// For pages that say "complete as of size N" next to what they found: the
    /// list is compared by its chain head with the trie's value, so the entries a
    /// page already read are not read again.
    pub fn lists_exactly(
        &self,
        s: &dyn Storage,
        key: &IndexKey,
        shown: &[u64],
    ) -> Result<Option<u64>, AppError> {
        let Ok(listed) = ListHead::of(shown) else {
            return Ok(None);
        };
        self.read(s, |size, trie| {
            (size > 0 && trie.get(&key.hash()) == listed).then_some(size)
        })
    }

    /// Run `read` on the trie as of the latest checkpoint, with that checkpoint's
    /// size: the shared trie when there is one, else the held copy, caught up.
    fn read<R>(
        &self,
        s: &dyn Storage,
        read: impl FnOnce(u64, TrieView<'_>) -> R,
    ) -> Result<R, AppError> {
        let mut read = Some(read);
        if let Some((shared, committed)) = &self.shared {
            for _ in 0..SHARED_ATTEMPTS {
                let size = *committed.borrow();
                let answer = shared.read(size, |trie| read.take().map(|read| read(size, trie)));
                match answer {
                    Read::Done(Some(answer)) => {
                        // Back on the shared trie: the copy goes.
                        if self.has_copy.swap(false, Ordering::Relaxed) {
                            if let Ok(mut held) = self.held.lock() {
                                *held = Held::default();
                            }
                        }
                        return Ok(answer);
                    }
                    Read::Missing => continue,
                    Read::Done(None) | Read::Absent => break,
                }
            }
        }
        let read = read.ok_or_else(|| AppError::Internal("index read twice".into()))?;
        let mut held = self.catch_up(s)?;
        self.has_copy.store(true, Ordering::Relaxed);
        let size = held.size;
        Ok(read(size, held.trie.view()))
    }

    /// The held trie, caught up with the latest checkpoint.
    fn catch_up(&self, s: &dyn Storage) -> Result<std::sync::MutexGuard<'_, Held>, AppError> {
        let mut held = self
            .held
            .lock()
            .map_err(|_| AppError::Internal("index reader poisoned".into()))?;
        let snapshot = s.index_leaves(held.size)?;
        if snapshot.size < held.size {
            return Err(StorageError::Corrupt(format!(
                "the log shrank from {} to {} entries",
                held.size, snapshot.size
            ))
            .into());
        }
        if held.size == 0 {
            // The whole index: built from its sorted leaves, not key by key.
            held.trie = Trie::from_leaves(snapshot.leaves);
        } else {
            for (key, value) in snapshot.leaves {
                held.trie.set(key, value);
            }
        }
        held.size = snapshot.size;
        Ok(held)
    }

    /// Catch up with the latest checkpoint and prove `keys` there: for each, its
    /// value and proof from the trie, and its list of log indices from storage,
    /// checked against the value (a list that does not hash to it is an internal
    /// error, never an answer).
    pub fn prove(&self, s: &dyn Storage, keys: &[IndexKey]) -> Result<Proven, AppError> {
        self.prove_lists(s, keys, false).map(|(proven, _)| proven)
    }

    /// As [`prove`](Self::prove) for one key, except that a list longer than the
    /// cap is not refused: its first [`max_listed`](Self::with_max_listed)
    /// indices are answered, with the index after which [`list_page`] goes on
    /// (the client chains every page into the proven value).
    pub fn prove_first_page(
        &self,
        s: &dyn Storage,
        key: &IndexKey,
    ) -> Result<(Proven, Option<u64>), AppError> {
        self.prove_lists(s, std::slice::from_ref(key), true)
    }

    fn prove_lists(
        &self,
        s: &dyn Storage,
        keys: &[IndexKey],
        paged: bool,
    ) -> Result<(Proven, Option<u64>), AppError> {
        let (size, proofs) = self.read(s, |size, trie| {
            let proofs: Vec<_> = keys
                .iter()
                .map(|k| {
                    let hash = k.hash();
                    (trie.get(&hash), trie.prove(&hash))
                })
                .collect();
            (size, proofs)
        })?;
        let last = size.checked_sub(1).ok_or_else(no_commitment)?;
        let checkpoint = s
            .checkpoint_at(size)?
            .ok_or_else(|| StorageError::Corrupt(format!("checkpoint {size} is missing")))?;
        let entry = s
            .entry(last)?
            .ok_or_else(|| StorageError::Corrupt(format!("entry {last} is missing")))?;
        let envelope = Envelope::from_json(&entry.leaf)
            .ok()
            .filter(IndexCommitment::is_commitment)
            .ok_or_else(no_commitment)?;
        let commitment = IndexCommitment::parse(&envelope)
            .map_err(|e| StorageError::Corrupt(format!("entry {last}: {e}")))?;
        let reader = StorageReader(s);
        let commitment_receipt = make_receipt(last, &entry.leaf, &checkpoint, &reader)?;
        // The trie's counts say how long the lists are before any is read: an
        // answer past the cap is refused here, having read nothing, or paged.
        let listed: u64 = proofs.iter().map(|(value, _)| value.count).sum();
        if paged && listed > self.max_listed {
            let (key, (_, proof)) = keys
                .iter()
                .zip(proofs)
                .next()
                .ok_or_else(|| AppError::Internal("a paged lookup of no key".into()))?;
            let (indices, next) = list_page(s, key, last, None, self.max_listed)?;
            let proven = Proven {
                checkpoint,
                commitment: commitment_receipt,
                lookups: vec![IndexLookup {
                    key: key.to_string(),
                    indices,
                    proof,
                }],
            };
            return Ok((proven, next));
        }
        if listed > self.max_listed {
            return Err(AppError::AnswerTooLarge(format!(
                "the index lists {listed} entries under {}; one answer lists at most {}",
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.max_listed
            )));
        }
        let mut lookups = Vec::with_capacity(keys.len());
        for (key, (value, proof)) in keys.iter().zip(proofs) {
            let indices = indices_of(s, key, last)?;
            let listed = ListHead::of(&indices).map_err(|e| AppError::Internal(e.to_string()))?;
            if listed != value || proof.verify(&commitment.root, &key.hash()).is_err() {
                return Err(StorageError::Corrupt(format!(
                    "the index lists {} entries under {key}, storage {}",
                    value.count,
                    indices.len()
                ))
                .into());
            }
            lookups.push(IndexLookup {
                key: key.to_string(),
                indices,
                proof,
            });
        }
        let proven = Proven {
            checkpoint,
            commitment: commitment_receipt,
            lookups,
        };
        Ok((proven, None))
    }
}

/// The log has no index commitment yet (empty, or written before commitments and
/// not extended since).
fn no_commitment() -> AppError {
    AppError::NotFound("the log has not committed to an index yet: its next batch will".to_owned())
}

/// Page size of the searches below.
const PAGE: usize = 1000;

/// The most log indices one answer (a lookup, or a bundle's lookups together)
/// lists: 2^18, about 2 MiB of JSON. A key with more entries is answered
/// `422 answer_too_large` (docs/api.md).
pub const MAX_LISTED: u64 = 1 << 18;

/// The log indices below `before` of the entries filed under `key`, from the
/// search columns and the key-event table, which hold what the documented mapping
/// files entries under (the search's `signer` filter matches what the key signed
/// and the key events about it, as the `signer:` key does).
fn indices_of(s: &dyn Storage, key: &IndexKey, before: u64) -> Result<Vec<u64>, StorageError> {
    Ok(list_page(s, key, before, None, u64::MAX)?.0)
}

/// Up to `limit` of the log indices below `before` filed under `key`, after
/// `after` (from the start when `None`), in increasing order, with the last of
/// them when the page is full (the list may go on after it). Read as
/// [`indices_of`] reads a whole list: a page of entries in memory at a time.
pub fn list_page(
    s: &dyn Storage,
    key: &IndexKey,
    before: u64,
    after: Option<u64>,
    limit: u64,
) -> Result<(Vec<u64>, Option<u64>), StorageError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let full = |out: Vec<u64>| {
        let next = (out.len() == limit).then(|| out.last().copied()).flatten();
        (out, next)
    };
    let query = match key {
        IndexKey::Artifact(h) => SearchQuery {
            artifact: Some(h.clone()),
            kind: Some("build".into()),
            ..SearchQuery::default()
        },
        IndexKey::Source(h) => SearchQuery {
            dir_hash: Some(h.clone()),
            ..SearchQuery::default()
        },
        IndexKey::Signer(k) => SearchQuery {
            signers: Some(vec![k.clone()]),
            ..SearchQuery::default()
        },
        IndexKey::Registry => {
            let listed: BTreeSet<u64> = s
                .key_events()?
                .into_iter()
                .map(|e| e.index)
                .filter(|&i| i < before && after.is_none_or(|a| i > a))
                .collect();
            return Ok(full(listed.into_iter().take(limit).collect()));
        }
    };
    // The log's own commitments are filed under no key, whoever signed them.
    // Only indices are read, never the entries: a release bundle lists thousands of
    // keys, each filed under builds naming thousands of subjects.
    let mut q = SearchQuery {
        before: Some(before),
        after,
        limit: PAGE,
        ..query
    };
    let mut out = Vec::new();
    loop {
        let page = s.search_indices(&q)?;
        let done = page.len() < PAGE;
        q.after = page.last().map(|(index, _)| *index);
        for (index, _) in page
            .iter()
            .filter(|(_, kind)| kind != INDEX_COMMITMENT_KIND)
        {
            out.push(*index);
            if out.len() == limit {
                return Ok(full(out));
            }
        }
        if done {
            return Ok(full(out));
        }
    }
}
