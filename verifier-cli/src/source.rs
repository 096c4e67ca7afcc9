//! The source identity of docs/design.md §2 — {gitCommit, gitTree, dirHash} — computed from a
//! git commit or from a directory. Both feed the same (path, SHA-256) pairs to
//! dirHash, so the same content gives the same value either way.

use std::path::Path;

use anyhow::Context;

use glassbox_core::dirhash::dir_hash;

use crate::{git, tree};

/// The in-toto DigestSet naming a source tree. `git_commit` and `git_tree` are known
/// only when the tree was read from a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIdentity {
    pub git_commit: Option<String>,
    pub git_tree: Option<String>,
    pub dir_hash: String,
}

/// The identity of commit `rev` of the repository at `repo`.
pub fn from_repo(repo: &Path, rev: &str) -> anyhow::Result<SourceIdentity> {
    let commit = git::commit_files(repo, rev)?;
    let dir_hash = dir_hash(commit.files)
        .with_context(|| format!("computing dirHash of {rev:?} in {}", repo.display()))?;
    Ok(SourceIdentity {
        git_commit: Some(commit.commit),
        git_tree: Some(commit.tree),
        dir_hash,
    })
}

/// The identity of the directory `dir`, listing and hashing its files in one
/// parallel pass ([`tree::hash_regular_files`]).
pub fn from_dir(dir: &Path) -> anyhow::Result<SourceIdentity> {
    let files = tree::hash_regular_files(dir)?;
    let dir_hash =
        dir_hash(files).with_context(|| format!("computing dirHash of {}", dir.display()))?;
    Ok(SourceIdentity {
        git_commit: None,
        git_tree: None,
        dir_hash,
    })
}
