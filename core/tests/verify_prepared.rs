//! A release verified through one `Prepared` bundle: every file gets the verdict
//! `verify` gives it alone — on the genuine evidence and on evidence tampered with
//! for one file of the release — however many files were judged before it.

mod verify_support;

use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::statement::{
    ArtifactSubject, Build, BuildRecipe, ProvenancePredicate, Verdict as ReviewVerdict,
};
use glassbox_core::verify::{
    verify, ConsistencyProof, Failure, Prepared, PreviousCheckpoint, VerifyRequest,
};
use verify_support::*;

fn file(name: &str) -> Sha256Digest {
    Sha256Digest::of(name.as_bytes())
}

/// `bin/app`, `lib/a.so`, and `lib/b.so` with the same bytes as `lib/a.so`.
fn release() -> Vec<ArtifactSubject> {
    [
        ("bin/app", "app"),
        ("lib/a.so", "shared"),
        ("lib/b.so", "shared"),
    ]
    .map(|(name, bytes)| ArtifactSubject {
        name: name.to_owned(),
        sha256: file(bytes),
    })
    .to_vec()
}

fn release_build(subjects: Vec<ArtifactSubject>, builder: &str) -> Build {
    Build::new(
        subjects,
        ProvenancePredicate::new(
            BuildRecipe::new("make release", "out"),
            REPO,
            source(COMMIT_C, TREE_C, DIR_C),
            builder,
        ),
    )
    .unwrap()
}

/// The happy story for a release attested in one build by the vendor and one by the
/// rebuilder, and its release bundle (made for `bin/app`).
fn release_log() -> (TestLog, Bundle) {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    log.attest(release_build(release(), "vendor-ci"), &[&p.vendor]);
    log.attest(release_build(release(), "rebuilder"), &[&p.rebuilder]);
    let bundle = log.release_bundle(&file("app"), &[file("shared")]);
    (log, bundle)
}

/// The release's digests, one not built by anyone, and the first again.
fn digests() -> Vec<Sha256Digest> {
    vec![file("app"), file("shared"), file("not built"), file("app")]
}

/// Each digest's verdict through one `Prepared`, against `verify` on its own, with no
/// remembered checkpoint and with the bundle's own remembered.
fn assert_prepared_agrees(bundle: &Bundle, policy: &TrustPolicy) {
    let prepared = Prepared::new(bundle, policy);
    let signed =
        glassbox_core::checkpoint::SignedCheckpoint::parse_unverified(bundle.checkpoint.as_bytes())
            .unwrap();
    let same = PreviousCheckpoint {
        checkpoint: signed.checkpoint,
        proof: ConsistencyProof::Proof(Vec::new()),
    };
    for previous in [None, Some(&same)] {
        for digest in digests() {
            let alone = verify(VerifyRequest {
                artifact: &digest,
                bundle,
                policy,
                previous,
                local_rebuild: None,
                now: NOW,
            });
            let shared = prepared.verify(&digest, previous, None, NOW);
            assert_eq!(shared, alone, "{digest}");
        }
    }
}

#[test]
fn every_file_of_a_genuine_release_gets_the_verdict_verify_gives_it_alone() {
    let (log, bundle) = release_log();
    let policy = policy(&log);
    assert_prepared_agrees(&bundle, &policy);
    let prepared = Prepared::new(&bundle, &policy);
    assert!(prepared.verify(&file("app"), None, None, NOW).verified());
    assert!(prepared.verify(&file("shared"), None, None, NOW).verified());
    let missing = prepared.verify(&file("not built"), None, None, NOW);
    assert!(missing.failures.contains(&Failure::NoBuild), "{missing:?}");
}

#[test]
fn a_file_with_two_names_is_attested_under_both_by_each_counted_build() {
    let (log, bundle) = release_log();
    let policy = policy(&log);
    let prepared = Prepared::new(&bundle, &policy);
    let verdict = prepared.verify(&file("shared"), None, None, NOW);
    assert_eq!(verdict.builds.len(), 2);
    for link in &verdict.builds {
        assert_eq!(
            prepared.subject_names(link.index, &file("shared")),
            ["lib/a.so", "lib/b.so"]
        );
    }
}

#[test]
fn a_tampered_lookup_fails_its_file_alone_as_verify_fails_it() {
    let (log, mut bundle) = release_log();
    let key = glassbox_core::index::IndexKey::Artifact(file("shared").hex()).to_string();
    let index = bundle.index.as_mut().unwrap();
    let lookup = index.lookups.iter_mut().find(|l| l.key == key).unwrap();
    lookup.indices.pop();
    let policy = policy(&log);
    assert_prepared_agrees(&bundle, &policy);
    let prepared = Prepared::new(&bundle, &policy);
    assert!(prepared.verify(&file("app"), None, None, NOW).verified());
    let shared = prepared.verify(&file("shared"), None, None, NOW);
    assert!(
        shared
            .failures
            .iter()
            .any(|f| matches!(f, Failure::BadIndexProof { .. })),
        "{shared:?}"
    );
}

#[test]
fn a_withheld_build_and_a_forged_checkpoint_fail_every_file_as_verify_fails_it() {
    let (log, bundle) = release_log();
    let policy = policy(&log);
    let rebuild = bundle.entries.last().unwrap().index;
    let mut withheld = bundle.clone();
    withheld.entries.retain(|r| r.index != rebuild);
    assert_prepared_agrees(&withheld, &policy);
    let mut forged = bundle;
    forged.checkpoint = forged.checkpoint.replacen(ORIGIN, "glassbox.test/other", 1);
    assert_prepared_agrees(&forged, &policy);
}

#[test]
fn bundles_opened_together_give_each_file_the_verdict_verify_gives_it_with_its_bundle() {
    let (log, bundle) = release_log();
    let policy = policy(&log);
    // The same evidence made for another file, and with one file's lookup tampered
    // with: each takes the evidence opened for the first bundle.
    let mut other = bundle.clone();
    other.artifact = file("shared").to_string();
    let mut tampered = bundle.clone();
    let key = glassbox_core::index::IndexKey::Artifact(file("shared").hex()).to_string();
    let index = tampered.index.as_mut().unwrap();
    let lookup = index.lookups.iter_mut().find(|l| l.key == key).unwrap();
    lookup.indices.pop();
    // Other evidence, opened on its own: the rebuilder's build withheld.
    let rebuild = bundle.entries.last().unwrap().index;
    let mut withheld = bundle.clone();
    withheld.entries.retain(|r| r.index != rebuild);

    let bundles = vec![bundle, other, tampered, withheld];
    let opened = Prepared::owned_all(bundles.clone(), &policy);
    for (bundle, prepared) in bundles.iter().zip(&opened) {
        for digest in digests() {
            let alone = verify(VerifyRequest {
                artifact: &digest,
                bundle,
                policy: &policy,
                previous: None,
                local_rebuild: None,
                now: NOW,
            });
            assert_eq!(prepared.verify(&digest, None, None, NOW), alone, "{digest}");
        }
    }
    assert!(opened[1]
        .verify(&file("shared"), None, None, NOW)
        .verified());
    assert!(!opened[2]
        .verify(&file("shared"), None, None, NOW)
        .verified());
    assert!(opened[2].verify(&file("app"), None, None, NOW).verified());
    assert!(!opened[3].verify(&file("app"), None, None, NOW).verified());
}
