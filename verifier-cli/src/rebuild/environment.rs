//! The recorded build environment on this machine: are the declared Debian build
//! dependencies installed at their recorded versions, and which toolchain binaries
//! does the recipe's PATH lead to.
//!
//! Build dependencies are *required equal*: a package missing or at another version is
//! reported before the recipe runs, as Debian's `.buildinfo` rebuilders do. The
//! toolchain identity is *recorded*: a different compiler build may still give the
//! same bytes, so it does not stop a rebuild, but when the bytes differ it is the first
//! thing the report names (docs/decisions.md, "Recorded versus required equal").
//!
//! Tools are looked up in this machine's file system. Under the sandbox that is what
//! the recipe sees too: `/usr`, `/etc` and the other system directories are the same
//! files, read-only, at the same paths.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use glassbox_core::statement::{PackagePin, ToolIdentity};

/// How long `dpkg-query` or `TOOL --version` may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);

/// A declared build dependency this machine does not have as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDependency {
    pub package: String,
    /// The recorded version.
    pub wanted: String,
    /// What is installed here; `None` when the package is not installed (or there is
    /// no dpkg to ask).
    pub installed: Option<String>,
}

impl std::fmt::Display for MissingDependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.installed {
            Some(have) => write!(
                f,
                "{} {} is recorded, {have} is installed",
                self.package, self.wanted
            ),
            None => write!(
                f,
                "{} {} is recorded and not installed (apt-get install {}={})",
                self.package, self.wanted, self.package, self.wanted
            ),
        }
    }
}

/// The version of `package` dpkg has installed, if any. `Err` when dpkg-query cannot
/// be run at all (not a Debian system).
pub fn installed_version(package: &str) -> std::io::Result<Option<String>> {
    let (_, out) = run_bounded(
        Command::new("dpkg-query")
            .args(["-W", "-f", "${db:Status-Abbrev}|${Version}", "--", package])
            .env_clear()
            .env("PATH", super::sandbox::RECIPE_PATH),
    )?;
    // `ii ` = wanted install, installed, no error; anything else is not a usable package.
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .split_once('|')
        .filter(|(status, _)| status.trim_end() == "ii")
        .map(|(_, version)| version.trim().to_owned())
        .filter(|v| !v.is_empty()))
}

/// The declared dependencies that are not installed here at their recorded version.
pub fn check_dependencies(pins: &[PackagePin]) -> Vec<MissingDependency> {
    pins.iter()
        .filter_map(|pin| {
            let installed = installed_version(&pin.package).ok().flatten();
            (installed.as_deref() != Some(pin.version.as_str())).then(|| MissingDependency {
                package: pin.package.clone(),
                wanted: pin.version.clone(),
                installed,
            })
        })
        .collect()
}

/// A tool the recipe names that could not be identified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    #[error("tool {name:?} is not a plain command name")]
    BadName { name: String },
    #[error("tool {name:?} is not on the build's PATH {path}")]
    NotFound { name: String, path: String },
    #[error("cannot read tool {name:?} at {}", file.display())]
    Read {
        name: String,
        file: PathBuf,
        source: std::io::Error,
    },
}

/// Identify each of `names` as the build would find it on `path_var` (the recipe's
/// PATH): the file it resolves to, its SHA-256 and the first line of `--version`.
pub fn identify_tools(names: &[String], path_var: &str) -> Result<Vec<ToolIdentity>, ToolError> {
    names.iter().map(|name| identify(name, path_var)).collect()
}

fn identify(name: &str, path_var: &str) -> Result<ToolIdentity, ToolError> {
    if name.is_empty() || name.contains('/') || name.contains('\0') {
        return Err(ToolError::BadName {
            name: name.to_owned(),
        });
    }
    let found = find_on(name, path_var).ok_or_else(|| ToolError::NotFound {
        name: name.to_owned(),
        path: path_var.to_owned(),
    })?;
    let read_err = |file: &Path, source| ToolError::Read {
        name: name.to_owned(),
        file: file.to_path_buf(),
        source,
    };
    let resolved = found.canonicalize().map_err(|e| read_err(&found, e))?;
    let digest = crate::hash::sha256_file(&resolved, &indicatif::ProgressBar::hidden())
        .map_err(|crate::hash::HashError::Read { source, .. }| read_err(&resolved, source))?;
    Ok(ToolIdentity {
        name: name.to_owned(),
        path: resolved.to_string_lossy().into_owned(),
        sha256: hex::encode(digest),
        version: version_line(&found, path_var),
    })
}

