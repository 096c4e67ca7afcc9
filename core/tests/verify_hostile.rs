//! The verdict against hostile evidence made only of genuine signatures and genuine
//! proofs: each test builds the honest log, then plays one attack — reorder, repeat,
//! roll back, withhold, pose as two organisations, launder a rejection — and asserts
//! the named failure. The same attacks against the real binaries are in
//! tests/tests/hostile_verdicts.rs.

mod verify_support;

use glassbox_core::merkle::consistency_proof;
use glassbox_core::policy::KeySet;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, ProvenancePredicate,
    ReviewPredicate, Role, Scope, SourceDigest, SourceReview, Verdict as ReviewVerdict,
};
use glassbox_core::verify::{
    verify, Consistency, ConsistencyProof, Failure, LocalRebuild, PreviousCheckpoint,
    RebuildOutcome, VerifyRequest,
};
use verify_support::*;

fn src_c() -> SourceDigest {
    source(COMMIT_C, TREE_C, DIR_C)
}

fn approve() -> SourceReview {
    review(src_c(), ReviewVerdict::Approved)
}

fn reject() -> SourceReview {
    review(src_c(), ReviewVerdict::Rejected)
}

/// A review with its own time (so that two verdicts are two statements).
fn review_at(verdict: ReviewVerdict, time: &str, scope: Scope) -> SourceReview {
    SourceReview::new(
        src_c(),
        ReviewPredicate {
            repository: REPO.to_owned(),
            scope,
            verdict,
            findings: None,
            report_digest: None,
            reviewed_at: time.to_owned(),
        },
    )
    .unwrap()
}

fn codes(verdict: &glassbox_core::verify::Verdict) -> Vec<String> {
    let json = serde_json::to_value(verdict).unwrap();
    json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn verified(verdict: &glassbox_core::verify::Verdict) {
    assert!(verdict.verified(), "{:#?}", verdict.failures);
}

// ---------------------------------------------------------------- log order

#[test]
fn a_rejection_moved_before_the_approval_it_replaced_fails_as_evidence_order() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review_at(ReviewVerdict::Approved, "2026-11-01T00:00:00Z", Scope::Full),
        &[&p.reviewer],
    );
    let rejection = log.attest(
        review_at(ReviewVerdict::Rejected, "2026-11-02T00:00:00Z", Scope::Full),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    assert_fails_with(
        &run(&log, &policy(&log)),
        |f| matches!(f, Failure::ReviewRejected { index, .. } if *index == rejection),
    );

    // The attack: list the rejection first, so that "latest" would be the approval.
    let mut bundle = log.bundle(&artifact());
    let at = bundle
        .entries
        .iter()
        .position(|r| r.index == rejection)
        .unwrap();
    bundle.entries.swap(at - 1, at);
    let verdict = check(&bundle, &policy(&log), None);
    assert_fails_with(&verdict, |f| matches!(f, Failure::EvidenceOrder { .. }));
    assert_fails_with(&verdict, |f| matches!(f, Failure::ReviewRejected { .. }));
}

#[test]
fn a_repeated_receipt_fails_as_evidence_order() {
    let p = people();
    let log = happy_log(&p);
    let mut bundle = log.bundle(&artifact());
    let last = bundle.entries.last().unwrap().clone();
    bundle.entries.push(last);
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::EvidenceOrder { index, previous } if index == previous),
    );
}

#[test]
fn out_of_order_key_events_fail_as_evidence_order() {
    let p = people();
    let log = happy_log(&p);
    let mut bundle = log.bundle(&artifact());
    bundle.key_events.swap(1, 2);
    assert_fails_with(&check(&bundle, &policy(&log), None), |f| {
        matches!(f, Failure::EvidenceOrder { .. })
    });
}

