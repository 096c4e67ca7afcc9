//! The regular files of a directory, as dirHash sees them (docs/design.md §2).
//!
//! What counts is what `find . -type f` lists: regular files, never through a symbolic
//! link. Every entry named `.git` is skipped — a directory in a checkout, a file in a
//! linked worktree or submodule — because git refuses to track any path with a `.git`
//! component, so skipping them makes a checkout hash like the commit it came from.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::ProgressBar;

use crate::hash;

/// Why a directory could not be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    #[error("cannot read directory {}", path.display())]
    ReadDir { path: PathBuf, source: io::Error },
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("path {} is not valid UTF-8; dirHash paths must be UTF-8", path.display())]
    NonUtf8Path { path: PathBuf },
    #[error("cannot read {}", path.display())]
    ReadFile { path: PathBuf, source: io::Error },
}

/// `root` must be a directory (following a symbolic link to one).
fn require_dir(root: &Path) -> Result<(), TreeError> {
    let meta = fs::metadata(root).map_err(|source| TreeError::ReadDir {
        path: root.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        Ok(())
    } else {
        Err(TreeError::NotADirectory {
            path: root.to_path_buf(),
        })
    }
}

/// A regular file's dirHash path and the SHA-256 of its bytes.
pub type HashedFile = (String, [u8; 32]);

/// The dirHash path and SHA-256 of every regular file under `root` (the files of
/// regular files, `.git` skipped, symbolic links not followed), in no particular order.
///
/// Listing and hashing overlap on every core: each directory is a rayon task that
/// spawns its subdirectories and its files in chunks of [`CHUNK`], so idle threads
/// steal work in small pieces (a large file keeps one thread while the others take
/// the rest) and no core waits for the whole walk to finish. Files are opened relative to
/// their directory's descriptor, so the kernel resolves one name per file rather
/// than the whole path, and no file is `stat`ed: the read loop finds its end. Memory
/// is one read buffer per thread plus the result list.
pub fn hash_regular_files(root: &Path) -> Result<Vec<HashedFile>, TreeError> {
    require_dir(root)?;
    let found = Found {
        files: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        progress: ProgressBar::hidden(),
    };
    rayon::scope(|scope| walk(scope, root.to_path_buf(), String::new(), &found));
    let error = found.error.into_inner().unwrap_or_else(|e| e.into_inner());
    match error {
        Some(error) => Err(error),
        None => Ok(found.files.into_inner().unwrap_or_else(|e| e.into_inner())),
    }
}

/// What the directory tasks report: every hashed file, and the first error.
struct Found {
    files: Mutex<Vec<HashedFile>>,
    error: Mutex<Option<TreeError>>,
    /// One hidden bar for every file: building a bar parses its style template, which
    /// per file cost more allocation than the hashing loop itself.
    progress: ProgressBar,
}

impl Found {
    /// Keeps a task's files, or its error if it is the first.
    fn report(&self, hashed: Result<Vec<HashedFile>, TreeError>) {
        match hashed {
            Ok(mut files) => self
                .files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&mut files),
            Err(error) => {
                self.error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(error);
            }
        }
    }

    fn failed(&self) -> bool {
        self.error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}

fn walk<'s>(scope: &rayon::Scope<'s>, dir: PathBuf, prefix: String, found: &'s Found) {
    if found.failed() {
        return;
    }
    let hashed = hash_dir(scope, &dir, &prefix, found);
    found.report(hashed);
}

/// Files hashed by one task: a directory's files beyond the first chunk become
/// tasks of their own, so a directory of thousands of files still spreads over
/// every core.
const CHUNK: usize = 64;

