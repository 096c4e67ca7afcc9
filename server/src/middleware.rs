//! Cross-cutting request handling: per-IP rate limiting, the request timeout and
//! request metrics by route template and status.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// Count every answered request under its route template (bounded cardinality).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    state.metrics.record_request(&route, resp.status().as_u16());
    resp
}

/// Token bucket per client IP. Liveness and metrics probes are exempt.
pub async fn limit_ip(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/healthz" && path != "/metrics" {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if let Err(retry_after) = state.ip_limiter.check(&ip, Instant::now()) {
            let mut resp = AppError::RateLimited {
                what: format!("client {ip}"),
                retry_after,
            }
            .into_response();
            // The request body is left unread; without this header hyper closes the
            // connection silently and a keep-alive client's next request on it fails.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return resp;
        }
    }
    next.run(req).await
}

/// Answer `503 timeout` when a request takes longer than the configured limit.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => AppError::Timeout(limit).into_response(),
    }
}

/// Unknown routes answer the JSON error shape too.
pub async fn not_found() -> AppError {
    AppError::NotFound("no such route".into())
}
