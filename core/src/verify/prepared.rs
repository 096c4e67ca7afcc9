//! [`verify`](super::verify) in two parts: what depends only on the bundle and the
//! policy, done once, and what depends on the artifact, the clock and the remembered
//! checkpoint, done per artifact.
//!
//! A release bundle proves every file of a release, and verifying the release asks
//! about each file: the checkpoint's and the witnesses' signatures, every inclusion
//! proof, every entry's signatures and the registry replay, the index commitment and
//! each index lookup are the same for all of them. [`verify`](super::verify) is
//! `Prepared::new(bundle, policy).verify(…)`, so a verdict reached through a shared
//! `Prepared` is the verdict of one verification, by construction.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::bundle::Bundle;
use crate::checkpoint::SignedCheckpoint;
use crate::digest::Sha256Digest;
use crate::index::IndexKey;
use crate::note::NoteVerifierKey;
use crate::policy::TrustPolicy;
use crate::statement::Attestation;

use super::completeness::{Filing, IndexEvidence};
use super::evidence::{self, Evidence};
use super::log::{self, OpenedCheckpoint};
use super::{builds, reviews, source, LocalRebuild, PreviousCheckpoint, Verdict};

/// A bundle opened against a policy: the engine's work that no artifact changes.
#[derive(Debug)]
pub struct Prepared<'a> {
    bundle: Cow<'a, Bundle>,
    policy: Cow<'a, TrustPolicy>,
    /// The artifact the bundle names as the one it was made for.
    made_for: Option<Sha256Digest>,
    /// The artifacts whose index lookup the bundle carries: a release bundle made for
    /// one subject of a release carries each one's, and serving them is its purpose.
    looked_up: BTreeSet<Sha256Digest>,
    checkpoint: OpenedCheckpoint,
    /// Present when the checkpoint verified (nothing is opened against one that did not).
    opened: Option<Opened>,
}

/// The evidence opened against a trusted checkpoint.
#[derive(Debug)]
struct Opened {
    /// Shared with the bundles opened with this one that hold the same evidence
    /// (see [`Prepared::owned_all`]), as is `filing`.
    evidence: Arc<Evidence>,
    /// What opening the evidence found wrong or worth telling, recorded in every verdict.
    verdict: Verdict,
    /// The evidence filed under its index keys.
    filing: Arc<Filing>,
    /// `None` when the policy's log key does not parse.
    index: Option<IndexEvidence>,
}

