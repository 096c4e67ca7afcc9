//! A log built in memory for the verification engine's tests: participants, key
//! events, attestations, receipts with tlog-proofs and a signed checkpoint, exactly as
//! a server would serve them. Shared by `verify_engine.rs` and `verify_hostile.rs`.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use glassbox_core::bundle::{
    Bundle, BundleIndex, IndexLookup, Receipt, BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE_V2,
};
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::digest::{key_id_hex, Sha256Digest};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, IndexCommitment, IndexKey, Trie};
use glassbox_core::merkle::{inclusion_proof, leaf_hash, MemoryTree};
use glassbox_core::note::NoteSigner;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, ProvenancePredicate,
    ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest, SourceReview, SourceSubmission,
    SubmissionPredicate, Verdict as ReviewVerdict,
};
use glassbox_core::tlog_proof::TlogProof;
use glassbox_core::verify::{verify, Failure, PreviousCheckpoint, VerifyRequest};

pub const ORIGIN: &str = "glassbox.test/log";
pub const REPO: &str = "https://git.example/app";
pub const COMMIT_C: &str = "1111111111111111111111111111111111111111";
pub const TREE_C: &str = "2222222222222222222222222222222222222222";
pub const DIR_C: &str = "3333333333333333333333333333333333333333333333333333333333333333";
pub const COMMIT_D: &str = "4444444444444444444444444444444444444444";
pub const TREE_D: &str = "5555555555555555555555555555555555555555";
pub const DIR_D: &str = "6666666666666666666666666666666666666666666666666666666666666666";
pub const TIME: &str = "2026-11-01T12:00:00Z";
/// The verifier's clock in the tests: 2026-11-02T00:00:00Z, half a day after [`TIME`].
pub const NOW: u64 = 1_793_577_600;

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn id(key: &SigningKey) -> String {
    key_id_hex(&key.verifying_key())
}

/// The participants of every scenario.
pub struct People {
    pub operator: SigningKey,
    pub vendor: SigningKey,
    pub rebuilder: SigningKey,
    pub reviewer: SigningKey,
    pub latecomer: SigningKey,
}

pub fn people() -> People {
    People {
        operator: key(1),
        vendor: key(2),
        rebuilder: key(3),
        reviewer: key(4),
        latecomer: key(5),
    }
}

/// A log held in memory, appending envelopes and serving receipts and bundles.
pub struct TestLog {
    pub signer: NoteSigner,
    /// The key behind `signer`, which also signs the log's index commitments.
    pub log_key: SigningKey,
    pub tree: MemoryTree,
    pub entries: Vec<Envelope>,
    pub key_events: Vec<u64>,
}

impl TestLog {
    pub fn new(log_key: SigningKey) -> TestLog {
        TestLog {
            signer: NoteSigner::new(ORIGIN, log_key.clone()).unwrap(),
            log_key,
            tree: MemoryTree::new(),
            entries: Vec::new(),
            key_events: Vec::new(),
        }
    }

    pub fn vkey(&self) -> String {
        self.signer.verifier().to_string()
    }

    pub fn append(&mut self, envelope: Envelope) -> u64 {
        let index = self.tree.push(leaf_hash(&envelope.to_canonical_json()));
        if matches!(
            Attestation::from_envelope(&envelope),
            Ok((_, Attestation::KeyEvent(_)))
        ) {
            self.key_events.push(index);
        }
        self.entries.push(envelope);
        index
    }

    pub fn attest(&mut self, attestation: impl Into<Attestation>, keys: &[&SigningKey]) -> u64 {
        self.append(attestation.into().sign(keys).unwrap())
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.to_owned(),
            size: self.tree.size(),
            root: self.tree.root(),
            extensions: Vec::new(),
        }
    }

    pub fn signed_checkpoint(&self) -> Vec<u8> {
        self.checkpoint().sign(&self.signer).unwrap()
    }

    pub fn receipt(&self, index: u64, checkpoint: &[u8]) -> Receipt {
        let proof = TlogProof {
            extra: None,
            index,
            hashes: inclusion_proof(index, self.tree.size(), &self.tree).unwrap(),
            checkpoint: checkpoint.to_vec(),
        };
        Receipt {
            index,
            entry: self.entries[index as usize].to_value(),
            tlog_proof: proof.to_text(),
        }
    }

    /// A bundle of every attestation that is not a key event, plus every key event.
    pub fn bundle(&self, artifact: &Sha256Digest) -> Bundle {
        let checkpoint = self.signed_checkpoint();
        let entries = (0..self.tree.size())
            .filter(|&i| {
                !self.key_events.contains(&i)
                    && !IndexCommitment::is_commitment(&self.entries[i as usize])
            })
            .map(|i| self.receipt(i, &checkpoint))
            .collect();
        let key_events = self
            .key_events
            .iter()
            .map(|&i| self.receipt(i, &checkpoint))
            .collect();
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            artifact: artifact.to_string(),
            checkpoint: String::from_utf8(checkpoint).unwrap(),
            entries,
            key_events,
            index: None,
        }
    }
}

