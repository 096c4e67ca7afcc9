//! docs/design.md §6 step 6 inside `verify --rebuild`: re-run the recipe of a counted build,
//! from the source it names, and compare the output with the file being verified.
//!
//! The outcome goes back into the engine ([`LocalRebuild`]): a reproduction counts as
//! one independent builder — the customer — so one vendor build plus the customer's own
//! rebuild can meet `[builders] min = 2`; a divergence is the failure `rebuildDiverged`.
//! A rebuild is attempted only when nothing but the builder quorum stands between the
//! evidence and a verdict: rebuilding cannot cure a rejection or a forged proof.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, Build};
use glassbox_core::verify::{Failure, LocalRebuild, RebuildOutcome, Verdict};
use serde_json::{json, Value};

use super::render::Extra;
use crate::rebuild::{rebuild, DiffoscopeOutcome, RebuildRequest};
use crate::rebuild::{
    SandboxChoice, DEFAULT_MAX_DISK_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_PROCESSES,
    DEFAULT_TIMEOUT_SECS,
};

/// What the rebuild added to the report.
pub struct Rebuilt {
    /// What the engine is told.
    pub local: LocalRebuild,
    /// Report lines (`rebuilt`, `diffoscope`).
    pub lines: Vec<Extra>,
    /// The same as data, for `--json`.
    pub json: Value,
}

/// The counted build whose recipe to re-run, or why no rebuild is attempted.
pub fn candidate(verdict: &Verdict) -> Result<u64, String> {
    let blocking = verdict.failures.iter().find(|f| {
        !matches!(
            f,
            Failure::TooFewBuilders { .. } | Failure::TooFewIndependentBuilders { .. }
        )
    });
    if let Some(failure) = blocking {
        return Err(format!("a rebuild cannot cure this: {failure}"));
    }
    verdict
        .builds
        .iter()
        .find(|b| !b.local)
        .map(|b| b.index)
        .ok_or_else(|| "no counted build to take the recipe from".to_owned())
}

