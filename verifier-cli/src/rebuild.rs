//! Independent rebuild (docs/design.md §6 step 6): fetch the attested source, prove it is the
//! attested tree, run the recorded recipe, and compare what comes out.
//!
//! The order matters. The checkout is checked *before* anything from the repository
//! runs, so a recipe only ever executes against the source that reviewers approved:
//! its dirHash, then its root tree ID (which also binds what dirHash omits — file
//! modes, symbolic links, submodule pins; docs/verification.md, "What the source
//! identity binds"), then its symbolic links, none of which may lead out of it
//! ([`symlinks`]). Every file then gets the commit time as its modification time
//! ([`timestamps`]), and the declared build dependencies are checked
//! ([`environment`]). The recipe then runs in the bubblewrap sandbox ([`bwrap`]) —
//! the checkout at the recorded build path, the rest of the file system read-only,
//! no network, a cleared environment — with limits on time, file size, disk and
//! processes, and its outputs resolved inside the checkout (see [`sandbox`] and
//! [`confine`] for what that does and does not protect against). Without the sandbox
//! (`--no-sandbox`) it runs as the caller in the scratch directory.
//!
//! Scratch layout (a fresh temporary directory unless the caller names one):
//!
//! ```text
//! <scratch>/source/   the checkout (at the build path inside the sandbox); the
//!                     recipe's paths are relative to it
//! <scratch>/.home/    HOME of the recipe (/home/builder inside the sandbox)
//! <scratch>/.tmp/     TMPDIR of the recipe (/tmp inside the sandbox)
//! <scratch>/.shm/     /dev/shm inside the sandbox
//! <scratch>/diffoscope.txt   the diffoscope report, when one was made
//! ```
//!
//! A divergence is not an error: [`rebuild`] returns `Ok` with
//! [`RebuildReport::divergence`] saying exactly where it happened. `Err` is kept for
//! problems that are not evidence about the build (I/O, unreachable source, a recipe
//! whose paths try to leave the scratch directory).

mod bwrap;
mod confine;
mod diffoscope;
mod divergence;
mod environment;
mod fetch;
mod sandbox;
mod symlinks;
mod timestamps;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::{BuildRecipe, ToolIdentity};

/// Default wall-clock limit of a rebuild, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 3600;
/// Default largest output (and largest file the build may write): 4 GiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 4 << 30;
/// Default most a sandboxed build may hold in its scratch directory, checkout
/// included: 16 GiB.
pub const DEFAULT_MAX_DISK_BYTES: u64 = 16 << 30;
/// Default most processes (and threads: the kernel counts both) a sandboxed build may
/// have at once.
pub const DEFAULT_MAX_PROCESSES: u64 = 4096;

pub use diffoscope::{compare as diffoscope_compare, DiffoscopeOutcome};
pub use divergence::Divergence;
pub use environment::{identify_tools, installed_version, MissingDependency, ToolComparison};
pub use sandbox::recipe_environment;
pub use symlinks::LinkEscape;

/// What to rebuild and what to expect.
#[derive(Debug, Clone)]
pub struct RebuildRequest {
    /// A local repository path, or an `https://` or `file://` git URL.
    pub source: String,
    /// Commit (or any revision git resolves to one) to check out.
    pub rev: String,
    /// The attested dirHash; checked before the recipe runs.
    pub expected_dir_hash: Option<String>,
    /// The attested gitTree (the commit's root tree ID, any case); checked before the
    /// recipe runs.
    pub expected_git_tree: Option<String>,
    /// The recorded build recipe (SLSA `externalParameters`, docs/design.md §3).
    pub recipe: BuildRecipe,
    /// The toolchain the attested build recorded (`internalParameters.toolchain`);
    /// compared with this machine's, and named first when the bytes differ.
    pub recorded_toolchain: Vec<ToolIdentity>,
    /// The attested artifact digest; `None` builds and reports without comparing.
    pub expected: Option<Sha256Digest>,
    /// Wall-clock limit of the recipe.
    pub timeout: Duration,
    /// Largest output (and largest file the recipe may write) in bytes.
    pub max_output_bytes: u64,
    /// The attested artifact itself, for diffoscope when the outputs differ.
    pub attested_artifact: Option<PathBuf>,
    /// Scratch directory (created if missing, must be empty, never removed); default:
    /// a fresh temporary directory, removed on success and kept on divergence.
    pub work_dir: Option<PathBuf>,
    /// How the recipe is confined.
    pub sandbox: SandboxChoice,
    /// Most processes a sandboxed build may have at once.
    pub max_processes: u64,
    /// Most bytes a sandboxed build's scratch directory may hold.
    pub max_disk_bytes: u64,
    /// What a `--vary` build changes; `None` builds in the recorded environment.
    pub variation: Option<Variation>,
}

