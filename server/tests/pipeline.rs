//! The pipelined sequencer: batch k+1 is prepared on top of batch k while k
//! commits. A storage hook holds commits at a gate so the overlap is
//! certain, not a matter of timing: a failure of k must fail k+1 too and leave
//! nothing of either visible, receipts of overlapping batches must verify
//! against their own checkpoints, and the handlers' signature pre-check must
//! not outlive a key event logged in the batch still committing.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_core::note::{NoteSigner, NoteVerifierKey};
use glassbox_core::statement::Role;
use glassbox_server::http::error::AppError;
use glassbox_server::log::admission::facts::facts;
use glassbox_server::log::admission::validate::{precheck, Precheck};
use glassbox_server::log::clock::FakeClock;
use glassbox_server::log::sequencer::{Sequencer, SequencerConfig, SequencerHandle, SubmitOutcome};
use glassbox_server::metrics::Metrics;
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::{LogStore, QueryStore};
use support::*;
use tokio::task::JoinHandle;

type Answer = Result<SubmitOutcome, AppError>;

const REPO: &str = "https://git.example/widget";
const DEADLINE: Duration = Duration::from_secs(20);
/// Batch size of the test sequencer.
const BATCH: usize = 2;

/// A gate the memory storage's batch commits wait at while it is closed.
struct Gate {
    closed: Mutex<bool>,
    opened: Condvar,
    /// Commits that reached the gate.
    arrived: AtomicUsize,
}

impl Gate {
    fn new() -> Arc<Gate> {
        Arc::new(Gate {
            closed: Mutex::new(false),
            opened: Condvar::new(),
            arrived: AtomicUsize::new(0),
        })
    }

    fn close(&self) {
        *self.closed.lock().unwrap() = true;
    }

    fn open(&self) {
        *self.closed.lock().unwrap() = false;
        self.opened.notify_all();
    }

    /// Count a commit, and hold it while the gate is closed.
    fn pass(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut closed = self.closed.lock().unwrap();
        while *closed {
            closed = self.opened.wait(closed).unwrap();
        }
    }
}

struct Log {
    memory: Arc<MemoryStorage>,
    gated: Arc<Gate>,
    handle: SequencerHandle,
    metrics: Arc<Metrics>,
    vkey: NoteVerifierKey,
    operator: Participant,
    vendor: Participant,
}

/// The size of the [`log`] it starts with, where the first entry a test adds
/// lands: the genesis (0) and a registered vendor (1), sequenced as one batch
/// that the log's index commitment (2) ends.
const SEEDED: u64 = 3;

/// A running sequencer over gated memory storage holding the genesis and a
/// registered vendor (see [`SEEDED`]).
async fn log() -> Log {
    let gated = Gate::new();
    let memory = Arc::new(MemoryStorage::new().before_append({
        let gate = gated.clone();
        move |_| gate.pass()
    }));
    let signer = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[200; 32])).unwrap();
    let vkey = signer.verifier();
    let metrics = Arc::new(Metrics::default());
    let seq = Sequencer::load(
        memory.clone(),
        signer,
        Arc::new(FakeClock::new(1_767_225_600_000)),
        metrics.clone(),
        SequencerConfig {
            // Batches are cut by size only, so the test decides what each holds.
            batch_interval: Duration::from_secs(3600),
            batch_size: BATCH,
            queue_size: 1024,
            operator_pins: Vec::new(),
        },
    )
    .unwrap();
    let (handle, _task) = seq.spawn();
    let (operator, vendor) = (participant(1), participant(2));
    let log = Log {
        memory,
        gated,
        handle,
        metrics,
        vkey,
        operator,
        vendor,
    };
    let seed = [
        genesis(&log.operator),
        register(&log.operator, &log.vendor, &[Role::Vendor]),
    ];
    // One batch, so without the handlers' pre-check: it refuses the vendor's
    // registration, whose operator is not committed yet (a key signs once its
    // registration's receipt is returned).
    let got = answers(log.queue_batch(&seed, false).await).await;
    assert_eq!(got.iter().map(created).collect::<Vec<_>>(), vec![0, 1]);
    log
}

/// Submit as the HTTP handler does: facts, then the signature pre-check
/// against the committed registry, then the queue.
async fn send(handle: &SequencerHandle, env: &Envelope) -> Answer {
    let f = facts(env).unwrap();
    let check = match handle.registry_view() {
        Some(view) => precheck(&view, env, &f.attestation)?.precheck,
        None => Precheck::Unchecked,
    };
    handle
        .submit_prechecked(env.clone(), f, env.to_canonical_json(), check)
        .await
        .map_err(AppError::from)
}