#[test]
fn a_revocation_hidden_among_the_entries_fails_as_a_bad_key_event() {
    let p = people();
    let mut log = happy_log(&p);
    let revocation = log.attest(
        KeyEvent::revoke(&id(&p.reviewer), "stolen", Some("2026-01-01T00:00:00Z")).unwrap(),
        &[&p.operator],
    );
    let mut bundle = log.bundle(&artifact());
    let at = bundle
        .key_events
        .iter()
        .position(|r| r.index == revocation)
        .unwrap();
    let moved = bundle.key_events.remove(at);
    bundle.entries.push(moved);
    assert_fails_with(
        &check(&bundle, &policy(&log), None),
        |f| matches!(f, Failure::BadKeyEvent { index, .. } if *index == revocation),
    );
}

// ---------------------------------------------------------------- repeats

#[test]
fn a_co_signed_approval_relogged_with_reordered_signatures_does_not_override_a_later_rejection() {
    let p = people();
    let mut log = registered_log(&p);
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Reviewer]);
    let approval: Attestation = approve().into();
    let first = log.append(approval.sign(&[&p.reviewer, &p.latecomer]).unwrap());
    log.attest(
        review_at(ReviewVerdict::Rejected, "2026-11-05T00:00:00Z", Scope::Full),
        &[&p.reviewer],
    );
    // The same statement, its two signatures swapped: a new leaf, the old payload.
    let mut copy = log.entries[first as usize].clone();
    copy.signatures.reverse();
    let replay = log.append(copy);
    add_builds(&mut log, &p, DIR_C, DIR_C);

    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::ReviewRejected { key_id, .. } if *key_id == id(&p.reviewer)),
    );
    assert!(
        verdict.warnings.iter().any(|w| w.contains(&format!(
            "entry {replay} repeats the statement of entry {first}"
        ))),
        "{:#?}",
        verdict.warnings
    );
}

// ---------------------------------------------------------------- rollback

#[test]
fn evidence_older_than_the_remembered_checkpoint_is_stale_even_with_a_valid_proof() {
    let p = people();
    let old = happy_log(&p);
    let mut newer = happy_log(&p);
    newer.attest(reject(), &[&p.reviewer]);
    let bundle = old.bundle(&artifact());
    for proof in [
        ConsistencyProof::Proof(
            consistency_proof(old.tree.size(), newer.tree.size(), &newer.tree).unwrap(),
        ),
        ConsistencyProof::Offline,
        ConsistencyProof::Unavailable("timed out".to_owned()),
    ] {
        let remembered = PreviousCheckpoint {
            checkpoint: newer.checkpoint(),
            proof,
        };
        let verdict = check(&bundle, &policy(&old), Some(&remembered));
        assert_eq!(codes(&verdict), ["stale"]);
        assert_eq!(
            verdict.consistency,
            Consistency::Stale {
                previous_size: newer.tree.size(),
                size: old.tree.size()
            }
        );
    }
}

#[test]
fn an_older_checkpoint_whose_proof_fails_is_stale_and_a_split_view() {
    let p = people();
    let honest = happy_log(&p);
    let mut fork = registered_log(&p);
    fork.attest(reject(), &[&p.reviewer]);
    let mut longer = happy_log(&p);
    longer.attest(reject(), &[&p.reviewer]);
    longer.attest(approve(), &[&p.latecomer]);
    let remembered = PreviousCheckpoint {
        checkpoint: longer.checkpoint(),
        proof: ConsistencyProof::Proof(
            consistency_proof(fork.tree.size(), longer.tree.size(), &longer.tree).unwrap(),
        ),
    };
    let verdict = check(
        &fork.bundle(&artifact()),
        &policy(&honest),
        Some(&remembered),
    );
    let codes = codes(&verdict);
    assert!(codes.contains(&"stale".to_owned()), "{codes:?}");
    assert!(codes.contains(&"splitView".to_owned()), "{codes:?}");
}

// ---------------------------------------------------------------- withheld proofs

#[test]
fn a_larger_tree_without_a_proof_from_the_server_fails_as_consistency_unproven() {
    let p = people();
    let before = registered_log(&p);
    let after = happy_log(&p);
    let remembered = PreviousCheckpoint {
        checkpoint: before.checkpoint(),
        proof: ConsistencyProof::Unavailable("the server answered 400".to_owned()),
    };
    let verdict = check(
        &after.bundle(&artifact()),
        &policy(&after),
        Some(&remembered),
    );
    assert_eq!(codes(&verdict), ["consistencyUnproven"]);
    assert!(matches!(verdict.consistency, Consistency::Unproven { .. }));
}

