//! Arguments of `glassbox rebuild`, and the build recipe flags it shares with
//! `glassbox attest build`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::{BuildRecipe, PackagePin, ToolIdentity};

use crate::rebuild::{
    SandboxChoice, DEFAULT_MAX_DISK_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_PROCESSES,
    DEFAULT_TIMEOUT_SECS,
};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Local repository path, or an https:// or file:// git URL.
    #[arg(long, value_name = "PATH|URL")]
    pub source: String,
    /// Commit (or branch, tag) to build.
    #[arg(long, value_name = "REV")]
    pub rev: String,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Attested artifact digest; without it the output is built and reported.
    #[arg(long, value_name = "sha256:HEX")]
    pub expect: Option<Sha256Digest>,
    /// Attested dirHash of the source, checked before the command runs.
    #[arg(long, value_name = "HEX")]
    pub expect_dir_hash: Option<String>,
    /// Attested gitTree (the commit's root tree ID), checked before the command runs;
    /// it binds file modes, symbolic links and submodule pins, which dirHash omits.
    #[arg(long, value_name = "TREE", value_parser = parse_git_id)]
    pub expect_git_tree: Option<String>,
    /// The attested artifact file: diffoscope compares it with the output when they differ.
    #[arg(long, value_name = "FILE")]
    pub attested: Option<PathBuf>,
    /// Time limit of the build command in seconds; the whole process group is killed after it.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Largest output, and largest file the build may write, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT_BYTES)]
    pub max_output_bytes: u64,
    /// Scratch directory (created if missing, must be empty, kept) instead of a
    /// temporary one (removed when the build reproduces).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
    /// Most processes the sandboxed build may have at once (RLIMIT_NPROC, which also
    /// counts their threads); reaching it stops the build.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PROCESSES)]
    pub max_processes: u64,
    /// Most bytes the sandboxed build's scratch directory (checkout included) may
    /// hold; measured every 200 ms, passing it stops the build.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_DISK_BYTES)]
    pub max_disk_bytes: u64,
    /// Another directory the sandboxed build may read, at the same path (repeatable),
    /// e.g. a toolchain outside /usr such as ~/.rustup.
    #[arg(long = "sandbox-ro", value_name = "DIR")]
    pub sandbox_ro: Vec<PathBuf>,
    /// Run the recipe without the bubblewrap sandbox: as you, in the scratch
    /// directory (not at the build path), with the network and your files reachable.
    /// Only for recipes you trust, on a machine without bwrap.
    #[arg(long, conflicts_with = "sandbox_ro")]
    pub no_sandbox: bool,
    /// A tool of the recorded toolchain by its SHA-256 (repeatable), as
    /// `attest build --tool` records it: compared with the one the build's PATH leads
    /// to here, and named first when the outputs differ.
    #[arg(long = "expect-tool", value_name = "NAME=SHA256", value_parser = parse_tool_digest)]
    pub expect_tools: Vec<ToolIdentity>,
    /// Build twice, the second time in another scratch directory with TZ, LANG/LC_ALL,
    /// umask and hostname changed (what the recipe pins itself is held), and report
    /// whether the outputs differ — with diffoscope, where. Exit 0 only when they agree.
    #[arg(long)]
    pub vary: bool,
    /// With --vary, leave the wall clock alone. libfaketime (which moves it) hangs
    /// programs linked with jemalloc — rustc among them — so Rust builds need this.
    #[arg(long, requires = "vary")]
    pub vary_keep_clock: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A build recipe on the command line: what `attest build` records and what
/// `rebuild` re-runs (the build predicate's `externalParameters`).
#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// Build command, run by `/bin/sh -c` in --workdir.
    #[arg(long, value_name = "CMD")]
    pub command: String,
    /// Where the command writes the artifact, relative to the source root.
    #[arg(long, value_name = "PATH")]
    pub output_path: String,
    /// Working directory of the command, relative to the source root.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub workdir: String,
    /// Environment variable set for the build (repeatable); a rebuild inherits nothing else.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// Absolute path the checkout sits at during the build (recorded as buildPath);
    /// a sandboxed rebuild places it there [rebuild default: /build/src].
    #[arg(long, value_name = "PATH")]
    pub build_path: Option<String>,
    /// Debian package the build needs (repeatable), at VERSION or, without one, at the
    /// version installed here; a rebuild refuses to run without exactly that version.
    #[arg(long = "build-dep", value_name = "PACKAGE[=VERSION]")]
    pub build_deps: Vec<String>,
}

