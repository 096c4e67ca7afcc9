//! `glassbox rebuild`: a deterministic build reproduces, and each way it can diverge
//! is reported at the stage where it happened.

mod common;
mod rebuild_support;

use std::fs;

use common::git;
use rebuild_support::{report, Fixture, BUILD};

#[test]
fn a_deterministic_build_reproduces_and_its_scratch_dir_is_removed() {
    let fx = Fixture::new();
    let expected = fx.expected_output();
    let out = fx.rebuild(BUILD, "out", &["--expect", &expected, "--json"]);
    let json = report(&out, 0);
    assert_eq!(json["status"], "reproduced");
    assert_eq!(json["output"], expected.as_str());
    assert_eq!(json["gitCommit"], fx.commit.as_str());
    assert!(json["divergence"].is_null());
    // The same dirHash `glassbox hash tree` gives for the commit.
    let tree = common::ok(common::glassbox(
        fx.tmp.path(),
        &[
            "hash", "tree", "--repo", "repo", "--rev", &fx.commit, "--json",
        ],
    ));
    let tree: serde_json::Value = serde_json::from_str(&tree).unwrap();
    assert_eq!(json["dirHash"], tree["dirHash"]);
    assert!(fx.leftover_scratch_dirs().is_empty());

    // And once more with the dirHash pinned: still byte-identical.
    let out = fx.rebuild(
        BUILD,
        "out",
        &[
            "--expect",
            &expected,
            "--expect-dir-hash",
            tree["dirHash"].as_str().unwrap(),
        ],
    );
    let text = String::from_utf8(common::ok(out).into_bytes()).unwrap();
    assert!(text.contains("reproduced"), "{text}");
}

#[test]
fn without_an_expectation_the_output_is_built_and_reported() {
    let fx = Fixture::new();
    let json = report(&fx.rebuild(BUILD, "out", &["--json"]), 0);
    assert_eq!(json["status"], "built");
    assert_eq!(json["output"], fx.expected_output().as_str());
}

#[test]
fn a_file_url_a_branch_name_and_a_subdirectory_workdir_work() {
    let fx = Fixture::new();
    fs::create_dir(fx.repo.join("sub")).unwrap();
    fs::write(fx.repo.join("sub/c"), b"c\n").unwrap();
    git(&fx.repo, &["add", "-A"]);
    git(&fx.repo, &["commit", "-q", "-m", "sub"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["rebuild", "--source"])
        .arg(format!("file://{}", fx.repo.display()))
        .args([
            "--rev",
            "main",
            "--workdir",
            "sub",
            "--command",
            "cat c ../a > o",
        ])
        .args(["--output-path", "sub/o", "--json"])
        .env("TMPDIR", &fx.tmpdir)
        .output()
        .unwrap();
    let json = report(&out, 0);
    assert_eq!(
        json["output"],
        glassbox_core::digest::Sha256Digest::of(b"c\nfirst half\n")
            .to_string()
            .as_str()
    );
    assert_eq!(
        json["gitCommit"],
        git(&fx.repo, &["rev-parse", "main"]).as_str()
    );
}

#[test]
fn an_output_that_differs_is_an_output_hash_divergence_and_the_scratch_dir_is_kept() {
    let fx = Fixture::new();
    let expected = fx.expected_output();
    let out = fx.rebuild("cat b a > out", "out", &["--expect", &expected, "--json"]);
    let json = report(&out, 1);
    assert_eq!(json["status"], "diverged");
    assert_eq!(json["divergence"]["stage"], "output_hash");
    assert_eq!(json["divergence"]["expected"], expected.as_str());
    assert_ne!(json["divergence"]["actual"], expected.as_str());
    let kept = fx.leftover_scratch_dirs();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].join("source/out").is_file());
}

