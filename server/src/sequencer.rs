//! The sequencer: the one task that writes to the log (DESIGN §4).
//!
//! Submissions arrive on a bounded queue. Every batch interval, or as soon as a
//! batch is full, the sequencer runs one straight line:
//!
//! 1. drop duplicates, then admit each envelope with the core participant
//!    registry *at its position* (key events earlier in the same batch already
//!    applied; the same rules the verifier replays);
//! 2. compute the Merkle nodes the new leaves complete;
//! 3. sign a checkpoint for the new size;
//! 4. commit entries, nodes, checkpoint and key events in ONE storage call;
//! 5. only then answer each submitter with its receipt.
//!
//! A failed commit is fatal for that batch only: every submitter in it gets 503,
//! nothing of it is visible, and the in-memory state is reloaded from storage.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glassbox_core::bundle::Receipt;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::merkle::{self, Hash};
use glassbox_core::note::NoteSigner;
use glassbox_core::registry::Registry;
use glassbox_core::statement::Attestation;
use tokio::sync::{mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::error::AppError;
use crate::facts::Facts;
use crate::metrics::Metrics;
use crate::receipt::{make_receipt, OverlayReader};
use crate::registry::{key_event_record, replay};
use crate::storage::{Batch, CheckpointRecord, EntryRecord, NodeId, Storage, StorageError};
use crate::validate::admit;

/// What the sequencer answers a submitter.
#[derive(Debug)]
pub enum SubmitOutcome {
    /// Newly logged (HTTP 201).
    Created(Receipt),
    /// An identical envelope was already logged (HTTP 200).
    Existing(Receipt),
}

/// A parsed submission waiting for its position.
pub struct Submission {
    pub envelope: Envelope,
    pub facts: Facts,
    /// Canonical envelope bytes: the leaf.
    pub leaf: Vec<u8>,
    reply: oneshot::Sender<Result<SubmitOutcome, AppError>>,
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

/// The sending side, cloned into every handler.
#[derive(Clone)]
pub struct SequencerHandle {
    tx: mpsc::Sender<Submission>,
    metrics: Arc<Metrics>,
}

impl SequencerHandle {
    /// Queue a submission and wait until it is durably logged or refused.
    /// A full queue is refused at once with [`AppError::Overloaded`].
    pub async fn submit(
        &self,
        envelope: Envelope,
        facts: Facts,
        leaf: Vec<u8>,
    ) -> Result<SubmitOutcome, AppError> {
        let (reply, rx) = oneshot::channel();
        let sub = Submission {
            envelope,
            facts,
            leaf,
            reply,
            queued_at: Instant::now(),
        };
        match self.tx.try_send(sub) {
            Ok(()) => {
                self.metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => return Err(AppError::Overloaded),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(AppError::ShuttingDown),
        }
        rx.await.unwrap_or(Err(AppError::CommitFailed))
    }
}

/// The bounded submission queue: the handle for handlers and the receiving end
/// for [`Sequencer::start`]. Tests hold the receiver to simulate a stalled sequencer.
pub fn queue(size: usize, metrics: Arc<Metrics>) -> (SequencerHandle, mpsc::Receiver<Submission>) {
    let (tx, rx) = mpsc::channel(size);
    (SequencerHandle { tx, metrics }, rx)
}

/// The state only the sequencer touches.
pub struct Sequencer {
    storage: Arc<dyn Storage>,
    signer: NoteSigner,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    config: SequencerConfig,
    registry: Registry,
    size: u64,
    checkpoint: Option<CheckpointRecord>,
    /// The size of the newest committed checkpoint, for the witnessing task
    /// (crate::witnessing). A watch never blocks the sender and keeps only the
    /// latest value, so slow witnesses can never hold sequencing back.
    committed: watch::Sender<u64>,
}

impl Sequencer {
    /// Load the current state from storage.
    pub fn load(
        storage: Arc<dyn Storage>,
        signer: NoteSigner,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        config: SequencerConfig,
    ) -> Result<Sequencer, StorageError> {
        let mut s = Sequencer {
            storage,
            signer,
            clock,
            metrics,
            config,
            registry: Registry::default(),
            size: 0,
            checkpoint: None,
            committed: watch::Sender::new(0),
        };
        s.reload()?;
        if s.checkpoint.is_none() {
            s.sign_empty_checkpoint()?;
        }
        Ok(s)
    }

    /// A new log publishes a signed checkpoint of size 0 at once, so `/checkpoint`
    /// exists before the first entry (C2SP tlog-tiles clients start there).
    fn sign_empty_checkpoint(&mut self) -> Result<(), StorageError> {
        let cp = Checkpoint {
            origin: self.signer.name().to_string(),
            size: 0,
            root: merkle::empty_root(),
            extensions: Vec::new(),
        };
        let note = cp
            .sign(&self.signer)
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
        };
        // DURABILITY POINT: the empty log's checkpoint.
        self.storage.append_batch(&batch)?;
        self.checkpoint = Some(record);
        self.committed.send_replace(0);
        Ok(())
    }

    /// Follows the size of the newest committed checkpoint (initially the current one).
    pub fn committed_checkpoints(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn reload(&mut self) -> Result<(), StorageError> {
        self.registry = replay(self.storage.as_ref())?;
        self.checkpoint = self.storage.latest_checkpoint()?;
        self.size = self.checkpoint.as_ref().map_or(0, |c| c.size);
        self.committed.send_replace(self.size);
        self.metrics
            .entries_total
            .store(self.size, Ordering::Relaxed);
        Ok(())
    }

    /// Start the sequencer task. It runs until every [`SequencerHandle`] is
    /// dropped, sequencing whatever is still queued before it returns, so a
    /// graceful shutdown loses nothing.
    pub fn spawn(self) -> (SequencerHandle, tokio::task::JoinHandle<()>) {
        let (handle, rx) = queue(self.config.queue_size, self.metrics.clone());
        (handle, self.start(rx))
    }

    /// Start sequencing submissions from `rx` (see [`queue`]).
    pub fn start(self, rx: mpsc::Receiver<Submission>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(rx))
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Submission>) {
        let interval = self.config.batch_interval;
        let max = self.config.batch_size;
        loop {
            let Some(first) = rx.recv().await else { break };
            let deadline = tokio::time::Instant::now() + interval;
            let mut items = vec![first];
            while items.len() < max {
                tokio::select! {
                    next = rx.recv() => match next {
                        Some(s) => items.push(s),
                        None => break,
                    },
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            self.metrics
                .queue_depth
                .fetch_sub(items.len() as u64, Ordering::Relaxed);
            // Storage calls block: run the batch on the blocking pool and get the
            // state back for the next one.
            self = match tokio::task::spawn_blocking(move || {
                self.sequence(items);
                self
            })
            .await
            {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "sequencer panicked; stopping");
                    return;
                }
            };
        }
        tracing::info!(
            size = self.size,
            "sequencer stopped: queue closed and drained"
        );
    }

    /// Sequence one batch (blocking).
    pub fn sequence(&mut self, items: Vec<Submission>) {
        match self.try_sequence(items) {
            Ok(()) => {}
            Err((e, waiting)) => {
                // FATAL for this batch: nothing was committed. Tell every waiting
                // submitter, then rebuild the in-memory state from what storage holds.
                tracing::error!(error = %e, "batch commit failed; reloading state");
                self.metrics
                    .batch_failures_total
                    .fetch_add(1, Ordering::Relaxed);
                for w in waiting {
                    let _ = w.send(Err(AppError::CommitFailed));
                }
                if let Err(e) = self.reload() {
                    tracing::error!(error = %e, "reloading sequencer state failed");
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn try_sequence(
        &mut self,
        items: Vec<Submission>,
    ) -> Result<
        (),
        (
            StorageError,
            Vec<oneshot::Sender<Result<SubmitOutcome, AppError>>>,
        ),
    > {
        let now = self.clock.now_ms();
        let mut registry = self.registry.clone();
        let mut size = self.size;
        let mut pending: HashMap<NodeId, Hash> = HashMap::new();
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let mut batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note: Vec::new(),
                created_at_ms: now,
            },
            key_events: Vec::new(),
        };
        // (reply, index, created, queued_at)
        let mut answers = Vec::new();

        for sub in items {
            let leaf_hash = merkle::leaf_hash(&sub.leaf);
            // Deduplicate: identical leaf earlier in this batch, or already logged.
            let existing = match in_batch.get(&leaf_hash) {
                Some(&i) => Some(i),
                None => match self.storage.find_leaf(&leaf_hash) {
                    Ok(found) => found,
                    Err(e) => {
                        let _ = sub.reply.send(Err(AppError::from(e)));
                        continue;
                    }
                },
            };
            if let Some(index) = existing {
                answers.push((sub.reply, index, false, sub.queued_at));
                continue;
            }
            let reader = OverlayReader {
                pending: &pending,
                storage: self.storage.as_ref(),
            };
            let nodes = match merkle::append_hashes(size, leaf_hash, &reader) {
                Ok(n) => n,
                Err(e) => {
                    let _ = sub
                        .reply
                        .send(Err(AppError::Internal(format!("append {size}: {e}"))));
                    continue;
                }
            };
            // Admission at exactly this position, against the registry as it stands
            // after the key events accepted earlier in this batch.
            if let Err(e) = admit(
                &mut registry,
                size,
                &sub.envelope,
                &sub.facts.attestation,
                &self.config.operator_pins,
            ) {
                let _ = sub.reply.send(Err(e));
                continue;
            }
            if let Attestation::KeyEvent(event) = &sub.facts.attestation {
                batch.key_events.push(key_event_record(size, event));
            }
            for (node, hash) in nodes {
                pending.insert(node, hash);
                batch.nodes.push((node, hash));
            }
            batch.entries.push(EntryRecord {
                index: size,
                leaf: sub.leaf,
                leaf_hash,
                kind: sub.facts.kind.to_string(),
                integrated_at_ms: now,
                signers: sub
                    .envelope
                    .signatures
                    .iter()
                    .map(|s| s.keyid.clone())
                    .collect(),
                terms: sub.facts.terms,
            });
            in_batch.insert(leaf_hash, size);
            answers.push((sub.reply, size, true, sub.queued_at));
            size += 1;
        }

        let checkpoint = if batch.entries.is_empty() {
            // Only duplicates (or refusals): no new checkpoint, answer against the current one.
            self.checkpoint.clone()
        } else {
            let reader = OverlayReader {
                pending: &pending,
                storage: self.storage.as_ref(),
            };
            let waiting = |answers: Vec<(oneshot::Sender<_>, u64, bool, Instant)>| {
                answers.into_iter().map(|a| a.0).collect::<Vec<_>>()
            };
            let root = match merkle::tree_root(size, &reader) {
                Ok(r) => r,
                Err(e) => {
                    return Err((
                        StorageError::Corrupt(format!("tree root: {e}")),
                        waiting(answers),
                    ))
                }
            };
            let cp = Checkpoint {
                origin: self.signer.name().to_string(),
                size,
                root,
                extensions: Vec::new(),
            };
            let note = match cp.sign(&self.signer) {
                Ok(n) => n,
                Err(e) => {
                    return Err((
                        StorageError::Corrupt(format!("signing checkpoint: {e}")),
                        waiting(answers),
                    ))
                }
            };
            batch.checkpoint = CheckpointRecord {
                size,
                note,
                created_at_ms: now,
            };
            // DURABILITY POINT: entries, nodes, key events and the checkpoint commit
            // together or not at all. Nobody has been told anything yet.
            if let Err(e) = self.storage.append_batch(&batch) {
                return Err((e, waiting(answers)));
            }
            // Committed: the in-memory state may now advance.
            self.registry = registry;
            self.size = size;
            self.checkpoint = Some(batch.checkpoint.clone());
            self.committed.send_replace(size);
            self.metrics.entries_total.store(size, Ordering::Relaxed);
            self.metrics.batch_size.observe(batch.entries.len() as f64);
            Some(batch.checkpoint)
        };

        // Publish: answer every submitter with a receipt against the checkpoint.
        let leaves: HashMap<u64, Vec<u8>> = batch
            .entries
            .into_iter()
            .map(|e| (e.index, e.leaf))
            .collect();
        let reader = OverlayReader {
            pending: &pending,
            storage: self.storage.as_ref(),
        };
        for (reply, index, created, queued_at) in answers {
            let result = match &checkpoint {
                None => Err(AppError::Internal(
                    "duplicate of an entry with no checkpoint".into(),
                )),
                Some(cp) => {
                    let leaf = match leaves.get(&index) {
                        Some(l) => Ok(l.clone()),
                        None => self
                            .storage
                            .entry(index)
                            .map_err(AppError::from)
                            .and_then(|e| {
                                e.map(|e| e.leaf).ok_or_else(|| {
                                    AppError::Internal(format!("entry {index} vanished"))
                                })
                            }),
                    };
                    leaf.and_then(|leaf| make_receipt(index, &leaf, cp, &reader))
                        .map(|r| {
                            if created {
                                SubmitOutcome::Created(r)
                            } else {
                                SubmitOutcome::Existing(r)
                            }
                        })
                }
            };
            self.metrics
                .sequencing_latency
                .observe(queued_at.elapsed().as_secs_f64());
            let _ = reply.send(result);
        }
        Ok(())
    }
}