impl RecipeArgs {
    /// The recipe these flags describe; a variable given twice is an error.
    pub fn to_recipe(&self) -> anyhow::Result<BuildRecipe> {
        let mut recipe = BuildRecipe::new(&self.command, &self.output_path);
        recipe.working_directory = self.workdir.clone();
        if !self.env.is_empty() {
            let mut env = BTreeMap::new();
            for (k, v) in &self.env {
                if env.insert(k.clone(), v.clone()).is_some() {
                    anyhow::bail!("--env {k} is given twice");
                }
            }
            recipe.environment = Some(env);
        }
        recipe.build_path = self.build_path.clone();
        if !self.build_deps.is_empty() {
            let mut pins: Vec<PackagePin> = Vec::new();
            for dep in &self.build_deps {
                let pin = package_pin(dep)?;
                if pins.iter().any(|p| p.package == pin.package) {
                    anyhow::bail!("--build-dep {} is given twice", pin.package);
                }
                pins.push(pin);
            }
            recipe.build_dependencies = Some(pins);
        }
        Ok(recipe)
    }
}

/// `PACKAGE=VERSION` as given, or `PACKAGE` at the version dpkg has installed here.
fn package_pin(dep: &str) -> anyhow::Result<PackagePin> {
    if let Some((package, version)) = dep.split_once('=') {
        if package.is_empty() || version.is_empty() {
            anyhow::bail!("--build-dep {dep:?}: expected PACKAGE or PACKAGE=VERSION");
        }
        return Ok(PackagePin {
            package: package.to_owned(),
            version: version.to_owned(),
        });
    }
    let installed = crate::rebuild::installed_version(dep)
        .map_err(|e| anyhow::anyhow!("--build-dep {dep}: cannot run dpkg-query: {e}"))?;
    let Some(version) = installed else {
        anyhow::bail!("--build-dep {dep}: the package is not installed here; give {dep}=VERSION");
    };
    Ok(PackagePin {
        package: dep.to_owned(),
        version,
    })
}

/// `NAME=SHA256` of `--expect-tool`: a recorded tool identity known by its digest.
fn parse_tool_digest(s: &str) -> Result<ToolIdentity, String> {
    let (name, digest) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=SHA256, found {s:?}"))?;
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    if name.is_empty() || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("expected NAME=SHA256 (64 hex digits), found {s:?}"));
    }
    Ok(ToolIdentity {
        name: name.to_owned(),
        path: String::new(),
        sha256: hex.to_ascii_lowercase(),
        version: String::new(),
    })
}

fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected K=V, found {s:?}")),
    }
}

/// A git object ID as a statement carries one (docs/design.md §2): 40 hex digits in a SHA-1
/// repository, 64 in a SHA-256 one; any case.
fn parse_git_id(value: &str) -> Result<String, String> {
    if matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_owned())
    } else {
        Err("expected a git tree ID: 40 or 64 hex digits".to_owned())
    }
}

impl RebuildArgs {
    /// The sandbox these flags ask for.
    pub fn sandbox(&self) -> anyhow::Result<SandboxChoice> {
        if self.no_sandbox {
            return Ok(SandboxChoice::None);
        }
        let mut extra_ro = Vec::new();
        for dir in &self.sandbox_ro {
            let absolute = std::fs::canonicalize(dir)
                .map_err(|e| anyhow::anyhow!("--sandbox-ro {}: {e}", dir.display()))?;
            // The sandbox mounts its own there, which would hide the directory.
            let hidden = ["/tmp", "/proc", "/dev", "/home/builder"]
                .iter()
                .any(|own| absolute.starts_with(own));
            if hidden || absolute == std::path::Path::new("/") {
                anyhow::bail!(
                    "--sandbox-ro {}: the sandbox has its own /, /tmp, /proc, /dev and \
                     /home/builder; give a directory elsewhere",
                    absolute.display()
                );
            }
            extra_ro.push(absolute);
        }
        Ok(SandboxChoice::Bubblewrap { extra_ro })
    }
}
