//! DESIGN §6 step 6 inside `verify --rebuild`: after the policy passes, re-run the
//! recipe of a build the trusted builders agree on, from the source they name, and
//! require the same bytes as the file being verified.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, Build};
use glassbox_core::verify::Verdict;
use serde_json::{json, Value};

use super::render::Extra;
use crate::commands::rebuild::{DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_SECS};
use crate::rebuild::{rebuild, DiffoscopeOutcome, RebuildRequest};

/// What the rebuild added to the report.
pub struct Rebuilt {
    /// The reason verification fails, when the rebuild diverged.
    pub failure: Option<String>,
    /// Report lines (`rebuilt`, `diffoscope`).
    pub lines: Vec<Extra>,
    /// The same as data, for `--json`.
    pub json: Value,
}

/// Rebuilds the first counted build of `verdict` from `source` and compares the output
/// with `artifact` (the file at `artifact_path`).
pub fn rebuild_agreed(
    bundle: &Bundle,
    verdict: &Verdict,
    source: &str,
    artifact: Sha256Digest,
    artifact_path: &Path,
) -> anyhow::Result<Rebuilt> {
    let link = verdict
        .builds
        .first()
        .context("no counted build to take the recipe from")?;
    let build = build_at(bundle, link.index)?;
    let Some(src) = build.source() else {
        return Ok(not_run("the build names no source"));
    };
    let Some(rev) = src.digest.git_commit.clone() else {
        return Ok(not_run(
            "the attested source has no gitCommit to check out; only its dirHash is known",
        ));
    };
    let recipe = build.recipe().clone();
    let request = RebuildRequest {
        source: source.to_owned(),
        rev: rev.clone(),
        expected_dir_hash: Some(src.digest.dir_hash.clone()),
        expected_git_tree: src.digest.git_tree.clone(),
        timeout: Duration::from_secs(recipe.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        recipe,
        expected: Some(artifact),
        max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        attested_artifact: Some(artifact_path.to_path_buf()),
        work_dir: None,
    };
    let report = rebuild(&request).with_context(|| format!("rebuilding {source} at {rev}"))?;
    let mut lines = Vec::new();
    let failure = match &report.divergence {
        None => {
            lines.push(Extra {
                label: "rebuilt",
                text: format!(
                    "commit {} dirHash {} with the recipe of entry {}: reproduced {artifact}",
                    report.git_commit, report.dir_hash, link.index
                ),
            });
            None
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
            Some(format!("rebuild: {divergence}"))
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
        "status": if failure.is_some() { "diverged" } else { "reproduced" },
        "gitCommit": report.git_commit,
        "dirHash": report.dir_hash,
        "output": report.output.map(|d| d.to_string()),
        "scratchDir": report.scratch_dir,
        "divergence": report.divergence.as_ref().map(|d| json!({"code": d.code(), "message": d.to_string()})),
        "diffoscope": diffoscope,
    });
    Ok(Rebuilt {
        failure,
        lines,
        json,
    })
}

/// The rebuild could not even start for a reason found in the evidence.
fn not_run(reason: &str) -> Rebuilt {
    Rebuilt {
        failure: Some(format!("rebuild: {reason}")),
        lines: Vec::new(),
        json: json!({"status": "not-run", "reason": reason}),
    }
}

fn build_at(bundle: &Bundle, index: u64) -> anyhow::Result<Build> {
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
