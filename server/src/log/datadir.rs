//! The data directory: database, log key and quickstart operator key, created on
//! the first start and checked on every later one (docs/operations.md).
//!
//! ```text
//! <data>/glassbox.db      SQLite log (plus -wal and -shm while running)
//! <data>/log.pem          the log's checkpoint key (PKCS#8 PEM, mode 0600) + log.pem.pub
//! <data>/log.vkey         the log's verifier key as text, rewritten on every start (public)
//! <data>/operator.pem     quickstart operator key, only when no operator keys are configured
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use glassbox_core::digest::key_id_hex;
use glassbox_core::note::NoteSigner;
use glassbox_keys::KeyError;

use crate::config::{Config, StorageBackend};
use crate::log::leader::LeaseStore;
use crate::storage::cache::{CacheBound, CachedStorage};
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{LogIdentity, Storage, StorageError};

pub const DB_FILE: &str = "glassbox.db";
pub const LOG_KEY_FILE: &str = "log.pem";
pub const OPERATOR_KEY_FILE: &str = "operator.pem";
/// The log's verifier key, one line, for scripts and the README quickstart.
pub const LOG_VKEY_FILE: &str = "log.vkey";

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    #[error("cannot create data directory {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A key file is missing, unreadable, malformed or readable by others; the
    /// message names the file and the fix (e.g. `chmod 600 FILE`), never its contents.
    #[error("refusing to start: {0}")]
    Key(#[from] KeyError),
    #[error(
        "refusing to start: the database {path} cannot be used: {source}; \
         if it is corrupt or truncated, restore it from a backup (docs/operations.md)"
    )]
    Storage { path: PathBuf, source: StorageError },
    #[error("the log key {path} is missing but the database {db} already holds a log; restore the key from backup")]
    LogKeyMissing { path: PathBuf, db: PathBuf },
    #[error(
        "the log key {path} is not the key this log was created with \
         (the database records {stored_vkey}, the key file gives {vkey}); \
         refusing to start: restore the original log key from backup"
    )]
    LogKeyMismatch {
        path: PathBuf,
        stored_vkey: String,
        vkey: String,
    },
    #[error("cannot write the log's verifier key to {path}: {source}")]
    WriteVkey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("origin {origin:?} is not a valid key name: {reason}")]
    BadOrigin { origin: String, reason: String },
    #[error(
        "this data directory holds the log {stored_origin:?} with key {stored_vkey}, \
         but the server is configured with origin {origin:?} and key {vkey}; \
         refusing to start (fix --origin / GLASSBOX_ORIGIN or the data directory)"
    )]
    IdentityMismatch {
        stored_origin: String,
        stored_vkey: String,
        origin: String,
        vkey: String,
    },
}

/// The opened data directory.
pub struct LogSetup {
    pub storage: Arc<dyn Storage>,
    pub signer: NoteSigner,
    /// The log's C2SP verifier key.
    pub vkey: String,
    /// Key IDs allowed to sign the genesis registration (configured operator keys).
    pub operator_pins: Vec<String>,
    /// The quickstart operator key and its path, when no operator keys are configured.
    pub quickstart_operator: Option<(SigningKey, PathBuf)>,
    /// The sequencer lease, when the storage is shared by several nodes (PostgreSQL).
    pub lease: Option<Arc<dyn LeaseStore>>,
    /// The node hash cache in front of `storage`, unless it is turned off.
    pub cache: Option<Arc<CachedStorage>>,
}

