//! The witness's HTTP surface without a socket: every status C2SP tlog-witness
//! §add-checkpoint assigns, the cosignature it returns, and what monitors read.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use ed25519_dalek::SigningKey;
use glassbox_core::api::add_checkpoint::encode_add_checkpoint;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::{verify_cosignatures, CosignatureSigner, CosignatureVerifierKey};
use glassbox_core::merkle::{consistency_proof, leaf_hash, Hash, MemoryTree};
use glassbox_core::note::{Note, NoteSigner, NoteVerifier};
use glassbox_witness::store::Store;
use glassbox_witness::{app, Witness};
use tower::ServiceExt as _;

const ORIGIN: &str = "example.test/log";
const NOW: u64 = 1_700_000_000;

struct Fixture {
    log: NoteSigner,
    witness_key: CosignatureVerifierKey,
    app: Router,
    tree: MemoryTree,
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn fixture_with(store: Store) -> Fixture {
    fixture_with_clock(store, Arc::new(|| NOW))
}

fn fixture_with_clock(store: Store, clock: glassbox_witness::witness::Clock) -> Fixture {
    let log = NoteSigner::new(ORIGIN, key(1)).unwrap();
    let signer = CosignatureSigner::new("witness.test/w1", key(2)).unwrap();
    let witness_key = signer.verifier();
    let witness = Witness::new(signer, vec![log.verifier()], store, clock).unwrap();
    Fixture {
        log,
        witness_key,
        app: app(Arc::new(witness)),
        tree: MemoryTree::new(),
    }
}

fn fixture() -> Fixture {
    fixture_with(Store::in_memory().unwrap())
}

impl Fixture {
    fn grow(&mut self, n: u64) {
        for _ in 0..n {
            let i = self.tree.size();
            self.tree.push(leaf_hash(format!("entry {i}").as_bytes()));
        }
    }

    fn checkpoint(&self) -> Vec<u8> {
        signed(&self.log, self.tree.size(), self.tree.root())
    }

    fn proof(&self, old: u64) -> Vec<Hash> {
        if old == 0 {
            return Vec::new();
        }
        consistency_proof(old, self.tree.size(), &self.tree).unwrap()
    }

    async fn add(
        &self,
        old: u64,
        proof: &[Hash],
        checkpoint: &[u8],
    ) -> (StatusCode, String, String) {
        post(&self.app, encode_add_checkpoint(old, proof, checkpoint)).await
    }
}

fn signed(log: &NoteSigner, size: u64, root: Hash) -> Vec<u8> {
    Checkpoint {
        origin: log.name().to_owned(),
        size,
        root,
        extensions: Vec::new(),
    }
    .sign(log)
    .unwrap()
}

async fn post(app: &Router, body: Vec<u8>) -> (StatusCode, String, String) {
    let response = app
        .clone()
        .oneshot(
            Request::post("/add-checkpoint")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

async fn get(app: &Router, path: &str) -> (StatusCode, Vec<u8>) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
}

/// The checkpoint with the witness's response lines appended, as a client assembles it.
fn cosigned_note(checkpoint: &[u8], response: &str) -> Note {
    let mut bytes = checkpoint.to_vec();
    bytes.extend_from_slice(response.as_bytes());
    Note::parse(&bytes).unwrap()
}

#[tokio::test]
async fn first_checkpoint_is_cosigned_with_a_verifiable_nonzero_timestamp() {
    let mut f = fixture();
    f.grow(5);
    let cp = f.checkpoint();
    let (status, _, body) = f.add(0, &[], &cp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("— witness.test/w1 ") && body.ends_with('\n'));
    let verified = verify_cosignatures(&cosigned_note(&cp, &body), &[&f.witness_key]).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].timestamp, NOW);
}

#[tokio::test]
async fn consistent_growth_is_cosigned_and_served_to_monitors() {
    let mut f = fixture();
    f.grow(3);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    f.grow(10);
    let cp = f.checkpoint();
    let (status, _, body) = f.add(3, &f.proof(3), &cp).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, note) = get(&f.app, &format!("/checkpoint/{ORIGIN}")).await;
    assert_eq!(status, StatusCode::OK);
    let note = Note::parse(&note).unwrap();
    assert_eq!(Checkpoint::parse(&note.text).unwrap().size, 13);
    note.verify(&[&f.log.verifier() as &dyn NoteVerifier])
        .unwrap();
    assert_eq!(
        verify_cosignatures(&note, &[&f.witness_key]).unwrap().len(),
        1
    );
}

