//! Load generators: N client threads on loopback, each with its own keep-alive
//! connection, bounded by a request budget and a deadline. Latency is measured per
//! request, from sending to the full response.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::measure::quantile;
use crate::server::{agent, get, post};

/// What a load run saw.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub ok: u64,
    /// Status code (0 = transport error) → count, for the failures.
    pub failures: Vec<(u16, u64)>,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes of request bodies that were accepted.
    pub ok_bytes: u64,
}

impl LoadResult {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Shared tallies while a load runs.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    ok: u64,
    ok_bytes: u64,
    failures: Vec<(u16, u64)>,
}

impl Tally {
    fn fail(&mut self, status: u16) {
        match self.failures.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.failures.push((status, 1)),
        }
    }

    fn finish(mut self, elapsed: Duration) -> LoadResult {
        let p50_ms = quantile(&mut self.latencies_ms, 0.50);
        let p99_ms = quantile(&mut self.latencies_ms, 0.99);
        LoadResult {
            ok: self.ok,
            failures: self.failures,
            elapsed,
            p50_ms,
            p99_ms,
            ok_bytes: self.ok_bytes,
        }
    }
}

/// One request of a load: (status, request bytes) for job number `n`.
type Request<'a> = dyn Fn(&ureq::Agent, usize) -> Result<(u16, u64)> + Sync + 'a;

/// Run `clients` threads; each repeatedly takes the next job number (< `jobs`)
/// and calls `request(agent, job)` → (status, request bytes), until the jobs run
/// out or `duration` passes. `good` is the expected status.
fn drive(
    clients: usize,
    jobs: usize,
    duration: Duration,
    good: u16,
    request: &Request<'_>,
) -> LoadResult {
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Tally::default());
    let start = Instant::now();
    let deadline = start + duration;
    std::thread::scope(|s| {
        for _ in 0..clients {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, || {
                    let agent = agent(Duration::from_secs(30));
                    let mut mine = Tally::default();
                    while Instant::now() < deadline {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job >= jobs {
                            break;
                        }
                        let t = Instant::now();
                        match request(&agent, job) {
                            Ok((status, bytes)) if status == good => {
                                mine.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                                mine.ok += 1;
                                mine.ok_bytes += bytes;
                            }
                            Ok((status, _)) => mine.fail(status),
                            Err(_) => mine.fail(0),
                        }
                    }
                    let mut all = total.lock().unwrap_or_else(|p| p.into_inner());
                    all.latencies_ms.append(&mut mine.latencies_ms);
                    all.ok += mine.ok;
                    all.ok_bytes += mine.ok_bytes;
                    for (status, n) in mine.failures {
                        for _ in 0..n {
                            all.fail(status);
                        }
                    }
                })
                .expect("spawning a load thread");
        }
    });
    let elapsed = start.elapsed();
    total
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .finish(elapsed)
}

/// POST each of `bodies` once to `<url>/api/v1/entries` (201 = success).
pub fn ingest(url: &str, bodies: &[Vec<u8>], clients: usize, duration: Duration) -> LoadResult {
    let endpoint = format!("{url}/api/v1/entries");
    drive(clients, bodies.len(), duration, 201, &|agent, job| {
        let body = &bodies[job];
        let (status, _) = post(agent, &endpoint, body)?;
        Ok((status, body.len() as u64))
    })
}

/// GET `path_of(n)` for n = 0, 1, 2… (200 = success) for `duration`.
pub fn read(
    url: &str,
    clients: usize,
    duration: Duration,
    path_of: &(dyn Fn(usize) -> String + Sync),
) -> LoadResult {
    drive(clients, usize::MAX, duration, 200, &|agent, job| {
        let (status, body) = get(agent, &format!("{url}{}", path_of(job)))?;
        Ok((status, body.len() as u64))
    })
}

/// A cheap deterministic spread of `n` over `0..modulus` (no RNG dependency).
pub fn spread(n: usize, modulus: u64) -> u64 {
    (n as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
        % modulus.max(1)
}
