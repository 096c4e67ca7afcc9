//! Explaining an output difference with diffoscope (reproducible-builds.org), when it
//! is installed: a hash mismatch says *that* the bytes differ, diffoscope says where
//! (an embedded timestamp, a build path, a reordered archive member).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long diffoscope may take; large archives can keep it busy for a long time.
const DIFFOSCOPE_TIMEOUT: Duration = Duration::from_secs(300);

/// Where to get diffoscope from.
pub const INSTALL_HINT: &str =
    "install diffoscope to see where the outputs differ: `apt-get install diffoscope` or `pip install diffoscope`";

/// What running diffoscope gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffoscopeOutcome {
    /// The text report, saved at this path.
    Report(PathBuf),
    /// diffoscope is not on PATH.
    NotInstalled { hint: String },
    /// diffoscope ran but did not produce a report.
    Failed(String),
}

/// Run `diffoscope --text <report> <attested> <produced>` with a time limit.
pub fn compare(attested: &Path, produced: &Path, report: &Path) -> DiffoscopeOutcome {
    let Some(program) = find_on_path("diffoscope") else {
        return DiffoscopeOutcome::NotInstalled {
            hint: INSTALL_HINT.to_string(),
        };
    };
    let child = Command::new(program)
        .arg("--text")
        .arg(report)
        .arg(attested)
        .arg(produced)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return DiffoscopeOutcome::Failed(format!("cannot run diffoscope: {e}")),
    };
    let status = match super::sandbox::wait_killing_group(&mut child, DIFFOSCOPE_TIMEOUT) {
        Ok((_, true)) => {
            return DiffoscopeOutcome::Failed(format!(
                "diffoscope took longer than {} s and was stopped",
                DIFFOSCOPE_TIMEOUT.as_secs()
            ))
        }
        Ok((status, false)) => status,
        Err(e) => return DiffoscopeOutcome::Failed(format!("waiting for diffoscope: {e}")),
    };
    // diffoscope exits 1 when it found differences, 0 when it found none.
    match status.code() {
        Some(0 | 1) if report.is_file() => DiffoscopeOutcome::Report(report.to_path_buf()),
        _ => DiffoscopeOutcome::Failed(format!("diffoscope ended with {status}")),
    }
}

/// The first executable file named `name` in the caller's PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
