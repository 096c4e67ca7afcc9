//! The sequencer: the one task that writes to the log (docs/design.md §4).
//!
//! Submissions arrive on a bounded queue, their signatures already checked by
//! the submit handlers against the committed registry
//! ([`crate::log::admission::validate::precheck`]). Batches are cut on a steady cadence: every
//! batch interval, or as soon as a batch is full. Each batch goes through two
//! stages:
//!
//! 1. **prepare** (in memory, on the blocking pool): answer a statement already
//!    logged with its first copy, or refuse it if it adds a signer
//!    ([`crate::log::admission::dedupe`]); admit each envelope with the core participant registry
//!    *at its position* (key events earlier in the same batch, or in the batch
//!    still committing, already applied; the same rules the verifier replays);
//!    compute the Merkle nodes the new leaves complete; sign a checkpoint for the
//!    new size;
//! 2. **commit** (`commit.rs`): entries, nodes, checkpoint and key events in ONE
//!    storage call (one transaction, one fsync); only then answer each submitter
//!    with its receipt.
//!
//! The stages are pipelined: batch k+1 is collected and prepared while batch k
//! commits, built on k's in-memory state, and k's receipts are built (split
//! across the cores) while k+1 commits. Batches still commit one at a time and
//! in order, and nobody is answered before their own batch committed.
//!
//! A failed commit fails its batch and the one prepared on top of it: every
//! submitter in either gets 503, nothing of either is visible, and the in-memory
//! state is reloaded from storage before the next batch is prepared.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use glassbox_core::checkpoint::{Checkpoint, CheckpointError};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, IndexCommitment, ListHead, Trie};
use glassbox_core::merkle::{self, Hash, ProofError};
use glassbox_core::note::NoteSigner;
use glassbox_core::registry::Registry;
use glassbox_core::statement::Attestation;
use tokio::sync::{mpsc, oneshot, watch};

use crate::log::admission::dedupe::{check_signatures, resubmission};
use crate::log::admission::facts::{commitment_entry, Facts};
use crate::log::admission::validate::{Precheck, RegistryView};
use crate::log::batcher::{BatchLimits, Batcher};
use crate::log::clock::Clock;
use crate::log::commit::{refuse_all, Committer, InFlight, Prepared, Settles, Waiting};
use crate::log::error::LogError;
use crate::log::receipt::{BatchReader, ReceiptJson};
use crate::log::registry::{admit_keeping_an_operator, key_event_record, replay};
use crate::log::shared_index::{Load, SharedIndex};
use crate::metrics::Metrics;
use crate::storage::{
    Batch, CheckpointRecord, EntryRecord, FirstCopy, LogStore, NodeId, StorageError,
};

/// The state only the sequencer touches.
pub struct Sequencer {
    storage: Arc<dyn LogStore>,
    signer: NoteSigner,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    config: SequencerConfig,
    /// The registry after every prepared batch (committed or not).
    registry: Registry,
    /// Log index of the newest key event in `registry`.
    last_key_event: Option<u64>,
    /// The verifiable index after every prepared batch: the root each batch's
    /// closing commitment gives, labelled with that batch's checkpoint size so
    /// the node's readers prove lookups from it as of the committed checkpoint
    /// (crate::log::shared_index). Absent until loaded: the sequencer loads it
    /// before its first batch — from the thread `start_preload` began when the
    /// node started or took over, so a restart serves reads at once whatever the
    /// index's size.
    index: Arc<SharedIndex>,
    /// The index being read from storage (see `index`).
    preload: Option<std::thread::JoinHandle<Result<(), IndexLoad>>>,
    /// The log's last entry is not an index commitment (a log written before
    /// they were kept, not yet extended).
    uncommitted: bool,
    /// The log size after every prepared batch.
    size: u64,
    checkpoint: Option<CheckpointRecord>,
    /// Nodes of prepared batches storage may not hold yet (a batch committing
    /// while the next is prepared).
    unsettled_nodes: HashMap<NodeId, Hash>,
    /// Statements of those batches' entries, for deduplication.
    unsettled_statements: HashMap<Hash, FirstCopy>,
    committer: Committer,
    /// The newest committed batch's task, still answering its submitters.
    answering: Option<tokio::task::JoinHandle<()>>,
}

