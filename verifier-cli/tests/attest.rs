//! `glassbox attest …`: the envelopes parse as the log will parse them, carry what the
//! flags say, verify under the signer's key, and bad input fails with one line.

mod common;

use std::fs;
use std::path::Path;

use common::{fails_with, git, glassbox, make_repo, ok};
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEventPredicate, Scope, Statement};
use serde_json::Value;

const URL: &str = "https://example.com/app.git";
const TIME: &str = "2025-01-31T12:00:00Z";

/// A repository plus a vendor key, in a temporary directory.
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir(&repo).unwrap();
    make_repo(&repo);
    ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "vendor.pem"],
    ));
    tmp
}

/// Parse an envelope file as the log does and check it verifies under `public_key`.
fn open(dir: &Path, file: &str, public_key: &str) -> (Statement, Attestation, Value) {
    let bytes = fs::read(dir.join(file)).unwrap();
    let envelope = Envelope::from_json(&bytes).unwrap();
    assert_eq!(
        bytes,
        [envelope.to_canonical_json(), b"\n".to_vec()].concat()
    );
    let key = glassbox_keys::load_verifying_key(&dir.join(public_key)).unwrap();
    envelope.verify_signature(0, &key).unwrap();
    let (statement, attestation) = Attestation::from_envelope(&envelope).unwrap();
    let json: Value = serde_json::from_slice(&envelope.payload).unwrap();
    (statement, attestation, json)
}

fn source_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "attest",
        "source",
        "--repo",
        "repo",
        "--rev",
        "HEAD",
        "--repository-url",
        URL,
        "--product",
        "app",
        "--version",
        "1.2.0",
        "--key",
        "vendor.pem",
        "--time",
        TIME,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn source_submission_names_the_commit_and_is_reproducible() {
    let tmp = setup();
    ok(glassbox(
        tmp.path(),
        &source_args(&["-o", "source.json", "--scope", "src"]),
    ));
    let (_, attestation, json) = open(tmp.path(), "source.json", "vendor.pem.pub");
    let Attestation::SourceSubmission(sub) = attestation else {
        panic!("not a submission")
    };
    let tree: Value = serde_json::from_str(&ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", "repo", "--rev", "HEAD", "--json"],
    )))
    .unwrap();
    assert_eq!(sub.source.dir_hash, tree["dirHash"]);
    assert_eq!(
        sub.source.git_commit.as_deref(),
        Some(git(&tmp.path().join("repo"), &["rev-parse", "HEAD"]).as_str())
    );
    assert_eq!(sub.predicate.product, "app");
    assert_eq!(sub.predicate.version, "1.2.0");
    assert_eq!(sub.predicate.submitted_at, TIME);
    assert_eq!(
        sub.predicate.review_request.scope,
        Scope::Paths(vec!["src".into()])
    );
    assert_eq!(json["subject"][0]["name"], URL);

    // Same inputs, same --time: byte-identical envelope, here on stdout.
    let stdout = ok(glassbox(tmp.path(), &source_args(&["--scope", "src"])));
    assert_eq!(
        stdout.as_bytes(),
        fs::read(tmp.path().join("source.json")).unwrap()
    );
}

#[test]
fn review_records_verdict_scope_and_report_digest() {
    let tmp = setup();
    fs::write(tmp.path().join("report.txt"), b"abc").unwrap();
    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "review",
            "--repo",
            "repo",
            "--rev",
            "HEAD",
            "--repository-url",
            URL,
            "--verdict",
            "approved-with-findings",
            "--scope",
            "src",
            "--scope",
            "bin",
            "--findings",
            "one low",
            "--report",
            "report.txt",
            "--key",
            "vendor.pem",
            "--time",
            "2025-02-03T10:30:00+01:00",
            "-o",
            "review.json",
        ],
    ));
    let (_, attestation, _) = open(tmp.path(), "review.json", "vendor.pem.pub");
    let Attestation::SourceReview(review) = attestation else {
        panic!("not a review")
    };
    let p = review.predicate;
    assert_eq!(p.verdict.as_str(), "approved-with-findings");
    assert_eq!(p.scope, Scope::Paths(vec!["src".into(), "bin".into()]));
    assert_eq!(p.findings.as_deref(), Some("one low"));
    assert_eq!(
        p.report_digest.unwrap().sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(p.reviewed_at, "2025-02-03T09:30:00Z", "converted to UTC");
}

