//! `verify`'s client-side logic against bundles made by an in-memory log.

use glassbox_core::statement::Verdict as ReviewVerdict;
use glassbox_core::verify::Consistency;
use glassbox_core::verify::ConsistencyProof;

use super::check::{check, Checked, Offline, ProofSource};
use super::render::render;
use super::*;
use crate::testlog::{key, TestLog, ORIGIN};

/// Consistency proofs served from a test log, as the server would.
struct Proofs<'a>(&'a TestLog);

impl ProofSource for Proofs<'_> {
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        self.0.consistency(from, to)
    }
    fn label(&self) -> String {
        "test log".to_owned()
    }
}

fn artifact() -> Sha256Digest {
    Sha256Digest::of(b"the app binary")
}

fn story_log() -> TestLog {
    let mut log = TestLog::new();
    log.story(artifact());
    log
}

fn run_check(log: &TestLog, state: &StateDir, proofs: &dyn ProofSource) -> Checked {
    check(
        &artifact(),
        &log.bundle(artifact()),
        &log.policy(),
        state,
        proofs,
        None,
    )
    .expect("check")
}

fn codes(checked: &Checked) -> Vec<String> {
    let json = serde_json::to_value(&checked.verdict).expect("json");
    json["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect()
}

#[test]
fn a_well_attested_artifact_verifies_and_its_checkpoint_is_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let log = story_log();
    let checked = run_check(&log, &state, &Offline("b.json".into()));
    assert!(checked.verdict.verified(), "{:?}", checked.verdict.failures);
    assert_eq!(checked.verdict.consistency, Consistency::FirstSeen);
    assert!(checked.remembered);
    let stored = state
        .load_checkpoint(&log.signer.verifier())
        .expect("load")
        .expect("remembered");
    assert_eq!(stored.checkpoint.size, log.tree.size());

    let text = render(&checked.verdict, "app", &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "VERIFIED");
    assert!(!text.contains('✗'), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("  built by")).count(),
        2,
        "{text}"
    );
    assert!(
        text.contains(&format!("  artifact   {}  app", artifact())),
        "{text}"
    );
    assert!(
        text.contains("commit 1111111111111111111111111111111111111111 dirHash 3333"),
        "{text}"
    );
    assert!(text.contains("(app 1.0, entry 4)"), "{text}");
    assert!(text.contains("  reviewed   Reviewer (R GmbH)"), "{text}");
    assert!(
        text.contains(&format!("  log        {ORIGIN} checkpoint size 8")),
        "{text}"
    );
    assert!(text.contains("  witnesses  none"), "{text}");
}

#[test]
fn a_grown_log_is_proven_consistent_online_and_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    run_check(&log, &state, &Proofs(&log));
    log.release(b"another release");
    let checked = run_check(&log, &state, &Proofs(&log));
    assert!(checked.verdict.verified(), "{:?}", checked.verdict.failures);
    assert_eq!(
        checked.verdict.consistency,
        Consistency::Proven {
            previous_size: 8,
            size: 12
        }
    );
    assert!(checked.remembered);
}

#[test]
fn a_grown_log_offline_is_unproven_and_state_does_not_move() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    run_check(&log, &state, &Offline("b".into()));
    log.release(b"another release");
    let checked = run_check(&log, &state, &Offline("b".into()));
    assert!(matches!(
        checked.verdict.consistency,
        Consistency::Unproven { .. }
    ));
    assert!(!checked.remembered);
    let text = render(&checked.verdict, "app", &[]);
    assert!(text.contains("NOT proven consistent"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("  ! ")), "{text}");
}

#[test]
fn an_older_bundle_than_the_state_is_stale_and_state_stays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let old = story_log();
    let mut newer = story_log();
    newer.release(b"another release");
    state
        .save_checkpoint(&newer.signed_checkpoint())
        .expect("save");
    for proofs in [&Proofs(&newer) as &dyn ProofSource, &Offline("b".into())] {
        let checked = run_check(&old, &state, proofs);
        assert_eq!(codes(&checked), ["stale"]);
        assert_eq!(
            checked.verdict.consistency,
            Consistency::Stale {
                previous_size: 12,
                size: 8
            }
        );
        assert!(!checked.remembered, "state must never move backwards");
    }
}