impl Sequencer {
    /// Start the sequencer task. It runs until every [`SequencerHandle`] is
    /// dropped, sequencing whatever is still queued before it returns, so a
    /// graceful shutdown loses nothing.
    pub fn spawn(self) -> (SequencerHandle, tokio::task::JoinHandle<()>) {
        let (handle, rx) = queue(self.config.queue_size, self.metrics.clone());
        self.link(&handle);
        (handle, self.start(rx))
    }

    /// Publish this sequencer's committed registry to `handle`'s submit handlers
    /// now, rather than when it takes the first submission from their queue, so
    /// that a freshly started server checks signatures from its first request.
    pub fn link(&self, handle: &SequencerHandle) {
        let _ = handle.registry.set(self.committer.registry.subscribe());
    }

    /// Tell the submit handlers whether this node sequences
    /// ([`RegistryView::current`]): a follower's view misses what the leader
    /// registers, so its handlers must not refuse unknown signers.
    pub fn set_current(&self, current: bool) {
        if !current {
            // Another node extends the log: readers follow storage, not this trie.
            self.index.clear();
        }
        self.committer.registry.send_if_modified(|view| {
            if view.current == current {
                return false;
            }
            let mut changed = RegistryView::clone(view);
            changed.current = current;
            *view = Arc::new(changed);
            true
        });
    }

    /// Start sequencing submissions from `rx` (see [`queue`]).
    pub fn start(self, rx: mpsc::Receiver<Submission>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(rx))
    }

    /// The sequencing loop: cut a batch, prepare it while the previous one
    /// commits, start its commit once the previous one committed, repeat.
    async fn run(mut self, mut rx: mpsc::Receiver<Submission>) {
        let mut batcher = Batcher::new(self.config.limits());
        let mut in_flight: Option<InFlight> = None;
        while let Some(items) = batcher.next(&mut rx).await {
            // A commit that already ended is settled (or its failure recovered
            // from) before the next batch is built on it.
            if let Some(ended) = in_flight.take_if(|f| f.has_ended()) {
                if !self.finish(ended).await {
                    self = match recover(self).await {
                        Some(s) => s,
                        None => return,
                    };
                }
            }
            if items.is_empty() {
                continue;
            }
            self.metrics
                .queue_depth
                .fetch_sub(items.len() as u64, Ordering::Relaxed);
            // Prepare this batch on the blocking pool (storage reads block) while
            // the previous one commits. Nothing is written; refusals are answered.
            let (s, prepared) = match tokio::task::spawn_blocking(move || {
                let p = self.prepare(items);
                (self, p)
            })
            .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "sequencer panicked; stopping");
                    return;
                }
            };
            self = s;
            // Batches commit one at a time, in order: wait for the previous one.
            let previous_ok = match in_flight.take() {
                Some(f) => self.finish(f).await,
                None => true,
            };
            match prepared {
                Ok(p) if previous_ok => {
                    // The commit (Committer::commit) is this batch's durability
                    // point; its submitters are answered only after it.
                    in_flight = Some(InFlight::start(self.committer.clone(), p));
                }
                other => {
                    // Built on a batch that did not commit (or not built at all):
                    // it must not commit either.
                    if let Ok(p) = other {
                        self.metrics
                            .batch_failures_total
                            .fetch_add(1, Ordering::Relaxed);
                        refuse_all(p.waiting);
                    }
                    self = match recover(self).await {
                        Some(s) => s,
                        None => return,
                    };
                }
            }
        }
        // The queue is closed and drained: the last commit ends the log's writes.
        if let Some(last) = in_flight.take() {
            if !self.finish(last).await {
                self = match recover(self).await {
                    Some(s) => s,
                    None => return,
                };
            }
        }
        // A graceful stop waits for the last receipts too: they hold the storage.
        if let Some(last) = self.answering.take() {
            let _ = last.await;
        }
        tracing::info!(
            size = self.size,
            "sequencer stopped: queue closed and drained"
        );
    }

    /// Wait for an in-flight commit; true when it committed.
    async fn finish(&mut self, f: InFlight) -> bool {
        let (ok, settles, task) = f.outcome().await;
        if ok {
            self.settle(settles);
        }
        // The previous batch's answers were under way before this commit began.
        if let Some(previous) = self.answering.replace(task) {
            let _ = previous.await;
        }
        ok
    }

    /// Sequence one batch and commit it (blocking), without pipelining: for the
    /// shared-storage loop (`leader.rs`), which answers between batches.
    pub fn sequence(&mut self, items: Vec<Submission>) {
        let ok = match self.prepare(items) {
            Ok(p) => {
                let settles = p.settles();
                let mut ok = false;
                self.committer.commit(p, |committed| ok = committed);
                if ok {
                    self.settle(settles);
                }
                ok
            }
            Err(_) => false,
        };
        if !ok {
            self.recover();
        }
    }
}

