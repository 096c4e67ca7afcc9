//! The common mistakes with the real `glassbox` binary: each ends with exit status 2
//! and one line on stderr that names its cause once and says what to do next.

use std::net::TcpListener;

use glassbox_tests::cli::{Glassbox, Run};
use glassbox_tests::repo;

/// `run` failed as a usage or I/O error with one line naming `cause` exactly once and
/// saying `next`.
#[track_caller]
fn says_once_then_what_to_do(run: &Run, cause: &str, next: &str) {
    run.exits(2);
    let line = run.stderr.trim_end();
    assert!(!line.contains('\n'), "one line:\n{run}");
    assert!(line.starts_with("glassbox: error: "), "{run}");
    assert_eq!(line.matches(cause).count(), 1, "{cause:?} once in:\n{line}");
    let (_, after) = line
        .split_once("; ")
        .unwrap_or_else(|| panic!("a next step after `; ` in:\n{line}"));
    assert!(after.contains(next), "{next:?} in the next step:\n{line}");
}

fn workspace() -> (tempfile::TempDir, Glassbox) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app"), b"APP\0").unwrap();
    let glassbox = Glassbox::new(dir.path());
    (dir, glassbox)
}

#[test]
fn a_missing_policy_names_the_os_error_once_and_the_flag_to_fix() {
    let (_dir, glassbox) = workspace();
    let run = glassbox.run([
        "verify",
        "app",
        "--policy",
        "nope.toml",
        "--bundle",
        "app.bundle.json",
    ]);
    says_once_then_what_to_do(&run, "No such file or directory", "give --policy");
    assert!(
        run.stderr.contains("cannot read trust policy nope.toml"),
        "{run}"
    );
}

#[test]
fn a_malformed_policy_names_the_line_and_where_the_fields_are_described() {
    let (dir, glassbox) = workspace();
    std::fs::write(dir.path().join("broken.toml"), "[log\n").unwrap();
    let run = glassbox.run([
        "verify",
        "app",
        "--policy",
        "broken.toml",
        "--bundle",
        "app.bundle.json",
    ]);
    says_once_then_what_to_do(&run, "invalid TOML", "keys-and-policy.md");
    assert!(run.stderr.contains("broken.toml:1:"), "{run}");

    std::fs::write(dir.path().join("wrong.toml"), "[log]\nvkey = 5\n").unwrap();
    let run = glassbox.run([
        "verify",
        "app",
        "--policy",
        "wrong.toml",
        "--bundle",
        "app.bundle.json",
    ]);
    says_once_then_what_to_do(&run, "must be a string", "correct the policy");
    assert!(run.stderr.contains("wrong.toml:2:8: log.vkey"), "{run}");
}

#[test]
fn an_unreachable_server_says_refused_once_and_to_start_it_or_fix_the_url() {
    let (_dir, glassbox) = workspace();
    // A loopback port nothing listens on: bound by the kernel, then closed.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let run = glassbox.run([
        "bundle",
        "--artifact",
        &digest,
        "--server",
        &url,
        "-o",
        "x.bundle.json",
    ]);
    says_once_then_what_to_do(&run, "Connection refused", "start the log server");
    assert!(run.stderr.contains(&url), "names the server: {run}");
}

#[test]
fn a_wrong_key_file_says_what_is_wrong_with_it_and_how_to_make_one() {
    let (dir, glassbox) = workspace();
    glassbox.ok(["key", "generate", "--out", "k.pem"]);
    std::fs::write(dir.path().join("notes.txt"), "not a key\n").unwrap();
    let sign_with = |key: &str| {
        glassbox.run([
            "attest",
            "key",
            "--register",
            "k.pem.pub",
            "--name",
            "A",
            "--organisation",
            "B",
            "--roles",
            "reviewer",
            "--key",
            key,
        ])
    };
    says_once_then_what_to_do(
        &sign_with("k.pem.pub"),
        "is a public key, but a private key is needed",
        "glassbox key generate",
    );
    says_once_then_what_to_do(
        &sign_with("notes.txt"),
        "not a PEM file",
        "glassbox key generate",
    );
    says_once_then_what_to_do(
        &sign_with("missing.pem"),
        "does not exist",
        "glassbox key generate",
    );
}

#[test]
fn an_unknown_revision_names_it_once_and_how_to_list_the_real_ones() {
    let (dir, glassbox) = workspace();
    repo::make_project(&dir.path().join("src-repo"));
    let run = glassbox.run(["hash", "tree", "--repo", "src-repo", "--rev", "v9.9"]);
    says_once_then_what_to_do(&run, "\"v9.9\"", "give --rev");
    assert_eq!(run.stderr.matches("v9.9").count(), 1, "{run}");
    assert!(
        run.stderr
            .contains("unknown revision \"v9.9\": no commit, tag or branch"),
        "{run}"
    );
}

#[test]
fn a_key_the_log_has_not_registered_is_refused_and_told_how_to_get_registered() {
    use glassbox_tests::story::{Story, REPOSITORY_URL};
    let story = Story::begin();
    story
        .glassbox
        .ok(["key", "generate", "--out", "stranger.pem"]);
    story.glassbox.ok([
        "attest",
        "source",
        "--repo",
        "app",
        "--rev",
        "HEAD",
        "--repository-url",
        REPOSITORY_URL,
        "--product",
        "app",
        "--version",
        "9.9",
        "--key",
        "stranger.pem",
        "-o",
        "stranger.dsse.json",
    ]);
    let run = story
        .glassbox
        .run(["submit", "stranger.dsse.json", "--server", &story.url]);
    says_once_then_what_to_do(
        &run,
        "is not registered",
        "have the log's operator register this one (`glassbox attest key --register KEY.pub",
    );
    assert!(run.stderr.contains("unknown_key"), "{run}");
}
