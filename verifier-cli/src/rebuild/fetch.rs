//! Getting the attested commit into the scratch directory with libgit2.
//!
//! Nothing from the repository runs here: libgit2 has no hooks, submodules are not
//! initialised, and checkout filters are disabled — so no LFS smudge, no CRLF
//! conversion, no `ident` expansion: the files on disk are the committed blobs, which
//! is what the attested dirHash covers (docs/design.md §2).

use std::path::Path;

use git2::build::{CheckoutBuilder, RepoBuilder};
use git2::{Oid, Repository};

use super::RebuildError;

/// The checked-out commit.
pub struct Fetched {
    /// Commit ID, lowercase hex.
    pub commit: String,
    /// The commit's root tree ID, lowercase hex.
    pub tree: String,
    /// Committer time, seconds since the epoch: the build's SOURCE_DATE_EPOCH.
    pub commit_time: i64,
}

/// Clone `source` into `dest` (which must not exist) and check out `rev` detached.
pub fn checkout(source: &str, rev: &str, dest: &Path) -> Result<Fetched, RebuildError> {
    let url = clone_url(source)?;
    let fetch_err = |e: git2::Error| RebuildError::Fetch {
        source_name: source.to_string(),
        message: e.message().to_string(),
    };
    // Clone without writing a working tree; the checkout below writes the one we want.
    let mut no_checkout = CheckoutBuilder::new();
    no_checkout.dry_run();
    let repo = RepoBuilder::new()
        .with_checkout(no_checkout)
        .clone(&url, dest)
        .map_err(fetch_err)?;

    let commit = resolve(&repo, rev).map_err(|e| RebuildError::Revision {
        source_name: source.to_string(),
        rev: rev.to_string(),
        message: e.message().to_string(),
    })?;
    let commit_id = commit.id().to_string();
    let tree = commit.tree_id().to_string();
    let checkout_err = |e: git2::Error| RebuildError::Checkout {
        commit: commit_id.clone(),
        message: e.message().to_string(),
    };
    let mut files = CheckoutBuilder::new();
    files.force().remove_untracked(true).disable_filters(true);
    repo.checkout_tree(commit.as_object(), Some(&mut files))
        .map_err(checkout_err)?;
    repo.set_head_detached(commit.id()).map_err(checkout_err)?;
    let commit_time = commit.committer().when().seconds();
    Ok(Fetched {
        commit: commit_id,
        tree,
        commit_time,
    })
}

/// `rev` as a commit: a full ID, anything rev-parse understands, or a branch of the
/// origin (a clone has `refs/remotes/origin/<branch>`, not `refs/heads/<branch>`).
fn resolve<'r>(repo: &'r Repository, rev: &str) -> Result<git2::Commit<'r>, git2::Error> {
    if let Ok(oid) = Oid::from_str(rev) {
        if rev.len() == 40 || rev.len() == 64 {
            return repo.find_commit(oid);
        }
    }
    match repo.revparse_single(rev) {
        Ok(object) => object.peel_to_commit(),
        Err(first) => repo
            .revparse_single(&format!("origin/{rev}"))
            .and_then(|object| object.peel_to_commit())
            .map_err(|_| first),
    }
}

/// The URL libgit2 clones from: `https://` and `file://` as given; anything else must
/// be an existing local directory, passed as an absolute path.
fn clone_url(source: &str) -> Result<String, RebuildError> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("file://") {
        return Ok(source.to_string());
    }
    if lower.contains("://") || lower.starts_with("git@") {
        return Err(RebuildError::UnsupportedSource {
            source_name: source.to_string(),
        });
    }
    let path = Path::new(source);
    let absolute = path.canonicalize().map_err(|e| RebuildError::Fetch {
        source_name: source.to_string(),
        message: e.to_string(),
    })?;
    absolute
        .to_str()
        .map(str::to_string)
        .ok_or(RebuildError::UnsupportedSource {
            source_name: source.to_string(),
        })
}
