//! The source-tree `dirHash` of docs/design.md §2.
//!
//! This is the in-toto `dirHash` DigestSet member, identical to Go's
//! `golang.org/x/mod/sumdb/dirhash.Hash1` but written in lowercase hex instead of
//! `h1:` + base64: SHA-256 over the lines `"<sha256 hex of file>  <path>\n"` (two spaces)
//! of every regular file, sorted by path bytes. It equals what
//!
//! ```text
//! find . -type f | cut -c3- | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum
//! ```
//!
//! prints in a checkout without `.git/`. Because the input is only (path, content
//! digest) pairs, the CLI can feed it from a git tree (blob modes 100644/100755), a
//! directory walk or a tarball, and the three agree for the same content.
//!
//! A path containing a newline would let one file's line impersonate two, so it is an
//! error (Go's Hash1 rejects it for the same reason); an empty path or the same path
//! twice cannot come from a real tree and is an error too.

use sha2::{Digest, Sha256};

/// Why a set of files has no dirHash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirHashError {
    /// A path contains `\n`, which would make the line format ambiguous.
    #[error("path {path:?} contains a newline")]
    NewlineInPath {
        /// The offending path.
        path: String,
    },
    /// A path is the empty string.
    #[error("empty path")]
    EmptyPath,
    /// The same path was given twice.
    #[error("duplicate path {path:?}")]
    DuplicatePath {
        /// The repeated path.
        path: String,
    },
}

/// The dirHash (64 lowercase hex digits) of `files`, given as (slash-separated path
/// relative to the tree root, SHA-256 of the file's bytes) in any order.
pub fn dir_hash<I>(files: I) -> Result<String, DirHashError>
where
    I: IntoIterator<Item = (String, [u8; 32])>,
{
    let mut files: Vec<(String, [u8; 32])> = files.into_iter().collect();
    for (path, _) in &files {
        if path.is_empty() {
            return Err(DirHashError::EmptyPath);
        }
        if path.contains('\n') {
            return Err(DirHashError::NewlineInPath { path: path.clone() });
        }
    }
    // `LC_ALL=C sort` orders by bytes, which is `str`'s `Ord`.
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(pair) = files.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(DirHashError::DuplicatePath {
            path: pair[0].0.clone(),
        });
    }
    let mut hasher = Sha256::new();
    for (path, digest) in &files {
        hasher.update(hex::encode(digest).as_bytes());
        hasher.update(b"  ");
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
    }
    Ok(hex::encode(hasher.finalize()))
}
