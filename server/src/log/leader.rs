//! Several nodes on one shared database (docs/postgres.md): every node serves
//! reads and accepts submissions, exactly one sequences at a time.
//!
//! * **Lease.** Each node runs an election task that takes or renews a lease
//!   held in the database ([`LeaseStore`]) every `renew_every`; a lease not
//!   renewed for `ttl` may be taken by another node, with a higher epoch.
//! * **Fencing.** The storage checks, inside every batch's transaction, that the
//!   lease still carries this node's epoch; a node that lost the lease (paused,
//!   partitioned, slow) can never commit, whatever it believes.
//! * **Takeover.** A node that becomes leader reloads the whole sequencer state
//!   from storage before sequencing ([`Sequencer::take_over`]).
//! * **Forwarding.** A follower sends each submission to the leader's advertised
//!   URL (`POST /api/v1/entries`, the public route) and answers its own client
//!   with the leader's receipt, so a client may call any node.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glassbox_core::bundle::Receipt;
use tokio::sync::{mpsc, watch};

use crate::log::batcher::Batcher;
use crate::log::error::LogError;
use crate::log::receipt::ReceiptJson;
use crate::log::sequencer::{Sequencer, Submission, SubmitOutcome};
use crate::metrics::Metrics;
use crate::storage::StorageError;

/// The lease row as last read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub epoch: u64,
    /// The holder's internal URL, where followers forward submissions.
    pub url: String,
    /// Not yet expired by the database's clock.
    pub live: bool,
}

/// Where the lease lives (the shared database). Blocking, like [`Storage`](crate::storage::Storage).
pub trait LeaseStore: Send + Sync + 'static {
    /// Renew the lease if `holder` holds it, or take it if it has expired;
    /// `Some(epoch)` when `holder` holds it afterwards. Taking it also arms the
    /// storage's fence with the new epoch.
    fn acquire_or_renew(
        &self,
        holder: &str,
        url: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StorageError>;
    /// The current lease, if any node ever took it.
    fn current_lease(&self) -> Result<Option<Lease>, StorageError>;
    /// Let the lease expire now (graceful shutdown), so another node takes over
    /// at its next renewal instead of after `ttl`.
    fn release(&self, holder: &str) -> Result<(), StorageError>;
}

/// What this node is, as the election last found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// This node holds the lease at `epoch` and sequences.
    Leader { epoch: u64 },
    /// Another node sequences (at `leader_url`, if a live lease names one).
    Follower { leader_url: Option<String> },
}

/// Lease timing. Defaults: a 3 s lease renewed every second.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub ttl: Duration,
    pub renew_every: Duration,
}

impl LeaseConfig {
    /// A lease of `ttl`, renewed three times per `ttl`.
    pub fn with_ttl(ttl: Duration) -> Self {
        LeaseConfig {
            ttl,
            renew_every: (ttl / 3).max(Duration::from_millis(50)),
        }
    }
}

/// A holder id unique to this process (a restarted node is a new holder, so its
/// first lease always has a new epoch).
pub fn holder_id(url: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{url}#{}-{nanos:x}", std::process::id())
}

/// The running election: the role for the sequencer, the task for shutdown.
pub struct Election {
    pub role: watch::Receiver<Role>,
    pub task: tokio::task::JoinHandle<()>,
    store: Arc<dyn LeaseStore>,
    holder: String,
}

impl Election {
    /// Stop campaigning and let the lease expire at once (graceful shutdown;
    /// after the sequencer drained its queue).
    pub async fn resign(self) {
        self.task.abort();
        let _ = self.task.await;
        let (store, holder) = (self.store, self.holder);
        match tokio::task::spawn_blocking(move || store.release(&holder)).await {
            Ok(Ok(())) => tracing::info!("sequencer lease released"),
            Ok(Err(e)) => tracing::warn!(error = %e, "releasing the sequencer lease failed"),
            Err(e) => tracing::warn!(error = %e, "releasing the sequencer lease failed"),
        }
    }
}

/// Start campaigning for the lease as `holder`, advertising `url`.
pub fn elect(
    store: Arc<dyn LeaseStore>,
    holder: String,
    url: String,
    cfg: LeaseConfig,
) -> Election {
    let (tx, rx) = watch::channel(Role::Follower { leader_url: None });
    let task = tokio::spawn(campaign(store.clone(), holder.clone(), url, cfg, tx));
    Election {
        role: rx,
        task,
        store,
        holder,
    }
}

