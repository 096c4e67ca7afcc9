//! An in-memory log for unit tests: a Merkle tree, a log key, signed checkpoints and
//! receipts made the way the server makes them, with a standard story of
//! participants (operator, vendor, independent builder, reviewer).

use ed25519_dalek::SigningKey;
use glassbox_core::bundle::{Bundle, Receipt, BUNDLE_MEDIA_TYPE};
use glassbox_core::checkpoint::{Checkpoint, SignedCheckpoint};
use glassbox_core::digest::{key_id_hex, Sha256Digest};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, IndexCommitment, Trie};
use glassbox_core::merkle::{consistency_proof, inclusion_proof, leaf_hash, MemoryTree};
use glassbox_core::note::NoteSigner;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, ProvenancePredicate,
    ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest, SourceReview, SourceSubmission,
    SubmissionPredicate, Verdict,
};
use glassbox_core::tlog_proof::TlogProof;
use glassbox_core::verify::ConsistencyProof;

pub const ORIGIN: &str = "test.example/log";
pub const REPO: &str = "https://example.com/app.git";
pub const COMMIT: &str = "1111111111111111111111111111111111111111";
pub const TREE: &str = "2222222222222222222222222222222222222222";
pub const DIR_HASH: &str = "3333333333333333333333333333333333333333333333333333333333333333";
pub const TIME: &str = "2026-01-01T00:00:00Z";

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub struct TestLog {
    pub signer: NoteSigner,
    /// The key behind `signer`, which also signs index commitments.
    pub log_key: SigningKey,
    pub tree: MemoryTree,
    pub leaves: Vec<Vec<u8>>,
    pub operator: SigningKey,
    pub vendor: SigningKey,
    pub builder: SigningKey,
    pub reviewer: SigningKey,
}

impl TestLog {
    /// A log whose first entries register the operator (genesis), a vendor, an
    /// independent builder and a reviewer.
    pub fn new() -> TestLog {
        Self::with_log_key(key(100))
    }

    pub fn with_log_key(log_key: SigningKey) -> TestLog {
        let mut log = TestLog {
            signer: NoteSigner::new(ORIGIN, log_key.clone()).expect("log key"),
            log_key,
            tree: MemoryTree::new(),
            leaves: Vec::new(),
            operator: key(1),
            vendor: key(2),
            builder: key(3),
            reviewer: key(4),
        };
        let op = log.operator.clone();
        log.register(&op, "Operator", Role::Operator);
        let vendor = log.vendor.verifying_key();
        let builder = log.builder.verifying_key();
        let reviewer = log.reviewer.verifying_key();
        log.append_signed(
            &KeyEvent::register(&vendor, "Vendor", "V Inc", vec![Role::Vendor]).expect("reg"),
            &op,
        );
        log.append_signed(
            &KeyEvent::register(&builder, "Rebuilder", "B Ltd", vec![Role::Builder]).expect("reg"),
            &op,
        );
        log.append_signed(
            &KeyEvent::register(&reviewer, "Reviewer", "R GmbH", vec![Role::Reviewer])
                .expect("reg"),
            &op,
        );
        log
    }

    fn register(&mut self, key: &SigningKey, name: &str, role: Role) {
        let event =
            KeyEvent::register(&key.verifying_key(), name, "Org", vec![role]).expect("register");
        self.append_signed(&event, key);
    }

