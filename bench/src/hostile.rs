//! The hostile mix: honest submitters measured twice in the same harness, on
//! fresh logs with the same server flags — once alone, once while anonymous
//! clients attack the server. The attackers are the ones the server's limits
//! are built against (docs/threat-model.md, "Holding the server's resources"
//! and "Submissions"): slowloris connections, exports that are never read, a
//! flood of envelopes naming a registered builder's key ID with garbage
//! signatures, and a flood of validly self-signed envelopes by keys the log
//! does not know.
//!
//! Every client, honest or not, comes from 127.0.0.1. The per-IP limit is
//! lifted for the honest load (as in every ingestion run, `log::load_flags`),
//! so it is lifted for the attackers too: the floods are a few connections
//! sending as fast as answers come, which is more than one address could send
//! past the default per-IP limit. What is measured is what the attack costs
//! the honest load when every request reaches the server's cores.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::envelopes::{self, key};
use crate::load::{self, LoadResult};
use crate::log::{failures, load_flags, register_builders};
use crate::report::{ratio, Report, Target};
use crate::server::{agent, get, Server};
use crate::Ctx;

/// How often the commit watcher asks for `/checkpoint`: the resolution of the
/// longest gap between commits.
const WATCH_EVERY: Duration = Duration::from_millis(50);
/// How long the attack runs before the honest clock starts, so that the
/// honest load meets an attack already under way.
const ATTACK_LEAD: Duration = Duration::from_secs(1);
/// Pause between two header bytes of a slowloris connection, and between two
/// pipelined requests of an export non-reader.
const DRIBBLE: Duration = Duration::from_millis(500);
/// Connections per flood: each sends its next envelope as soon as the last is
/// answered.
const FLOOD_CONNECTIONS: usize = 4;
/// Distinct envelopes each flood cycles through.
const FLOOD_ENVELOPES: u64 = 512;
/// Unregistered keys signing the second flood.
const STRANGERS: u64 = 64;

/// How many attackers of each kind, for `clients` honest submitters. The
/// connection attackers together stay below the 256 connections that
/// `load_flags` leaves above the honest ones, so the attack costs the server
/// work and memory but leaves the honest clients their connections (filling
/// the cap is the end-to-end test's subject, tests/tests/hostile_clients.rs).
#[derive(Clone, Copy)]
struct Mix {
    slowloris: usize,
    non_readers: usize,
}

impl Mix {
    fn for_clients(clients: usize) -> Mix {
        Mix {
            slowloris: (clients / 16).clamp(8, 128),
            non_readers: (clients / 64).clamp(4, 32),
        }
    }
}

/// What the connection attackers saw.
#[derive(Default)]
struct ConnTally {
    /// Connections opened.
    opened: AtomicU64,
    /// Connections the server ended (a write failed).
    cut_off: AtomicU64,
    /// Status of the first answer on each connection, if one came.
    statuses: Mutex<BTreeMap<u16, u64>>,
}

