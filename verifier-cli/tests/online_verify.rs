//! `glassbox verify` as a process, offline from bundles made by an in-memory log: the
//! output contract of docs/verification.md (first line, `  ✗ ` lines, `--json`, exit
//! status) and the state directory across runs.

mod common;
#[allow(dead_code)]
#[path = "../src/testlog.rs"]
mod testlog;

use std::fs;
use std::path::Path;

use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::Verdict;

use common::{fails_with, glassbox};
use testlog::TestLog;

const APP: &[u8] = b"the app binary\n";

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// A directory with `app`, `policy.toml` trusting `log`, and `bundle.json` from it.
    fn new(log: &TestLog) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("app"), APP).expect("app");
        fs::write(
            dir.path().join("policy.toml"),
            format!("[log]\nvkey = \"{}\"\n", log.vkey()),
        )
        .expect("policy");
        let setup = Setup { dir };
        setup.write_bundle("bundle.json", log);
        setup
    }

    fn write_bundle(&self, name: &str, log: &TestLog) {
        let bundle = log.bundle(Sha256Digest::of(APP));
        fs::write(
            self.dir.path().join(name),
            serde_json::to_vec(&bundle).expect("json"),
        )
        .expect("bundle");
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn verify(&self, bundle: &str, extra: &[&str]) -> std::process::Output {
        let mut args = vec![
            "verify",
            "app",
            "--policy",
            "policy.toml",
            "--bundle",
            bundle,
            "--state",
            "state",
        ];
        args.extend_from_slice(extra);
        glassbox(self.path(), &args)
    }
}

fn story() -> TestLog {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(APP));
    log
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf8")
}

#[test]
fn verified_offline_prints_verified_first_and_exits_0() {
    let setup = Setup::new(&story());
    let out = setup.verify("bundle.json", &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().next(), Some("VERIFIED"));
    assert!(!text.contains("  ✗ "), "{text}");
    assert!(text.contains("  reviewed   Reviewer (R GmbH)"), "{text}");
    assert!(setup.path().join("state/checkpoints").is_dir());
}

#[test]
fn modified_binary_is_not_verified_and_exits_1() {
    let setup = Setup::new(&story());
    fs::write(setup.path().join("app"), b"the app binary\n\0").expect("modify");
    let out = setup.verify("bundle.json", &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().next(), Some("NOT VERIFIED"));
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  ✗ no logged build attestation names this artifact")
        .unwrap_or_else(|| panic!("{text}"));
    // What to do, from docs/verification.md, on the line after.
    assert!(
        lines[at + 1].starts_with("    → The file is not what was released"),
        "{text}"
    );
}

#[test]
fn rejected_review_is_not_verified() {
    let mut log = TestLog::new();
    log.story_with(Sha256Digest::of(APP), Verdict::Rejected, true);
    let setup = Setup::new(&log);
    let out = setup.verify("bundle.json", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("  ✗ "), "{}", stdout(&out));
}

#[test]
fn json_output_is_the_verdict() {
    let mut log = TestLog::new();
    log.story_with(Sha256Digest::of(APP), Verdict::Approved, false);
    let setup = Setup::new(&log);
    let out = setup.verify("bundle.json", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["failures"][0]["code"], "tooFewBuilders");
    assert_eq!(json["failures"][0]["need"], 2);
    assert!(
        json["failures"][0]["remedy"]
            .as_str()
            .unwrap()
            .starts_with("Wait for independent rebuilders to attest"),
        "{json}"
    );
    assert_eq!(json["consistency"]["status"], "firstSeen");
}

#[test]
fn a_different_history_of_the_same_size_is_a_split_view_with_evidence() {
    let honest = story();
    let setup = Setup::new(&honest);
    assert_eq!(setup.verify("bundle.json", &[]).status.code(), Some(0));
    let mut fork = TestLog::new();
    fork.story_with(Sha256Digest::of(APP), Verdict::ApprovedWithFindings, true);
    setup.write_bundle("fork.json", &fork);
    let out = setup.verify("fork.json", &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.starts_with("NOT VERIFIED\n  ✗ split view"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("saved in"), "{stderr}");
    let evidence: Vec<_> = fs::read_dir(setup.path().join("state/evidence"))
        .expect("evidence dir")
        .collect();
    assert_eq!(evidence.len(), 1);
    // The honest bundle still verifies: state was not replaced by the fork.
    assert_eq!(setup.verify("bundle.json", &[]).status.code(), Some(0));
}

#[test]
fn a_bundle_signed_by_another_log_key_is_not_verified() {
    let setup = Setup::new(&story());
    let mut impostor = TestLog::with_log_key(testlog::key(42));
    impostor.story(Sha256Digest::of(APP));
    setup.write_bundle("impostor.json", &impostor);
    let out = setup.verify("impostor.json", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["failures"][0]["code"], "badLogSignature");
}

#[test]
fn neither_server_nor_bundle_is_a_usage_error() {
    let setup = Setup::new(&story());
    let out = glassbox(setup.path(), &["verify", "app", "--policy", "policy.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreachable_server_is_an_error_naming_it() {
    let setup = Setup::new(&story());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let out = glassbox(
        setup.path(),
        &[
            "verify",
            "app",
            "--policy",
            "policy.toml",
            "--server",
            &url,
            "--state",
            "s",
        ],
    );
    fails_with(out, &[&url, "connection refused"]);
}

#[test]
fn a_missing_bundle_file_is_an_error() {
    let setup = Setup::new(&story());
    fails_with(setup.verify("nope.json", &[]), &["nope.json"]);
}