/// First non-empty line `TOOL --version` prints (stdout, else stderr), or empty when
/// it fails (a tool without `--version`, like dash, says so in an error). It runs
/// with the recipe's PATH and nothing else of our environment, like the build.
fn version_line(tool: &Path, path_var: &str) -> String {
    let out = match run_bounded(
        Command::new(tool)
            .arg("--version")
            .env_clear()
            .env("PATH", path_var)
            .env("LC_ALL", "C"),
    ) {
        Ok((true, out)) => out,
        _ => return String::new(),
    };
    String::from_utf8_lossy(&out)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().filter(|c| !c.is_control()).collect())
        .unwrap_or_default()
}

/// The first executable file named `name` in the `:`-separated `path_var`.
fn find_on(name: &str, path_var: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path_var
        .split(':')
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `cmd` succeeded, and its stdout (or, when that is empty, its stderr); it is
/// killed after [`QUERY_TIMEOUT`].
fn run_bounded(cmd: &mut Command) -> std::io::Result<(bool, Vec<u8>)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(pipe) = stdout.as_mut() {
            let _ = pipe.take(64 << 10).read_to_end(&mut out);
        }
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.take(64 << 10).read_to_end(&mut err);
        }
        if out.is_empty() {
            err
        } else {
            out
        }
    });
    let (status, timed_out) = super::sandbox::wait_killing_group(&mut child, QUERY_TIMEOUT)?;
    let output = reader
        .join()
        .map_err(|_| std::io::Error::other("reader thread panicked"))?;
    Ok((status.success() && !timed_out, output))
}

/// How a recorded tool compares with the one this machine has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolComparison {
    pub recorded: ToolIdentity,
    /// This machine's; `None` when the tool is not on the build's PATH here.
    pub here: Option<ToolIdentity>,
}

impl ToolComparison {
    /// Same bytes (the path may differ: a symbolic link may lead elsewhere).
    pub fn same(&self) -> bool {
        self.here
            .as_ref()
            .is_some_and(|h| h.sha256 == self.recorded.sha256)
    }
}

impl std::fmt::Display for ToolComparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: recorded {}",
            self.recorded.name,
            describe(&self.recorded)
        )?;
        match &self.here {
            None => write!(f, "; not on the build's PATH here"),
            Some(here) => write!(f, "; here {}", describe(here)),
        }
    }
}

/// `PATH sha256 HEX ("VERSION")`, leaving out what is not known (`--expect-tool`
/// gives a digest alone).
fn describe(tool: &ToolIdentity) -> String {
    let mut text = String::new();
    if !tool.path.is_empty() {
        text.push_str(&tool.path);
        text.push(' ');
    }
    text.push_str(&format!("sha256 {}", tool.sha256));
    if !tool.version.is_empty() {
        text.push_str(&format!(" ({:?})", tool.version));
    }
    text
}

/// Compare each recorded tool with the one found here on `path_var`.
pub fn compare_tools(recorded: &[ToolIdentity], path_var: &str) -> Vec<ToolComparison> {
    recorded
        .iter()
        .map(|r| ToolComparison {
            recorded: r.clone(),
            here: identify(&r.name, path_var).ok(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_is_identified_by_the_file_its_name_resolves_to() {
        let tools = identify_tools(&["sh".to_owned()], "/usr/bin:/bin").unwrap();
        let sh = &tools[0];
        assert_eq!(sh.name, "sh");
        assert!(sh.path.starts_with('/'), "{sh:?}");
        assert_eq!(sh.sha256.len(), 64);
        let bytes = std::fs::read(&sh.path).unwrap();
        assert_eq!(
            sh.sha256,
            glassbox_core::digest::Sha256Digest::of(&bytes).hex()
        );
    }

    #[test]
    fn a_missing_tool_or_a_path_for_a_name_is_an_error() {
        assert!(matches!(
            identify_tools(&["no-such-tool-here".to_owned()], "/usr/bin:/bin"),
            Err(ToolError::NotFound { .. })
        ));
        assert!(matches!(
            identify_tools(&["/bin/sh".to_owned()], "/usr/bin:/bin"),
            Err(ToolError::BadName { .. })
        ));
    }

    fn pin(package: &str, version: &str) -> PackagePin {
        PackagePin {
            package: package.to_owned(),
            version: version.to_owned(),
        }
    }

    #[test]
    fn an_installed_package_at_its_version_passes_and_at_another_does_not() {
        let version = installed_version("dpkg")
            .unwrap()
            .expect("dpkg is installed");
        assert!(check_dependencies(&[pin("dpkg", &version)]).is_empty());
        let other = check_dependencies(&[pin("dpkg", "0.0-not-this-one")]);
        assert_eq!(other[0].installed.as_deref(), Some(version.as_str()));
        assert!(
            other[0].to_string().contains("is installed"),
            "{}",
            other[0]
        );
    }

    #[test]
    fn a_package_that_is_not_installed_is_reported_with_how_to_get_it() {
        let missing = check_dependencies(&[pin("glassbox-no-such-package", "1.0")]);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].installed, None);
        assert!(missing[0].to_string().contains("not installed"));
    }
}
