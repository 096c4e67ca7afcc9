//! `glassbox rebuild`: run a build recipe against a fresh checkout and say whether it
//! reproduces (DESIGN §6 step 6, as a command of its own).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use glassbox_core::digest::Sha256Digest;

use crate::cli::RecipeArgs;
use crate::commands::Outcome;
use crate::output;
use crate::rebuild::{self, DiffoscopeOutcome, Divergence, RebuildReport, RebuildRequest};

/// Default wall-clock limit of a rebuild, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 3600;
/// Default largest output (and largest file the build may write): 4 GiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 4 << 30;

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Local repository path, or an https:// or file:// git URL.
    #[arg(long, value_name = "PATH|URL")]
    pub source: String,
    /// Commit (or branch, tag) to build.
    #[arg(long, value_name = "REV")]
    pub rev: String,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Attested artifact digest; without it the output is built and reported.
    #[arg(long, value_name = "sha256:HEX")]
    pub expect: Option<Sha256Digest>,
    /// Attested dirHash of the source, checked before the command runs.
    #[arg(long, value_name = "HEX")]
    pub expect_dir_hash: Option<String>,
    /// Attested gitTree (the commit's root tree ID), checked before the command runs;
    /// it binds file modes, symbolic links and submodule pins, which dirHash omits.
    #[arg(long, value_name = "TREE", value_parser = parse_git_id)]
    pub expect_git_tree: Option<String>,
    /// The attested artifact file: diffoscope compares it with the output when they differ.
    #[arg(long, value_name = "FILE")]
    pub attested: Option<PathBuf>,
    /// Time limit of the build command in seconds; the whole process group is killed after it.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Largest output, and largest file the build may write, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT_BYTES)]
    pub max_output_bytes: u64,
    /// Scratch directory (created if missing, must be empty, kept) instead of a
    /// temporary one (removed when the build reproduces).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RebuildArgs) -> anyhow::Result<Outcome> {
    let recipe = args.recipe.to_recipe()?;
    let request = RebuildRequest {
        source: args.source.clone(),
        rev: args.rev.clone(),
        expected_dir_hash: args.expect_dir_hash.clone(),
        expected_git_tree: args.expect_git_tree.clone(),
        recipe,
        expected: args.expect,
        timeout: Duration::from_secs(args.timeout),
        max_output_bytes: args.max_output_bytes,
        attested_artifact: args.attested.clone(),
        work_dir: args.scratch.clone(),
    };
    let report = rebuild::rebuild(&request)
        .with_context(|| format!("rebuilding {} at {}", args.source, args.rev))?;
    if args.json {
        output::print_json(&report_json(&report, args.expect.is_some()))?;
    } else {
        output::print(&report_text(&report, args.expect.is_some()))?;
    }
    Ok(if report.reproduced() {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}

/// A git object ID as a statement carries one (DESIGN §2): 40 hex digits in a SHA-1
/// repository, 64 in a SHA-256 one; any case.
fn parse_git_id(value: &str) -> Result<String, String> {
    if matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_owned())
    } else {
        Err("expected a git tree ID: 40 or 64 hex digits".to_owned())
    }
}

/// The report as data; `status` is `reproduced`, `built` (no expectation) or `diverged`.
pub fn report_json(report: &RebuildReport, had_expectation: bool) -> Value {
    let status = match (&report.divergence, had_expectation) {
        (Some(_), _) => "diverged",
        (None, true) => "reproduced",
        (None, false) => "built",
    };
    json!({
        "status": status,
        "gitCommit": report.git_commit,
        "gitTree": report.git_tree,
        "dirHash": report.dir_hash,
        "output": report.output.map(|d| d.to_string()),
        "scratchDir": report.scratch_dir,
        "divergence": report.divergence.as_ref().map(divergence_json),
        "diffoscope": report.diffoscope.as_ref().map(|d| match d {
            DiffoscopeOutcome::Report(path) => json!({"report": path}),
            DiffoscopeOutcome::NotInstalled { hint } => json!({"notInstalled": hint}),
            DiffoscopeOutcome::Failed(message) => json!({"failed": message}),
        }),
    })
}

fn divergence_json(d: &Divergence) -> Value {
    let mut value = json!({"stage": d.code(), "message": d.to_string()});
    let extra = match d {
        Divergence::SourceHash { expected, actual }
        | Divergence::SourceTree { expected, actual } => {
            json!({"expected": expected, "actual": actual})
        }
        Divergence::SourceSymlink {
            path,
            target,
            escape,
        } => json!({"path": path, "target": target, "reason": escape.code()}),
        Divergence::BuildFailed {
            status,
            stderr_tail,
        } => json!({"exitStatus": status, "stderrTail": stderr_tail}),
        Divergence::TimedOut { seconds } => json!({"seconds": seconds}),
        Divergence::OutputTooLarge { limit } => json!({"limit": limit}),
        Divergence::OutputMissing { path } => json!({"path": path}),
        Divergence::OutputHash { expected, actual } => {
            json!({"expected": expected.to_string(), "actual": actual.to_string()})
        }
    };
    if let (Some(obj), Value::Object(extra)) = (value.as_object_mut(), extra) {
        obj.extend(extra);
    }
    value
}

/// The report for people: what was built, then the verdict or where it diverged.
pub fn report_text(report: &RebuildReport, had_expectation: bool) -> String {
    let mut out = format!(
        "source: commit {} tree {} dirHash {}\n",
        report.git_commit, report.git_tree, report.dir_hash
    );
    if let Some(output) = report.output {
        out.push_str(&format!("output: {output}\n"));
    }
    match &report.divergence {
        None if had_expectation => out.push_str("reproduced: the output matches the attestation\n"),
        None => out.push_str("built (no --expect given, nothing compared)\n"),
        Some(d) => {
            out.push_str(&format!("DIVERGED ({}): {d}\n", d.code()));
            if let Divergence::BuildFailed { stderr_tail, .. } = d {
                if !stderr_tail.trim().is_empty() {
                    out.push_str("last lines of the build's stderr:\n");
                    for line in stderr_tail
                        .lines()
                        .rev()
                        .take(20)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                    {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
            out.push_str(&format!(
                "scratch directory kept: {}\n",
                report.scratch_dir.display()
            ));
        }
    }
    match &report.diffoscope {
        Some(DiffoscopeOutcome::Report(path)) => {
            out.push_str(&format!("diffoscope report: {}\n", path.display()))
        }
        Some(DiffoscopeOutcome::NotInstalled { hint }) => out.push_str(&format!("{hint}\n")),
        Some(DiffoscopeOutcome::Failed(message)) => {
            out.push_str(&format!("diffoscope failed: {message}\n"))
        }
        None => {
            if let Some(Divergence::OutputHash { .. }) = report.divergence {
                out.push_str("pass --attested FILE to see where the outputs differ (diffoscope)\n");
            }
        }
    }
    out
}
