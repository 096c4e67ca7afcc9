//! The rebuild sandbox against hostile recipes and repositories: a recipe that never
//! ends, one that writes without bound, one that reads the caller's secrets, output
//! paths and symbolic links that point out of the checkout. Each gets a clear report
//! or error, and nothing lands outside the scratch directory.

mod common;
mod rebuild_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use common::{fails_with, git};
use rebuild_support::{listing, report, Fixture, BUILD, COMMIT_EPOCH};

#[test]
fn a_recipe_that_never_ends_is_killed_with_its_background_processes() {
    let fx = Fixture::new();
    let scratch = fx.tmp.path().join("scratch");
    let started = Instant::now();
    let out = fx.rebuild(
        "sleep 1000 & echo $! > \"$HOME/bg.pid\"; sleep 1000",
        "out",
        &[
            "--timeout",
            "2",
            "--json",
            "--scratch",
            scratch.to_str().unwrap(),
        ],
    );
    let elapsed = started.elapsed();
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "timed_out");
    assert_eq!(json["divergence"]["seconds"], 2);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    let pid = fs::read_to_string(scratch.join(".home/bg.pid")).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    // The killed background sleep is reaped by init shortly after the kill.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&proc_dir).exists()
        && !fs::read_to_string(format!("{proc_dir}/stat")).is_ok_and(|s| s.contains(") Z"))
    {
        assert!(
            Instant::now() < deadline,
            "background process {pid} survived"
        );
        std::thread::yield_now();
    }
}

#[test]
fn a_recipe_sees_none_of_the_callers_environment() {
    let fx = Fixture::new();
    let scratch = fx.tmp.path().join("scratch");
    let out = fx.rebuild_with(
        "env > out",
        "out",
        &[
            "--env",
            "LC_ALL=C",
            "--scratch",
            scratch.to_str().unwrap(),
            "--json",
        ],
        &[
            ("GLASSBOX_TEST_SECRET", "hunter2"),
            ("AWS_SECRET_ACCESS_KEY", "hunter3"),
        ],
    );
    report(&out, 0);
    let env = fs::read_to_string(scratch.join("source/out")).unwrap();
    assert!(!env.contains("hunter"), "a secret leaked: {env}");
    let mut names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        // sh itself may export these.
        .filter(|k| !["PWD", "SHLVL", "_", "OLDPWD"].contains(k))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["HOME", "LC_ALL", "PATH", "SOURCE_DATE_EPOCH", "TMPDIR"],
        "{env}"
    );
    assert!(env.contains("PATH=/usr/bin:/bin\n"), "{env}");
    assert!(
        env.contains(&format!("SOURCE_DATE_EPOCH={COMMIT_EPOCH}\n")),
        "{env}"
    );
    let scratch = scratch.canonicalize().unwrap();
    assert!(
        env.contains(&format!("HOME={}/.home\n", scratch.display())),
        "{env}"
    );
    assert!(
        env.contains(&format!("TMPDIR={}/.tmp\n", scratch.display())),
        "{env}"
    );
}

#[test]
fn stdin_is_closed() {
    let fx = Fixture::new();
    // `cat` with no arguments reads stdin: it must see end-of-file at once, not hang.
    let json = report(
        &fx.rebuild("cat > out", "out", &["--timeout", "5", "--json"]),
        0,
    );
    assert_eq!(
        json["output"],
        glassbox_core::digest::Sha256Digest::of(b"")
            .to_string()
            .as_str()
    );
}

#[test]
fn output_paths_with_dot_dot_or_absolute_are_refused_before_anything_runs() {
    let fx = Fixture::new();
    for (path, needle) in [
        ("../out", "`..`"),
        ("dist/../../out", "`..`"),
        ("/etc/passwd", "absolute"),
        ("", "empty"),
    ] {
        let out = fx.rebuild(BUILD, path, &[]);
        fails_with(out, &["output path", needle]);
    }
    let out = fx.rebuild(BUILD, "out", &["--workdir", "../.."]);
    fails_with(out, &["working directory", "`..`"]);
    assert!(fx.leftover_scratch_dirs().is_empty());
}

#[test]
fn an_output_symlink_pointing_out_of_the_checkout_is_an_error() {
    let fx = Fixture::new();
    let secret = fx.tmp.path().join("secret.txt");
    fs::write(&secret, b"not yours").unwrap();
    let env = format!("TARGET={}", secret.display());
    let out = fx.rebuild("ln -s \"$TARGET\" out", "out", &["--env", &env]);
    fails_with(out, &["output path", "outside the checkout"]);
    // A relative escape and a dangling one are refused too.
    let out = fx.rebuild("ln -s ../../../secret.txt out", "out", &[]);
    fails_with(out, &["outside the checkout"]);
    let out = fx.rebuild("ln -s /nonexistent/x out", "out", &[]);
    fails_with(out, &["outside the checkout"]);
}

