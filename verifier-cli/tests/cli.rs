//! The command-line contract every command shares: help, completions, usage errors.

mod common;

use common::{glassbox, ok};

#[test]
fn every_command_help_has_examples() {
    let tmp = tempfile::tempdir().unwrap();
    for cmd in [
        &["--help"][..],
        &["key", "generate", "--help"],
        &["key", "id", "--help"],
        &["hash", "file", "--help"],
        &["hash", "tree", "--help"],
        &["attest", "source", "--help"],
        &["attest", "review", "--help"],
        &["attest", "build", "--help"],
        &["attest", "key", "--help"],
        &["inspect", "--help"],
        &["completions", "--help"],
    ] {
        let out = ok(glassbox(tmp.path(), cmd));
        assert!(out.contains("EXAMPLES:"), "{cmd:?}");
        assert!(out.contains("glassbox "), "{cmd:?}");
    }
}

#[test]
fn completions_are_generated_for_bash() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(glassbox(tmp.path(), &["completions", "bash"]));
    assert!(out.contains("_glassbox"));
    assert!(out.contains("attest"));
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["frobnicate"][..],
        &["hash", "tree"],
        &["hash", "tree", "--repo", "."],
        &["completions", "tcsh-from-the-future"],
        &["attest", "key", "--key", "k.pem"],
    ] {
        let out = glassbox(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