impl TestLog {
    /// Append the log's index commitment over every entry so far, as the log does
    /// at the end of each batch, filing entries by the documented mapping; entries
    /// in `skip` are left out of the index (a log that lies about its index).
    /// Returns the trie it committed to.
    pub fn commit_index(&mut self, skip: &[u64]) -> Trie {
        let mut trie = Trie::new();
        for (i, envelope) in self.entries.iter().enumerate() {
            let Ok((_, attestation)) = Attestation::from_envelope(envelope) else {
                continue; // earlier commitments are filed under no key
            };
            if skip.contains(&(i as u64)) {
                continue;
            }
            for key in keys_of(envelope, &attestation) {
                trie.append(key.hash(), i as u64);
            }
        }
        let commitment = IndexCommitment {
            origin: ORIGIN.to_owned(),
            size: self.tree.size(),
            root: trie.root(),
            keys: trie.len() as u64,
        };
        self.append(commitment.sign(&self.log_key).unwrap());
        trie
    }

    /// A version 2 bundle: [`TestLog::bundle`] after a fresh index commitment, with
    /// lookups for the artifact, every source its builds name, and the registry.
    pub fn bundle_v2(&mut self, artifact: &Sha256Digest) -> Bundle {
        self.bundle_v2_skipping(artifact, &[])
    }

    /// [`TestLog::bundle_v2`] from a log whose index leaves out `skip`.
    pub fn bundle_v2_skipping(&mut self, artifact: &Sha256Digest, skip: &[u64]) -> Bundle {
        self.release_bundle_skipping(artifact, &[], skip)
    }

    /// A release bundle: [`TestLog::bundle_v2`] for `artifact`, with lookups for each of
    /// `others` too (the rest of the release) and the sources their builds name.
    pub fn release_bundle(&mut self, artifact: &Sha256Digest, others: &[Sha256Digest]) -> Bundle {
        self.release_bundle_skipping(artifact, others, &[])
    }

    fn release_bundle_skipping(
        &mut self,
        artifact: &Sha256Digest,
        others: &[Sha256Digest],
        skip: &[u64],
    ) -> Bundle {
        let mut trie = self.commit_index(skip);
        let mut bundle = self.bundle(artifact);
        let commitment_index = self.tree.size() - 1;
        let release: Vec<&Sha256Digest> = std::iter::once(artifact).chain(others).collect();
        let mut keys: Vec<IndexKey> = release
            .iter()
            .map(|a| IndexKey::Artifact(a.hex()))
            .collect();
        keys.push(IndexKey::Registry);
        for envelope in &self.entries {
            if let Ok((_, Attestation::Build(b))) = Attestation::from_envelope(envelope) {
                if b.subjects.iter().any(|s| release.contains(&&s.sha256)) {
                    for dep in &b.predicate.build_definition.resolved_dependencies {
                        keys.push(IndexKey::Source(dep.digest.dir_hash.clone()));
                    }
                }
            }
        }
        keys.sort();
        keys.dedup();
        let lookups = keys
            .into_iter()
            .map(|key| {
                let proof = trie.prove(&key.hash());
                let indices = (0..commitment_index)
                    .filter(|i| {
                        !skip.contains(i)
                            && Attestation::from_envelope(&self.entries[*i as usize])
                                .map(|(_, a)| {
                                    keys_of(&self.entries[*i as usize], &a).contains(&key)
                                })
                                .unwrap_or(false)
                    })
                    .collect();
                IndexLookup {
                    key: key.to_string(),
                    indices,
                    proof,
                }
            })
            .collect();
        bundle.media_type = BUNDLE_MEDIA_TYPE_V2.to_owned();
        bundle.index = Some(BundleIndex {
            commitment: self.receipt(commitment_index, bundle.checkpoint.as_bytes()),
            lookups,
        });
        bundle
    }
}

/// `operator` registers `who` with `roles`, under an organisation of its own
/// ("Organisation <seed>"), so that every participant is independent unless a test
/// says otherwise ([`register_in`]).
pub fn register(
    log: &mut TestLog,
    operator: &SigningKey,
    who: &SigningKey,
    roles: Vec<Role>,
) -> u64 {
    let org = format!("Organisation {}", who.to_bytes()[0]);
    register_in(log, operator, who, &org, roles)
}

/// `operator` registers `who` with `roles` as a member of `organisation`.
pub fn register_in(
    log: &mut TestLog,
    operator: &SigningKey,
    who: &SigningKey,
    organisation: &str,
    roles: Vec<Role>,
) -> u64 {
    let event = KeyEvent::register(&who.verifying_key(), "someone", organisation, roles).unwrap();
    log.attest(event, &[operator])
}

