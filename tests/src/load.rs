//! Bounded loopback load against the real `glassbox-server` (docs/reliability.md).
//!
//! Submitter threads post pre-signed, distinct envelopes as fast as the server
//! answers for a fixed time. A refused envelope (`429`/`503`) is posted again at once —
//! a greedy client, which is what overload looks like — so refusals do not use up the
//! pre-signed supply. The report holds the held throughput (entries created per second
//! over the whole run), latency percentiles and every kind of answer and error.
//!
//! What a test may *assert* is behaviour: which statuses came back, that every refusal
//! carried `Retry-After`, that no client timed out, that the server recovers. The
//! numbers depend on the machine and are only printed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::crash::{agent, post, Submitters};

/// How long a load client waits for an answer before counting a timeout.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Transport errors quoted in a report.
const ERROR_SAMPLES: usize = 5;

/// One load run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Shown in the report, and part of every envelope's label (keeps runs distinct).
    pub label: String,
    pub threads: usize,
    pub duration: Duration,
    /// Envelopes pre-signed per thread; a thread that has logged them all stops early.
    pub per_thread: usize,
}

/// What a load run saw.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub label: String,
    pub threads: usize,
    pub elapsed: Duration,
    /// Count of answers per HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer within [`CLIENT_TIMEOUT`].
    pub timeouts: u64,
    /// Requests that failed below HTTP (refused or reset connections).
    pub transport_errors: u64,
    /// Connections the server closed right after a `429` it sent before reading the
    /// request body (the per-IP limiter), without announcing `Connection: close`:
    /// the client's next request on that kept-alive connection fails. Counted apart
    /// from [`LoadReport::transport_errors`].
    pub closed_after_429: u64,
    /// The first few transport errors, for the report.
    pub error_samples: Vec<String>,
    /// `429`/`503` answers without a `Retry-After` header.
    pub refusals_without_retry_after: u64,
    /// Threads that logged their whole pre-signed supply before the time was up.
    pub exhausted_threads: usize,
    /// Latency of each `201`.
    pub created: Vec<Duration>,
    /// Latency of every answered request, whatever its status.
    pub answered: Vec<Duration>,
}

impl LoadReport {
    /// Entries created.
    pub fn created_count(&self) -> u64 {
        self.statuses.get(&201).copied().unwrap_or(0)
    }

    /// Answers with a status outside `allowed`.
    pub fn unexpected_statuses(&self, allowed: &[u16]) -> Vec<(u16, u64)> {
        self.statuses
            .iter()
            .filter(|(s, _)| !allowed.contains(s))
            .map(|(s, n)| (*s, *n))
            .collect()
    }

    /// Answers that were `429` or `503`.
    pub fn refusals(&self) -> u64 {
        [429, 503].iter().filter_map(|s| self.statuses.get(s)).sum()
    }

    fn merge(&mut self, other: ThreadStats) {
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.timeouts += other.timeouts;
        self.transport_errors += other.transport_errors;
        self.closed_after_429 += other.closed_after_429;
        for e in other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(e);
            }
        }
        self.refusals_without_retry_after += other.refusals_without_retry_after;
        self.exhausted_threads += usize::from(other.exhausted);
        self.created.extend(other.created);
        self.answered.extend(other.answered);
    }
}

/// `p` in 0..=100 of `samples` (nearest rank); `None` when empty.
pub fn percentile(samples: &[Duration], p: u32) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    Some(sorted[rank.min(sorted.len()) - 1])
}

fn latency_line(f: &mut fmt::Formatter<'_>, what: &str, samples: &[Duration]) -> fmt::Result {
    let ms = |p| {
        percentile(samples, p).map_or("-".to_string(), |d| {
            format!("{:.1}ms", d.as_secs_f64() * 1e3)
        })
    };
    writeln!(
        f,
        "  latency {what:<8} p50 {} p90 {} p99 {} max {} (n={})",
        ms(50),
        ms(90),
        ms(99),
        ms(100),
        samples.len()
    )
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "load [{}]: {} threads for {:.2}s: {} created, held {:.1} entries/s",
            self.label,
            self.threads,
            secs,
            self.created_count(),
            self.created_count() as f64 / secs
        )?;
        writeln!(
            f,
            "  statuses {:?}; timeouts {}; transport errors {}; connections closed after a 429 {}; \
             429/503 without Retry-After {}; threads that ran out of envelopes {}",
            self.statuses,
            self.timeouts,
            self.transport_errors,
            self.closed_after_429,
            self.refusals_without_retry_after,
            self.exhausted_threads
        )?;
        for e in &self.error_samples {
            writeln!(f, "  transport error: {e}")?;
        }
        latency_line(f, "created", &self.created)?;
        latency_line(f, "all", &self.answered)
    }
}

