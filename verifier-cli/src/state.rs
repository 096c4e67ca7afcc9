//! The client's memory of each log: the newest checkpoint it has verified, and the
//! evidence of any split view it caught (docs/design.md §6 step 3).
//!
//! Like the Go checksum database client's cache, this is what turns a log from "a
//! server that says things" into a log: every new checkpoint must be proven
//! consistent with the one remembered here before it is believed, so a server that
//! shows this client one history and someone else another is caught the moment it
//! shows this client a second one.
//!
//! Layout under the state directory:
//! - `checkpoints/<origin>`: the signed checkpoint note, byte for byte;
//! - `monitor/<origin>.json`: the monitor's position (see `commands::monitor`);
//! - `evidence/<UTC time>-<origin>/`: both checkpoints and the failing proof.
//!
//! Every file is written to a temporary file in the same directory, synced and
//! renamed into place, and the directory is synced: a crash leaves the old state or
//! the new one, never half of either. A verification holds an exclusive lock on
//! `checkpoints/<origin>.lock` from reading the remembered checkpoint to writing the
//! new one ([`StateDir::lock`]), so two verifications running at once cannot interleave
//! and move the state backwards, or past a checkpoint neither proved.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::note::NoteVerifier;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A state-directory operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("state {}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("state {}: {detail} (move the file away to start afresh, after finding out why)", path.display())]
    Corrupt { path: PathBuf, detail: String },
    /// The remembered checkpoint of a log with this name is not this log key's.
    #[error(
        "state {}: this client remembers a log named {origin} whose checkpoint does not \
         verify with this log key ({detail}). If this is another log with the same name — \
         every quickstart log is named glassbox.localhost/log unless its server is given \
         --origin — keep its state apart with --state DIR. Otherwise the file was altered \
         or the log's key changed, and the log is no longer the one you trusted: find out \
         why before moving the file away",
        path.display()
    )]
    OtherLog {
        path: PathBuf,
        origin: String,
        detail: String,
    },
    #[error("no state directory given and neither XDG_DATA_HOME nor HOME is set; use --state DIR")]
    NoDefault,
}

/// The per-user state directory of the client.
#[derive(Clone, Debug)]
pub struct StateDir {
    root: PathBuf,
}

/// Holds a log's state lock ([`StateDir::lock`]) until dropped.
#[derive(Debug)]
pub struct StateLock {
    _file: fs::File,
}

/// What a split view leaves behind for the user to show others.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitViewEvidence<'a> {
    /// Where the newer checkpoint came from (a server URL or a bundle file).
    pub source: &'a str,
    /// Why the two checkpoints cannot both be honest.
    pub detail: &'a str,
    pub previous_size: u64,
    pub size: u64,
    /// The consistency proof that failed (base64), if one was obtained.
    pub proof: Vec<String>,
}

impl StateDir {
    /// `dir` if given, else `$XDG_DATA_HOME/glassbox`, else `~/.local/share/glassbox`.
    pub fn resolve(dir: Option<&Path>) -> Result<StateDir, StateError> {
        if let Some(dir) = dir {
            return Ok(StateDir::new(dir));
        }
        let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(data) = non_empty("XDG_DATA_HOME") {
            return Ok(StateDir::new(Path::new(&data).join("glassbox")));
        }
        if let Some(home) = non_empty("HOME") {
            return Ok(StateDir::new(
                Path::new(&home).join(".local/share/glassbox"),
            ));
        }
        Err(StateError::NoDefault)
    }

