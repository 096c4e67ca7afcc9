//! `glassbox verify FILE`: the customer's question of docs/design.md §6 — was this binary
//! reproducibly built from source that people I trust reviewed?
//!
//! - step 1: hash the file (streamed; progress bar on a terminal);
//! - step 2: get the artifact's bundle from the server or a file;
//! - steps 3–5: [`check::check`], the engine with the client's remembered checkpoint;
//! - step 6: optionally rebuild from source (`--rebuild`) and run the engine again with
//!   the outcome, so that a reproduction counts as the customer's own build;
//! - step 7: print the chain or every reason it fails ([`render`]), or the verdict as JSON.

pub mod check;
pub mod items;
pub mod rebuild_step;
pub mod release;
pub mod remedy;
pub mod render;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::verify::{Failure, Verdict};

use super::Outcome;
use crate::cli::VerifyArgs;
use crate::client::LogClient;
use crate::hash::{progress_bar, sha256_file};
use crate::output;
use crate::state::StateDir;

use self::check::{check, Offline, ProofSource};
use self::render::{render, Extra};

/// Largest bundle file read from disk.
const MAX_BUNDLE_BYTES: u64 = 256 << 20;

pub fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    // One FILE keeps the detailed report; anything more is a release ([`release`]).
    match (args.files.as_slice(), args.digests.as_slice()) {
        ([file], []) if !file.is_dir() && !args.contents => {
            let file = file.clone();
            run_one(&args, &file)
        }
        _ => release::run(&args),
    }
}