// ---------------------------------------------------------------- pinned operators

/// The happy log, except that the reviewer is registered by a second operator whom
/// the genesis operator registered.
fn log_with_second_operator(p: &People, second: &ed25519_dalek::SigningKey) -> TestLog {
    let mut log = genesis_log(p);
    register(&mut log, &p.operator, second, vec![Role::Operator]);
    register(&mut log, &p.operator, &p.vendor, vec![Role::Vendor]);
    register(&mut log, &p.operator, &p.rebuilder, vec![Role::Builder]);
    register(&mut log, second, &p.reviewer, vec![Role::Reviewer]);
    log.attest(submission(src_c()), &[&p.vendor]);
    log.attest(approve(), &[&p.reviewer]);
    add_builds(&mut log, p, DIR_C, DIR_C);
    log
}

#[test]
fn a_reviewer_registered_by_an_operator_the_policy_does_not_pin_does_not_count() {
    let p = people();
    let second = key(60);
    let log = log_with_second_operator(&p, &second);
    verified(&run(&log, &policy(&log)));

    let mut pinned = policy(&log);
    pinned.operators = KeySet::Listed([id(&p.operator)].into_iter().collect());
    let verdict = run(&log, &pinned);
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::SignerNotVouched { key_id, pinned, .. }
            if *key_id == id(&p.reviewer) && *pinned == [id(&p.operator)])
    });
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoApprovedReview { .. }));

    pinned.operators = KeySet::Listed([id(&p.operator), id(&second)].into_iter().collect());
    verified(&run(&log, &pinned));
}

#[test]
fn a_log_whose_genesis_operator_is_not_pinned_vouches_for_nobody() {
    let p = people();
    let log = happy_log(&p);
    let mut pinned = policy(&log);
    pinned.operators = KeySet::Listed([id(&key(61))].into_iter().collect());
    let verdict = run(&log, &pinned);
    assert_fails_with(&verdict, |f| matches!(f, Failure::SignerNotVouched { .. }));
    assert!(verdict.builds.is_empty(), "{:#?}", verdict.builds);
}

// ---------------------------------------------------------------- organisations

#[test]
fn two_builder_keys_of_one_organisation_are_one_builder() {
    let p = people();
    // The vendor's second key, registered as a "rebuilder" under its own name.
    let reviewer = org_of(&p.reviewer);
    let mut log = log_with_orgs(&p, "App Vendor Inc", " app vendor  INC", &reviewer);
    log.attest(approve(), &[&p.reviewer]);
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| {
        matches!(f, Failure::TooFewBuilders { have: 1, need: 2 })
    });
    assert_fails_with(&verdict, |f| {
        matches!(
            f,
            Failure::TooFewIndependentBuilders {
                have: 0,
                need: 1,
                ..
            }
        )
    });
}

#[test]
fn a_build_signed_twice_by_one_organisation_counts_once() {
    let p = people();
    let (vendor, reviewer) = (org_of(&p.vendor), org_of(&p.reviewer));
    let mut log = log_with_orgs(&p, &vendor, "Rebuild Co", &reviewer);
    register_in(
        &mut log,
        &p.operator,
        &p.latecomer,
        "Rebuild Co",
        vec![Role::Builder],
    );
    log.attest(approve(), &[&p.reviewer]);
    log.attest(
        build(&artifact(), src_c(), "rebuild"),
        &[&p.rebuilder, &p.latecomer],
    );
    let mut pol = policy(&log);
    pol.builders.independent = 2;
    assert_fails_with(&run(&log, &pol), |f| {
        matches!(f, Failure::TooFewBuilders { have: 1, need: 2 })
    });
}

