//! Step 4 of DESIGN §6: every receipt in the bundle is proven to be in the tree the
//! checkpoint commits to, parses as one of the entry kinds, and was signed by keys
//! entitled to sign it at its position.

use crate::bundle::{Bundle, Receipt};
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::dsse::Envelope;
use crate::merkle::{leaf_hash, verify_inclusion};
use crate::registry::{KeyRecord, Registry, RegistryError};
use crate::statement::Attestation;
use crate::tlog_proof::TlogProof;

use super::{Failure, Verdict};

/// An entry that is proven, parsed and authorised.
#[derive(Clone, Debug)]
pub(super) struct OpenedEntry {
    pub index: u64,
    pub attestation: Attestation,
    pub signers: Vec<KeyRecord>,
}

/// The outcome of opening the bundle's attestations.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    /// Entries that count.
    pub entries: Vec<OpenedEntry>,
    /// Entries that are genuine log entries but whose signers were not entitled to
    /// sign them at their position. They do not count; they become failures if the
    /// policy is not met without them, and warnings otherwise.
    pub excluded: Vec<Failure>,
}

/// Replays the bundle's key events into `registry`, then opens its attestations.
/// Tampering (a bad proof, a malformed entry, a forged signature, a broken key
/// history) is recorded in `verdict.failures` at once.
pub(super) fn open_all(
    bundle: &Bundle,
    checkpoint: &SignedCheckpoint,
    registry: &mut Registry,
    verdict: &mut Verdict,
) -> Evidence {
    let cp = &checkpoint.checkpoint;
    let mut last_index = None;
    for receipt in &bundle.key_events {
        if last_index.is_some_and(|last| receipt.index <= last) {
            verdict.failures.push(Failure::BadKeyEvent {
                index: receipt.index,
                detail: "key events are not in strictly increasing log order".to_owned(),
            });
            continue;
        }
        last_index = Some(receipt.index);
        let Some((envelope, attestation)) = open_receipt(receipt, cp, verdict) else {
            continue;
        };
        let Attestation::KeyEvent(event) = &attestation else {
            verdict.failures.push(Failure::BadKeyEvent {
                index: receipt.index,
                detail: format!(
                    "listed among key events but is a {} entry",
                    attestation.kind()
                ),
            });
            continue;
        };
        if let Err(err) = registry.apply(receipt.index, &envelope, event) {
            verdict.failures.push(Failure::BadKeyEvent {
                index: receipt.index,
                detail: err.to_string(),
            });
        }
    }

    let mut evidence = Evidence::default();
    for receipt in &bundle.entries {
        let Some((envelope, attestation)) = open_receipt(receipt, cp, verdict) else {
            continue;
        };
        match registry.authorise(receipt.index, &envelope, &attestation) {
            Ok(signers) => {
                let signers = signers.into_iter().cloned().collect();
                evidence.entries.push(OpenedEntry {
                    index: receipt.index,
                    attestation,
                    signers,
                });
            }
            Err(err) => {
                let failure = authorisation_failure(receipt.index, &attestation, err);
                if matches!(
                    failure,
                    Failure::BadEntrySignature { .. } | Failure::MalformedEntry { .. }
                ) {
                    verdict.failures.push(failure);
                } else {
                    evidence.excluded.push(failure);
                }
            }
        }
    }
    evidence
}

/// Proves one receipt against the checkpoint and parses its envelope and statement.
fn open_receipt(
    receipt: &Receipt,
    checkpoint: &Checkpoint,
    verdict: &mut Verdict,
) -> Option<(Envelope, Attestation)> {
    let index = receipt.index;
    let malformed = |detail: String, verdict: &mut Verdict| {
        verdict
            .failures
            .push(Failure::MalformedEntry { index, detail });
    };
    let envelope = match Envelope::from_value(&receipt.entry) {
        Ok(envelope) => envelope,
        Err(err) => {
            malformed(format!("envelope: {err}"), verdict);
            return None;
        }
    };
    let bad_proof = |detail: String, verdict: &mut Verdict| {
        verdict
            .failures
            .push(Failure::BadInclusionProof { index, detail });
    };
    let proof = match TlogProof::parse(receipt.tlog_proof.as_bytes()) {
        Ok(proof) => proof,
        Err(err) => {
            bad_proof(format!("tlog-proof: {err}"), verdict);
            return None;
        }
    };
    if proof.index != index {
        bad_proof(
            format!("the tlog-proof is for index {}", proof.index),
            verdict,
        );
        return None;
    }
    match SignedCheckpoint::parse_unverified(&proof.checkpoint) {
        Ok(signed) if &signed.checkpoint == checkpoint => {}
        Ok(signed) => {
            bad_proof(
                format!(
                    "the tlog-proof is made against tree size {}, not the bundle's checkpoint (size {})",
                    signed.checkpoint.size, checkpoint.size
                ),
                verdict,
            );
            return None;
        }
        Err(err) => {
            bad_proof(format!("the tlog-proof's checkpoint: {err}"), verdict);
            return None;
        }
    }
    let leaf = envelope.to_canonical_json();
    if let Err(err) = verify_inclusion(
        &leaf_hash(&leaf),
        index,
        checkpoint.size,
        &proof.hashes,
        &checkpoint.root,
    ) {
        bad_proof(err.to_string(), verdict);
        return None;
    }
    match Attestation::from_envelope(&envelope) {
        Ok((_, attestation)) => Some((envelope, attestation)),
        Err(err) => {
            malformed(format!("statement: {err}"), verdict);
            None
        }
    }
}

fn authorisation_failure(index: u64, attestation: &Attestation, err: RegistryError) -> Failure {
    match err {
        RegistryError::NotRegistered { key_id, .. } => {
            Failure::SignerNotRegistered { index, key_id }
        }
        RegistryError::Revoked {
            key_id,
            revoked_at,
            reason,
        } => Failure::SignerRevoked {
            index,
            key_id,
            revoked_at,
            reason,
        },
        RegistryError::Compromised {
            key_id,
            compromised_since,
            claimed,
        } => Failure::SignerCompromised {
            index,
            key_id,
            compromised_since,
            claimed,
        },
        RegistryError::WrongRole { key_id, needed, .. } => Failure::WrongRole {
            index,
            key_id,
            kind: attestation.kind().to_owned(),
            needed,
        },
        RegistryError::BadSignature { key_id } => Failure::BadEntrySignature { index, key_id },
        other => Failure::MalformedEntry {
            index,
            detail: other.to_string(),
        },
    }
}
