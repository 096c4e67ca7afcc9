//! Clients that try to hold a connection forever, against [`glassbox_edge::serve`]
//! on loopback. Each test ends within a generous deadline or fails; none
//! asserts a duration.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::routing::get;
use axum::Router;
use glassbox_edge::{serve, ConnLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Long enough for any loaded machine; reaching it fails the test.
const DEADLINE: Duration = Duration::from_secs(60);

fn limits() -> ConnLimits {
    ConnLimits {
        max_connections: 64,
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        send_timeout: Duration::from_millis(300),
        max_requests_per_connection: 1000,
    }
}

/// Serve `app` on a free loopback port until the returned sender is dropped.
async fn start(app: Router, limits: ConnLimits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

fn hello() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(conn: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut buf = [0u8; 4096];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (addr, _stop) = start(hello(), limits()).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(!answer.contains("hello"), "{answer}");
}

#[tokio::test]
async fn a_client_that_stalls_in_its_body_is_refused_and_disconnected() {
    let app = Router::new().route(
        "/",
        axum::routing::post(|body: Bytes| async move { format!("read {} bytes", body.len()) }),
    );
    let (addr, _stop) = start(app, limits()).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("read 100 bytes"), "{answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let (addr, _stop) = start(hello(), limits()).await;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut conn).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
}

#[tokio::test]
async fn the_last_request_a_connection_may_carry_is_answered_with_connection_close() {
    let limits = ConnLimits {
        max_requests_per_connection: 2,
        header_read_timeout: DEADLINE * 2,
        ..limits()
    };
    let (addr, _stop) = start(hello(), limits).await;
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut conn).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    let second = &answer[answer.rfind("HTTP/1.1 200").unwrap()..];
    assert!(second.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn at_the_connection_cap_a_new_connection_is_served_once_another_closes() {
    let limits = ConnLimits {
        max_connections: 1,
        header_read_timeout: DEADLINE * 2,
        ..limits()
    };
    let (addr, _stop) = start(hello(), limits).await;
    let holder = TcpStream::connect(addr).await.unwrap();
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // While the only slot is held, the request is not read.
    let mut buf = [0u8; 16];
    let early = tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "answered beyond the connection cap");
    drop(holder);
    let answer = read_to_close(&mut waiting).await;
    assert!(answer.ends_with("hello"), "{answer}");
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_an_endless_response_is_disconnected() {
    let (dropped_tx, dropped) = oneshot::channel::<()>();
    let guard = std::sync::Mutex::new(Some(dropped_tx));
    let guard = std::sync::Arc::new(guard);
    let app = Router::new().route(
        "/",
        get(move || {
            // Signals when the response body is dropped, i.e. the server gave up.
            struct OnDrop(Option<oneshot::Sender<()>>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    if let Some(tx) = self.0.take() {
                        let _ = tx.send(());
                    }
                }
            }
            let on_drop = OnDrop(guard.lock().unwrap().take());
            let chunks = futures_util::stream::unfold(on_drop, |on_drop| async move {
                Some((
                    Ok::<_, Infallible>(Bytes::from(vec![b'x'; 64 * 1024])),
                    on_drop,
                ))
            });
            async move { Body::from_stream(chunks) }
        }),
    );
    let (addr, _stop) = start(app, limits()).await;
    let mut reader = TcpStream::connect(addr).await.unwrap();
    reader
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let gave_up = tokio::time::timeout(DEADLINE, dropped).await;
    assert!(
        matches!(gave_up, Ok(Ok(()))),
        "the response still waits on a client that reads nothing"
    );
}

#[tokio::test]
async fn shutdown_waits_for_the_request_in_flight_and_then_returns() {
    let (entered_tx, entered) = oneshot::channel::<()>();
    let (release_tx, release) = oneshot::channel::<()>();
    let handler = std::sync::Arc::new(std::sync::Mutex::new(Some((entered_tx, release))));
    let app = Router::new().route(
        "/",
        get(move || {
            let taken = handler.lock().unwrap().take();
            async move {
                if let Some((entered, release)) = taken {
                    let _ = entered.send(());
                    let _ = release.await;
                }
                "finished"
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, limits(), async {
        let _ = stopped.await;
    }));
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, entered)
        .await
        .expect("the request reached its handler")
        .unwrap();
    drop(stop);
    release_tx.send(()).unwrap();
    let answer = read_to_close(&mut conn).await;
    assert!(answer.ends_with("finished"), "{answer}");
    assert!(tokio::time::timeout(DEADLINE, server).await.is_ok());
}
