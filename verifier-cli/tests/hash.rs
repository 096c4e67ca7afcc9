//! `glassbox hash file` and `glassbox hash tree` against independent references:
//! `sha256sum`, the docs/design.md §2 shell pipeline and `git rev-parse`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{fails_with, git, glassbox, make_repo, ok};

const PIPELINE: &str =
    "find . -type f | cut -c3- | LC_ALL=C sort | xargs -d '\\n' -r sha256sum | sha256sum";

fn shell_dir_hash(dir: &Path) -> String {
    let out = Command::new("sh")
        .args(["-c", PIPELINE])
        .current_dir(dir)
        .output()
        .expect("spawn sh");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_string()
}

fn field(output: &str, name: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {output:?}"))
        .to_string()
}

#[test]
fn dir_hash_of_checkout_repo_and_shell_pipeline_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    make_repo(&work);
    // A submodule entry (gitlink): skipped by --repo, an empty directory in a checkout.
    let head = git(&work, &["rev-parse", "HEAD"]);
    git(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},vendored"),
        ],
    );
    git(&work, &["commit", "-q", "-m", "add submodule"]);

    // A fresh checkout without .git/ is what the pipeline is defined on.
    git(tmp.path(), &["clone", "-q", "work", "checkout"]);
    let checkout = tmp.path().join("checkout");
    fs::remove_dir_all(checkout.join(".git")).unwrap();
    let want = shell_dir_hash(&checkout);

    let from_checkout = ok(glassbox(tmp.path(), &["hash", "tree", "checkout"]));
    assert_eq!(field(&from_checkout, "dirHash"), want);

    // The working tree hashes the same with its .git directory present.
    let from_work = ok(glassbox(tmp.path(), &["hash", "tree", "work"]));
    assert_eq!(field(&from_work, "dirHash"), want);

    let from_repo = ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", "work", "--rev", "HEAD"],
    ));
    assert_eq!(field(&from_repo, "dirHash"), want);
    assert_eq!(
        field(&from_repo, "gitCommit"),
        git(&work, &["rev-parse", "HEAD"])
    );
    assert_eq!(
        field(&from_repo, "gitTree"),
        git(&work, &["rev-parse", "HEAD^{tree}"])
    );

    // A bare repository needs no checkout at all.
    git(tmp.path(), &["clone", "-q", "--bare", "work", "bare.git"]);
    let from_bare = ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", "bare.git", "--rev", &head],
    ));
    let first_commit_want = {
        let out = ok(glassbox(
            tmp.path(),
            &["hash", "tree", "--repo", "work", "--rev", "HEAD~1"],
        ));
        field(&out, "dirHash")
    };
    assert_eq!(field(&from_bare, "dirHash"), first_commit_want);
    assert_eq!(field(&from_bare, "gitCommit"), head);
}

#[test]
fn repo_mode_reads_the_commit_not_the_dirty_working_tree() {
    let tmp = tempfile::tempdir().unwrap();
    make_repo(tmp.path());
    let before = ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", ".", "--rev", "HEAD"],
    ));
    fs::write(tmp.path().join("README.md"), b"changed\n").unwrap();
    let after = ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", ".", "--rev", "HEAD"],
    ));
    assert_eq!(before, after);
    let dir = ok(glassbox(tmp.path(), &["hash", "tree", "."]));
    assert_ne!(field(&dir, "dirHash"), field(&before, "dirHash"));
}

#[test]
fn tree_json_has_the_digest_set_keys() {
    let tmp = tempfile::tempdir().unwrap();
    make_repo(tmp.path());
    let out = ok(glassbox(
        tmp.path(),
        &["hash", "tree", "--repo", ".", "--rev", "HEAD", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["gitCommit"], git(tmp.path(), &["rev-parse", "HEAD"]));
    assert_eq!(v["gitTree"], git(tmp.path(), &["rev-parse", "HEAD^{tree}"]));
    assert_eq!(v["dirHash"].as_str().unwrap().len(), 64);

    let out = ok(glassbox(tmp.path(), &["hash", "tree", ".", "--json"]));
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["dirHash"], v["dirHash"]);
    assert!(d.get("gitCommit").is_none());
}

#[test]
fn empty_directory_hashes_like_the_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(glassbox(tmp.path(), &["hash", "tree", "."]));
    assert_eq!(field(&out, "dirHash"), shell_dir_hash(tmp.path()));
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_file_name_is_a_clear_error() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(OsStr::from_bytes(b"bad\xffname")), b"x").unwrap();
    fails_with(
        glassbox(tmp.path(), &["hash", "tree", "."]),
        &["not valid UTF-8"],
    );
}

#[test]
fn unknown_revision_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    make_repo(tmp.path());
    fails_with(
        glassbox(
            tmp.path(),
            &["hash", "tree", "--repo", ".", "--rev", "no-such-tag"],
        ),
        &["unknown revision", "no-such-tag"],
    );
}

#[test]
fn directory_that_is_not_a_repository_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(
        glassbox(
            tmp.path(),
            &["hash", "tree", "--repo", ".", "--rev", "HEAD"],
        ),
        &["cannot open git repository"],
    );
}

#[test]
fn missing_directory_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fails_with(glassbox(tmp.path(), &["hash", "tree", "nope"]), &["nope"]);
}

#[test]
fn hash_file_matches_known_digests_in_argument_order() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("abc"), b"abc").unwrap();
    fs::write(tmp.path().join("empty"), b"").unwrap();
    let out = ok(glassbox(tmp.path(), &["hash", "file", "empty", "abc"]));
    assert_eq!(
        out,
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n\
         sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc\n"
    );
    let json = ok(glassbox(tmp.path(), &["hash", "file", "abc", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["path"], "abc");
    assert_eq!(
        v[0]["digest"],
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn hash_file_of_missing_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("abc"), b"abc").unwrap();
    let out = glassbox(tmp.path(), &["hash", "file", "abc", "missing.bin"]);
    assert!(
        out.stdout.is_empty(),
        "nothing is printed when one file fails"
    );
    fails_with(out, &["missing.bin", "No such file"]);
}
