//! The regular files of a directory, as dirHash sees them (DESIGN §2).
//!
//! What counts is what `find . -type f` lists: regular files, never through a symbolic
//! link. Every entry named `.git` is skipped — a directory in a checkout, a file in a
//! linked worktree or submodule — because git refuses to track any path with a `.git`
//! component, so skipping them makes a checkout hash like the commit it came from.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a directory could not be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    #[error("cannot read directory {}: {source}", path.display())]
    ReadDir { path: PathBuf, source: io::Error },
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("path {} is not valid UTF-8; dirHash paths must be UTF-8", path.display())]
    NonUtf8Path { path: PathBuf },
}

/// One regular file: its dirHash path (relative, `/`-separated) and where it is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub disk_path: PathBuf,
}

/// Every regular file under `root`, in no particular order.
pub fn regular_files(root: &Path) -> Result<Vec<TreeFile>, TreeError> {
    let meta = fs::metadata(root).map_err(|source| TreeError::ReadDir {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(TreeError::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    // (directory on disk, its relative path prefix)
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let read_err = |source| TreeError::ReadDir {
            path: dir.clone(),
            source,
        };
        for entry in fs::read_dir(&dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let disk_path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Err(TreeError::NonUtf8Path { path: disk_path });
            };
            if name == ".git" {
                continue;
            }
            // `DirEntry::file_type` does not follow symbolic links.
            let kind = entry.file_type().map_err(read_err)?;
            let path = format!("{prefix}{name}");
            if kind.is_dir() {
                pending.push((disk_path, format!("{path}/")));
            } else if kind.is_file() {
                files.push(TreeFile { path, disk_path });
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_files_get_slash_separated_paths_and_dot_git_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
        fs::create_dir_all(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("a/b/c.txt"), b"c").unwrap();
        fs::write(dir.path().join(".git/HEAD"), b"ref").unwrap();
        fs::write(dir.path().join("sub/.git"), b"gitdir: x").unwrap();
        fs::write(dir.path().join("top"), b"").unwrap();
        let mut paths: Vec<_> = regular_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        paths.sort();
        assert_eq!(paths, ["a/b/c.txt", "top"]);
    }

    #[test]
    fn a_file_is_not_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(matches!(
            regular_files(&file),
            Err(TreeError::NotADirectory { .. })
        ));
    }
}
