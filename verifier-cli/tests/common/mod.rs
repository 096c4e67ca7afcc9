//! Helpers shared by the integration tests: run the real `glassbox` binary and `git`.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::process::{Command, Output};

/// Run `glassbox ARGS` in `dir`.
pub fn glassbox(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glassbox"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("spawn glassbox")
}

/// stdout of a run that must succeed.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Assert a run failed with exit status 2 and exactly one stderr line,
/// `glassbox: error: …`, that mentions every one of `needles`.
pub fn fails_with(out: Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "stderr is not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("glassbox: error: "), "{stderr:?}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{stderr:?} does not mention {needle:?}"
        );
    }
    stderr
}

/// Run `git ARGS` in `dir` with a fixed identity and date and no user configuration,
/// and return its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00Z")
        .output()
        .expect("spawn git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Write a source tree with the awkward cases dirHash must get right: nested folders,
/// an executable, empty files, non-ASCII names, names with spaces, names whose byte
/// order differs from a naive component order, and symbolic links (to a file and to
/// a directory) that must not be hashed.
pub fn write_source_tree(root: &Path) {
    use std::fs;
    let files: &[(&str, &[u8])] = &[
        ("README.md", b"# demo\n"),
        ("src/main.rs", b"fn main() {}\n"),
        ("src/nested/deep/file.txt", b"deep\n"),
        ("src/nested/empty", b""),
        ("empty", b""),
        ("bin/run.sh", b"#!/bin/sh\necho hi\n"),
        ("docs/naïve café.txt", "accents é\n".as_bytes()),
        ("日本/データ.bin", &[0, 1, 2, 255]),
        ("file with spaces.txt", b"spaces\n"),
        ("a/b", b"slash\n"),
        ("a-b", b"dash\n"),
        ("a.b", b"dot\n"),
        ("Z-upper", b"upper\n"),
    ];
    for (path, content) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{symlink, PermissionsExt};
        fs::set_permissions(root.join("bin/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        symlink("README.md", root.join("link-to-readme")).unwrap();
        symlink("src", root.join("link-to-src")).unwrap();
    }
}

/// A git repository in `root` holding [`write_source_tree`] in one commit.
pub fn make_repo(root: &Path) {
    write_source_tree(root);
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "initial"]);
}