impl ConnTally {
    fn answered(&self, status: u16) {
        *self
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    fn describe(&self) -> String {
        let statuses = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        let answers = if statuses.is_empty() {
            "no answer read".to_string()
        } else {
            statuses
                .iter()
                .map(|(s, n)| format!("{n}× {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} opened, {} cut off by the server; first answers: {answers}",
            self.opened.load(Ordering::Relaxed),
            self.cut_off.load(Ordering::Relaxed)
        )
    }
}

/// Open a connection, send the start of a request, then one header byte every
/// [`DRIBBLE`] until the server hangs up; then again, until `stop`.
async fn slowloris(addr: String, stop: Arc<AtomicBool>, tally: Arc<ConnTally>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(DRIBBLE).await;
            continue;
        };
        tally.opened.fetch_add(1, Ordering::Relaxed);
        let _ = conn
            .write_all(b"POST /api/v1/entries HTTP/1.1\r\nHost: glassbox\r\nX-Slow: ")
            .await;
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(DRIBBLE).await;
            if conn.write_all(b"a").await.is_err() {
                tally.cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// Request an export and read only its status line; then hold the connection,
/// pipelining another export request every [`DRIBBLE`] and reading nothing,
/// until the server hangs up; then again, until `stop`.
async fn non_reader(addr: String, stop: Arc<AtomicBool>, tally: Arc<ConnTally>) {
    const REQUEST: &[u8] = b"GET /api/v1/export HTTP/1.1\r\nHost: glassbox\r\n\r\n";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(DRIBBLE).await;
            continue;
        };
        tally.opened.fetch_add(1, Ordering::Relaxed);
        if conn.write_all(REQUEST).await.is_err() {
            tally.cut_off.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // "HTTP/1.1 200": twelve bytes, far less than the export sends.
        let mut line = [0u8; 12];
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut line)).await
        {
            if let Some(status) = std::str::from_utf8(&line[9..])
                .ok()
                .and_then(|s| s.parse().ok())
            {
                tally.answered(status);
            }
        }
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(DRIBBLE).await;
            if conn.write_all(REQUEST).await.is_err() {
                tally.cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

/// Pre-built bodies of both floods.
struct FloodBodies {
    /// Builds naming registered builders' key IDs, their signatures garbage.
    spoofed: Arc<[Bytes]>,
    /// Builds validly signed by keys the log never registered.
    strangers: Arc<[Bytes]>,
}

impl FloodBodies {
    fn new() -> Result<FloodBodies> {
        let builders: Vec<_> = (0..crate::floor::BUILDER_KEYS)
            .map(|i| key(500 + i))
            .collect();
        let mut spoofed = envelopes::builds(&builders, 1 << 44, FLOOD_ENVELOPES, 0)?;
        for (n, e) in spoofed.iter_mut().enumerate() {
            for s in &mut e.signatures {
                // 64 bytes that are no signature of this payload.
                s.sig = (0..64u8)
                    .map(|i| i.wrapping_mul(31) ^ n as u8)
                    .collect::<Vec<_>>();
            }
        }
        let strangers: Vec<_> = (0..STRANGERS).map(|i| key(9_000_000 + i)).collect();
        let strangers = envelopes::builds(&strangers, 1 << 45, FLOOD_ENVELOPES, 0)?;
        Ok(FloodBodies {
            spoofed: load::bodies(&spoofed),
            strangers: load::bodies(&strangers),
        })
    }
}

/// What the attackers of one run did.
struct Attack {
    mix: Mix,
    slowloris: Arc<ConnTally>,
    non_readers: Arc<ConnTally>,
    spoofed: LoadResult,
    strangers: LoadResult,
}

/// One honest run, clean or attacked.
struct Run {
    honest: LoadResult,
    rss_kib: u64,
    cpu_secs: f64,
    /// The longest time `/checkpoint` did not grow while honest submissions
    /// were in flight.
    longest_gap: Duration,
    attack: Option<Attack>,
}

/// The size of the tree in a checkpoint note (its second line).
fn tree_size(note: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(note).lines().nth(1)?.parse().ok()
}

/// The longest stretch over which the tree did not grow while honest work was
/// in flight, from a sequence of polls. A stretch starts at the poll that saw
/// the last growth (or that first saw work in flight) and ends at the poll that
/// sees the next growth, so it overstates the sequencer's own gap by up to one
/// poll interval plus a poll's latency — a `/checkpoint` the attack slows down
/// counts against the log.
#[derive(Default)]
struct CommitGaps {
    last: u64,
    since: Option<Instant>,
    longest: Duration,
}

impl CommitGaps {
    /// One poll at `now`: the tree size it read (`None`: no answer) and whether
    /// honest submissions were in flight.
    fn observe(&mut self, now: Instant, size: Option<u64>, busy: bool) {
        match size {
            Some(s) if s > self.last => {
                if let Some(start) = self.since {
                    self.longest = self.longest.max(now - start);
                }
                self.last = s;
                self.since = busy.then_some(now);
            }
            _ if busy => {
                let start = *self.since.get_or_insert(now);
                self.longest = self.longest.max(now - start);
            }
            _ => self.since = None,
        }
    }
}

/// Poll `/checkpoint` every [`WATCH_EVERY`] until `stop`; the longest commit
/// gap with honest work in flight ([`CommitGaps`]).
fn watch_commits(url: &str, in_flight: &AtomicUsize, stop: &AtomicBool) -> Duration {
    let agent = agent(Duration::from_secs(5));
    let url = format!("{url}/checkpoint");
    let mut gaps = CommitGaps::default();
    while !stop.load(Ordering::Relaxed) {
        let size = match get(&agent, &url) {
            Ok((200, body)) => tree_size(&body),
            _ => None,
        };
        let busy = in_flight.load(Ordering::Relaxed) > 0;
        gaps.observe(Instant::now(), size, busy);
        std::thread::sleep(WATCH_EVERY);
    }
    gaps.longest
}

/// One honest run on a fresh log at `name`, attacked when `floods` is given.
fn run(
    ctx: &Ctx,
    name: &str,
    flags: &[String],
    honest: &Arc<[Bytes]>,
    secs: u64,
    floods: Option<&FloodBodies>,
) -> Result<Run> {
    let sc = &ctx.scale;
    let data = ctx.work.join(format!("hostile-{name}"));
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = Server::start(&ctx.bin_dir, &data, &flag_refs)?;
    register_builders(&server, crate::floor::BUILDER_KEYS)?;
    let mix = Mix::for_clients(sc.ingest_clients);
    let addr = server
        .url
        .strip_prefix("http://")
        .context("server URL")?
        .to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = AtomicU64::new(0);
    let slowloris_tally = Arc::new(ConnTally::default());
    let non_reader_tally = Arc::new(ConnTally::default());

    let run = std::thread::scope(|s| -> Result<Run> {
        // Whatever happens below, the helpers end.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = StopOnDrop(&stop);
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_kib().0, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let watcher = s.spawn(|| watch_commits(&server.url, &in_flight, &stop));
        let mut flooders = Vec::new();
        let mut connection_attackers = None;
        if let Some(f) = floods {
            let (a, st, sl, nr) = (
                addr.clone(),
                stop.clone(),
                slowloris_tally.clone(),
                non_reader_tally.clone(),
            );
            let (slowloris_n, non_readers_n) = (mix.slowloris, mix.non_readers);
            connection_attackers = Some(s.spawn(move || -> Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting the attackers' runtime")?;
                runtime.block_on(async move {
                    let mut tasks = tokio::task::JoinSet::new();
                    for _ in 0..slowloris_n {
                        tasks.spawn(slowloris(a.clone(), st.clone(), sl.clone()));
                    }
                    for _ in 0..non_readers_n {
                        tasks.spawn(non_reader(a.clone(), st.clone(), nr.clone()));
                    }
                    while tasks.join_next().await.is_some() {}
                });
                Ok(())
            }));
            for bodies in [&f.spoofed, &f.strangers] {
                let (url, bodies, st) = (server.url.clone(), bodies.clone(), stop.clone());
                flooders.push(s.spawn(move || load::flood(&url, bodies, FLOOD_CONNECTIONS, st)));
            }
            // A lead time, not a synchronisation: the honest clock starts
            // with the attack under way.
            std::thread::sleep(ATTACK_LEAD);
        }
        let cpu0 = server.cpu_secs();
        let honest_result = load::ingest_watched(
            ctx.generator,
            &server.url,
            honest.clone(),
            sc.ingest_clients,
            Duration::from_secs(secs),
            in_flight.clone(),
        );
        let cpu_secs = server.cpu_secs() - cpu0;
        stop.store(true, Ordering::Relaxed);
        let longest_gap = watcher
            .join()
            .map_err(|_| anyhow::anyhow!("the commit watcher panicked"))?;
        let mut flood_results = Vec::new();
        if let Some(a) = connection_attackers {
            a.join()
                .map_err(|_| anyhow::anyhow!("the connection attackers panicked"))??;
        }
        for f in flooders {
            flood_results.push(
                f.join()
                    .map_err(|_| anyhow::anyhow!("a flood panicked"))??,
            );
        }
        let attack = if floods.is_some() {
            let strangers = flood_results.pop().context("the strangers' flood")?;
            let spoofed = flood_results.pop().context("the spoofed flood")?;
            Some(Attack {
                mix,
                slowloris: slowloris_tally.clone(),
                non_readers: non_reader_tally.clone(),
                spoofed,
                strangers,
            })
        } else {
            None
        };
        Ok(Run {
            honest: honest_result?,
            rss_kib: 0,
            cpu_secs,
            longest_gap,
            attack,
        })
    })?;
    let rss_kib = peak.load(Ordering::Relaxed).max(server.rss_kib().1);
    server.stop()?;
    if run.honest.ok == 0 {
        bail!(
            "no honest submission succeeded in the {name} run: {}",
            failures(&run.honest)
        );
    }
    Ok(Run { rss_kib, ..run })
}

/// The hostile mix: a clean and an attacked honest run, a table of each, what
/// the attackers got, and the targets.
pub fn hostile(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let sc = &ctx.scale;
    let secs = sc.ingest_secs.div_ceil(4).max(2);
    let flags = load_flags(sc.ingest_clients);
    let keys: Vec<_> = (0..crate::floor::BUILDER_KEYS)
        .map(|i| key(500 + i))
        .collect();
    let honest = load::bodies(&envelopes::builds(
        &keys,
        1 << 43,
        sc.ingest_envelopes.div_ceil(4),
        0,
    )?);
    let floods = FloodBodies::new()?;
    let clean = run(ctx, "clean", &flags, &honest, secs, None)?;
    let attacked = run(ctx, "attacked", &flags, &honest, secs, Some(&floods))?;
    let attack = attacked.attack.as_ref().context("the attack's tallies")?;

    rep.section(&format!(
        "hostile mix: honest ingestion under attack ({} honest submitters, {secs} s per run)",
        sc.ingest_clients
    ));
    rep.note(format!(
        "Two runs in the same harness, each on a fresh log with the same server flags as the \
         ingestion runs (`{}`) and the same {} pre-signed envelopes: the honest load alone, \
         then the honest load while the attackers below run (started {:.0} s before the \
         honest clock, stopped after it). Every client is on 127.0.0.1 and the per-IP limit \
         is lifted for the honest load, so the floods — {FLOOD_CONNECTIONS} connections each, \
         sending as fast as answers come — reach the server's cores unthrottled, more than \
         one address could send past the default per-IP limit. The connection attackers stay \
         below the 256 connections the flags leave above the honest submitters. Commit gap = \
         the longest time `/checkpoint`, polled every {} ms from its own connection, did not \
         grow while honest submissions were in flight (resolution: one poll interval plus a \
         poll's latency, which the attack may lengthen).",
        flags.join(" "),
        honest.len(),
        ATTACK_LEAD.as_secs_f64(),
        WATCH_EVERY.as_millis(),
    ));
    let row = |label: &str, r: &Run| {
        vec![
            label.to_string(),
            format!("{}", r.honest.ok),
            format!("{:.0}", r.honest.per_sec()),
            format!("{:.1}", r.honest.p50_ms),
            format!("{:.1}", r.honest.p99_ms),
            format!("{:.0}", r.longest_gap.as_secs_f64() * 1e3),
            format!("{:.0}", r.rss_kib as f64 / 1024.0),
            format!("{:.0}", r.cpu_secs / r.honest.ok.max(1) as f64 * 1e6),
            failures(&r.honest),
        ]
    };
    let (c, a) = (&clean, &attacked);
    rep.table(
        &[
            "honest run",
            "accepted",
            "entries/s",
            "p50 ms",
            "p99 ms",
            "longest commit gap with honest work in flight, ms",
            "server peak RSS MiB",
            "server CPU µs per honest entry",
            "honest failures",
        ],
        &[
            row("clean", c),
            row("attacked", a),
            vec![
                "attacked ÷ clean".into(),
                format!("{:.2}×", ratio(a.honest.ok as f64, c.honest.ok as f64)),
                format!("{:.2}×", ratio(a.honest.per_sec(), c.honest.per_sec())),
                format!("{:.2}×", ratio(a.honest.p50_ms, c.honest.p50_ms)),
                format!("{:.2}×", ratio(a.honest.p99_ms, c.honest.p99_ms)),
                format!(
                    "{:.2}×",
                    ratio(a.longest_gap.as_secs_f64(), c.longest_gap.as_secs_f64())
                ),
                format!("{:.2}×", ratio(a.rss_kib as f64, c.rss_kib as f64)),
                if c.cpu_secs > 0.0 && a.cpu_secs > 0.0 {
                    format!(
                        "{:.2}×",
                        ratio(
                            a.cpu_secs / a.honest.ok.max(1) as f64,
                            c.cpu_secs / c.honest.ok.max(1) as f64
                        )
                    )
                } else {
                    "–".into()
                },
                "–".into(),
            ],
        ],
    );
    let flood_row = |label: &str, r: &LoadResult| {
        vec![
            label.to_string(),
            format!("{FLOOD_CONNECTIONS} connections"),
            format!("{} ({:.0}/s)", r.requests(), r.per_sec_all()),
            if r.ok == 0 {
                failures(r)
            } else {
                format!("**{}× 201**, {}", r.ok, failures(r))
            },
        ]
    };
    rep.table(
        &["attacker", "at once", "requests", "answers"],
        &[
            vec![
                format!(
                    "slowloris: request headers, one byte every {} ms",
                    DRIBBLE.as_millis()
                ),
                format!("{} connections", attack.mix.slowloris),
                "–".into(),
                attack.slowloris.describe(),
            ],
            vec![
                format!(
                    "export non-readers: `GET /api/v1/export`, status line read, then \
                     another request every {} ms and nothing read",
                    DRIBBLE.as_millis()
                ),
                format!("{} connections", attack.mix.non_readers),
                "–".into(),
                attack.non_readers.describe(),
            ],
            flood_row(
                "spoofed key ID: builds naming registered builders' key IDs, garbage signatures",
                &attack.spoofed,
            ),
            flood_row(
                &format!("unregistered signers: builds validly signed by {STRANGERS} unknown keys"),
                &attack.strangers,
            ),
        ],
    );
    rep.target(Target::at_least(
        "hostile mix: honest entries/s attacked ÷ clean",
        ratio(a.honest.per_sec(), c.honest.per_sec()),
        0.70,
    ));
    rep.target(Target::at_most(
        "hostile mix: longest commit gap with honest work in flight, attacked (ms)",
        a.longest_gap.as_secs_f64() * 1e3,
        1000.0,
    ));
    // The attack must not move the server's memory past the honest load's own
    // target ("server RSS under ingestion").
    rep.target(Target::at_most(
        "hostile mix: server peak RSS under attack (MB)",
        a.rss_kib as f64 * 1024.0 / 1e6,
        200.0,
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polls(sizes: &[(u64, Option<u64>, bool)]) -> Duration {
        let t0 = Instant::now();
        let mut gaps = CommitGaps::default();
        for &(ms, size, busy) in sizes {
            gaps.observe(t0 + Duration::from_millis(ms), size, busy);
        }
        gaps.longest
    }

    #[test]
    fn a_stall_with_work_in_flight_is_the_time_between_the_polls_that_saw_growth() {
        let gap = polls(&[
            (0, Some(10), true),
            (50, Some(10), true),
            (100, Some(20), true),
            (150, None, true),
            (400, Some(20), true),
            (800, Some(30), true),
            (850, Some(40), true),
        ]);
        assert_eq!(gap, Duration::from_millis(700));
    }

    #[test]
    fn an_idle_log_that_does_not_grow_has_no_gap() {
        let gap = polls(&[
            (0, Some(10), false),
            (5000, Some(10), false),
            (9000, Some(10), true),
            (9100, Some(11), true),
        ]);
        assert_eq!(gap, Duration::from_millis(100));
    }

    #[test]
    fn the_tree_size_is_the_second_line_of_the_note() {
        assert_eq!(tree_size(b"glassbox.localhost/log\n42\nroot=\n"), Some(42));
        assert_eq!(tree_size(b"origin only"), None);
    }
}
