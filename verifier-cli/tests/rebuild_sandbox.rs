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
    // A background loop leaves a tick every tenth of a second for as long as it lives.
    let out = fx.rebuild(
        "(while :; do echo t >> \"$HOME/ticks\"; sleep 0.1; done) & sleep 1000",
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
    let ticks = scratch.join(".home/ticks");
    let before = fs::read(&ticks).unwrap().len();
    assert!(before > 0);
    // Watching for a tick that must not come: long enough for ten of them.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        fs::read(&ticks).unwrap().len(),
        before,
        "the background loop survived the rebuild"
    );
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
    // The sandbox's own paths, the same on every rebuilder.
    assert!(env.contains("HOME=/home/builder\n"), "{env}");
    assert!(env.contains("TMPDIR=/tmp\n"), "{env}");

    // Without the sandbox: the same variables, HOME and TMPDIR in the scratch dir.
    let scratch = fx.tmp.path().join("scratch-unsandboxed");
    let out = fx.rebuild_with(
        "env > out",
        "out",
        &[
            "--no-sandbox",
            "--scratch",
            scratch.to_str().unwrap(),
            "--json",
        ],
        &[("GLASSBOX_TEST_SECRET", "hunter2")],
    );
    assert_eq!(report(&out, 0)["sandboxed"], false);
    let env = fs::read_to_string(scratch.join("source/out")).unwrap();
    assert!(!env.contains("hunter"), "a secret leaked: {env}");
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

// ---- the bubblewrap sandbox against hostile recipes ---------------------------------
//
// These need bwrap (Debian's bubblewrap; CI installs it). Each attack is also run
// with --no-sandbox where that is harmless, to show the test can tell the difference.

#[test]
fn a_sandboxed_recipe_writes_nothing_outside_its_scratch_directory() {
    let fx = Fixture::new();
    let victim = fx.tmp.path().join("victim.txt");
    fs::write(&victim, b"original\n").unwrap();
    let probe = format!("/etc/glassbox-sandbox-probe-{}", std::process::id());
    let usr_probe = format!("/usr/glassbox-sandbox-probe-{}", std::process::id());
    let recipe = format!(
        "echo pwned > '{}'; echo pwned > '{probe}'; echo pwned > '{usr_probe}'; \
         echo pwned > /glassbox-probe; cat a b > out",
        victim.display()
    );
    let json = report(
        &fx.rebuild(
            &recipe,
            "out",
            &["--expect", &fx.expected_output(), "--json"],
        ),
        0,
    );
    assert_eq!(json["sandboxed"], true);
    assert_eq!(fs::read(&victim).unwrap(), b"original\n");
    for path in [&probe, &usr_probe, &"/glassbox-probe".to_owned()] {
        assert!(!std::path::Path::new(path).exists(), "{path} was written");
    }

    // Unsandboxed, the same write lands: the file was within reach.
    let recipe = format!("echo pwned > '{}'; cat a b > out", victim.display());
    report(&fx.rebuild(&recipe, "out", &["--no-sandbox", "--json"]), 0);
    assert_eq!(fs::read(&victim).unwrap(), b"pwned\n");
}

#[test]
fn a_sandboxed_recipe_cannot_reach_a_listener_on_loopback() {
    let fx = Fixture::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let recipe = format!(
        "perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(PeerAddr => \
         \"127.0.0.1:{port}\", Timeout => 5) ? \"connected\" : \"refused\"' > out"
    );
    let connection = |extra: &[&str]| {
        let scratch = tempfile::tempdir_in(fx.tmp.path()).unwrap();
        let mut args = vec!["--json", "--scratch", scratch.path().to_str().unwrap()];
        args.extend(extra);
        report(&fx.rebuild(&recipe, "out", &args), 0);
        let said = fs::read_to_string(scratch.path().join("source/out")).unwrap();
        let accepted = listener.accept().is_ok();
        (said, accepted)
    };
    assert_eq!(connection(&[]), ("refused".to_owned(), false));
    assert_eq!(
        connection(&["--no-sandbox"]),
        ("connected".to_owned(), true)
    );
}

