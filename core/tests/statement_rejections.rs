//! Every statement mutation the log must refuse, each named after the mutation, with
//! the exact field the error must name.

mod statement_support;

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, StatementError};
use serde_json::{json, Value};
use statement_support::*;

/// Sets (or adds) the member at `pointer`.
fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    let parent = v
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match parent {
        Value::Object(map) => {
            map.insert(name.to_owned(), new);
        }
        Value::Array(items) => items[name.parse::<usize>().unwrap()] = new,
        _ => panic!("{pointer} is not inside an object or array"),
    }
    v
}

fn without(mut v: Value, pointer: &str) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(name)
        .unwrap();
    v
}

// ---- envelope and statement layer ---------------------------------------------------

#[test]
fn wrong_payload_type() {
    let env = Envelope::sign(
        "application/json",
        &serde_json::to_vec(&review()).unwrap(),
        &[&key(1)],
    )
    .unwrap();
    assert!(matches!(
        Attestation::from_envelope(&env),
        Err(StatementError::WrongPayloadType { .. })
    ));
}

#[test]
fn payload_not_json() {
    let env = Envelope::sign("application/vnd.in-toto+json", b"{not json", &[&key(1)]).unwrap();
    assert!(matches!(
        Attestation::from_envelope(&env),
        Err(StatementError::Json { .. })
    ));
}

#[test]
fn wrong_statement_type() {
    let v = with(
        review(),
        "/_type",
        json!("https://in-toto.io/Statement/v0.1"),
    );
    expect_error(&v, "_type", "expected https://in-toto.io/Statement/v1");
}

#[test]
fn unknown_predicate_type() {
    let v = with(
        review(),
        "/predicateType",
        json!("https://example.com/other/v1"),
    );
    expect_error(&v, "predicateType", "unsupported");
}

#[test]
fn unknown_statement_field() {
    let mut v = review();
    v["extra"] = json!(true);
    expect_error(&v, "extra", "unknown field");
}

#[test]
fn unknown_subject_field() {
    let mut v = review();
    v["subject"][0]["uri"] = json!("https://x");
    expect_error(&v, "subject[0].uri", "unknown field");
}

/// The review statement with `replacement` in place of its first `"verdict":`,
/// refused by both parses with the same error; that error's text.
fn refused_review_text(replacement: &str) -> String {
    let text = serde_json::to_string(&review()).unwrap();
    let edited = text.replacen("\"verdict\":", replacement, 1);
    let env = Envelope::sign(
        "application/vnd.in-toto+json",
        edited.as_bytes(),
        &[&key(1)],
    )
    .unwrap();
    let err = Attestation::from_envelope(&env).unwrap_err();
    assert_eq!(Attestation::of_envelope(&env), Err(err.clone()));
    err.to_string()
}

#[test]
fn duplicate_member_in_predicate() {
    let err = refused_review_text("\"verdict\":\"rejected\",\"verdict\":");
    assert!(err.contains("duplicate member \"verdict\""), "{err}");
}

#[test]
fn duplicate_member_spelled_with_an_escape() {
    // The same name once plainly and once with an escape: equal after decoding.
    let err = refused_review_text("\"verdic\\u0074\":\"rejected\",\"verdict\":");
    assert!(err.contains("duplicate member \"verdict\""), "{err}");
}

// ---- source subjects -----------------------------------------------------------------

#[test]
fn two_source_subjects() {
    let mut v = submission();
    let s = v["subject"][0].clone();
    v["subject"].as_array_mut().unwrap().push(s);
    expect_error(&v, "subject", "exactly one subject");
}

#[test]
fn missing_dir_hash() {
    let v = without(submission(), "/subject/0/digest/dirHash");
    expect_error(&v, "subject[0].digest.dirHash", "required");
}

#[test]
fn uppercase_dir_hash() {
    let v = with(
        submission(),
        "/subject/0/digest/dirHash",
        json!(DIRHASH.to_uppercase()),
    );
    expect_error(&v, "subject[0].digest.dirHash", "64 lowercase hex");
}

#[test]
fn short_git_commit() {
    let v = with(
        review(),
        "/subject/0/digest/gitCommit",
        json!(&COMMIT[..39]),
    );
    expect_error(&v, "subject[0].digest.gitCommit", "40 or 64 lowercase hex");
}

#[test]
fn git_commit_without_git_tree() {
    let v = without(review(), "/subject/0/digest/gitTree");
    expect_error(
        &v,
        "subject[0].digest.gitTree",
        "required when gitCommit is present",
    );
}

