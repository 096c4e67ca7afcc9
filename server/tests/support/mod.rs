//! Test support: participant keys, attestation envelopes and an in-process log
//! (memory or SQLite storage, fake clock) with its router.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use ed25519_dalek::SigningKey;
use glassbox_core::digest::{key_id_hex, Sha256Digest};
use glassbox_core::dsse::Envelope;
use glassbox_core::note::{NoteSigner, NoteVerifierKey};
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, ProvenancePredicate,
    ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest, SourceReview, SourceSubmission,
    SubmissionPredicate, Verdict,
};
use glassbox_server::config::RateLimit;
use glassbox_server::http::ratelimit::RateLimiter;
use glassbox_server::http::state::{AppState, Limits};
use glassbox_server::log::clock::FakeClock;
use glassbox_server::log::sequencer::{queue, Sequencer, SequencerConfig, Submission};
use glassbox_server::metrics::Metrics;
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::Storage;
use tokio::sync::mpsc;
use tower::ServiceExt as _;

pub const ORIGIN: &str = "test.glassbox.localhost/log";

/// A participant's key.
pub struct Participant {
    pub key: SigningKey,
    pub id: String,
}

pub fn participant(seed: u8) -> Participant {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let id = key_id_hex(&key.verifying_key());
    Participant { key, id }
}

pub fn genesis(op: &Participant) -> Envelope {
    glassbox_server::server::genesis_envelope(&op.key).unwrap()
}

pub fn register(op: &Participant, who: &Participant, roles: &[Role]) -> Envelope {
    register_in(op, who, roles, "some org")
}

/// The registration of `who` under the organisation `org`, signed by `op`.
pub fn register_in(op: &Participant, who: &Participant, roles: &[Role], org: &str) -> Envelope {
    let ev = KeyEvent::register(&who.key.verifying_key(), "someone", org, roles.to_vec()).unwrap();
    Attestation::from(ev).sign(&[&op.key]).unwrap()
}

pub fn revoke(op: &Participant, who: &Participant) -> Envelope {
    let ev = KeyEvent::revoke(&who.id, "left the project", None).unwrap();
    Attestation::from(ev).sign(&[&op.key]).unwrap()
}

pub fn dir_hash(n: u32) -> String {
    Sha256Digest::of(format!("tree {n}").as_bytes()).hex()
}

pub fn commit(n: u32) -> String {
    Sha256Digest::of(format!("commit {n}").as_bytes()).hex()[..40].to_string()
}

pub fn source(n: u32) -> SourceDigest {
    let tree = Sha256Digest::of(format!("gittree {n}").as_bytes()).hex()[..40].to_string();
    SourceDigest::from_git(commit(n), tree, dir_hash(n))
}

pub fn submission(vendor: &Participant, repo: &str, n: u32, version: &str) -> Envelope {
    let s = SourceSubmission::new(
        source(n),
        SubmissionPredicate {
            repository: repo.into(),
            product: "widget".into(),
            version: version.into(),
            review_request: ReviewRequest {
                scope: Scope::Full,
                notes: None,
            },
            submitted_at: "2026-01-01T00:00:00Z".into(),
        },
    )
    .unwrap();
    Attestation::from(s).sign(&[&vendor.key]).unwrap()
}

pub fn review(reviewer: &Participant, repo: &str, n: u32) -> Envelope {
    cosigned_review(&[reviewer], repo, n)
}

/// The review of source `n` signed by every one of `reviewers`, in that order.
pub fn cosigned_review(reviewers: &[&Participant], repo: &str, n: u32) -> Envelope {
    let r = SourceReview::new(
        source(n),
        ReviewPredicate {
            repository: repo.into(),
            scope: Scope::Full,
            verdict: Verdict::Approved,
            findings: None,
            report_digest: None,
            reviewed_at: "2026-01-02T00:00:00Z".into(),
        },
    )
    .unwrap();
    let keys: Vec<&SigningKey> = reviewers.iter().map(|r| &r.key).collect();
    Attestation::from(r).sign(&keys).unwrap()
}

pub fn artifact(name: &str) -> Sha256Digest {
    Sha256Digest::of(name.as_bytes())
}

/// A build of `artifact_name` from source `n`, whose `runDetails.builder.id`
/// names `builder`: two builders' attestations of one build are two statements.
pub fn build(builder: &Participant, artifact_name: &str, repo: &str, n: u32) -> Envelope {
    let predicate = ProvenancePredicate::new(
        BuildRecipe::new("make", artifact_name),
        repo,
        source(n),
        &format!("https://builder.example/{}", &builder.id[..16]),
    );
    let b = Build::new(
        vec![ArtifactSubject {
            name: artifact_name.into(),
            sha256: artifact(artifact_name),
        }],
        predicate,
    )
    .unwrap();
    Attestation::from(b).sign(&[&builder.key]).unwrap()
}

/// Where the `k`-th entry (from 0) of a log lands when every entry was submitted
/// on its own, a batch each: the sequencer ends every batch with the log's index
/// commitment, so entries take the even positions and commitments the odd ones.
pub const fn one_per_batch(k: u64) -> u64 {
    2 * k
}

/// Whether a stored leaf is one of the log's own index commitments (the last
/// entry of every batch), not a participant's attestation.
pub fn is_index_commitment(leaf: &[u8]) -> bool {
    Envelope::from_json(leaf)
        .is_ok_and(|e| glassbox_core::index::IndexCommitment::is_commitment(&e))
}

pub fn body(env: &Envelope) -> Vec<u8> {
    env.to_canonical_json()
}

