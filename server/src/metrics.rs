//! Prometheus metrics, written by hand in the text exposition format 0.0.4.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A cumulative histogram with fixed upper bounds.
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// Sum of observations in micro-units, to stay in integer atomics.
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        for (bound, c) in self.bounds.iter().zip(&self.counts) {
            if value <= *bound {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((value * 1e6).max(0.0) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

const BATCH_SIZE_BOUNDS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];
const LATENCY_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric the server exports.
pub struct Metrics {
    /// Entries in the log (the latest checkpoint's size).
    pub entries_total: AtomicU64,
    /// Submissions waiting for the sequencer.
    pub queue_depth: AtomicU64,
    /// Batches whose commit failed.
    pub batch_failures_total: AtomicU64,
    /// New entries per committed batch.
    pub batch_size: Histogram,
    /// Seconds from a submission entering the queue to its receipt.
    pub sequencing_latency: Histogram,
    /// Counts by route template, then status; looked up by `&str`, so a request
    /// allocates only the first time its route is seen.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            entries_total: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            batch_failures_total: AtomicU64::new(0),
            batch_size: Histogram::new(BATCH_SIZE_BOUNDS),
            sequencing_latency: Histogram::new(LATENCY_BOUNDS),
            requests: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// Count one answered request. `route` is the matched route template, so
    /// cardinality stays bounded whatever clients ask for.
    pub fn record_request(&self, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            let by_status = match m.get_mut(route) {
                Some(s) => s,
                None => m.entry(route.to_string()).or_default(),
            };
            *by_status.entry(status).or_insert(0) += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        gauge(
            &mut out,
            "glassbox_entries_total",
            "counter",
            "Entries in the log.",
            self.entries_total.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "glassbox_queue_depth",
            "gauge",
            "Submissions waiting to be sequenced.",
            self.queue_depth.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "glassbox_batch_failures_total",
            "counter",
            "Batches whose commit failed.",
            self.batch_failures_total.load(Ordering::Relaxed),
        );
        self.batch_size.render(
            &mut out,
            "glassbox_batch_size",
            "New entries per committed batch.",
        );
        self.sequencing_latency.render(
            &mut out,
            "glassbox_sequencing_latency_seconds",
            "Time from queueing a submission to its durable receipt.",
        );
        let _ = writeln!(
            out,
            "# HELP glassbox_http_requests_total HTTP requests by route and status.\n# TYPE glassbox_http_requests_total counter"
        );
        if let Ok(m) = self.requests.lock() {
            for (route, by_status) in m.iter() {
                let route = route.replace('\\', "\\\\").replace('"', "\\\"");
                for (status, n) in by_status {
                    let _ = writeln!(
                        out,
                        "glassbox_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.batch_size.observe(3.0);
        m.batch_size.observe(300.0);
        let text = m.render();
        assert!(text.contains("glassbox_batch_size_bucket{le=\"4\"} 1"));
        assert!(text.contains("glassbox_batch_size_bucket{le=\"512\"} 2"));
        assert!(text.contains("glassbox_batch_size_count 2"));
    }

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = Metrics::default();
        m.record_request("/api/v1/entries/{index}", 404);
        m.record_request("/api/v1/entries/{index}", 404);
        assert!(m.render().contains(
            "glassbox_http_requests_total{route=\"/api/v1/entries/{index}\",status=\"404\"} 2"
        ));
    }
}
