//! The verification engine: DESIGN §6 steps 3–5 as one pure function.
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
//! 2. it is consistent with the previously seen checkpoint — a proven inconsistency is
//!    a split view;
//! 3. every receipt's tlog-proof is for this checkpoint and proves the receipt's
//!    entry at its index; key events are replayed into a [`Registry`] and every other
//!    entry's signers are authorised at its position ([`evidence`]);
//! 4. the policy: enough distinct trusted builders attest the artifact from one
//!    source dirHash, and enough distinct trusted reviewers approved that source with
//!    no trusted reviewer's standing rejection ([`policy`]).

mod evidence;
mod log;
mod policy;
mod verdict;

pub use verdict::{
    BuildLink, CheckpointSummary, Consistency, Failure, ReviewLink, SourceLink, Verdict,
    WitnessSummary,
};

use crate::bundle::Bundle;
use crate::checkpoint::Checkpoint;
use crate::digest::Sha256Digest;
use crate::merkle::Hash;
use crate::policy::TrustPolicy;
use crate::registry::Registry;

/// The newest checkpoint this client verified before, and the consistency proof
/// between it and the bundle's checkpoint when one could be obtained (from the older
/// of the two to the newer).
#[derive(Clone, Debug)]
pub struct PreviousCheckpoint {
    pub checkpoint: Checkpoint,
    pub proof: Option<Vec<Hash>>,
}

/// Everything the engine looks at.
#[derive(Clone, Copy, Debug)]
pub struct VerifyRequest<'a> {
    pub artifact: &'a Sha256Digest,
    pub bundle: &'a Bundle,
    pub policy: &'a TrustPolicy,
    pub previous: Option<&'a PreviousCheckpoint>,
}

/// Runs DESIGN §6 steps 3–5. Never fails: every problem is a [`Failure`] in the verdict.
pub fn verify(request: VerifyRequest<'_>) -> Verdict {
    let mut verdict = Verdict {
        artifact: request.artifact.to_string(),
        ..Verdict::default()
    };
    if request.bundle.artifact.parse::<Sha256Digest>().ok() != Some(*request.artifact) {
        verdict.warnings.push(format!(
            "the bundle was assembled for {}, not for this artifact",
            request.bundle.artifact
        ));
    }
    let Some(signed) = log::check_checkpoint(request, &mut verdict) else {
        return verdict;
    };
    log::check_consistency(&signed.checkpoint, request.previous, &mut verdict);

    let mut registry = Registry::new();
    let evidence = evidence::open_all(request.bundle, &signed, &mut registry, &mut verdict);
    policy::evaluate(request.artifact, &evidence, request.policy, &mut verdict);
    verdict
}
