//! Load generators: N requests in flight on loopback, each on its own keep-alive
//! HTTP/1.1 connection, bounded by a request budget and a deadline. Latency is
//! measured per request, from sending to the full response.
//!
//! The generator shares the machine with the server it measures, so its own cost
//! matters: the default ([`Generator::Async`]) runs every submitter as a task on
//! ONE tokio thread with hyper's client, so thousands of in-flight requests cost
//! a few µs of CPU each and at most one core. [`Generator::Blocking`] is the
//! baseline it replaced (one OS thread and one blocking `ureq` agent per
//! submitter), kept so the report can show what the generator itself costs.
//! Both record the harness process's CPU time during the load.
//!
//! Neither uses the library client (`glassbox_cli::client`): it decodes every
//! answer into typed values and builds each request afresh, work that would be
//! counted in the generator's CPU time and in every latency, where the load only
//! needs each answer's status and size.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::measure::quantile;
use crate::server::{agent, get, post};

/// A request that takes longer than this counts as a transport failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Which load generator drives the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    /// One tokio thread, one task and keep-alive connection per in-flight request.
    Async,
    /// One OS thread and blocking `ureq` agent per in-flight request (the old
    /// generator; a baseline for the generator's own CPU cost).
    Blocking,
}

/// What a load run saw.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub ok: u64,
    /// Status code (0 = transport error or timeout) → count, for the failures.
    pub failures: Vec<(u16, u64)>,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes of request bodies that were accepted.
    pub ok_bytes: u64,
    /// CPU seconds (user + system) the harness process used during the load:
    /// what generating it cost the machine the server runs on.
    pub gen_cpu_secs: f64,
}

impl LoadResult {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests answered per second, successful or not.
    pub fn per_sec_all(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests sent, successful or not.
    pub fn requests(&self) -> u64 {
        self.ok + self.failures.iter().map(|(_, n)| n).sum::<u64>()
    }

    /// The generator's CPU time per request sent, in µs.
    pub fn gen_cpu_us_per_request(&self) -> f64 {
        self.gen_cpu_secs / self.requests().max(1) as f64 * 1e6
    }
}

/// CPU seconds (user + system, every thread) this process has used so far.
#[allow(unsafe_code)]
pub fn process_cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass and has no other
    // preconditions.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Tallies of one submitter, merged at the end.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    ok: u64,
    ok_bytes: u64,
    failures: Vec<(u16, u64)>,
}

impl Tally {
    fn fail(&mut self, status: u16) {
        self.fail_n(status, 1);
    }

    fn fail_n(&mut self, status: u16, n: u64) {
        match self.failures.iter_mut().find(|(s, _)| *s == status) {
            Some((_, c)) => *c += n,
            None => self.failures.push((status, n)),
        }
    }

    fn merge(&mut self, mut other: Tally) {
        self.latencies_ms.append(&mut other.latencies_ms);
        self.ok += other.ok;
        self.ok_bytes += other.ok_bytes;
        for (status, n) in other.failures {
            self.fail_n(status, n);
        }
    }

    fn finish(mut self, elapsed: Duration, gen_cpu_secs: f64) -> LoadResult {
        self.failures.sort_unstable();
        let p50_ms = quantile(&mut self.latencies_ms, 0.50);
        let p99_ms = quantile(&mut self.latencies_ms, 0.99);
        LoadResult {
            ok: self.ok,
            failures: self.failures,
            elapsed,
            p50_ms,
            p99_ms,
            ok_bytes: self.ok_bytes,
            gen_cpu_secs,
        }
    }
}

/// One kind of request: job number → (method, path, body). Bodies are built
/// before the load starts; cloning a `Bytes` only counts a reference.
pub type Job = dyn Fn(usize) -> (Method, String, Option<Bytes>) + Send + Sync;