/// What the second build of `glassbox rebuild --vary` changes, beside its scratch
/// directory: what reprotest (reproducible-builds.org) varies and a recipe may not
/// have pinned. The wall clock is moved through libfaketime (Debian's `faketime`
/// package), as reprotest does, when it is installed; SOURCE_DATE_EPOCH stays the
/// commit time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variation {
    /// Variables set before the recipe's own; one the recipe sets itself is held.
    pub env: Vec<(String, String)>,
    /// File creation mask instead of [`DEFAULT_UMASK`].
    pub umask: u32,
    /// Hostname of the sandbox.
    pub hostname: String,
    /// The libfaketime that moves the wall clock by [`CLOCK_SHIFT`]; `None` when
    /// it is not installed (the clock is then not varied).
    pub faketime: Option<PathBuf>,
}

/// How far a `--vary` build's wall clock is moved: more than a year, so even the
/// year a build stamps changes.
pub const CLOCK_SHIFT: &str = "+398d";

/// Where Debian's `faketime` package installs libfaketime.
const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

impl Variation {
    /// The recipe's command as the varied build runs it: with libfaketime
    /// preloaded by the recipe's own shell, so only the build's processes see the
    /// moved clock (preloaded into the sandbox's launcher, libfaketime's shared
    /// clock would belong to root, and a build run under a uid of its own could
    /// not open it). Monotonic clocks, which time-outs use, keep real time.
    fn command(&self, command: &str) -> String {
        match &self.faketime {
            Some(lib) => format!(
                "export LD_PRELOAD='{}' FAKETIME='{CLOCK_SHIFT}' FAKETIME_DONT_FAKE_MONOTONIC=1\n{command}",
                lib.display()
            ),
            None => command.to_owned(),
        }
    }
}

impl Variation {
    /// The variation `--vary` uses.
    pub fn standard() -> Variation {
        let faketime = LIBFAKETIME
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .map(Path::to_path_buf);
        let env = vec![
            // UTC+14, the farthest from the UTC a build usually sees.
            ("TZ".to_owned(), "Etc/GMT-14".to_owned()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("LC_ALL".to_owned(), "C.UTF-8".to_owned()),
        ];
        Variation {
            env,
            umask: 0o002,
            hostname: "glassbox-vary".to_owned(),
            faketime,
        }
    }
}

/// The hostname of a sandboxed build in the recorded environment.
pub const DEFAULT_HOSTNAME: &str = bwrap::HOSTNAME;
/// The file creation mask of a build in the recorded environment.
pub const DEFAULT_UMASK: u32 = sandbox::DEFAULT_UMASK;

/// Whether the recipe runs in the bubblewrap sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxChoice {
    /// In the sandbox, with these extra read-only paths (a toolchain outside /usr).
    Bubblewrap { extra_ro: Vec<PathBuf> },
    /// Directly, as the caller, in the scratch directory (no build path, no network
    /// or file system confinement).
    None,
}

/// What a rebuild found.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    /// Where the source was checked out and built (removed when it was a temporary
    /// directory and the rebuild reproduced).
    pub scratch_dir: PathBuf,
    /// The commit `rev` resolved to.
    pub git_commit: String,
    /// That commit's root tree ID.
    pub git_tree: String,
    /// dirHash of the checkout.
    pub dir_hash: String,
    /// SHA-256 of the produced file, when there was one within the limits.
    pub output: Option<Sha256Digest>,
    /// The first point where the rebuild departed from the expectation.
    pub divergence: Option<Divergence>,
    /// Set when the output hash differed and an attested artifact was given.
    pub diffoscope: Option<DiffoscopeOutcome>,
    /// Each recorded tool next to the one this machine has.
    pub toolchain: Vec<ToolComparison>,
    /// Where the checkout sat during the build: the build path in the sandbox, the
    /// scratch directory's `source` without it (`None` when the recipe never ran).
    pub built_at: Option<String>,
    /// Whether the build ran in the sandbox.
    pub sandboxed: bool,
}

impl RebuildReport {
    /// Built without any divergence (and reproduced, when an expectation was given).
    pub fn reproduced(&self) -> bool {
        self.divergence.is_none()
    }
}