#[test]
fn build_records_artifact_and_recipe() {
    let tmp = setup();
    fs::write(tmp.path().join("app.bin"), b"abc").unwrap();
    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "build",
            "--artifact",
            "app.bin",
            "--repo",
            "repo",
            "--rev",
            "HEAD",
            "--repository-url",
            URL,
            "--command",
            "make app",
            "--output-path",
            "out/app.bin",
            "--workdir",
            "src",
            "--env",
            "SOURCE_DATE_EPOCH=0",
            "--env",
            "LANG=C",
            "--toolchain",
            "rust:1.89",
            "--builder-id",
            "https://builder.example.com",
            "--key",
            "vendor.pem",
            "--time",
            TIME,
            "-o",
            "build.json",
        ],
    ));
    let (_, _, json) = open(tmp.path(), "build.json", "vendor.pem.pub");
    assert_eq!(json["subject"][0]["name"], "app.bin");
    assert_eq!(
        json["subject"][0]["digest"]["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let params = &json["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(params["command"], "make app");
    assert_eq!(params["outputPath"], "out/app.bin");
    assert_eq!(params["workingDirectory"], "src");
    assert_eq!(params["toolchain"], "rust:1.89");
    assert_eq!(params["environment"]["SOURCE_DATE_EPOCH"], "0");
    assert_eq!(params["environment"]["LANG"], "C");
    let deps = &json["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(deps["uri"], URL);
    assert_eq!(
        deps["digest"]["gitCommit"],
        git(&tmp.path().join("repo"), &["rev-parse", "HEAD"])
    );
    let run = &json["predicate"]["runDetails"];
    assert_eq!(run["builder"]["id"], "https://builder.example.com");
    assert_eq!(run["metadata"]["finishedOn"], TIME);
}

#[test]
fn every_source_statement_from_a_repo_names_the_commit_and_its_tree() {
    // An annotated tag: gitCommit must be the commit it points at, not the tag object.
    let tmp = setup();
    let repo = tmp.path().join("repo");
    git(&repo, &["tag", "-a", "v1.0", "-m", "release 1.0"]);
    let commit = git(&repo, &["rev-parse", "v1.0^{commit}"]);
    let tree = git(&repo, &["rev-parse", "v1.0^{tree}"]);
    assert_ne!(git(&repo, &["rev-parse", "v1.0"]), commit);
    fs::write(tmp.path().join("app.bin"), b"abc").unwrap();
    let common = ["--repo", "repo", "--rev", "v1.0", "--repository-url", URL];
    let sign = ["--key", "vendor.pem", "--time", TIME, "-o"];
    let kinds: [(&str, &[&str]); 3] = [
        ("source", &["--product", "app", "--version", "1.0"]),
        ("review", &["--verdict", "approved"]),
        (
            "build",
            &[
                "--artifact",
                "app.bin",
                "--command",
                "make",
                "--output-path",
                "app.bin",
                "--builder-id",
                "https://b.example",
            ],
        ),
    ];
    for (kind, extra) in kinds {
        let file = format!("{kind}.json");
        let mut args = vec!["attest", kind];
        args.extend(common);
        args.extend(extra);
        args.extend(sign);
        args.push(&file);
        ok(glassbox(tmp.path(), &args));
        let (_, _, json) = open(tmp.path(), &file, "vendor.pem.pub");
        let digest = if kind == "build" {
            &json["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]
        } else {
            &json["subject"][0]["digest"]
        };
        assert_eq!(digest["gitCommit"], commit.as_str(), "{kind}: {digest}");
        assert_eq!(digest["gitTree"], tree.as_str(), "{kind}: {digest}");
        assert!(digest["dirHash"].is_string(), "{kind}: {digest}");
    }
}

#[test]
fn key_events_register_self_sign_and_revoke() {
    let tmp = setup();
    ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "op.pem"],
    ));
    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "key",
            "--self-signed",
            "--register",
            "op.pem.pub",
            "--name",
            "Operator",
            "--organisation",
            "Example Log",
            "--roles",
            "operator",
            "--key",
            "op.pem",
            "-o",
            "genesis.json",
        ],
    ));
    let (_, genesis, _) = open(tmp.path(), "genesis.json", "op.pem.pub");
    let Attestation::KeyEvent(event) = genesis else {
        panic!("not a key event")
    };
    let op_id = ok(glassbox(tmp.path(), &["key", "id", "op.pem"]));
    assert_eq!(event.key_id, op_id.trim());

    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "key",
            "--register",
            "vendor.pem.pub",
            "--name",
            "Vendor",
            "--organisation",
            "Acme",
            "--roles",
            "vendor,builder",
            "--key",
            "op.pem",
            "-o",
            "register.json",
        ],
    ));
    let (_, register, _) = open(tmp.path(), "register.json", "op.pem.pub");
    let Attestation::KeyEvent(event) = register else {
        panic!("not a key event")
    };
    let KeyEventPredicate::Register(reg) = event.predicate else {
        panic!("not register")
    };
    assert_eq!(
        reg.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        ["vendor", "builder"]
    );
    assert_eq!(reg.organisation, "Acme");

    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "key",
            "--revoke",
            "vendor.pem.pub",
            "--reason",
            "laptop stolen",
            "--compromised-since",
            "2025-03-01T01:00:00+01:00",
            "--key",
            "op.pem",
            "-o",
            "revoke.json",
        ],
    ));
    let (_, revoke, _) = open(tmp.path(), "revoke.json", "op.pem.pub");
    let Attestation::KeyEvent(event) = revoke else {
        panic!("not a key event")
    };
    let vendor_id = ok(glassbox(tmp.path(), &["key", "id", "vendor.pem.pub"]));
    assert_eq!(event.key_id, vendor_id.trim());
    let KeyEventPredicate::Revoke(rev) = event.predicate else {
        panic!("not revoke")
    };
    assert_eq!(
        rev.compromised_since.as_deref(),
        Some("2025-03-01T00:00:00Z")
    );
}

