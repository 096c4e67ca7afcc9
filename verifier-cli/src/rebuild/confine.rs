//! Keeping the recipe's paths inside the checkout.
//!
//! A recipe's `outputPath` and `workingDirectory` are relative to the source root
//! without `..` (docs/design.md §3). That is checked on the text first, and again after the
//! build on the resolved path: the repository (or the build) may have turned a path
//! component into a symbolic link that points anywhere, and hashing or reporting a file
//! outside the scratch directory would let a hostile recipe make us read it.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::RebuildError;

/// Refuse an empty, absolute or `..`-containing recipe path.
pub fn check_relative(what: &'static str, path: &str) -> Result<(), RebuildError> {
    let unsafe_path = |reason| RebuildError::UnsafePath {
        what,
        path: path.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(unsafe_path("it is empty"));
    }
    if path.contains('\0') {
        return Err(unsafe_path("it contains a NUL byte"));
    }
    for component in Path::new(path).components() {
        match component {
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_path(
                    "it is absolute; it must be relative to the source root",
                ))
            }
            Component::ParentDir => {
                return Err(unsafe_path("it contains `..`"));
            }
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    Ok(())
}

/// Resolve `path` (already [`check_relative`]) under the canonical `root`, following
/// every symbolic link. `Ok(None)` when nothing exists there; an error when it
/// resolves outside `root`.
pub fn resolve_inside(
    what: &'static str,
    path: &str,
    root: &Path,
) -> Result<Option<PathBuf>, RebuildError> {
    check_relative(what, path)?;
    let joined = root.join(path);
    let resolved = match joined.canonicalize() {
        Ok(resolved) => resolved,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Missing — but a missing file under a directory link that leads out, or a
            // dangling link that points out, is an escape, not "missing".
            if let Some(outside) = escaping_ancestor(&joined, root) {
                return Err(RebuildError::Escapes {
                    what,
                    path: path.to_string(),
                    resolved: outside,
                    root: root.to_path_buf(),
                });
            }
            return Ok(None);
        }
        Err(e) => {
            return Err(RebuildError::ReadOutput {
                path: joined,
                message: e.to_string(),
            })
        }
    };
    if !resolved.starts_with(root) {
        return Err(RebuildError::Escapes {
            what,
            path: path.to_string(),
            resolved,
            root: root.to_path_buf(),
        });
    }
    Ok(Some(resolved))
}

/// For a `path` under `root` that does not resolve: where its nearest existing
/// ancestor (or that ancestor's dangling link target) leads, when that is outside
/// `root`.
fn escaping_ancestor(path: &Path, root: &Path) -> Option<PathBuf> {
    let mut current = path;
    while current != root {
        if current.symlink_metadata().is_ok() {
            let resolved = match current.canonicalize() {
                Ok(resolved) => resolved,
                // A dangling link: judge its target by its text.
                Err(_) => {
                    let target = std::fs::read_link(current).ok()?;
                    current.parent().unwrap_or(root).join(target)
                }
            };
            return (!lexically_inside(&resolved, root)).then_some(resolved);
        }
        current = current.parent()?;
    }
    None
}

/// Whether `path` stays under `root` once `.` and `..` are applied to its text.
fn lexically_inside(path: &Path, root: &Path) -> bool {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_pass_and_escapes_are_refused() {
        assert!(check_relative("output path", "out/app").is_ok());
        assert!(check_relative("output path", "./app").is_ok());
        for bad in ["", "/etc/passwd", "../app", "out/../../app", "a\0b"] {
            assert!(
                matches!(
                    check_relative("output path", bad),
                    Err(RebuildError::UnsafePath { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_out_of_the_root_is_an_escape_not_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("root");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink("../nowhere/x", root.join("out")).unwrap();
        std::os::unix::fs::symlink("missing-inside", root.join("in")).unwrap();
        assert!(matches!(
            resolve_inside("output path", "out", &root),
            Err(RebuildError::Escapes { .. })
        ));
        assert!(matches!(
            resolve_inside("output path", "in", &root),
            Ok(None)
        ));
    }
}
