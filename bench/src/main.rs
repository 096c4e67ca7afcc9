//! `glassbox-bench`: measures the `glassbox` CLI and `glassbox-server` side by side
//! with their baselines, in one run on one machine, and writes the tables into
//! docs/performance.md (bench/README.md explains every row).
//!
//! It drives the release binaries that sit next to it in the target directory, so
//! build all three together:
//!
//! ```text
//! cargo build --release --locked -p glassbox-cli -p glassbox-server -p glassbox-bench
//! target/release/glassbox-bench all --out docs/performance.md
//! ```
//!
//! Every number in the report is a median of interleaved runs or a rate over a
//! bounded load; ratios are against baselines measured in the same run. Nothing
//! here asserts a wall-clock bound: a missed target is reported, not failed.

mod compare;
mod envelopes;
mod floor;
mod gen;
mod hashing;
mod hostile;
mod index;
mod load;
mod log;
mod measure;
mod release;
mod report;
mod seed;
mod server;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

use crate::report::Report;

#[derive(Parser)]
#[command(
    name = "glassbox-bench",
    about = "Glassbox performance harness (writes docs/performance.md)"
)]
struct Cli {
    /// What to measure.
    #[arg(value_enum, default_value = "all")]
    what: What,
    /// Input sizes and durations: `full` is the sizes the performance targets are set
    /// for (docs/performance.md), `smoke` runs in seconds (CI).
    #[arg(long, value_enum, default_value = "full")]
    scale: ScaleName,
    /// Markdown file to write (the generated block between its markers is replaced).
    #[arg(long, default_value = "docs/performance.md")]
    out: PathBuf,
    /// Directory holding glassbox and glassbox-server (default: next to this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Scratch directory for generated inputs and logs (default: a temporary directory, removed after).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Override: files in the release directory of the release verification row
    /// (its bytes scale with them).
    #[arg(long)]
    release_files: Option<usize>,
    /// Override: size of the hashed file in MiB.
    #[arg(long)]
    file_mib: Option<u64>,
    /// Override: log sizes for the proof rows, comma-separated.
    #[arg(long, value_delimiter = ',')]
    log_sizes: Vec<u64>,
    /// Override: key counts for the verifiable index rows, comma-separated.
    #[arg(long, value_delimiter = ',')]
    index_keys: Vec<u64>,
    /// Override: seconds of the main ingestion run.
    #[arg(long)]
    ingest_secs: Option<u64>,
    /// Override: seconds of each proofs and tiles row (default 5 at full scale; a
    /// 10^7-entry log's node cache takes longer than that to fill).
    #[arg(long)]
    read_secs: Option<u64>,
    /// Override: concurrent ingestion submitters, each with one request in flight
    /// (default 2048 at full scale: see bench/README.md).
    #[arg(long)]
    clients: Option<usize>,
    /// Override: concurrent readers for proofs and tiles (default 64 at full scale).
    #[arg(long)]
    readers: Option<usize>,
    /// Override: pre-signed envelopes for the main ingestion run (the run ends
    /// early if they run out).
    #[arg(long)]
    envelopes: Option<u64>,
    /// The load generator: `async` (one thread, one task per in-flight request)
    /// or `blocking` (one OS thread per in-flight request, the old generator,
    /// kept as a baseline for the generator's own CPU cost).
    #[arg(long, value_enum, default_value = "async")]
    generator: load::Generator,
    /// For `builds`: the directory holding an earlier build's glassbox-server
    /// (e.g. a worktree's target/release) to compare this build against.
    #[arg(long, value_name = "DIR")]
    against: Option<PathBuf>,
    /// For the internal `floor-server`: bytes in each answer.
    #[arg(long, default_value_t = 2600, hide = true)]
    response_bytes: usize,
    /// For `builds`: runs of each build.
    #[arg(long, default_value_t = 3)]
    against_rounds: usize,
    /// Also run the ingestion load against a glassbox-server on this PostgreSQL
    /// database (`--storage URL`). The bench EMPTIES it first (drops schema `public`).
    #[arg(long, env = "GLASSBOX_BENCH_POSTGRES", value_name = "URL")]
    postgres: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum What {
    All,
    Hash,
    /// Offline verification of one file (64 KiB and 1 GiB) and of a release directory.
    Verify,
    /// Only the release directory row of `verify`.
    Release,
    Ingest,
    /// Honest ingestion alone and under attack (slowloris, export non-readers,
    /// spoofed-key-ID and unregistered-signer floods), on fresh logs.
    Hostile,
    /// Proofs, tiles, cold start and appends at each log size (alias `log`).
    #[value(alias = "log")]
    Reads,
    /// The verifiable index in process: trie updates, lookup proofs, proof size.
    Index,
    /// This build's ingestion against an earlier build's (`--against DIR`), in
    /// alternating runs; not part of `all`.
    Builds,
    /// Internal: the ingestion floor server the `ingest` step starts (bench/src/floor.rs).
    #[value(hide = true)]
    FloorServer,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleName {
    Full,
    Smoke,
}

/// Sizes and durations of one run.
#[derive(Clone, Debug)]
pub struct Scale {
    pub file_bytes: u64,
    pub tree_files: usize,
    pub tree_bytes: u64,
    /// Files in the release directory `verify DIR` checks, and their total bytes.
    pub release_files: usize,
    pub release_bytes: u64,
    pub rounds: usize,
    pub ingest_secs: u64,
    pub ingest_envelopes: u64,
    pub ingest_clients: usize,
    pub read_secs: u64,
    pub read_clients: usize,
    pub log_sizes: Vec<u64>,
    pub coldstart_rounds: usize,
    /// Key counts for the verifiable index rows.
    pub index_keys: Vec<u64>,
}

impl Scale {
    fn full() -> Scale {
        Scale {
            file_bytes: 1 << 30,
            tree_files: 50_000,
            tree_bytes: 1_000_000_000,
            release_files: 10_000,
            release_bytes: 1_000_000_000,
            rounds: 5,
            ingest_secs: 60,
            // Enough for 60 s at ~16,000 entries/s; the seconds column shows a
            // run that ran out.
            ingest_envelopes: 1_000_000,
            // A closed loop gives entries/s ≤ submitters ÷ latency. With 100 ms
            // batches a submission takes 50–150 ms when the server keeps up, so
            // 10,000 entries/s needs ≥ 1,500 in flight; but when the server is
            // the bottleneck the mean latency IS submitters ÷ throughput, so more
            // than ~4,000 in flight would push p99 past 500 ms at exactly the
            // target rate. 2048 sits between: up to ~20,000/s at 100 ms, and
            // ~200 ms mean latency at 10,000/s.
            ingest_clients: 2048,
            read_secs: 5,
            // Enough to keep both server cores busy through the ~1 ms a read
            // takes on loopback, few enough that queueing stays small.
            read_clients: 64,
            log_sizes: vec![10_000, 1_000_000],
            coldstart_rounds: 3,
            // 10^7 keys hold ~1.2 GB of trie in memory for about two minutes.
            index_keys: vec![1_000_000, 10_000_000],
        }
    }

    fn smoke() -> Scale {
        Scale {
            file_bytes: 4 << 20,
            tree_files: 200,
            tree_bytes: 4_000_000,
            release_files: 50,
            release_bytes: 1_000_000,
            rounds: 1,
            ingest_secs: 2,
            ingest_envelopes: 400,
            ingest_clients: 16,
            read_secs: 1,
            read_clients: 4,
            log_sizes: vec![100, 1000],
            coldstart_rounds: 1,
            index_keys: vec![1000, 10_000],
        }
    }
}

/// What every measurement needs.
pub struct Ctx {
    pub bin_dir: PathBuf,
    pub work: PathBuf,
    pub scale: Scale,
    pub nproc: usize,
    /// Single-core SHA-256 bytes per second of this build.
    pub sha256_bps: f64,
    /// PostgreSQL database for the second ingestion run (`--postgres`).
    pub postgres: Option<String>,
    /// The load generator for every HTTP load.
    pub generator: load::Generator,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if cli.what == What::FloorServer {
        return floor::serve(cli.response_bytes);
    }
    let mut scale = match cli.scale {
        ScaleName::Full => Scale::full(),
        ScaleName::Smoke => Scale::smoke(),
    };
    if let Some(n) = cli.release_files {
        let n = n.max(1);
        scale.release_bytes = scale.release_bytes / scale.release_files as u64 * n as u64;
        scale.release_files = n;
    }
    if let Some(m) = cli.file_mib {
        scale.file_bytes = m << 20;
    }
    if !cli.log_sizes.is_empty() {
        scale.log_sizes = cli.log_sizes.clone();
    }
    if !cli.index_keys.is_empty() {
        scale.index_keys = cli.index_keys.clone();
    }
    if let Some(s) = cli.ingest_secs {
        scale.ingest_secs = s;
    }
    if let Some(s) = cli.read_secs {
        scale.read_secs = s.max(1);
    }
    if let Some(c) = cli.clients {
        scale.ingest_clients = c.max(1);
    }
    if let Some(c) = cli.readers {
        scale.read_clients = c.max(1);
    }
    if let Some(e) = cli.envelopes {
        scale.ingest_envelopes = e.max(1);
    }
    let bin_dir = match cli.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("binary directory")?
            .to_path_buf(),
    };
    let temp;
    let work = match cli.work {
        Some(w) => {
            std::fs::create_dir_all(&w)?;
            w
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("glassbox-bench")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let ctx = Ctx {
        bin_dir,
        work,
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        sha256_bps: hashing::sha256_bytes_per_sec(),
        scale,
        postgres: cli.postgres.clone(),
        generator: cli.generator,
    };

    let mut rep = Report::default();
    let started = Instant::now();
    let mut command = command_line(std::env::args().skip(1));
    if let Some(url) = &cli.postgres {
        command = command.replace(url.as_str(), &log::redact_url(url));
    }
    rep.header(&format!(
        "## Results\n\nGenerated by `{command}` ({} scale, {:?} load generator).\n\n{}\n\
         Single-core SHA-256 of this build, in memory: {}/s.\n",
        match cli.scale {
            ScaleName::Full => "full",
            ScaleName::Smoke => "smoke",
        },
        ctx.generator,
        report::machine(),
        report::size(ctx.sha256_bps)
    ));
    let step =
        |name: &str, rep: &mut Report, f: &dyn Fn(&Ctx, &mut Report) -> Result<()>| -> Result<()> {
            let t = Instant::now();
            eprintln!("glassbox-bench: {name}…");
            f(&ctx, rep).with_context(|| format!("measuring {name}"))?;
            eprintln!(
                "glassbox-bench: {name} done in {:.0} s",
                t.elapsed().as_secs_f64()
            );
            Ok(())
        };
    let all = cli.what == What::All;
    if all || cli.what == What::Hash {
        step("hash file", &mut rep, &hashing::hash_file)?;
        step("hash tree", &mut rep, &hashing::hash_tree)?;
    }
    if all || cli.what == What::Verify {
        step("verify", &mut rep, &hashing::verify)?;
    }
    if all || cli.what == What::Verify || cli.what == What::Release {
        step("verify release", &mut rep, &release::verify_release)?;
    }
    if all || cli.what == What::Ingest {
        step("ingestion", &mut rep, &log::ingest)?;
    }
    if all || cli.what == What::Hostile {
        step("hostile mix", &mut rep, &hostile::hostile)?;
    }
    if all || cli.what == What::Reads {
        step("proofs and tiles", &mut rep, &log::reads)?;
    }
    if all || cli.what == What::Index {
        step("verifiable index", &mut rep, &index::index)?;
    }
    if cli.what == What::Builds {
        let Some(earlier) = cli.against.clone() else {
            anyhow::bail!("`builds` needs --against DIR (an earlier build's target/release)");
        };
        step(
            "this build against an earlier one",
            &mut rep,
            &|ctx, rep| compare::builds(ctx, rep, &earlier, cli.against_rounds),
        )?;
    }
    rep.note(format!(
        "Whole run: {:.0} s; load average at the end: {}.",
        started.elapsed().as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    ));
    rep.write(&cli.out)?;
    eprintln!("glassbox-bench: wrote {}", cli.out.display());
    Ok(())
}

/// The command as a reader of the report would type it from the workspace root:
/// the binary's path on the measuring machine (its target directory, a home
/// folder) says nothing to them, so the report names the binary by the profile
/// it was built in.
fn command_line(args: impl Iterator<Item = String>) -> String {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    std::iter::once(format!("target/{profile}/glassbox-bench"))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod command_line_tests {
    use super::command_line;

    #[test]
    fn the_report_names_the_binary_by_profile_not_by_the_machine_path() {
        let args = ["all", "--out", "docs/performance.md"].map(String::from);
        let line = command_line(args.into_iter());
        assert!(line.starts_with("target/"), "{line}");
        assert!(
            line.ends_with("/glassbox-bench all --out docs/performance.md"),
            "{line}"
        );
    }
}