/// One load: `concurrency` submitters, each with one request in flight at a time
/// (a closed loop), taking job numbers `0..jobs` until they run out or
/// `duration` passes. `good` is the expected status.
struct Load {
    url: String,
    concurrency: usize,
    jobs: usize,
    duration: Duration,
    good: u16,
    job: Arc<Job>,
    /// Requests sent and not yet answered, kept up to date for a watcher (the
    /// hostile mix measures commit gaps only while honest work is in flight).
    in_flight: Arc<AtomicUsize>,
    /// Set to end the load before its deadline.
    stop: Arc<AtomicBool>,
}

impl Load {
    fn run(self, generator: Generator) -> Result<LoadResult> {
        match generator {
            Generator::Async => self.run_async(),
            Generator::Blocking => Ok(self.run_blocking()),
        }
    }

    fn run_async(self) -> Result<LoadResult> {
        let addr: SocketAddr = self
            .url
            .strip_prefix("http://")
            .with_context(|| format!("not an http:// URL: {}", self.url))?
            .parse()
            .with_context(|| format!("not host:port: {}", self.url))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the load generator's runtime")?;
        runtime.block_on(async move {
            // Connect every submitter first, untimed: a burst of thousands of
            // connects can overflow the listen backlog and wait out SYN retries.
            let mut connecting = tokio::task::JoinSet::new();
            for _ in 0..self.concurrency {
                connecting.spawn(connect(addr));
            }
            let mut senders = Vec::with_capacity(self.concurrency);
            while let Some(joined) = connecting.join_next().await {
                // A submitter that could not connect retries inside the load,
                // where a second failure counts.
                senders.push(joined.ok().and_then(|c| c.ok()));
            }
            let next = Arc::new(AtomicUsize::new(0));
            let cpu0 = process_cpu_secs();
            let start = Instant::now();
            let deadline = start + self.duration;
            let mut running = tokio::task::JoinSet::new();
            for sender in senders {
                running.spawn(submitter(
                    addr,
                    sender,
                    next.clone(),
                    Limits {
                        jobs: self.jobs,
                        deadline,
                        good: self.good,
                        stop: self.stop.clone(),
                    },
                    self.job.clone(),
                    self.in_flight.clone(),
                ));
            }
            let mut total = Tally::default();
            while let Some(joined) = running.join_next().await {
                match joined {
                    Ok(t) => total.merge(t),
                    Err(_) => total.fail(0),
                }
            }
            let elapsed = start.elapsed();
            Ok(total.finish(elapsed, process_cpu_secs() - cpu0))
        })
    }

    /// The old generator: `concurrency` OS threads with blocking agents.
    fn run_blocking(self) -> LoadResult {
        let next = AtomicUsize::new(0);
        let total = Mutex::new(Tally::default());
        let cpu0 = process_cpu_secs();
        let start = Instant::now();
        let deadline = start + self.duration;
        std::thread::scope(|s| {
            for _ in 0..self.concurrency {
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(s, || {
                        let agent = agent(REQUEST_TIMEOUT);
                        let mut mine = Tally::default();
                        while Instant::now() < deadline && !self.stop.load(Ordering::Relaxed) {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            if n >= self.jobs {
                                break;
                            }
                            let (method, path, body) = (self.job)(n);
                            let url = format!("{}{path}", self.url);
                            let len = body.as_ref().map_or(0, |b| b.len() as u64);
                            let t = Instant::now();
                            self.in_flight.fetch_add(1, Ordering::Relaxed);
                            let result = match body {
                                Some(b) if method == Method::POST => post(&agent, &url, &b),
                                _ => get(&agent, &url),
                            };
                            self.in_flight.fetch_sub(1, Ordering::Relaxed);
                            match result {
                                Ok((status, _)) if status == self.good => {
                                    mine.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                                    mine.ok += 1;
                                    mine.ok_bytes += len;
                                }
                                Ok((status, _)) => mine.fail(status),
                                Err(_) => mine.fail(0),
                            }
                        }
                        total.lock().unwrap_or_else(|p| p.into_inner()).merge(mine);
                    })
                    .expect("spawning a load thread");
            }
        });
        let elapsed = start.elapsed();
        let cpu = process_cpu_secs() - cpu0;
        total
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .finish(elapsed, cpu)
    }
}

