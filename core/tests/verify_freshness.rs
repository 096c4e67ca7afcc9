//! `[log] max_age`: a checkpoint is fresh only when a quorum of the policy's witnesses
//! cosigned it recently. A frozen view — an old bundle, a server that stopped showing
//! new entries — hides every rejection and revocation logged since; witnesses'
//! timestamps are the one clock outside the log that says when a view was current.

mod verify_support;

use glassbox_core::bundle::Bundle;
use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::note::Note;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::verify::Failure;
use verify_support::*;

const DAY: u64 = 86_400;

fn witness(seed: u8) -> CosignatureSigner {
    CosignatureSigner::new(&format!("witness{seed}.test"), key(seed)).unwrap()
}

/// `bundle` with its checkpoint cosigned by `witness` at `at`.
fn cosigned(mut bundle: Bundle, witness: &CosignatureSigner, at: u64) -> Bundle {
    let mut note = Note::parse(bundle.checkpoint.as_bytes()).unwrap();
    note.add_signature(witness.sign(&note.text, at).unwrap())
        .unwrap();
    bundle.checkpoint = String::from_utf8(note.to_bytes()).unwrap();
    bundle
}

fn policy_with(log: &TestLog, witnesses: &[&CosignatureSigner], quorum: usize) -> TrustPolicy {
    let mut pol = policy(log);
    pol.witnesses.vkeys = witnesses.iter().map(|w| w.verifier().to_string()).collect();
    pol.witnesses.quorum = quorum;
    pol.log.max_age = Some(7 * DAY);
    pol
}

#[test]
fn a_checkpoint_cosigned_within_max_age_is_fresh() {
    let p = people();
    let log = happy_log(&p);
    let w = witness(50);
    let bundle = cosigned(log.bundle(&artifact()), &w, NOW - DAY);
    let verdict = check(&bundle, &policy_with(&log, &[&w], 1), None);
    assert!(verdict.verified(), "{:#?}", verdict.failures);
}

#[test]
fn a_checkpoint_last_cosigned_before_max_age_is_too_old() {
    let p = people();
    let log = happy_log(&p);
    let w = witness(50);
    let bundle = cosigned(log.bundle(&artifact()), &w, NOW - 8 * DAY);
    let verdict = check(&bundle, &policy_with(&log, &[&w], 1), None);
    assert_fails_with(&verdict, |f| {
        matches!(
            f,
            Failure::CheckpointTooOld { fresh: 0, quorum: 1, max_age, newest: Some(t) }
                if *max_age == 7 * DAY && *t == NOW - 8 * DAY
        )
    });
    // Without max_age the same evidence verifies: freshness is the policy's choice.
    let mut pol = policy_with(&log, &[&w], 1);
    pol.log.max_age = None;
    assert!(check(&bundle, &pol, None).verified());
}

#[test]
fn one_fresh_cosignature_does_not_make_a_quorum_of_two() {
    let p = people();
    let log = happy_log(&p);
    let (a, b) = (witness(50), witness(51));
    let bundle = cosigned(
        cosigned(log.bundle(&artifact()), &a, NOW - DAY),
        &b,
        NOW - 30 * DAY,
    );
    let verdict = check(&bundle, &policy_with(&log, &[&a, &b], 2), None);
    assert_fails_with(&verdict, |f| {
        matches!(
            f,
            Failure::CheckpointTooOld {
                fresh: 1,
                quorum: 2,
                ..
            }
        )
    });
}

#[test]
fn max_age_without_witnesses_says_freshness_rests_on_the_clients_state() {
    let p = people();
    let log = happy_log(&p);
    let mut pol = policy(&log);
    pol.log.max_age = Some(7 * DAY);
    let verdict = check(&log.bundle(&artifact()), &pol, None);
    assert!(verdict.verified(), "{:#?}", verdict.failures);
    assert!(
        verdict
            .warnings
            .iter()
            .any(|w| w.contains("freshness rests on this client's own state alone")),
        "{:?}",
        verdict.warnings
    );
}