pub fn source(commit: &str, tree: &str, dir: &str) -> SourceDigest {
    SourceDigest::from_git(commit, tree, dir)
}

pub fn submission(src: SourceDigest) -> SourceSubmission {
    SourceSubmission::new(
        src,
        SubmissionPredicate {
            repository: REPO.to_owned(),
            product: "app".to_owned(),
            version: "1.0.0".to_owned(),
            review_request: ReviewRequest {
                scope: Scope::Full,
                notes: None,
            },
            submitted_at: TIME.to_owned(),
        },
    )
    .unwrap()
}

pub fn review(src: SourceDigest, verdict: ReviewVerdict) -> SourceReview {
    SourceReview::new(
        src,
        ReviewPredicate {
            repository: REPO.to_owned(),
            scope: Scope::Full,
            verdict,
            findings: None,
            report_digest: None,
            reviewed_at: TIME.to_owned(),
        },
    )
    .unwrap()
}

pub fn build(artifact: &Sha256Digest, src: SourceDigest, builder: &str) -> Build {
    Build::new(
        vec![ArtifactSubject {
            name: "app".to_owned(),
            sha256: *artifact,
        }],
        ProvenancePredicate::new(BuildRecipe::new("make", "out/app"), REPO, src, builder),
    )
    .unwrap()
}

pub fn artifact() -> Sha256Digest {
    Sha256Digest::of(b"the shipped binary")
}

/// A log holding only its genesis: the operator registering itself.
pub fn genesis_log(p: &People) -> TestLog {
    let mut log = TestLog::new(key(100));
    let genesis = KeyEvent::register(
        &p.operator.verifying_key(),
        "op",
        "Log Co",
        vec![Role::Operator],
    )
    .unwrap();
    log.attest(genesis, &[&p.operator]);
    log
}

/// The organisation [`register`] gives `who`.
pub fn org_of(who: &SigningKey) -> String {
    format!("Organisation {}", who.to_bytes()[0])
}

/// The log of the happy story up to (not including) the review and the builds:
/// genesis, registrations of vendor, rebuilder and reviewer, the source submission.
pub fn registered_log(p: &People) -> TestLog {
    log_with_orgs(
        p,
        &org_of(&p.vendor),
        &org_of(&p.rebuilder),
        &org_of(&p.reviewer),
    )
}

/// [`registered_log`] with the vendor, rebuilder and reviewer registered as members of
/// the organisations given.
pub fn log_with_orgs(p: &People, vendor: &str, rebuilder: &str, reviewer: &str) -> TestLog {
    let mut log = genesis_log(p);
    register_in(&mut log, &p.operator, &p.vendor, vendor, vec![Role::Vendor]);
    register_in(
        &mut log,
        &p.operator,
        &p.rebuilder,
        rebuilder,
        vec![Role::Builder],
    );
    register_in(
        &mut log,
        &p.operator,
        &p.reviewer,
        reviewer,
        vec![Role::Reviewer],
    );
    log.attest(submission(source(COMMIT_C, TREE_C, DIR_C)), &[&p.vendor]);
    log
}

/// The full happy story: reviewer approves C, vendor and rebuilder build from C.
pub fn happy_log(p: &People) -> TestLog {
    let mut log = registered_log(p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    add_builds(&mut log, p, DIR_C, DIR_C);
    log
}

pub fn add_builds(log: &mut TestLog, p: &People, vendor_dir: &str, rebuilder_dir: &str) {
    let src = |dir: &str| {
        if dir == DIR_C {
            source(COMMIT_C, TREE_C, DIR_C)
        } else {
            source(COMMIT_D, TREE_D, DIR_D)
        }
    };
    log.attest(
        build(&artifact(), src(vendor_dir), "vendor-ci"),
        &[&p.vendor],
    );
    log.attest(
        build(&artifact(), src(rebuilder_dir), "rebuilder"),
        &[&p.rebuilder],
    );
}

pub fn run(log: &TestLog, policy: &TrustPolicy) -> glassbox_core::verify::Verdict {
    check(&log.bundle(&artifact()), policy, None)
}

/// Verifies the story's artifact against `bundle`.
pub fn check(
    bundle: &Bundle,
    policy: &TrustPolicy,
    previous: Option<&PreviousCheckpoint>,
) -> glassbox_core::verify::Verdict {
    verify(VerifyRequest {
        artifact: &artifact(),
        bundle,
        policy,
        previous,
        local_rebuild: None,
        now: NOW,
    })
}

pub fn policy(log: &TestLog) -> TrustPolicy {
    TrustPolicy::with_log(log.vkey())
}

pub fn assert_fails_with(
    verdict: &glassbox_core::verify::Verdict,
    pred: impl Fn(&Failure) -> bool,
) {
    assert!(!verdict.verified(), "expected a failure, got {verdict:#?}");
    assert!(
        verdict.failures.iter().any(pred),
        "expected failure not among {:#?}",
        verdict.failures
    );
}