#[test]
fn existing_output_is_kept_unless_forced() {
    let tmp = setup();
    fs::write(tmp.path().join("out.json"), b"keep").unwrap();
    fails_with(
        glassbox(tmp.path(), &source_args(&["-o", "out.json"])),
        &["out.json", "already exists"],
    );
    assert_eq!(fs::read(tmp.path().join("out.json")).unwrap(), b"keep");
    ok(glassbox(
        tmp.path(),
        &source_args(&["-o", "out.json", "--force"]),
    ));
    open(tmp.path(), "out.json", "vendor.pem.pub");
}

#[test]
fn self_registration_needs_self_signed_and_self_signed_needs_own_key() {
    let tmp = setup();
    ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "op.pem"],
    ));
    let base = [
        "attest",
        "key",
        "--name",
        "N",
        "--organisation",
        "O",
        "--roles",
        "operator",
    ];
    let mut args = base.to_vec();
    args.extend(["--register", "op.pem.pub", "--key", "op.pem"]);
    fails_with(
        glassbox(tmp.path(), &args),
        &["op.pem.pub", "--self-signed"],
    );
    let mut args = base.to_vec();
    args.extend([
        "--self-signed",
        "--register",
        "vendor.pem.pub",
        "--key",
        "op.pem",
    ]);
    fails_with(
        glassbox(tmp.path(), &args),
        &["vendor.pem.pub", "public half"],
    );
}

