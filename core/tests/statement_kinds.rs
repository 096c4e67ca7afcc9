//! Each attestation kind: valid examples parse, constructors produce statements the
//! parser accepts unchanged, and the signer roles are as docs/design.md §3 says.

mod statement_support;

use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, KeyEventPredicate, PackagePin,
    ProvenancePredicate, ReportDigest, ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest,
    SourceReview, SourceSubmission, Statement, SubmissionPredicate, ToolIdentity, Verdict,
    TOOLCHAIN_PARAMETER,
};
use statement_support::*;

fn round_trip(a: &Attestation) {
    let env = a.sign(&[&key(1)]).unwrap();
    let back = Envelope::from_json(&env.to_canonical_json()).unwrap();
    let (statement, parsed) = Attestation::from_envelope(&back).unwrap();
    assert_eq!(&parsed, a);
    assert_eq!(statement, a.to_statement());
    back.verify_signature(0, &key(1).verifying_key()).unwrap();
}

#[test]
fn example_submission_parses() {
    let Attestation::SourceSubmission(s) = parse(&submission()).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(s.repository(), REPO);
    assert_eq!(s.source, SourceDigest::from_git(COMMIT, TREE, DIRHASH));
    assert_eq!(s.predicate.review_request.scope, Scope::Full);
}

#[test]
fn example_review_parses() {
    let Attestation::SourceReview(r) = parse(&review()).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(r.predicate.verdict, Verdict::ApprovedWithFindings);
    assert!(r.predicate.verdict.is_approval());
    assert_eq!(
        r.predicate.scope,
        Scope::Paths(vec!["src/crypto".into(), "Cargo.lock".into()])
    );
}

#[test]
fn example_build_parses() {
    let Attestation::Build(b) = parse(&build()).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(
        b.subjects[0].sha256,
        ARTIFACT.parse::<Sha256Digest>().unwrap()
    );
    assert_eq!(b.source().unwrap().uri, REPO);
    assert_eq!(b.recipe().output_path, "target/release/app");
    assert_eq!(b.builder_id(), "https://rebuilder.example/worker-1");
}

#[test]
fn example_key_events_parse() {
    let k = key(7);
    let Attestation::KeyEvent(e) = parse(&register(&k)).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(e.key_id, key_id(&k));
    let KeyEventPredicate::Register(r) = &e.predicate else {
        panic!("not a registration")
    };
    assert_eq!(r.verifying_key().unwrap(), k.verifying_key());
    assert_eq!(r.roles, vec![Role::Reviewer, Role::Builder]);
    assert!(matches!(
        parse(&revoke(&k)).unwrap(),
        Attestation::KeyEvent(KeyEvent {
            predicate: KeyEventPredicate::Revoke(_),
            ..
        })
    ));
}

#[test]
fn build_working_directory_defaults_to_dot() {
    let mut v = build();
    v["predicate"]["buildDefinition"]["externalParameters"]
        .as_object_mut()
        .unwrap()
        .remove("workingDirectory");
    let Attestation::Build(b) = parse(&v).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(b.recipe().working_directory, ".");
}

#[test]
fn source_without_git_ids_is_accepted() {
    let mut v = submission();
    v["subject"][0]["digest"] = serde_json::json!({"dirHash": DIRHASH});
    let Attestation::SourceSubmission(s) = parse(&v).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(s.source, SourceDigest::from_dir_hash(DIRHASH));
}

#[test]
fn sha256_git_ids_are_accepted() {
    let mut v = review();
    v["subject"][0]["digest"]["gitCommit"] = DIRHASH.into();
    v["subject"][0]["digest"]["gitTree"] = ARTIFACT.into();
    parse(&v).unwrap();
}

#[test]
fn submission_constructor_round_trips() {
    let a: Attestation = SourceSubmission::new(
        SourceDigest::from_git(COMMIT, TREE, DIRHASH),
        SubmissionPredicate {
            repository: REPO.into(),
            product: "app".into(),
            version: "1.2.0".into(),
            review_request: ReviewRequest {
                scope: Scope::Full,
                notes: None,
            },
            submitted_at: "2025-01-31T12:00:00Z".into(),
        },
    )
    .unwrap()
    .into();
    round_trip(&a);
}

#[test]
fn review_constructor_round_trips() {
    let a: Attestation = SourceReview::new(
        SourceDigest::from_dir_hash(DIRHASH),
        ReviewPredicate {
            repository: REPO.into(),
            scope: Scope::Paths(vec!["src".into()]),
            verdict: Verdict::Rejected,
            findings: Some("unsafe block without justification".into()),
            report_digest: Some(ReportDigest {
                sha256: ARTIFACT.into(),
            }),
            reviewed_at: "2025-02-03T09:30:00Z".into(),
        },
    )
    .unwrap()
    .into();
    round_trip(&a);
}

#[test]
fn build_constructor_round_trips() {
    let mut recipe = BuildRecipe::new("make", "out/app");
    recipe.environment = Some([("CC".to_owned(), "clang".to_owned())].into());
    let predicate = ProvenancePredicate::new(
        recipe,
        REPO,
        SourceDigest::from_git(COMMIT, TREE, DIRHASH),
        "builder-1",
    );
    let a: Attestation = Build::new(
        vec![ArtifactSubject {
            name: "app".into(),
            sha256: ARTIFACT.parse().unwrap(),
        }],
        predicate,
    )
    .unwrap()
    .into();
    round_trip(&a);
}