/// A rebuild that could not be carried out (as opposed to one that diverged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RebuildError {
    #[error("cannot prepare scratch directory {}", path.display())]
    Scratch { path: PathBuf, source: io::Error },
    #[error("scratch directory {} is not empty", path.display())]
    ScratchNotEmpty { path: PathBuf },
    #[error(
        "unsupported source {source_name:?}: give a local path or an https:// or file:// git URL"
    )]
    UnsupportedSource { source_name: String },
    #[error("cannot fetch {source_name}: {message}")]
    Fetch {
        source_name: String,
        message: String,
    },
    #[error("revision {rev:?} does not name a commit in {source_name}: {message}")]
    Revision {
        source_name: String,
        rev: String,
        message: String,
    },
    #[error("cannot check out {commit}: {message}")]
    Checkout { commit: String, message: String },
    #[error("cannot hash the checkout: {message}")]
    HashSource { message: String },
    #[error("cannot inspect the checkout at {}", path.display())]
    InspectSource { path: PathBuf, source: io::Error },
    #[error("recipe {what} {path:?} is unsafe: {reason}")]
    UnsafePath {
        what: &'static str,
        path: String,
        reason: &'static str,
    },
    #[error("recipe {what} {path:?} resolves to {}, outside the checkout {}", resolved.display(), root.display())]
    Escapes {
        what: &'static str,
        path: String,
        resolved: PathBuf,
        root: PathBuf,
    },
    #[error("recipe working directory {path:?} is not a directory in the checkout")]
    NoWorkingDirectory { path: String },
    #[error("recipe environment variable {name:?} is not a valid name")]
    BadEnvironment { name: String },
    #[error(
        "the rebuild sandbox needs {tool}: install the Debian package {package} \
         (apt-get install {package}), or pass --no-sandbox to build without it"
    )]
    NoSandbox {
        tool: &'static str,
        package: &'static str,
    },
    #[error("build path {path:?} cannot be used: {reason}")]
    BuildPath { path: String, reason: &'static str },
    #[error("cannot run the build command")]
    Spawn { source: io::Error },
    #[error("cannot read the build output {}: {message}", path.display())]
    ReadOutput { path: PathBuf, message: String },
}

/// The scratch directory: ours to delete, or the caller's to keep.
enum Scratch {
    Temporary(tempfile::TempDir),
    Given(PathBuf),
}

