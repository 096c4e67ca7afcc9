//! Completeness against a log built in memory: a bundle that leaves out an entry —
//! a rejection, a revocation, a contradicting build — verifies when nothing proves
//! it complete (version 1, with a warning), and fails by name when the log's index
//! commitment does (version 2). Every way to get around the index is tried here:
//! a stale or foreign commitment, a missing lookup, an edited list, a lying index.

mod verify_support;

use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::IndexKey;
use glassbox_core::statement::{KeyEvent, Role, Verdict as ReviewVerdict};
use glassbox_core::verify::Failure;
use verify_support::*;

fn src_c() -> glassbox_core::statement::SourceDigest {
    source(COMMIT_C, TREE_C, DIR_C)
}

fn source_key() -> String {
    IndexKey::Source(DIR_C.into()).to_string()
}

fn artifact_key() -> String {
    IndexKey::Artifact(artifact().hex()).to_string()
}

/// `bundle` without the entry (or key event) at `index`.
fn without(mut bundle: Bundle, index: u64) -> Bundle {
    let before = bundle.entries.len() + bundle.key_events.len();
    bundle.entries.retain(|r| r.index != index);
    bundle.key_events.retain(|r| r.index != index);
    assert_eq!(
        bundle.entries.len() + bundle.key_events.len(),
        before - 1,
        "entry {index} was not in the bundle"
    );
    bundle
}

fn assert_withheld(bundle: &Bundle, log: &TestLog, key: &str, index: u64) {
    let verdict = check(bundle, &policy(log), None);
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::EntryWithheld { key: k, index: i } if k == key && *i == index),
    );
}

#[test]
fn a_complete_bundle_verifies_and_says_complete_as_of_its_commitment() {
    let p = people();
    let mut log = happy_log(&p);
    let bundle = log.bundle_v2(&artifact());
    let verdict = check(&bundle, &policy(&log), None);
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    let completeness = verdict.completeness.expect("proven complete");
    assert_eq!(completeness.size, log.tree.size() - 1);
    let mut keys = completeness.keys.clone();
    keys.sort();
    let mut want = vec![artifact_key(), source_key(), "registry".to_string()];
    want.sort();
    assert_eq!(keys, want);
    assert!(
        !verdict.warnings.iter().any(|w| w.contains("completeness")),
        "{:?}",
        verdict.warnings
    );
}

#[test]
fn a_version_1_bundle_verifies_with_a_warning_that_completeness_is_unproven() {
    let p = people();
    let log = happy_log(&p);
    let verdict = run(&log, &policy(&log));
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    assert!(verdict.completeness.is_none());
    assert!(
        verdict
            .warnings
            .iter()
            .any(|w| w.contains("completeness unproven")),
        "{:?}",
        verdict.warnings
    );
}

#[test]
fn a_policy_requiring_completeness_fails_a_version_1_bundle() {
    let p = people();
    let log = happy_log(&p);
    let mut strict = policy(&log);
    strict.log.require_completeness = true;
    let verdict = run(&log, &strict);
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::CompletenessUnproven { key } if key.contains("version 1")),
    );
    // A version 2 bundle meets it.
    let mut log = happy_log(&p);
    let v2 = log.bundle_v2(&artifact());
    assert!(check(&v2, &strict, None).verified());
}

#[test]
fn leaving_out_a_rejecting_review_is_caught() {
    let p = people();
    let mut log = happy_log(&p);
    // The reviewer's latest verdict: rejected.
    let rejection = log.attest(review(src_c(), ReviewVerdict::Rejected), &[&p.reviewer]);
    // Shown whole, the bundle fails on the rejection.
    let whole = log.bundle_v2(&artifact());
    assert_fails_with(
        &check(&whole, &policy(&log), None),
        |f| matches!(f, Failure::ReviewRejected { index, .. } if *index == rejection),
    );
    // The attack: cut it out. Without index proofs it verifies…
    let cut_v1 = without(log.bundle(&artifact()), rejection);
    assert!(check(&cut_v1, &policy(&log), None).verified());
    // …with them, the source's proven list names the missing entry.
    assert_withheld(&without(whole, rejection), &log, &source_key(), rejection);
}