    /// The consistency proof from `from` to `to` as a server holding this log would
    /// answer it: unavailable for a size it does not hold.
    pub fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        if to > self.tree.size() {
            return ConsistencyProof::Unavailable(format!("400: tree size {to} is not held"));
        }
        match consistency_proof(from, to, &self.tree) {
            Ok(proof) => ConsistencyProof::Proof(proof),
            Err(err) => ConsistencyProof::Unavailable(err.to_string()),
        }
    }

    pub fn vkey(&self) -> String {
        self.signer.verifier().to_string()
    }

    pub fn policy(&self) -> TrustPolicy {
        TrustPolicy::with_log(self.vkey())
    }

    pub fn append_signed(&mut self, event: &KeyEvent, key: &SigningKey) -> u64 {
        let env = Attestation::KeyEvent(event.clone())
            .sign(&[key])
            .expect("sign");
        self.append(&env)
    }

    pub fn append(&mut self, envelope: &Envelope) -> u64 {
        let leaf = envelope.to_canonical_json();
        self.leaves.push(leaf.clone());
        self.tree.push(leaf_hash(&leaf))
    }

    /// Appends the log's index commitment over every entry so far, as the log does at
    /// the end of a batch; `wrong_root` makes it commit to another root (a log lying
    /// about its index). Returns the commitment's index.
    pub fn commit_index(&mut self, wrong_root: bool) -> u64 {
        let mut trie = Trie::new();
        for (i, leaf) in self.leaves.iter().enumerate() {
            let env = Envelope::from_json(leaf).expect("envelope");
            if let Ok((_, attestation)) = Attestation::from_envelope(&env) {
                for key in keys_of(&env, &attestation) {
                    trie.append(key.hash(), i as u64);
                }
            }
        }
        let mut root = trie.root();
        if wrong_root {
            root[0] ^= 1;
        }
        let commitment = IndexCommitment {
            origin: ORIGIN.to_owned(),
            size: self.tree.size(),
            root,
            keys: trie.len() as u64,
        };
        let envelope = commitment.sign(&self.log_key).expect("sign commitment");
        self.append(&envelope)
    }

    /// Appends the standard story for `artifact`: submission, approving review, a
    /// vendor build and an independent build.
    pub fn story(&mut self, artifact: Sha256Digest) {
        self.story_with(artifact, Verdict::Approved, true);
    }

    /// The story of another release, `name`: its own artifact built from its own
    /// source tree (so the log grows without contradicting the first release).
    pub fn release(&mut self, name: &[u8]) {
        let digest = Sha256Digest::of(name).hex();
        let source = SourceDigest::from_git(&digest[..40], &digest[24..], &digest);
        self.story_of(Sha256Digest::of(name), source, Verdict::Approved, true);
    }

    /// The story with the review's `verdict`, and the independent build only when
    /// `independent`.
    pub fn story_with(&mut self, artifact: Sha256Digest, verdict: Verdict, independent: bool) {
        let source = SourceDigest::from_git(COMMIT, TREE, DIR_HASH);
        self.story_of(artifact, source, verdict, independent);
    }

    fn story_of(
        &mut self,
        artifact: Sha256Digest,
        source: SourceDigest,
        verdict: Verdict,
        independent: bool,
    ) {
        let submission = SourceSubmission::new(
            source.clone(),
            SubmissionPredicate {
                repository: REPO.to_owned(),
                product: "app".to_owned(),
                version: "1.0".to_owned(),
                review_request: ReviewRequest {
                    scope: Scope::Full,
                    notes: None,
                },
                submitted_at: TIME.to_owned(),
            },
        )
        .expect("submission");
        let vendor = self.vendor.clone();
        self.append_attestation(submission.into(), &vendor);
        let review = review_of(source.clone(), verdict);
        let reviewer = self.reviewer.clone();
        self.append_attestation(review, &reviewer);
        let vendor_build = build_of(artifact, source.clone(), "https://vendor.example");
        self.append_attestation(vendor_build, &vendor);
        if independent {
            let builder = self.builder.clone();
            let rebuild = build_of(artifact, source, "https://rebuild.example");
            self.append_attestation(rebuild, &builder);
        }
    }

    pub fn review(&self, verdict: Verdict) -> Attestation {
        review_of(SourceDigest::from_git(COMMIT, TREE, DIR_HASH), verdict)
    }

    pub fn append_attestation(&mut self, attestation: Attestation, key: &SigningKey) -> u64 {
        let env = attestation.sign(&[key]).expect("sign");
        self.append(&env)
    }

    /// The signed checkpoint of the current tree.
    pub fn checkpoint(&self) -> Vec<u8> {
        Checkpoint {
            origin: ORIGIN.to_owned(),
            size: self.tree.size(),
            root: self.tree.root(),
            extensions: Vec::new(),
        }
        .sign(&self.signer)
        .expect("sign checkpoint")
    }

    pub fn signed_checkpoint(&self) -> SignedCheckpoint {
        SignedCheckpoint::parse_unverified(&self.checkpoint()).expect("parse")
    }

    pub fn receipt(&self, index: u64, checkpoint: &[u8]) -> Receipt {
        let proof = TlogProof {
            extra: None,
            index,
            hashes: inclusion_proof(index, self.tree.size(), &self.tree).expect("proof"),
            checkpoint: checkpoint.to_vec(),
        };
        Receipt {
            index,
            entry: serde_json::from_slice(&self.leaves[index as usize]).expect("json"),
            tlog_proof: proof.to_text(),
        }
    }

    /// A bundle of every entry of the log for `artifact`, against the current tree.
    pub fn bundle(&self, artifact: Sha256Digest) -> Bundle {
        let checkpoint = self.checkpoint();
        let mut entries = Vec::new();
        let mut key_events = Vec::new();
        for (i, leaf) in self.leaves.iter().enumerate() {
            let env = Envelope::from_json(leaf).expect("envelope");
            let receipt = self.receipt(i as u64, &checkpoint);
            match Attestation::from_envelope(&env) {
                Ok((_, Attestation::KeyEvent(_))) => key_events.push(receipt),
                Ok(_) => entries.push(receipt),
                Err(_) => {} // an index commitment: not evidence
            }
        }
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            artifact: artifact.to_string(),
            checkpoint: String::from_utf8(checkpoint).expect("utf8"),
            entries,
            key_events,
            index: None,
        }
    }
}

fn review_of(source: SourceDigest, verdict: Verdict) -> Attestation {
    SourceReview::new(
        source,
        ReviewPredicate {
            repository: REPO.to_owned(),
            scope: Scope::Full,
            verdict,
            findings: None,
            report_digest: None,
            reviewed_at: TIME.to_owned(),
        },
    )
    .expect("review")
    .into()
}

fn build_of(artifact: Sha256Digest, source: SourceDigest, builder_id: &str) -> Attestation {
    Build::new(
        vec![ArtifactSubject {
            name: "app".to_owned(),
            sha256: artifact,
        }],
        ProvenancePredicate::new(
            BuildRecipe::new("make", "out/app"),
            REPO,
            source,
            builder_id,
        ),
    )
    .expect("build")
    .into()
}

pub fn key_id(key: &SigningKey) -> String {
    key_id_hex(&key.verifying_key())
}