/// A keep-alive HTTP/1.1 connection to `addr`; its driver runs as its own task.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when its sender is dropped or the server closes it.
        let _ = conn.await;
    });
    Ok(sender)
}

/// When a submitter stops, and what counts as success.
struct Limits {
    jobs: usize,
    deadline: Instant,
    good: u16,
    stop: Arc<AtomicBool>,
}

/// One closed-loop submitter: send a request, wait for the whole response, take
/// the next job. A failed connection is replaced before the next request.
async fn submitter(
    addr: SocketAddr,
    mut sender: Option<SendRequest<Full<Bytes>>>,
    next: Arc<AtomicUsize>,
    Limits {
        jobs,
        deadline,
        good,
        stop,
    }: Limits,
    job: Arc<Job>,
    in_flight: Arc<AtomicUsize>,
) -> Tally {
    let mut mine = Tally::default();
    let host = addr.to_string();
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= jobs {
            break;
        }
        let (method, path, body) = job(n);
        let len = body.as_ref().map_or(0, |b| b.len() as u64);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, host.as_str());
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let Ok(request) = request.body(Full::new(body.unwrap_or_default())) else {
            mine.fail(0);
            continue;
        };
        let t = Instant::now();
        let attempt = async {
            let mut s = match sender.take() {
                Some(s) => s,
                None => connect(addr).await?,
            };
            s.ready().await?;
            let response = s.send_request(request).await?;
            let status = response.status().as_u16();
            // Read the whole body: the latency includes it, and the connection
            // is reusable only after it.
            response.into_body().collect().await?;
            anyhow::Ok((status, s))
        };
        in_flight.fetch_add(1, Ordering::Relaxed);
        let answered = tokio::time::timeout(REQUEST_TIMEOUT, attempt).await;
        in_flight.fetch_sub(1, Ordering::Relaxed);
        match answered {
            Ok(Ok((status, s))) => {
                if !s.is_closed() {
                    sender = Some(s);
                }
                if status == good {
                    mine.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    mine.ok += 1;
                    mine.ok_bytes += len;
                } else {
                    mine.fail(status);
                }
            }
            _ => mine.fail(0),
        }
    }
    mine
}

/// POST each of `bodies` once to `<url>/api/v1/entries` (201 = success) from
/// `concurrency` closed-loop submitters.
pub fn ingest(
    generator: Generator,
    url: &str,
    bodies: Arc<[Bytes]>,
    concurrency: usize,
    duration: Duration,
) -> Result<LoadResult> {
    ingest_watched(
        generator,
        url,
        bodies,
        concurrency,
        duration,
        Arc::default(),
    )
}

/// [`ingest`], keeping `in_flight` at the number of submissions sent and not
/// yet answered.
pub fn ingest_watched(
    generator: Generator,
    url: &str,
    bodies: Arc<[Bytes]>,
    concurrency: usize,
    duration: Duration,
    in_flight: Arc<AtomicUsize>,
) -> Result<LoadResult> {
    let jobs = bodies.len();
    Load {
        url: url.to_string(),
        concurrency,
        jobs,
        duration,
        good: 201,
        job: Arc::new(move |n| {
            (
                Method::POST,
                "/api/v1/entries".to_string(),
                Some(bodies[n].clone()),
            )
        }),
        in_flight,
        stop: Arc::default(),
    }
    .run(generator)
}

