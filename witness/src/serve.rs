//! Running a witness process: load the key, open the state, bind, print the
//! cosigner's verifier key, serve until SIGINT/SIGTERM.
//!
//! ```text
//! <data>/witness.db    per-log latest cosigned checkpoint (SQLite, WAL)
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::note::NoteVerifierKey;
use glassbox_edge::{ConnLimits, RateLimit};

use crate::store::{Store, StoreError};
use crate::witness::{system_clock, ConfigError, Witness};

/// State database file inside the data directory.
pub const DB_FILE: &str = "witness.db";

/// What `glassbox-witness` was asked to do.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// glassbox-keys PKCS#8 PEM key the cosignatures are made with.
    pub key: PathBuf,
    /// C2SP verifier keys of the logs to witness; the key name is the origin.
    pub logs: Vec<String>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Cosigner name; default `<bound address>/witness`.
    pub name: Option<String>,
    /// What one client connection may cost (timeouts, connection cap).
    pub conn: ConnLimits,
    /// Token bucket per client address (an IPv6 client by its /64).
    pub ip_limit: RateLimit,
}

/// Why the witness cannot start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("cannot load the witness key: {0}")]
    Key(#[from] glassbox_keys::KeyError),
    #[error("log verifier key {vkey:?} is invalid: {reason}")]
    LogKey { vkey: String, reason: String },
    #[error("cosigner name {name:?} is invalid: {reason}")]
    Name { name: String, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the witness state {path}: {source}")]
    Store { path: PathBuf, source: StoreError },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: &'static str,
    },
}

/// Runs the witness on a fresh multi-threaded runtime until SIGINT or SIGTERM
/// (for synchronous callers such as the `glassbox-witness` binary).
pub fn run_blocking(config: ServeConfig) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ServeError::Serve)?;
    runtime.block_on(run(config))
}

/// Runs the witness until SIGINT or SIGTERM. Prints on stdout `witness vkey: …`
/// (the type-0x04 cosigner verifier key), one `log: …` line per followed origin and
/// finally `listening on http://ADDR` (the bound address, useful with port 0).
pub async fn run(config: ServeConfig) -> Result<(), ServeError> {
    if let Some(setting) = config.conn.invalid() {
        return Err(ServeError::Invalid {
            setting,
            reason: "must be at least 1",
        });
    }
    if !config.ip_limit.is_valid() {
        return Err(ServeError::Invalid {
            setting: "ip rate limit",
            reason: "rate must be > 0 and burst >= 1",
        });
    }
    let key = glassbox_keys::load_signing_key(&config.key)?;
    let logs = config
        .logs
        .iter()
        .map(|vkey| {
            NoteVerifierKey::parse(vkey).map_err(|e| ServeError::LogKey {
                vkey: vkey.clone(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let db = config.data_dir.join(DB_FILE);
    let store = tokio::task::spawn_blocking({
        let db = db.clone();
        move || Store::open(&db)
    })
    .await
    .map_err(|e| ServeError::Serve(std::io::Error::other(e)))?
    .map_err(|source| ServeError::Store { path: db, source })?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    let name = config.name.unwrap_or_else(|| format!("{addr}/witness"));
    let signer = CosignatureSigner::new(&name, key).map_err(|e| ServeError::Name {
        name: name.clone(),
        reason: e.to_string(),
    })?;
    let witness = Arc::new(Witness::new(signer, logs, store, system_clock())?);

    println!("witness vkey: {}", witness.signer().verifier());
    let mut origins: Vec<&str> = witness.origins().collect();
    origins.sort_unstable();
    for origin in origins {
        println!("log: {origin}");
    }
    println!("listening on http://{addr}");
    tracing::info!(%addr, "witness serving");
    let app = crate::limit::per_client_ip(crate::app(witness), config.ip_limit);
    glassbox_edge::serve(listener, app, config.conn, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
