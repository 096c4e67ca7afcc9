//! The sequencer's commit stage: one batch's single storage call, then the
//! receipts of everyone waiting on it. It runs on the blocking pool while the
//! sequencer (`sequencer.rs`) prepares the next batch.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use glassbox_core::merkle::Hash;
use tokio::sync::{oneshot, watch};

use crate::log::admission::validate::RegistryView;
use crate::log::error::LogError;
use crate::log::receipt::{receipt_json, BatchReader};
use crate::log::sequencer::SubmitOutcome;
use crate::metrics::Metrics;
use crate::storage::{Batch, CheckpointRecord, LogStore, NodeId};

type Reply = oneshot::Sender<Result<SubmitOutcome, LogError>>;

/// A submitter waiting for its batch to commit.
pub(super) struct Waiting {
    pub(super) reply: Reply,
    pub(super) index: u64,
    /// New entry (201) rather than a statement already logged (200).
    pub(super) created: bool,
    pub(super) queued_at: Instant,
}

/// A batch sequenced in memory, waiting for its commit.
pub(super) struct Prepared {
    /// `None` when the batch holds no new entry (only duplicates and refusals).
    pub(super) batch: Option<Batch>,
    /// The checkpoint receipts prove against: the batch's own, or the current one.
    pub(super) checkpoint: Option<CheckpointRecord>,
    pub(super) waiting: Vec<Waiting>,
    /// The registry after this batch, when it applied key events: the submit
    /// handlers get it once the batch is committed.
    pub(super) registry: Option<Arc<RegistryView>>,
}

impl Prepared {
    /// What becomes redundant with storage once this batch is committed.
    pub(super) fn settles(&self) -> Settles {
        match &self.batch {
            None => Settles::default(),
            Some(b) => Settles {
                nodes: b.nodes.iter().map(|(n, _)| *n).collect(),
                statements: b.entries.iter().map(|e| e.statement_digest).collect(),
            },
        }
    }
}

/// The in-memory nodes and statement digests of one batch, dropped from the
/// sequencer's overlay once storage holds them.
#[derive(Default)]
pub(super) struct Settles {
    pub(super) nodes: Vec<NodeId>,
    pub(super) statements: Vec<Hash>,
}

/// Answer everyone waiting on a batch that will never commit.
pub(super) fn refuse_all(waiting: Vec<Waiting>) {
    for w in waiting {
        let _ = w.reply.send(Err(LogError::CommitFailed));
    }
}

/// What the commit stage needs; shared with the blocking task that commits
/// while the next batch is prepared.
#[derive(Clone)]
pub(super) struct Committer {
    pub(super) storage: Arc<dyn LogStore>,
    pub(super) metrics: Arc<Metrics>,
    /// The size of the newest committed checkpoint, for the witnessing task
    /// (crate::log::witnessing). A watch never blocks the sender and keeps only the
    /// latest value, so slow witnesses can never hold sequencing back.
    pub(super) committed: Arc<watch::Sender<u64>>,
    /// The committed registry, for the submit handlers' signature checks.
    pub(super) registry: Arc<watch::Sender<Arc<RegistryView>>>,
}

impl Committer {
    /// Commit `prepared` (blocking), tell `committed` whether it did, then answer
    /// its submitters. On failure everyone waiting got 503, and the sequencer's
    /// in-memory state (which already includes the batch) must be reloaded.
    ///
    /// The outcome is reported before the receipts are built, so the sequencer
    /// can start committing the next batch while this one's submitters are
    /// answered: storage already holds everything their receipts prove.
    pub(super) fn commit(&self, prepared: Prepared, committed: impl FnOnce(bool)) {
        let Prepared {
            batch,
            checkpoint,
            waiting,
            registry,
        } = prepared;
        let mut own: HashMap<NodeId, Hash> = HashMap::new();
        let mut leaves: HashMap<u64, Vec<u8>> = HashMap::new();
        if let Some(batch) = batch {
            // DURABILITY POINT: entries, nodes, key events and the checkpoint commit
            // together or not at all. Nobody has been told anything yet.
            if let Err(e) = self.storage.append_batch(&batch) {
                // FATAL for this batch (and the one prepared on top of it): nothing
                // was committed.
                tracing::error!(error = %e, "batch commit failed; reloading state");
                self.metrics
                    .batch_failures_total
                    .fetch_add(1, Ordering::Relaxed);
                committed(false);
                refuse_all(waiting);
                return;
            }
            // The batch is durable from here on, and no submitter has been
            // answered yet: a crash now loses no receipt ever sent.
            let size = batch.checkpoint.size;
            self.committed.send_replace(size);
            self.metrics.entries_total.store(size, Ordering::Relaxed);
            self.metrics.batch_size.observe(batch.entries.len() as f64);
            if let Some(view) = registry {
                self.registry.send_replace(view);
            }
            own = batch.nodes.into_iter().collect();
            leaves = batch
                .entries
                .into_iter()
                .map(|e| (e.index, e.leaf))
                .collect();
        }
        committed(true);

        // Publish: answer every submitter with a receipt against the checkpoint.
        // Everything before this batch is committed too, so storage serves the rest.
        // Receipts are independent of each other: a large batch is split across
        // the cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = waiting.len().div_ceil(threads).max(RECEIPTS_PER_THREAD);
        let answer = |part: Vec<Waiting>| {
            self.answer(part, checkpoint.as_ref(), &own, &leaves);
        };
        let mut parts = Vec::new();
        let mut rest = waiting;
        while rest.len() > chunk {
            let tail = rest.split_off(chunk);
            parts.push(std::mem::replace(&mut rest, tail));
        }
        std::thread::scope(|scope| {
            for part in parts {
                scope.spawn(|| answer(part));
            }
            answer(rest);
        });
    }

