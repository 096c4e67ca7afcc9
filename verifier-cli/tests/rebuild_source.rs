//! `glassbox rebuild` checks the checkout is the attested source before anything runs:
//! the gitTree binds what dirHash omits (an executable bit here). In a refusal the
//! recipe would create a marker file; it must not exist afterwards.

mod common;
mod rebuild_support;

use std::path::PathBuf;

use common::git;
use rebuild_support::{report, Fixture, BUILD};
use serde_json::Value;

/// A recipe that leaves `$MARKER` behind, then builds as [`BUILD`] does.
const MARKING_BUILD: &str = "touch \"$MARKER\"; cat a b > out";

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
