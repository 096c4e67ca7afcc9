//! The verification engine (docs/design.md §6 steps 3–5), one test per way an artifact can
//! fail, against a log built in memory (`verify_support`). The attacks on the
//! verdict itself — order, repeats, rollback, withheld proofs, pinned operators,
//! organisations — are in `verify_hostile.rs`.

mod verify_support;

use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::merkle::consistency_proof;
use glassbox_core::note::Note;
use glassbox_core::policy::KeySet;
use glassbox_core::statement::{KeyEvent, Role, Verdict as ReviewVerdict};
use glassbox_core::tlog_proof::TlogProof;
use glassbox_core::verify::{
    verify, Consistency, ConsistencyProof, Failure, PreviousCheckpoint, VerifyRequest,
};
use verify_support::*;

#[test]
fn happy_story_verifies_with_the_whole_chain() {
    let p = people();
    let log = happy_log(&p);
    let verdict = run(&log, &policy(&log));
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    assert_eq!(verdict.builds.len(), 2);
    let source = verdict.source.as_ref().unwrap();
    assert_eq!(source.dir_hash, DIR_C);
    assert_eq!(source.git_commit.as_deref(), Some(COMMIT_C));
    assert_eq!(source.submission_index, Some(4));
    assert_eq!(verdict.reviews.len(), 1);
    assert_eq!(verdict.reviews[0].verdict, "approved");
    let cp = verdict.checkpoint.as_ref().unwrap();
    assert_eq!(cp.size, log.tree.size());
    assert_eq!(verdict.consistency, Consistency::FirstSeen);
}

#[test]
fn checkpoint_signed_by_another_key_is_a_bad_log_signature() {
    let p = people();
    let log = happy_log(&p);
    let impostor = TestLog::new(key(101));
    let verdict = run(&log, &policy(&impostor));
    assert_fails_with(&verdict, |f| matches!(f, Failure::BadLogSignature { .. }));
    assert!(
        verdict.builds.is_empty(),
        "nothing is trusted past the log key"
    );
}

#[test]
fn tampered_inclusion_proof_is_detected() {
    let p = people();
    let log = happy_log(&p);
    let mut bundle = log.bundle(&artifact());
    let victim = bundle.entries.last_mut().unwrap();
    let mut proof = TlogProof::parse(victim.tlog_proof.as_bytes()).unwrap();
    proof.hashes[0][0] ^= 1;
    victim.tlog_proof = proof.to_text();
    let verdict = check(&bundle, &policy(&log), None);
    assert_fails_with(&verdict, |f| matches!(f, Failure::BadInclusionProof { .. }));
}

#[test]
fn entry_not_in_the_tree_is_detected() {
    let p = people();
    let log = happy_log(&p);
    let mut bundle = log.bundle(&artifact());
    // Swap two entries' envelopes: each proof now proves the wrong leaf.
    let first = bundle.entries[0].entry.clone();
    bundle.entries[0].entry = bundle.entries[1].entry.clone();
    bundle.entries[1].entry = first;
    let verdict = check(&bundle, &policy(&log), None);
    assert_fails_with(&verdict, |f| matches!(f, Failure::BadInclusionProof { .. }));
}

#[test]
fn forked_history_is_a_split_view() {
    let p = people();
    let honest = happy_log(&p);
    // Same log key, same prefix, then a different entry at the position the client saw.
    let mut forked = registered_log(&p);
    forked.attest(
        review(
            source(COMMIT_C, TREE_C, DIR_C),
            ReviewVerdict::ApprovedWithFindings,
        ),
        &[&p.reviewer],
    );
    add_builds(&mut forked, &p, DIR_C, DIR_C);
    assert_eq!(honest.tree.size(), forked.tree.size());

    // Same size, different root.
    let seen = PreviousCheckpoint {
        checkpoint: honest.checkpoint(),
        proof: ConsistencyProof::Offline,
    };
    let bundle = forked.bundle(&artifact());
    let verdict = check(&bundle, &policy(&forked), Some(&seen));
    assert_fails_with(&verdict, |f| matches!(f, Failure::SplitView { .. }));
    assert_eq!(verdict.consistency, Consistency::SplitView);

    // Smaller checkpoint seen before, a proof that cannot connect it to the fork.
    let mut honest_prefix = registered_log(&p);
    honest_prefix.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    let seen_small = PreviousCheckpoint {
        checkpoint: honest_prefix.checkpoint(),
        proof: ConsistencyProof::Proof(
            consistency_proof(honest_prefix.tree.size(), forked.tree.size(), &forked.tree).unwrap(),
        ),
    };
    let verdict = check(&bundle, &policy(&forked), Some(&seen_small));
    assert_fails_with(&verdict, |f| matches!(f, Failure::SplitView { .. }));
}

