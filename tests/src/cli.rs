//! Running `glassbox` the way a user's shell would, minus the user's configuration.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bins::binaries;

/// One finished `glassbox` run.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// Exit status; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout of a run that must have exited 0.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "glassbox {:?} failed:\n{self}",
            self.args
        );
        &self.stdout
    }

    /// Assert the run exited with `code`; returns stdout and stderr together, for
    /// looking for a reason wherever the command printed it.
    #[track_caller]
    pub fn exits(&self, code: i32) -> String {
        assert_eq!(self.code, Some(code), "glassbox {:?}:\n{self}", self.args);
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "glassbox {:?}: stdout is not JSON ({e}):\n{self}",
                self.args
            )
        })
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `glassbox` in one working directory with an isolated HOME and data dir, so
/// nothing reads or writes the real user's state.
#[derive(Debug, Clone)]
pub struct Glassbox {
    pub cwd: PathBuf,
    pub home: PathBuf,
}

impl Glassbox {
    /// A runner working in `cwd`, with HOME (and XDG dirs) under `cwd/.home`.
    pub fn new(cwd: &Path) -> Glassbox {
        let home = cwd.join(".home");
        std::fs::create_dir_all(&home).expect("create HOME for glassbox");
        Glassbox {
            cwd: cwd.to_path_buf(),
            home,
        }
    }

    /// `glassbox ARGS…`.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = Command::new(&binaries().glassbox)
            .args(&args)
            .current_dir(&self.cwd)
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .env_remove("GLASSBOX_SERVER")
            .env_remove("GLASSBOX_STATE")
            .output()
            .expect("spawn glassbox");
        Run {
            args: args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `glassbox ARGS…` that must succeed; its stdout.
    #[track_caller]
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run(args).ok().to_string()
    }
}