#[tokio::test]
async fn resubmitting_the_cosigned_checkpoint_is_cosigned_again() {
    let mut f = fixture();
    f.grow(4);
    let cp = f.checkpoint();
    assert_eq!(f.add(0, &[], &cp).await.0, StatusCode::OK);
    assert_eq!(f.add(4, &[], &cp).await.0, StatusCode::OK);
}

/// Re-sending the checkpoint the witness holds gets a fresh cosignature and writes
/// nothing: what monitors are served keeps the first cosignature's time.
#[tokio::test]
async fn resending_the_held_checkpoint_is_cosigned_fresh_without_a_write() {
    let now = Arc::new(std::sync::atomic::AtomicU64::new(NOW));
    let clock = now.clone();
    let mut f = fixture_with_clock(
        Store::in_memory().unwrap(),
        Arc::new(move || clock.load(std::sync::atomic::Ordering::SeqCst)),
    );
    f.grow(4);
    let cp = f.checkpoint();
    assert_eq!(f.add(0, &[], &cp).await.0, StatusCode::OK);
    now.store(NOW + 600, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = f.add(4, &[], &cp).await;
    assert_eq!(status, StatusCode::OK);
    let fresh = cosigned_note(&cp, &body);
    let fresh = glassbox_core::cosignature::verify_cosignatures(&fresh, &[&f.witness_key]).unwrap();
    assert_eq!(fresh[0].timestamp, NOW + 600);
    let (_, served) = get(&f.app, &format!("/checkpoint/{ORIGIN}")).await;
    let served = Note::parse(&served).unwrap();
    let held = glassbox_core::cosignature::verify_cosignatures(&served, &[&f.witness_key]).unwrap();
    assert_eq!(held[0].timestamp, NOW, "the held state was not rewritten");
}

#[tokio::test]
async fn unknown_origin_is_404() {
    let f = fixture();
    let other = NoteSigner::new("other.test/log", key(9)).unwrap();
    let cp = signed(&other, 1, leaf_hash(b"x"));
    assert_eq!(f.add(0, &[], &cp).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&f.app, "/checkpoint/other.test/log").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn checkpoint_signed_by_an_impostor_key_with_the_log_name_is_403() {
    let f = fixture();
    let impostor = NoteSigner::new(ORIGIN, key(7)).unwrap();
    let cp = signed(&impostor, 1, leaf_hash(b"x"));
    let (status, _, body) = f.add(0, &[], &cp).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn checkpoint_with_a_corrupted_log_signature_is_403() {
    let mut f = fixture();
    f.grow(2);
    let mut note = Note::parse(&f.checkpoint()).unwrap();
    note.signatures[0].signature[10] ^= 1;
    assert_eq!(
        f.add(0, &[], &note.to_bytes()).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn old_size_larger_than_the_checkpoint_is_400() {
    let mut f = fixture();
    f.grow(2);
    assert_eq!(
        f.add(3, &[], &f.checkpoint()).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let mut f = fixture();
    f.grow(2);
    let cp = f.checkpoint();
    let mut no_old = b"\n".to_vec();
    no_old.extend_from_slice(&cp);
    let mut leading_zero = b"old 00\n\n".to_vec();
    leading_zero.extend_from_slice(&cp);
    for body in [
        no_old,
        leading_zero,
        b"old 0\nnot-base64!\n\n".to_vec(),
        b"old 0\n\nnot a note".to_vec(),
        encode_add_checkpoint(
            0,
            &[],
            b"example.test/log\nnot a size\nAAAA\n\n\xe2\x80\x94 x AAAA\n",
        ),
    ] {
        let (status, _, text) = post(&f.app, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    }
}

#[tokio::test]
async fn stale_old_size_is_409_with_the_stored_size() {
    let mut f = fixture();
    f.grow(5);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    f.grow(3);
    let (status, content_type, body) = f.add(0, &[], &f.checkpoint()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(content_type, "text/x.tlog.size");
    assert_eq!(body, "5\n");
    let (status, _, body) = f.add(2, &f.proof(2), &f.checkpoint()).await;
    assert_eq!((status, body.as_str()), (StatusCode::CONFLICT, "5\n"));
}

#[tokio::test]
async fn same_size_with_a_different_root_is_409() {
    let mut f = fixture();
    f.grow(5);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    let fork = signed(&f.log, 5, leaf_hash(b"forked"));
    let (status, content_type, _) = f.add(5, &[], &fork).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_ne!(content_type, "text/x.tlog.size");
}

#[tokio::test]
async fn proof_with_a_flipped_bit_is_422() {
    let mut f = fixture();
    f.grow(5);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    f.grow(6);
    let mut proof = f.proof(5);
    proof[1][0] ^= 1;
    assert_eq!(
        f.add(5, &proof, &f.checkpoint()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let short = &f.proof(5)[1..];
    assert_eq!(
        f.add(5, short, &f.checkpoint()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn forked_history_is_refused_with_422() {
    let mut f = fixture();
    f.grow(5);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    // Same log key, different history from leaf 3 on.
    let mut fork = MemoryTree::new();
    for i in 0..9u64 {
        let data = if i < 3 {
            format!("entry {i}")
        } else {
            format!("forked {i}")
        };
        fork.push(leaf_hash(data.as_bytes()));
    }
    let proof = consistency_proof(5, 9, &fork).unwrap();
    let cp = signed(&f.log, 9, fork.root());
    assert_eq!(
        f.add(5, &proof, &cp).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // And the witness still holds the honest size.
    let (_, note) = get(&f.app, &format!("/checkpoint/{ORIGIN}")).await;
    let note = Note::parse(&note).unwrap();
    assert_eq!(Checkpoint::parse(&note.text).unwrap().size, 5);
}

#[tokio::test]
async fn nonempty_proof_from_size_zero_is_422() {
    let mut f = fixture();
    f.grow(4);
    assert_eq!(
        f.add(0, &[[0u8; 32]], &f.checkpoint()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let f = fixture();
    let body = vec![b'a'; glassbox_witness::MAX_BODY_BYTES + 1];
    assert_eq!(post(&f.app, body).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_from_the_same_old_size_cosign_exactly_one() {
    let mut f = fixture();
    let mut checkpoints = Vec::new();
    for _ in 0..8 {
        f.grow(1);
        checkpoints.push(f.checkpoint());
    }
    let tasks: Vec<_> = checkpoints
        .into_iter()
        .map(|cp| {
            let app = f.app.clone();
            tokio::spawn(async move { post(&app, encode_add_checkpoint(0, &[], &cp)).await.0 })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn reopened_state_refuses_to_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("witness.db");
    let mut f = fixture_with(Store::open(&path).unwrap());
    f.grow(6);
    assert_eq!(f.add(0, &[], &f.checkpoint()).await.0, StatusCode::OK);
    drop(f);

    let mut f = fixture_with(Store::open(&path).unwrap());
    f.grow(4);
    let (status, _, body) = f.add(0, &[], &f.checkpoint()).await;
    assert_eq!((status, body.as_str()), (StatusCode::CONFLICT, "6\n"));
}

#[tokio::test]
async fn cosignature_fails_with_flipped_timestamp_body_or_key() {
    let mut f = fixture();
    f.grow(3);
    let cp = f.checkpoint();
    let (_, _, line) = f.add(0, &[], &cp).await;
    let good = cosigned_note(&cp, &line);
    verify_cosignatures(&good, &[&f.witness_key]).unwrap();
    let witness_sig = good.signatures.last().unwrap().clone();

    // Flipped timestamp: the first byte after the key ID is the timestamp's top byte.
    let mut note = good.clone();
    note.signatures.last_mut().unwrap().signature[7] ^= 1;
    assert!(verify_cosignatures(&note, &[&f.witness_key]).is_err());

    // Flipped body: a different root in the checkpoint text.
    let mut note = good.clone();
    let tampered = Checkpoint {
        root: leaf_hash(b"other"),
        ..Checkpoint::parse(&good.text).unwrap()
    };
    note.text = tampered.to_text();
    assert!(verify_cosignatures(&note, &[&f.witness_key]).is_err());

    // Another key under the same name and key ID claim.
    let other = CosignatureSigner::new("witness.test/w1", key(3))
        .unwrap()
        .verifier();
    let relabelled = glassbox_core::note::NoteSignature {
        key_id: other.key_id(),
        ..witness_sig
    };
    let mut note = good.clone();
    *note.signatures.last_mut().unwrap() = relabelled;
    assert!(verify_cosignatures(&note, &[&other]).is_err());
}
