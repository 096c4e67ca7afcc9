//! Process lifecycle: open the data directory, start the sequencer, log the
//! quickstart genesis registration, serve HTTP, shut down gracefully.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEvent, Role};

use crate::config::Config;
use crate::http::client_ip::TrustedProxies;
use crate::http::index::IndexReader;
use crate::http::ratelimit::RateLimiter;
use crate::http::routes::export::ExportLimits;
use crate::http::state::{AppState, Limits, ReadSlots};
use crate::log::admission::facts::facts;
use crate::log::clock::SystemClock;
use crate::log::datadir::{self, DataDirError};
use crate::log::integrity::{self, IntegrityError};
use crate::log::leader::{self, LeaseConfig, LeaseStore};
use crate::log::sequencer::{queue, Sequencer, SequencerConfig, SequencerHandle};
use crate::log::tiles_dir::{TilesDir, TilesDirError, TilesWriter};
use crate::metrics::Metrics;
use crate::storage::cache::CachedStorage;
use crate::storage::{Storage, StorageError};

/// Why the server refuses to start. Each message says what is wrong and, where
/// there is one, the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("refusing to start: {0}")]
    Integrity(#[from] IntegrityError),
    #[error("refusing to start: loading the log state: {0}")]
    Load(#[from] StorageError),
    #[error("refusing to start: {0}")]
    TilesDir(#[from] TilesDirError),
}

/// A data directory opened and checked, with its sequencer loaded but not started.
pub struct Prepared {
    pub sequencer: Sequencer,
    pub storage: Arc<dyn Storage>,
    pub metrics: Arc<Metrics>,
    /// The log's C2SP verifier key.
    pub vkey: String,
    /// The quickstart operator key and its path, when no operator keys are configured.
    pub quickstart_operator: Option<(SigningKey, PathBuf)>,
    /// The sequencer lease when several nodes share the storage (PostgreSQL).
    pub lease: Option<Arc<dyn LeaseStore>>,
    /// The node hash cache, unless turned off: filled ahead of requests once
    /// serving starts ([`fill_cache`]).
    pub cache: Option<Arc<CachedStorage>>,
}

/// Everything a start does before serving: open the data directory (keys with
/// safe permissions, the log's recorded identity), check the stored log against
/// its newest checkpoint and the log key ([`integrity::check`]), and replay the
/// participant registry.
pub fn prepare(config: &Config) -> Result<Prepared, StartError> {
    let setup = datadir::open(config)?;
    let verifier = setup.signer.verifier();
    let mut attempt = 0;
    // On shared storage another node may commit between the check's reads
    // (an entry past the checkpoint it just read): look again.
    while let Err(e) = integrity::check(setup.storage.as_ref(), &verifier) {
        attempt += 1;
        if setup.lease.is_none() || attempt >= 5 || !matches!(e, IntegrityError::ExtraEntry { .. })
        {
            return Err(e.into());
        }
    }
    let metrics = Arc::new(Metrics::default());
    let seq_config = SequencerConfig {
        batch_interval: config.batch_interval,
        batch_size: config.batch_size,
        queue_size: config.queue_size,
        operator_pins: setup.operator_pins,
    };
    // The sequencer reads on connections of its own: no HTTP read can hold them.
    let (storage, signer, clock) = (
        setup.storage.clone().for_sequencer(),
        setup.signer,
        Arc::new(SystemClock),
    );
    let sequencer = if setup.lease.is_some() {
        // Writes only once elected (leader.rs).
        Sequencer::load_shared(storage, signer, clock, metrics.clone(), seq_config)?
    } else {
        Sequencer::load(storage, signer, clock, metrics.clone(), seq_config)?
    };
    Ok(Prepared {
        sequencer,
        storage: setup.storage,
        metrics,
        vkey: setup.vkey,
        quickstart_operator: setup.quickstart_operator,
        lease: setup.lease,
        cache: setup.cache,
    })
}

/// Read the committed tree's node hashes into the cache on a thread of its own
/// ([`CachedStorage::warm`]), so proofs over a large log are served from memory
/// soon after a start instead of filling the cache a missed tile at a time. Reads
/// are served meanwhile; a failure is logged and the cache fills from requests.
/// The thread holds the cache only while it reads, so a shutdown does not wait.
fn fill_cache(cache: Arc<CachedStorage>) {
    let cache = Arc::downgrade(&cache);
    let spawned = std::thread::Builder::new()
        .name("glassbox-fill-cache".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            match CachedStorage::warm(&cache) {
                Ok(tiles) => tracing::info!(
                    tiles,
                    mib = cache.upgrade().map_or(0, |c| c.cached_bytes() >> 20),
                    secs = started.elapsed().as_secs_f64(),
                    "node hash cache filled"
                ),
                Err(e) => tracing::warn!(
                    error = %e,
                    "filling the node hash cache failed; requests fill it instead"
                ),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start filling the node hash cache");
    }
}

/// The listening socket; an address in use is told how to choose another.
async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(anyhow::anyhow!(
            "cannot listen on {addr}: the address is in use (another glassbox-server?); \
             nothing was created. Choose another port with --listen {ip}:PORT or \
             GLASSBOX_LISTEN={ip}:PORT (port 0 picks a free one and prints it)",
            ip = match addr {
                std::net::SocketAddr::V4(a) => a.ip().to_string(),
                std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        )),
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
}

/// Run the server until SIGINT or SIGTERM.
///
/// Prints, on stdout, the quickstart operator key path (if any), the data directory,
/// the log's verifier key and a final line `listening on http://ADDR` with the bound address
/// (useful with port 0).
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Bound before the data directory is touched: a busy port creates nothing.
    // Bound before sequencing starts: other nodes forward to this address.
    let listener = bind(config.listen).await?;
    let Prepared {
        sequencer,
        storage,
        metrics,
        vkey,
        quickstart_operator,
        lease,
        cache,
    } = {
        // Opening and checking the database blocks: keep it off the async runtime.
        let config = config.clone();
        tokio::task::spawn_blocking(move || prepare(&config))
            .await
            .context("start-up task")??
    };
    let addr = listener.local_addr()?;
    if let Some(cache) = cache {
        fill_cache(cache);
    }
    let empty = sequencer.size() == 0;
    let committed = sequencer.committed_checkpoints();
    // Readers prove lookups from the sequencer's own trie (crate::log::shared_index).
    let index = IndexReader::default().sharing(sequencer.shared_index(), committed.clone());
    let (handle, task, election) = match lease {
        None => {
            let (handle, task) = sequencer.spawn();
            (handle, task, None)
        }
        Some(store) => {
            let url = match &config.advertise_url {
                Some(u) => u.clone(),
                None => {
                    if addr.ip().is_unspecified() {
                        tracing::warn!(%addr, "listening on all addresses without --advertise-url: \
                            other nodes will forward submissions to http://{addr}, which only works on this host");
                    }
                    format!("http://{addr}")
                }
            };
            let election = leader::elect(
                store,
                leader::holder_id(&url),
                url,
                LeaseConfig::with_ttl(config.lease_ttl),
            );
            let (handle, rx) = queue(sequencer.config().queue_size, metrics.clone());
            sequencer.link(&handle);
            let task = leader::run_shared(
                sequencer,
                rx,
                election.role.clone(),
                metrics.clone(),
                config.request_timeout,
            );
            (handle, task, Some(election))
        }
    };
    let tiles = match &config.tiles_dir {
        Some(dir) => Some(TilesWriter::spawn(
            storage.clone(),
            TilesDir::open(dir).map_err(StartError::from)?,
            config
                .batch_interval
                .max(std::time::Duration::from_millis(50)),
        )),
        None => None,
    };
    // Witnesses are asked off the sequencing path (crate::log::witnessing).
    let witnessing = crate::log::witnessing::spawn(&config, storage.clone(), committed);

    if let Some((key, path)) = &quickstart_operator {
        if empty {
            log_genesis(&handle, key)
                .await
                .context("logging the quickstart operator registration")?;
        }
        println!("operator key: {}", path.display());
    }
    let data_dir = std::fs::canonicalize(&config.data_dir).unwrap_or(config.data_dir.clone());
    println!("data directory: {}", data_dir.display());
    println!("log vkey: {vkey}");
    for w in &config.witnesses {
        println!("witness: {} {}", w.url, w.vkey);
    }

    let state = AppState {
        storage,
        sequencer: handle,
        metrics,
        ip_limiter: Arc::new(RateLimiter::new(config.ip_limit)),
        trusted_proxies: Arc::new(TrustedProxies::new(config.trusted_proxies.clone())),
        signer_limiter: Arc::new(RateLimiter::new(config.signer_limit)),
        limits: Limits {
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
        },
        index: Arc::new(index),
        reads: ReadSlots::for_connections(config.read_connections),
    };
    println!("listening on http://{addr}");
    tracing::info!(%addr, "serving");

    glassbox_edge::serve(
        listener,
        crate::app(state).layer(axum::Extension(ExportLimits::new(
            config.export_streams,
            config.export_time_limit,
        ))),
        config.conn.clone(),
        shutdown_signal(),
    )
    .await;
    // Every connection is closed, so every handler (and its SequencerHandle) is
    // gone: the sequencer drains what is queued, commits it and stops.
    task.await.context("sequencer task")?;
    if let Some(election) = election {
        election.resign().await;
    }
    if let Some(tiles) = tiles {
        tiles.finish().await;
    }
    if let Some(witnessing) = witnessing {
        witnessing.abort();
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Register the quickstart operator key with a self-signed key event: the
/// genesis entry of the contract's genesis rule.
async fn log_genesis(handle: &SequencerHandle, key: &SigningKey) -> anyhow::Result<()> {
    let envelope = genesis_envelope(key)?;
    let facts = facts(&envelope).map_err(|e| anyhow::anyhow!("genesis statement: {e}"))?;
    let leaf = envelope.to_canonical_json();
    handle
        .submit(envelope, facts, leaf)
        .await
        .map_err(|e| anyhow::anyhow!("genesis registration refused: {e}"))?;
    Ok(())
}

/// The self-signed registration of `key` with the operator role.
pub fn genesis_envelope(key: &SigningKey) -> anyhow::Result<Envelope> {
    let event = KeyEvent::register(
        &key.verifying_key(),
        "quickstart operator",
        "this log",
        vec![Role::Operator],
    )?;
    Ok(Attestation::from(event).sign(&[key])?)
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
    tracing::info!("shutdown signal received; finishing in-flight requests and the current batch");
}