#[test]
fn key_event_constructors_round_trip() {
    let k = key(9);
    let reg =
        KeyEvent::register(&k.verifying_key(), "Op", "Glassbox", vec![Role::Operator]).unwrap();
    round_trip(&reg.into());
    let rev = KeyEvent::revoke(&key_id(&k), "rotated", None).unwrap();
    round_trip(&rev.into());
}

#[test]
fn key_events_carry_the_operators_signed_time() {
    let k = key(9);
    let reg = KeyEvent::register(&k.verifying_key(), "Op", "Glassbox", vec![Role::Operator])
        .unwrap()
        .at("2026-01-02T03:04:05Z")
        .unwrap();
    assert_eq!(reg.signed_at(), Some("2026-01-02T03:04:05Z"));
    assert_eq!(
        reg.predicate.to_value()["registeredAt"],
        "2026-01-02T03:04:05Z"
    );
    round_trip(&reg.clone().into());
    let rev = KeyEvent::revoke(&key_id(&k), "rotated", None)
        .unwrap()
        .at("2026-02-02T00:00:00Z")
        .unwrap();
    assert_eq!(
        rev.predicate.to_value()["revokedAt"],
        "2026-02-02T00:00:00Z"
    );
    round_trip(&rev.into());
    assert!(reg.at("yesterday").is_err());
    let untimed = KeyEvent::revoke(&key_id(&k), "rotated", None).unwrap();
    assert_eq!(untimed.signed_at(), None);
}

#[test]
fn constructors_validate_too() {
    let bad = SourceReview::new(
        SourceDigest::from_dir_hash("not-hex"),
        ReviewPredicate {
            repository: REPO.into(),
            scope: Scope::Full,
            verdict: Verdict::Approved,
            findings: None,
            report_digest: None,
            reviewed_at: "2025-02-03T09:30:00Z".into(),
        },
    );
    assert!(bad
        .unwrap_err()
        .to_string()
        .starts_with("subject[0].digest.dirHash: "));
    assert!(KeyEvent::register(&key(1).verifying_key(), "x", "y", vec![]).is_err());
    assert!(KeyEvent::revoke("abc", "r", None).is_err());
}

#[test]
fn allowed_roles_per_kind() {
    let k = key(3);
    let cases = [
        (submission(), vec![Role::Vendor], "source-submission"),
        (review(), vec![Role::Reviewer], "source-review"),
        (build(), vec![Role::Vendor, Role::Builder], "build"),
        (register(&k), vec![Role::Operator], "key-event"),
        (revoke(&k), vec![Role::Operator], "key-event"),
    ];
    for (statement, roles, kind) in cases {
        let a = parse(&statement).unwrap();
        assert_eq!(a.allowed_roles(), roles.as_slice(), "{kind}");
        assert_eq!(a.kind(), kind);
        assert_eq!(a.predicate_type(), statement["predicateType"]);
    }
}

#[test]
fn payload_is_kept_verbatim_not_reserialised() {
    // A payload with extra whitespace parses; the statement is what was signed.
    let pretty = serde_json::to_vec_pretty(&submission()).unwrap();
    let env = Envelope::sign("application/vnd.in-toto+json", &pretty, &[&key(1)]).unwrap();
    let (statement, _) = Attestation::from_envelope(&env).unwrap();
    assert_eq!(statement, Statement::from_json(&pretty).unwrap());
    assert_eq!(env.payload, pretty);
}

#[test]
fn role_names_parse_and_print() {
    for role in Role::ALL {
        assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
    }
    assert!("admin".parse::<Role>().is_err());
}

#[test]
fn a_recipe_without_the_recorded_environment_still_parses() {
    let Attestation::Build(b) = parse(&build()).unwrap() else {
        panic!("wrong kind")
    };
    assert_eq!(b.recipe().build_path, None);
    assert_eq!(b.recipe().build_dependencies, None);
    assert!(b.toolchain().is_empty());
}

#[test]
fn the_recorded_environment_round_trips() {
    let mut recipe = BuildRecipe::new("./configure && make", "hello");
    recipe.build_path = Some("/build/src".into());
    recipe.build_dependencies = Some(vec![PackagePin {
        package: "help2man".into(),
        version: "1.49.3".into(),
    }]);
    let mut predicate = ProvenancePredicate::new(
        recipe,
        REPO,
        SourceDigest::from_git(COMMIT, TREE, DIRHASH),
        "builder-1",
    );
    let tool = ToolIdentity {
        name: "cc".into(),
        path: "/usr/bin/x86_64-linux-gnu-gcc-12".into(),
        sha256: ARTIFACT.into(),
        version: "cc (Debian 12.2.0-14) 12.2.0".into(),
    };
    predicate.build_definition.internal_parameters = Some(
        [(
            TOOLCHAIN_PARAMETER.to_owned(),
            serde_json::to_value(vec![tool.clone()]).unwrap(),
        )]
        .into_iter()
        .collect(),
    );
    let build = Build::new(
        vec![ArtifactSubject {
            name: "hello".into(),
            sha256: ARTIFACT.parse().unwrap(),
        }],
        predicate,
    )
    .unwrap();
    assert_eq!(build.toolchain(), vec![tool]);
    round_trip(&build.into());
}