async fn campaign(
    store: Arc<dyn LeaseStore>,
    holder: String,
    url: String,
    cfg: LeaseConfig,
    tx: watch::Sender<Role>,
) {
    let mut last_renewed: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let (s, h, u, ttl) = (store.clone(), holder.clone(), url.clone(), cfg.ttl);
        let outcome = tokio::task::spawn_blocking(move || {
            let epoch = s.acquire_or_renew(&h, &u, ttl)?;
            let lease = match epoch {
                Some(_) => None,
                None => s.current_lease()?,
            };
            Ok::<_, StorageError>((epoch, lease))
        })
        .await;
        let role = match outcome {
            Ok(Ok((Some(epoch), _))) => {
                last_renewed = Some(started);
                Role::Leader { epoch }
            }
            Ok(Ok((None, lease))) => {
                last_renewed = None;
                Role::Follower {
                    leader_url: lease.filter(|l| l.live).map(|l| l.url),
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "sequencer lease: database unreachable");
                keep_or_step_down(&tx, last_renewed, cfg.ttl)
            }
            Err(e) => {
                tracing::warn!(error = %e, "sequencer lease task failed");
                keep_or_step_down(&tx, last_renewed, cfg.ttl)
            }
        };
        tx.send_if_modified(|current| {
            if *current == role {
                return false;
            }
            tracing::info!(from = ?current, to = ?role, "sequencer role changed");
            *current = role;
            true
        });
        tokio::time::sleep(cfg.renew_every.saturating_sub(started.elapsed())).await;
    }
}

/// After a failed renewal: stay leader while the last renewal is younger than
/// the lease (fencing makes a wrong guess harmless), else stop sequencing.
fn keep_or_step_down(tx: &watch::Sender<Role>, last: Option<Instant>, ttl: Duration) -> Role {
    let current = tx.borrow().clone();
    match (&current, last) {
        (Role::Leader { .. }, Some(t)) if t.elapsed() < ttl => current,
        _ => Role::Follower { leader_url: None },
    }
}

/// Run `sequencer` on a shared log: sequence while leader, forward while follower.
/// Returns when every [`SequencerHandle`](crate::log::sequencer::SequencerHandle) is
/// dropped and the queue is drained.
pub fn run_shared(
    sequencer: Sequencer,
    rx: mpsc::Receiver<Submission>,
    role: watch::Receiver<Role>,
    metrics: Arc<Metrics>,
    forward_timeout: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(shared_loop(sequencer, rx, role, metrics, forward_timeout))
}