#[test]
fn git_tree_without_git_commit() {
    let v = without(review(), "/subject/0/digest/gitCommit");
    expect_error(
        &v,
        "subject[0].digest.gitCommit",
        "required when gitTree is present",
    );
}

#[test]
fn mixed_sha1_and_sha256_git_ids() {
    let v = with(review(), "/subject/0/digest/gitTree", json!(DIRHASH));
    expect_error(&v, "subject[0].digest.gitTree", "same hash algorithm");
}

#[test]
fn extra_digest_algorithm_on_source() {
    let v = with(review(), "/subject/0/digest/sha1", json!(COMMIT));
    expect_error(&v, "subject[0].digest.sha1", "unexpected digest");
}

#[test]
fn subject_name_not_a_url() {
    let v = with(submission(), "/subject/0/name", json!("acme/app"));
    expect_error(&v, "subject[0].name", "expected a URL");
}

// ---- submission ---------------------------------------------------------------------

#[test]
fn repository_differs_from_subject() {
    let v = with(
        submission(),
        "/predicate/repository",
        json!("https://git.example/evil/app"),
    );
    expect_error(&v, "predicate.repository", "must equal subject[0].name");
}

#[test]
fn unknown_predicate_field() {
    let v = with(submission(), "/predicate/approvedBy", json!("me"));
    expect_error(&v, "predicate.approvedBy", "unknown field");
}

#[test]
fn missing_product() {
    let v = without(submission(), "/predicate/product");
    expect_error(&v, "predicate", "missing field `product`");
}

#[test]
fn empty_version() {
    let v = with(submission(), "/predicate/version", json!(" "));
    expect_error(&v, "predicate.version", "must not be empty");
}

#[test]
fn scope_word_other_than_full() {
    let v = with(
        submission(),
        "/predicate/reviewRequest/scope",
        json!("partial"),
    );
    expect_error(
        &v,
        "predicate.reviewRequest.scope",
        "expected \"full\" or a list of paths",
    );
}

#[test]
fn empty_scope_list() {
    let v = with(submission(), "/predicate/reviewRequest/scope", json!([]));
    expect_error(&v, "predicate.reviewRequest.scope", "non-empty list");
}

#[test]
fn scope_path_escapes_the_tree() {
    let v = with(review(), "/predicate/scope", json!(["src", "../etc"]));
    expect_error(&v, "predicate.scope[1]", "'..'");
}

#[test]
fn absolute_scope_path() {
    let v = with(review(), "/predicate/scope", json!(["/src"]));
    expect_error(&v, "predicate.scope[0]", "relative");
}

#[test]
fn unknown_review_request_field() {
    let v = with(
        submission(),
        "/predicate/reviewRequest/deadline",
        json!("soon"),
    );
    expect_error(&v, "predicate.reviewRequest.deadline", "unknown field");
}

#[test]
fn submitted_at_not_rfc3339() {
    let v = with(submission(), "/predicate/submittedAt", json!("31/01/2025"));
    expect_error(&v, "predicate.submittedAt", "RFC 3339");
}

#[test]
fn submitted_at_impossible_date() {
    let v = with(
        submission(),
        "/predicate/submittedAt",
        json!("2025-02-29T00:00:00Z"),
    );
    expect_error(&v, "predicate.submittedAt", "day 29");
}

// ---- review -------------------------------------------------------------------------

#[test]
fn wrong_verdict() {
    let v = with(review(), "/predicate/verdict", json!("lgtm"));
    expect_error(
        &v,
        "predicate.verdict",
        "expected one of approved, approved-with-findings, rejected",
    );
}

#[test]
fn verdict_not_a_string() {
    let v = with(review(), "/predicate/verdict", json!(true));
    expect_error(&v, "predicate.verdict", "expected one of approved");
}

#[test]
fn report_digest_not_hex() {
    let v = with(review(), "/predicate/reportDigest/sha256", json!("zz"));
    expect_error(&v, "predicate.reportDigest.sha256", "64 lowercase hex");
}

#[test]
fn report_digest_other_algorithm() {
    let v = with(review(), "/predicate/reportDigest", json!({"sha512": "00"}));
    expect_error(&v, "predicate.reportDigest.sha512", "unknown field");
}

#[test]
fn reviewed_at_lowercase_separators() {
    let v = with(
        review(),
        "/predicate/reviewedAt",
        json!("2025-02-03t09:30:00z"),
    );
    expect_error(&v, "predicate.reviewedAt", "RFC 3339");
}

#[test]
fn findings_with_control_character() {
    let v = with(review(), "/predicate/findings", json!("bad\u{7}bell"));
    expect_error(&v, "predicate.findings", "control characters");
}