#[test]
fn consistent_growth_is_proven() {
    let p = people();
    let before = registered_log(&p);
    let after = happy_log(&p);
    let seen = PreviousCheckpoint {
        checkpoint: before.checkpoint(),
        proof: ConsistencyProof::Proof(
            consistency_proof(before.tree.size(), after.tree.size(), &after.tree).unwrap(),
        ),
    };
    let bundle = after.bundle(&artifact());
    let verdict = check(&bundle, &policy(&after), Some(&seen));
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    assert_eq!(
        verdict.consistency,
        Consistency::Proven {
            previous_size: before.tree.size(),
            size: after.tree.size()
        }
    );
}

#[test]
fn offline_missing_consistency_proof_is_a_warning_and_state_stays() {
    let p = people();
    let before = registered_log(&p);
    let after = happy_log(&p);
    let seen = PreviousCheckpoint {
        checkpoint: before.checkpoint(),
        proof: ConsistencyProof::Offline,
    };
    let bundle = after.bundle(&artifact());
    let verdict = check(&bundle, &policy(&after), Some(&seen));
    assert!(verdict.verified());
    assert!(matches!(verdict.consistency, Consistency::Unproven { .. }));
    assert!(!verdict.warnings.is_empty());
}

#[test]
fn signer_registered_only_after_its_entry_does_not_count() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    log.attest(
        build(&artifact(), source(COMMIT_C, TREE_C, DIR_C), "vendor-ci"),
        &[&p.vendor],
    );
    // The latecomer builds before being registered (a server would refuse this; a
    // forged bundle or a buggy server must not get it past the verifier).
    log.attest(
        build(&artifact(), source(COMMIT_C, TREE_C, DIR_C), "late"),
        &[&p.latecomer],
    );
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Builder]);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::SignerNotRegistered { key_id, .. } if *key_id == id(&p.latecomer)),
    );
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::TooFewBuilders { have: 1, need: 2 })
    });
}

#[test]
fn reviewer_revoked_before_the_review_was_logged_does_not_count() {
    let p = people();
    let mut log = registered_log(&p);
    let revoke = KeyEvent::revoke(&id(&p.reviewer), "key lost", None).unwrap();
    log.attest(revoke, &[&p.operator]);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::SignerRevoked { key_id, .. } if *key_id == id(&p.reviewer)),
    );
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoApprovedReview { .. }));
}

#[test]
fn review_logged_before_revocation_still_counts() {
    let p = people();
    let mut log = happy_log(&p);
    let revoke = KeyEvent::revoke(&id(&p.reviewer), "retired", None).unwrap();
    log.attest(revoke, &[&p.operator]);
    let verdict = run(&log, &policy(&log));
    assert!(verdict.verified(), "{:#?}", verdict.failures);
}

#[test]
fn compromise_since_voids_earlier_entries_claiming_later_times() {
    let p = people();
    let mut log = happy_log(&p);
    let revoke =
        KeyEvent::revoke(&id(&p.reviewer), "stolen", Some("2026-10-01T00:00:00Z")).unwrap();
    log.attest(revoke, &[&p.operator]);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| matches!(f, Failure::SignerCompromised { .. }));
}

#[test]
fn key_without_the_needed_role_does_not_count() {
    let p = people();
    let mut log = registered_log(&p);
    // The rebuilder (builder role only) signs a review.
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.rebuilder],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::WrongRole { key_id, .. } if *key_id == id(&p.rebuilder)),
    );
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoApprovedReview { .. }));
}

#[test]
fn vendor_alone_is_too_few_builders() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    log.attest(
        build(&artifact(), source(COMMIT_C, TREE_C, DIR_C), "vendor-ci"),
        &[&p.vendor],
    );
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::TooFewBuilders { have: 1, need: 2 })
    });
}

#[test]
fn builders_naming_different_sources_disagree() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_D);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::BuildersDisagree { dir_hashes } if dir_hashes.len() == 2),
    );
}

#[test]
fn artifact_built_from_unreviewed_source_has_no_approved_review() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_D, DIR_D);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::NoApprovedReview { dir_hash } if dir_hash == DIR_D),
    );
}

#[test]
fn rejected_review_fails() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Rejected),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| matches!(f, Failure::ReviewRejected { .. }));
}

#[test]
fn later_approval_by_the_same_reviewer_replaces_a_rejection() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Rejected),
        &[&p.reviewer],
    );
    log.attest(
        review(
            source(COMMIT_C, TREE_C, DIR_C),
            ReviewVerdict::ApprovedWithFindings,
        ),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert!(verdict.verified(), "{:#?}", verdict.failures);
}

#[test]
fn modified_binary_names_no_build() {
    let p = people();
    let log = happy_log(&p);
    let bundle = log.bundle(&artifact());
    let other = Sha256Digest::of(b"the shipped binary, one byte changed!");
    let verdict = verify(VerifyRequest {
        artifact: &other,
        bundle: &bundle,
        policy: &policy(&log),
        previous: None,
        local_rebuild: None,
        now: NOW,
    });
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoBuild));
}