/// Reload the sequencer's state after a failed batch, off the async runtime.
/// `None` if that panicked (the sequencer is gone).
async fn recover(mut seq: Sequencer) -> Option<Sequencer> {
    match tokio::task::spawn_blocking(move || {
        seq.recover();
        seq
    })
    .await
    {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "reloading sequencer state panicked; stopping");
            None
        }
    }
}

/// What the sequencer answers a submitter.
#[derive(Debug)]
pub enum SubmitOutcome {
    /// Newly logged (HTTP 201).
    Created(ReceiptJson),
    /// The statement was already logged, with every signer this envelope has:
    /// the first copy's receipt (HTTP 200).
    Existing(ReceiptJson),
}

/// A parsed submission waiting for its position.
pub struct Submission {
    pub envelope: Envelope,
    pub facts: Facts,
    /// Canonical envelope bytes: the leaf.
    pub leaf: Vec<u8>,
    /// What the submit handler already verified.
    pub precheck: Precheck,
    registry: RegistryLink,
    reply: oneshot::Sender<Result<SubmitOutcome, LogError>>,
    queued_at: Instant,
}

/// Sequencing parameters.
#[derive(Clone, Debug)]
pub struct SequencerConfig {
    pub batch_interval: Duration,
    pub batch_size: usize,
    pub queue_size: usize,
    /// Key IDs allowed to sign the genesis registration (empty = any).
    pub operator_pins: Vec<String>,
}

impl SequencerConfig {
    /// When batches are cut (the same rule on one node and on a shared log).
    pub fn limits(&self) -> BatchLimits {
        BatchLimits {
            interval: self.batch_interval,
            max: self.batch_size,
        }
    }
}

impl Submission {
    /// Answer the submitter (e.g. with the receipt another node returned).
    pub fn answer(self, result: Result<SubmitOutcome, LogError>) {
        let _ = self.reply.send(result);
    }
}

/// The sending side, cloned into every handler.
#[derive(Clone)]
pub struct SequencerHandle {
    tx: mpsc::Sender<Submission>,
    metrics: Arc<Metrics>,
    /// The committed registry, which handlers verify signatures against. Shared
    /// by every clone of the handle; the sequencer fills it in when it takes the
    /// first submission from this queue (a queue is made before the sequencer
    /// that drains it, see [`queue`]).
    registry: RegistryLink,
}

/// Where a sequencer publishes its committed registry for one queue's handles.
type RegistryLink = Arc<OnceLock<watch::Receiver<Arc<RegistryView>>>>;

impl SequencerHandle {
    /// Queue a submission and wait until it is durably logged or refused.
    /// A full queue is refused at once with [`LogError::Overloaded`].
    pub async fn submit(
        &self,
        envelope: Envelope,
        facts: Facts,
        leaf: Vec<u8>,
    ) -> Result<SubmitOutcome, LogError> {
        self.submit_prechecked(envelope, facts, leaf, Precheck::Unchecked)
            .await
    }

    /// [`submit`](Self::submit) with what the caller already verified against
    /// [`registry_view`](Self::registry_view).
    pub async fn submit_prechecked(
        &self,
        envelope: Envelope,
        facts: Facts,
        leaf: Vec<u8>,
        precheck: Precheck,
    ) -> Result<SubmitOutcome, LogError> {
        let (reply, rx) = oneshot::channel();
        let sub = Submission {
            envelope,
            facts,
            leaf,
            precheck,
            registry: self.registry.clone(),
            reply,
            queued_at: Instant::now(),
        };
        match self.tx.try_send(sub) {
            Ok(()) => {
                self.metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => return Err(LogError::Overloaded),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(LogError::ShuttingDown),
        }
        rx.await.unwrap_or(Err(LogError::CommitFailed))
    }

    /// The registry as of the newest committed batch; `None` until the sequencer
    /// has taken a first submission from this queue (until then, and for
    /// submissions queued without a check, it admits in full).
    pub fn registry_view(&self) -> Option<Arc<RegistryView>> {
        self.registry.get().map(|r| r.borrow().clone())
    }
}

/// The bounded submission queue: the handle for handlers and the receiving end
/// for [`Sequencer::start`]. Tests hold the receiver to simulate a stalled sequencer.
pub fn queue(size: usize, metrics: Arc<Metrics>) -> (SequencerHandle, mpsc::Receiver<Submission>) {
    let (tx, rx) = mpsc::channel(size);
    let handle = SequencerHandle {
        tx,
        metrics,
        registry: Arc::new(OnceLock::new()),
    };
    (handle, rx)
}

impl Sequencer {
    /// Load the current state from storage.
    pub fn load(
        storage: Arc<dyn LogStore>,
        signer: NoteSigner,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        config: SequencerConfig,
    ) -> Result<Sequencer, StorageError> {
        let mut s = Sequencer::load_shared(storage, signer, clock, metrics, config)?;
        s.start_preload()?;
        s.set_current(true);
        if s.checkpoint.is_none() {
            s.sign_empty_checkpoint()?;
        }
        s.commit_migrated_index()?;
        Ok(s)
    }