#[derive(Default)]
struct ThreadStats {
    statuses: BTreeMap<u16, u64>,
    timeouts: u64,
    transport_errors: u64,
    closed_after_429: u64,
    error_samples: Vec<String>,
    refusals_without_retry_after: u64,
    exhausted: bool,
    created: Vec<Duration>,
    answered: Vec<Duration>,
}

fn hammer(base: &str, envelopes: Vec<Vec<u8>>, deadline: Instant) -> ThreadStats {
    let agent = agent(CLIENT_TIMEOUT);
    let mut stats = ThreadStats::default();
    let mut next = envelopes.iter();
    let mut current = next.next();
    let mut previous: Option<u16> = None;
    while let Some(leaf) = current {
        if Instant::now() >= deadline {
            return stats;
        }
        let sent = Instant::now();
        match post(&agent, base, leaf) {
            Ok(answer) => {
                let took = sent.elapsed();
                previous = Some(answer.status);
                *stats.statuses.entry(answer.status).or_default() += 1;
                stats.answered.push(took);
                match answer.status {
                    201 | 200 => {
                        stats.created.extend((answer.status == 201).then_some(took));
                        current = next.next();
                    }
                    429 | 503 => {
                        if answer.retry_after.is_none() {
                            stats.refusals_without_retry_after += 1;
                        }
                    }
                    _ => current = next.next(),
                }
            }
            Err(ureq::Error::Timeout(_)) => {
                stats.timeouts += 1;
                previous = None;
            }
            Err(ureq::Error::Io(_)) if previous == Some(429) => {
                stats.closed_after_429 += 1;
                previous = None;
            }
            Err(e) => {
                stats.transport_errors += 1;
                if stats.error_samples.len() < ERROR_SAMPLES {
                    stats.error_samples.push(format!(
                        "{e} (this client's previous answer: {})",
                        previous.map_or("none".to_string(), |s| s.to_string())
                    ));
                }
                previous = None;
            }
        }
    }
    stats.exhausted = true;
    stats
}

/// Run `plan` against the server at `base` with envelopes from `submitters`.
pub fn run_load(base: &str, submitters: &Arc<Submitters>, plan: &LoadPlan) -> LoadReport {
    let supplies: Vec<Vec<Vec<u8>>> = (0..plan.threads)
        .map(|t| {
            (0..plan.per_thread)
                .map(|i| submitters.envelope(t, &format!("load {} {t} {i}", plan.label)))
                .collect()
        })
        .collect();
    let started = Instant::now();
    let deadline = started + plan.duration;
    let handles: Vec<_> = supplies
        .into_iter()
        .map(|envelopes| {
            let base = base.to_string();
            thread::spawn(move || hammer(&base, envelopes, deadline))
        })
        .collect();
    let mut report = LoadReport {
        label: plan.label.clone(),
        threads: plan.threads,
        ..LoadReport::default()
    };
    for handle in handles {
        report.merge(handle.join().expect("a load thread panicked"));
    }
    report.elapsed = started.elapsed();
    report
}

/// After load: submit `leaf` as a well-behaved client would — waiting as long as
/// `Retry-After` says after a `429`/`503` — until it is logged or `within` passes.
/// `Ok(status)` of the final 200/201, or what went wrong.
pub fn submit_politely(base: &str, leaf: &[u8], within: Duration) -> Result<u16, String> {
    let agent = agent(CLIENT_TIMEOUT);
    let deadline = Instant::now() + within;
    loop {
        let answer = post(&agent, base, leaf).map_err(|e| format!("POST after load: {e}"))?;
        match answer.status {
            200 | 201 => return Ok(answer.status),
            429 | 503 => {
                let wait = answer
                    .retry_after
                    .as_deref()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| format!("{} without a usable Retry-After", answer.status))?;
                if Instant::now() + Duration::from_secs(wait) > deadline {
                    return Err(format!(
                        "still refused ({}) after {within:?}: {}",
                        answer.status,
                        answer.text()
                    ));
                }
                // Honouring Retry-After is the client's side of the protocol.
                thread::sleep(Duration::from_secs(wait));
            }
            other => return Err(format!("POST after load: {other} {}", answer.text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_nearest_rank() {
        let ms = |n| Duration::from_millis(n);
        let samples: Vec<_> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&samples, 50), Some(ms(50)));
        assert_eq!(percentile(&samples, 99), Some(ms(99)));
        assert_eq!(percentile(&samples, 100), Some(ms(100)));
        assert_eq!(percentile(&[ms(7)], 90), Some(ms(7)));
        assert_eq!(percentile(&[], 50), None);
    }
}