#[test]
fn diffoscope_runs_on_a_differing_output_and_its_report_is_saved_beside_it() {
    let fx = Fixture::new();
    // A stand-in diffoscope that records its arguments, exits 1 ("differences found").
    let bin = fx.tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let script = bin.join("diffoscope");
    fs::write(
        &script,
        "#!/bin/sh\n[ \"$1\" = --text ] || exit 2\nprintf 'compared %s %s\\n' \"$3\" \"$4\" > \"$2\"\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let attested = fx.tmp.path().join("attested.bin");
    fs::write(&attested, b"first half\nsecond half\n").unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());

    let out = fx.rebuild_with(
        "cat b a > out",
        "out",
        &[
            "--expect",
            &fx.expected_output(),
            "--attested",
            attested.to_str().unwrap(),
            "--json",
        ],
        &[("PATH", &path)],
    );
    let json = report(&out, 1);
    let report_path = json["diffoscope"]["report"].as_str().expect("a report");
    let scratch = json["scratchDir"].as_str().unwrap();
    assert_eq!(report_path, format!("{scratch}/diffoscope.txt"));
    let text = fs::read_to_string(report_path).unwrap();
    assert!(
        text.contains("attested.bin") && text.contains("source/out"),
        "{text}"
    );
}

#[test]
fn without_diffoscope_the_report_says_how_to_install_it() {
    if std::path::Path::new("/usr/bin/diffoscope").exists() {
        return; // installed system-wide; nothing to test here
    }
    let fx = Fixture::new();
    let attested = fx.tmp.path().join("attested.bin");
    fs::write(&attested, b"x").unwrap();
    let out = fx.rebuild_with(
        "cat b a > out",
        "out",
        &[
            "--expect",
            &fx.expected_output(),
            "--attested",
            attested.to_str().unwrap(),
        ],
        &[("PATH", "/usr/bin:/bin")],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("DIVERGED (output_hash)"), "{text}");
    assert!(text.contains("apt-get install diffoscope"), "{text}");
    assert!(text.contains("pip install diffoscope"), "{text}");
}

#[test]
fn a_source_dirhash_mismatch_stops_before_the_recipe_runs() {
    let fx = Fixture::new();
    let marker = fx.tmp.path().join("recipe-ran");
    let env = format!("MARKER={}", marker.display());
    let wrong = "0".repeat(64);
    let out = fx.rebuild(
        "touch \"$MARKER\"; cat a b > out",
        "out",
        &["--expect-dir-hash", &wrong, "--env", &env, "--json"],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "source_hash");
    assert_eq!(json["divergence"]["expected"], wrong.as_str());
    assert_eq!(json["divergence"]["actual"], json["dirHash"]);
    assert!(json["output"].is_null());
    assert!(
        !marker.exists(),
        "the recipe ran despite the source mismatch"
    );
}

#[test]
fn a_failing_build_reports_its_exit_status_and_stderr_tail() {
    let fx = Fixture::new();
    let out = fx.rebuild(
        "echo compiling; echo 'error: missing header foo.h' >&2; exit 7",
        "out",
        &["--json"],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "build_failed");
    assert_eq!(json["divergence"]["exitStatus"], 7);
    let tail = json["divergence"]["stderrTail"].as_str().unwrap();
    assert!(tail.contains("missing header foo.h"), "{tail}");
    assert!(
        !tail.contains("compiling"),
        "stdout leaked into the stderr tail"
    );
}

#[test]
fn a_build_that_succeeds_without_writing_the_output_reports_it_missing() {
    let fx = Fixture::new();
    let json = report(&fx.rebuild("true", "dist/app", &["--json"]), 1);
    assert_eq!(json["divergence"]["stage"], "output_missing");
    assert_eq!(json["divergence"]["path"], "dist/app");
}

#[test]
fn an_unknown_revision_and_an_unsupported_source_are_usage_errors() {
    let fx = Fixture::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["rebuild", "--source", "repo", "--rev", "no-such-branch"])
        .args(["--command", "true", "--output-path", "out"])
        .current_dir(fx.tmp.path())
        .env("TMPDIR", &fx.tmpdir)
        .output()
        .unwrap();
    common::fails_with(out, &["no-such-branch"]);
    assert!(fx.leftover_scratch_dirs().is_empty());

    let out = common::glassbox(
        fx.tmp.path(),
        &[
            "rebuild",
            "--source",
            "ssh://example.com/app.git",
            "--rev",
            "main",
            "--command",
            "true",
            "--output-path",
            "out",
        ],
    );
    common::fails_with(out, &["unsupported source", "https://"]);
}

