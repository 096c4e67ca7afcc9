//! `glassbox rebuild` checks the checkout is the attested source before anything runs:
//! the gitTree binds what dirHash omits (an executable bit here), and a symbolic link
//! leading out of the checkout is refused whatever the dirHash says. In each refusal
//! the recipe would create a marker file; it must not exist afterwards.

mod common;
mod rebuild_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use common::git;
use rebuild_support::{report, Fixture, BUILD};
use serde_json::Value;

/// A recipe that leaves `$MARKER` behind, then builds as [`BUILD`] does.
const MARKING_BUILD: &str = "touch \"$MARKER\"; cat a b > out";

/// Commit everything in the fixture's repository and make it the revision rebuilt.
fn commit_all(fx: &mut Fixture, message: &str) {
    git(&fx.repo, &["add", "-A"]);
    git(&fx.repo, &["commit", "-q", "-m", message]);
    fx.commit = git(&fx.repo, &["rev-parse", "HEAD"]);
}

/// `glassbox hash tree --repo repo --rev REV --json`: {dirHash, gitCommit, gitTree}.
fn identity(fx: &Fixture, rev: &str) -> Value {
    let out = common::ok(common::glassbox(
        fx.tmp.path(),
        &["hash", "tree", "--repo", "repo", "--rev", rev, "--json"],
    ));
    serde_json::from_str(&out).unwrap()
}

/// Where [`MARKING_BUILD`] leaves its marker, and the `--env` that tells it.
fn marker(fx: &Fixture) -> (PathBuf, String) {
    let path = fx.tmp.path().join("recipe-ran");
    let env = format!("MARKER={}", path.display());
    (path, env)
}

#[test]
fn an_executable_bit_the_attested_tree_lacks_is_a_source_tree_divergence_and_the_recipe_never_runs()
{
    let mut fx = Fixture::new();
    let attested = identity(&fx, &fx.commit);
    // Same paths, same bytes; only `a`'s mode changes from 100644 to 100755.
    git(&fx.repo, &["update-index", "--chmod=+x", "a"]);
    git(&fx.repo, &["commit", "-q", "-m", "a is executable"]);
    fx.commit = git(&fx.repo, &["rev-parse", "HEAD"]);
    let changed = identity(&fx, &fx.commit);
    assert_eq!(
        changed["dirHash"], attested["dirHash"],
        "dirHash cannot see it"
    );
    assert_ne!(changed["gitTree"], attested["gitTree"]);

    let (marker, env) = marker(&fx);
    let out = fx.rebuild(
        MARKING_BUILD,
        "out",
        &[
            "--expect-dir-hash",
            attested["dirHash"].as_str().unwrap(),
            "--expect-git-tree",
            attested["gitTree"].as_str().unwrap(),
            "--env",
            &env,
            "--json",
        ],
    );
    let json = report(&out, 1);
    assert_eq!(json["status"], "diverged");
    assert_eq!(json["divergence"]["stage"], "source_tree");
    assert_eq!(json["divergence"]["expected"], attested["gitTree"]);
    assert_eq!(json["divergence"]["actual"], changed["gitTree"]);
    assert_eq!(json["gitTree"], changed["gitTree"]);
    assert_eq!(json["dirHash"], attested["dirHash"]);
    let message = json["divergence"]["message"].as_str().unwrap();
    assert!(message.contains("the recipe was not run"), "{message}");
    assert!(json["output"].is_null());
    assert!(
        !marker.exists(),
        "the recipe ran on a tree it was not meant for"
    );
    assert_eq!(
        fx.leftover_scratch_dirs().len(),
        1,
        "the scratch dir is kept"
    );
}

