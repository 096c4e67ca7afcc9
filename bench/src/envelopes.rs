//! Signed envelopes for the load: build attestations with distinct artifacts,
//! key registrations, and the standard story (submission, review, two builds)
//! that makes an artifact verifiable. Signing happens before any timing starts.

use anyhow::{anyhow, Result};
use ed25519_dalek::SigningKey;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, KeyEvent, ProvenancePredicate,
    ReviewPredicate, ReviewRequest, Role, Scope, SourceDigest, SourceReview, SourceSubmission,
    SubmissionPredicate, Verdict,
};
use rayon::prelude::*;

pub const REPO: &str = "https://bench.glassbox.invalid/app.git";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const TREE: &str = "89abcdef0123456789abcdef0123456789abcdef";
const DIR_HASH: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const TIME: &str = "2026-01-01T00:00:00Z";

/// A deterministic key: the harness needs no key files of its own.
pub fn key(seed: u64) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[31] = 0x42;
    SigningKey::from_bytes(&bytes)
}

fn source() -> SourceDigest {
    SourceDigest::from_git(COMMIT, TREE, DIR_HASH)
}

/// `operator` registers `who` with `roles`, as the only member of an organisation
/// of its own (`bench <name>`): the verifier counts organisations, so a cast all of
/// one organisation would never have an independent builder or reviewer.
pub fn register(
    operator: &SigningKey,
    who: &SigningKey,
    name: &str,
    roles: Vec<Role>,
) -> Result<Envelope> {
    let organisation = format!("bench {name}");
    let event = KeyEvent::register(&who.verifying_key(), name, &organisation, roles)?;
    Ok(Attestation::from(event).sign(&[operator])?)
}

/// A build of `artifact` signed by `key`; `pad` extra bytes in the recipe's
/// command make larger entries.
pub fn build(
    key: &SigningKey,
    artifact: Sha256Digest,
    builder_id: &str,
    pad: usize,
) -> Result<Envelope> {
    build_from(key, artifact, source(), builder_id, pad)
}

/// The source a story's artifact is built from: one tree per artifact, since two
/// artifacts built from one source with one recipe contradict each other (the
/// verifier fails such a build as irreproducible).
fn source_of(artifact: Sha256Digest) -> SourceDigest {
    let id = |what: &str| Sha256Digest::of(format!("{what} {artifact}").as_bytes()).hex();
    SourceDigest::from_git(&id("commit")[..40], &id("tree")[..40], id("dirhash"))
}

fn build_from(
    key: &SigningKey,
    artifact: Sha256Digest,
    source: SourceDigest,
    builder_id: &str,
    pad: usize,
) -> Result<Envelope> {
    let subject = ArtifactSubject {
        name: "app".to_owned(),
        sha256: artifact,
    };
    let command = format!("make{}", " ".repeat(pad));
    build_of(key, vec![subject], source, builder_id, command, "out/app")
}

fn build_of(
    key: &SigningKey,
    subjects: Vec<ArtifactSubject>,
    source: SourceDigest,
    builder_id: &str,
    command: String,
    output_path: &str,
) -> Result<Envelope> {
    let build = Build::new(
        subjects,
        ProvenancePredicate::new(
            BuildRecipe::new(command, output_path),
            REPO,
            source,
            builder_id,
        ),
    )?;
    Ok(Attestation::from(build).sign(&[key])?)
}

/// Builds numbered `first..first + count` (distinct artifacts, so distinct leaves),
/// signed round-robin by `keys`, on every core.
pub fn builds(keys: &[SigningKey], first: u64, count: u64, pad: usize) -> Result<Vec<Envelope>> {
    (first..first + count)
        .into_par_iter()
        .map(|n| {
            let k = &keys[(n % keys.len() as u64) as usize];
            build(
                k,
                Sha256Digest::of(&n.to_le_bytes()),
                "https://bench.glassbox.invalid/builder",
                pad,
            )
        })
        .collect()
}

/// The participants of the verification story.
pub struct Cast {
    pub vendor: SigningKey,
    pub builder: SigningKey,
    pub reviewer: SigningKey,
}

impl Cast {
    pub fn new() -> Cast {
        Cast {
            vendor: key(1_000_001),
            builder: key(1_000_002),
            reviewer: key(1_000_003),
        }
    }