/// Open the data directory, creating whatever a first start needs.
pub fn open(config: &Config) -> Result<LogSetup, DataDirError> {
    let dir = &config.data_dir;
    create_private_dir(dir)?;
    let (db_path, storage, lease): (PathBuf, Arc<dyn Storage>, Option<Arc<dyn LeaseStore>>) =
        match &config.storage {
            StorageBackend::Sqlite => {
                let db_path = dir.join(DB_FILE);
                let storage =
                    SqliteStorage::open(&db_path, config.read_connections).map_err(|source| {
                        DataDirError::Storage {
                            path: db_path.clone(),
                            source,
                        }
                    })?;
                (db_path, Arc::new(storage), None)
            }
            StorageBackend::Postgres { url } => {
                // Named without credentials in every message.
                let shown = PathBuf::from(redact(url));
                let storage =
                    Arc::new(PostgresStorage::open(url, config.read_connections).map_err(
                        |source| DataDirError::Storage {
                            path: shown.clone(),
                            source,
                        },
                    )?);
                (shown, storage.clone(), Some(storage))
            }
        };
    // Every reader and the sequencer share one node hash cache (storage/cache.rs;
    // safe on a database shared by several nodes, see its doc).
    let cache = (config.hash_cache != CacheBound::Fixed(0))
        .then(|| Arc::new(CachedStorage::bounded(storage.clone(), config.hash_cache)));
    let storage: Arc<dyn Storage> = match &cache {
        Some(cache) => cache.clone(),
        None => storage,
    };
    let storage_err = |source| DataDirError::Storage {
        path: db_path.clone(),
        source,
    };
    let identity = storage.identity().map_err(storage_err)?;

    let key_path = dir.join(LOG_KEY_FILE);
    let log_key = if key_path.exists() {
        glassbox_keys::load_signing_key(&key_path)?
    } else if identity.is_some() {
        return Err(DataDirError::LogKeyMissing {
            path: key_path,
            db: db_path,
        });
    } else {
        glassbox_keys::generate_key_file(&key_path)?.signing_key
    };
    let signer = NoteSigner::new(&config.origin, log_key).map_err(|e| DataDirError::BadOrigin {
        origin: config.origin.clone(),
        reason: e.to_string(),
    })?;
    let vkey = signer.verifier().to_string();
    let wanted = LogIdentity {
        origin: config.origin.clone(),
        vkey: vkey.clone(),
    };
    match identity {
        Some(stored) if stored.origin == wanted.origin && stored.vkey != wanted.vkey => {
            return Err(DataDirError::LogKeyMismatch {
                path: key_path,
                stored_vkey: stored.vkey,
                vkey: wanted.vkey,
            })
        }
        Some(stored) if stored != wanted => {
            return Err(DataDirError::IdentityMismatch {
                stored_origin: stored.origin,
                stored_vkey: stored.vkey,
                origin: wanted.origin,
                vkey: wanted.vkey,
            })
        }
        Some(_) => {}
        None => storage.set_identity(&wanted).map_err(storage_err)?,
    }
    write_vkey_file(&dir.join(LOG_VKEY_FILE), &vkey)?;

    let mut operator_pins = Vec::new();
    for path in &config.operator_keys {
        operator_pins.push(key_id_hex(&glassbox_keys::load_verifying_key(path)?));
    }
    let quickstart_operator = if config.operator_keys.is_empty() {
        let path = dir.join(OPERATOR_KEY_FILE);
        let key = if path.exists() {
            glassbox_keys::load_signing_key(&path)?
        } else {
            glassbox_keys::generate_key_file(&path)?.signing_key
        };
        Some((key, path))
    } else {
        None
    };
    Ok(LogSetup {
        storage,
        signer,
        vkey,
        operator_pins,
        quickstart_operator,
        lease,
        cache,
    })
}

/// Write `vkey` to `path` unless it already holds exactly that: through a temporary
/// file and a rename, so a reader never sees half a key.
fn write_vkey_file(path: &Path, vkey: &str) -> Result<(), DataDirError> {
    let text = format!("{vkey}\n");
    if std::fs::read(path).is_ok_and(|held| held == text.as_bytes()) {
        return Ok(());
    }
    let err = |source| DataDirError::WriteVkey {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("vkey.tmp");
    std::fs::write(&tmp, &text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// `postgres://user:password@host/db` without the password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), DataDirError> {
    let err = |source| DataDirError::Create {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    let existed = dir.is_dir();
    builder.create(dir).map_err(err)?;
    // The keys written into a new data directory are synced with their directory
    // entries (glassbox-keys); the data directory's own entry lives in its parent.
    #[cfg(unix)]
    if !existed {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(err)?;
        }
    }
    #[cfg(not(unix))]
    let _ = existed;
    Ok(())
}