#[test]
fn leaving_out_a_revocation_is_caught() {
    let p = people();
    let mut log = happy_log(&p);
    let revoke =
        KeyEvent::revoke(&id(&p.reviewer), "stolen", Some("2026-10-01T00:00:00Z")).unwrap();
    let revocation = log.attest(revoke, &[&p.operator]);
    let whole = log.bundle_v2(&artifact());
    assert!(!check(&whole, &policy(&log), None).verified());
    let cut_v1 = without(log.bundle(&artifact()), revocation);
    assert!(check(&cut_v1, &policy(&log), None).verified());
    assert_withheld(&without(whole, revocation), &log, "registry", revocation);
}

#[test]
fn leaving_out_a_contradicting_build_is_caught() {
    let p = people();
    let mut log = happy_log(&p);
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Builder]);
    let other = Sha256Digest::of(b"what an honest rebuild produced");
    let contradiction = log.attest(build(&other, src_c(), "third"), &[&p.latecomer]);
    let whole = log.bundle_v2(&artifact());
    assert_fails_with(&check(&whole, &policy(&log), None), |f| {
        matches!(f, Failure::Irreproducible { .. })
    });
    let cut_v1 = without(log.bundle(&artifact()), contradiction);
    assert!(check(&cut_v1, &policy(&log), None).verified());
    assert_withheld(
        &without(whole, contradiction),
        &log,
        &source_key(),
        contradiction,
    );
}

#[test]
fn leaving_out_a_build_of_the_artifact_is_caught_under_the_artifact_key() {
    let p = people();
    let mut log = happy_log(&p);
    let whole = log.bundle_v2(&artifact());
    let vendor_build = 6; // happy_log: 4 key events, the submission, the review, the builds
    assert_withheld(
        &without(whole, vendor_build),
        &log,
        &artifact_key(),
        vendor_build,
    );
}

#[test]
fn a_commitment_that_is_not_the_checkpoints_last_entry_is_refused() {
    let p = people();
    let mut log = happy_log(&p);
    let stale = log.bundle_v2(&artifact());
    // The log grows: a rejection after the commitment. A bundle against the new
    // checkpoint that reuses the old commitment covers less than the checkpoint.
    log.attest(review(src_c(), ReviewVerdict::Rejected), &[&p.reviewer]);
    let mut bundle = log.bundle(&artifact());
    let mut index = stale.index.unwrap();
    index.commitment = log.receipt(index.commitment.index, bundle.checkpoint.as_bytes());
    bundle.index = Some(index);
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::BadIndexCommitment { detail } if detail.contains("not the last entry")),
    );
}

#[test]
fn a_commitment_not_signed_by_the_log_key_is_refused() {
    let p = people();
    let mut log = happy_log(&p);
    // Anyone may submit a statement; only the log's key makes it a commitment.
    log.log_key = key(77);
    let bundle = log.bundle_v2(&artifact());
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::BadIndexCommitment { detail } if detail.contains("not signed by the log's key")),
    );
}

#[test]
fn a_missing_lookup_leaves_completeness_unproven_and_fails() {
    let p = people();
    let mut log = happy_log(&p);
    for dropped in [source_key(), artifact_key(), "registry".to_string()] {
        let mut bundle = log.bundle_v2(&artifact());
        bundle
            .index
            .as_mut()
            .unwrap()
            .lookups
            .retain(|l| l.key != dropped);
        assert_fails_with(
            &check(&bundle, &policy(&log), None),
            |f| matches!(f, Failure::CompletenessUnproven { key } if *key == dropped),
        );
    }
}

#[test]
fn an_edited_list_does_not_match_its_proof() {
    let p = people();
    let mut log = happy_log(&p);
    let rejection = log.attest(review(src_c(), ReviewVerdict::Rejected), &[&p.reviewer]);
    let mut bundle = without(log.bundle_v2(&artifact()), rejection);
    // Drop the withheld index from the lookup as well: the proof no longer matches.
    let lookup = bundle
        .index
        .as_mut()
        .unwrap()
        .lookups
        .iter_mut()
        .find(|l| l.key == source_key())
        .unwrap();
    lookup.indices.retain(|&i| i != rejection);
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::BadIndexProof { key, .. } if *key == source_key()),
    );
}

#[test]
fn an_index_that_omits_a_shown_entry_is_the_log_misbehaving() {
    let p = people();
    let mut log = happy_log(&p);
    let rejection = log.attest(review(src_c(), ReviewVerdict::Rejected), &[&p.reviewer]);
    // The log's index leaves the rejection out; the bundle still holds it.
    let bundle = log.bundle_v2_skipping(&artifact(), &[rejection]);
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::IndexContradicted { key, index } if *key == source_key() && *index == rejection),
    );
}