#[test]
fn bad_signing_keys_are_named() {
    let tmp = setup();
    let with_key = |key: &str| {
        let mut args = source_args(&[]);
        let i = args.iter().position(|a| *a == "vendor.pem").unwrap();
        args[i] = key;
        glassbox(tmp.path(), &args)
    };
    fails_with(with_key("missing.pem"), &["missing.pem"]);
    fs::write(
        tmp.path().join("corrupt.pem"),
        "-----BEGIN PRIVATE KEY-----\nxx\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            tmp.path().join("corrupt.pem"),
            fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    fails_with(with_key("corrupt.pem"), &["corrupt.pem"]);
    fails_with(with_key("vendor.pem.pub"), &["vendor.pem.pub"]);
}

#[test]
fn bad_source_and_time_are_named() {
    let tmp = setup();
    let mut args = source_args(&[]);
    let rev = args.iter().position(|a| *a == "HEAD").unwrap();
    args[rev] = "v9.9";
    fails_with(glassbox(tmp.path(), &args), &["unknown revision", "v9.9"]);

    let mut args = source_args(&[]);
    let repo = args.iter().position(|a| *a == "repo").unwrap();
    args[repo] = ".";
    fails_with(glassbox(tmp.path(), &args), &["cannot open git repository"]);

    let mut args = source_args(&[]);
    let t = args.iter().position(|a| *a == TIME).unwrap();
    args[t] = "yesterday";
    fails_with(glassbox(tmp.path(), &args), &["--time", "yesterday"]);

    fails_with(
        glassbox(
            tmp.path(),
            &[
                "attest",
                "build",
                "--artifact",
                "nope.bin",
                "--repo",
                "repo",
                "--rev",
                "HEAD",
                "--repository-url",
                URL,
                "--command",
                "make",
                "--output-path",
                "nope.bin",
                "--builder-id",
                "https://b.example",
                "--key",
                "vendor.pem",
            ],
        ),
        &["nope.bin"],
    );
}

#[test]
fn build_records_the_build_environment() {
    let tmp = setup();
    fs::write(tmp.path().join("app.bin"), b"abc").unwrap();
    let dpkg_version = String::from_utf8(
        std::process::Command::new("dpkg-query")
            .args(["-W", "-f", "${Version}", "dpkg"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "build",
            "--artifact",
            "app.bin",
            "--repo",
            "repo",
            "--rev",
            "HEAD",
            "--repository-url",
            URL,
            "--command",
            "./configure && make",
            "--output-path",
            "app.bin",
            "--build-path",
            "/build/src",
            "--build-dep",
            "dpkg",
            "--build-dep",
            "help2man=1.49.3",
            "--tool",
            "sh",
            "--builder-id",
            "https://builder.example.com",
            "--key",
            "vendor.pem",
            "-o",
            "build.json",
        ],
    ));
    let (_, attestation, json) = open(tmp.path(), "build.json", "vendor.pem.pub");
    let def = &json["predicate"]["buildDefinition"];
    assert_eq!(def["externalParameters"]["buildPath"], "/build/src");
    assert_eq!(
        def["externalParameters"]["buildDependencies"],
        serde_json::json!([
            {"package": "dpkg", "version": dpkg_version},
            {"package": "help2man", "version": "1.49.3"}
        ])
    );
    let sh = &def["internalParameters"]["toolchain"][0];
    assert_eq!(sh["name"], "sh");
    let path = sh["path"].as_str().unwrap();
    let bytes = fs::read(path).unwrap();
    assert_eq!(
        sh["sha256"],
        glassbox_core::digest::Sha256Digest::of(&bytes).hex()
    );
    let Attestation::Build(build) = attestation else {
        panic!("not a build")
    };
    assert_eq!(build.toolchain()[0].path, path);
    // inspect shows all of it.
    let shown = ok(glassbox(tmp.path(), &["inspect", "build.json"]));
    for needle in [
        "buildPath: /build/src",
        "- package: help2man",
        "toolchain:",
        &format!("path: {path}"),
    ] {
        assert!(shown.contains(needle), "{needle} not in {shown}");
    }

    // A tool that is not on the recipe's PATH, or a package not installed and given
    // without a version, is refused rather than recorded half-known.
    for (flag, value, needle) in [
        ("--tool", "no-such-compiler", "not on the build's PATH"),
        ("--build-dep", "glassbox-no-such-package", "not installed"),
    ] {
        let out = glassbox(
            tmp.path(),
            &[
                "attest",
                "build",
                "--artifact",
                "app.bin",
                "--repo",
                "repo",
                "--rev",
                "HEAD",
                "--repository-url",
                URL,
                "--command",
                "make",
                "--output-path",
                "app.bin",
                flag,
                value,
                "--builder-id",
                "https://builder.example.com",
                "--key",
                "vendor.pem",
            ],
        );
        common::fails_with(out, &[needle]);
    }
}
