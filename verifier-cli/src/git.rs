//! Reading a commit's source tree straight from a git repository — no checkout, so a
//! bare repository or a dirty working tree gives the committed content (docs/design.md §2).
//!
//! The files that count are blobs of a regular-file mode: 100644, 100755 and the
//! legacy 100664 that old trees still carry (git checks all three out as regular
//! files). Symbolic links (120000) and submodules (160000, a commit, not a blob) are
//! skipped, matching `find . -type f` in a checkout.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::hash::progress_bar;

/// Why a commit's tree could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    #[error("cannot open git repository {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    #[error("unknown revision {rev:?}: {message}")]
    Revision { rev: String, message: String },
    #[error("cannot read {what} {oid}: {message}")]
    Object {
        what: &'static str,
        oid: String,
        message: String,
    },
    #[error("path {path:?} in the commit is not valid UTF-8; dirHash paths must be UTF-8")]
    NonUtf8Path { path: String },
}

/// A resolved commit and the SHA-256 of each regular file it holds.
#[derive(Debug, Clone)]
pub struct CommitFiles {
    /// The commit ID, lowercase hex.
    pub commit: String,
    /// The commit's root tree ID, lowercase hex.
    pub tree: String,
    /// (path relative to the root with `/` separators, SHA-256 of the blob).
    pub files: Vec<(String, [u8; 32])>,
}

/// Open the repository at `path` (a working tree, its `.git`, or a bare repository);
/// parent directories are not searched, so the path means exactly what it says.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::open(path).map_err(|e| GitError::Open {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// Resolve `rev` in the repository at `path` to a commit and hash its regular files,
/// reading blobs on every core.
pub fn commit_files(path: &Path, rev: &str) -> Result<CommitFiles, GitError> {
    // libgit2 re-hashes every object it reads with collision-detecting SHA-1, which
    // cost more than half of `hash tree --repo` (twice `git archive`, which does not
    // re-hash). What counts here is the SHA-256 of the bytes actually read: a
    // corrupt or substituted blob changes dirHash, which verification matches on
    // (docs/design.md §2: gitCommit/gitTree are never trusted alone).
    git2::opts::strict_hash_verification(false);
    let repo = open(path)?;
    let commit = repo
        .revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|e| GitError::Revision {
            rev: rev.to_string(),
            // libgit2's "revspec 'X' not found" would name the revision a second time.
            message: if e.code() == git2::ErrorCode::NotFound {
                format!(
                    "no commit, tag or branch of that name in {}",
                    path.display()
                )
            } else {
                e.message().to_string()
            },
        })?;
    let tree_id = commit.tree_id();
    let blobs = regular_blobs(&repo, tree_id)?;

    let git_dir = repo.path().to_path_buf();
    let progress = progress_bar(blobs.len() as u64, "hashing blobs", false);
    // A `Repository` may not be shared between threads; each rayon worker opens its own.
    let digests: Result<Vec<[u8; 32]>, GitError> = blobs
        .par_iter()
        .map_init(
            || Repository::open(&git_dir),
            |worker, (_, oid)| {
                let worker = worker.as_ref().map_err(|e| GitError::Open {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
                let blob = worker
                    .find_blob(*oid)
                    .map_err(|e| object_error("blob", *oid, &e))?;
                progress.inc(1);
                Ok(Sha256::digest(blob.content()).into())
            },
        )
        .collect();
    progress.finish_and_clear();

    let files = blobs
        .into_iter()
        .map(|(path, _)| path)
        .zip(digests?)
        .collect();
    Ok(CommitFiles {
        commit: commit.id().to_string(),
        tree: tree_id.to_string(),
        files,
    })
}

fn object_error(what: &'static str, oid: Oid, e: &git2::Error) -> GitError {
    GitError::Object {
        what,
        oid: oid.to_string(),
        message: e.message().to_string(),
    }
}

/// (path, blob ID) of every regular-file blob under the tree `root`.
fn regular_blobs(repo: &Repository, root: Oid) -> Result<Vec<(String, Oid)>, GitError> {
    const REGULAR: [i32; 3] = [0o100644, 0o100755, 0o100664];
    let mut out = Vec::new();
    let mut pending = vec![(root, String::new())];
    while let Some((tree_id, prefix)) = pending.pop() {
        let tree = repo
            .find_tree(tree_id)
            .map_err(|e| object_error("tree", tree_id, &e))?;
        for entry in tree.iter() {
            // Names are raw bytes in git; `name()` would silently hide a non-UTF-8 one.
            let name = match std::str::from_utf8(entry.name_bytes()) {
                Ok(name) => name,
                Err(_) => {
                    return Err(GitError::NonUtf8Path {
                        path: format!("{prefix}{}", String::from_utf8_lossy(entry.name_bytes())),
                    })
                }
            };
            let path = format!("{prefix}{name}");
            match entry.kind() {
                Some(ObjectType::Tree) => pending.push((entry.id(), format!("{path}/"))),
                Some(ObjectType::Blob) if REGULAR.contains(&entry.filemode()) => {
                    out.push((path, entry.id()))
                }
                // Symbolic links, submodules (commits) and anything else.
                _ => {}
            }
        }
    }
    Ok(out)
}
