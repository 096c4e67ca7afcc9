//! Running a recipe's command with nothing from our environment and bounded time and
//! file size.
//!
//! What the command gets: `/bin/sh -c <command>` in its working directory, stdin
//! closed, and an environment of exactly `PATH=/usr/bin:/bin`, `HOME` and `TMPDIR`
//! inside the scratch directory, `SOURCE_DATE_EPOCH` (the commit time, as
//! reproducible-builds.org specifies) and the recipe's own `environment` (applied last,
//! so a recipe may set its own PATH). Nothing else of the caller's environment —
//! tokens, SSH agents, proxies — is visible.
//!
//! Limits: the command runs in its own process group; when the time limit passes the
//! whole group is killed, and it is killed again after a normal exit so no background
//! process survives the rebuild. `RLIMIT_FSIZE` caps every file it writes at the output
//! size limit, so a recipe that writes gigabytes dies with `SIGXFSZ` instead of filling
//! the disk.
//!
//! What this is not: a security boundary. The command runs as the calling user and can
//! write anywhere that user can, or leave the process group with `setsid`. Rebuild
//! recipes you do not trust in a container or VM.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rustix::io::Errno;
use rustix::process::{kill_process_group, waitid, Pid, Signal, WaitId, WaitIdOptions};

use super::RebuildError;

/// The PATH a recipe sees unless it sets its own.
pub const RECIPE_PATH: &str = "/usr/bin:/bin";
/// How much of the command's stderr a report keeps.
const STDERR_TAIL_BYTES: usize = 4096;
/// How long to wait for output pipes after the process group is gone; a process that
/// escaped the group may hold them open forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// One command to run.
pub struct RunSpec<'a> {
    pub command: &'a str,
    pub cwd: &'a Path,
    pub home: &'a Path,
    pub tmp: &'a Path,
    pub source_date_epoch: i64,
    pub recipe_env: &'a [(String, String)],
    pub timeout: Duration,
    pub file_size_limit: u64,
}

/// How the command ended.
#[derive(Debug)]
pub enum RunEnd {
    Success,
    Failed {
        status: Option<i32>,
        stderr_tail: String,
    },
    TimedOut,
    /// A file the command wrote reached the size limit (`SIGXFSZ`).
    FileTooLarge,
}

/// The recipe's environment as (name, value) pairs, refusing names the kernel or a
/// shell would misread.
pub fn recipe_environment(
    env: Option<&BTreeMap<String, String>>,
) -> Result<Vec<(String, String)>, RebuildError> {
    let Some(env) = env else {
        return Ok(Vec::new());
    };
    env.iter()
        .map(|(name, value)| {
            if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
                Err(RebuildError::BadEnvironment { name: name.clone() })
            } else {
                Ok((name.clone(), value.clone()))
            }
        })
        .collect()
}

/// Run `spec.command` and wait for it, at most `spec.timeout`.
pub fn run(spec: &RunSpec) -> Result<RunEnd, RebuildError> {
    for dir in [spec.home, spec.tmp] {
        std::fs::create_dir_all(dir).map_err(|source| RebuildError::Scratch {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(spec.command)
        .current_dir(spec.cwd)
        .env_clear()
        .env("PATH", RECIPE_PATH)
        .env("HOME", spec.home)
        .env("TMPDIR", spec.tmp)
        .env("SOURCE_DATE_EPOCH", spec.source_date_epoch.to_string())
        .envs(spec.recipe_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    limit_child(&mut cmd, spec.file_size_limit);
    let mut child = cmd
        .spawn()
        .map_err(|source| RebuildError::Spawn { source })?;

    let stderr_tail = Arc::new(Mutex::new(Vec::new()));
    let (pipes_done, pipes_closed) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        drain(stdout, None, pipes_done.clone());
    }
    if let Some(stderr) = child.stderr.take() {
        drain(stderr, Some(stderr_tail.clone()), pipes_done.clone());
    }
    drop(pipes_done);

    let (status, timed_out) = wait_killing_group(&mut child, spec.timeout)
        .map_err(|source| RebuildError::Spawn { source })?;
    // Give the pipe readers a bounded time to see end-of-file.
    for _ in 0..2 {
        if pipes_closed.recv_timeout(PIPE_GRACE).is_err() {
            break;
        }
    }

    if timed_out {
        return Ok(RunEnd::TimedOut);
    }
    // A shell reports a child killed by signal N as exit status 128 + N.
    let xfsz = Signal::XFSZ.as_raw();
    if status.signal() == Some(xfsz) || status.code() == Some(128 + xfsz) {
        return Ok(RunEnd::FileTooLarge);
    }
    if status.success() {
        return Ok(RunEnd::Success);
    }
    let tail = stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
    let mut stderr_tail = String::from_utf8_lossy(&tail).into_owned();
    if let Some(signal) = status.signal() {
        stderr_tail.push_str(&format!("\n(killed by signal {signal})"));
    }
    Ok(RunEnd::Failed {
        status: status.code(),
        stderr_tail,
    })
}

/// Have the child cap every file it writes at `file_size_limit` bytes
/// (`RLIMIT_FSIZE`) and write no core dumps, before it execs.
#[allow(unsafe_code)] // `Command::pre_exec` is an unsafe fn.
fn limit_child(cmd: &mut Command, file_size_limit: u64) {
    use rustix::process::{setrlimit, Resource, Rlimit};
    let fsize = Rlimit {
        current: Some(file_size_limit),
        maximum: Some(file_size_limit),
    };
    let no_core = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    // SAFETY: the closure runs in the forked child between fork and exec, where only
    // async-signal-safe work is allowed. It makes two setrlimit calls, each a single
    // system call on values built before the fork, and a failure becomes an
    // `io::Error` holding only the errno: nothing is allocated and no lock is taken.
    unsafe {
        cmd.pre_exec(move || {
            setrlimit(Resource::Fsize, fsize)?;
            setrlimit(Resource::Core, no_core)?;
            Ok(())
        });
    }
}

/// Wait for `child` — the leader of its own process group — at most `timeout`, then
/// SIGKILL whatever is left of the group and reap the leader. Returns its status and
/// whether the time ran out.
///
/// The leader is waited for without being reaped (`WNOWAIT`): while it is an unreaped
/// zombie its PID, and so the group ID, cannot be reused, so the kill cannot hit an
/// unrelated process.
pub fn wait_killing_group(
    child: &mut Child,
    timeout: Duration,
) -> std::io::Result<(ExitStatus, bool)> {
    let pgid = Pid::from_child(child);
    let (exited, exit_seen) = mpsc::channel();
    std::thread::spawn(move || {
        // WNOWAIT leaves the child to be reaped by `Child::wait` below.
        while let Err(Errno::INTR) = waitid(
            WaitId::Pid(pgid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {}
        let _ = exited.send(());
    });
    let timed_out = exit_seen.recv_timeout(timeout).is_err();
    kill_group(pgid);
    let status = child.wait()?;
    Ok((status, timed_out))
}

/// SIGKILL every process left in the group; none left is fine.
fn kill_group(pgid: Pid) {
    let _ = kill_process_group(pgid, Signal::KILL);
}

/// Read `pipe` to its end on a thread, keeping the last bytes in `tail` if given.
fn drain(
    mut pipe: impl Read + Send + 'static,
    tail: Option<Arc<Mutex<Vec<u8>>>>,
    done: mpsc::Sender<()>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Some(tail) = &tail {
                if let Ok(mut tail) = tail.lock() {
                    tail.extend_from_slice(&buf[..n]);
                    let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
                    tail.drain(..excess);
                }
            }
        }
        let _ = done.send(());
    });
}