#[test]
fn the_vendor_plus_an_independent_rebuilder_is_required_by_default() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(approve(), &[&p.reviewer]);
    // Two organisations build, but the second is the vendor's own subsidiary build
    // key holding the vendor role: nobody independent reproduced it.
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Vendor]);
    log.attest(build(&artifact(), src_c(), "vendor-ci"), &[&p.vendor]);
    log.attest(build(&artifact(), src_c(), "vendor-eu"), &[&p.latecomer]);
    let verdict = run(&log, &policy(&log));
    assert_eq!(codes(&verdict), ["tooFewIndependentBuilders"]);
    let mut lax = policy(&log);
    lax.builders.independent = 0;
    verified(&run(&log, &lax));
}

#[test]
fn a_reviewer_from_the_vendors_organisation_is_shown_but_not_counted() {
    let p = people();
    let rebuilder = org_of(&p.rebuilder);
    let mut log = log_with_orgs(&p, "App Vendor Inc", &rebuilder, "App Vendor Inc");
    log.attest(approve(), &[&p.reviewer]);
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_eq!(codes(&verdict), ["noApprovedReview"]);
    assert_eq!(verdict.reviews.len(), 1);
    assert!(!verdict.reviews[0].counted);
    assert!(verdict.reviews[0]
        .note
        .as_deref()
        .unwrap()
        .contains("vendor"));
}

#[test]
fn two_reviewer_keys_of_one_organisation_are_one_approval() {
    let p = people();
    let mut log = registered_log(&p);
    let reviewer_org = format!("Organisation {}", p.reviewer.to_bytes()[0]);
    register_in(
        &mut log,
        &p.operator,
        &p.latecomer,
        &reviewer_org,
        vec![Role::Reviewer],
    );
    log.attest(approve(), &[&p.reviewer]);
    log.attest(approve(), &[&p.latecomer]);
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let mut pol = policy(&log);
    pol.reviewers.min = 2;
    assert_fails_with(&run(&log, &pol), |f| {
        matches!(
            f,
            Failure::TooFewReviewers {
                have: 1,
                need: 2,
                ..
            }
        )
    });
}

// ---------------------------------------------------------------- laundering a rejection

#[test]
fn a_rejection_stands_after_the_reviewers_key_is_revoked() {
    for since in [None, Some("2026-01-01T00:00:00Z")] {
        let p = people();
        let mut log = registered_log(&p);
        let rejection = log.attest(reject(), &[&p.reviewer]);
        register(&mut log, &p.operator, &p.latecomer, vec![Role::Reviewer]);
        log.attest(approve(), &[&p.latecomer]);
        add_builds(&mut log, &p, DIR_C, DIR_C);
        let revocation = log.attest(
            KeyEvent::revoke(&id(&p.reviewer), "left the company", since).unwrap(),
            &[&p.operator],
        );
        let verdict = run(&log, &policy(&log));
        assert_fails_with(&verdict, |f| {
            matches!(f, Failure::ReviewRejected { index, revoked_at: Some(at), .. }
                if *index == rejection && *at == revocation)
        });
    }
}

#[test]
fn an_approval_signed_in_a_compromise_window_does_not_supersede_the_rejection_before_it() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(
        review_at(ReviewVerdict::Rejected, "2026-10-01T00:00:00Z", Scope::Full),
        &[&p.reviewer],
    );
    // The thief signs an approval with the stolen key; the theft is found later.
    log.attest(
        review_at(ReviewVerdict::Approved, "2026-10-20T00:00:00Z", Scope::Full),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    log.attest(
        KeyEvent::revoke(&id(&p.reviewer), "stolen", Some("2026-10-15T00:00:00Z")).unwrap(),
        &[&p.operator],
    );
    let verdict = run(&log, &policy(&log));
    assert_fails_with(&verdict, |f| matches!(f, Failure::ReviewRejected { .. }));
}

// ---------------------------------------------------------------- compromised operators