/// An autotools-style project: `configure` is generated from `configure.ac`, committed,
/// and regenerated by `make` only when it looks older than its input. The checkout
/// writes `configure.ac` after `configure`; were those write times kept, `make` would
/// run the regeneration rule, whose tool this machine does not have.
#[test]
fn a_generated_file_committed_with_its_input_is_not_regenerated() {
    let makefile = "out: configure\n\t./configure > out\n\n\
                    configure: configure.ac\n\tautoconf-is-not-installed-here\n";
    let fx = Fixture::with_files(&[
        ("Makefile", makefile),
        ("configure", "#!/bin/sh\necho configured\n"),
        ("configure.ac", "AC_INIT([app], [1.0])\n"),
    ]);
    // git keeps the executable bit only when the index has it.
    git(&fx.repo, &["update-index", "--chmod=+x", "configure"]);
    git(&fx.repo, &["commit", "-q", "--amend", "--no-edit"]);
    let commit = git(&fx.repo, &["rev-parse", "HEAD"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(["rebuild", "--source"])
        .arg(&fx.repo)
        .args([
            "--rev",
            &commit,
            "--command",
            "make",
            "--output-path",
            "out",
        ])
        .args(["--json"])
        .env("TMPDIR", &fx.tmpdir)
        .output()
        .unwrap();
    let json = report(&out, 0);
    assert_eq!(
        json["output"],
        glassbox_core::digest::Sha256Digest::of(b"configured\n")
            .to_string()
            .as_str(),
        "{json}"
    );
}

#[test]
fn a_build_dependency_missing_or_at_another_version_stops_the_rebuild_before_the_recipe_runs() {
    let fx = Fixture::new();
    let marker = fx.tmp.path().join("recipe-ran");
    let command = format!("touch {}; cat a b > out", marker.display());
    let out = fx.rebuild(
        &command,
        "out",
        &[
            "--build-dep",
            "dpkg=0.0-not-this-one",
            "--build-dep",
            "glassbox-no-such-package=1.0",
            "--json",
        ],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "build_dependencies", "{json}");
    let missing = json["divergence"]["missing"].as_array().unwrap();
    assert_eq!(missing[0]["package"], "dpkg");
    assert_eq!(missing[0]["recorded"], "0.0-not-this-one");
    assert!(missing[0]["installed"].is_string(), "{json}");
    assert_eq!(missing[1]["package"], "glassbox-no-such-package");
    assert!(missing[1]["installed"].is_null());
    assert!(!marker.exists(), "the recipe ran");

    // The installed version passes.
    let json = report(
        &fx.rebuild(
            BUILD,
            "out",
            &[
                "--build-dep",
                "dpkg",
                "--expect",
                &fx.expected_output(),
                "--json",
            ],
        ),
        0,
    );
    assert_eq!(json["status"], "reproduced");
}

#[test]
fn a_toolchain_that_is_not_the_recorded_one_is_named_before_the_bytes() {
    let fx = Fixture::new();
    let other_sh = format!("sh={}", "ab".repeat(32));
    let out = fx.rebuild(
        "cat b a > out",
        "out",
        &[
            "--expect",
            &fx.expected_output(),
            "--expect-tool",
            &other_sh,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("TOOLCHAIN DIFFERS: sh: recorded"),
        "{text}"
    );
    assert!(text.contains("DIVERGED (toolchain)"), "{text}");

    // The same tool, and a build that reproduces: nothing to say about the toolchain.
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let same_sh = format!(
        "sh={}",
        glassbox_core::digest::Sha256Digest::of(&std::fs::read(sh).unwrap()).hex()
    );
    let json = report(
        &fx.rebuild(
            BUILD,
            "out",
            &[
                "--expect",
                &fx.expected_output(),
                "--expect-tool",
                &same_sh,
                "--json",
            ],
        ),
        0,
    );
    assert_eq!(json["toolchain"][0]["same"], true, "{json}");
}
