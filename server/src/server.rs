//! Process lifecycle: open the data directory, start the sequencer, log the
//! quickstart genesis registration, serve HTTP, shut down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEvent, Role};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::datadir;
use crate::facts::facts;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::sequencer::{Sequencer, SequencerConfig, SequencerHandle};
use crate::state::{AppState, Limits};

/// Run the server until SIGINT or SIGTERM.
///
/// Prints, on stdout, the log's verifier key, the quickstart operator key path
/// (if any) and a final line `listening on http://ADDR` with the bound address
/// (useful with port 0).
pub async fn run(config: Config) -> anyhow::Result<()> {
    let setup = datadir::open(&config).context("opening the data directory")?;
    let metrics = Arc::new(Metrics::default());
    let storage = setup.storage.clone();
    let sequencer = Sequencer::load(
        storage.clone(),
        setup.signer,
        Arc::new(SystemClock),
        metrics.clone(),
        SequencerConfig {
            batch_interval: config.batch_interval,
            batch_size: config.batch_size,
            queue_size: config.queue_size,
            operator_pins: setup.operator_pins,
        },
    )
    .context("loading the log state")?;
    let empty = sequencer.size() == 0;
    let (handle, task) = sequencer.spawn();

    if let Some((key, path)) = &setup.quickstart_operator {
        if empty {
            log_genesis(&handle, key)
                .await
                .context("logging the quickstart operator registration")?;
        }
        println!("operator key: {}", path.display());
    }
    println!("log vkey: {}", setup.vkey);

    let state = AppState {
        storage,
        sequencer: handle,
        metrics,
        ip_limiter: Arc::new(RateLimiter::new(config.ip_limit)),
        signer_limiter: Arc::new(RateLimiter::new(config.signer_limit)),
        limits: Limits {
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
        },
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, "serving");

    axum::serve(
        listener,
        crate::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    // Every connection is closed, so every handler (and its SequencerHandle) is
    // gone: the sequencer drains what is queued, commits it and stops.
    task.await.context("sequencer task")?;
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
