//! Running a recipe's command with nothing from our environment and bounded time,
//! file size, disk and processes.
//!
//! What the command gets: `/bin/sh -c <command>` in its working directory, stdin
//! closed, and an environment of exactly `PATH=/usr/bin:/bin`, `HOME`, `TMPDIR`,
//! `SOURCE_DATE_EPOCH` (the commit time, as reproducible-builds.org specifies) and the
//! recipe's own `environment` (applied last, so a recipe may set its own PATH); its
//! umask is 022 (a `--vary` build changes it).
//! Nothing else of the caller's environment — tokens, SSH agents, proxies — is
//! visible.
//!
//! Sandboxed (the default), the command runs inside bubblewrap ([`super::bwrap`]):
//! the checkout at the build path, HOME [`super::bwrap::INSIDE_HOME`], TMPDIR `/tmp`,
//! the rest of the file system read-only and no network. Unsandboxed
//! (`--no-sandbox`), it runs as the caller in `<scratch>/source` with HOME and TMPDIR
//! in the scratch directory and can write anywhere the caller can.
//!
//! Limits: the command runs in its own process group; when the time limit passes the
//! whole group is killed (the sandbox's namespace dies with it), and it is killed
//! again after a normal exit so no background process survives the rebuild.
//! `RLIMIT_FSIZE` caps every file it writes at the output size limit (`SIGXFSZ`).
//! Sandboxed, `RLIMIT_NPROC` caps its processes, and a watcher every
//! [`WATCH_INTERVAL`] stops it when it has reached the process cap or when the
//! scratch directory — the only place it can write — has grown past the disk limit.
//! The disk limit is checked by measuring the scratch directory and the files its
//! processes hold open after unlinking them (every interval, less often for a tree
//! that takes long to walk), so a build writing fast can overshoot it by what it
//! writes between two looks; each file is still at most `RLIMIT_FSIZE`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// Run inside this bubblewrap sandbox; `None` runs the command directly.
    pub sandbox: Option<&'a super::bwrap::Plan>,
    /// Most processes the sandboxed command may have at once.
    pub max_processes: u64,
    /// The scratch directory and the most it may hold, in bytes (sandboxed only).
    pub scratch: &'a Path,
    pub max_disk_bytes: u64,
    /// File creation mask of the command.
    pub umask: u32,
    /// Variables a `--vary` build sets, before the recipe's own (which win).
    pub varied_env: &'a [(String, String)],
}

/// The file creation mask a build runs with unless `--vary` changes it.
pub const DEFAULT_UMASK: u32 = 0o022;

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
    /// It reached the process cap and was stopped.
    TooManyProcesses,
    /// The scratch directory grew past the disk limit and it was stopped.
    DiskFull,
}

/// How often the watcher looks at the sandboxed command's processes and disk use.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(200);

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
    let mut cmd = match spec.sandbox {
        Some(plan) => {
            let mut cmd = super::bwrap::command(plan, spec.command);
            cmd.env_clear()
                .env("PATH", RECIPE_PATH)
                .env("HOME", super::bwrap::INSIDE_HOME)
                .env("TMPDIR", "/tmp");
            cmd
        }
        None => {
            let mut cmd = Command::new("/bin/sh");
            cmd.arg("-c")
                .arg(spec.command)
                .current_dir(spec.cwd)
                .env_clear()
                .env("PATH", RECIPE_PATH)
                .env("HOME", spec.home)
                .env("TMPDIR", spec.tmp);
            cmd
        }
    };
    cmd.env("SOURCE_DATE_EPOCH", spec.source_date_epoch.to_string())
        .envs(spec.varied_env.iter().map(|(k, v)| (k, v)))
        .envs(spec.recipe_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let process_limit = spec
        .sandbox
        .map(|plan| super::bwrap::process_limit(plan, spec.max_processes));
    limit_child(&mut cmd, spec.file_size_limit, process_limit, spec.umask);
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

    let root = Pid::from_child(&child);
    let mut next_disk_check = Instant::now();
    let watch = || {
        spec.sandbox?;
        // The processes: the build's own plus bwrap itself, which the limit counts.
        let processes = descendants(root);
        if processes.len() as u64 + 1 >= spec.max_processes {
            return Some(RunEnd::TooManyProcesses);
        }
        // The disk: every tick while walking the scratch directory is quick; a big
        // tree is walked less often, so the watcher takes at most a fifth of a core.
        if Instant::now() >= next_disk_check {
            let started = Instant::now();
            let used = disk_usage(spec.scratch).saturating_add(unlinked_open_files(&processes));
            if used > spec.max_disk_bytes {
                return Some(RunEnd::DiskFull);
            }
            next_disk_check = Instant::now() + (started.elapsed() * 4).max(WATCH_INTERVAL);
        }
        None
    };
    let (status, ended) = wait_watching(&mut child, spec.timeout, watch)
        .map_err(|source| RebuildError::Spawn { source })?;
    // Give the pipe readers a bounded time to see end-of-file.
    for _ in 0..2 {
        if pipes_closed.recv_timeout(PIPE_GRACE).is_err() {
            break;
        }
    }

    if let Some(stopped) = ended {
        return Ok(stopped);
    }
    // Measured once more at the end: a build that wrote past the limit between two
    // looks and then exited is over it all the same.
    if spec.sandbox.is_some() && disk_usage(spec.scratch) > spec.max_disk_bytes {
        return Ok(RunEnd::DiskFull);
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
/// (`RLIMIT_FSIZE`), its user's processes at `process_limit` (`RLIMIT_NPROC`) when
/// given, write no core dumps and create files with `umask`, before it execs.
#[allow(unsafe_code)] // `Command::pre_exec` is an unsafe fn.
fn limit_child(cmd: &mut Command, file_size_limit: u64, process_limit: Option<u64>, umask: u32) {
    let mask = rustix::fs::Mode::from_raw_mode(umask);
    use rustix::process::{setrlimit, Resource, Rlimit};
    let fsize = Rlimit {
        current: Some(file_size_limit),
        maximum: Some(file_size_limit),
    };
    let no_core = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    let nproc = process_limit.map(|n| Rlimit {
        current: Some(n),
        maximum: Some(n),
    });
    // SAFETY: the closure runs in the forked child between fork and exec, where only
    // async-signal-safe work is allowed. It makes up to three setrlimit calls and one
    // umask call, each a single system call on values built before the fork, and a
    // failure becomes an `io::Error` holding only the errno: nothing is allocated and
    // no lock is taken.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::umask(mask);
            setrlimit(Resource::Fsize, fsize)?;
            setrlimit(Resource::Core, no_core)?;
            if let Some(nproc) = nproc {
                setrlimit(Resource::Nproc, nproc)?;
            }
            Ok(())
        });
    }
}