fn run_one(args: &VerifyArgs, path: &Path) -> anyhow::Result<Outcome> {
    let policy = glassbox_keys::policy::load(&args.policy)?;
    let state = StateDir::resolve(args.state.as_deref())?;
    let artifact = hash_artifact(path)?;
    let file = path.display().to_string();

    let client;
    let offline;
    let bundles;
    let (bundle, proofs): (Option<Bundle>, &dyn ProofSource) = match (&args.server, &args.bundle) {
        (Some(server), _) => {
            client = LogClient::new(server, Duration::from_secs(args.timeout))?;
            let bundle = match client.bundle(&artifact.to_string()) {
                Ok((bundle, _)) => Some(bundle),
                // No build names this digest: a verification failure, not an error.
                Err(err) if err.status() == Some(404) => None,
                Err(err) => return Err(err).context("fetching the artifact's bundle"),
            };
            (bundle, &client)
        }
        (None, paths) => {
            bundles = paths
                .iter()
                .map(|path| Ok((path.clone(), read_bundle(path)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (path, bundle) = pick_bundle(&bundles, &artifact)?;
            offline = Offline(path.display().to_string());
            (Some(bundle.clone()), &offline)
        }
    };

    let Some(bundle) = bundle else {
        let verdict = Verdict {
            artifact: artifact.to_string(),
            failures: vec![Failure::NoBuild],
            ..Verdict::default()
        };
        return report(&verdict, &file, &[], args.json.then_some(None));
    };

    let mut checked = check(&artifact, &bundle, &policy, &state, proofs, None)?;
    let mut extra = recorded_environments(&bundle, &checked.verdict);
    if let Some(dir) = &checked.evidence {
        eprintln!(
            "glassbox: split view: both checkpoints and the proof are saved in {}",
            dir.display()
        );
        extra.push(Extra {
            label: "evidence",
            text: dir.display().to_string(),
        });
    }
    let mut rebuild_json = None;
    if let Some(source) = args.source.as_deref().filter(|_| args.rebuild) {
        match rebuild_step::candidate(&checked.verdict) {
            Ok(index) => {
                let sandbox = if args.no_sandbox {
                    crate::rebuild::SandboxChoice::None
                } else {
                    crate::rebuild::SandboxChoice::Bubblewrap {
                        extra_ro: Vec::new(),
                    }
                };
                let rebuilt =
                    rebuild_step::rebuild_entry(&bundle, index, source, artifact, path, sandbox)?;
                checked.verdict = recheck(&checked, &artifact, &bundle, &policy, &rebuilt.local);
                extra.extend(rebuilt.lines);
                rebuild_json = Some(rebuilt.json);
            }
            Err(reason) => {
                extra.push(Extra {
                    label: "rebuilt",
                    text: format!("not attempted: {reason}"),
                });
                rebuild_json = Some(serde_json::json!({
                    "status": "not-attempted",
                    "reason": reason,
                }));
            }
        }
    }
    if checked.remembered {
        extra.push(Extra {
            label: "state",
            text: format!(
                "checkpoint remembered in {} (later checkpoints must be consistent with it)",
                state.root().display()
            ),
        });
    }
    report(
        &checked.verdict,
        &file,
        &extra,
        args.json.then_some(rebuild_json),
    )
}

/// One `recorded` line per counted build that recorded more than its command:
/// build path, declared build dependencies, toolchain identity (docs/formats/
/// attestations.md) — what a rebuilder needs to match.
fn recorded_environments(bundle: &Bundle, verdict: &Verdict) -> Vec<Extra> {
    let mut lines = Vec::new();
    for link in verdict.builds.iter().filter(|b| !b.local) {
        let Ok(build) = rebuild_step::build_at(bundle, link.index) else {
            continue;
        };
        let recipe = build.recipe();
        let mut parts = Vec::new();
        if let Some(path) = &recipe.build_path {
            parts.push(format!("built at {path}"));
        }
        let deps: Vec<String> = recipe
            .build_dependencies
            .iter()
            .flatten()
            .map(|p| format!("{} {}", p.package, p.version))
            .collect();
        if !deps.is_empty() {
            parts.push(format!("with {}", deps.join(", ")));
        }
        let tools: Vec<String> = build
            .toolchain()
            .iter()
            .map(|t| {
                format!(
                    "{} = {} sha256 {} ({})",
                    t.name, t.path, t.sha256, t.version
                )
            })
            .collect();
        if !tools.is_empty() {
            parts.push(format!("toolchain {}", tools.join(", ")));
        }
        if !parts.is_empty() {
            lines.push(Extra {
                label: "recorded",
                text: format!("entry {}: {}", link.index, parts.join("; ")),
            });
        }
    }
    lines
}

/// The engine once more, on the same evidence and against the same remembered
/// checkpoint as the first pass, now with the customer's rebuild.
fn recheck(
    first: &check::Checked,
    artifact: &Sha256Digest,
    bundle: &Bundle,
    policy: &glassbox_core::policy::TrustPolicy,
    local: &glassbox_core::verify::LocalRebuild,
) -> Verdict {
    glassbox_core::verify::verify(glassbox_core::verify::VerifyRequest {
        artifact,
        bundle,
        policy,
        previous: first.previous.as_ref(),
        local_rebuild: Some(local),
        now: unix_now(),
    })
}

/// Prints the report; `json` is `Some` for `--json`, holding the rebuild's outcome
/// when one was attempted (added to the verdict object as `rebuild`).
fn report(
    verdict: &Verdict,
    file: &str,
    extra: &[Extra],
    json: Option<Option<serde_json::Value>>,
) -> anyhow::Result<Outcome> {
    if let Some(rebuild) = json {
        output::print_json(&verdict_json(verdict, rebuild)?)?;
    } else {
        output::print(&render(verdict, file, extra))?;
    }
    Ok(if verdict.verified() {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}

/// The verdict object of `--json`: the engine's verdict, each failure with what to do
/// about it, and the rebuild's outcome as `rebuild` when one was attempted.
fn verdict_json(
    verdict: &Verdict,
    rebuild: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(verdict).context("encoding the verdict")?;
    // Each failure carries what to do about it, as the text report does.
    if let Some(failures) = value.get_mut("failures").and_then(|f| f.as_array_mut()) {
        for (object, failure) in failures.iter_mut().zip(&verdict.failures) {
            if let (Some(object), Some(what)) = (object.as_object_mut(), remedy::remedy(failure)) {
                object.insert("remedy".to_owned(), what.into());
            }
        }
    }
    if let (Some(rebuild), Some(object)) = (rebuild, value.as_object_mut()) {
        object.insert("rebuild".to_owned(), rebuild);
    }
    Ok(value)
}

/// The bundle made for `artifact`, else one whose index lookups cover it (a release
/// bundle of another file of its release), else the first one given. This only
/// selects: the engine checks the evidence against the digest itself.
fn pick_bundle<'a>(
    bundles: &'a [(PathBuf, Bundle)],
    artifact: &Sha256Digest,
) -> anyhow::Result<&'a (PathBuf, Bundle)> {
    bundles
        .iter()
        .find(|(_, b)| b.artifact.parse::<Sha256Digest>().ok() == Some(*artifact))
        .or_else(|| bundles.iter().find(|(_, b)| covers(b, artifact)))
        .or_else(|| bundles.first())
        .context("give --server URL or --bundle FILE")
}

/// Whether `bundle` was made for `artifact` or carries the lookup of its index key.
fn covers(bundle: &Bundle, artifact: &Sha256Digest) -> bool {
    let key = format!("artifact:{}", artifact.hex());
    bundle.artifact.parse::<Sha256Digest>().ok() == Some(*artifact)
        || bundle
            .index
            .as_ref()
            .is_some_and(|index| index.lookups.iter().any(|l| l.key == key))
}

fn hash_artifact(path: &Path) -> anyhow::Result<Sha256Digest> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let progress = progress_bar(len, "hashing", true);
    let digest = sha256_file(path, &progress)?;
    progress.finish_and_clear();
    Ok(Sha256Digest(digest))
}

fn read_bundle(path: &Path) -> anyhow::Result<Bundle> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Sized once: a release bundle is megabytes, and growing the buffer by doubling
    // copied it over and over.
    let size = file
        .metadata()
        .map_or(0, |m| m.len())
        .min(MAX_BUNDLE_BYTES + 1);
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        anyhow::bail!(
            "{}: larger than {MAX_BUNDLE_BYTES} bytes, not a bundle",
            path.display()
        );
    }
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a Glassbox bundle", path.display()))
}

#[cfg(test)]
mod tests;

/// The verifier's clock, for `[log] max_age` (seconds since the Unix epoch).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
