//! Shared state of the HTTP handlers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

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
}

impl AppState {
    /// Run a blocking storage read on the blocking pool (never on the async runtime).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Storage) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || f(storage.as_ref())).await?
    }
}
