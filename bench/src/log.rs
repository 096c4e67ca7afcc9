//! The server rows: ingestion over HTTP (throughput, latency, memory, storage
//! bytes), then proofs and tiles over HTTP and cold start at growing log sizes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use anyhow::{bail, Context, Result};
use glassbox_core::statement::Role;
use glassbox_core::tile::{Tile, TilePath};

use crate::envelopes::{self, key, register};
use crate::load::{self, spread, Generator, LoadResult};
use crate::measure::median;
use crate::report::{ratio, size, Report, Target};
use crate::server::Server;
use crate::{seed, Ctx};

/// Flags for the load runs: rate limits out of the way (every client is one
/// loopback IP), a connection for every submitter (and the harness's own
/// requests), 100 ms batches as docs/design.md §4 says, and room for every one of the
/// `concurrency` in-flight submissions: one batch can take them all (so a closed
/// loop is never split over two batch intervals) and the queue holds twice as
/// many, so a full queue (`503 overloaded`) means the server fell behind, never
/// that the harness asked for more than it configured.
pub fn load_flags(concurrency: usize) -> Vec<String> {
    let batch = concurrency.max(4096).to_string();
    let queue = (2 * concurrency).max(16384).to_string();
    // Every submitter keeps its connection open: all must be served at once.
    let connections = (concurrency + 256).to_string();
    [
        "--max-connections",
        &connections,
        "--batch-interval-ms",
        "100",
        "--batch-size",
        &batch,
        "--queue-size",
        &queue,
        "--ip-rate-per-sec",
        "1e9",
        "--ip-burst",
        "1e9",
        "--signer-rate-per-sec",
        "1e9",
        "--signer-burst",
        "1e9",
    ]
    .map(String::from)
    .to_vec()
}

fn start(ctx: &Ctx, data: &std::path::Path, flags: &[String]) -> Result<Server> {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Server::start(&ctx.bin_dir, data, &flags)
}

/// Builder keys that sign the load, registered by the quickstart operator.
pub fn register_builders(server: &Server, count: u64) -> Result<Vec<ed25519_dalek::SigningKey>> {
    let operator = server.operator_key()?;
    let keys: Vec<_> = (0..count).map(|i| key(500 + i)).collect();
    for (i, k) in keys.iter().enumerate() {
        server.submit(&register(
            &operator,
            k,
            &format!("builder {i}"),
            vec![Role::Builder],
        )?)?;
    }
    Ok(keys)
}

/// Run an ingestion load while sampling the server's RSS; (result, peak RSS KiB,
/// server CPU seconds used during the run).
pub fn ingest_sampled(
    generator: Generator,
    server: &Server,
    bodies: &Arc<[Bytes]>,
    clients: usize,
    secs: u64,
) -> Result<(LoadResult, u64, f64)> {
    let cpu0 = server.cpu_secs();
    let done = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_kib().0, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let r = load::ingest(
            generator,
            &server.url,
            bodies.clone(),
            clients,
            Duration::from_secs(secs),
        );
        done.store(true, Ordering::Relaxed);
        r
    })?;
    let cpu = server.cpu_secs() - cpu0;
    Ok((
        result,
        peak.load(Ordering::Relaxed).max(server.rss_kib().1),
        cpu,
    ))
}