    /// Registrations of the three participants, signed by `operator`.
    pub fn registrations(&self, operator: &SigningKey) -> Result<Vec<Envelope>> {
        Ok(vec![
            register(operator, &self.vendor, "Vendor", vec![Role::Vendor])?,
            register(operator, &self.builder, "Rebuilder", vec![Role::Builder])?,
            register(operator, &self.reviewer, "Reviewer", vec![Role::Reviewer])?,
        ])
    }

    /// Submission, approving review, the vendor's and the rebuilder's builds of
    /// `artifact`: what the default policy needs to say "verified".
    pub fn story(&self, artifact: Sha256Digest) -> Result<Vec<Envelope>> {
        let source = source_of(artifact);
        let mut story = self.reviewed(&source)?;
        story.push(build_from(
            &self.vendor,
            artifact,
            source.clone(),
            "https://vendor.bench.invalid",
            0,
        )?);
        story.push(build_from(
            &self.builder,
            artifact,
            source,
            "https://rebuild.bench.invalid",
            0,
        )?);
        Ok(story)
    }

    /// The story of a release: the submission and approving review of one source,
    /// then the vendor's and the rebuilder's build of each part, its subjects named
    /// by their paths in the release. One build attestation per part, because one
    /// envelope holds at most `glassbox_core::dsse::MAX_ENVELOPE_BYTES` (1 MiB:
    /// about 6,700 subjects named like `d000/s0/f0.dat`) — the advice `glassbox
    /// attest build` gives for a directory that does not fit.
    pub fn release_story(&self, parts: &[&[ArtifactSubject]]) -> Result<Vec<Envelope>> {
        let source = source_of(Sha256Digest::of(b"release"));
        let mut story = self.reviewed(&source)?;
        for (builder, id) in [
            (&self.vendor, "https://vendor.bench.invalid"),
            (&self.builder, "https://rebuild.bench.invalid"),
        ] {
            for (i, part) in parts.iter().enumerate() {
                story.push(build_of(
                    builder,
                    part.to_vec(),
                    source.clone(),
                    id,
                    "make release".to_owned(),
                    &format!("out/part{i}"),
                )?);
            }
        }
        Ok(story)
    }

    /// The vendor's submission of `source` and the reviewer's approval of it.
    fn reviewed(&self, source: &SourceDigest) -> Result<Vec<Envelope>> {
        let submission = SourceSubmission::new(
            source.clone(),
            SubmissionPredicate {
                repository: REPO.to_owned(),
                product: "app".to_owned(),
                version: "1.0".to_owned(),
                review_request: ReviewRequest {
                    scope: Scope::Full,
                    notes: None,
                },
                submitted_at: TIME.to_owned(),
            },
        )?;
        let review = SourceReview::new(
            source.clone(),
            ReviewPredicate {
                repository: REPO.to_owned(),
                scope: Scope::Full,
                verdict: Verdict::Approved,
                findings: None,
                report_digest: None,
                reviewed_at: TIME.to_owned(),
            },
        )?;
        let sign = |a: Attestation, k: &SigningKey| a.sign(&[k]).map_err(|e| anyhow!("{e}"));
        Ok(vec![
            sign(submission.into(), &self.vendor)?,
            sign(review.into(), &self.reviewer)?,
        ])
    }
}

/// The trust policy of docs/design.md §6 for the log `vkey`.
pub fn policy_toml(vkey: &str) -> String {
    format!(
        "[log]\nvkey = \"{vkey}\"\n\n[witnesses]\nvkeys = []\nquorum = 0\n\n\
         [reviewers]\nkeys = [\"*\"]\nmin = 1\n\n[builders]\nkeys = [\"*\"]\nmin = 2\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_builds_are_distinct_leaves() {
        let keys = [key(1), key(2)];
        let envs = builds(&keys, 0, 4, 0).unwrap();
        let mut leaves: Vec<_> = envs.iter().map(|e| e.to_canonical_json()).collect();
        leaves.sort();
        leaves.dedup();
        assert_eq!(leaves.len(), 4);
    }

    #[test]
    fn padding_grows_the_entry() {
        let small = build(&key(1), Sha256Digest::of(b"a"), "b", 0).unwrap();
        let big = build(&key(1), Sha256Digest::of(b"a"), "b", 1000).unwrap();
        assert!(big.to_canonical_json().len() > small.to_canonical_json().len() + 1000);
    }
}