    /// Load the current state from storage without writing anything: for a node
    /// sharing its storage with others, which writes only once it holds the
    /// sequencer lease ([`take_over`](Self::take_over), `leader.rs`).
    pub fn load_shared(
        storage: Arc<dyn LogStore>,
        signer: NoteSigner,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        config: SequencerConfig,
    ) -> Result<Sequencer, StorageError> {
        let committer = Committer {
            storage: storage.clone(),
            metrics: metrics.clone(),
            committed: Arc::new(watch::Sender::new(0)),
            registry: Arc::new(watch::Sender::new(Arc::new(RegistryView::default()))),
        };
        let mut s = Sequencer {
            storage,
            signer,
            clock,
            metrics,
            config,
            registry: Registry::default(),
            last_key_event: None,
            index: SharedIndex::new(),
            preload: None,
            uncommitted: false,
            size: 0,
            checkpoint: None,
            unsettled_nodes: HashMap::new(),
            unsettled_statements: HashMap::new(),
            committer,
            answering: None,
        };
        s.reload()?;
        // Not the sequencer until it takes over (`take_over` reloads again and
        // starts reading the index).
        s.set_current(false);
        Ok(s)
    }

    /// Become the sequencer of a shared log: reload everything from storage
    /// (another node may have extended the log since this one last sequenced),
    /// then publish the empty log's checkpoint if there is none yet.
    pub fn take_over(&mut self) -> Result<(), StorageError> {
        self.reload()?;
        self.start_preload()?;
        if self.checkpoint.is_none() {
            self.sign_empty_checkpoint()?;
        }
        self.commit_migrated_index()
    }

    /// The sequencing parameters.
    pub fn config(&self) -> &SequencerConfig {
        &self.config
    }

    /// A new log publishes a signed checkpoint of size 0 at once, so `/checkpoint`
    /// exists before the first entry (C2SP tlog-tiles clients start there).
    fn sign_empty_checkpoint(&mut self) -> Result<(), StorageError> {
        let note = self
            .sign_checkpoint(0, merkle::empty_root())
            .map_err(|e| StorageError::Corrupt(format!("signing checkpoint: {e}")))?;
        let record = CheckpointRecord {
            size: 0,
            note,
            created_at_ms: self.clock.now_ms(),
        };
        let batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: record.clone(),
            key_events: Vec::new(),
            index: Vec::new(),
        };
        // DURABILITY POINT: the empty log's checkpoint.
        self.storage.append_batch(&batch)?;
        self.checkpoint = Some(record);
        self.committer.committed.send_replace(0);
        Ok(())
    }

