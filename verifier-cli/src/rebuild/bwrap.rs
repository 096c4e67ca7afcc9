//! The rebuild sandbox: bubblewrap (`bwrap`, Debian package `bubblewrap`) places the
//! checkout at the recorded build path in private namespaces.
//!
//! What the recipe gets (docs/threat-model.md, "hostile repository / recipe"):
//!
//! - a new mount namespace whose root is an empty tmpfs holding, read-only, `/usr`,
//!   `/etc`, `/opt` and the `/bin`, `/sbin`, `/lib*` entries of this machine (symbolic
//!   links recreated as links), plus any `--sandbox-ro` path; a fresh `/proc` and
//!   `/dev`;
//! - writable, and only these (the sandbox's root and `/dev` are remounted read-only),
//!   all inside the scratch directory: the checkout at the
//!   build path (default [`DEFAULT_BUILD_PATH`]), `/tmp`, `/dev/shm` and its HOME
//!   [`INSIDE_HOME`] — the same paths on every rebuilder, so nothing of where this
//!   machine keeps its scratch directory can reach the output;
//! - new network, IPC, PID, UTS (hostname [`HOSTNAME`]) and cgroup namespaces: no
//!   network but a loopback of its own, no signal to any process outside;
//! - a new session (no terminal to push input into), and death with its parent.
//!
//! Processes are capped with `RLIMIT_NPROC`, which the kernel counts per user and
//! never enforces for root. Run as root, the recipe therefore runs as a user of its
//! own, [`build_uid`], which owns nothing else on the machine: bwrap (as root, so it
//! may bind paths root alone can reach) keeps `CAP_SETUID`/`CAP_SETGID` for
//! `setpriv`, which switches to that user and drops every capability before the
//! recipe starts. Run as anyone else, bwrap makes a user namespace and the limit
//! counts that user's processes, so it is set to what the user already runs plus the
//! cap ([`process_limit`]).

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::RebuildError;

/// Where the checkout sits during a sandboxed build when the recipe names no path.
pub const DEFAULT_BUILD_PATH: &str = "/build/src";
/// HOME of a sandboxed build.
pub const INSIDE_HOME: &str = "/home/builder";
/// Hostname of a sandboxed build.
pub const HOSTNAME: &str = "glassbox-build";
/// Debian's package for bwrap, named in the error when it is missing.
pub const PACKAGE: &str = "bubblewrap";
/// Switches the recipe to [`build_uid`] when we are root (util-linux, Essential in
/// Debian).
const SETPRIV: &str = "/usr/bin/setpriv";

/// System directories shown read-only inside, when they exist here.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/etc", "/opt", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// Paths a build path may not be, or lie under: the sandbox mounts its own there.
const RESERVED: &[&str] = &[
    "/usr",
    "/etc",
    "/opt",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/dev",
    "/tmp",
    INSIDE_HOME,
];

/// Where a sandboxed build runs.
pub struct Plan {
    /// The bwrap executable.
    pub bwrap: PathBuf,
    /// Absolute path of the checkout inside.
    pub build_path: String,
    /// The working directory relative to the checkout (`.` for its root).
    pub workdir: String,
    /// The checkout, HOME, /tmp and /dev/shm on this machine.
    pub source: PathBuf,
    pub home: PathBuf,
    pub tmp: PathBuf,
    pub shm: PathBuf,
    /// More read-only paths (e.g. a toolchain under /root/.rustup).
    pub extra_ro: Vec<PathBuf>,
    /// The user the recipe runs as when we are root.
    pub build_uid: Option<u32>,
    /// The sandbox's hostname ([`HOSTNAME`] unless a `--vary` build changes it).
    pub hostname: String,
}

