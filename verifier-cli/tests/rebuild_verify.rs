//! `glassbox verify --rebuild` holds the checkout to the whole attested source
//! identity: a commit whose tree is not the attested gitTree, or whose symbolic links
//! lead out of the checkout, ends NOT VERIFIED with the reason, and the recorded recipe
//! never runs. The evidence comes from an in-memory log, so every attestation can name
//! exactly the identity each case needs.

mod common;
#[allow(dead_code)]
#[path = "../src/testlog.rs"]
mod testlog;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, ProvenancePredicate, ReviewPredicate,
    ReviewRequest, Scope, SourceDigest, SourceReview, SourceSubmission, SubmissionPredicate,
    ToolIdentity, Verdict, TOOLCHAIN_PARAMETER,
};
use serde_json::Value;

use common::git;
use testlog::{TestLog, REPO, TIME};

/// What `cat a b` makes of the repository's two files: the artifact being verified.
const APP: &[u8] = b"first half\nsecond half\n";
/// A recipe that leaves a marker in its HOME (inside the scratch directory, the only
/// place a sandboxed recipe can write) and then builds `app`.
const MARKING_BUILD: &str = "touch \"$HOME/recipe-ran\"; cat a b > out";

struct Case {
    tmp: tempfile::TempDir,
    repo: PathBuf,
    /// Where `verify --rebuild` makes its scratch directories (its TMPDIR).
    scratch_parent: PathBuf,
}

impl Case {
    /// A repository holding `a` and `b` in one commit, and the artifact file `app`.
    fn new() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        fs::create_dir(&repo).unwrap();
        fs::create_dir(tmp.path().join("tmp")).unwrap();
        fs::write(repo.join("a"), b"first half\n").unwrap();
        fs::write(repo.join("b"), b"second half\n").unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        commit(&repo, "initial");
        fs::write(tmp.path().join("app"), APP).unwrap();
        let scratch_parent = tmp.path().join("tmp");
        Case {
            tmp,
            repo,
            scratch_parent,
        }
    }

    /// {gitCommit, gitTree, dirHash} of `rev`, as `glassbox hash tree` computes them.
    fn identity(&self, rev: &str) -> SourceDigest {
        let out = common::ok(common::glassbox(
            self.tmp.path(),
            &["hash", "tree", "--repo", "repo", "--rev", rev, "--json"],
        ));
        let id: Value = serde_json::from_str(&out).unwrap();
        SourceDigest::from_git(
            id["gitCommit"].as_str().unwrap(),
            id["gitTree"].as_str().unwrap(),
            id["dirHash"].as_str().unwrap(),
        )
    }

    /// Log the story of `app` built from `source` with `command` — submission, approving
    /// review, vendor and independent build — and verify `app` with `--rebuild`. Each
    /// call makes a new log, so each verifies with a state directory of its own.
    fn verify_rebuild(&self, source: SourceDigest, command: &str) -> Output {
        self.verify_rebuild_recorded(source, command, &[])
    }

    /// As [`Case::verify_rebuild`], with both builds recording `toolchain` as the
    /// tools they ran and `/build/src` as their build path.
    fn verify_rebuild_recorded(
        &self,
        source: SourceDigest,
        command: &str,
        toolchain: &[ToolIdentity],
    ) -> Output {
        self.verify_rebuild_with(source, command, toolchain, &[], None)
    }

    /// As [`Case::verify_rebuild_recorded`], with more `verify` arguments and, when
    /// given, another PATH for `glassbox`.
    fn verify_rebuild_with(
        &self,
        source: SourceDigest,
        command: &str,
        toolchain: &[ToolIdentity],
        extra: &[&str],
        path: Option<&Path>,
    ) -> Output {
        let mut log = TestLog::new();
        let vendor = log.vendor.clone();
        let reviewer = log.reviewer.clone();
        let builder = log.builder.clone();
        log.append_attestation(submission(source.clone()), &vendor);
        log.append_attestation(review(source.clone()), &reviewer);
        for (key, id) in [
            (&vendor, "https://vendor.example"),
            (&builder, "https://rebuild.example"),
        ] {
            log.append_attestation(build(source.clone(), command, id, toolchain), key);
        }
        let dir = self.tmp.path();
        let state = tempfile::tempdir_in(dir).unwrap();
        let bundle = log.bundle(Sha256Digest::of(APP));
        fs::write(
            dir.join("bundle.json"),
            serde_json::to_vec(&bundle).unwrap(),
        )
        .unwrap();
        fs::write(
            dir.join("policy.toml"),
            format!("[log]\nvkey = \"{}\"\n", log.vkey()),
        )
        .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_glassbox"));
        cmd.args(["verify", "app", "--policy", "policy.toml"])
            .args(["--bundle", "bundle.json", "--rebuild", "--state"])
            .arg(state.path())
            .arg("--source")
            .arg(&self.repo)
            .args(extra)
            .current_dir(dir)
            .env("TMPDIR", dir.join("tmp"));
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        cmd.output().expect("spawn glassbox")
    }

    /// The recipe: leave a marker in its HOME, then build `app`.
    fn marking_build(&self) -> String {
        MARKING_BUILD.to_owned()
    }

    /// Whether a recipe left its marker in a scratch directory that was kept (every
    /// rebuild that does not reproduce keeps its scratch directory).
    fn recipe_ran(&self) -> bool {
        fs::read_dir(&self.scratch_parent)
            .unwrap()
            .any(|e| e.unwrap().path().join(".home/recipe-ran").exists())
    }
}