#[test]
fn a_compromised_operators_registrations_after_the_instant_are_void() {
    let p = people();
    let second = key(60);
    let mut log = genesis_log(&p);
    let reg = |who: &ed25519_dalek::SigningKey, org: &str, role: Role, at: &str| {
        KeyEvent::register(&who.verifying_key(), "someone", org, vec![role])
            .unwrap()
            .at(at)
            .unwrap()
    };
    log.attest(
        reg(&second, "Log Co", Role::Operator, "2026-01-01T00:00:00Z"),
        &[&p.operator],
    );
    // Before the compromise: the vendor and the rebuilder.
    log.attest(
        reg(&p.vendor, "V", Role::Vendor, "2026-02-01T00:00:00Z"),
        &[&second],
    );
    log.attest(
        reg(&p.rebuilder, "R", Role::Builder, "2026-02-01T00:00:00Z"),
        &[&second],
    );
    // After it: a "reviewer" the thief made up, who approves.
    log.attest(
        reg(
            &p.reviewer,
            "Fake Audit",
            Role::Reviewer,
            "2026-06-01T00:00:00Z",
        ),
        &[&second],
    );
    log.attest(submission(src_c()), &[&p.vendor]);
    log.attest(approve(), &[&p.reviewer]);
    add_builds(&mut log, &p, DIR_C, DIR_C);
    verified(&run(&log, &policy(&log)));

    log.attest(
        KeyEvent::revoke(&id(&second), "key stolen", Some("2026-05-01T00:00:00Z"))
            .unwrap()
            .at("2026-07-01T00:00:00Z")
            .unwrap(),
        &[&p.operator],
    );
    let verdict = run(&log, &policy(&log));
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::SignerVoided { key_id, .. } if *key_id == id(&p.reviewer)),
    );
    assert_fails_with(&verdict, |f| matches!(f, Failure::NoApprovedReview { .. }));
    // The registrations from before the instant stand: both builds still count.
    assert_eq!(verdict.builds.len(), 2, "{:#?}", verdict.builds);
}

#[test]
fn a_registration_without_a_signed_time_by_a_compromised_operator_is_void() {
    let p = people();
    let second = key(60);
    let mut log = log_with_second_operator(&p, &second);
    log.attest(
        KeyEvent::revoke(&id(&second), "key stolen", Some("2020-01-01T00:00:00Z")).unwrap(),
        &[&p.operator],
    );
    assert_fails_with(
        &run(&log, &policy(&log)),
        |f| matches!(f, Failure::SignerVoided { key_id, .. } if *key_id == id(&p.reviewer)),
    );
}

// ---------------------------------------------------------------- review scope

#[test]
fn a_partial_approval_is_shown_not_counted_unless_the_policy_names_paths_it_covers() {
    let p = people();
    let mut log = registered_log(&p);
    let partial = Scope::Paths(vec!["src/crypto".into()]);
    log.attest(
        review_at(ReviewVerdict::Approved, TIME, partial),
        &[&p.reviewer],
    );
    add_builds(&mut log, &p, DIR_C, DIR_C);
    let verdict = run(&log, &policy(&log));
    assert_eq!(codes(&verdict), ["noApprovedReview"]);
    assert_eq!(verdict.reviews.len(), 1);
    assert!(!verdict.reviews[0].counted);

    let mut pol = policy(&log);
    pol.reviewers.paths = vec!["src/crypto/aes.rs".into()];
    verified(&run(&log, &pol));
    pol.reviewers.paths = vec!["src/crypto".into(), "src/net".into()];
    assert_eq!(codes(&run(&log, &pol)), ["noApprovedReview"]);
}

// ---------------------------------------------------------------- source identity

#[test]
fn a_review_and_a_build_of_one_dirhash_but_different_git_trees_disagree() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(approve(), &[&p.reviewer]);
    // Same files, but (say) a symlink or an executable bit differs: another tree.
    let other_tree = source(COMMIT_C, TREE_D, DIR_C);
    log.attest(
        build(&artifact(), other_tree.clone(), "vendor-ci"),
        &[&p.vendor],
    );
    log.attest(build(&artifact(), other_tree, "rebuilder"), &[&p.rebuilder]);
    assert_fails_with(
        &run(&log, &policy(&log)),
        |f| matches!(f, Failure::SourceIdentityMismatch { detail, .. } if detail.contains("gitTree")),
    );
}