async fn shared_loop(
    mut seq: Sequencer,
    mut rx: mpsc::Receiver<Submission>,
    mut role: watch::Receiver<Role>,
    metrics: Arc<Metrics>,
    forward_timeout: Duration,
) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(forward_timeout))
        .build()
        .into();
    // The same batches as on a single node (crate::log::batcher).
    let mut batcher = Batcher::new(seq.config().limits());
    // The epoch whose state `seq` holds; None = must reload before sequencing.
    let mut loaded: Option<u64> = None;
    let mut watching = true;
    loop {
        let items = tokio::select! {
            cut = batcher.next(&mut rx) => match cut { Some(items) => items, None => break },
            changed = role.changed(), if watching => {
                if changed.is_err() {
                    watching = false;
                }
                // Take over at once when elected, even with nothing queued, so
                // the new leader is ready (and an empty log gets its checkpoint).
                let current = role.borrow().clone();
                if let Role::Leader { epoch } = current {
                    if loaded != Some(epoch) {
                        (seq, loaded) = take_over(seq, epoch).await;
                    }
                } else {
                    loaded = None;
                    seq.set_current(false);
                }
                continue;
            }
        };
        if items.is_empty() {
            continue;
        }
        metrics
            .queue_depth
            .fetch_sub(items.len() as u64, Ordering::Relaxed);
        // With no live leader, wait (up to a forwarding timeout) for an election.
        let wait_until = tokio::time::Instant::now() + forward_timeout;
        let current = loop {
            let current = role.borrow_and_update().clone();
            if current != (Role::Follower { leader_url: None }) || !watching {
                break current;
            }
            match tokio::time::timeout_at(wait_until, role.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => watching = false,
                Err(_) => break current,
            }
        };
        match current {
            Role::Leader { epoch } => {
                if loaded != Some(epoch) {
                    (seq, loaded) = take_over(seq, epoch).await;
                }
                if loaded != Some(epoch) {
                    for s in items {
                        s.answer(Err(LogError::CommitFailed));
                    }
                    continue;
                }
                seq = match tokio::task::spawn_blocking(move || {
                    seq.sequence(items);
                    seq
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
            Role::Follower {
                leader_url: Some(url),
            } => {
                loaded = None;
                seq.set_current(false);
                for s in items {
                    let (agent, url) = (agent.clone(), url.clone());
                    tokio::task::spawn_blocking(move || {
                        let result = forward(&agent, &url, &s.leaf, forward_timeout);
                        s.answer(result);
                    });
                }
            }
            Role::Follower { leader_url: None } => {
                loaded = None;
                seq.set_current(false);
                for s in items {
                    s.answer(Err(LogError::CommitFailed));
                }
            }
        }
    }
    tracing::info!("sequencer stopped: queue closed and drained");
}

/// Reload the sequencer's state for `epoch` off the async runtime.
async fn take_over(mut seq: Sequencer, epoch: u64) -> (Sequencer, Option<u64>) {
    match tokio::task::spawn_blocking(move || {
        let r = seq.take_over();
        (seq, r)
    })
    .await
    {
        Ok((seq, Ok(()))) => {
            tracing::info!(epoch, size = seq.size(), "took over sequencing");
            (seq, Some(epoch))
        }
        Ok((seq, Err(e))) => {
            tracing::error!(error = %e, "taking over sequencing failed; will retry");
            (seq, None)
        }
        Err(e) => {
            // The blocking task panicked with the sequencer inside: nothing to keep.
            tracing::error!(error = %e, "taking over sequencing panicked");
            std::process::abort();
        }
    }
}

/// Submit `leaf` (canonical envelope JSON) to the leader at `base` and turn its
/// answer back into this node's outcome; the leader's refusals keep their code.
pub fn forward(
    agent: &ureq::Agent,
    base: &str,
    leaf: &[u8],
    timeout: Duration,
) -> Result<SubmitOutcome, LogError> {
    let url = format!("{}/api/v1/entries", base.trim_end_matches('/'));
    let mut resp = agent
        .post(&url)
        .header("content-type", "application/json")
        .send(leaf)
        .map_err(|e| {
            tracing::warn!(error = %e, %url, "forwarding to the sequencer failed");
            // The leader may have logged it before the connection broke: a retry
            // is answered with the existing receipt.
            LogError::Timeout(timeout)
        })?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()
        .map_err(LogError::LeaderAnswer)?;
    match status {
        200 | 201 => {
            // Checked, then passed on as the leader wrote it.
            let parsed: Receipt = serde_json::from_slice(&body).map_err(LogError::LeaderReceipt)?;
            let receipt = ReceiptJson {
                index: parsed.index,
                json: body.into(),
            };
            Ok(if status == 201 {
                SubmitOutcome::Created(receipt)
            } else {
                SubmitOutcome::Existing(receipt)
            })
        }
        _ => Err(refusal(status, &body)),
    }
}

/// The leader's error body, its code kept so that this node answers with the same
/// one; a body that is not one leaves code and message empty.
fn refusal(status: u16, body: &[u8]) -> LogError {
    let detail = serde_json::from_slice::<glassbox_core::api::ErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or(glassbox_core::api::ErrorDetail {
            code: String::new(),
            message: String::new(),
        });
    LogError::Refused {
        status,
        code: detail.code,
        message: detail.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_keeps_the_leaders_code() {
        let body = br#"{"error":{"code":"unknown_key","message":"key abc is not registered"}}"#;
        match refusal(403, body) {
            LogError::Refused {
                status,
                code,
                message,
            } => {
                assert_eq!(status, 403);
                assert_eq!(code, "unknown_key");
                assert_eq!(message, "key abc is not registered");
            }
            other => panic!("{other:?}"),
        }
        match refusal(500, b"not json") {
            LogError::Refused { status, code, .. } => {
                assert_eq!(status, 500);
                assert_eq!(code, "");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lease_is_renewed_three_times_per_ttl() {
        let c = LeaseConfig::with_ttl(Duration::from_secs(3));
        assert_eq!(c.renew_every, Duration::from_secs(1));
    }
}
