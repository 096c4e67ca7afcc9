//! Step 5 of DESIGN §6: does the authorised evidence satisfy the customer's policy?
//!
//! - at least `builders.min` distinct trusted builder keys attest this artifact from
//!   one source dirHash, and no trusted builder names another source for it;
//! - at least `reviewers.min` distinct trusted reviewer keys approved that dirHash,
//!   and no trusted reviewer's latest verdict on it is `rejected`;
//! - where entries carry git identities for the source, they agree.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Sha256Digest;
use crate::policy::TrustPolicy;
use crate::statement::{Attestation, Scope, SourceDigest};

use super::evidence::{Evidence, OpenedEntry};
use super::{BuildLink, Failure, ReviewLink, SourceLink, Verdict};

pub(super) fn evaluate(
    artifact: &Sha256Digest,
    evidence: &Evidence,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) {
    let builds = trusted_builds(artifact, &evidence.entries, policy, verdict);
    if let Some((dir_hash, links, digests, repository)) = choose_source(builds, policy, verdict) {
        verdict.builds = links;
        let mut source = SourceLink {
            repository,
            dir_hash: dir_hash.clone(),
            git_commit: None,
            git_tree: None,
            submission_index: None,
            product: None,
            version: None,
        };
        let mut identities = digests;
        for entry in &evidence.entries {
            if let Attestation::SourceSubmission(sub) = &entry.attestation {
                if sub.source.dir_hash == dir_hash && source.submission_index.is_none() {
                    source.submission_index = Some(entry.index);
                    source.product = Some(sub.predicate.product.clone());
                    source.version = Some(sub.predicate.version.clone());
                    identities.push((entry.index, sub.source.clone()));
                }
            }
        }
        check_reviews(
            &dir_hash,
            &evidence.entries,
            policy,
            &mut identities,
            verdict,
        );
        check_identities(&dir_hash, &identities, &mut source, verdict);
        verdict.source = Some(source);
    }

    // Entries whose signers were not entitled to sign them only matter when the
    // policy failed: then they are part of the explanation.
    if verdict.failures.is_empty() {
        verdict.warnings.extend(
            evidence
                .excluded
                .iter()
                .map(|f| format!("not counted: {f}")),
        );
    } else {
        verdict.failures.extend(evidence.excluded.iter().cloned());
    }
}

/// A build of the artifact by a trusted builder key.
struct TrustedBuild<'a> {
    entry: &'a OpenedEntry,
    key_id: &'a str,
    signer: String,
    source: &'a SourceDigest,
    repository: &'a str,
}

fn trusted_builds<'a>(
    artifact: &Sha256Digest,
    entries: &'a [OpenedEntry],
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) -> Vec<TrustedBuild<'a>> {
    let mut any_build = false;
    let mut out = Vec::new();
    for entry in entries {
        let Attestation::Build(build) = &entry.attestation else {
            continue;
        };
        if !build.subjects.iter().any(|s| s.sha256 == *artifact) {
            continue;
        }
        any_build = true;
        let Some(dep) = build.source() else {
            continue;
        };
        for signer in &entry.signers {
            if policy.builders.keys.contains(&signer.key_id) {
                out.push(TrustedBuild {
                    entry,
                    key_id: &signer.key_id,
                    signer: signer.display_name(),
                    source: &dep.digest,
                    repository: &dep.uri,
                });
            }
        }
    }
    if !any_build {
        verdict.failures.push(Failure::NoBuild);
    }
    out
}

type ChosenSource = (String, Vec<BuildLink>, Vec<(u64, SourceDigest)>, String);