// ---------------------------------------------------------------- untrusted entries

#[test]
fn entries_the_policy_does_not_trust_neither_fail_nor_label_the_verdict() {
    let p = people();
    let mut log = happy_log(&p);
    // Another vendor submits the same tree under another product and commit; a
    // reviewer outside the pinned set names another tree for it.
    register(
        &mut log,
        &p.operator,
        &p.latecomer,
        vec![Role::Vendor, Role::Reviewer],
    );
    let mut stranger = submission(source(COMMIT_D, TREE_D, DIR_C));
    stranger.predicate.product = "evil".into();
    log.attest(stranger, &[&p.latecomer]);
    log.attest(
        review(source(COMMIT_D, TREE_D, DIR_C), ReviewVerdict::Approved),
        &[&p.latecomer],
    );
    let mut pol = policy(&log);
    pol.reviewers.keys = KeySet::Listed([id(&p.reviewer)].into_iter().collect());
    let verdict = run(&log, &pol);
    verified(&verdict);
    let source = verdict.source.unwrap();
    assert_eq!(source.product.as_deref(), Some("app"));
    assert_eq!(source.git_commit.as_deref(), Some(COMMIT_C));
}

// ---------------------------------------------------------------- contradicting builds

#[test]
fn a_trusted_builder_who_got_other_bytes_from_the_same_source_and_recipe_fails_it() {
    let p = people();
    let mut log = happy_log(&p);
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Builder]);
    let other = glassbox_core::digest::Sha256Digest::of(b"what an honest rebuild produced");
    let index = log.attest(build(&other, src_c(), "third"), &[&p.latecomer]);
    let verdict = run(&log, &policy(&log));
    let expected = other.to_string();
    assert_fails_with(
        &verdict,
        |f| matches!(f, Failure::Irreproducible { index: i, got, .. } if *i == index && *got == expected),
    );

    // Another recipe (a debug build) is not a contradiction.
    let mut log = happy_log(&p);
    register(&mut log, &p.operator, &p.latecomer, vec![Role::Builder]);
    let debug = Build::new(
        vec![ArtifactSubject {
            name: "app".into(),
            sha256: other,
        }],
        ProvenancePredicate::new(
            BuildRecipe::new("make debug", "out/app"),
            REPO,
            src_c(),
            "third",
        ),
    )
    .unwrap();
    log.attest(debug, &[&p.latecomer]);
    verified(&run(&log, &policy(&log)));
}

// ---------------------------------------------------------------- the customer's rebuild

#[test]
fn the_customers_reproducing_rebuild_counts_as_the_independent_builder() {
    let p = people();
    let mut log = registered_log(&p);
    log.attest(approve(), &[&p.reviewer]);
    let vendor_build = log.attest(build(&artifact(), src_c(), "vendor-ci"), &[&p.vendor]);
    let bundle = log.bundle(&artifact());
    let pol = policy(&log);
    let with = |outcome: RebuildOutcome, dir: &str| {
        verify(VerifyRequest {
            artifact: &artifact(),
            bundle: &bundle,
            policy: &pol,
            previous: None,
            local_rebuild: Some(&LocalRebuild {
                recipe_index: vendor_build,
                dir_hash: dir.to_owned(),
                outcome,
            }),
            now: NOW,
        })
    };
    assert_eq!(
        codes(&run(&log, &pol)),
        ["tooFewBuilders", "tooFewIndependentBuilders"]
    );
    let verdict = with(RebuildOutcome::Reproduced, DIR_C);
    verified(&verdict);
    assert!(verdict.builds.iter().any(|b| b.local && b.independent));

    let diverged = with(
        RebuildOutcome::Diverged {
            stage: "output_hash".into(),
            detail: "other bytes".into(),
        },
        DIR_C,
    );
    assert!(codes(&diverged).contains(&"rebuildDiverged".to_owned()));
    let elsewhere = with(RebuildOutcome::Reproduced, DIR_D);
    assert!(codes(&elsewhere).contains(&"rebuildDiverged".to_owned()));
}
