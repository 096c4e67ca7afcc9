//! `glassbox monitor`: follow a log, prove it never rewrites history, check every new
//! entry's signatures against the registry at its position, and report the entries
//! touching what the user watches. The transparency of a log is only as good as the
//! monitors reading all of it; this is one.

mod position;
mod round;

use std::time::Duration;

use anyhow::Context;
use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::NoteVerifierKey;

use super::Outcome;
use crate::cli::MonitorArgs;
use crate::client::LogClient;
use crate::output;
use crate::state::StateDir;

use self::round::{round, Report, Trust, Watches};

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
    let client = LogClient::new(&args.server.url, Duration::from_secs(args.server.timeout))?;
    loop {
        match round(&client, &trust, &state, &watches) {
            Ok(report) => {
                print_report(&report, trust.log.name())?;
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
/// then each problem on a line starting `  ✗ `.
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
    for problem in &report.problems {
        text.push_str(&format!("  ✗ {}\n", problem.replace(['\n', '\r'], " ")));
    }
    if let Some(dir) = &report.evidence {
        text.push_str(&format!("  evidence saved in {}\n", dir.display()));
        eprintln!(
            "glassbox: split view: both checkpoints and the proof are saved in {}",
            dir.display()
        );
    }
    output::print(&text)
}