#[test]
fn a_committed_symlink_directory_pointing_out_stops_the_rebuild_before_the_recipe_runs() {
    let fx = Fixture::new();
    let outside = fx.tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    symlink(&outside, fx.repo.join("escape")).unwrap();
    git(&fx.repo, &["add", "-A"]);
    git(&fx.repo, &["commit", "-q", "-m", "link"]);
    let head = git(&fx.repo, &["rev-parse", "HEAD"]);
    let run = |workdir: &str, output: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_glassbox"))
            .args(["rebuild", "--source"])
            .arg(&fx.repo)
            .args([
                "--rev",
                &head,
                "--workdir",
                workdir,
                "--command",
                "echo x > out; echo y > escape/y",
            ])
            .args(["--output-path", output, "--json"])
            .env("TMPDIR", &fx.tmpdir)
            .output()
            .unwrap()
    };
    // As the working directory, as the output's directory, or not used at all by the
    // recipe: the link is refused before the recipe could write through it.
    for (workdir, output) in [("escape", "escape/out"), (".", "escape/x"), (".", "out")] {
        let json = report(&run(workdir, output), 1);
        assert_eq!(json["divergence"]["stage"], "source_symlink", "{json}");
        assert_eq!(json["divergence"]["path"], "escape");
    }
    assert!(
        listing(&outside).is_empty(),
        "the recipe wrote through the linked directory"
    );
}

#[test]
fn a_recipe_that_writes_without_bound_is_stopped_at_the_size_limit() {
    let fx = Fixture::new();
    let started = Instant::now();
    let out = fx.rebuild(
        "head -c 100000000 /dev/zero > out",
        "out",
        &["--max-output-bytes", "1048576", "--json"],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "output_too_large");
    assert_eq!(json["divergence"]["limit"], 1048576);
    assert!(started.elapsed() < Duration::from_secs(15));
    let kept = fx.leftover_scratch_dirs();
    let written = fs::metadata(kept[0].join("source/out")).unwrap().len();
    assert!(written <= 1048576, "wrote {written} bytes");
}

#[test]
fn an_output_just_over_the_limit_is_too_large() {
    let fx = Fixture::new();
    // 23 bytes of output against a 22-byte limit.
    let json = report(
        &fx.rebuild(BUILD, "out", &["--max-output-bytes", "22", "--json"]),
        1,
    );
    assert_eq!(json["divergence"]["stage"], "output_too_large");
}

#[test]
fn a_build_writes_nothing_outside_its_scratch_directory() {
    let fx = Fixture::new();
    let before = listing(fx.tmp.path());
    let recipe = "echo h > \"$HOME/.cache\"; echo t > \"$TMPDIR/t\"; mkdir -p build; \
                  git config --global user.name x 2>/dev/null; cat a b > build/out";
    let json = report(
        &fx.rebuild(
            recipe,
            "build/out",
            &["--expect", &fx.expected_output(), "--json"],
        ),
        0,
    );
    assert_eq!(json["status"], "reproduced");
    // Reproduced: the temporary scratch dir is gone and nothing else appeared —
    // not in the repository, the working directory, or the caller's TMPDIR.
    assert_eq!(listing(fx.tmp.path()), before);
    assert_eq!(git(&fx.repo, &["status", "--porcelain", "--ignored"]), "");

    // Diverged: exactly one scratch directory is left, holding everything.
    let json = report(
        &fx.rebuild(
            recipe,
            "build/out",
            &["--expect", &"0".repeat(64), "--json"],
        ),
        1,
    );
    let kept = fx.leftover_scratch_dirs();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        json["scratchDir"],
        kept[0].canonicalize().unwrap().to_str().unwrap()
    );
    let inside = listing(&kept[0]);
    for expected in [".home/.cache", ".tmp/t", "source/build/out"] {
        assert!(
            inside.iter().any(|p| p == expected),
            "{expected} not in {inside:?}"
        );
    }
}

#[test]
fn a_scratch_directory_that_is_not_empty_is_refused() {
    let fx = Fixture::new();
    let scratch = fx.tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    fs::write(scratch.join("keep-me"), b"mine").unwrap();
    fails_with(
        fx.rebuild(BUILD, "out", &["--scratch", scratch.to_str().unwrap()]),
        &["not empty"],
    );
    assert_eq!(fs::read(scratch.join("keep-me")).unwrap(), b"mine");
}