// ---- build --------------------------------------------------------------------------

#[test]
fn build_without_subjects() {
    let v = with(build(), "/subject", json!([]));
    expect_error(&v, "subject", "at least one artifact");
}

#[test]
fn artifact_digest_not_sha256() {
    let v = with(build(), "/subject/0/digest", json!({"sha512": ARTIFACT}));
    expect_error(&v, "subject[0].digest.sha512", "unexpected digest");
}

#[test]
fn artifact_digest_uppercase() {
    let v = with(
        build(),
        "/subject/0/digest/sha256",
        json!(ARTIFACT.to_uppercase()),
    );
    expect_error(&v, "subject[0].digest.sha256", "64 lowercase hex");
}

#[test]
fn duplicate_artifact_name() {
    let mut v = build();
    let s = v["subject"][0].clone();
    v["subject"].as_array_mut().unwrap().push(s);
    expect_error(&v, "subject[1].name", "duplicate artifact name");
}

#[test]
fn wrong_build_type() {
    let v = with(
        build(),
        "/predicate/buildDefinition/buildType",
        json!("https://example.com/gha/v1"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.buildType",
        "expected https://glassbox.dev/build/command/v1",
    );
}

#[test]
fn output_path_with_dot_dot() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/outputPath",
        json!("../app"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.outputPath",
        "'..'",
    );
}

#[test]
fn absolute_working_directory() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/workingDirectory",
        json!("/tmp"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.workingDirectory",
        "relative",
    );
}

#[test]
fn missing_command() {
    let v = without(
        build(),
        "/predicate/buildDefinition/externalParameters/command",
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters",
        "missing field `command`",
    );
}

#[test]
fn unknown_external_parameter() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/network",
        json!(true),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.network",
        "unknown field",
    );
}

#[test]
fn negative_timeout() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/timeoutSeconds",
        json!(-1),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.timeoutSeconds",
        "invalid value",
    );
}

#[test]
fn environment_name_with_equals() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/environment",
        json!({"A=B": "1"}),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.environment.A=B",
        "'='",
    );
}