fn commit(repo: &Path, message: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

/// The lines of a verdict that must be NOT VERIFIED, after checking its first line.
fn not_verified(out: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().next(), Some("NOT VERIFIED"), "{text}");
    text.lines().map(str::to_owned).collect()
}

/// The one `  ✗ ` line that blames the rebuild.
fn rebuild_failure(lines: &[String]) -> &str {
    let failures: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("  ✗ ") && l.contains("rebuild"))
        .collect();
    assert_eq!(failures.len(), 1, "{lines:#?}");
    failures[0]
}

#[test]
fn a_commit_whose_tree_is_not_the_attested_one_is_not_verified_and_its_recipe_never_runs() {
    let case = Case::new();
    let plain = case.identity("HEAD");
    fs::set_permissions(case.repo.join("a"), fs::Permissions::from_mode(0o755)).unwrap();
    let executable = commit(&case.repo, "a is executable");
    let actual = case.identity(&executable);
    assert_eq!(actual.dir_hash, plain.dir_hash);

    // The true identity of the commit reproduces: the recipe, the repository and the
    // artifact are sound.
    let out = case.verify_rebuild(actual.clone(), &case.marking_build());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // Reproduced: the recipe ran (and its scratch directory is gone).
    assert!(!case.recipe_ran());

    // The same commit and dirHash, attested with its sibling's tree (where `a` is not
    // executable): the dirHash agrees, the tree does not.
    let mut mislabelled = actual.clone();
    mislabelled.git_tree = plain.git_tree.clone();
    let lines = not_verified(&case.verify_rebuild(mislabelled, &case.marking_build()));
    let failure = rebuild_failure(&lines);
    let (attested_tree, real_tree) = (plain.git_tree.unwrap(), actual.git_tree.unwrap());
    assert!(
        failure.contains("gitTree")
            && failure.contains(&attested_tree)
            && failure.contains(&real_tree),
        "{failure}"
    );
    assert!(
        !case.recipe_ran(),
        "the recipe ran on a tree nobody attested"
    );
}

#[test]
fn a_build_script_linked_out_of_the_checkout_is_not_verified_and_never_runs() {
    // The attested tree's `build.sh` is a link to a script on the rebuilding machine:
    // dirHash never hashes the link, so reviewers approved a tree that says nothing
    // of what would run.
    let case = Case::new();
    let planted = case.tmp.path().join("planted.sh");
    fs::write(&planted, format!("{MARKING_BUILD}\n")).unwrap();
    symlink(&planted, case.repo.join("build.sh")).unwrap();
    let head = commit(&case.repo, "build script");
    let lines = not_verified(&case.verify_rebuild(case.identity(&head), "sh build.sh"));
    let failure = rebuild_failure(&lines);
    assert!(
        failure.contains(&format!("build.sh -> {}", planted.display())),
        "{failure}"
    );
    assert!(!case.recipe_ran(), "the planted script ran");
}