/// Lists `dir`, hands each subdirectory and each further chunk of files to
/// `scope`, and hashes the first chunk itself.
///
/// No task waits on another (no nested parallel iterator), so a thread never holds
/// one directory open while it runs another: open descriptors stay at one per
/// running task however deep or wide the tree is.
fn hash_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: &Path,
    prefix: &str,
    found: &'s Found,
) -> Result<Vec<HashedFile>, TreeError> {
    let read_err = |source| TreeError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let handle = File::open(dir).map_err(read_err)?;
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            return Err(TreeError::NonUtf8Path { path: entry.path() });
        };
        if name == ".git" {
            continue;
        }
        // `DirEntry::file_type` does not follow symbolic links.
        let kind = entry.file_type().map_err(read_err)?;
        if kind.is_dir() {
            let sub_prefix = format!("{prefix}{name}/");
            let sub = entry.path();
            scope.spawn(move |scope| walk(scope, sub, sub_prefix, found));
        } else if kind.is_file() {
            names.push(name.to_owned());
        }
    }
    let rest = names.split_off(names.len().min(CHUNK));
    let mut rest = rest.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<String> = rest.by_ref().take(CHUNK).collect();
        let (dir, prefix) = (dir.to_path_buf(), prefix.to_owned());
        scope.spawn(move |_| {
            if found.failed() {
                return;
            }
            let hashed = File::open(&dir)
                .map_err(|source| TreeError::ReadDir {
                    path: dir.clone(),
                    source,
                })
                .and_then(|handle| hash_names(&handle, &dir, &prefix, chunk, &found.progress));
            found.report(hashed);
        });
    }
    hash_names(&handle, dir, prefix, names, &found.progress)
}

/// The (dirHash path, SHA-256) of each of `names` in the directory open as `handle`.
fn hash_names(
    handle: &File,
    dir: &Path,
    prefix: &str,
    names: Vec<String>,
    progress: &ProgressBar,
) -> Result<Vec<HashedFile>, TreeError> {
    names
        .into_iter()
        .map(|name| {
            let digest = hash_in(handle, OsStr::new(&name), progress).map_err(|source| {
                TreeError::ReadFile {
                    path: dir.join(&name),
                    source,
                }
            })?;
            Ok((format!("{prefix}{name}"), digest))
        })
        .collect()
}

/// SHA-256 of the file `name` in the directory open as `dir`.
fn hash_in(dir: &File, name: &OsStr, progress: &ProgressBar) -> io::Result<[u8; 32]> {
    let fd = rustix::fs::openat(
        dir,
        name,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    hash::with_buffer(|buf| hash::sha256_open_file(File::from(fd), progress, buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The sequential listing the parallel walk must agree with.
    /// One regular file: its dirHash path (relative, `/`-separated) and where it is on disk.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TreeFile {
        pub path: String,
        pub disk_path: PathBuf,
    }

    /// Every regular file under `root`, in no particular order.
    pub fn regular_files(root: &Path) -> Result<Vec<TreeFile>, TreeError> {
        require_dir(root)?;
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

    #[test]
    fn hashed_walk_agrees_with_listing_then_hashing() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["a/b", "a/c", ".git/objects", "e"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        fs::write(dir.path().join(".git/HEAD"), b"ref").unwrap();
        // One file larger than a read block, so the multi-read path is exercised.
        let big: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("a/b/big"), &big).unwrap();
        for i in 0..150 {
            fs::write(dir.path().join(format!("a/c/f{i}")), format!("{i}")).unwrap();
        }
        fs::write(dir.path().join("top"), b"").unwrap();
        // Symbolic links, to a file or dangling, are not regular files (`find -type f`).
        std::os::unix::fs::symlink("top", dir.path().join("e/link")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", dir.path().join("dangling")).unwrap();
        let mut want: Vec<HashedFile> = regular_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| {
                let d = hash::sha256_file(&f.disk_path, &ProgressBar::hidden()).unwrap();
                (f.path, d)
            })
            .collect();
        let mut got = hash_regular_files(dir.path()).unwrap();
        want.sort();
        got.sort();
        assert_eq!(got.len(), 152);
        assert_eq!(got, want);
    }

    #[test]
    fn a_file_is_not_a_hashed_tree() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(matches!(
            hash_regular_files(&file),
            Err(TreeError::NotADirectory { .. })
        ));
    }
}