/// bwrap on our PATH, or the error naming the package to install.
pub fn find_bwrap() -> Result<PathBuf, RebuildError> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("bwrap"))
        .find(|p| is_executable(p))
        .ok_or(RebuildError::NoSandbox {
            tool: "bwrap",
            package: PACKAGE,
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Refuse a build path the sandbox cannot place a checkout at: not absolute and
/// normalised, `/` itself, or on or under a directory the sandbox mounts itself.
pub fn check_build_path(path: &str) -> Result<(), RebuildError> {
    let bad = |reason: &'static str| RebuildError::BuildPath {
        path: path.to_owned(),
        reason,
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("it must be absolute"));
    };
    if rest.is_empty()
        || rest
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad("it must be a normalised absolute path below /"));
    }
    if path.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    let taken = RESERVED
        .iter()
        .any(|r| path == *r || path.starts_with(&format!("{r}/")));
    if taken {
        return Err(bad(
            "the sandbox mounts its own /usr, /etc, /opt, /bin, /sbin, /lib*, /proc, /dev, /tmp and HOME there",
        ));
    }
    Ok(())
}

/// The user a build runs as when we are root: one no other process of the machine
/// uses (above the ranges distributions hand out, and different per rebuilding
/// process), so `RLIMIT_NPROC` counts the build's processes alone. `None` for
/// everyone else.
pub fn build_uid() -> Option<u32> {
    if rustix::process::geteuid().is_root() {
        Some(2_000_000_000 + std::process::id())
    } else {
        None
    }
}