#[test]
fn a_fork_bomb_is_stopped_at_the_process_cap() {
    let fx = Fixture::new();
    let started = Instant::now();
    // Forks for ever, each child staying alive, and shrugs off every failed fork: only
    // the cap holds it, and reaching the cap ends the build.
    let bomb =
        "perl -e 'while (1) { my $p = fork; if (defined $p && $p == 0) { sleep 1000; exit } }'";
    let out = fx.rebuild(
        bomb,
        "out",
        &["--max-processes", "40", "--timeout", "60", "--json"],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "too_many_processes", "{json}");
    assert_eq!(json["divergence"]["limit"], 40);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}: stopped by the time limit, not the cap",
        started.elapsed()
    );
}

#[test]
fn a_recipe_that_fills_the_disk_is_stopped_at_the_disk_limit() {
    let fx = Fixture::new();
    let scratch = fx.tmp.path().join("scratch");
    let limit: u64 = 64 << 20;
    // Many files, each far below the file size limit, in every writable place.
    let recipe = "i=0; while :; do for d in . /tmp /dev/shm \"$HOME\"; do \
                  head -c 1048576 /dev/zero > \"$d/fill$i\" || exit 1; done; i=$((i+1)); done";
    let started = Instant::now();
    let out = fx.rebuild(
        recipe,
        "out",
        &[
            "--max-disk-bytes",
            &limit.to_string(),
            "--timeout",
            "120",
            "--json",
            "--scratch",
            scratch.to_str().unwrap(),
        ],
    );
    let json = report(&out, 1);
    assert_eq!(json["divergence"]["stage"], "disk_full", "{json}");
    assert_eq!(json["divergence"]["limit"], limit);
    assert!(started.elapsed() < Duration::from_secs(60));
    let written: u64 = listing(&scratch)
        .iter()
        .filter(|p| p.contains("fill"))
        .map(|p| fs::metadata(scratch.join(p)).unwrap().len())
        .sum();
    assert!(written > limit / 2, "wrote only {written} bytes");
    // What one look at the disk can miss: a few hundred megabytes at most.
    assert!(written < limit + (512 << 20), "wrote {written} bytes");
}

#[test]
fn a_recipe_that_fills_the_disk_through_an_unlinked_file_is_stopped_at_the_disk_limit() {
    let fx = Fixture::new();
    let limit: u64 = 64 << 20;
    // Opens a file, unlinks it, and writes on through the open descriptor: nothing
    // left in the scratch directory's tree shows the bytes it holds.
    let recipe = "perl -e 'open(my $f, \">\", \"/tmp/gone\") or die; unlink \"/tmp/gone\"; \
                  my $mb = \"\\0\" x 1048576; while (1) { print $f $mb or die; }'";
    let json = report(
        &fx.rebuild(
            recipe,
            "out",
            &[
                "--max-disk-bytes",
                &limit.to_string(),
                // Without the disk cap, this is what would stop it.
                "--max-output-bytes",
                &(1u64 << 30).to_string(),
                "--timeout",
                "120",
                "--json",
            ],
        ),
        1,
    );
    assert_eq!(json["divergence"]["stage"], "disk_full", "{json}");
}

#[test]
fn a_recipe_that_hides_what_it_writes_in_an_unreadable_directory_is_still_measured() {
    let fx = Fixture::new();
    let limit: u64 = 32 << 20;
    // Write and search permission but no read: the files cannot be listed.
    let recipe = "mkdir hide && chmod 300 hide && i=0 && while :; do \
                  head -c 1048576 /dev/zero > hide/f$i || exit 1; i=$((i+1)); done";
    let json = report(
        &fx.rebuild(
            recipe,
            "out",
            &[
                "--max-disk-bytes",
                &limit.to_string(),
                "--timeout",
                "120",
                "--json",
            ],
        ),
        1,
    );
    assert_eq!(json["divergence"]["stage"], "disk_full", "{json}");
}

/// `__FILE__` of a file compiled by absolute path is that path: the build directory
/// ends up in the binary, as it does in debug information.
const EMBEDS_ITS_PATH: &str = "#include <stdio.h>\nint main(void) { puts(__FILE__); return 0; }\n";