/// Options of an in-process log.
pub struct Options {
    pub batch_interval: Duration,
    pub batch_size: usize,
    pub queue_size: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub signer_limit: RateLimit,
    pub ip_limit: RateLimit,
    /// Do not start the sequencer; the test holds the queue's receiver.
    pub stalled: bool,
    /// The most log indices one index answer lists.
    pub max_listed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_interval: Duration::from_millis(2),
            batch_size: 64,
            queue_size: 1024,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            signer_limit: RateLimit {
                rate_per_sec: 1e6,
                burst: 1e6,
            },
            ip_limit: RateLimit {
                rate_per_sec: 1e6,
                burst: 1e6,
            },
            stalled: false,
            max_listed: glassbox_server::http::index::MAX_LISTED,
        }
    }
}

/// An in-process log: router, state and the quickstart-style operator.
pub struct TestLog {
    pub app: Router,
    pub state: AppState,
    pub storage: Arc<dyn Storage>,
    pub memory: Option<Arc<MemoryStorage>>,
    pub vkey: NoteVerifierKey,
    pub operator: Participant,
    pub clock: Arc<FakeClock>,
    pub stalled_queue: Option<mpsc::Receiver<Submission>>,
}

impl TestLog {
    pub async fn memory() -> TestLog {
        TestLog::with(Options::default(), None).await
    }

    /// A log over `storage` (memory when `None`), with the operator registered:
    /// by a genesis submitted here when the log is empty, else already (a restart).
    pub async fn with(opts: Options, storage: Option<Arc<dyn Storage>>) -> TestLog {
        let (storage, memory): (Arc<dyn Storage>, _) = match storage {
            Some(s) => (s, None),
            None => {
                let m = Arc::new(MemoryStorage::new());
                (m.clone(), Some(m))
            }
        };
        let signer = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[200; 32])).unwrap();
        let vkey = signer.verifier();
        let metrics = Arc::new(Metrics::default());
        let clock = Arc::new(FakeClock::new(1_767_225_600_000)); // 2026-01-01T00:00:00Z
        let seq = Sequencer::load(
            storage.clone().for_sequencer(),
            signer,
            clock.clone(),
            metrics.clone(),
            SequencerConfig {
                batch_interval: opts.batch_interval,
                batch_size: opts.batch_size,
                queue_size: opts.queue_size,
                operator_pins: Vec::new(),
            },
        )
        .unwrap();
        let (handle, rx) = queue(opts.queue_size, metrics.clone());
        // As the server does: handlers check signatures from the first request,
        // and prove lookups from the sequencer's trie.
        seq.link(&handle);
        let index = glassbox_server::http::index::IndexReader::with_max_listed(opts.max_listed)
            .sharing(seq.shared_index(), seq.committed_checkpoints());
        let stalled_queue = if opts.stalled {
            Some(rx)
        } else {
            seq.start(rx);
            None
        };
        let state = AppState {
            storage: storage.clone(),
            sequencer: handle,
            metrics,
            ip_limiter: Arc::new(RateLimiter::new(opts.ip_limit)),
            trusted_proxies: Default::default(),
            signer_limiter: Arc::new(RateLimiter::new(opts.signer_limit)),
            limits: Limits {
                max_body_bytes: opts.max_body_bytes,
                request_timeout: opts.request_timeout,
            },
            index: Arc::new(index),
            reads: Default::default(),
        };
        let app = glassbox_server::app(state.clone());
        let log = TestLog {
            app,
            state,
            storage,
            memory,
            vkey,
            operator: participant(1),
            clock,
            stalled_queue,
        };
        let restarted = log
            .storage
            .latest_checkpoint()
            .unwrap()
            .is_some_and(|c| c.size > 0);
        if !opts.stalled && !restarted {
            let (status, _) = log.submit(&genesis(&log.operator)).await;
            assert_eq!(status, StatusCode::CREATED, "genesis");
        }
        log
    }

    pub async fn request(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, bytes.to_vec())
    }

    pub async fn post_raw(&self, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
        let req = Request::post("/api/v1/entries")
            .header("content-type", "application/json")
            .body(Body::from(bytes))
            .unwrap();
        let (status, _, body) = self.request(req).await;
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    pub async fn submit(&self, env: &Envelope) -> (StatusCode, serde_json::Value) {
        self.post_raw(body(env)).await
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_json(&self, uri: &str) -> (StatusCode, serde_json::Value) {
        let (status, _, body) = self.get(uri).await;
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Register `who` with `roles`, signed by the operator; asserts success.
    pub async fn enrol(&self, who: &Participant, roles: &[Role]) {
        let (status, body) = self.submit(&register(&self.operator, who, roles)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// The error code of an error body.
pub fn code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Verify a receipt offline: the tlog-proof's checkpoint is signed by the log
/// and the entry's leaf is included in it. Returns the checkpoint.
pub fn verify_receipt(
    receipt: &serde_json::Value,
    vkey: &NoteVerifierKey,
) -> glassbox_core::checkpoint::Checkpoint {
    let leaf = glassbox_core::jcs::canonicalize(&receipt["entry"]).unwrap();
    let proof = glassbox_core::tlog_proof::TlogProof::parse(
        receipt["tlogProof"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(receipt["index"].as_u64(), Some(proof.index));
    let cp = glassbox_core::checkpoint::SignedCheckpoint::open(&proof.checkpoint, vkey)
        .unwrap()
        .checkpoint;
    glassbox_core::merkle::verify_inclusion(
        &glassbox_core::merkle::leaf_hash(&leaf),
        proof.index,
        cp.size,
        &proof.hashes,
        &cp.root,
    )
    .unwrap();
    cp
}