/// Wait for `child` — the leader of its own process group — at most `timeout`,
/// asking `watch` every [`WATCH_INTERVAL`] whether to stop it early; then SIGKILL
/// whatever is left of the group and reap the leader. Returns its status and why it
/// was stopped (`None`: it exited by itself).
///
/// The leader is waited for without being reaped (`WNOWAIT`): while it is an unreaped
/// zombie its PID, and so the group ID, cannot be reused, so the kill cannot hit an
/// unrelated process.
fn wait_watching(
    child: &mut Child,
    timeout: Duration,
    mut watch: impl FnMut() -> Option<RunEnd>,
) -> std::io::Result<(ExitStatus, Option<RunEnd>)> {
    let pgid = Pid::from_child(child);
    let exit_seen = watch_exit(pgid);
    let deadline = Instant::now() + timeout;
    let stopped = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Some(RunEnd::TimedOut);
        }
        match exit_seen.recv_timeout(left.min(WATCH_INTERVAL)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(end) = watch() {
                    break Some(end);
                }
            }
        }
    };
    kill_group(pgid);
    let status = child.wait()?;
    Ok((status, stopped))
}

/// A channel that receives once `pgid`'s leader has exited (not reaped).
fn watch_exit(pgid: Pid) -> mpsc::Receiver<()> {
    let (exited, exit_seen) = mpsc::channel();
    std::thread::spawn(move || {
        // WNOWAIT leaves the child to be reaped by `Child::wait`.
        while let Err(Errno::INTR) = waitid(
            WaitId::Pid(pgid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {}
        let _ = exited.send(());
    });
    exit_seen
}

/// The processes descending from `root` (not `root` itself), from `/proc`.
fn descendants(root: Pid) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in entries.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut pending = vec![root.as_raw_nonzero().get()];
    while let Some(parent) = pending.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            found.push(child);
            pending.push(child);
        }
    }
    found
}

/// Bytes held by files that `pids` keep open after unlinking them: gone from the
/// scratch directory's tree, so a walk of it cannot see them, yet on its disk.
fn unlinked_open_files(pids: &[i32]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    let mut total = 0u64;
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.filter_map(Result::ok) {
            let unlinked = std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().ends_with(" (deleted)"));
            if !unlinked {
                continue;
            }
            // The link leads to the open file itself.
            let Ok(meta) = std::fs::metadata(fd.path()) else {
                continue;
            };
            if meta.is_file() && seen.insert((meta.dev(), meta.ino())) {
                total = total.saturating_add(meta.blocks().saturating_mul(512));
            }
        }
    }
    total
}

/// Bytes `dir` takes on disk (allocated blocks, so a sparse file counts for what it
/// really uses), symbolic links not followed. A directory the build made unreadable
/// to hide what it holds is made readable again: the scratch directory is ours (or,
/// as root, readable anyway).
pub fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        total = total.saturating_add(meta.blocks().saturating_mul(512));
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).or_else(|_| {
                let opened = std::fs::Permissions::from_mode(meta.permissions().mode() | 0o700);
                std::fs::set_permissions(&path, opened)?;
                std::fs::read_dir(&path)
            });
            if let Ok(entries) = entries {
                pending.extend(entries.filter_map(Result::ok).map(|e| e.path()));
            }
        }
    }
    total
}

/// Wait for `child` — the leader of its own process group — at most `timeout`, then
/// SIGKILL whatever is left of the group and reap the leader. Returns its status and
/// whether the time ran out.
pub fn wait_killing_group(
    child: &mut Child,
    timeout: Duration,
) -> std::io::Result<(ExitStatus, bool)> {
    let (status, stopped) = wait_watching(child, timeout, || None)?;
    Ok((status, stopped.is_some()))
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