#[test]
fn two_rebuilds_in_different_scratch_directories_of_a_program_embedding_its_path_agree() {
    let fx = Fixture::with_files(&[("main.c", EMBEDS_ITS_PATH)]);
    let build = "cc -O2 -o app \"$(pwd)/main.c\"";
    let output = |scratch: &str, extra: &[&str]| {
        let scratch = fx.tmp.path().join(scratch);
        let mut args = vec!["--json", "--scratch", scratch.to_str().unwrap()];
        args.extend(extra);
        let json = report(&fx.rebuild(build, "app", &args), 0);
        let bytes = fs::read(scratch.join("source/app")).unwrap();
        (json["output"].as_str().unwrap().to_owned(), bytes)
    };
    let (first, bytes) = output("one", &[]);
    let (second, _) = output("elsewhere/two", &[]);
    assert_eq!(first, second);
    let embedded = b"/build/src/main.c";
    assert!(bytes.windows(embedded.len()).any(|w| w == embedded));

    // At a recorded build path of its own, the same path is embedded.
    let (at_path, bytes) = output("three", &["--build-path", "/src/hello"]);
    assert_ne!(at_path, first);
    let embedded = b"/src/hello/main.c";
    assert!(bytes.windows(embedded.len()).any(|w| w == embedded));

    // Unsandboxed, each scratch directory leaks into the binary.
    let (one, _) = output("four", &["--no-sandbox"]);
    let (two, _) = output("five", &["--no-sandbox"]);
    assert_ne!(one, two);
}

#[test]
fn without_bwrap_a_rebuild_is_refused_naming_the_package_unless_no_sandbox_is_given() {
    let fx = Fixture::new();
    let empty = fx.tmp.path().join("empty-path");
    fs::create_dir(&empty).unwrap();
    let path = empty.to_str().unwrap();
    fails_with(
        fx.rebuild_with(BUILD, "out", &[], &[("PATH", path)]),
        &["bwrap", "bubblewrap", "--no-sandbox"],
    );
    assert!(fx.leftover_scratch_dirs().is_empty(), "fetched anyway");
    let out = fx.rebuild_with(BUILD, "out", &["--no-sandbox"], &[("PATH", path)]);
    let text = String::from_utf8(common::ok(out).into_bytes()).unwrap();
    assert!(text.contains("WITHOUT the sandbox"), "{text}");
}

#[test]
fn a_build_path_the_sandbox_owns_is_refused_before_anything_runs() {
    let fx = Fixture::new();
    for path in ["/usr/src/app", "/tmp/build", "build/src", "/"] {
        fails_with(
            fx.rebuild(BUILD, "out", &["--build-path", path]),
            &["build path", path],
        );
    }
    assert!(fx.leftover_scratch_dirs().is_empty());
}

/// A Rust binary crate, built with the toolchain that builds these tests (its sysroot
/// shown read-only in the sandbox) and the path remapping recorded in the recipe.
#[test]
fn a_rust_crate_built_in_two_scratch_directories_gives_the_same_bytes() {
    let fx = Fixture::with_files(&[
        (
            "Cargo.toml",
            "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", "fn main() {\n    println!(\"hello\");\n}\n"),
    ]);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let sysroot = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc --print sysroot");
    let sysroot = String::from_utf8(sysroot.stdout).unwrap().trim().to_owned();
    let path = format!("PATH={sysroot}/bin:/usr/bin:/bin");
    let output = |scratch: &str| {
        let scratch = fx.tmp.path().join(scratch);
        let json = report(
            &fx.rebuild(
                "cargo build --release --offline --quiet",
                "target/release/hello",
                &[
                    "--sandbox-ro",
                    &sysroot,
                    "--env",
                    &path,
                    // Debug information names the build directory; remapped, it names
                    // the same path on every machine, sandboxed or not.
                    "--env",
                    "RUSTFLAGS=--remap-path-prefix=/build/src=/hello",
                    "--env",
                    "CARGO_PROFILE_RELEASE_DEBUG=true",
                    "--json",
                    "--scratch",
                    scratch.to_str().unwrap(),
                ],
            ),
            0,
        );
        let bytes = fs::read(scratch.join("source/target/release/hello")).unwrap();
        (json["output"].as_str().unwrap().to_owned(), bytes)
    };
    let (first, bytes) = output("one");
    let (second, _) = output("elsewhere/two");
    assert_eq!(first, second);
    // The compilation directory in the debug information, as remapped.
    let remapped = b"\0/hello\0";
    assert!(bytes.windows(remapped.len()).any(|w| w == remapped));
    let unmapped = b"/build/src";
    assert!(!bytes.windows(unmapped.len()).any(|w| w == unmapped));
}