#[test]
fn untrusted_builder_does_not_count_under_a_pinned_policy() {
    let p = people();
    let log = happy_log(&p);
    let mut pinned = policy(&log);
    pinned.builders.keys = KeySet::Listed([id(&p.vendor)].into_iter().collect());
    pinned.builders.min = 2;
    let verdict = run(&log, &pinned);
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::TooFewBuilders { have: 1, need: 2 })
    });
}

#[test]
fn builds_by_no_trusted_builder_are_too_few_builders_not_verified() {
    let p = people();
    let log = happy_log(&p);
    let mut pinned = policy(&log);
    // The only trusted builder built nothing: the artifact's builds exist but none
    // counts, which must never be a verdict without a counted build.
    pinned.builders.keys = KeySet::Listed([id(&p.latecomer)].into_iter().collect());
    pinned.builders.min = 1;
    pinned.builders.independent = 0;
    let verdict = run(&log, &pinned);
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::TooFewBuilders { have: 0, need: 1 })
    });
    assert!(!verdict.failures.contains(&Failure::NoBuild));
}

#[test]
fn forged_signature_by_a_registered_key_is_detected() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    // Re-sign the rebuilder's build with another key but keep the rebuilder's keyid,
    // and log that (a log that does not check signatures).
    let last = log.entries.len() - 1;
    let mut forged = log.entries[last].clone();
    let other = Envelope::sign(&forged.payload_type, &forged.payload, &[&p.latecomer]).unwrap();
    forged.signatures[0].sig = other.signatures[0].sig.clone();
    let mut forged_log = registered_log(&p);
    forged_log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.reviewer],
    );
    forged_log.attest(
        build(&artifact(), source(COMMIT_C, TREE_C, DIR_C), "vendor-ci"),
        &[&p.vendor],
    );
    forged_log.append(forged);
    let verdict = run(&forged_log, &policy(&forged_log));
    assert_fails_with(&verdict, |f| matches!(f, Failure::BadEntrySignature { .. }));
}

#[test]
fn key_event_not_signed_by_an_operator_is_rejected() {
    let p = people();
    let mut log = registered_log(&p);
    // The vendor tries to register a fake reviewer.
    register(&mut log, &p.vendor, &p.latecomer, vec![Role::Reviewer]);
    log.attest(
        review(source(COMMIT_C, TREE_C, DIR_C), ReviewVerdict::Approved),
        &[&p.latecomer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| matches!(f, Failure::BadKeyEvent { .. }));
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoApprovedReview { .. }));
}

#[test]
fn log_whose_first_key_event_is_not_a_self_signed_operator_has_no_registry() {
    let p = people();
    let mut log = TestLog::new(verify_support::key(100));
    // Genesis signed by someone else.
    let genesis = KeyEvent::register(
        &p.operator.verifying_key(),
        "op",
        "Log Co",
        vec![Role::Operator],
    )
    .unwrap();
    log.attest(genesis, &[&p.vendor]);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::BadKeyEvent { index: 0, .. })
    });
}

#[test]
fn witness_quorum_is_enforced() {
    let p = people();
    let log = happy_log(&p);
    let witness = CosignatureSigner::new("witness.test", key(50)).unwrap();
    let mut pol = policy(&log);
    pol.witnesses.vkeys = vec![witness.verifier().to_string()];
    pol.witnesses.quorum = 1;

    // Without a cosignature: fails.
    let verdict = run(&log, &pol);
    assert_fails_with(&verdict, |f| {
        matches!(
            f,
            Failure::WitnessQuorum {
                verified: 0,
                quorum: 1,
                missing,
            } if missing.len() == 1 && missing[0].starts_with("witness.test+")
        )
    });

    // With one: verifies, and the witness shows in the chain.
    let mut bundle = log.bundle(&artifact());
    let mut note = Note::parse(bundle.checkpoint.as_bytes()).unwrap();
    let cosig = witness.sign(&note.text, 1_790_000_000).unwrap();
    note.add_signature(cosig).unwrap();
    bundle.checkpoint = String::from_utf8(note.to_bytes()).unwrap();
    let verdict = check(&bundle, &pol, None);
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    let cp = verdict.checkpoint.unwrap();
    assert_eq!(cp.witnesses.len(), 1);
    assert_eq!(cp.witnesses[0].timestamp, 1_790_000_000);
}

#[test]
fn verdict_serialises_failures_with_stable_codes() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        build(&artifact(), source(COMMIT_C, TREE_C, DIR_C), "vendor-ci"),
        &[&p.vendor],
    );
    let verdict = run(&log, &policy(&log));
    let json = serde_json::to_value(&verdict).unwrap();
    let codes: Vec<&str> = json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"tooFewBuilders"), "{codes:?}");
    assert!(codes.contains(&"noApprovedReview"), "{codes:?}");
}