#[test]
fn two_resolved_dependencies() {
    let mut v = build();
    let d = v["predicate"]["buildDefinition"]["resolvedDependencies"][0].clone();
    v["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array_mut()
        .unwrap()
        .push(d);
    expect_error(
        &v,
        "predicate.buildDefinition.resolvedDependencies",
        "exactly one entry",
    );
}

#[test]
fn dependency_without_dir_hash() {
    let v = without(
        build(),
        "/predicate/buildDefinition/resolvedDependencies/0/digest/dirHash",
    );
    expect_error(
        &v,
        "predicate.buildDefinition.resolvedDependencies[0].digest",
        "missing field `dirHash`",
    );
}

#[test]
fn dependency_uri_not_a_url() {
    let v = with(
        build(),
        "/predicate/buildDefinition/resolvedDependencies/0/uri",
        json!("app"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.resolvedDependencies[0].uri",
        "expected a URL",
    );
}

#[test]
fn missing_builder_id() {
    let v = without(build(), "/predicate/runDetails/builder/id");
    expect_error(&v, "predicate.runDetails.builder", "missing field `id`");
}

#[test]
fn unknown_builder_field() {
    let v = with(
        build(),
        "/predicate/runDetails/builder/trustMe",
        json!(true),
    );
    expect_error(&v, "predicate.runDetails.builder.trustMe", "unknown field");
}

#[test]
fn unknown_slsa_top_level_field() {
    let v = with(build(), "/predicate/extra", json!({}));
    expect_error(&v, "predicate.extra", "unknown field");
}

#[test]
fn internal_parameters_not_an_object() {
    let v = with(
        build(),
        "/predicate/buildDefinition/internalParameters",
        json!([1]),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.internalParameters",
        "invalid type",
    );
}

#[test]
fn finished_before_started() {
    let v = with(
        build(),
        "/predicate/runDetails/metadata/finishedOn",
        json!("2025-02-04T09:00:00Z"),
    );
    expect_error(
        &v,
        "predicate.runDetails.metadata.finishedOn",
        "before startedOn",
    );
}

#[test]
fn empty_byproduct_descriptor() {
    let v = with(
        build(),
        "/predicate/runDetails/byproducts",
        json!([{"name": "log"}]),
    );
    expect_error(
        &v,
        "predicate.runDetails.byproducts[0]",
        "at least one of uri, digest, content",
    );
}

// ---- key events ---------------------------------------------------------------------

#[test]
fn key_id_public_key_mismatch() {
    let v = with(
        register(&key(7)),
        "/predicate/publicKey",
        register(&key(8))["predicate"]["publicKey"].clone(),
    );
    expect_error(&v, "predicate.publicKey", "but the subject names");
}

#[test]
fn subject_digest_differs_from_name() {
    let v = with(
        register(&key(7)),
        "/subject/0/digest/sha256",
        json!(key_id(&key(8))),
    );
    expect_error(&v, "subject[0].digest.sha256", "must equal subject[0].name");
}

#[test]
fn public_key_bad_base64() {
    let v = with(register(&key(7)), "/predicate/publicKey", json!("!!!"));
    expect_error(&v, "predicate.publicKey", "base64");
}

#[test]
fn public_key_wrong_length() {
    let v = with(register(&key(7)), "/predicate/publicKey", json!("AAAA"));
    expect_error(&v, "predicate.publicKey", "32-byte");
}

#[test]
fn empty_roles() {
    let v = with(register(&key(7)), "/predicate/roles", json!([]));
    expect_error(&v, "predicate.roles", "at least one");
}

#[test]
fn duplicate_role() {
    let v = with(
        register(&key(7)),
        "/predicate/roles",
        json!(["vendor", "vendor"]),
    );
    expect_error(&v, "predicate.roles[1]", "duplicate role vendor");
}

#[test]
fn unknown_role() {
    let v = with(
        register(&key(7)),
        "/predicate/roles",
        json!(["vendor", "admin"]),
    );
    expect_error(
        &v,
        "predicate.roles[1]",
        "expected one of vendor, reviewer, builder, operator",
    );
}

#[test]
fn unknown_event() {
    let v = with(register(&key(7)), "/predicate/event", json!("suspend"));
    expect_error(&v, "predicate.event", "expected one of register, revoke");
}

#[test]
fn missing_event() {
    let v = without(register(&key(7)), "/predicate/event");
    expect_error(&v, "predicate.event", "required");
}

#[test]
fn revoke_fields_in_a_registration() {
    let v = with(register(&key(7)), "/predicate/reason", json!("x"));
    expect_error(&v, "predicate.reason", "unknown field");
}

#[test]
fn revoke_without_reason() {
    let v = without(revoke(&key(7)), "/predicate/reason");
    expect_error(&v, "predicate", "missing field `reason`");
}

#[test]
fn compromised_since_not_rfc3339() {
    let v = with(
        revoke(&key(7)),
        "/predicate/compromisedSince",
        json!("yesterday"),
    );
    expect_error(&v, "predicate.compromisedSince", "RFC 3339");
}

#[test]
fn key_event_subject_not_a_key_id() {
    let v = with(revoke(&key(7)), "/subject/0/name", json!("alice"));
    expect_error(&v, "subject[0].name", "64 lowercase hex");
}

#[test]
fn relative_build_path() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/buildPath",
        json!("build/src"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.buildPath",
        "absolute",
    );
}

#[test]
fn build_path_with_dot_dot() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/buildPath",
        json!("/build/../etc"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.buildPath",
        "normalised",
    );
}

#[test]
fn build_dependency_with_an_uppercase_package_name() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/buildDependencies",
        json!([{"package": "Help2Man", "version": "1.49.3"}]),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.buildDependencies[0].package",
        "Debian package name",
    );
}

#[test]
fn build_dependency_listed_twice() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/buildDependencies",
        json!([
            {"package": "help2man", "version": "1.49.3"},
            {"package": "help2man", "version": "1.49.2"}
        ]),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.buildDependencies[1].package",
        "twice",
    );
}

#[test]
fn build_dependency_without_a_version() {
    let v = with(
        build(),
        "/predicate/buildDefinition/externalParameters/buildDependencies",
        json!([{"package": "help2man"}]),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.externalParameters.buildDependencies[0]",
        "missing field `version`",
    );
}

#[test]
fn toolchain_identity_with_a_short_sha256() {
    let v = with(
        build(),
        "/predicate/buildDefinition/internalParameters/toolchain",
        json!([{"name": "cc", "path": "/usr/bin/gcc-12", "sha256": "abcd", "version": "gcc 12"}]),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.internalParameters.toolchain[0].sha256",
        "64 lowercase hex",
    );
}

#[test]
fn toolchain_identity_that_is_not_a_list() {
    let v = with(
        build(),
        "/predicate/buildDefinition/internalParameters/toolchain",
        json!("gcc 12"),
    );
    expect_error(
        &v,
        "predicate.buildDefinition.internalParameters.toolchain",
        "expected a list",
    );
}