impl<'a> Prepared<'a> {
    /// Opens `bundle` against `policy`.
    pub fn new(bundle: &'a Bundle, policy: &'a TrustPolicy) -> Prepared<'a> {
        Prepared::open(Cow::Borrowed(bundle), Cow::Borrowed(policy), &[])
    }

    /// Opens `bundle` against `policy`, taking the opened evidence from one of
    /// `earlier` that opened the same evidence (see [`Prepared::owned_all`]).
    fn open(
        bundle: Cow<'a, Bundle>,
        policy: Cow<'a, TrustPolicy>,
        earlier: &[Prepared<'_>],
    ) -> Prepared<'a> {
        let checkpoint = log::open_checkpoint(&bundle.checkpoint, &policy);
        let opened = checkpoint.signed().map(|signed| {
            let same = earlier
                .iter()
                .filter(|p| p.opens_as(&bundle, &policy))
                .find_map(|p| p.opened.as_ref());
            let (evidence, verdict, filing) = match same {
                Some(same) => (
                    same.evidence.clone(),
                    same.verdict.clone(),
                    same.filing.clone(),
                ),
                None => {
                    let mut verdict = Verdict::default();
                    let (evidence, filed) =
                        evidence::open_all(&bundle, signed, &policy, &mut verdict);
                    (Arc::new(evidence), verdict, Arc::new(Filing::of(filed)))
                }
            };
            let index = NoteVerifierKey::parse(&policy.log.vkey)
                .ok()
                .map(|log_key| {
                    IndexEvidence::open(
                        &bundle,
                        filing.clone(),
                        &signed.checkpoint,
                        log_key.public_key(),
                    )
                });
            Opened {
                evidence,
                verdict,
                filing,
                index,
            }
        });
        let looked_up = bundle
            .index
            .iter()
            .flat_map(|index| &index.lookups)
            .filter_map(|lookup| {
                let digest: Sha256Digest = lookup.key.strip_prefix("artifact:")?.parse().ok()?;
                // Only the key as the index names it (lowercase hex, no prefix).
                (lookup.key == IndexKey::Artifact(digest.hex()).to_string()).then_some(digest)
            })
            .collect();
        Prepared {
            made_for: bundle.artifact.parse().ok(),
            looked_up,
            bundle,
            policy,
            checkpoint,
            opened,
        }
    }

    /// Whether opening `bundle` against `policy` opens the evidence this opened: the
    /// same checkpoint, entries and key events — everything the evidence is opened
    /// from — against the same policy.
    fn opens_as(&self, bundle: &Bundle, policy: &TrustPolicy) -> bool {
        *self.policy == *policy
            && self.bundle.checkpoint == bundle.checkpoint
            && self.bundle.entries == bundle.entries
            && self.bundle.key_events == bundle.key_events
    }

    /// The bundle this was opened from.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The policy it was opened against.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// The artifact the bundle says it was made for.
    pub fn made_for(&self) -> Option<&Sha256Digest> {
        self.made_for.as_ref()
    }

    /// The bundle's checkpoint, when the policy's log key verified its signature.
    pub fn signed_checkpoint(&self) -> Option<&SignedCheckpoint> {
        self.checkpoint.signed()
    }

    /// Whether the bundle serves `artifact`: made for it, or carrying the lookup of
    /// its index key (a release bundle serves every subject of its release).
    pub fn serves(&self, artifact: &Sha256Digest) -> bool {
        self.made_for.as_ref() == Some(artifact) || self.looked_up.contains(artifact)
    }

    /// The names the counted build at log `index` gives `artifact`, in its subject order.
    pub fn subject_names(&self, index: u64, artifact: &Sha256Digest) -> Vec<&str> {
        let Some(opened) = &self.opened else {
            return Vec::new();
        };
        let entries = &opened.evidence.entries;
        let Some(at) = entries.iter().position(|e| e.index == index) else {
            return Vec::new();
        };
        let Attestation::Build(build) = &entries[at].attestation else {
            return Vec::new();
        };
        opened
            .evidence
            .subjects
            .naming(artifact)
            .iter()
            .filter(|&(e, _)| e == at)
            .map(|(_, i)| build.subjects[i].name.as_str())
            .collect()
    }

    /// The verdict on `artifact` (see [`verify`](super::verify)).
    pub fn verify(
        &self,
        artifact: &Sha256Digest,
        previous: Option<&PreviousCheckpoint>,
        local_rebuild: Option<&LocalRebuild>,
        now: u64,
    ) -> Verdict {
        let (bundle, policy) = (&*self.bundle, &*self.policy);
        let mut verdict = Verdict {
            artifact: artifact.to_string(),
            ..Verdict::default()
        };
        if !self.serves(artifact) {
            verdict.warnings.push(format!(
                "the bundle was assembled for {}, not for this artifact",
                bundle.artifact
            ));
        }
        let Some(signed) = log::judge_checkpoint(&self.checkpoint, policy, now, &mut verdict)
        else {
            return verdict;
        };
        log::check_consistency(&signed.checkpoint, previous, &mut verdict);
        let Some(opened) = &self.opened else {
            return verdict;
        };

        verdict
            .failures
            .extend(opened.verdict.failures.iter().cloned());
        verdict
            .warnings
            .extend(opened.verdict.warnings.iter().cloned());
        let evidence = &opened.evidence;
        let chosen = builds::evaluate(artifact, evidence, policy, local_rebuild, &mut verdict);
        if let Some(chosen) = chosen {
            let reviewed = reviews::evaluate(&chosen, evidence, policy, &mut verdict);
            source::link(&chosen, evidence, &reviewed, &mut verdict);
        }
        if let Some(index) = &opened.index {
            index.check(
                artifact,
                bundle,
                policy.log.require_completeness,
                &mut verdict,
            );
        }
        evidence::report_excluded(evidence, &mut verdict);
        verdict
    }
}

impl Prepared<'static> {
    /// Opens `bundle` against `policy`, keeping both: to be held while many
    /// artifacts are verified.
    pub fn owned(bundle: Bundle, policy: TrustPolicy) -> Prepared<'static> {
        Prepared::open(Cow::Owned(bundle), Cow::Owned(policy), &[])
    }

    /// Opens each of `bundles` against `policy`, in order, as [`owned`](Self::owned)
    /// opens one. A bundle with the same checkpoint, entries and key events as an
    /// earlier one — the release bundles of one release differ only in the artifact
    /// they were made for and in their index lookups — takes that one's opened
    /// evidence instead of proving, parsing and authorising every entry again: the
    /// same inputs, so the same verdicts.
    pub fn owned_all(
        bundles: impl IntoIterator<Item = Bundle>,
        policy: &TrustPolicy,
    ) -> Vec<Prepared<'static>> {
        let mut opened: Vec<Prepared<'static>> = Vec::new();
        for bundle in bundles {
            let next = Prepared::open(Cow::Owned(bundle), Cow::Owned(policy.clone()), &opened);
            opened.push(next);
        }
        opened
    }
}
