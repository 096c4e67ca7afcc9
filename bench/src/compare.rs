//! This build's ingestion against an earlier build's, on the same machine in the
//! same run: the two servers take turns (A B B A …) under the same pre-signed
//! load, each on a fresh log, so drift in what else the machine is doing lands on
//! both. The ratio of the medians is the figure to quote for a change; absolute
//! entries/s on a shared two-core machine move by ±15% between runs.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::envelopes;
use crate::load::{self, LoadResult};
use crate::log::{failures, ingest_sampled, load_flags, register_builders};
use crate::measure::median;
use crate::report::{ratio, Report};
use crate::server::Server;
use crate::Ctx;

/// One server build's runs: (load result, server CPU seconds, peak RSS KiB).
struct Runs {
    label: String,
    results: Vec<(LoadResult, f64, u64)>,
}

impl Runs {
    /// The median over the runs of `f(result, server CPU s, peak RSS KiB)`.
    fn median_of(&self, f: impl Fn(&LoadResult, f64, u64) -> f64) -> f64 {
        median(
            &self
                .results
                .iter()
                .map(|(r, cpu, rss)| f(r, *cpu, *rss))
                .collect::<Vec<_>>(),
        )
    }
    fn per_sec(&self) -> f64 {
        self.median_of(|r, _, _| r.per_sec())
    }
    fn cpu_us(&self) -> f64 {
        self.median_of(|r, cpu, _| cpu / r.ok.max(1) as f64 * 1e6)
    }
    fn rss_mib(&self) -> f64 {
        self.median_of(|_, _, rss| rss as f64 / 1024.0)
    }
    fn p99(&self) -> f64 {
        self.median_of(|r, _, _| r.p99_ms)
    }
}

/// `glassbox-bench builds --against DIR`: `rounds` runs of each build.
pub fn builds(ctx: &Ctx, rep: &mut Report, earlier: &Path, rounds: usize) -> Result<()> {
    let sc = &ctx.scale;
    if !earlier.join("glassbox-server").is_file() {
        bail!(
            "--against {}: no glassbox-server there (build the earlier commit with \
             `cargo build --release -p glassbox-server` and pass its target/release)",
            earlier.display()
        );
    }
    // A quarter of the main run per turn: long enough for a steady state.
    let secs = sc.ingest_secs.div_ceil(4).max(1);
    let flags = load_flags(sc.ingest_clients);
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let t = Instant::now();
    let keys: Vec<_> = (0..16).map(|i| envelopes::key(500 + i)).collect();
    let bodies = load::bodies(&envelopes::builds(&keys, 0, sc.ingest_envelopes, 0)?);
    let sign_secs = t.elapsed().as_secs_f64();
    let mut this = Runs {
        label: format!("this build ({})", ctx.bin_dir.display()),
        results: Vec::new(),
    };
    let mut before = Runs {
        label: format!("earlier build ({})", earlier.display()),
        results: Vec::new(),
    };
    for round in 0..rounds.max(1) {
        // A B, then B A: neither build always goes first.
        let order: [(&Path, bool); 2] = if round % 2 == 0 {
            [(&ctx.bin_dir, true), (earlier, false)]
        } else {
            [(earlier, false), (&ctx.bin_dir, true)]
        };
        for (bin_dir, is_this) in order {
            let data = ctx.work.join(format!("builds-{round}-{is_this}"));
            let server = Server::start(bin_dir, &data, &flag_refs)?;
            register_builders(&server, keys.len() as u64)?;
            let (result, rss, cpu) =
                ingest_sampled(ctx.generator, &server, &bodies, sc.ingest_clients, secs)?;
            server.stop()?;
            std::fs::remove_dir_all(&data)?;
            if result.ok == 0 {
                bail!("no submission succeeded: {}", failures(&result));
            }
            let runs = if is_this { &mut this } else { &mut before };
            runs.results.push((result, cpu, rss));
        }
    }

    rep.section("this build against an earlier build (ingestion, alternating runs)");
    rep.note(format!(
        "`--against`: {} rounds of {secs} s per build, the builds alternating (A B, B A, …), \
         each run on a fresh log with the main run's {} submitters, flags and {} pre-signed \
         envelopes (signed in {sign_secs:.1} s, not timed). Medians over the rounds; the ratio \
         row is this build ÷ the earlier one (entries/s: higher is better; CPU, p99 and RSS: lower).",
        rounds.max(1),
        sc.ingest_clients,
        sc.ingest_envelopes,
    ));
    let row = |r: &Runs| {
        vec![
            r.label.clone(),
            r.results
                .iter()
                .map(|(x, _, _)| format!("{:.0}", x.per_sec()))
                .collect::<Vec<_>>()
                .join(", "),
            format!("{:.0}", r.per_sec()),
            format!("{:.0}", r.cpu_us()),
            format!("{:.1}", r.p99()),
            format!("{:.0}", r.rss_mib()),
            r.results
                .iter()
                .map(|(x, _, _)| failures(x))
                .find(|f| f != "none")
                .unwrap_or_else(|| "none".into()),
        ]
    };
    rep.table(
        &[
            "server",
            "entries/s per run",
            "median entries/s",
            "median server CPU µs/entry",
            "median p99 ms",
            "median server peak RSS MiB",
            "failures",
        ],
        &[
            row(&this),
            row(&before),
            vec![
                "this ÷ earlier".into(),
                "–".into(),
                format!("{:.2}×", ratio(this.per_sec(), before.per_sec())),
                format!("{:.2}×", ratio(this.cpu_us(), before.cpu_us())),
                format!("{:.2}×", ratio(this.p99(), before.p99())),
                format!("{:.2}×", ratio(this.rss_mib(), before.rss_mib())),
                "–".into(),
            ],
        ],
    );
    Ok(())
}