    /// Follows the size of the newest committed checkpoint (initially the current one).
    pub fn committed_checkpoints(&self) -> watch::Receiver<u64> {
        self.committer.committed.subscribe()
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Rebuild the in-memory state from what storage holds (committed batches only).
    fn reload(&mut self) -> Result<(), StorageError> {
        self.unsettled_nodes.clear();
        self.unsettled_statements.clear();
        let registry = replay(self.storage.as_ref())?;
        let view = RegistryView::of(registry.clone(), &self.config.operator_pins);
        self.last_key_event = view.last_key_event;
        self.registry = registry;
        self.committer.registry.send_replace(Arc::new(view));
        self.checkpoint = self.storage.latest_checkpoint()?;
        self.size = self.checkpoint.as_ref().map_or(0, |c| c.size);
        // The index is read again before the next batch (`ensure_index`).
        self.index.clear();
        self.preload = None;
        self.committer.committed.send_replace(self.size);
        self.metrics
            .entries_total
            .store(self.size, Ordering::Relaxed);
        Ok(())
    }

    /// [`reload`](Self::reload) after a failed batch, when no commit is in flight.
    /// The index is read again at once, on a thread of its own: readers wait for
    /// it rather than read a copy of their own.
    fn recover(&mut self) {
        if let Err(e) = self.reload().and_then(|()| self.start_preload()) {
            tracing::error!(error = %e, "reloading sequencer state failed");
        }
    }

    /// Storage now holds a committed batch: its nodes and statements leave the overlay.
    fn settle(&mut self, settles: Settles) {
        for n in settles.nodes {
            self.unsettled_nodes.remove(&n);
        }
        for d in settles.statements {
            self.unsettled_statements.remove(&d);
        }
    }

    /// Sequence one batch in memory (blocking: storage reads), advancing the
    /// in-memory state past it. Refusals are answered at once; everyone else
    /// waits in the result for the commit. On `Err` everyone was answered 503 and
    /// the state must be reloaded.
    fn prepare(&mut self, items: Vec<Submission>) -> Result<Prepared, PrepareError> {
        if let Err(e) = self.ensure_index() {
            tracing::error!(error = %e, "loading the index failed; refusing the batch");
            for sub in items {
                let _ = sub.reply.send(Err(LogError::CommitFailed));
            }
            return Err(PrepareError::Index(e));
        }
        let now = self.clock.now_ms();
        let start_size = self.size;
        let mut batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note: Vec::new(),
                created_at_ms: now,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        };
        // What this batch files in the index: (key, log index), in log order.
        let mut filings: Vec<([u8; 32], u64)> = Vec::new();
        let mut waiting = Vec::with_capacity(items.len());
        // Stored nodes read by this batch's appends (the older part of the right
        // edge, the same for every leaf of the batch).
        let mut fetched = HashMap::new();

        // A statement is logged once (crate::log::admission::dedupe): look every statement up in
        // the log with one storage call for the batch; one earlier in this batch
        // or in the batch still committing is found in memory below.
        let digests: Vec<Hash> = items.iter().map(|s| s.facts.statement_digest).collect();
        let logged = match self.storage.find_statements(&digests) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "duplicate lookup failed; refusing the batch");
                let e = Arc::new(e);
                for sub in items {
                    let _ = sub.reply.send(Err(LogError::DuplicateLookup(e.clone())));
                }
                return Ok(Prepared {
                    batch: None,
                    checkpoint: self.checkpoint.clone(),
                    waiting,
                    registry: None,
                });
            }
        };

        for (sub, logged) in items.into_iter().zip(logged) {
            if sub.registry.get().is_none() {
                let _ = sub.registry.set(self.committer.registry.subscribe());
            }
            let digest = sub.facts.statement_digest;
            let first = self.unsettled_statements.get(&digest).or(logged.as_ref());
            if let Some(first) = first {
                // The handler verified every signature of a prechecked envelope.
                let verified = match sub.precheck {
                    Precheck::Authorised { .. } => Ok(()),
                    _ => check_signatures(&self.registry, &sub.envelope),
                };
                match verified.and_then(|()| resubmission(&sub.envelope, first)) {
                    Ok(index) => waiting.push(Waiting {
                        reply: sub.reply,
                        index,
                        created: false,
                        queued_at: sub.queued_at,
                    }),
                    Err(e) => {
                        let _ = sub.reply.send(Err(e));
                    }
                }
                continue;
            }
            let leaf_hash = merkle::leaf_hash(&sub.leaf);
            let size = self.size;
            let reader = BatchReader::with_fetched(
                &self.unsettled_nodes,
                self.storage.as_ref(),
                std::mem::take(&mut fetched),
            );
            let appended = merkle::append_hashes(size, leaf_hash, &reader);
            fetched = reader.into_fetched();
            let nodes = match appended {
                Ok(n) => n,
                Err(e) => {
                    let _ = sub.reply.send(Err(LogError::Append { size, source: e }));
                    continue;
                }
            };
            let is_key_event = matches!(sub.facts.attestation, Attestation::KeyEvent(_));
            // Admission at exactly this position, against the registry as it stands
            // after the key events accepted before it. The handler's signature check
            // stands in for it only if no key event was applied since (Precheck).
            let prechecked = !is_key_event
                && matches!(sub.precheck, Precheck::Authorised { last_key_event }
                    if Some(last_key_event) == self.last_key_event);
            if !prechecked {
                if let Err(e) = admit_keeping_an_operator(
                    &mut self.registry,
                    size,
                    &sub.envelope,
                    &sub.facts.attestation,
                    &self.config.operator_pins,
                ) {
                    let _ = sub.reply.send(Err(e));
                    continue;
                }
            }
            if let Attestation::KeyEvent(event) = &sub.facts.attestation {
                batch.key_events.push(key_event_record(size, event));
                self.last_key_event = Some(size);
            }
            filings.extend(
                keys_of(&sub.envelope, &sub.facts.attestation)
                    .into_iter()
                    .map(|key| (key.hash(), size)),
            );
            for (node, hash) in nodes {
                self.unsettled_nodes.insert(node, hash);
                batch.nodes.push((node, hash));
            }
            let signers: Vec<String> = sub
                .envelope
                .signatures
                .iter()
                .map(|s| s.keyid.clone())
                .collect();
            self.unsettled_statements.insert(
                digest,
                FirstCopy {
                    index: size,
                    signers: signers.clone(),
                },
            );
            batch.entries.push(EntryRecord {
                index: size,
                leaf: sub.leaf,
                leaf_hash,
                statement_digest: digest,
                kind: sub.facts.kind.to_string(),
                integrated_at_ms: now,
                signers,
                terms: sub.facts.terms,
            });
            waiting.push(Waiting {
                reply: sub.reply,
                index: size,
                created: true,
                queued_at: sub.queued_at,
            });
            self.size += 1;
        }

        if batch.entries.is_empty() {
            // Only duplicates (or refusals): no new checkpoint, answer against the current one.
            return Ok(Prepared {
                batch: None,
                checkpoint: self.checkpoint.clone(),
                waiting,
                registry: None,
            });
        }
        // The batch ends with the log's index commitment over every entry before it.
        let commitment =
            self.commit_index(now, &mut fetched, filings)
                .map(|(entry, nodes, leaves)| {
                    batch.nodes.extend(nodes);
                    batch.entries.push(entry);
                    batch.index = leaves;
                });
        let reader =
            BatchReader::with_fetched(&self.unsettled_nodes, self.storage.as_ref(), fetched);
        let signed = commitment
            .and_then(|()| merkle::tree_root(self.size, &reader).map_err(PrepareError::TreeRoot))
            .and_then(|root| {
                self.sign_checkpoint(self.size, root)
                    .map_err(PrepareError::SignCheckpoint)
            });
        let note = match signed {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, size = start_size, "preparing a batch failed");
                self.metrics
                    .batch_failures_total
                    .fetch_add(1, Ordering::Relaxed);
                refuse_all(waiting);
                return Err(e);
            }
        };
        batch.checkpoint = CheckpointRecord {
            size: self.size,
            note,
            created_at_ms: now,
        };
        self.checkpoint = Some(batch.checkpoint.clone());
        let registry = (!batch.key_events.is_empty()).then(|| {
            Arc::new(RegistryView::of(
                self.registry.clone(),
                &self.config.operator_pins,
            ))
        });
        Ok(Prepared {
            batch: Some(batch),
            checkpoint: self.checkpoint.clone(),
            waiting,
            registry,
        })
    }
}