#[test]
fn a_grown_log_whose_server_withholds_the_proof_fails_and_is_not_remembered() {
    struct Withholding;
    impl ProofSource for Withholding {
        fn consistency(&self, _: u64, _: u64) -> ConsistencyProof {
            ConsistencyProof::Unavailable("the server answered 400".to_owned())
        }
        fn label(&self) -> String {
            "withholding".to_owned()
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    run_check(&log, &state, &Proofs(&log));
    log.release(b"another release");
    let checked = run_check(&log, &state, &Withholding);
    assert_eq!(codes(&checked), ["consistencyUnproven"]);
    assert!(!checked.remembered);
    let stored = state
        .load_checkpoint(&log.signer.verifier())
        .expect("load")
        .expect("kept");
    assert_eq!(stored.checkpoint.size, 8);
}

#[test]
fn the_state_lock_is_exclusive_while_a_verification_holds_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let guard = state.lock(ORIGIN).expect("lock");
    let lock_file = std::fs::read_dir(dir.path().join("checkpoints"))
        .expect("checkpoints dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "lock"))
        .expect("lock file");
    let other = std::fs::File::open(&lock_file).expect("open lock file");
    assert!(other.try_lock().is_err(), "a second holder must wait");
    drop(guard);
    other.try_lock().expect("free once the guard is dropped");
}

#[test]
fn concurrent_verifications_never_move_the_state_backwards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    // One log, its bundles at eight sizes, verified at once in every order the
    // scheduler picks; the state must end at the largest, consistent all the way.
    let mut log = story_log();
    let mut snapshots = Vec::new();
    for i in 0..8u8 {
        log.release(&[i]);
        snapshots.push((log.bundle(artifact()), log.tree.size()));
    }
    let largest = log.tree.size();
    std::thread::scope(|scope| {
        for (bundle, _) in &snapshots {
            let (state, log) = (&state, &log);
            scope.spawn(move || {
                check(
                    &artifact(),
                    bundle,
                    &log.policy(),
                    state,
                    &Proofs(log),
                    None,
                )
                .expect("check")
            });
        }
    });
    let stored = state
        .load_checkpoint(&log.signer.verifier())
        .expect("load")
        .expect("remembered");
    assert_eq!(stored.checkpoint.size, largest);
}

#[test]
fn a_forked_log_is_a_split_view_with_evidence_and_state_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let honest = story_log();
    run_check(&honest, &state, &Proofs(&honest));
    // Same log key, a different history that is larger than the one seen.
    let mut fork = TestLog::new();
    fork.release(b"other");
    fork.story(artifact());
    let checked = run_check(&fork, &state, &Proofs(&fork));
    assert_eq!(checked.verdict.consistency, Consistency::SplitView);
    assert_eq!(codes(&checked), ["splitView"]);
    let evidence = checked.evidence.as_ref().expect("evidence saved");
    for file in ["previous.checkpoint", "current.checkpoint", "proof.json"] {
        assert!(evidence.join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        std::fs::read(evidence.join("previous.checkpoint")).expect("read"),
        honest.checkpoint()
    );
    assert!(!checked.remembered);
    let stored = state
        .load_checkpoint(&honest.signer.verifier())
        .expect("load")
        .expect("kept");
    assert_eq!(stored.checkpoint.root, honest.tree.root());
    let text = render(&checked.verdict, "app", &[]);
    assert!(text.starts_with("NOT VERIFIED\n  ✗ split view"), "{text}");
}

#[test]
fn same_size_different_root_is_a_split_view_even_offline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let honest = story_log();
    run_check(&honest, &state, &Offline("a".into()));
    let mut fork = TestLog::new();
    fork.story_with(artifact(), ReviewVerdict::ApprovedWithFindings, true);
    let checked = run_check(&fork, &state, &Offline("b".into()));
    assert_eq!(codes(&checked), ["splitView"]);
    assert!(checked.evidence.is_some());
}