    /// Send each of `waiting` its receipt against `checkpoint` (`own`: the nodes
    /// of the batch just committed, `leaves`: its entries' leaves).
    fn answer(
        &self,
        waiting: Vec<Waiting>,
        checkpoint: Option<&CheckpointRecord>,
        own: &HashMap<NodeId, Hash>,
        leaves: &HashMap<u64, Vec<u8>>,
    ) {
        let reader = BatchReader::new(own, self.storage.as_ref());
        for w in waiting {
            let result = match checkpoint {
                None => Err(LogError::NoCheckpoint),
                Some(cp) => {
                    // The batch's own leaves are at hand; a duplicate's is stored.
                    let leaf = match leaves.get(&w.index) {
                        Some(l) => Ok(Cow::Borrowed(l.as_slice())),
                        None => self
                            .storage
                            .entry(w.index)
                            .map_err(LogError::from)
                            .and_then(|e| {
                                e.map(|e| Cow::Owned(e.leaf))
                                    .ok_or(LogError::EntryVanished { index: w.index })
                            }),
                    };
                    leaf.and_then(|leaf| receipt_json(w.index, &leaf, cp, &reader))
                        .map(|r| {
                            if w.created {
                                SubmitOutcome::Created(r)
                            } else {
                                SubmitOutcome::Existing(r)
                            }
                        })
                }
            };
            self.metrics
                .sequencing_latency
                .observe(w.queued_at.elapsed().as_secs_f64());
            let _ = w.reply.send(result);
        }
    }
}

/// The smallest share of a batch's receipts worth a thread of its own.
pub(super) const RECEIPTS_PER_THREAD: usize = 256;

/// A batch being committed on the blocking pool.
pub(super) struct InFlight {
    /// Whether it committed; sent before its receipts are built.
    pub(super) committed: oneshot::Receiver<bool>,
    /// The outcome, once seen.
    pub(super) outcome: Option<bool>,
    pub(super) settles: Settles,
    /// The task, which goes on answering after it reported.
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl InFlight {
    /// Start committing `prepared` on the blocking pool.
    pub(super) fn start(committer: Committer, prepared: Prepared) -> InFlight {
        let settles = prepared.settles();
        let (tx, committed) = oneshot::channel();
        // The task goes on to answer the batch's submitters after reporting.
        let task = tokio::task::spawn_blocking(move || {
            committer.commit(prepared, |ok| {
                let _ = tx.send(ok);
            })
        });
        InFlight {
            committed,
            outcome: None,
            settles,
            task,
        }
    }

    /// Whether the commit has ended (without waiting).
    pub(super) fn has_ended(&mut self) -> bool {
        if self.outcome.is_none() {
            match self.committed.try_recv() {
                Ok(ok) => self.outcome = Some(ok),
                Err(oneshot::error::TryRecvError::Empty) => {}
                Err(oneshot::error::TryRecvError::Closed) => self.outcome = Some(false),
            }
        }
        self.outcome.is_some()
    }

    /// Wait for the commit's outcome (true when it committed), with what it settles.
    pub(super) async fn outcome(self) -> (bool, Settles, tokio::task::JoinHandle<()>) {
        let ok = match self.outcome {
            Some(ok) => ok,
            None => self.committed.await.unwrap_or_else(|_| {
                tracing::error!("committing a batch panicked");
                false
            }),
        };
        (ok, self.settles, self.task)
    }
}