    pub fn new(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file holding the newest verified checkpoint of the log named `origin`.
    pub fn checkpoint_path(&self, origin: &str) -> PathBuf {
        self.root.join("checkpoints").join(file_name(origin))
    }

    /// The monitor's position file for the log named `origin`.
    pub fn monitor_path(&self, origin: &str) -> PathBuf {
        self.root
            .join("monitor")
            .join(format!("{}.json", file_name(origin)))
    }

    /// Takes the exclusive lock of the log `origin`'s state, waiting for another
    /// verification that holds it; released when the guard drops (or the process
    /// dies — the kernel releases `flock`-style locks with the file).
    pub fn lock(&self, origin: &str) -> Result<StateLock, StateError> {
        let path = self
            .root
            .join("checkpoints")
            .join(format!("{}.lock", file_name(origin)));
        create_dir_all(path.parent().unwrap_or(&self.root))?;
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
        file.lock()
            .map_err(|source| StateError::Io { path, source })?;
        Ok(StateLock { _file: file })
    }

    /// The remembered checkpoint of the log `log.name()`, re-verified with the log key
    /// (a file that no longer verifies is reported, not silently replaced).
    pub fn load_checkpoint(
        &self,
        log: &dyn NoteVerifier,
    ) -> Result<Option<SignedCheckpoint>, StateError> {
        let path = self.checkpoint_path(log.name());
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Io { path, source }),
        };
        SignedCheckpoint::open(&bytes, log)
            .map(Some)
            .map_err(|e| StateError::OtherLog {
                path,
                origin: log.name().to_owned(),
                detail: e.to_string(),
            })
    }

    /// Remembers `signed` as the newest checkpoint of its log unless the remembered one
    /// is at least as large: state never moves backwards. The caller must have proven
    /// `signed` consistent with the remembered one. Returns whether it was written.
    pub fn save_checkpoint(&self, signed: &SignedCheckpoint) -> Result<bool, StateError> {
        let path = self.checkpoint_path(&signed.checkpoint.origin);
        if let Ok(bytes) = fs::read(&path) {
            if let Ok(old) = SignedCheckpoint::parse_unverified(&bytes) {
                if old.checkpoint.size >= signed.checkpoint.size {
                    return Ok(false);
                }
            }
        }
        write_atomic(&path, &signed.to_bytes())?;
        Ok(true)
    }

    /// Keeps both checkpoints of a split view and the failing proof in a new directory
    /// under `evidence/`, and returns its path.
    pub fn save_split_view(
        &self,
        previous: &[u8],
        current: &[u8],
        origin: &str,
        evidence: &SplitViewEvidence<'_>,
    ) -> Result<PathBuf, StateError> {
        let dir = self.new_evidence_dir(origin)?;
        write_atomic(&dir.join("previous.checkpoint"), previous)?;
        write_atomic(&dir.join("current.checkpoint"), current)?;
        let mut json = serde_json::to_vec_pretty(evidence).map_err(|e| StateError::Corrupt {
            path: dir.join("proof.json"),
            detail: e.to_string(),
        })?;
        json.push(b'\n');
        write_atomic(&dir.join("proof.json"), &json)?;
        Ok(dir)
    }

    /// Saves the evidence of a wrong index commitment: the checkpoint whose tree
    /// holds it, the commitment entry as logged, and what rebuilding the index
    /// from the log gave instead. Returns the directory.
    pub fn save_index_evidence(
        &self,
        checkpoint: &[u8],
        origin: &str,
        index: u64,
        entry: &[u8],
        detail: &str,
    ) -> Result<PathBuf, StateError> {
        let dir = self.new_evidence_dir(origin)?;
        write_atomic(&dir.join("checkpoint"), checkpoint)?;
        write_atomic(&dir.join(format!("entry-{index}.json")), entry)?;
        write_atomic(&dir.join("finding.txt"), format!("{detail}\n").as_bytes())?;
        Ok(dir)
    }

    /// A fresh directory under `evidence/` named by the time and the log.
    fn new_evidence_dir(&self, origin: &str) -> Result<PathBuf, StateError> {
        let evidence_root = self.root.join("evidence");
        create_dir_all(&evidence_root)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let base = format!("{stamp}-{}", file_name(origin));
        let mut dir = evidence_root.join(&base);
        let mut n = 1;
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    n += 1;
                    dir = evidence_root.join(format!("{base}-{n}"));
                }
                Err(source) => return Err(StateError::Io { path: dir, source }),
            }
        }
    }
}

/// A file name for a log origin: the safe characters of the origin, then the first
/// eight hex digits of its SHA-256 so that `a/b` and `a_b` never share a file.
pub fn file_name(origin: &str) -> String {
    let safe: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let safe = safe.trim_start_matches('.');
    let tag = hex::encode(&Sha256::digest(origin.as_bytes())[..4]);
    format!("{safe}-{tag}")
}

fn create_dir_all(path: &Path) -> Result<(), StateError> {
    fs::create_dir_all(path).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Replaces `path` with `bytes` atomically and durably: temporary file in the same
/// directory, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let io_err = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests;