impl Sequencer {
    /// File `filings` (key, log index) in the index, and commit to it: the log's
    /// index commitment over entries `0 … size−1`, appended at `size` — its entry,
    /// the tree nodes it completes (added to the overlay), and the value of every
    /// key the filings changed (stored with the batch).
    fn commit_index(
        &mut self,
        now: i64,
        fetched: &mut HashMap<NodeId, Hash>,
        filings: Vec<([u8; 32], u64)>,
    ) -> Result<CommittedIndex, PrepareError> {
        let size = self.size;
        self.ensure_index().map_err(PrepareError::Index)?;
        // Readers read as of the newest committed checkpoint: older versions go.
        let committed = *self.committer.committed.borrow();
        let filed = self.index.update(|trie| {
            trie.forget_before(committed);
            for (key, index) in &filings {
                trie.append(*key, *index);
            }
            let root = trie.root();
            // The state as of this batch's checkpoint, which ends with the
            // commitment (filed under no key) at `size`.
            trie.label(size + 1);
            let mut keys: Vec<[u8; 32]> = filings.iter().map(|(key, _)| *key).collect();
            keys.sort_unstable();
            keys.dedup();
            let leaves = keys.into_iter().map(|k| (k, trie.get(&k))).collect();
            (root, trie.len() as u64, leaves)
        });
        let (root, keys, leaves) = filed.ok_or_else(|| {
            PrepareError::Index(StorageError::Corrupt("the index is not loaded".into()))
        })?;
        let commitment = IndexCommitment {
            origin: self.signer.name().to_string(),
            size,
            root,
            keys,
        };
        let envelope = commitment
            .sign(self.signer.ed25519())
            .map_err(PrepareError::SignCommitment)?;
        let entry = commitment_entry(size, &envelope, now);
        let reader = BatchReader::with_fetched(
            &self.unsettled_nodes,
            self.storage.as_ref(),
            std::mem::take(fetched),
        );
        let appended = merkle::append_hashes(size, entry.leaf_hash, &reader);
        *fetched = reader.into_fetched();
        let nodes = appended.map_err(PrepareError::TreeRoot)?;
        for (node, hash) in &nodes {
            self.unsettled_nodes.insert(*node, *hash);
        }
        self.size += 1;
        Ok((entry, nodes, leaves))
    }

