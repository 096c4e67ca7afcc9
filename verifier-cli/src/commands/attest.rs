//! `glassbox attest source|review|build|key`: build an in-toto Statement of one of the
//! four kinds of docs/design.md §3 with the `glassbox_core::statement` constructors (which
//! validate it exactly as the log will), sign it into a DSSE envelope, and write the
//! envelope's canonical JSON — the bytes the log stores as the leaf.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use ed25519_dalek::VerifyingKey;
use glassbox_core::digest::{key_id_hex, Sha256Digest};
use glassbox_core::dsse::MAX_ENVELOPE_BYTES;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildMetadata, KeyEvent, ProvenancePredicate,
    ReportDigest, ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest, SourceReview,
    SourceSubmission, SubmissionPredicate, Verdict, TOOLCHAIN_PARAMETER,
};

use super::verify::items::{self, What};
use super::Outcome;
use crate::cli::{
    AttestBuildArgs, AttestCommand, AttestKeyArgs, AttestReviewArgs, AttestSourceArgs, RoleArg,
    SourceArgs, VerdictArg,
};
use crate::{hash, output, rebuild, source};

pub fn run(cmd: AttestCommand) -> anyhow::Result<Outcome> {
    let sign = match &cmd {
        AttestCommand::Source(args) => &args.sign,
        AttestCommand::Review(args) => &args.sign,
        AttestCommand::Build(args) => &args.sign,
        AttestCommand::Key(args) => &args.sign,
    };
    // Cheap checks first, so a mistake costs no hashing.
    if let Some(path) = &sign.output {
        output::check_writable(path, sign.force)?;
    }
    let key = glassbox_keys::load_signing_key(&sign.key)?;
    let attestation = match &cmd {
        AttestCommand::Source(args) => submission(args)?,
        AttestCommand::Review(args) => review(args)?,
        AttestCommand::Build(args) => build(args)?,
        AttestCommand::Key(args) => key_event(args, &key.verifying_key())?,
    };
    let envelope = attestation.sign(&[&key]).context("signing the envelope")?;
    let mut bytes = envelope.to_canonical_json();
    if bytes.len() > MAX_ENVELOPE_BYTES {
        bail!(
            "the envelope is {} bytes, more than the {MAX_ENVELOPE_BYTES} a log accepts: \
             attest the release in parts (one build attestation per subdirectory)",
            bytes.len()
        );
    }
    bytes.push(b'\n');
    output::emit(sign.output.as_deref(), &bytes, sign.force)?;
    Ok(Outcome::Success)
}

fn submission(args: &AttestSourceArgs) -> anyhow::Result<Attestation> {
    let submitted_at = timestamp(args.time.as_deref(), "--time")?;
    let source = source_digest(&args.source)?;
    let predicate = SubmissionPredicate {
        repository: args.source.repository_url.clone(),
        product: args.product.clone(),
        version: args.version.clone(),
        review_request: ReviewRequest {
            scope: scope(&args.scope),
            notes: args.notes.clone(),
        },
        submitted_at,
    };
    let attestation =
        SourceSubmission::new(source, predicate).context("invalid source submission")?;
    Ok(attestation.into())
}

fn review(args: &AttestReviewArgs) -> anyhow::Result<Attestation> {
    let reviewed_at = timestamp(args.time.as_deref(), "--time")?;
    let report_digest = match &args.report {
        Some(report) => Some(ReportDigest {
            sha256: hex::encode(file_digest(report)?),
        }),
        None => None,
    };
    let source = source_digest(&args.source)?;
    let predicate = ReviewPredicate {
        repository: args.source.repository_url.clone(),
        scope: scope(&args.scope),
        verdict: match args.verdict {
            VerdictArg::Approved => Verdict::Approved,
            VerdictArg::ApprovedWithFindings => Verdict::ApprovedWithFindings,
            VerdictArg::Rejected => Verdict::Rejected,
        },
        findings: args.findings.clone(),
        report_digest,
        reviewed_at,
    };
    let attestation = SourceReview::new(source, predicate).context("invalid source review")?;
    Ok(attestation.into())
}

