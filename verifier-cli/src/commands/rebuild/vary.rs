//! `glassbox rebuild --vary`: build twice, the second time with what a build should
//! not depend on changed — scratch directory, time zone, locale, umask, hostname —
//! and say whether the bytes moved (reprotest's question, reproducible-builds.org),
//! before anyone attests them.
//!
//! What the recipe pins (its `environment`, build path, build dependencies) and
//! SOURCE_DATE_EPOCH are held; the wall clock is moved by more than a year through
//! libfaketime when Debian's `faketime` package is installed (and the report says it
//! was not varied when it is not). Both scratch directories are kept unless the
//! builds agree.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Value};

use super::{report_json, report_text};
use crate::cli::RebuildArgs;
use crate::commands::Outcome;
use crate::output;
use crate::rebuild::{
    self, DiffoscopeOutcome, RebuildReport, RebuildRequest, SandboxChoice, Variation, DEFAULT_UMASK,
};

/// Build `request` twice, the second time varied, and report.
pub fn run(args: &RebuildArgs, request: RebuildRequest) -> anyhow::Result<Outcome> {
    let (parent, temporary) = match &args.scratch {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            if std::fs::read_dir(dir)?.next().is_some() {
                anyhow::bail!("scratch directory {} is not empty", dir.display());
            }
            (std::fs::canonicalize(dir)?, None)
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("glassbox-vary-")
                .tempdir()
                .context("cannot create a scratch directory")?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let mut variation = Variation::standard();
    if args.vary_keep_clock {
        variation.faketime = None;
    }
    let mut first = request.clone();
    first.work_dir = Some(parent.join("first"));
    first.variation = None;
    let mut second = request.clone();
    second.work_dir = Some(parent.join("second-varied"));
    second.variation = Some(variation.clone());

    let context = || format!("rebuilding {} at {}", args.source, args.rev);
    let first = rebuild::rebuild(&first).with_context(context)?;
    let second = rebuild::rebuild(&second).with_context(context)?;

    let (varied, held) = describe(&request, &variation, &first, &second, args.vary_keep_clock);
    let status = match (
        &first.divergence,
        &second.divergence,
        first.output,
        second.output,
    ) {
        (None, None, Some(a), Some(b)) if a == b => "stable",
        (None, None, _, _) => "varies",
        _ => "diverged",
    };
    let diffoscope = match (status, &first.built_at) {
        ("varies", Some(_)) => Some(rebuild::diffoscope_compare(
            &output_file(&first, &request),
            &output_file(&second, &request),
            &parent.join("diffoscope.txt"),
        )),
        _ => None,
    };
    let kept = match temporary {
        Some(dir) if status == "stable" => {
            // Best effort, as for a single rebuild's temporary directory.
            let _ = dir.close();
            None
        }
        Some(dir) => Some(dir.keep()),
        None => Some(parent),
    };

    let had_expectation = request.expected.is_some();
    if args.json {
        output::print_json(&json!({
            "status": status,
            "varied": varied,
            "held": held,
            "first": report_json(&first, had_expectation),
            "second": report_json(&second, had_expectation),
            "diffoscope": diffoscope.as_ref().map(diffoscope_json),
            "scratchDir": kept,
        }))?;
    } else {
        let mut out = String::new();
        out.push_str("first build, in the recorded environment:\n");
        indent(&mut out, &report_text(&first, had_expectation));
        out.push_str("second build, varied:\n");
        indent(&mut out, &report_text(&second, had_expectation));
        out.push_str(&format!("varied: {}\n", varied.join("; ")));
        out.push_str(&format!("held: {}\n", held.join("; ")));
        out.push_str(match status {
            "stable" => "STABLE: both builds gave the same bytes\n",
            "varies" => "VARIES: the outputs differ, so something varied reaches them\n",
            _ => "DIVERGED: a build did not complete as recorded (see above)\n",
        });
        match &diffoscope {
            Some(DiffoscopeOutcome::Report(path)) => {
                out.push_str(&format!("diffoscope report: {}\n", path.display()))
            }
            Some(DiffoscopeOutcome::NotInstalled { hint }) => out.push_str(&format!("{hint}\n")),
            Some(DiffoscopeOutcome::Failed(message)) => {
                out.push_str(&format!("diffoscope failed: {message}\n"))
            }
            None => {}
        }
        if let Some(dir) = &kept {
            out.push_str(&format!("scratch directories kept in {}\n", dir.display()));
        }
        output::print(&out)?;
    }
    Ok(if status == "stable" {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}

/// What differed between the two builds, and what was held, for the report.
fn describe(
    request: &RebuildRequest,
    variation: &Variation,
    first: &RebuildReport,
    second: &RebuildReport,
    keep_clock: bool,
) -> (Vec<String>, Vec<String>) {
    let pinned: Vec<&str> = request
        .recipe
        .environment
        .iter()
        .flat_map(|env| env.keys().map(String::as_str))
        .collect();
    let sandboxed = request.sandbox != SandboxChoice::None;
    let mut varied = vec![format!(
        "scratch directory ({} → {})",
        first.scratch_dir.display(),
        second.scratch_dir.display()
    )];
    for (name, value) in &variation.env {
        if !pinned.contains(&name.as_str()) {
            varied.push(format!("{name} (unset → {value})"));
        }
    }
    if variation.faketime.is_some() {
        varied.push(format!(
            "the wall clock (now → now {}, through libfaketime)",
            rebuild::CLOCK_SHIFT
        ));
    }
    varied.push(format!(
        "umask ({DEFAULT_UMASK:03o} → {:03o})",
        variation.umask
    ));
    if sandboxed {
        varied.push(format!(
            "hostname ({} → {})",
            rebuild::DEFAULT_HOSTNAME,
            variation.hostname
        ));
    }
    let mut held = Vec::new();
    match (&first.built_at, sandboxed) {
        (Some(path), true) => held.push(format!("build path {path}")),
        _ => held
            .push("no build path: built without the sandbox, in each scratch directory".to_owned()),
    }
    held.push("SOURCE_DATE_EPOCH (the commit time)".to_owned());
    if !pinned.is_empty() {
        held.push(format!("the recipe's own {}", pinned.join(", ")));
    }
    held.push("this machine's toolchain and packages".to_owned());
    if keep_clock {
        held.push("the wall clock (--vary-keep-clock)".to_owned());
    } else if variation.faketime.is_none() {
        held.push(
            "the wall clock is not varied: install faketime (the Debian package) to vary it"
                .to_owned(),
        );
    }
    (varied, held)
}

/// The produced file of a build (the recipe's output path in its checkout).
fn output_file(report: &RebuildReport, request: &RebuildRequest) -> PathBuf {
    report
        .scratch_dir
        .join("source")
        .join(Path::new(&request.recipe.output_path))
}

fn diffoscope_json(d: &DiffoscopeOutcome) -> Value {
    match d {
        DiffoscopeOutcome::Report(path) => json!({"report": path}),
        DiffoscopeOutcome::NotInstalled { hint } => json!({"notInstalled": hint}),
        DiffoscopeOutcome::Failed(message) => json!({"failed": message}),
    }
}

fn indent(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str(&format!("    {line}\n"));
    }
}