    /// The log's signed checkpoint note for a tree of `size` with `root`.
    fn sign_checkpoint(&self, size: u64, root: Hash) -> Result<Vec<u8>, CheckpointError> {
        Checkpoint {
            origin: self.signer.name().to_string(),
            size,
            root,
            extensions: Vec::new(),
        }
        .sign(&self.signer)
    }

    /// Forget the index and start reading it from storage on a thread of its own
    /// (readers wait for it rather than read storage themselves).
    fn start_preload(&mut self) -> Result<(), StorageError> {
        let last = last_commitment(self.storage.as_ref(), self.size)?;
        self.uncommitted = self.size > 0 && last.is_none();
        let load = self.index.begin_load();
        let (storage, size) = (self.storage.clone(), self.size);
        let expected = last.map(|c| c.root);
        self.preload = Some(std::thread::spawn(move || {
            load_index(storage.as_ref(), size, expected, load)
        }));
        Ok(())
    }

    /// The index the node's readers share with this sequencer.
    pub fn shared_index(&self) -> Arc<SharedIndex> {
        self.index.clone()
    }

    /// Load the index if it is not yet: from the thread `start_preload` began, or
    /// read here (after a reload). On a shared log another node may have appended
    /// since the state was read; then everything is read again.
    fn ensure_index(&mut self) -> Result<(), StorageError> {
        let mut attempts = 0;
        while !self.index.is_loaded() {
            let loaded = match self.preload.take() {
                Some(thread) => thread.join().unwrap_or_else(|_| {
                    Err(IndexLoad::Storage(StorageError::fatal(
                        "reading the index panicked",
                    )))
                }),
                None => {
                    let expected = last_commitment(self.storage.as_ref(), self.size)?;
                    let load = self.index.begin_load();
                    load_index(
                        self.storage.as_ref(),
                        self.size,
                        expected.map(|c| c.root),
                        load,
                    )
                }
            };
            match loaded {
                // Installed, or overtaken by a reload (then read again).
                Ok(()) => {}
                Err(IndexLoad::Moved { .. }) if attempts < RELOAD_ATTEMPTS => {
                    attempts += 1;
                    self.reload()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// A log whose last entry is not an index commitment (written before they
    /// were kept) appends one at once, alone in its batch, so every checkpoint
    /// from here on ends with one.
    fn commit_migrated_index(&mut self) -> Result<(), StorageError> {
        if !self.uncommitted {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let storage = self.storage.clone();
        let mut fetched = HashMap::new();
        let (entry, nodes, _) = self
            .commit_index(now, &mut fetched, Vec::new())
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let reader = BatchReader::with_fetched(&self.unsettled_nodes, storage.as_ref(), fetched);
        let root = merkle::tree_root(self.size, &reader)
            .map_err(|e| StorageError::Corrupt(format!("tree root: {e}")))?;
        let note = self
            .sign_checkpoint(self.size, root)
            .map_err(|e| StorageError::Corrupt(format!("signing checkpoint: {e}")))?;
        let record = CheckpointRecord {
            size: self.size,
            note,
            created_at_ms: now,
        };
        let batch = Batch {
            entries: vec![entry],
            nodes,
            checkpoint: record.clone(),
            key_events: Vec::new(),
            index: Vec::new(),
        };
        // DURABILITY POINT: the migrated log's first index commitment.
        if let Err(e) = storage.append_batch(&batch) {
            self.reload()?;
            return Err(e);
        }
        self.unsettled_nodes.clear();
        self.uncommitted = false;
        self.checkpoint = Some(record);
        self.committer.committed.send_replace(self.size);
        tracing::info!(
            size = self.size,
            "committed to the index of a log written before commitments"
        );
        Ok(())
    }
}

/// The log's index commitment ending the tree of `size`, if its last entry is one
/// (a log written before commitments were kept, or an empty one, has none).
fn last_commitment(
    storage: &dyn LogStore,
    size: u64,
) -> Result<Option<IndexCommitment>, StorageError> {
    let Some(last) = size.checked_sub(1) else {
        return Ok(None);
    };
    let entry = storage.entry(last)?.ok_or_else(|| {
        StorageError::Corrupt(format!("entry {last} of the latest checkpoint is missing"))
    })?;
    match Envelope::from_json(&entry.leaf) {
        Ok(envelope) if IndexCommitment::is_commitment(&envelope) => {
            IndexCommitment::parse(&envelope)
                .map(Some)
                .map_err(|e| StorageError::Corrupt(format!("entry {last}: {e}")))
        }
        _ => Ok(None),
    }
}

/// Reads the stored index of the log of `size` entries and builds its trie,
/// checking it has the root the log's last commitment gives (`expected`): the
/// stored index covers every entry of the latest checkpoint, and the commitment
/// ending it is filed under no key.
fn read_index(
    storage: &dyn LogStore,
    size: u64,
    expected: Option<[u8; 32]>,
) -> Result<Trie, IndexLoad> {
    let snapshot = storage.index_leaves(0)?;
    if snapshot.size != size {
        return Err(IndexLoad::Moved {
            index: snapshot.size,
            checkpoint: size,
        });
    }
    let mut index = Trie::from_leaves(snapshot.leaves);
    match expected {
        Some(root) if root != index.root() => {
            Err(IndexLoad::Storage(StorageError::Corrupt(format!(
                "the stored index (root {}) is not the one the log committed to at entry {} (root {})",
                hex::encode(index.root()),
                size.saturating_sub(1),
                hex::encode(root)
            ))))
        }
        _ => Ok(index),
    }
}

/// [`read_index`], labelled with the log's size and installed for the node's
/// readers and its sequencer through `load`.
fn load_index(
    storage: &dyn LogStore,
    size: u64,
    expected: Option<[u8; 32]>,
    load: Load,
) -> Result<(), IndexLoad> {
    let mut index = read_index(storage, size, expected)?;
    index.label(size);
    load.install(index);
    Ok(())
}

/// How often [`Sequencer::ensure_index`] reads again when the log grew between its
/// reads of the checkpoint and of the index (another node sequencing).
const RELOAD_ATTEMPTS: u32 = 20;

/// Why the stored index could not be loaded.
#[derive(Debug, thiserror::Error)]
enum IndexLoad {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log grew between reading its checkpoint and its index.
    #[error("the stored index covers {index} entries, the latest checkpoint {checkpoint}")]
    Moved { index: u64, checkpoint: u64 },
}

impl From<IndexLoad> for StorageError {
    fn from(e: IndexLoad) -> StorageError {
        match e {
            IndexLoad::Storage(e) => e,
            moved => StorageError::Corrupt(moved.to_string()),
        }
    }
}

/// What [`Sequencer::commit_index`] adds to a batch: the commitment's entry, the
/// tree nodes it completes, and the index leaves the batch changed.
type CommittedIndex = (EntryRecord, Vec<(NodeId, Hash)>, Vec<([u8; 32], ListHead)>);

/// Why a batch could not be prepared. Its submitters have been answered; the
/// sequencer's in-memory state is past the batch and must be reloaded.
#[derive(Debug, thiserror::Error)]
enum PrepareError {
    #[error("loading the index: {0}")]
    Index(#[source] StorageError),
    #[error("signing the index commitment: {0}")]
    SignCommitment(#[source] glassbox_core::dsse::DsseError),
    #[error("tree root: {0}")]
    TreeRoot(#[source] ProofError),
    #[error("signing checkpoint: {0}")]
    SignCheckpoint(#[source] CheckpointError),
}