/// Poll `cond` until it holds, failing the test after [`DEADLINE`].
async fn until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

impl Log {
    /// Submit `envs` in order as one batch (the sequencer cuts batches of
    /// [`BATCH`] by size; the interval never elapses in a test) and wait until it
    /// is cut: every earlier one queued, the last one then taking all off the queue.
    async fn submit_batch(&self, envs: &[Envelope]) -> Vec<JoinHandle<Answer>> {
        self.queue_batch(envs, true).await
    }

    /// [`submit_batch`](Self::submit_batch), with or without the handlers'
    /// signature pre-check.
    async fn queue_batch(&self, envs: &[Envelope], checked: bool) -> Vec<JoinHandle<Answer>> {
        assert_eq!(envs.len(), BATCH);
        assert_eq!(self.metrics.queue_depth.load(Ordering::SeqCst), 0);
        let mut tasks = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            let (handle, env) = (self.handle.clone(), env.clone());
            tasks.push(tokio::spawn(async move {
                if checked {
                    send(&handle, &env).await
                } else {
                    let f = facts(&env).unwrap();
                    let leaf = env.to_canonical_json();
                    handle.submit(env, f, leaf).await.map_err(AppError::from)
                }
            }));
            let want = if i + 1 == BATCH { 0 } else { i as u64 + 1 };
            until("the submission to be queued", || {
                self.metrics.queue_depth.load(Ordering::SeqCst) == want
            })
            .await;
        }
        tasks
    }

    /// Wait until `n` commits (counting from the log's creation) reached storage.
    async fn commits_reached(&self, n: usize) {
        until("a commit to reach storage", || {
            self.gated.arrived.load(Ordering::SeqCst) >= n
        })
        .await;
    }

    fn checkpoint_sizes(&self) -> Vec<u64> {
        self.memory
            .checkpoints(0, 1000)
            .unwrap()
            .iter()
            .map(|c| c.size)
            .collect()
    }
}

fn created(a: &Answer) -> u64 {
    match a {
        Ok(SubmitOutcome::Created(r)) => r.index,
        other => panic!("expected a new entry, got {other:?}"),
    }
}

fn refused(a: &Answer) -> &'static str {
    match a {
        Err(e) => e.code(),
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

async fn answers(tasks: Vec<JoinHandle<Answer>>) -> Vec<Answer> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(tokio::time::timeout(DEADLINE, t).await.unwrap().unwrap());
    }
    out
}

fn submissions(vendor: &Participant, from: u32, n: u32) -> Vec<Envelope> {
    (from..from + n)
        .map(|i| submission(vendor, REPO, i, &format!("1.{i}")))
        .collect()
}

