//! Step 5 of docs/design.md §6, the builds: who attests this artifact, from which source, and
//! are they independent of each other and of the vendor?
//!
//! - A build counts when a key the policy trusts as a builder signed it and the entry
//!   is authorised (see `evidence`). Builds are grouped by the source dirHash they name;
//!   the best-supported source is chosen, and trusted builds naming another source for
//!   the same bytes are a failure ([`Failure::BuildersDisagree`]).
//! - Quorums count distinct registered organisations ([`super::organisation`]), never
//!   keys: one company's second key, or its signature twice on one envelope, adds
//!   nothing. `[builders] independent` of them must be outside the vendor's
//!   organisations. The customer's own reproducing rebuild counts as one independent
//!   organisation — "you".
//! - A trusted builder who built the chosen source with the same recipe and got other
//!   bytes contradicts reproducibility: [`Failure::Irreproducible`], naming both.

use std::collections::BTreeMap;

use crate::digest::Sha256Digest;
use crate::policy::TrustPolicy;
use crate::registry::KeyRecord;
use crate::statement::{ArtifactSubject, Attestation, Build, BuildRecipe, Role, SourceDigest};

use super::evidence::{Evidence, OpenedEntry};
use super::organisation::{OrgId, Organisations};
use super::subjects::Naming;
use super::{BuildLink, Failure, LocalRebuild, RebuildOutcome, Verdict};

/// A build of the artifact signed by a key the policy trusts as a builder.
pub(super) struct TrustedBuild<'a> {
    pub entry: &'a OpenedEntry,
    pub build: &'a Build,
    pub signer: &'a KeyRecord,
    pub source: &'a SourceDigest,
    pub repository: &'a str,
    /// The subject naming the artifact.
    pub subject: &'a ArtifactSubject,
}

/// The source the trusted builders agree on, and who the vendor is.
pub(super) struct Chosen<'a> {
    pub dir_hash: String,
    pub repository: String,
    /// The trusted builds of the artifact from `dir_hash`.
    pub builds: Vec<TrustedBuild<'a>>,
    /// Organisations that submitted `dir_hash`, or attested the artifact with a
    /// vendor-role key.
    pub vendor: Organisations,
}

/// Finds the trusted builds, chooses the source, checks both builder quorums and
/// looks for contradicting builds. `None` when no trusted build names the artifact.
pub(super) fn evaluate<'a>(
    artifact: &Sha256Digest,
    evidence: &'a Evidence,
    policy: &TrustPolicy,
    local: Option<&LocalRebuild>,
    verdict: &mut Verdict,
) -> Option<Chosen<'a>> {
    let naming = evidence.subjects.naming(artifact);
    let builds = trusted_builds(artifact, naming, evidence, policy, verdict);
    if builds.is_empty() {
        // Builds name the artifact (else `noBuild` is already recorded) but none by a
        // key the policy trusts: never a verdict without a counted build.
        if !verdict.failures.contains(&Failure::NoBuild) {
            verdict.failures.push(Failure::TooFewBuilders {
                have: 0,
                need: policy.builders.min.max(1),
            });
        }
        return None;
    }
    let chosen = choose_source(builds, evidence, verdict)?;
    count(&chosen, policy, local, verdict);
    contradictions(artifact, naming, &chosen, evidence, policy, verdict);
    Some(chosen)
}

fn trusted_builds<'a>(
    artifact: &Sha256Digest,
    naming: Naming<'_>,
    evidence: &'a Evidence,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) -> Vec<TrustedBuild<'a>> {
    let mut any_build = evidence.excluded_artifacts.contains(artifact);
    let mut out = Vec::new();
    let mut last = None;
    for (at, i) in naming.iter() {
        // The first subject naming the artifact in each build.
        if last.replace(at) == Some(at) {
            continue;
        }
        let entry = &evidence.entries[at];
        let Attestation::Build(build) = &entry.attestation else {
            continue;
        };
        let subject = &build.subjects[i];
        any_build = true;
        let Some(dep) = build.source() else {
            continue;
        };
        for signer in &entry.signers {
            if policy.builders.keys.contains(&signer.key_id) {
                out.push(TrustedBuild {
                    entry,
                    build,
                    signer,
                    source: &dep.digest,
                    repository: &dep.uri,
                    subject,
                });
            }
        }
    }
    if !any_build {
        verdict.failures.push(Failure::NoBuild);
    }
    out
}

/// Groups trusted builds by source dirHash and picks the source most organisations
/// attest.
fn choose_source<'a>(
    builds: Vec<TrustedBuild<'a>>,
    evidence: &Evidence,
    verdict: &mut Verdict,
) -> Option<Chosen<'a>> {
    let mut by_source: BTreeMap<String, Vec<TrustedBuild<'a>>> = BTreeMap::new();
    for build in builds {
        by_source
            .entry(build.source.dir_hash.clone())
            .or_default()
            .push(build);
    }
    if by_source.len() > 1 {
        verdict.failures.push(Failure::BuildersDisagree {
            dir_hashes: by_source.keys().cloned().collect(),
        });
    }
    let organisations = |group: &[TrustedBuild<'_>]| {
        let mut orgs: Vec<OrgId> = group.iter().map(|b| OrgId::of_key(b.signer)).collect();
        orgs.sort();
        orgs.dedup();
        orgs.len()
    };
    let dir_hash = by_source
        .iter()
        .max_by_key(|(_, group)| organisations(group))?
        .0
        .clone();
    let builds = by_source.remove(&dir_hash)?;

    let mut vendor = Organisations::default();
    for build in &builds {
        if build.signer.roles.contains(&Role::Vendor) {
            vendor.insert(build.signer);
        }
    }
    for entry in &evidence.entries {
        if let Attestation::SourceSubmission(sub) = &entry.attestation {
            if sub.source.dir_hash == dir_hash {
                for signer in &entry.signers {
                    vendor.insert(signer);
                }
            }
        }
    }
    Some(Chosen {
        repository: builds[0].repository.to_owned(),
        dir_hash,
        builds,
        vendor,
    })
}

