//! Shared state of the HTTP handlers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::http::client_ip::TrustedProxies;
use crate::http::error::AppError;
use crate::http::index::IndexReader;
use crate::http::ratelimit::RateLimiter;
use crate::log::sequencer::SequencerHandle;
use crate::metrics::Metrics;
use crate::storage::Storage;

/// Request limits enforced by the router.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// Everything a handler may use. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub sequencer: SequencerHandle,
    pub metrics: Arc<Metrics>,
    /// Keyed by [`crate::http::client_ip::bucket`] of the client address.
    pub ip_limiter: Arc<RateLimiter<IpAddr>>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    pub signer_limiter: Arc<RateLimiter<String>>,
    pub limits: Limits,
    /// The verifiable index as of the latest checkpoint (lookups and bundles).
    pub index: Arc<IndexReader>,
    /// How many storage reads run at once ([`AppState::read`]).
    pub reads: ReadSlots,
}

/// The bound on storage reads running at once. A read beyond it waits for a slot
/// without holding a thread or a connection, under the request's time limit, so
/// however many requests arrive, reads hold at most this many blocking threads
/// and the sequencer's work always finds a thread free.
#[derive(Clone)]
pub struct ReadSlots(Arc<Semaphore>);

impl ReadSlots {
    /// Reads per read connection allowed to run at once: one reading, one ready to.
    pub const PER_CONNECTION: usize = 2;

    /// Slots for a pool of `read_connections` connections.
    pub fn for_connections(read_connections: usize) -> Self {
        ReadSlots(Arc::new(Semaphore::new(
            read_connections.max(1) * Self::PER_CONNECTION,
        )))
    }

    /// Slots free now.
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}

impl Default for ReadSlots {
    /// The slots of the default pool of four read connections.
    fn default() -> Self {
        Self::for_connections(4)
    }
}

impl AppState {
    /// Run a blocking storage read on the blocking pool (never on the async
    /// runtime), once one of the [`ReadSlots`] is free.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Storage) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let slot = self
            .reads
            .0
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::ShuttingDown)?;
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            f(storage.as_ref())
        })
        .await?
    }
}