/// POST `bodies` to `<url>/api/v1/entries` over and over, from `concurrency`
/// closed-loop connections, until `stop` is set: a flood, each connection
/// sending its next request as soon as the last is answered. Only a `201`
/// counts as success; every other answer is tallied by status.
pub fn flood(
    url: &str,
    bodies: Arc<[Bytes]>,
    concurrency: usize,
    stop: Arc<AtomicBool>,
) -> Result<LoadResult> {
    Load {
        url: url.to_string(),
        concurrency,
        jobs: usize::MAX,
        // A bound for a harness that forgets to stop it.
        duration: Duration::from_secs(24 * 3600),
        good: 201,
        job: Arc::new(move |n| {
            (
                Method::POST,
                "/api/v1/entries".to_string(),
                Some(bodies[n % bodies.len()].clone()),
            )
        }),
        in_flight: Arc::default(),
        stop,
    }
    .run(Generator::Async)
}

/// GET `path_of(n)` for n = 0, 1, 2… (200 = success) for `duration` from
/// `concurrency` closed-loop readers.
pub fn read(
    generator: Generator,
    url: &str,
    concurrency: usize,
    duration: Duration,
    path_of: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Result<LoadResult> {
    Load {
        url: url.to_string(),
        concurrency,
        jobs: usize::MAX,
        duration,
        good: 200,
        job: Arc::new(move |n| (Method::GET, path_of(n), None)),
        in_flight: Arc::default(),
        stop: Arc::default(),
    }
    .run(generator)
}

/// Pre-built request bodies: the canonical JSON of each envelope, made before
/// any timing starts.
pub fn bodies(envelopes: &[glassbox_core::dsse::Envelope]) -> Arc<[Bytes]> {
    envelopes
        .iter()
        .map(|e| Bytes::from(e.to_canonical_json()))
        .collect()
}

/// A cheap deterministic spread of `n` over `0..modulus` (no RNG dependency).
pub fn spread(n: usize, modulus: u64) -> u64 {
    (n as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
        % modulus.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    /// Run `f` against a loopback server (127.0.0.1:0) that answers `201` to
    /// submissions starting with `ok`, `503` to the others, and `200` to GET `/r`.
    fn with_server(f: impl FnOnce(&str)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route(
                "/api/v1/entries",
                axum::routing::post(|body: Bytes| async move {
                    if body.starts_with(b"ok") {
                        StatusCode::CREATED
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                }),
            )
            .route("/r", axum::routing::get(|| async { "read" }));
        rt.spawn(async move { axum::serve(listener, app).await });
        f(&url);
    }

    fn mixed_bodies() -> Arc<[Bytes]> {
        (0..40)
            .map(|i| Bytes::from(if i % 4 == 3 { "no!" } else { "ok" }))
            .collect()
    }

    #[test]
    fn refused_submissions_are_counted_as_failures_not_hidden() {
        with_server(|url| {
            for generator in [Generator::Async, Generator::Blocking] {
                let r = ingest(generator, url, mixed_bodies(), 8, Duration::from_secs(20)).unwrap();
                assert_eq!(r.ok, 30, "{generator:?}");
                assert_eq!(r.ok_bytes, 60, "{generator:?}");
                assert_eq!(r.failures, vec![(503, 10)], "{generator:?}");
                assert_eq!(r.requests(), 40, "{generator:?}");
                assert!(r.p99_ms >= r.p50_ms && r.p50_ms > 0.0);
            }
        });
    }

    #[test]
    fn reads_stop_at_the_deadline_without_failures() {
        with_server(|url| {
            let r = read(Generator::Async, url, 4, Duration::from_millis(300), |_| {
                "/r".to_string()
            })
            .unwrap();
            assert!(r.ok > 0);
            assert!(r.failures.is_empty(), "{:?}", r.failures);
            assert!(r.elapsed < Duration::from_secs(20));
        });
    }

    #[test]
    fn an_unreachable_server_counts_every_request_as_a_transport_failure() {
        // A port that was just free: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let r = ingest(
            Generator::Async,
            &url,
            mixed_bodies(),
            4,
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(r.ok, 0);
        assert_eq!(r.failures, vec![(0, 40)]);
    }
}