/// The two builder quorums, and the chain's `built by` links.
fn count(
    chosen: &Chosen<'_>,
    policy: &TrustPolicy,
    local: Option<&LocalRebuild>,
    verdict: &mut Verdict,
) {
    let mut all = Organisations::default();
    let mut independent = Organisations::default();
    for build in &chosen.builds {
        all.insert(build.signer);
        if !chosen.vendor.contains(build.signer) {
            independent.insert(build.signer);
        }
        let recipe = build.build.recipe();
        verdict.builds.push(BuildLink {
            index: build.entry.index,
            key_id: build.signer.key_id.clone(),
            signer: build.signer.display_name(),
            organisation: build.signer.organisation.clone(),
            independent: !chosen.vendor.contains(build.signer),
            local: false,
            builder_id: build.build.builder_id().to_owned(),
            dir_hash: chosen.dir_hash.clone(),
            command: recipe.command.clone(),
            output_path: recipe.output_path.clone(),
        });
    }
    let mut have = all.len();
    let mut have_independent = independent.len();
    if let Some(local) = local {
        match &local.outcome {
            RebuildOutcome::Reproduced if local.dir_hash == chosen.dir_hash => {
                have += 1;
                have_independent += 1;
                let recipe = chosen
                    .builds
                    .iter()
                    .find(|b| b.entry.index == local.recipe_index)
                    .map(|b| b.build.recipe());
                verdict.builds.push(BuildLink {
                    index: local.recipe_index,
                    key_id: String::new(),
                    signer: "you (this verification's own rebuild)".to_owned(),
                    organisation: "you".to_owned(),
                    independent: true,
                    local: true,
                    builder_id: "glassbox verify --rebuild".to_owned(),
                    dir_hash: local.dir_hash.clone(),
                    command: recipe.map(|r| r.command.clone()).unwrap_or_default(),
                    output_path: recipe.map(|r| r.output_path.clone()).unwrap_or_default(),
                });
            }
            RebuildOutcome::Reproduced => verdict.failures.push(Failure::RebuildDiverged {
                recipe_index: local.recipe_index,
                stage: "source_hash".to_owned(),
                detail: format!(
                    "the rebuilt source has dirHash {}, not the chosen source {}",
                    local.dir_hash, chosen.dir_hash
                ),
            }),
            RebuildOutcome::Diverged { stage, detail } => {
                verdict.failures.push(Failure::RebuildDiverged {
                    recipe_index: local.recipe_index,
                    stage: stage.clone(),
                    detail: detail.clone(),
                })
            }
        }
    }
    if have < policy.builders.min {
        verdict.failures.push(Failure::TooFewBuilders {
            have,
            need: policy.builders.min,
        });
    }
    if have_independent < policy.builders.independent {
        verdict.failures.push(Failure::TooFewIndependentBuilders {
            have: have_independent,
            need: policy.builders.independent,
            vendor: chosen.vendor.names(),
        });
    }
}

/// Trusted builds of the chosen source with the recipe of a counted build that did
/// not get the artifact's bytes.
fn contradictions(
    artifact: &Sha256Digest,
    naming: Naming<'_>,
    chosen: &Chosen<'_>,
    evidence: &Evidence,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) {
    for (at, entry) in evidence.entries.iter().enumerate() {
        let Attestation::Build(other) = &entry.attestation else {
            continue;
        };
        if other.source().map(|d| d.digest.dir_hash.as_str()) != Some(chosen.dir_hash.as_str())
            || naming.names(at)
        {
            continue;
        }
        let Some(signer) = entry
            .signers
            .iter()
            .find(|s| policy.builders.keys.contains(&s.key_id))
        else {
            continue;
        };
        let clash = chosen.builds.iter().find_map(|counted| {
            if !same_recipe(counted.build.recipe(), other.recipe()) {
                return None;
            }
            let got = match other.subjects.as_slice() {
                [only] if counted.build.subjects.len() == 1 => Some(only),
                subjects => subjects.get(evidence.subjects.called(
                    &evidence.entries,
                    at,
                    &counted.subject.name,
                )?),
            }?;
            Some((counted, got))
        });
        if let Some((counted, got)) = clash {
            verdict.failures.push(Failure::Irreproducible {
                dir_hash: chosen.dir_hash.clone(),
                index: entry.index,
                key_id: signer.key_id.clone(),
                subject: counted.subject.name.clone(),
                expected: artifact.to_string(),
                got: got.sha256.to_string(),
                recipe_index: counted.entry.index,
            });
        }
    }
}

/// Two builds ran "the same recipe" when everything that decides the output is equal:
/// command, working directory, output path, toolchain, environment, build path and
/// declared build dependencies. The time limit is not part of it, and neither is the
/// toolchain identity a builder observed (`internalParameters.toolchain`): that is a
/// record of what ran, not a parameter of the build.
fn same_recipe(a: &BuildRecipe, b: &BuildRecipe) -> bool {
    a.command == b.command
        && a.working_directory == b.working_directory
        && a.output_path == b.output_path
        && a.toolchain == b.toolchain
        && a.environment == b.environment
        && a.build_path == b.build_path
        && a.build_dependencies == b.build_dependencies
}
