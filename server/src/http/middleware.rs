//! Cross-cutting request handling: request metrics by route template and status,
//! per-IP rate limiting and the request timeout, in one layer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::client_ip::bucket;
use crate::http::error::AppError;
use crate::http::state::AppState;

/// Every request passes here once, in this order: it is counted under its route
/// template (bounded cardinality) with the status it was answered with; it is
/// refused when its client IP is over its rate; and it is answered `503 timeout`
/// when it takes longer than the configured limit. One layer instead of three:
/// each `from_fn` layer costs a state clone and a boxed future per request.
pub async fn edge(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // An `Arc<str>` inside: cloning it does not allocate.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = match over_ip_rate(&state, &req) {
        Some(refused) => refused,
        None => {
            let limit = state.limits.request_timeout;
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(resp) => resp,
                Err(_) => AppError::Timeout(limit).into_response(),
            }
        }
    };
    state.metrics.record_request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
    );
    resp
}

/// The refusal when the request's client is over its token bucket: an IPv4
/// address, or an IPv6 /64; behind a listed proxy, the client it forwarded for
/// (crate::http::client_ip). Liveness and metrics probes are exempt.
fn over_ip_rate(state: &AppState, req: &Request) -> Option<Response> {
    let path = req.uri().path();
    if path == "/healthz" || path == "/metrics" {
        return None;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let key = bucket(state.trusted_proxies.client(peer, req.headers()));
    let retry_after = state.ip_limiter.check(&key, Instant::now()).err()?;
    let client = match key {
        IpAddr::V6(_) => format!("network {key}/64"),
        IpAddr::V4(_) => format!("client {key}"),
    };
    let mut resp = AppError::RateLimited {
        what: client,
        retry_after,
    }
    .into_response();
    // The request body is left unread; without this header hyper closes the
    // connection silently and a keep-alive client's next request on it fails.
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    Some(resp)
}

/// Unknown routes answer the JSON error shape, or an HTML page to a browser (a
/// request outside `/api/` that accepts `text/html`).
pub async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let browser = !uri.path().starts_with("/api/")
        && headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let error = AppError::NotFound(format!("there is no page at {}", uri.path()));
    if browser {
        crate::http::web::PageError(error).into_response()
    } else {
        AppError::NotFound("no such route".into()).into_response()
    }
}
