//! The sequencer on its own (no router): batching by interval and by size on a
//! paused tokio clock, deduplication (a statement is logged once), all-or-nothing
//! commits under injected storage faults, and key events applied in log order
//! inside one batch.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_core::note::NoteSigner;
use glassbox_core::statement::Role;
use glassbox_server::http::error::AppError;
use glassbox_server::log::admission::facts::facts;
use glassbox_server::log::clock::FakeClock;
use glassbox_server::log::sequencer::{
    queue, Sequencer, SequencerConfig, SequencerHandle, SubmitOutcome,
};
use glassbox_server::metrics::Metrics;
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::{LogStore, QueryStore};
use support::*;
use tokio::task::JoinHandle;

type Answer = Result<SubmitOutcome, AppError>;

const REPO: &str = "https://git.example/widget";

/// A sequencer over `storage` with the given batching; the caller starts it.
fn sequencer(
    storage: &Arc<MemoryStorage>,
    interval: Duration,
    size: usize,
) -> (Sequencer, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let seq = Sequencer::load(
        storage.clone(),
        NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[200; 32])).unwrap(),
        Arc::new(FakeClock::new(1_767_225_600_000)),
        metrics.clone(),
        SequencerConfig {
            batch_interval: interval,
            batch_size: size,
            queue_size: 1024,
            operator_pins: Vec::new(),
        },
    )
    .unwrap();
    (seq, metrics)
}

/// The size of the [`seeded`] log, where the first entry a test adds lands: the
/// genesis (0) and the vendor's registration (2), each sequenced alone and so
/// followed by the index commitment that ends its batch (1, 3).
const SEEDED: u64 = 4;

/// Checkpoints of the [`seeded`] log: the empty log's and one per batch.
const SEEDED_CHECKPOINTS: [u64; 3] = [0, 2, SEEDED];

/// The checkpoint sizes of the [`seeded`] log followed by `more`.
fn seeded_and(more: &[u64]) -> Vec<u64> {
    SEEDED_CHECKPOINTS.iter().chain(more).copied().collect()
}

/// Storage holding the genesis and a registered vendor (see [`SEEDED`]).
async fn seeded() -> (Arc<MemoryStorage>, Participant, Participant) {
    let storage = Arc::new(MemoryStorage::new());
    let operator = participant(1);
    let vendor = participant(2);
    let (seq, _) = sequencer(&storage, Duration::from_millis(1), 64);
    let (handle, task) = seq.spawn();
    for env in [
        genesis(&operator),
        register(&operator, &vendor, &[Role::Vendor]),
    ] {
        assert!(matches!(
            send(&handle, &env).await,
            Ok(SubmitOutcome::Created(_))
        ));
    }
    drop(handle);
    task.await.unwrap();
    (storage, operator, vendor)
}

async fn send(handle: &SequencerHandle, env: &Envelope) -> Answer {
    let f = facts(env).unwrap();
    handle
        .submit(env.clone(), f, env.to_canonical_json())
        .await
        .map_err(AppError::from)
}

/// Submit each envelope from its own task; all are queued when this returns.
async fn queue_all(
    handle: &SequencerHandle,
    metrics: &Metrics,
    envs: &[Envelope],
) -> Vec<JoinHandle<Answer>> {
    let before = metrics
        .queue_depth
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut tasks = Vec::new();
    for env in envs {
        let handle = handle.clone();
        let env = env.clone();
        tasks.push(tokio::spawn(async move { send(&handle, &env).await }));
        // Queue strictly in order: wait until this one is in.
        let want = before + tasks.len() as u64;
        while metrics
            .queue_depth
            .load(std::sync::atomic::Ordering::SeqCst)
            < want
        {
            tokio::task::yield_now().await;
        }
    }
    tasks
}

async fn answers(tasks: Vec<JoinHandle<Answer>>) -> Vec<Answer> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn created(a: &Answer) -> u64 {
    match a {
        Ok(SubmitOutcome::Created(r)) => r.index,
        other => panic!("expected a new entry, got {other:?}"),
    }
}

fn existing(a: &Answer) -> u64 {
    match a {
        Ok(SubmitOutcome::Existing(r)) => r.index,
        other => panic!("expected an existing entry, got {other:?}"),
    }
}