/// Give the build user the scratch directories it writes: the checkout (every entry,
/// links themselves), HOME, /tmp and /dev/shm.
pub fn hand_over(plan: &Plan) -> Result<(), RebuildError> {
    let Some(uid) = plan.build_uid else {
        return Ok(());
    };
    let owner = |path: &Path| {
        rustix::fs::chownat(
            rustix::fs::CWD,
            path,
            Some(rustix::process::Uid::from_raw(uid)),
            Some(rustix::process::Gid::from_raw(uid)),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| RebuildError::Scratch {
            path: path.to_path_buf(),
            source: e.into(),
        })
    };
    for dir in [&plan.home, &plan.tmp, &plan.shm] {
        owner(dir)?;
    }
    let mut pending = vec![plan.source.clone()];
    while let Some(path) = pending.pop() {
        owner(&path)?;
        let meta = std::fs::symlink_metadata(&path).map_err(|source| RebuildError::Scratch {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).map_err(|source| RebuildError::Scratch {
                path: path.clone(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| RebuildError::Scratch {
                    path: path.clone(),
                    source,
                })?;
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

/// `bwrap … -- [setpriv …] /bin/sh -c <command>`; the caller sets the environment
/// (bwrap passes its own on) and the limits.
pub fn command(plan: &Plan, shell_command: &str) -> Command {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
        args.extend(items.iter().map(|i| i.as_ref().to_os_string()));
    };
    if plan.build_uid.is_some() {
        // Root: no user namespace (its root would be ours), and only the two
        // capabilities setpriv needs to become the build user.
        push(&[
            &"--unshare-ipc",
            &"--unshare-pid",
            &"--unshare-net",
            &"--unshare-uts",
            &"--unshare-cgroup-try",
            &"--cap-add",
            &"CAP_SETUID",
            &"--cap-add",
            &"CAP_SETGID",
        ]);
    } else {
        push(&[&"--unshare-all"]);
    }
    push(&[
        &"--die-with-parent",
        &"--new-session",
        &"--hostname",
        &plan.hostname,
    ]);
    // The directories above the mount points, readable by the build user (bwrap
    // would make them for root alone), made before anything is mounted on them.
    let extra: Vec<String> = plan
        .extra_ro
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut parents: Vec<String> = Vec::new();
    for inside in [plan.build_path.as_str(), INSIDE_HOME]
        .into_iter()
        .chain(extra.iter().map(String::as_str))
    {
        let mut at = String::new();
        let components: Vec<&str> = inside.trim_start_matches('/').split('/').collect();
        for component in &components[..components.len().saturating_sub(1)] {
            at.push('/');
            at.push_str(component);
            let system = SYSTEM_DIRS
                .iter()
                .any(|d| at == *d || at.starts_with(&format!("{d}/")));
            if !system && !parents.contains(&at) {
                parents.push(at.clone());
            }
        }
    }
    for dir in &parents {
        push(&[&"--perms", &"0755", &"--dir", dir]);
    }
    for dir in SYSTEM_DIRS {
        let path = Path::new(dir);
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if let Ok(target) = std::fs::read_link(path) {
                    push(&[&"--symlink", &target, &path]);
                }
            }
            Ok(meta) if meta.is_dir() => push(&[&"--ro-bind", &path, &path]),
            _ => {}
        }
    }
    for path in &plan.extra_ro {
        push(&[&"--ro-bind", path, path]);
    }
    let workdir = if plan.workdir == "." {
        plan.build_path.clone()
    } else {
        format!(
            "{}/{}",
            plan.build_path,
            plan.workdir.trim_start_matches("./")
        )
    };
    push(&[
        &"--proc",
        &"/proc",
        &"--dev",
        &"/dev",
        &"--bind",
        &plan.shm,
        &"/dev/shm",
        &"--bind",
        &plan.tmp,
        &"/tmp",
        &"--bind",
        &plan.home,
        &INSIDE_HOME,
        &"--bind",
        &plan.source,
        &plan.build_path,
        // Nothing but the binds above is writable: not the sandbox's own root, where
        // bwrap made the mount points, nor its /dev (device nodes still work).
        &"--remount-ro",
        &"/",
        &"--remount-ro",
        &"/dev",
        &"--chdir",
        &workdir,
        &"--",
    ]);
    if let Some(uid) = plan.build_uid {
        push(&[
            &SETPRIV,
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            &"--clear-groups",
            &"--inh-caps=-all",
            &"--bounding-set=-all",
        ]);
    }
    push(&[&"/bin/sh", &"-c", &shell_command]);
    let mut cmd = Command::new(&plan.bwrap);
    cmd.args(args).current_dir("/");
    cmd
}

/// Tasks the caller's own user may start while a build runs (this process's waiting
/// and reading threads among them) without eating into the build's allowance.
const USER_HEADROOM: u64 = 64;

/// The `RLIMIT_NPROC` that lets a build start `max_processes` processes: exactly that
/// for the build user of its own; otherwise what the user already runs, plus the cap,
/// plus [`USER_HEADROOM`] — the kernel counts every task of the user, threads
/// included, so the watcher stops the build at the cap before the limit bites, unless
/// the user's other processes grow by more than the headroom meanwhile (then forks
/// fail early and the time limit ends a build that does not give up).
pub fn process_limit(plan: &Plan, max_processes: u64) -> u64 {
    if plan.build_uid.is_some() {
        return max_processes;
    }
    let uid = rustix::process::getuid().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return max_processes;
    };
    let running: u64 = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| threads(&e.path()))
        .sum();
    running + max_processes + USER_HEADROOM
}

/// The number of threads of the process at `/proc/<pid>` (1 when unreadable).
fn threads(proc_dir: &Path) -> u64 {
    std::fs::read_to_string(proc_dir.join("status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1)
}

/// Whether setpriv is there when the build runs as a user of its own.
pub fn check_setpriv(build_uid: Option<u32>) -> Result<(), RebuildError> {
    if build_uid.is_some() && !is_executable(Path::new(SETPRIV)) {
        return Err(RebuildError::NoSandbox {
            tool: "setpriv",
            package: "util-linux",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_paths_the_sandbox_owns_or_cannot_place_are_refused() {
        for good in ["/build/src", "/src", "/home/alice/hello-2.10", "/var/build"] {
            assert!(check_build_path(good).is_ok(), "{good}");
        }
        for bad in [
            "build/src",
            "/",
            "/build/../etc",
            "/build//src",
            "/build/src/",
            "/usr/src/app",
            "/etc",
            "/tmp/build",
            "/proc/1",
            "/home/builder",
            "/home/builder/src",
            "/lib64/x",
        ] {
            assert!(
                matches!(check_build_path(bad), Err(RebuildError::BuildPath { .. })),
                "{bad}"
            );
        }
    }
}