/// Commits so far: the empty checkpoint and the seed batch.
const SEEDED_COMMITS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_the_batch_prepared_on_top_of_it_and_the_next_succeeds() {
    let log = log().await;
    let before = log.memory.latest_checkpoint().unwrap();
    let first = submissions(&log.vendor, 1, 2);
    let second = submissions(&log.vendor, 3, 2);

    log.gated.close();
    log.memory.fail_next_appends(1);
    let k = log.submit_batch(&first).await;
    log.commits_reached(SEEDED_COMMITS + 1).await;
    // Batch k+1 is cut (and prepared on k's state) while k's commit is held.
    let k1 = log.submit_batch(&second).await;
    assert!(k.iter().chain(&k1).all(|t| !t.is_finished()));
    log.gated.open();

    for a in answers(k).await.iter().chain(&answers(k1).await) {
        assert_eq!(refused(a), "commit_failed");
    }
    // k+1 never reached storage, and nothing of either is visible.
    assert_eq!(log.gated.arrived.load(Ordering::SeqCst), SEEDED_COMMITS + 1);
    assert_eq!(log.memory.latest_checkpoint().unwrap(), before);
    // Neither batch's entries nor its index commitment.
    assert_eq!(log.memory.entry(SEEDED).unwrap(), None);
    for env in first.iter().chain(&second) {
        let digest = env.statement_digest();
        assert_eq!(log.memory.find_statements(&[digest]).unwrap(), [None]);
    }

    // State was reloaded: the next batch takes the positions k would have had.
    let got = answers(log.submit_batch(&second).await).await;
    assert_eq!(
        got.iter().map(created).collect::<Vec<_>>(),
        vec![SEEDED, SEEDED + 1]
    );
    // Two entries and the batch's index commitment.
    assert_eq!(log.checkpoint_sizes(), vec![0, SEEDED, SEEDED + 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_of_overlapping_batches_verify_against_their_own_checkpoints() {
    let log = log().await;
    log.gated.close();
    let k = log.submit_batch(&submissions(&log.vendor, 1, 2)).await;
    log.commits_reached(SEEDED_COMMITS + 1).await;
    // A duplicate of an entry of the batch still committing, and a new one.
    let mut second = submissions(&log.vendor, 1, 1);
    second.extend(submissions(&log.vendor, 3, 1));
    let k1 = log.submit_batch(&second).await;
    assert!(
        k.iter().chain(&k1).all(|t| !t.is_finished()),
        "answered before its batch committed"
    );
    log.gated.open();

    let (k, k1) = (answers(k).await, answers(k1).await);
    assert_eq!(
        k.iter().map(created).collect::<Vec<_>>(),
        vec![SEEDED, SEEDED + 1]
    );
    match &k1[0] {
        Ok(SubmitOutcome::Existing(r)) => assert_eq!(r.index, SEEDED),
        other => panic!("expected the existing entry, got {other:?}"),
    }
    // After k's index commitment (SEEDED + 2).
    assert_eq!(created(&k1[1]), SEEDED + 3);
    // Each batch's checkpoint covers its index commitment.
    let (k_size, k1_size) = (SEEDED + 3, SEEDED + 5);
    assert_eq!(
        log.checkpoint_sizes(),
        vec![0, SEEDED, k_size, k1_size],
        "one checkpoint per batch"
    );
    for (answers, size) in [(&k, k_size), (&k1, k1_size)] {
        for a in answers {
            let receipt = match a {
                Ok(SubmitOutcome::Created(r) | SubmitOutcome::Existing(r)) => r,
                Err(e) => panic!("{e}"),
            };
            let cp = verify_receipt(&serde_json::from_slice(&receipt.json).unwrap(), &log.vkey);
            assert_eq!(cp.size, size);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_in_the_batch_still_committing_cannot_sign_in_the_next() {
    let log = log().await;
    let newcomer = participant(7);
    log.gated.close();
    let k = log
        .submit_batch(&[
            revoke(&log.operator, &log.vendor),
            register(&log.operator, &newcomer, &[Role::Vendor]),
        ])
        .await;
    log.commits_reached(SEEDED_COMMITS + 1).await;
    // The handlers still see the vendor as active (k is not committed), so
    // these pass the signature pre-check; the sequencer must refuse them.
    let view = log.handle.registry_view().unwrap();
    let next = submissions(&log.vendor, 1, 2);
    for env in &next {
        let f = facts(env).unwrap();
        assert!(matches!(
            precheck(&view, env, &f.attestation).unwrap().precheck,
            Precheck::Authorised { .. }
        ));
    }
    let k1 = log.submit_batch(&next).await;
    log.gated.open();

    assert_eq!(
        answers(k).await.iter().map(created).collect::<Vec<_>>(),
        vec![SEEDED, SEEDED + 1]
    );
    for a in answers(k1).await {
        assert_eq!(refused(&a), "key_revoked");
    }
    // Once committed, the handlers see the revocation too.
    let view = log.handle.registry_view().unwrap();
    assert_eq!(view.last_key_event, Some(SEEDED + 1));
    let env = &next[0];
    let f = facts(env).unwrap();
    assert!(matches!(
        precheck(&view, env, &f.attestation).map(|p| p.precheck),
        Ok(Precheck::Unchecked)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_refused_before_it_is_queued() {
    let log = log().await;
    let mut env = submission(&log.vendor, REPO, 1, "1.0");
    env.signatures[0].sig[0] ^= 1;
    let view = log.handle.registry_view().unwrap();
    let f = facts(&env).unwrap();
    let err = AppError::from(precheck(&view, &env, &f.attestation).unwrap_err());
    assert_eq!(err.code(), "bad_signature");
    // The sequencer gives the same answer to a submission that skipped the check.
    let good = submission(&log.vendor, REPO, 2, "2.0");
    let got = answers(log.queue_batch(&[env, good], false).await).await;
    assert_eq!(refused(&got[0]), "bad_signature");
    assert_eq!(got[0].as_ref().unwrap_err().to_string(), err.to_string());
    assert_eq!(created(&got[1]), SEEDED);
}