fn refused(a: &Answer) -> &'static str {
    match a {
        Err(e) => e.code(),
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

/// Sizes of every signed checkpoint, oldest first.
fn checkpoint_sizes(storage: &MemoryStorage) -> Vec<u64> {
    storage
        .checkpoints(0, 1000)
        .unwrap()
        .iter()
        .map(|c| c.size)
        .collect()
}

fn submissions(vendor: &Participant, n: u32) -> Vec<Envelope> {
    (0..n)
        .map(|i| submission(vendor, REPO, i, &format!("1.{i}")))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_waits_for_the_interval_then_commits_once() {
    let (storage, _, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    seq.start(rx);
    let t0 = tokio::time::Instant::now();
    let tasks = queue_all(&handle, &metrics, &submissions(&vendor, 3)).await;

    tokio::time::sleep(Duration::from_millis(99)).await;
    assert_eq!(
        checkpoint_sizes(&storage),
        SEEDED_CHECKPOINTS,
        "committed before the interval"
    );
    assert!(
        tasks.iter().all(|t| !t.is_finished()),
        "answered before the commit"
    );

    let got = answers(tasks).await;
    assert!(t0.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        got.iter().map(created).collect::<Vec<_>>(),
        vec![SEEDED, SEEDED + 1, SEEDED + 2]
    );
    // The three entries and the index commitment ending their batch.
    assert_eq!(
        checkpoint_sizes(&storage),
        seeded_and(&[SEEDED + 4]),
        "one checkpoint per batch"
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_commits_without_waiting_for_the_interval() {
    let (storage, _, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_secs(3600), 4);
    let (handle, rx) = queue(1024, metrics.clone());
    // Everything is queued before the sequencer looks: the first four fill a batch.
    let tasks = queue_all(&handle, &metrics, &submissions(&vendor, 6)).await;
    let t0 = tokio::time::Instant::now();
    seq.start(rx);
    let got = answers(tasks).await;

    // Each batch ends with an index commitment (at SEEDED + 4 and SEEDED + 7).
    let s = SEEDED;
    assert_eq!(
        got.iter().map(created).collect::<Vec<_>>(),
        vec![s, s + 1, s + 2, s + 3, s + 5, s + 6]
    );
    // The full batch went at once; the remaining two waited one interval.
    assert_eq!(checkpoint_sizes(&storage), seeded_and(&[s + 5, s + 8]));
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(3600) && waited < Duration::from_secs(7200),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_full_batch_is_answered_before_the_interval_ends() {
    let (storage, _, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_secs(3600), 4);
    let (handle, rx) = queue(1024, metrics.clone());
    let tasks = queue_all(&handle, &metrics, &submissions(&vendor, 4)).await;
    let t0 = tokio::time::Instant::now();
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(
        got.iter().map(created).collect::<Vec<_>>(),
        (SEEDED..SEEDED + 4).collect::<Vec<_>>()
    );
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

#[tokio::test(start_paused = true)]
async fn duplicates_within_a_batch_and_against_the_log_get_the_existing_entry() {
    let (storage, _, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    let a = submission(&vendor, REPO, 1, "1.0");
    let b = submission(&vendor, REPO, 2, "2.0");
    let tasks = queue_all(&handle, &metrics, &[a.clone(), b.clone(), a.clone()]).await;
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(created(&got[0]), SEEDED);
    assert_eq!(created(&got[1]), SEEDED + 1);
    assert_eq!(existing(&got[2]), SEEDED, "duplicate inside the batch");
    // Two entries and the batch's index commitment.
    let size = SEEDED + 3;
    assert_eq!(checkpoint_sizes(&storage), seeded_and(&[size]));

    // Against the log: a batch of only duplicates signs no new checkpoint, and
    // appends no index commitment either.
    let got = answers(queue_all(&handle, &metrics, &[b, a]).await).await;
    assert_eq!(existing(&got[0]), SEEDED + 1);
    assert_eq!(existing(&got[1]), SEEDED);
    assert_eq!(checkpoint_sizes(&storage), seeded_and(&[size]));
    assert_eq!(storage.entry(size).unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn a_copy_adding_a_signer_later_in_the_same_batch_is_refused_and_takes_no_index() {
    let (storage, operator, _) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    let (r1, r2) = (participant(7), participant(8));
    let tasks = queue_all(
        &handle,
        &metrics,
        &[
            register(&operator, &r1, &[Role::Reviewer]),
            register(&operator, &r2, &[Role::Reviewer]),
            review(&r1, REPO, 1),
            cosigned_review(&[&r2, &r1], REPO, 1),
            review(&r1, REPO, 2),
            review(&r1, REPO, 1),
        ],
    )
    .await;
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(created(&got[2]), SEEDED + 2);
    assert_eq!(refused(&got[3]), "statement_already_logged");
    assert_eq!(
        created(&got[4]),
        SEEDED + 3,
        "the refused copy took no index"
    );
    assert_eq!(existing(&got[5]), SEEDED + 2);
    // Four entries and the index commitment ending the batch.
    assert_eq!(
        checkpoint_sizes(&storage),
        seeded_and(&[SEEDED + 5]),
        "one batch"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_commit_refuses_the_whole_batch_and_leaves_nothing_visible() {
    let (storage, operator, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    seq.start(rx);
    let newcomer = participant(7);
    let batch = vec![
        submission(&vendor, REPO, 1, "1.0"),
        register(&operator, &newcomer, &[Role::Vendor]),
        submission(&newcomer, REPO, 2, "2.0"),
    ];
    let before_cp = storage.latest_checkpoint().unwrap();
    let before_keys = storage.key_events().unwrap();

    storage.fail_next_appends(1);
    let got = answers(queue_all(&handle, &metrics, &batch).await).await;
    for a in &got {
        assert_eq!(refused(a), "commit_failed");
        assert_eq!(
            a.as_ref().unwrap_err().status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(storage.latest_checkpoint().unwrap(), before_cp);
    assert_eq!(storage.key_events().unwrap(), before_keys);
    // Neither the batch's entries nor its index commitment.
    assert_eq!(storage.entry(SEEDED).unwrap(), None);
    for env in &batch {
        let digest = env.statement_digest();
        assert_eq!(storage.find_statements(&[digest]).unwrap(), [None]);
    }

    // The in-memory registry did not keep the failed registration either.
    let got = answers(queue_all(&handle, &metrics, &batch[2..]).await).await;
    assert_eq!(refused(&got[0]), "unknown_key");

    // A retry of the whole batch lands at the same positions.
    let got = answers(queue_all(&handle, &metrics, &batch).await).await;
    assert_eq!(
        got.iter().map(created).collect::<Vec<_>>(),
        vec![SEEDED, SEEDED + 1, SEEDED + 2]
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_registered_earlier_in_the_batch_can_sign_later_in_it() {
    let (storage, operator, _) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    let newcomer = participant(7);
    let tasks = queue_all(
        &handle,
        &metrics,
        &[
            register(&operator, &newcomer, &[Role::Vendor]),
            submission(&newcomer, REPO, 1, "1.0"),
        ],
    )
    .await;
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(created(&got[0]), SEEDED);
    assert_eq!(created(&got[1]), SEEDED + 1);
    assert_eq!(
        checkpoint_sizes(&storage),
        seeded_and(&[SEEDED + 3]),
        "one batch"
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_registered_later_in_the_batch_cannot_sign_before_it() {
    let (storage, operator, _) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    let newcomer = participant(7);
    let tasks = queue_all(
        &handle,
        &metrics,
        &[
            submission(&newcomer, REPO, 1, "1.0"),
            register(&operator, &newcomer, &[Role::Vendor]),
        ],
    )
    .await;
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(refused(&got[0]), "unknown_key");
    assert_eq!(created(&got[1]), SEEDED);
}

#[tokio::test(start_paused = true)]
async fn a_key_revoked_earlier_in_the_batch_cannot_sign_later_in_it() {
    let (storage, operator, vendor) = seeded().await;
    let (seq, metrics) = sequencer(&storage, Duration::from_millis(100), 64);
    let (handle, rx) = queue(1024, metrics.clone());
    let tasks = queue_all(
        &handle,
        &metrics,
        &[
            submission(&vendor, REPO, 1, "1.0"),
            revoke(&operator, &vendor),
            submission(&vendor, REPO, 2, "2.0"),
        ],
    )
    .await;
    seq.start(rx);
    let got = answers(tasks).await;
    assert_eq!(created(&got[0]), SEEDED, "signed before the revocation");
    assert_eq!(created(&got[1]), SEEDED + 1);
    assert_eq!(refused(&got[2]), "key_revoked");
    assert_eq!(checkpoint_sizes(&storage), seeded_and(&[SEEDED + 3]));
}

#[tokio::test(start_paused = true)]
async fn a_restarted_sequencer_replays_key_events_from_the_log() {
    let (storage, operator, vendor) = seeded().await;
    {
        let (seq, _) = sequencer(&storage, Duration::from_millis(1), 64);
        let (handle, task) = seq.spawn();
        created(&send(&handle, &revoke(&operator, &vendor)).await);
        drop(handle);
        task.await.unwrap();
    }
    let (seq, _) = sequencer(&storage, Duration::from_millis(1), 64);
    let (handle, _task) = seq.spawn();
    let got = send(&handle, &submission(&vendor, REPO, 1, "1.0")).await;
    assert_eq!(refused(&got), "key_revoked");
    // Not the logged registration again (that is a duplicate) but a new one.
    let again = send(&handle, &register(&operator, &vendor, &[Role::Reviewer])).await;
    assert_eq!(refused(&again), "conflict");
}
