//! A token bucket per client address in front of the witness's routes: the
//! same limiter and /64 bucketing as the log server (glassbox_edge), so one
//! client cannot make the witness verify, cosign and write for everyone else.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use glassbox_edge::ratelimit::bucket;
use glassbox_edge::{RateLimit, RateLimiter};

/// Requests per second and burst allowed from one client unless configured: a
/// log sends one checkpoint per batch (ten a second at its default interval),
/// with room for its retries and a monitor's reads.
pub const DEFAULT_IP_LIMIT: RateLimit = RateLimit {
    rate_per_sec: 50.0,
    burst: 200.0,
};

/// `router` with every request but `/healthz` charged to its client's bucket
/// (the peer address of axum's `ConnectInfo`); one over it is `429` with
/// `Retry-After`.
pub fn per_client_ip(router: Router, limit: RateLimit) -> Router {
    let limiter = Arc::new(RateLimiter::new(limit));
    router.layer(axum::middleware::from_fn_with_state(limiter, charge))
}

async fn charge(
    State(limiter): State<Arc<RateLimiter<IpAddr>>>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match limiter.check(&bucket(peer), Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, secs.to_string()),
                    // The body is left unread: close rather than leave the
                    // client's next request on this connection to fail.
                    (header::CONNECTION, "close".to_string()),
                ],
                format!("rate limit exceeded for {peer}; retry in {secs} s\n"),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    async fn get_from(app: &Router, path: &str, peer: &str) -> Response {
        let mut req = Request::get(path).body(Body::empty()).unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req).await.unwrap()
    }

    #[tokio::test]
    async fn a_client_past_its_burst_is_refused_and_others_are_not() {
        let app = per_client_ip(
            Router::new()
                .route("/checkpoint/x", get(|| async { "ok" }))
                .route("/healthz", get(|| async { "ok" })),
            RateLimit {
                rate_per_sec: 0.001,
                burst: 2.0,
            },
        );
        for _ in 0..2 {
            let ok = get_from(&app, "/checkpoint/x", "192.0.2.1:1000").await;
            assert_eq!(ok.status(), StatusCode::OK);
        }
        let refused = get_from(&app, "/checkpoint/x", "192.0.2.1:1001").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().contains_key(header::RETRY_AFTER));
        // Another address of the same IPv6 /64 shares a bucket; another client does not.
        let other = get_from(&app, "/checkpoint/x", "192.0.2.2:1000").await;
        assert_eq!(other.status(), StatusCode::OK);
        for port in [1, 2] {
            let v6 = get_from(&app, "/checkpoint/x", &format!("[2001:db8::{port}]:80")).await;
            assert_eq!(v6.status(), StatusCode::OK);
        }
        let v6 = get_from(&app, "/checkpoint/x", "[2001:db8::ffff]:80").await;
        assert_eq!(v6.status(), StatusCode::TOO_MANY_REQUESTS);
        // Liveness probes are never charged.
        let health = get_from(&app, "/healthz", "192.0.2.1:1002").await;
        assert_eq!(health.status(), StatusCode::OK);
    }
}