/// Groups trusted builds by source dirHash and picks the best-supported source.
fn choose_source(
    builds: Vec<TrustedBuild<'_>>,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) -> Option<ChosenSource> {
    let mut by_source: BTreeMap<&str, Vec<&TrustedBuild<'_>>> = BTreeMap::new();
    for build in &builds {
        by_source
            .entry(build.source.dir_hash.as_str())
            .or_default()
            .push(build);
    }
    let distinct = |group: &[&TrustedBuild<'_>]| {
        group
            .iter()
            .map(|b| b.key_id)
            .collect::<BTreeSet<_>>()
            .len()
    };
    let (dir_hash, group) = by_source.iter().max_by_key(|(_, group)| distinct(group))?;
    let have = distinct(group);
    if by_source.len() > 1 {
        verdict.failures.push(Failure::BuildersDisagree {
            dir_hashes: by_source.keys().map(|k| k.to_string()).collect(),
        });
    }
    if have < policy.builders.min {
        verdict.failures.push(Failure::TooFewBuilders {
            have,
            need: policy.builders.min,
        });
    }
    let links = group
        .iter()
        .map(|b| {
            let recipe = match &b.entry.attestation {
                Attestation::Build(build) => Some(build.recipe()),
                _ => None,
            };
            let builder_id = match &b.entry.attestation {
                Attestation::Build(build) => build.builder_id().to_owned(),
                _ => String::new(),
            };
            BuildLink {
                index: b.entry.index,
                key_id: b.key_id.to_owned(),
                signer: b.signer.clone(),
                builder_id,
                dir_hash: dir_hash.to_string(),
                command: recipe.map(|r| r.command.clone()).unwrap_or_default(),
                output_path: recipe.map(|r| r.output_path.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let identities = group
        .iter()
        .map(|b| (b.entry.index, b.source.clone()))
        .collect();
    Some((
        dir_hash.to_string(),
        links,
        identities,
        group[0].repository.to_owned(),
    ))
}

/// Counts approvals of `dir_hash` by distinct trusted reviewers, using each
/// reviewer's latest verdict, and reports standing rejections.
fn check_reviews(
    dir_hash: &str,
    entries: &[OpenedEntry],
    policy: &TrustPolicy,
    identities: &mut Vec<(u64, SourceDigest)>,
    verdict: &mut Verdict,
) {
    let mut latest: BTreeMap<String, ReviewLink> = BTreeMap::new();
    for entry in entries {
        let Attestation::SourceReview(review) = &entry.attestation else {
            continue;
        };
        if review.source.dir_hash != dir_hash {
            continue;
        }
        identities.push((entry.index, review.source.clone()));
        for signer in &entry.signers {
            if !policy.reviewers.keys.contains(&signer.key_id) {
                continue;
            }
            let link = ReviewLink {
                index: entry.index,
                key_id: signer.key_id.clone(),
                signer: signer.display_name(),
                verdict: review.predicate.verdict.as_str().to_owned(),
                scope: match &review.predicate.scope {
                    Scope::Full => "full".to_owned(),
                    Scope::Paths(paths) => paths.join(", "),
                },
            };
            // Entries are in log order, so a later review replaces an earlier one.
            latest.insert(signer.key_id.clone(), link);
        }
    }
    let mut approvals = 0;
    for link in latest.values() {
        if link.verdict == "rejected" {
            verdict.failures.push(Failure::ReviewRejected {
                index: link.index,
                key_id: link.key_id.clone(),
                dir_hash: dir_hash.to_owned(),
            });
        } else {
            approvals += 1;
        }
    }
    verdict.reviews = latest.into_values().collect();
    verdict.reviews.sort_by_key(|r| r.index);
    if approvals == 0 {
        verdict.failures.push(Failure::NoApprovedReview {
            dir_hash: dir_hash.to_owned(),
        });
    } else if approvals < policy.reviewers.min {
        verdict.failures.push(Failure::TooFewReviewers {
            dir_hash: dir_hash.to_owned(),
            have: approvals,
            need: policy.reviewers.min,
        });
    }
}

/// Git identities are carried beside the dirHash and cross-checked: every entry that
/// names them must name the same commit and tree.
fn check_identities(
    dir_hash: &str,
    identities: &[(u64, SourceDigest)],
    source: &mut SourceLink,
    verdict: &mut Verdict,
) {
    let mut commit: Option<(u64, &str)> = None;
    let mut tree: Option<(u64, &str)> = None;
    for (index, digest) in identities {
        for (seen, value, what) in [
            (&mut commit, digest.git_commit.as_deref(), "gitCommit"),
            (&mut tree, digest.git_tree.as_deref(), "gitTree"),
        ] {
            let Some(value) = value else { continue };
            match seen {
                None => *seen = Some((*index, value)),
                Some((first, known)) if *known != value => {
                    verdict.failures.push(Failure::SourceIdentityMismatch {
                        dir_hash: dir_hash.to_owned(),
                        detail: format!(
                            "entry {first} names {what} {known}, entry {index} names {value}"
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
    source.git_commit = commit.map(|(_, c)| c.to_owned());
    source.git_tree = tree.map(|(_, t)| t.to_owned());
}