/// Rebuilds with the recipe of build entry `index` from `source` and compares the
/// output with `artifact` (the file at `artifact_path`). For a build with several
/// subjects the recipe's output path is the directory holding them, and the file
/// compared is the subject whose digest is the artifact's (its name is its path
/// relative to that directory).
pub fn rebuild_entry(
    bundle: &Bundle,
    index: u64,
    source: &str,
    artifact: Sha256Digest,
    artifact_path: &Path,
    sandbox: SandboxChoice,
) -> anyhow::Result<Rebuilt> {
    let build = build_at(bundle, index)?;
    let Some(src) = build.source() else {
        return Ok(not_run(index, String::new(), "the build names no source"));
    };
    let dir_hash = src.digest.dir_hash.clone();
    let Some(rev) = src.digest.git_commit.clone() else {
        return Ok(not_run(
            index,
            dir_hash,
            "the attested source has no gitCommit to check out; only its dirHash is known",
        ));
    };
    let mut recipe = build.recipe().clone();
    if build.subjects.len() > 1 {
        let Some(subject) = build.subjects.iter().find(|s| s.sha256 == artifact) else {
            return Ok(not_run(
                index,
                dir_hash,
                "no subject of the build is this artifact",
            ));
        };
        recipe.output_path = format!(
            "{}/{}",
            recipe.output_path.trim_end_matches('/'),
            subject.name
        );
    }
    let request = RebuildRequest {
        source: source.to_owned(),
        rev: rev.clone(),
        expected_dir_hash: Some(dir_hash.clone()),
        expected_git_tree: src.digest.git_tree.clone(),
        timeout: Duration::from_secs(recipe.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        recipe,
        recorded_toolchain: build.toolchain(),
        expected: Some(artifact),
        max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        attested_artifact: Some(artifact_path.to_path_buf()),
        work_dir: None,
        sandbox,
        max_processes: DEFAULT_MAX_PROCESSES,
        max_disk_bytes: DEFAULT_MAX_DISK_BYTES,
        variation: None,
    };
    let report = rebuild(&request).with_context(|| format!("rebuilding {source} at {rev}"))?;
    let mut lines = Vec::new();
    if !report.sandboxed && report.built_at.is_some() {
        lines.push(Extra {
            label: "rebuilt",
            text: "WITHOUT the sandbox (--no-sandbox): the recipe could reach the network and \
                   your files, and ran in the scratch directory, not at its build path"
                .to_owned(),
        });
    }
    for tool in report.toolchain.iter().filter(|t| !t.same()) {
        lines.push(Extra {
            label: "toolchain",
            text: format!("DIFFERS from the recorded one: {tool}"),
        });
    }
    let outcome = match &report.divergence {
        None => {
            lines.push(Extra {
                label: "rebuilt",
                text: format!(
                    "commit {} dirHash {} with the recipe of entry {index}: reproduced {artifact} (counted as one independent builder: you)",
                    report.git_commit, report.dir_hash
                ),
            });
            RebuildOutcome::Reproduced
        }
        Some(divergence) => {
            lines.push(Extra {
                label: "rebuilt",
                text: format!(
                    "diverged ({}); scratch directory kept: {}",
                    divergence.code(),
                    report.scratch_dir.display()
                ),
            });
            RebuildOutcome::Diverged {
                stage: divergence.code().to_owned(),
                detail: divergence.to_string(),
            }
        }
    };
    let diffoscope = match &report.diffoscope {
        Some(DiffoscopeOutcome::Report(path)) => {
            lines.push(Extra {
                label: "diffoscope",
                text: format!("report saved in {}", path.display()),
            });
            json!({"report": path})
        }
        Some(DiffoscopeOutcome::NotInstalled { hint }) => {
            lines.push(Extra {
                label: "diffoscope",
                text: format!("not installed: {hint}"),
            });
            json!({"notInstalled": hint})
        }
        Some(DiffoscopeOutcome::Failed(message)) => {
            lines.push(Extra {
                label: "diffoscope",
                text: format!("failed: {message}"),
            });
            json!({"failed": message})
        }
        None => Value::Null,
    };
    let json = json!({
        "status": if report.divergence.is_some() { "diverged" } else { "reproduced" },
        "recipeIndex": index,
        "gitCommit": report.git_commit,
        "gitTree": report.git_tree,
        "dirHash": report.dir_hash,
        "output": report.output.map(|d| d.to_string()),
        "scratchDir": report.scratch_dir,
        "divergence": report.divergence.as_ref().map(|d| json!({"code": d.code(), "message": d.to_string()})),
        "sandboxed": report.sandboxed,
        "builtAt": report.built_at,
        "toolchain": report.toolchain.iter().map(crate::commands::rebuild::tool_json).collect::<Vec<_>>(),
        "diffoscope": diffoscope,
    });
    Ok(Rebuilt {
        local: LocalRebuild {
            recipe_index: index,
            dir_hash: report.dir_hash,
            outcome,
        },
        lines,
        json,
    })
}

/// The rebuild could not even start for a reason found in the evidence: with
/// `--rebuild` asked for, that is a failure too.
fn not_run(index: u64, dir_hash: String, reason: &str) -> Rebuilt {
    Rebuilt {
        local: LocalRebuild {
            recipe_index: index,
            dir_hash,
            outcome: RebuildOutcome::Diverged {
                stage: "not_run".to_owned(),
                detail: reason.to_owned(),
            },
        },
        lines: vec![Extra {
            label: "rebuilt",
            text: format!("not run: {reason}"),
        }],
        json: json!({"status": "not-run", "recipeIndex": index, "reason": reason}),
    }
}

pub(super) fn build_at(bundle: &Bundle, index: u64) -> anyhow::Result<Build> {
    let receipt = bundle
        .entries
        .iter()
        .find(|r| r.index == index)
        .with_context(|| format!("entry {index} is not in the bundle"))?;
    let envelope = Envelope::from_value(&receipt.entry).context("the build envelope")?;
    match Attestation::from_envelope(&envelope)
        .context("the build statement")?
        .1
    {
        Attestation::Build(build) => Ok(build),
        other => anyhow::bail!("entry {index} is a {}, not a build", other.kind()),
    }
}