pub fn failures(r: &LoadResult) -> String {
    if r.failures.is_empty() {
        return "none".into();
    }
    r.failures
        .iter()
        .map(|(s, n)| {
            format!(
                "{n}× {}",
                if *s == 0 {
                    "transport/timeout".into()
                } else {
                    s.to_string()
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One sentence on the generator that drove the load, for the notes.
fn generator_note(generator: Generator) -> &'static str {
    match generator {
        Generator::Async => {
            "Load generator: one tokio thread running one task per in-flight request \
             (hyper HTTP/1.1 client, bodies built before the clock starts, connections \
             opened before it)."
        }
        Generator::Blocking => {
            "Load generator: `--generator blocking`, one OS thread with a blocking `ureq` \
             agent per in-flight request (the baseline for the generator's own cost)."
        }
    }
}

fn db_bytes(data: &std::path::Path) -> u64 {
    ["glassbox.db", "glassbox.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(data.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Ingestion throughput and latency, server memory, storage overhead, and the
/// effect of entry size.
pub fn ingest(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let sc = &ctx.scale;
    let data = ctx.work.join("ingest-data");
    let flags = load_flags(sc.ingest_clients);
    let server = start(ctx, &data, &flags)?;
    let keys = register_builders(&server, crate::floor::BUILDER_KEYS)?;
    let t = Instant::now();
    let bodies = load::bodies(&envelopes::builds(&keys, 0, sc.ingest_envelopes, 0)?);
    let sign_secs = t.elapsed().as_secs_f64();
    let (main, peak_rss, main_cpu) = ingest_sampled(
        ctx.generator,
        &server,
        &bodies,
        sc.ingest_clients,
        sc.ingest_secs,
    )?;
    if main.ok == 0 {
        bail!("no submission succeeded: {}", failures(&main));
    }
    server.stop()?;
    let stored = db_bytes(&data) as f64;
    let raw = main.ok_bytes as f64;
    let mean_entry = raw / main.ok as f64;

    // Bigger entries on the same log (restarted: also a cold start at this size).
    let server = start(ctx, &data, &flags)?;
    // First one small entry, for the size of a receipt the floor answers with.
    let probe = envelopes::builds(&keys, 1 << 40, 1, 0)?.remove(0);
    let receipt_bytes = serde_json::to_vec(&server.submit(&probe)?)?.len();
    let pad = 4096;
    let big_count = (sc.ingest_envelopes / 10).max(100);
    let big_bodies = load::bodies(&envelopes::builds(&keys, 1 << 36, big_count, pad)?);
    let (big, big_rss, big_cpu) = ingest_sampled(
        ctx.generator,
        &server,
        &big_bodies,
        sc.ingest_clients,
        sc.ingest_secs.div_ceil(4),
    )?;
    server.stop()?;

    // The floor (floor.rs): the same load against a server that only parses and
    // checks signatures, answering receipt-sized bodies.
    let floor_server = Server::start_floor(&ctx.work.join("floor"), receipt_bytes)?;
    let (floor, floor_rss, floor_cpu) = ingest_sampled(
        ctx.generator,
        &floor_server,
        &bodies,
        sc.ingest_clients,
        sc.ingest_secs.div_ceil(4),
    )?;
    floor_server.stop()?;
    let sample = &bodies[..bodies.len().min(2_000)];
    let signature_us = crate::floor::signature_check_us(sample)?;

    // The same load against PostgreSQL, on an emptied database.
    let pg = match &ctx.postgres {
        Some(url) => Some(ingest_postgres(ctx, url, &bodies)?),
        None => None,
    };

    rep.section(&format!(
        "ingestion over HTTP ({} concurrent loopback clients, 100 ms batches, durable)",
        sc.ingest_clients
    ));
    rep.note(format!(
        "Envelopes were pre-signed ({} in {sign_secs:.1} s, not timed) by 16 builder keys the \
         quickstart operator registered. {} Each submitter keeps one keep-alive connection and \
         has one envelope in flight (a closed loop, so entries/s ≤ submitters ÷ latency); a \
         submission succeeds on `201` after the batch's commit, and every other answer is \
         counted under failures. Generator CPU = the harness process's CPU time during the \
         load ÷ requests sent: what the load cost the machine the server runs on. \
         Server flags: `{}`.",
        sc.ingest_envelopes,
        generator_note(ctx.generator),
        flags.join(" ")
    ));
    let nproc = ctx.nproc as f64;
    let row = |label: &str, r: &LoadResult, rss: u64, entry: f64, cpu: f64| {
        let per_entry = cpu / r.ok.max(1) as f64;
        vec![
            label.to_string(),
            format!("{}", r.ok),
            format!("{:.1}", r.elapsed.as_secs_f64()),
            format!("{:.0}", r.per_sec()),
            format!("{}/s", size(r.ok_bytes as f64 / r.elapsed.as_secs_f64())),
            format!("{:.1}", r.p50_ms),
            format!("{:.1}", r.p99_ms),
            format!("{:.0}", rss as f64 / 1024.0),
            failures(r),
            size(entry),
            format!(
                "{:.2} ({:.0} µs/entry)",
                cpu / r.elapsed.as_secs_f64(),
                per_entry * 1e6
            ),
            format!("{:.0}", nproc / per_entry.max(1e-9)),
            format!(
                "{:.0} ({:.2} cores)",
                r.gen_cpu_us_per_request(),
                r.gen_cpu_secs / r.elapsed.as_secs_f64().max(1e-9)
            ),
        ]
    };
    rep.table(
        &[
            "run",
            "accepted",
            "seconds",
            "entries/s",
            "bytes/s",
            "p50 ms",
            "p99 ms",
            "server peak RSS MiB",
            "failures",
            "mean entry",
            "server CPU cores busy",
            "entries/s if the server had every core",
            "generator CPU µs/request (cores busy)",
        ],
        &[
            row("small entries", &main, peak_rss, mean_entry, main_cpu),
            row(
                &format!("entries padded by {pad} B"),
                &big,
                big_rss,
                big.ok_bytes as f64 / big.ok.max(1) as f64,
                big_cpu,
            ),
            row(
                "floor: small entries, HTTP + envelope parse + signature check only",
                &floor,
                floor_rss,
                mean_entry,
                floor_cpu,
            ),
        ],
    );
    let per_entry_us = |cpu: f64, r: &LoadResult| cpu / r.ok.max(1) as f64 * 1e6;
    let (log_us, floor_us) = (
        per_entry_us(main_cpu, &main),
        per_entry_us(floor_cpu, &floor),
    );
    rep.note(format!(
        "The floor row is the same generator and envelopes against `glassbox-bench floor-server` \
         (bench/src/floor.rs): axum on the same runtime, the envelope parsed and its signatures \
         checked with the log's strict Ed25519 check, a {receipt_bytes}-byte answer (a real \
         receipt's size), nothing sequenced, stored or proved. It bounds what any log on this \
         stack and machine could sustain. Server CPU per entry: the log {log_us:.0} µs, the \
         floor {floor_us:.0} µs, so the log's own work (statement checks, sequencing, durable \
         storage, Merkle tree, receipts) costs {:.0} µs per entry. The strict signature check \
         alone, in this process on one core: {signature_us:.1} µs per envelope. At 10,000 \
         entries/s the two cores give the server and the generator 200 µs per entry together; \
         the generator took {:.0} µs per request in the main run.",
        log_us - floor_us,
        main.gen_cpu_us_per_request(),
    ));
    backend_table(
        rep,
        &BackendRun {
            result: main.clone(),
            rss_kib: peak_rss,
            cpu_secs: main_cpu,
        },
        pg.as_ref(),
    );
    rep.note(format!(
        "Storage after the first run (clean shutdown, WAL folded in): {} for {} accepted entries \
         of {} raw envelope bytes = {:.2}× raw, {:.0} bytes per entry beyond 1.5× raw.",
        size(stored),
        main.ok,
        size(raw),
        stored / raw,
        (stored - 1.5 * raw) / main.ok as f64
    ));
    rep.target(Target::at_least(
        "ingestion: entries/s",
        main.per_sec(),
        10_000.0,
    ));
    rep.target(Target::at_least(
        "ingestion: seconds sustained",
        main.elapsed.as_secs_f64(),
        60.0,
    ));
    rep.target(Target::at_most(
        "ingestion: p99 submit latency (ms)",
        main.p99_ms,
        500.0,
    ));
    rep.target(Target::at_most(
        "server RSS under ingestion (MB)",
        peak_rss as f64 * 1024.0 / 1e6,
        200.0,
    ));
    rep.target(Target::at_most(
        "storage: bytes per entry beyond 1.5× raw",
        (stored - 1.5 * raw) / main.ok as f64,
        64.0,
    ));
    Ok(())
}

/// The main ingestion load on one storage backend.
struct BackendRun {
    result: LoadResult,
    rss_kib: u64,
    cpu_secs: f64,
}

/// The URL with any password replaced by `***`, for the report.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.split_once('@') {
        Some(p) => p,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Empty the PostgreSQL database for a fresh log: `DROP SCHEMA public CASCADE`
/// with `psql`, or else a new database per run with `createdb` (the URL of the
/// database to use is returned). The server creates its schema on first start.
fn empty_postgres(url: &str) -> Result<String> {
    let psql = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .stdout(std::process::Stdio::null())
        .status();
    match psql {
        Ok(s) if s.success() => return Ok(url.to_string()),
        Ok(s) => bail!("psql could not empty {}: {s}", redact_url(url)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("running psql"),
    }
    // No psql: a fresh database named after the given one, this process and the time.
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path = scheme_end
        + url[scheme_end..]
            .find('/')
            .with_context(|| format!("no database name in {}", redact_url(url)))?;
    let query = url[path..].find('?').map_or(url.len(), |i| path + i);
    let name = format!(
        "{}_bench_{}_{}",
        &url[path + 1..query],
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    let status = std::process::Command::new("createdb")
        .arg(format!("--maintenance-db={url}"))
        .arg(&name)
        .status()
        .context("neither psql nor createdb on PATH: cannot empty the PostgreSQL database")?;
    if !status.success() {
        bail!("createdb {name} failed: {status}");
    }
    Ok(format!("{}/{name}{}", &url[..path], &url[query..]))
}

/// The main ingestion load (same envelopes, clients and duration) against a
/// server on PostgreSQL.
fn ingest_postgres(ctx: &Ctx, url: &str, bodies: &Arc<[Bytes]>) -> Result<BackendRun> {
    let sc = &ctx.scale;
    let url = empty_postgres(url)?;
    let data = ctx.work.join("ingest-data-pg");
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    let mut flags = load_flags(sc.ingest_clients);
    flags.extend(["--storage".to_string(), url]);
    let server = start(ctx, &data, &flags)?;
    register_builders(&server, crate::floor::BUILDER_KEYS)?;
    let (result, rss_kib, cpu_secs) = ingest_sampled(
        ctx.generator,
        &server,
        bodies,
        sc.ingest_clients,
        sc.ingest_secs,
    )?;
    server.stop()?;
    if result.ok == 0 {
        bail!(
            "no submission succeeded on PostgreSQL: {}",
            failures(&result)
        );
    }
    Ok(BackendRun {
        result,
        rss_kib,
        cpu_secs,
    })
}

/// One row per storage backend for the main load, and PostgreSQL ÷ SQLite.
fn backend_table(rep: &mut Report, sqlite: &BackendRun, pg: Option<&BackendRun>) {
    let cells = |name: &str, b: &BackendRun| {
        let r = &b.result;
        vec![
            name.to_string(),
            format!("{}", r.ok),
            format!("{:.0}", r.per_sec()),
            format!("{:.1}", r.p50_ms),
            format!("{:.1}", r.p99_ms),
            format!("{:.0}", b.rss_kib as f64 / 1024.0),
            format!("{:.0}", b.cpu_secs / r.ok.max(1) as f64 * 1e6),
            failures(r),
        ]
    };
    let mut rows = vec![cells("SQLite", sqlite)];
    if let Some(p) = pg {
        rows.push(cells("PostgreSQL", p));
        let (s, q) = (&sqlite.result, &p.result);
        let cpu = |b: &BackendRun| b.cpu_secs / b.result.ok.max(1) as f64;
        rows.push(vec![
            "PostgreSQL ÷ SQLite".into(),
            format!("{:.2}×", ratio(q.ok as f64, s.ok as f64)),
            format!("{:.2}×", ratio(q.per_sec(), s.per_sec())),
            format!("{:.2}×", ratio(q.p50_ms, s.p50_ms)),
            format!("{:.2}×", ratio(q.p99_ms, s.p99_ms)),
            format!("{:.2}×", ratio(p.rss_kib as f64, sqlite.rss_kib as f64)),
            // CPU comes in clock ticks: a run too short to register one has no ratio.
            if sqlite.cpu_secs > 0.0 && p.cpu_secs > 0.0 {
                format!("{:.2}×", ratio(cpu(p), cpu(sqlite)))
            } else {
                "–".into()
            },
            "–".into(),
        ]);
    }
    rep.table(
        &[
            "storage backend (small entries)",
            "accepted",
            "entries/s",
            "p50 ms",
            "p99 ms",
            "server peak RSS MiB",
            "server CPU µs/entry",
            "failures",
        ],
        &rows,
    );
    if pg.is_some() {
        rep.note(
            "PostgreSQL: the same pre-signed envelopes, clients, duration and flags against a \
             `glassbox-server --storage <URL>` on a database emptied before the run (the server \
             created its schema). RSS and CPU are the `glassbox-server` process only; the \
             PostgreSQL server's own processes are not counted.",
        );
    } else {
        rep.note("PostgreSQL: not measured (pass --postgres URL).");
    }
}

/// One log size's read measurements.
struct ReadPoint {
    size: u64,
    seed_secs: f64,
    healthy_ms: f64,
    checkpoint_ms: f64,
    /// From the first `/healthz` to the server idle, its index loaded.
    settle_secs: f64,
    /// Inclusion proofs from a freshly started server.
    proofs: LoadResult,
    /// Inclusion proofs at other indices right after `proofs`.
    warm: LoadResult,
    tiles: LoadResult,
    bundles: LoadResult,
    append: Option<LoadResult>,
    /// Server CPU time per inclusion proof served, in µs (cold, warm).
    proof_cpu_us: f64,
    warm_cpu_us: f64,
}

/// Free space to leave on the work directory's file system when seeding.
const KEEP_FREE_BYTES: u64 = 15_000_000_000;

/// Bytes per entry assumed for a log too small to measure (docs/design.md's ~2.5 kB:
/// leaf, index rows, Merkle nodes).
const SEED_BYTES_PER_ENTRY: u64 = 2_600;

/// Bytes available to an unprivileged writer on the file system holding `path`.
#[allow(unsafe_code)]
fn free_bytes(path: &std::path::Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a NUL-terminated path and a zeroed struct for statvfs to fill.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut st) != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("statvfs {}", path.display()));
        }
        st
    };
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// The size of `server`'s newest checkpoint (the second line of its note).
fn logged_size(server: &Server) -> Result<u64> {
    let body = server.client.checkpoint()?;
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .with_context(|| format!("no tree size in the checkpoint {text:?}"))
}

/// Proofs and tiles over HTTP, cold start and appends at each of the log sizes.
pub fn reads(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let sc = &ctx.scale;
    let data = ctx.work.join("log-data");
    let flags = load_flags(sc.ingest_clients);
    let (builder, logged) = {
        let server = start(ctx, &data, &flags)?;
        let keys = register_builders(&server, 1)?;
        let logged = logged_size(&server)?;
        server.stop()?;
        (keys[0].clone(), logged)
    };
    let dur = Duration::from_secs(sc.read_secs);
    let mut points = Vec::new();
    let mut skipped = Vec::new();
    // Entries in the log so far: a `--work` directory from an earlier run may
    // hold a grown log already, and growing it costs only the entries it lacks.
    let mut grown = logged;
    for &target in &sc.log_sizes {
        // A log that would leave less than KEEP_FREE_BYTES free is not grown.
        let per_entry = if grown >= 10_000 {
            db_bytes(&data) / grown
        } else {
            SEED_BYTES_PER_ENTRY
        };
        let need = target.saturating_sub(grown) * per_entry;
        let free = free_bytes(&ctx.work)?;
        if free.saturating_sub(need) < KEEP_FREE_BYTES {
            eprintln!(
                "glassbox-bench: not growing the log to {target}: needs ~{}, {} free, {} to keep",
                size(need as f64),
                size(free as f64),
                size(KEEP_FREE_BYTES as f64)
            );
            skipped.push(format!(
                "{target} entries: needs ~{} at {} per entry, the file system has {} free and \
                 the harness keeps {} free",
                size(need as f64),
                size(per_entry as f64),
                size(free as f64),
                size(KEEP_FREE_BYTES as f64)
            ));
            continue;
        }
        let seed_secs = seed::grow(&data, target, &builder)?.as_secs_f64();
        grown = grown.max(target);
        let mut healthy = Vec::new();
        let mut checkpoint = Vec::new();
        for _ in 1..sc.coldstart_rounds {
            let s = start(ctx, &data, &flags)?;
            healthy.push(s.to_healthy.as_secs_f64() * 1e3);
            checkpoint.push(s.to_checkpoint.as_secs_f64() * 1e3);
            s.stop()?;
        }
        let server = start(ctx, &data, &flags)?;
        healthy.push(server.to_healthy.as_secs_f64() * 1e3);
        checkpoint.push(server.to_checkpoint.as_secs_f64() * 1e3);
        let size = target;
        // Reads are measured once the server has loaded its index in the
        // background (its cost is the "index load" figure).
        let settled = server.settle(Duration::from_secs(300))?;
        let cpu0 = server.cpu_secs();
        let proofs = load::read(ctx.generator, &server.url, sc.read_clients, dur, move |n| {
            format!(
                "/api/v1/proof/inclusion?index={}&size={size}",
                spread(n, size)
            )
        })?;
        let proof_cpu_us = (server.cpu_secs() - cpu0) / proofs.ok.max(1) as f64 * 1e6;
        // Again with other indices: the cache as the first run left it. A log of
        // 10^7 entries has 39,063 leaf tiles, so the cold run is mostly misses.
        let cpu0 = server.cpu_secs();
        let warm = load::read(ctx.generator, &server.url, sc.read_clients, dur, move |n| {
            format!(
                "/api/v1/proof/inclusion?index={}&size={size}",
                spread(n + (1 << 40), size)
            )
        })?;
        let warm_cpu_us = (server.cpu_secs() - cpu0) / warm.ok.max(1) as f64 * 1e6;
        // Full tiles, or the one partial tile of a log smaller than a tile.
        let (tiles_n, width) = if size >= 256 {
            (size / 256, 256)
        } else {
            (1, size as u16)
        };
        let tiles = load::read(ctx.generator, &server.url, sc.read_clients, dur, move |n| {
            let tile = Tile {
                level: 0,
                index: spread(n, tiles_n),
                width,
            };
            format!("/{}", TilePath::Hash(tile))
        })?;
        let bundles = load::read(ctx.generator, &server.url, sc.read_clients, dur, move |n| {
            format!(
                "/{}",
                TilePath::Entries {
                    index: spread(n, tiles_n),
                    width
                }
            )
        })?;
        // Appends on the big log: the cost of adding must not grow with the log.
        // Numbered from the entries logged so far, so a run on a `--work` log
        // from an earlier run submits new envelopes, not duplicates.
        let bodies = load::bodies(&envelopes::builds(
            std::slice::from_ref(&builder),
            (1 << 38) + grown,
            sc.ingest_envelopes / 4,
            0,
        )?);
        let append = load::ingest(
            ctx.generator,
            &server.url,
            bodies,
            sc.ingest_clients,
            Duration::from_secs(sc.ingest_secs.div_ceil(6)),
        )?;
        server.stop()?;
        grown += append.ok;
        // Back to exactly `target` is impossible (append-only): later sizes grow from here.
        points.push(ReadPoint {
            size,
            seed_secs,
            healthy_ms: median(&healthy),
            checkpoint_ms: median(&checkpoint),
            settle_secs: settled.as_secs_f64(),
            proofs,
            warm,
            tiles,
            bundles,
            append: Some(append),
            proof_cpu_us,
            warm_cpu_us,
        });
    }

    rep.section(&format!(
        "proofs, tiles and cold start by log size ({} concurrent readers, {} s per row)",
        sc.read_clients, sc.read_secs
    ));
    rep.note(format!(
        "Logs were grown through the server's storage API (`bench/src/seed.rs`: the \
         sequencer's batch write, 50,000 entries per transaction, envelopes signed on every \
         core while the previous chunk is written) and then served by a freshly started \
         `glassbox-server`. Indexes and tiles are spread over the whole log. {} Each reader \
         has one request in flight on its keep-alive connection; \"gen\" = the harness's own \
         CPU µs per request. Cold start = process spawn to the first `200` on `/healthz` and \
         on `/checkpoint` (median of the restarts); the server then loads its verifiable \
         index in the background, and reads are measured once it is idle (\"index \
         loaded\": seconds from ready to idle). The second proofs column asks other \
         indices right after the first, with the node cache as the first left it. \
         Appends = submissions over HTTP to the grown log ({} submitters).",
        generator_note(ctx.generator),
        sc.ingest_clients
    ));
    for s in &skipped {
        rep.note(format!("Not measured (disk): {s}."));
    }
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let per = |r: &LoadResult| {
                format!(
                    "{:.0} /s, p50 {:.2} ms, p99 {:.2} ms, gen {:.0} µs{}",
                    r.per_sec(),
                    r.p50_ms,
                    r.p99_ms,
                    r.gen_cpu_us_per_request(),
                    if r.failures.is_empty() {
                        String::new()
                    } else {
                        format!(", failures {}", failures(r))
                    }
                )
            };
            vec![
                format!("{}", p.size),
                format!("{:.1}", p.seed_secs),
                format!(
                    "{:.0} / {:.0}; idle after {:.1} s",
                    p.healthy_ms, p.checkpoint_ms, p.settle_secs
                ),
                per(&p.proofs),
                per(&p.warm),
                per(&p.tiles),
                per(&p.bundles),
                p.append.as_ref().map_or("–".into(), |a| {
                    format!(
                        "{:.0} /s, p99 {:.0} ms, failures {}",
                        a.per_sec(),
                        a.p99_ms,
                        failures(a)
                    )
                }),
                format!("{}", 64 - (p.size.max(2) - 1).leading_zeros()),
                format!(
                    "{:.0} µs → {:.0} /s; warm {:.0} µs → {:.0} /s",
                    p.proof_cpu_us,
                    ctx.nproc as f64 * 1e6 / p.proof_cpu_us.max(1e-9),
                    p.warm_cpu_us,
                    ctx.nproc as f64 * 1e6 / p.warm_cpu_us.max(1e-9)
                ),
            ]
        })
        .collect();
    rep.table(
        &[
            "log size",
            "seed s",
            "cold start ms (healthz / checkpoint); index loaded (server idle)",
            "inclusion proofs (just started)",
            "inclusion proofs (then, other indices)",
            "hash tiles",
            "entry tiles",
            "appends",
            "proof hashes ≤",
            "server CPU per proof → proofs/s if the server had every core",
        ],
        &rows,
    );
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        rep.target(Target::at_least(
            "inclusion proofs/s at the largest log",
            last.warm.per_sec(),
            20_000.0,
        ));
        rep.target(Target::at_least(
            "inclusion proofs/s at the largest log, just started",
            last.proofs.per_sec(),
            20_000.0,
        ));
        rep.target(Target::at_most(
            &format!("proof p50 latency, log {} ÷ log {}", last.size, first.size),
            last.proofs.p50_ms / first.proofs.p50_ms.max(1e-9),
            1.5,
        ));
        rep.target(Target::at_most(
            &format!("cold start to /checkpoint at {} entries (ms)", last.size),
            last.checkpoint_ms,
            1000.0,
        ));
    }
    Ok(())
}