impl Scratch {
    fn create(work_dir: Option<&Path>) -> Result<Scratch, RebuildError> {
        let Some(dir) = work_dir else {
            return tempfile::Builder::new()
                .prefix("glassbox-rebuild-")
                .tempdir()
                .map(Scratch::Temporary)
                .map_err(|source| RebuildError::Scratch {
                    path: std::env::temp_dir(),
                    source,
                });
        };
        let err = |source| RebuildError::Scratch {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(err)?;
        if fs::read_dir(dir).map_err(err)?.next().is_some() {
            return Err(RebuildError::ScratchNotEmpty {
                path: dir.to_path_buf(),
            });
        }
        // Canonical, so the confinement checks compare like with like.
        Ok(Scratch::Given(fs::canonicalize(dir).map_err(err)?))
    }

    fn path(&self) -> &Path {
        match self {
            Scratch::Temporary(dir) => dir.path(),
            Scratch::Given(path) => path,
        }
    }

    /// Keep a temporary directory only when there is something to look at.
    fn finish(self, keep: bool) -> PathBuf {
        match self {
            Scratch::Temporary(dir) if keep => dir.keep(),
            Scratch::Temporary(dir) => {
                let path = dir.path().to_path_buf();
                // Best effort: a failed cleanup of a temp dir is not worth failing over.
                let _ = dir.close();
                path
            }
            Scratch::Given(path) => path,
        }
    }
}

/// Rebuild `req.source` at `req.rev` with `req.recipe` and compare the result.
pub fn rebuild(req: &RebuildRequest) -> Result<RebuildReport, RebuildError> {
    // Refuse unsafe paths before fetching anything.
    confine::check_relative("output path", &req.recipe.output_path)?;
    confine::check_relative("working directory", &req.recipe.working_directory)?;
    let env = sandbox::recipe_environment(req.recipe.environment.as_ref())?;
    // And refuse a sandbox that cannot be had, before fetching anything either.
    let sandbox_tools = match &req.sandbox {
        SandboxChoice::Bubblewrap { extra_ro } => {
            let build_path = req
                .recipe
                .build_path
                .clone()
                .unwrap_or_else(|| bwrap::DEFAULT_BUILD_PATH.to_owned());
            bwrap::check_build_path(&build_path)?;
            let bwrap = bwrap::find_bwrap()?;
            bwrap::check_setpriv(bwrap::build_uid())?;
            Some((bwrap, build_path, extra_ro.clone()))
        }
        SandboxChoice::None => None,
    };

    let scratch = Scratch::create(req.work_dir.as_deref())?;
    let root = fs::canonicalize(scratch.path()).map_err(|source| RebuildError::Scratch {
        path: scratch.path().to_path_buf(),
        source,
    })?;
    let source_root = root.join("source");
    let fetched = fetch::checkout(&req.source, &req.rev, &source_root)?;

    let identity = crate::source::from_dir(&source_root).map_err(|e| RebuildError::HashSource {
        message: format!("{e:#}"),
    })?;
    let mut report = RebuildReport {
        scratch_dir: root.clone(),
        git_commit: fetched.commit,
        git_tree: fetched.tree,
        dir_hash: identity.dir_hash,
        output: None,
        divergence: None,
        diffoscope: None,
        toolchain: Vec::new(),
        built_at: None,
        sandboxed: false,
    };

    if let Some(divergence) = check_source(req, &report, &source_root)? {
        report.divergence = Some(divergence);
        report.scratch_dir = scratch.finish(true);
        return Ok(report);
    }

    // Only now, with the tree known to be the attested one: a recipe's build system
    // compares these times, so they must not be those of the checkout.
    timestamps::set_all(&source_root, fetched.commit_time).map_err(|source| {
        RebuildError::InspectSource {
            path: source_root.clone(),
            source,
        }
    })?;

    let missing = environment::check_dependencies(
        req.recipe.build_dependencies.as_deref().unwrap_or_default(),
    );
    if !missing.is_empty() {
        report.divergence = Some(Divergence::BuildDependencies { missing });
        report.scratch_dir = scratch.finish(true);
        return Ok(report);
    }
    report.toolchain = environment::compare_tools(&req.recorded_toolchain, &recipe_path(&env));

    let workdir = confine::resolve_inside(
        "working directory",
        &req.recipe.working_directory,
        &source_root,
    )?;
    if !workdir.as_ref().is_some_and(|dir| dir.is_dir()) {
        return Err(RebuildError::NoWorkingDirectory {
            path: req.recipe.working_directory.clone(),
        });
    }
    let workdir = workdir.unwrap_or_else(|| source_root.clone());

    // A variation never overrides what the recipe pins itself.
    let varied_env: Vec<(String, String)> = req
        .variation
        .iter()
        .flat_map(|v| v.env.iter())
        .filter(|(name, _)| !env.iter().any(|(pinned, _)| pinned == name))
        .cloned()
        .collect();
    let home = root.join(".home");
    let tmp = root.join(".tmp");
    let plan = match sandbox_tools {
        Some((bwrap, build_path, extra_ro)) => {
            let relative = workdir
                .strip_prefix(&source_root)
                .ok()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| ".".to_owned(), |p| p.to_string_lossy().into_owned());
            let plan = bwrap::Plan {
                bwrap,
                build_path,
                workdir: relative,
                source: source_root.clone(),
                home: home.clone(),
                tmp: tmp.clone(),
                shm: root.join(".shm"),
                extra_ro,
                build_uid: bwrap::build_uid(),
                hostname: req
                    .variation
                    .as_ref()
                    .map_or_else(|| bwrap::HOSTNAME.to_owned(), |v| v.hostname.clone()),
            };
            for dir in [&plan.home, &plan.tmp, &plan.shm] {
                fs::create_dir_all(dir).map_err(|source| RebuildError::Scratch {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            bwrap::hand_over(&plan)?;
            Some(plan)
        }
        None => None,
    };
    report.sandboxed = plan.is_some();
    report.built_at = Some(match &plan {
        Some(plan) => plan.build_path.clone(),
        None => source_root.to_string_lossy().into_owned(),
    });

    let command = match &req.variation {
        Some(v) => v.command(&req.recipe.command),
        None => req.recipe.command.clone(),
    };
    let run = sandbox::run(&sandbox::RunSpec {
        command: &command,
        cwd: &workdir,
        home: &home,
        tmp: &tmp,
        source_date_epoch: fetched.commit_time,
        recipe_env: &env,
        timeout: req.timeout,
        file_size_limit: req.max_output_bytes,
        sandbox: plan.as_ref(),
        max_processes: req.max_processes,
        scratch: &root,
        max_disk_bytes: req.max_disk_bytes,
        umask: req.variation.as_ref().map_or(DEFAULT_UMASK, |v| v.umask),
        varied_env: &varied_env,
    })?;
    report.divergence = match run {
        sandbox::RunEnd::Success => check_output(req, &source_root, &mut report)?,
        sandbox::RunEnd::TimedOut => Some(Divergence::TimedOut {
            seconds: req.timeout.as_secs(),
        }),
        sandbox::RunEnd::FileTooLarge => Some(Divergence::OutputTooLarge {
            limit: req.max_output_bytes,
        }),
        sandbox::RunEnd::TooManyProcesses => Some(Divergence::TooManyProcesses {
            limit: req.max_processes,
        }),
        sandbox::RunEnd::DiskFull => Some(Divergence::DiskFull {
            limit: req.max_disk_bytes,
        }),
        sandbox::RunEnd::Failed {
            status,
            stderr_tail,
        } => Some(Divergence::BuildFailed {
            status,
            stderr_tail,
        }),
    };

    if let Some(Divergence::OutputHash { expected, actual }) = &report.divergence {
        let differs: Vec<ToolComparison> = report
            .toolchain
            .iter()
            .filter(|t| !t.same())
            .cloned()
            .collect();
        if !differs.is_empty() {
            report.divergence = Some(Divergence::Toolchain {
                differs,
                expected: *expected,
                actual: *actual,
            });
        }
    }
    if let (Some(Divergence::OutputHash { .. } | Divergence::Toolchain { .. }), Some(attested)) =
        (&report.divergence, &req.attested_artifact)
    {
        let produced = source_root.join(&req.recipe.output_path);
        report.diffoscope = Some(diffoscope::compare(
            attested,
            &produced,
            &root.join("diffoscope.txt"),
        ));
    }
    let keep = report.divergence.is_some();
    report.scratch_dir = scratch.finish(keep);
    Ok(report)
}

/// The PATH the recipe runs with: its own, or [`sandbox::RECIPE_PATH`].
pub fn recipe_path(env: &[(String, String)]) -> String {
    env.iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map_or_else(|| sandbox::RECIPE_PATH.to_owned(), |(_, v)| v.clone())
}

/// Whether the checkout may be built: the attested dirHash (the identity verification
/// matches on, docs/design.md §2), then the attested gitTree (binding what dirHash omits), then
/// no symbolic link leading out of it.
fn check_source(
    req: &RebuildRequest,
    report: &RebuildReport,
    source_root: &Path,
) -> Result<Option<Divergence>, RebuildError> {
    if let Some(expected) = &req.expected_dir_hash {
        if !expected.eq_ignore_ascii_case(&report.dir_hash) {
            return Ok(Some(Divergence::SourceHash {
                expected: expected.clone(),
                actual: report.dir_hash.clone(),
            }));
        }
    }
    if let Some(expected) = &req.expected_git_tree {
        if !expected.eq_ignore_ascii_case(&report.git_tree) {
            return Ok(Some(Divergence::SourceTree {
                expected: expected.clone(),
                actual: report.git_tree.clone(),
            }));
        }
    }
    Ok(
        symlinks::first_escaping(source_root)?.map(|link| Divergence::SourceSymlink {
            path: link.path,
            target: link.target,
            escape: link.escape,
        }),
    )
}

/// Locate, size-check and hash the output; compare it with the expectation.
fn check_output(
    req: &RebuildRequest,
    source_root: &Path,
    report: &mut RebuildReport,
) -> Result<Option<Divergence>, RebuildError> {
    let output_path = &req.recipe.output_path;
    let Some(resolved) = confine::resolve_inside("output path", output_path, source_root)? else {
        return Ok(Some(Divergence::OutputMissing {
            path: output_path.clone(),
        }));
    };
    let read_err = |message: String| RebuildError::ReadOutput {
        path: resolved.clone(),
        message,
    };
    let meta = fs::metadata(&resolved).map_err(|e| read_err(e.to_string()))?;
    if !meta.is_file() {
        return Ok(Some(Divergence::OutputMissing {
            path: output_path.clone(),
        }));
    }
    if meta.len() > req.max_output_bytes {
        return Ok(Some(Divergence::OutputTooLarge {
            limit: req.max_output_bytes,
        }));
    }
    let digest = crate::hash::sha256_file(&resolved, &indicatif::ProgressBar::hidden())
        .map(Sha256Digest)
        .map_err(|e| read_err(e.to_string()))?;
    report.output = Some(digest);
    Ok(match req.expected {
        Some(expected) if expected != digest => Some(Divergence::OutputHash {
            expected,
            actual: digest,
        }),
        _ => None,
    })
}