#[test]
fn a_bundle_for_another_artifact_fails_with_no_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = story_log();
    let modified = Sha256Digest::of(b"the app binary, one byte changed");
    let checked = check(
        &modified,
        &log.bundle(artifact()),
        &log.policy(),
        &StateDir::new(dir.path()),
        &Offline("b".into()),
        None,
    )
    .expect("check");
    assert_eq!(codes(&checked), ["noBuild"]);
    let text = render(&checked.verdict, "app", &[]);
    assert_eq!(text.lines().next(), Some("NOT VERIFIED"));
    assert!(
        text.contains("  ✗ no logged build attestation names this artifact"),
        "{text}"
    );
}

#[test]
fn a_checkpoint_signed_by_another_key_fails_and_is_not_remembered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut impostor = TestLog::with_log_key(key(99));
    impostor.story(artifact());
    let trusted = TestLog::new();
    let checked = check(
        &artifact(),
        &impostor.bundle(artifact()),
        &trusted.policy(),
        &state,
        &Offline("b".into()),
        None,
    )
    .expect("check");
    assert_eq!(codes(&checked), ["badLogSignature"]);
    assert!(!checked.remembered);
    assert!(state
        .load_checkpoint(&trusted.signer.verifier())
        .expect("load")
        .is_none());
}

#[test]
fn only_the_vendor_building_is_too_few_builders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = TestLog::new();
    log.story_with(artifact(), ReviewVerdict::Approved, false);
    let checked = run_check(&log, &StateDir::new(dir.path()), &Offline("b".into()));
    assert_eq!(
        codes(&checked),
        ["tooFewBuilders", "tooFewIndependentBuilders"]
    );
    // The checkpoint is the log's even though the artifact fails: it is remembered.
    assert!(checked.remembered);
}

#[test]
fn a_rejecting_review_fails_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = TestLog::new();
    log.story_with(artifact(), ReviewVerdict::Rejected, true);
    let checked = run_check(&log, &StateDir::new(dir.path()), &Offline("b".into()));
    let codes = codes(&checked);
    assert!(
        codes.contains(&"reviewRejected".to_owned())
            || codes.contains(&"noApprovedReview".to_owned()),
        "{codes:?}"
    );
    let text = render(&checked.verdict, "app", &[]);
    let failure_lines = text.lines().filter(|l| l.starts_with("  ✗ ")).count();
    assert_eq!(failure_lines, codes.len(), "{text}");
}

#[test]
fn json_output_is_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = story_log();
    let checked = run_check(&log, &StateDir::new(dir.path()), &Offline("b".into()));
    let json = serde_json::to_value(&checked.verdict).expect("json");
    assert_eq!(json["artifact"], artifact().to_string());
    assert_eq!(json["consistency"]["status"], "firstSeen");
    assert_eq!(json["failures"], serde_json::json!([]));
    assert_eq!(json["builds"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["checkpoint"]["size"], 8);
}

#[test]
fn a_rebuild_divergence_is_a_named_failure_in_text_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = story_log();
    let diverged = glassbox_core::verify::LocalRebuild {
        recipe_index: 6,
        dir_hash: crate::testlog::DIR_HASH.to_owned(),
        outcome: glassbox_core::verify::RebuildOutcome::Diverged {
            stage: "output_hash".to_owned(),
            detail: "built sha256:00…, the attestation says sha256:11…".to_owned(),
        },
    };
    let checked = check(
        &artifact(),
        &log.bundle(artifact()),
        &log.policy(),
        &StateDir::new(dir.path()),
        &Offline("b".into()),
        Some(&diverged),
    )
    .expect("check");
    assert_eq!(codes(&checked), ["rebuildDiverged"]);
    let text = render(&checked.verdict, "app", &[]);
    assert!(
        text.starts_with(
            "NOT VERIFIED\n  ✗ your rebuild with the recipe of entry 6 diverged (output_hash)"
        ),
        "{text}"
    );
}
