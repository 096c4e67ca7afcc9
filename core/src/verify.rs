//! The verification engine: docs/design.md §6 steps 3–5 as one pure function.
//!
//! Given an artifact digest, a [`Bundle`] of logged evidence, the customer's
//! [`TrustPolicy`] and the newest checkpoint this client verified before, [`verify`]
//! decides whether the artifact was reproducibly built from source that trusted
//! reviewers approved, and returns a [`Verdict`] carrying either the whole chain of
//! evidence or every reason it fails. Nothing here trusts the bundle's sender: every
//! entry is proven to be in the tree the log signed, every signer is checked against
//! the registry as it stood at the entry's position, and the checkpoint is proven
//! consistent with what this client saw before.
//!
//! The steps, in order:
//! 1. the checkpoint verifies with the policy's log key, and enough of the policy's
//!    witnesses cosigned it ([`log`]);
//! 2. it is not older than the checkpoint this client verified before, and is proven
//!    consistent with it — a proven inconsistency is a split view, a server's missing
//!    proof is a failure, only an offline bundle may be newer unproven (a warning);
//! 3. the evidence is in strictly increasing log order and every receipt's tlog-proof
//!    is for this checkpoint and proves its entry; a statement logged twice counts
//!    at its first position only; key events are replayed into a [`Registry`] and
//!    every other entry's signers are authorised at its position, and vouched for by
//!    an operator the policy pins ([`evidence`]);
//! 4. the builds: enough distinct trusted *organisations*, enough of them independent
//!    of the vendor (the customer's own reproducing rebuild counts as one), attest the
//!    artifact from one source dirHash, and no trusted builder got other bytes from
//!    that source with the same recipe ([`builds`]);
//! 5. the reviews: enough independent organisations approved that source in a scope
//!    the policy counts, and no trusted reviewer's standing rejection — judged as the
//!    registry stood when it was logged — remains ([`reviews`]);
//! 6. the source: the trusted entries that name git identities for it agree, and the
//!    vendor's submission supplies product and version ([`source`]);
//! 7. completeness: the log's index commitment proves the evidence holds every
//!    entry filed under the artifact, the sources its builds name and the key
//!    registry — nothing was left out ([`completeness`]).
//!
//! The rules and the attacks each one answers are in docs/verification.md and
//! docs/threat-model.md.

mod builds;
mod completeness;
mod evidence;
mod log;
mod organisation;
mod prepared;
mod reviews;
mod source;
mod subjects;
mod verdict;

pub use prepared::Prepared;

pub use verdict::{
    BuildLink, CheckpointSummary, Completeness, Consistency, Failure, ReviewLink, SourceLink,
    Verdict, WitnessSummary,
};

use crate::bundle::Bundle;
use crate::checkpoint::Checkpoint;
use crate::digest::Sha256Digest;
use crate::index::IndexKey;
use crate::merkle::Hash;
use crate::note::NoteVerifierKey;
use crate::policy::TrustPolicy;

/// The newest checkpoint this client verified before, and what could be had to
/// prove the bundle's checkpoint consistent with it.
#[derive(Clone, Debug)]
pub struct PreviousCheckpoint {
    /// The checkpoint verified before, as remembered.
    pub checkpoint: Checkpoint,
    /// What could be had to prove the bundle's checkpoint consistent with it.
    pub proof: ConsistencyProof,
}

/// The consistency proof between the remembered checkpoint and the bundle's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsistencyProof {
    /// The RFC 9162 proof from the smaller of the two trees to the larger.
    Proof(Vec<Hash>),
    /// Verifying from a bundle file with no network: nothing to ask.
    Offline,
    /// A server was asked and gave no usable proof (an error status, a timeout, a
    /// malformed body); says which. A log that cannot prove it extends what this client
    /// saw fails verification.
    Unavailable(String),
}

/// The outcome of the customer's own rebuild (`verify --rebuild`), fed back to the
/// engine so that a reproduction counts as one independent builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalRebuild {
    /// The counted build entry whose recipe was run.
    pub recipe_index: u64,
    /// dirHash of the checkout that was built.
    pub dir_hash: String,
    /// Whether the rebuild reproduced the artifact.
    pub outcome: RebuildOutcome,
}

/// What the customer's rebuild produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RebuildOutcome {
    /// The same bytes as the artifact.
    Reproduced,
    /// It departed from the attestation at `stage` (a stable code) for `detail`.
    Diverged {
        /// Stable code of the step where the rebuild departed.
        stage: String,
        /// What happened there.
        detail: String,
    },
}

/// A history lookup to check: is the single lookup of `bundle` (a bundle made from a
/// `GET /api/v1/index` answer: checkpoint, commitment, lookup, no entries) the
/// complete list of log entries under `key`?
#[derive(Clone, Copy, Debug)]
pub struct LookupRequest<'a> {
    /// The index key looked up.
    pub key: &'a IndexKey,
    /// The answer as a bundle: checkpoint and `index` (one lookup), no entries.
    pub bundle: &'a Bundle,
    /// The customer's trust policy (log key, witnesses, freshness).
    pub policy: &'a TrustPolicy,
    /// The newest checkpoint this client verified before, if any.
    pub previous: Option<&'a PreviousCheckpoint>,
    /// The verifier's clock, Unix seconds (freshness).
    pub now: u64,
}

/// Checks a history lookup as [`verify`] checks a bundle's: the checkpoint (log
/// signature, witness quorum, freshness), its consistency with what the client saw,
/// the index commitment ending it, and the lookup proof. On success the verdict's
/// `completeness` names the key and the size the list is complete as of; its
/// `artifact` is the key.
pub fn verify_lookup(request: LookupRequest<'_>) -> Verdict {
    let mut verdict = Verdict {
        artifact: request.key.to_string(),
        ..Verdict::default()
    };
    let Some(signed) = log::check_checkpoint(
        &request.bundle.checkpoint,
        request.policy,
        request.now,
        &mut verdict,
    ) else {
        return verdict;
    };
    log::check_consistency(&signed.checkpoint, request.previous, &mut verdict);
    if let Ok(log_key) = NoteVerifierKey::parse(&request.policy.log.vkey) {
        completeness::check_lookup(
            request.key,
            request.bundle,
            &signed.checkpoint,
            log_key.public_key(),
            &mut verdict,
        );
    }
    verdict
}

/// Everything the engine looks at.
#[derive(Clone, Copy, Debug)]
pub struct VerifyRequest<'a> {
    /// SHA-256 of the artifact to verify.
    pub artifact: &'a Sha256Digest,
    /// The evidence: checkpoint, entries and key events with their proofs.
    pub bundle: &'a Bundle,
    /// The customer's trust policy.
    pub policy: &'a TrustPolicy,
    /// The newest checkpoint this client verified before, if any.
    pub previous: Option<&'a PreviousCheckpoint>,
    /// The customer's own rebuild, when one was run.
    pub local_rebuild: Option<&'a LocalRebuild>,
    /// The verifier's clock, in seconds since the Unix epoch, for `[log] max_age`.
    pub now: u64,
}

/// Runs docs/design.md §6 steps 3–5. Never fails: every problem is a [`Failure`] in the verdict.
///
/// To verify many artifacts against one bundle, open it once with [`Prepared`]: the
/// verdicts are the same.
pub fn verify(request: VerifyRequest<'_>) -> Verdict {
    Prepared::new(request.bundle, request.policy).verify(
        request.artifact,
        request.previous,
        request.local_rebuild,
        request.now,
    )
}
