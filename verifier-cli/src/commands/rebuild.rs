//! `glassbox rebuild`: run a build recipe against a fresh checkout and say whether it
//! reproduces (docs/design.md §6 step 6, as a command of its own).

mod vary;

use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

use crate::cli::RebuildArgs;
use crate::commands::Outcome;
use crate::output;
use crate::rebuild::{
    self, DiffoscopeOutcome, Divergence, RebuildReport, RebuildRequest, ToolComparison,
};

pub fn run(args: RebuildArgs) -> anyhow::Result<Outcome> {
    let recipe = args.recipe.to_recipe()?;
    let request = RebuildRequest {
        source: args.source.clone(),
        rev: args.rev.clone(),
        expected_dir_hash: args.expect_dir_hash.clone(),
        expected_git_tree: args.expect_git_tree.clone(),
        recipe,
        recorded_toolchain: args.expect_tools.clone(),
        expected: args.expect,
        timeout: Duration::from_secs(args.timeout),
        max_output_bytes: args.max_output_bytes,
        attested_artifact: args.attested.clone(),
        work_dir: args.scratch.clone(),
        sandbox: args.sandbox()?,
        max_processes: args.max_processes,
        max_disk_bytes: args.max_disk_bytes,
        variation: None,
    };
    if args.vary {
        return vary::run(&args, request);
    }
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
        "sandboxed": report.sandboxed,
        "builtAt": report.built_at,
        "divergence": report.divergence.as_ref().map(divergence_json),
        "toolchain": report.toolchain.iter().map(tool_json).collect::<Vec<_>>(),
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
        Divergence::OutputTooLarge { limit }
        | Divergence::TooManyProcesses { limit }
        | Divergence::DiskFull { limit } => json!({"limit": limit}),
        Divergence::OutputMissing { path } => json!({"path": path}),
        Divergence::BuildDependencies { missing } => json!({"missing": missing
            .iter()
            .map(|m| json!({"package": m.package, "recorded": m.wanted, "installed": m.installed}))
            .collect::<Vec<_>>()}),
        Divergence::Toolchain {
            differs,
            expected,
            actual,
        } => json!({
            "differs": differs.iter().map(tool_json).collect::<Vec<_>>(),
            "expected": expected.to_string(),
            "actual": actual.to_string(),
        }),
        Divergence::OutputHash { expected, actual } => {
            json!({"expected": expected.to_string(), "actual": actual.to_string()})
        }
    };
    if let (Some(obj), Value::Object(extra)) = (value.as_object_mut(), extra) {
        obj.extend(extra);
    }
    value
}

/// A recorded tool next to this machine's, as data.
pub fn tool_json(t: &ToolComparison) -> Value {
    json!({
        "name": t.recorded.name,
        "same": t.same(),
        "recorded": t.recorded,
        "here": t.here,
    })
}

/// The report for people: a toolchain that is not the recorded one first (it decides
/// how to read everything after it), what was built, then the verdict or where it
/// diverged.
pub fn report_text(report: &RebuildReport, had_expectation: bool) -> String {
    let mut out = String::new();
    for tool in report.toolchain.iter().filter(|t| !t.same()) {
        out.push_str(&format!("TOOLCHAIN DIFFERS: {tool}\n"));
    }
    out.push_str(&format!(
        "source: commit {} tree {} dirHash {}\n",
        report.git_commit, report.git_tree, report.dir_hash
    ));
    match (&report.built_at, report.sandboxed) {
        (Some(path), true) => out.push_str(&format!("built at {path} in the sandbox\n")),
        (Some(path), false) => out.push_str(&format!(
            "built WITHOUT the sandbox (--no-sandbox) at {path}: the recipe could reach \
             the network and your files, and any build path it records was not used\n"
        )),
        (None, _) => {}
    }
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