#[test]
fn expect_git_tree_pins_the_tree_end_to_end() {
    let fx = Fixture::new();
    let tree = git(&fx.repo, &["rev-parse", "HEAD^{tree}"]);
    let expected = fx.expected_output();
    // Any case, as with --expect-dir-hash.
    let json = report(
        &fx.rebuild(
            BUILD,
            "out",
            &[
                "--expect-git-tree",
                &tree.to_uppercase(),
                "--expect",
                &expected,
                "--json",
            ],
        ),
        0,
    );
    assert_eq!(json["status"], "reproduced");
    assert_eq!(json["gitTree"], tree.as_str());

    // The human report names the tree it built.
    let text = common::ok(fx.rebuild(BUILD, "out", &["--expect-git-tree", &tree]));
    assert!(text.contains(&format!(" tree {tree} ")), "{text}");

    // A tree that is not this commit's stops the build, as in --json.
    let other = "0".repeat(40);
    let out = fx.rebuild(BUILD, "out", &["--expect-git-tree", &other]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("DIVERGED (source_tree)"), "{text}");
    assert!(
        text.contains(&format!("the attestation says {other}")),
        "{text}"
    );

    // Not a tree ID at all: a usage error before anything is fetched.
    let out = fx.rebuild(BUILD, "out", &["--expect-git-tree", "HEAD^{tree}"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("40 or 64 hex digits"), "{stderr}");
}

#[test]
fn a_symlink_to_an_absolute_path_is_refused_before_the_recipe_runs() {
    let mut fx = Fixture::new();
    symlink("/etc/passwd", fx.repo.join("config")).unwrap();
    commit_all(&mut fx, "config link");
    let attested = identity(&fx, &fx.commit);
    let (marker, env) = marker(&fx);
    let out = fx.rebuild(
        MARKING_BUILD,
        "out",
        &[
            // Both identities match: the link is in the attested tree.
            "--expect-dir-hash",
            attested["dirHash"].as_str().unwrap(),
            "--expect-git-tree",
            attested["gitTree"].as_str().unwrap(),
            "--env",
            &env,
            "--json",
        ],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "source_symlink");
    assert_eq!(json["divergence"]["path"], "config");
    assert_eq!(json["divergence"]["target"], "/etc/passwd");
    assert_eq!(json["divergence"]["reason"], "absolute");
    assert!(!marker.exists(), "the recipe ran beside a link out");
    let kept = fx.leftover_scratch_dirs();
    assert_eq!(kept.len(), 1, "the scratch dir is kept");
    assert_eq!(
        fs::read_link(kept[0].join("source/config")).unwrap(),
        PathBuf::from("/etc/passwd")
    );
}

#[test]
fn a_symlink_climbing_out_of_the_checkout_is_refused_before_the_recipe_runs() {
    let mut fx = Fixture::new();
    fs::create_dir(fx.repo.join("src")).unwrap();
    symlink("../../outside", fx.repo.join("src/data")).unwrap();
    commit_all(&mut fx, "data link");
    let (marker, env) = marker(&fx);
    let json = report(
        &fx.rebuild(MARKING_BUILD, "out", &["--env", &env, "--json"]),
        1,
    );
    assert_eq!(json["divergence"]["stage"], "source_symlink");
    assert_eq!(json["divergence"]["path"], "src/data");
    assert_eq!(json["divergence"]["target"], "../../outside");
    assert_eq!(json["divergence"]["reason"], "outside");
    assert!(!marker.exists(), "the recipe ran beside a link out");
}

#[test]
fn a_symlink_escaping_through_another_link_is_refused() {
    // Read as text, `d/x -> up/../y` stays in `d`; but `d/up` is itself a link to the
    // root, so `..` after it climbs out.
    let mut fx = Fixture::new();
    fs::create_dir(fx.repo.join("d")).unwrap();
    symlink("..", fx.repo.join("d/up")).unwrap();
    symlink("up/../y", fx.repo.join("d/x")).unwrap();
    commit_all(&mut fx, "links");
    let (marker, env) = marker(&fx);
    let json = report(
        &fx.rebuild(MARKING_BUILD, "out", &["--env", &env, "--json"]),
        1,
    );
    assert_eq!(json["divergence"]["stage"], "source_symlink");
    assert_eq!(json["divergence"]["path"], "d/x");
    assert_eq!(json["divergence"]["reason"], "outside");
    assert!(!marker.exists());
}

#[test]
fn symlinks_that_stay_inside_the_checkout_still_build() {
    let mut fx = Fixture::new();
    fs::create_dir(fx.repo.join("sub")).unwrap();
    symlink("../b", fx.repo.join("sub/b-link")).unwrap();
    symlink("sub", fx.repo.join("sub-link")).unwrap();
    symlink("a", fx.repo.join("a-link")).unwrap();
    commit_all(&mut fx, "inner links");
    let tree = git(&fx.repo, &["rev-parse", "HEAD^{tree}"]);
    let json = report(
        &fx.rebuild(
            "cat a-link sub-link/b-link > out",
            "out",
            &[
                "--expect-git-tree",
                &tree,
                "--expect",
                &fx.expected_output(),
                "--json",
            ],
        ),
        0,
    );
    assert_eq!(json["status"], "reproduced");
    assert!(fx.leftover_scratch_dirs().is_empty());
}
