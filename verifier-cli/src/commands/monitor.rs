//! `glassbox monitor`: follow a log, prove it never rewrites history, check every new
//! entry's signatures against the registry at its position, and report the entries
//! touching what the user watches. The transparency of a log is only as good as the
//! monitors reading all of it; this is one.

mod fetch;
mod position;
mod round;
mod source;
mod witnesses;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::NoteVerifierKey;

use super::Outcome;
use crate::cli::MonitorArgs;
use crate::client::LogClient;
use crate::output;
use crate::state::StateDir;

use self::fetch::{HttpWitness, OnlineLog};
use self::round::{round, Report, Watches};
use self::source::{Trust, WitnessSource};
use self::witnesses::{WitnessCheck, WitnessStatus};

pub fn run(args: MonitorArgs) -> anyhow::Result<Outcome> {
    let trust = match (&args.policy, &args.log_vkey) {
        (Some(path), _) => {
            let policy = glassbox_keys::policy::load(path)?;
            Trust {
                log: NoteVerifierKey::parse(&policy.log.vkey).context("the policy's log vkey")?,
                witnesses: policy
                    .witnesses
                    .vkeys
                    .iter()
                    .map(|v| {
                        CosignatureVerifierKey::parse(v)
                            .with_context(|| format!("witness vkey {v:?}"))
                    })
                    .collect::<anyhow::Result<_>>()?,
                quorum: policy.witnesses.quorum,
            }
        }
        (None, Some(vkey)) => Trust {
            log: NoteVerifierKey::parse(vkey).with_context(|| format!("--log-vkey {vkey:?}"))?,
            witnesses: Vec::new(),
            quorum: 0,
        },
        (None, None) => anyhow::bail!("give --policy POLICY.toml or --log-vkey VKEY"),
    };
    let watches = Watches {
        repositories: args.watch_repository.clone(),
        keys: args
            .watch_key
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect(),
    };
    let state = StateDir::resolve(args.state.as_deref())?;
    let timeout = Duration::from_secs(args.server.timeout);
    let log = OnlineLog::new(LogClient::new(&args.server.url, timeout)?, timeout);
    let witness_sources = args
        .witnesses
        .iter()
        .map(|url| HttpWitness::new(url, timeout).map(|w| Box::new(w) as Box<dyn WitnessSource>))
        .collect::<anyhow::Result<Vec<_>>>()?;
    loop {
        let witnessing = WitnessCheck {
            witnesses: &witness_sources,
            max_age: args.witness_max_age,
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        match round(&log, &trust, &state, &watches, &witnessing) {
            Ok(report) => {
                if args.json {
                    // One object per line, so a long-running monitor's output is JSON lines.
                    output::print(&format!("{}\n", serde_json::to_string(&report)?))?;
                } else {
                    print_report(&report, trust.log.name())?;
                }
                for dir in &report.evidence {
                    eprintln!(
                        "glassbox: split view: both checkpoints are saved in {}",
                        dir.display()
                    );
                }
                if !report.problems.is_empty() {
                    return Ok(Outcome::VerificationFailed);
                }
            }
            Err(err) if !args.once => {
                // A server that is down for a while is not a reason to stop watching.
                eprintln!(
                    "glassbox: monitor round failed, retrying in {} s: {err:#}",
                    args.interval
                );
            }
            Err(err) => return Err(err),
        }
        if args.once {
            return Ok(Outcome::Success);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}

/// Watched entries, then one status line `checkpoint ORIGIN size N (read from M): …`,
/// one line per witness, each problem on a line starting `  ✗ ` and each warning on a
/// line starting `  ! `.
fn print_report(report: &Report, origin: &str) -> anyhow::Result<()> {
    let mut text = String::new();
    for line in &report.watched {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "checkpoint {origin} size {} (read from {}): {} new entries, {} reported, {}\n",
        report.size,
        report.previous_size,
        report.new_entries,
        report.watched.len(),
        if report.problems.is_empty() {
            "consistent".to_owned()
        } else {
            format!("{} PROBLEMS", report.problems.len())
        }
    ));
    for view in &report.witnesses {
        let status = match view.status {
            WitnessStatus::Current => "current",
            WitnessStatus::Behind => "behind",
            WitnessStatus::Stuck => "stuck",
            WitnessStatus::Ahead => "ahead",
            WitnessStatus::SplitView => "SPLIT VIEW",
            WitnessStatus::Empty => "empty",
            WitnessStatus::Unavailable => "unavailable",
        };
        text.push_str(&format!("witness {}: {status}", view.url));
        if let Some(size) = view.size {
            text.push_str(&format!(" size {size}"));
        }
        if let Some(at) = view.cosigned_at {
            let at = i64::try_from(at)
                .ok()
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map_or_else(|| at.to_string(), |t| t.to_rfc3339());
            text.push_str(&format!(" (cosigned at {at})"));
        }
        text.push('\n');
    }
    for problem in &report.problems {
        text.push_str(&format!("  ✗ {}\n", problem.replace(['\n', '\r'], " ")));
    }
    for warning in &report.warnings {
        text.push_str(&format!("  ! {}\n", warning.replace(['\n', '\r'], " ")));
    }
    for dir in &report.evidence {
        text.push_str(&format!("  evidence saved in {}\n", dir.display()));
    }
    output::print(&text)
}
