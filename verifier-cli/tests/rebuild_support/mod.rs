//! Shared set-up of the `glassbox rebuild` tests: a small repository whose build
//! (`cat a b > out`) is byte-identical on every run, and helpers to run the command
//! with a private TMPDIR so that every file it creates can be accounted for.
#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::git;

/// The committer date of every test commit (2025-01-01T00:00:00Z), as seconds.
pub const COMMIT_EPOCH: &str = "1735689600";
/// The deterministic build of [`Fixture::repo`].
pub const BUILD: &str = "cat a b > out";

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    /// The git repository.
    pub repo: PathBuf,
    /// TMPDIR of the `glassbox` process: where its default scratch dirs go.
    pub tmpdir: PathBuf,
    /// Commit ID of the only commit.
    pub commit: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_files(&[])
    }

    /// As [`Fixture::new`], with more files (path, content) in the one commit.
    pub fn with_files(files: &[(&str, &str)]) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let tmpdir = tmp.path().join("tmp");
        fs::create_dir(&repo).unwrap();
        fs::create_dir(&tmpdir).unwrap();
        fs::write(repo.join("a"), b"first half\n").unwrap();
        fs::write(repo.join("b"), b"second half\n").unwrap();
        for (path, content) in files {
            let path = repo.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "initial"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        Fixture {
            tmp,
            repo,
            tmpdir,
            commit,
        }
    }

    /// The sha256 `cat a b` gives.
    pub fn expected_output(&self) -> String {
        let bytes = [
            fs::read(self.repo.join("a")).unwrap(),
            fs::read(self.repo.join("b")).unwrap(),
        ]
        .concat();
        glassbox_core::digest::Sha256Digest::of(&bytes).to_string()
    }

    /// `glassbox rebuild --source repo --rev <commit> --command CMD --output-path OUT ARGS`.
    pub fn rebuild(&self, command: &str, output_path: &str, extra: &[&str]) -> Output {
        self.rebuild_with(command, output_path, extra, &[])
    }

    /// As [`Fixture::rebuild`], with extra environment variables for `glassbox`.
    pub fn rebuild_with(
        &self,
        command: &str,
        output_path: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_glassbox"));
        cmd.args(["rebuild", "--source"])
            .arg(&self.repo)
            .args(["--rev", &self.commit, "--command", command])
            .args(["--output-path", output_path])
            .args(extra)
            .current_dir(self.tmp.path())
            .env("TMPDIR", &self.tmpdir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("spawn glassbox")
    }

    /// The scratch directories left in the private TMPDIR.
    pub fn leftover_scratch_dirs(&self) -> Vec<PathBuf> {
        fs::read_dir(&self.tmpdir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

/// The `--json` report of a run that ended with `code`.
pub fn report(out: &Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json output is JSON")
}

/// Every file and directory under `dir`, relative, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() && !path.is_symlink() {
                pending.push(path);
            }
        }
    }
    out.sort();
    out
}