fn build(args: &AttestBuildArgs) -> anyhow::Result<Attestation> {
    let finished_on = timestamp(args.time.as_deref(), "--time")?;
    let subjects = if args.oci {
        image_subjects(args)?
    } else if args.artifact.is_dir() {
        release_subjects(args)?
    } else {
        vec![file_subject(args)?]
    };

    let mut recipe = args.recipe.to_recipe()?;
    recipe.toolchain = args.toolchain.clone();

    let toolchain = if args.tools.is_empty() {
        None
    } else {
        let env = rebuild::recipe_environment(recipe.environment.as_ref())?;
        let tools = rebuild::identify_tools(&args.tools, &rebuild::recipe_path(&env))?;
        Some(serde_json::to_value(tools).context("encoding the toolchain")?)
    };

    let source = source_digest(&args.source)?;
    let mut predicate = ProvenancePredicate::new(
        recipe,
        &args.source.repository_url,
        source,
        &args.builder_id,
    );
    if let Some(toolchain) = toolchain {
        predicate.build_definition.internal_parameters = Some(
            [(TOOLCHAIN_PARAMETER.to_owned(), toolchain)]
                .into_iter()
                .collect(),
        );
    }
    predicate.run_details.metadata = Some(BuildMetadata {
        finished_on: Some(finished_on),
        ..BuildMetadata::default()
    });
    let attestation = Build::new(subjects, predicate).context("invalid build attestation")?;
    Ok(attestation.into())
}

/// `--artifact FILE`: one subject, named by --artifact-name or the file's name.
fn file_subject(args: &AttestBuildArgs) -> anyhow::Result<ArtifactSubject> {
    let name = match &args.artifact_name {
        Some(name) => name.clone(),
        None => args
            .artifact
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "cannot name the artifact after {}; give --artifact-name",
                    args.artifact.display()
                )
            })?,
    };
    Ok(ArtifactSubject {
        name,
        sha256: Sha256Digest(file_digest(&args.artifact)?),
    })
}

/// `--artifact DIR --oci`: each image of the OCI image layout DIR, by its manifest
/// digest (every blob under it checked first), named by its ref name annotation or,
/// without one, by the digest.
fn image_subjects(args: &AttestBuildArgs) -> anyhow::Result<Vec<ArtifactSubject>> {
    if args.artifact_name.is_some() {
        bail!("--artifact-name names one file; an image is named by its ref name in the layout's index.json: drop --artifact-name");
    }
    Ok(crate::oci::images(&args.artifact)?
        .into_iter()
        .map(|image| ArtifactSubject {
            name: image.reference.unwrap_or_else(|| image.digest.to_string()),
            sha256: image.digest,
        })
        .collect())
}

/// `--artifact DIR`: every regular file under DIR, named by its path relative to DIR
/// (`/`-separated), in byte order of the names — the names `glassbox verify DIR`
/// compares. A symbolic link or other special file has no bytes of its own to attest:
/// it is left out and said so on stderr (a verification of the directory lists it).
fn release_subjects(args: &AttestBuildArgs) -> anyhow::Result<Vec<ArtifactSubject>> {
    if args.artifact_name.is_some() {
        bail!(
            "--artifact-name names one file, and {} is a directory whose files are named by \
             their paths under it: drop --artifact-name",
            args.artifact.display()
        );
    }
    let mut files = Vec::new();
    for item in items::collect(
        std::slice::from_ref(&args.artifact),
        &[],
        items::Reading::default(),
    )? {
        match item.what {
            What::File(path) => files.push((item.relative.unwrap_or(item.label), path)),
            What::NotFollowed(why) => {
                eprintln!("glassbox: not attested: {}: {why}", item.label)
            }
            // The file it leads to is a subject of its own.
            What::Linked { note, .. } => {
                eprintln!("glassbox: not attested: {}: {note}", item.label)
            }
            What::Digest(_) | What::Member { .. } => {}
        }
    }
    files.sort();
    let paths: Vec<PathBuf> = files.iter().map(|(_, path)| path.clone()).collect();
    let digests = hash::sha256_files(&paths)?;
    Ok(files
        .into_iter()
        .zip(digests)
        .map(|((name, _), digest)| ArtifactSubject {
            name,
            sha256: Sha256Digest(digest),
        })
        .collect())
}

