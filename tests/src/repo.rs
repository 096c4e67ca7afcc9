//! Git repositories for the scenarios: fixed identities and dates, no user or system
//! configuration, and a project whose build is byte-identical on every run.

use std::path::Path;
use std::process::Command;

/// Committer (and author) date of every commit made here.
pub const COMMIT_DATE: &str = "2025-01-01T00:00:00Z";
/// The project's build command, as recorded in build attestations.
pub const BUILD_COMMAND: &str = "sh build.sh";
/// Where [`BUILD_COMMAND`] writes the artifact, relative to the source root.
pub const OUTPUT_PATH: &str = "dist/app";

/// `git ARGS` in `dir`; trimmed stdout. Panics with git's stderr on failure.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Glassbox Test")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_AUTHOR_DATE", COMMIT_DATE)
        .env("GIT_COMMITTER_NAME", "Glassbox Test")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_DATE", COMMIT_DATE)
        .output()
        .expect("spawn git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Create, in the empty or missing directory `dir`, a repository with one commit of a
/// small project and return the commit ID. `sh build.sh` turns it into `dist/app`
/// from the sources alone: no timestamps, paths or environment end up in the output.
pub fn make_project(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("src")).expect("create project dir");
    write(
        dir,
        "README.md",
        "# app\nA tiny product for the Glassbox end-to-end tests.\n",
    );
    write(dir, "src/greeting.txt", "hello from app 1.0\n");
    write(dir, "src/data.txt", "0123456789abcdef\n");
    write(
        dir,
        "build.sh",
        "#!/bin/sh\n# Deterministic: the output depends on the sources only.\nset -eu\nmkdir -p dist\n{ printf 'APP\\0'; cat src/greeting.txt src/data.txt; } > dist/app\n",
    );
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "app 1.0"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Commit a change to `file` and return the new commit ID.
pub fn commit_change(dir: &Path, file: &str, content: &str, message: &str) -> String {
    write(dir, file, content);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn write(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).expect("write project file");
}

/// Commits a change of `file`'s executable bit only: the same paths and contents (so
/// the same dirHash) in another git tree. The commit ID.
pub fn commit_mode_change(dir: &Path, file: &str, executable: bool, message: &str) -> String {
    let mode = if executable { "+x" } else { "-x" };
    git(dir, &["update-index", "--chmod", mode, file]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}