fn submission(source: SourceDigest) -> Attestation {
    SourceSubmission::new(
        source,
        SubmissionPredicate {
            repository: REPO.to_owned(),
            product: "app".to_owned(),
            version: "1.0".to_owned(),
            review_request: ReviewRequest {
                scope: Scope::Full,
                notes: None,
            },
            submitted_at: TIME.to_owned(),
        },
    )
    .expect("submission")
    .into()
}

fn review(source: SourceDigest) -> Attestation {
    SourceReview::new(
        source,
        ReviewPredicate {
            repository: REPO.to_owned(),
            scope: Scope::Full,
            verdict: Verdict::Approved,
            findings: None,
            report_digest: None,
            reviewed_at: TIME.to_owned(),
        },
    )
    .expect("review")
    .into()
}

fn build(
    source: SourceDigest,
    command: &str,
    builder_id: &str,
    toolchain: &[ToolIdentity],
) -> Attestation {
    let mut recipe = BuildRecipe::new(command, "out");
    if !toolchain.is_empty() {
        recipe.build_path = Some("/build/src".to_owned());
    }
    let mut predicate = ProvenancePredicate::new(recipe, REPO, source, builder_id);
    if !toolchain.is_empty() {
        let toolchain = serde_json::to_value(toolchain).unwrap();
        predicate.build_definition.internal_parameters = Some(
            [(TOOLCHAIN_PARAMETER.to_owned(), toolchain)]
                .into_iter()
                .collect(),
        );
    }
    Build::new(
        vec![ArtifactSubject {
            name: "app".to_owned(),
            sha256: Sha256Digest::of(APP),
        }],
        predicate,
    )
    .expect("build")
    .into()
}

#[test]
fn verify_shows_the_recorded_environment_and_a_toolchain_that_differs_comes_first() {
    let case = Case::new();
    let source = case.identity("HEAD");
    let recorded_sh = ToolIdentity {
        name: "sh".to_owned(),
        path: "/usr/bin/dash".to_owned(),
        sha256: "ab".repeat(32),
        version: "dash 0.5.12".to_owned(),
    };
    // Another shell binary, the same bytes out: the rebuild counts, and the report
    // shows what was recorded and what differs.
    let out = case.verify_rebuild_recorded(
        source.clone(),
        "cat a b > out",
        std::slice::from_ref(&recorded_sh),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("  recorded")
            && l.contains("built at /build/src")
            && l.contains(&recorded_sh.sha256)),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  toolchain") && l.contains("DIFFERS")),
        "{text}"
    );

    // Other bytes out: the failure names the toolchain before the digests.
    let lines =
        not_verified(&case.verify_rebuild_recorded(source, "cat b a > out", &[recorded_sh]));
    let failure = rebuild_failure(&lines);
    let toolchain_at = failure.find("the toolchain differs").expect(failure);
    let bytes_at = failure.find("the build produced").expect(failure);
    assert!(toolchain_at < bytes_at, "{failure}");
}

#[test]
fn without_bwrap_verify_rebuild_is_refused_unless_no_sandbox_is_given_and_then_says_so() {
    let case = Case::new();
    let source = case.identity("HEAD");
    let empty = case.tmp.path().join("empty-path");
    fs::create_dir(&empty).unwrap();
    let out = case.verify_rebuild_with(source.clone(), "cat a b > out", &[], &[], Some(&empty));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bubblewrap"), "{stderr}");

    let out = case.verify_rebuild_with(
        source,
        "cat a b > out",
        &[],
        &["--no-sandbox"],
        Some(&empty),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("WITHOUT the sandbox"), "{text}");
}