fn key_event(args: &AttestKeyArgs, signer: &VerifyingKey) -> anyhow::Result<Attestation> {
    let event = match (&args.register, &args.revoke) {
        (Some(path), None) => {
            let key = glassbox_keys::load_verifying_key(path)?;
            let roles: Vec<Role> = args.roles.iter().map(|r| role(*r)).collect();
            if args.self_signed {
                if key != *signer {
                    bail!(
                        "--self-signed: {} is not the public half of --key {}",
                        path.display(),
                        args.sign.key.display()
                    );
                }
                if !roles.contains(&Role::Operator) {
                    bail!("--self-signed registers the genesis operator: --roles must include operator");
                }
            } else if key == *signer {
                bail!(
                    "{} is the signing key itself; a key registers itself only in the genesis \
                     operator registration (--self-signed)",
                    path.display()
                );
            }
            KeyEvent::register(
                &key,
                args.name.as_deref().unwrap_or_default(),
                args.organisation.as_deref().unwrap_or_default(),
                roles,
            )
            .context("invalid key registration")?
        }
        (None, Some(path)) => {
            let key = glassbox_keys::load_verifying_key(path)?;
            let since = args
                .compromised_since
                .as_deref()
                .map(|s| timestamp(Some(s), "--compromised-since"))
                .transpose()?;
            KeyEvent::revoke(
                &key_id_hex(&key),
                args.reason.as_deref().unwrap_or_default(),
                since.as_deref(),
            )
            .context("invalid key revocation")?
        }
        // clap's argument group requires exactly one of --register and --revoke.
        _ => bail!("give one of --register and --revoke"),
    };
    let signed_at = timestamp(args.time.as_deref(), "--time")?;
    let event = event.at(&signed_at).context("invalid key event time")?;
    Ok(event.into())
}

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::Vendor => Role::Vendor,
        RoleArg::Reviewer => Role::Reviewer,
        RoleArg::Builder => Role::Builder,
        RoleArg::Operator => Role::Operator,
    }
}

fn scope(paths: &[String]) -> Scope {
    if paths.is_empty() {
        Scope::Full
    } else {
        Scope::Paths(paths.to_vec())
    }
}

fn source_digest(args: &SourceArgs) -> anyhow::Result<SourceDigest> {
    let id = source::from_repo(&args.repo, &args.rev)?;
    Ok(SourceDigest {
        git_commit: id.git_commit,
        git_tree: id.git_tree,
        dir_hash: id.dir_hash,
    })
}

fn file_digest(path: &Path) -> anyhow::Result<[u8; 32]> {
    let digests = hash::sha256_files(&[path.to_path_buf()])?;
    Ok(digests[0])
}

/// `value` (or now) as RFC 3339 in UTC with whole seconds, the one spelling Glassbox
/// signs, so equal instants give equal statements.
fn timestamp(value: Option<&str>, flag: &str) -> anyhow::Result<String> {
    let instant = match value {
        None => {
            let now = Utc::now();
            now.with_nanosecond(0).unwrap_or(now)
        }
        Some(text) => {
            let parsed = DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("{flag} {text:?} is not an RFC 3339 date-time"))?;
            if parsed.nanosecond() != 0 {
                bail!("{flag} {text:?} has a fraction of a second; give whole seconds");
            }
            parsed.with_timezone(&Utc)
        }
    };
    Ok(instant.to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        assert_eq!(
            timestamp(Some("2025-01-31T13:00:00+01:00"), "--time").unwrap(),
            "2025-01-31T12:00:00Z"
        );
        let now = timestamp(None, "--time").unwrap();
        assert_eq!(now.len(), "2025-01-31T12:00:00Z".len(), "{now}");
        assert!(now.ends_with('Z'));
    }

    #[test]
    fn fractional_or_malformed_time_is_refused() {
        assert!(timestamp(Some("2025-01-31T12:00:00.5Z"), "--time").is_err());
        assert!(timestamp(Some("yesterday"), "--time").is_err());
    }
}
