//! Serving HTTP/1.1 connections with limits that no client can stretch:
//! hyper's own header-read timer, tower-http's request-body timeout, a write
//! timeout on the socket, a cap on open connections and on the requests one
//! kept-alive connection may carry. `axum::serve` sets none of these and does
//! not expose the hyper builder that has them, hence this loop.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

/// What one client connection may cost the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections served at once. Further ones are not accepted until one
    /// closes: they wait in the kernel's listen backlog, costing no task.
    pub max_connections: usize,
    /// Time to receive a request's complete header block, counted from when
    /// the connection opens or its previous response was sent: it bounds a
    /// client that dribbles its headers, and how long an idle kept-alive
    /// connection is kept.
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Longest a response write may wait for the client to read: a client that
    /// reads nothing for this long is disconnected, and what it held (a
    /// streamed response's slot, its connection) is released.
    pub send_timeout: Duration,
    /// Requests one kept-alive connection may carry; the last is answered with
    /// `Connection: close`.
    pub max_requests_per_connection: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            max_requests_per_connection: 1000,
        }
    }
}

impl ConnLimits {
    /// The first limit that cannot work, by the setting's name.
    pub fn invalid(&self) -> Option<&'static str> {
        if self.max_connections == 0 {
            Some("max_connections")
        } else if self.header_read_timeout.is_zero() {
            Some("header_read_timeout_ms")
        } else if self.body_read_timeout.is_zero() {
            Some("body_read_timeout_ms")
        } else if self.send_timeout.is_zero() {
            Some("send_timeout_ms")
        } else if self.max_requests_per_connection == 0 {
            Some("max_requests_per_connection")
        } else {
            None
        }
    }
}

/// Serve `app` on `listener` within `limits` until `shutdown` completes, then
/// stop accepting, let every open connection finish its request in flight,
/// and return once all are closed. Each request carries the peer address as
/// axum's [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // With a timer, hyper restarts the header timeout whenever a connection
    // waits for its next request, so idle keep-alive connections end too.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        // A free slot first, then accept: at the cap the loop waits instead of
        // accepting connections it would have to refuse.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.send_timeout));
        let service = per_connection(app.clone(), peer, &limits);
        let conn = http.serve_connection(
            TokioIo::new(Box::pin(stream)),
            TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The service of one connection: the request body under its timeout, the
/// peer address as `ConnectInfo`, and `Connection: close` on the last request
/// the connection may carry.
fn per_connection(
    app: Router,
    peer: SocketAddr,
    limits: &ConnLimits,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone
       + Send
       + 'static {
    let served = Arc::new(AtomicUsize::new(0));
    let (body_timeout, max_requests) =
        (limits.body_read_timeout, limits.max_requests_per_connection);
    tower::service_fn(move |req: Request<Incoming>| {
        let mut req = req.map(|body| TimeoutBody::new(body_timeout, body));
        req.extensions_mut().insert(ConnectInfo(peer));
        let last = served.fetch_add(1, Ordering::Relaxed) + 1 >= max_requests;
        let app = app.clone();
        async move {
            let mut resp = app.oneshot(req).await?;
            if last {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(resp)
        }
    })
}

/// An accept that failed for one connection (reset before it was accepted) is
/// skipped; one that fails for the process (out of file descriptors) would
/// fail again at once, so wait before the next.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
