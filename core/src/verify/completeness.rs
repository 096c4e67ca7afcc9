//! Completeness: the evidence holds *every* entry the verdict depends on.
//!
//! Inclusion proofs show that what a bundle holds is in the log; they cannot show
//! that nothing was left out, and the verdict rests on absences — no rejecting
//! review, no revocation, no contradicting build. A version 2 bundle carries the
//! log's index commitment (the last entry of its checkpoint, signed with the log's
//! key) and a lookup proof for each key the verdict relies on:
//!
//! * `artifact:<digest>` — every build naming the artifact;
//! * `source:<dirHash>` for each source those builds name — every submission,
//!   review and build of it;
//! * `registry` — every key event.
//!
//! Each proven list must match the evidence exactly: an index the log files under
//! the key but the evidence lacks is [`Failure::EntryWithheld`]; an entry in the
//! evidence that the documented mapping files under the key but the log's index
//! does not list is [`Failure::IndexContradicted`] (the log misbehaves). A key with
//! no lookup is [`Failure::CompletenessUnproven`]. A version 1 bundle gets a warning.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::VerifyingKey;

use crate::bundle::{Bundle, BundleIndex};
use crate::checkpoint::Checkpoint;
use crate::digest::Sha256Digest;
use crate::dsse::Envelope;
use crate::index::{keys_of, IndexCommitment, IndexKey};
use crate::statement::Attestation;

use super::evidence::prove_receipt;
use super::{Completeness, Failure, Verdict};

/// Checks the bundle's index evidence (see the module documentation).
pub(super) fn check(
    artifact: &Sha256Digest,
    bundle: &Bundle,
    checkpoint: &Checkpoint,
    log_key: &VerifyingKey,
    require: bool,
    verdict: &mut Verdict,
) {
    let Some(index) = &bundle.index else {
        if require {
            verdict.failures.push(Failure::CompletenessUnproven {
                key: "every key (the evidence carries no index proofs: a version 1 bundle)"
                    .to_owned(),
            });
            return;
        }
        verdict.warnings.push(
            "completeness unproven: the evidence carries no index proofs (a version 1 bundle), \
             so an entry left out of it — a rejection, a revocation, a contradicting build — \
             would go unnoticed"
                .to_owned(),
        );
        return;
    };
    let Some(commitment) = open_commitment(index, checkpoint, log_key, verdict) else {
        return;
    };

    // What the evidence holds, and the keys the documented mapping files it under.
    let filed = filed_evidence(bundle);
    let mut required: BTreeSet<IndexKey> =
        BTreeSet::from([IndexKey::Artifact(artifact.hex()), IndexKey::Registry]);
    for keys in filed.values() {
        if keys.contains(&IndexKey::Artifact(artifact.hex())) {
            required.extend(
                keys.iter()
                    .filter(|k| matches!(k, IndexKey::Source(_)))
                    .cloned(),
            );
        }
    }

    let lookups: BTreeMap<&str, _> = index.lookups.iter().map(|l| (l.key.as_str(), l)).collect();
    let mut proven = Vec::new();
    for key in &required {
        let name = key.to_string();
        let Some(lookup) = lookups.get(name.as_str()) else {
            verdict
                .failures
                .push(Failure::CompletenessUnproven { key: name });
            continue;
        };
        if let Err(err) = lookup
            .proof
            .verify_list(&commitment.root, &key.hash(), &lookup.indices)
        {
            verdict.failures.push(Failure::BadIndexProof {
                key: name,
                detail: err.to_string(),
            });
            continue;
        }
        let listed: BTreeSet<u64> = lookup.indices.iter().copied().collect();
        let before = verdict.failures.len();
        for &i in &lookup.indices {
            if !filed.contains_key(&i) {
                verdict.failures.push(Failure::EntryWithheld {
                    key: name.clone(),
                    index: i,
                });
            }
        }
        for (&i, keys) in &filed {
            if i < commitment.size && keys.contains(key) && !listed.contains(&i) {
                verdict.failures.push(Failure::IndexContradicted {
                    key: name.clone(),
                    index: i,
                });
            }
        }
        if verdict.failures.len() == before {
            proven.push(name);
        }
    }
    verdict.completeness = Some(Completeness {
        size: commitment.size,
        keys: proven,
    });
}

/// Checks the one lookup of a history answer (see [`super::verify_lookup`]).
pub(super) fn check_lookup(
    key: &IndexKey,
    bundle: &Bundle,
    checkpoint: &Checkpoint,
    log_key: &VerifyingKey,
    verdict: &mut Verdict,
) {
    let name = key.to_string();
    let Some(index) = &bundle.index else {
        verdict
            .failures
            .push(Failure::CompletenessUnproven { key: name });
        return;
    };
    let Some(commitment) = open_commitment(index, checkpoint, log_key, verdict) else {
        return;
    };
    let [lookup] = index.lookups.as_slice() else {
        verdict
            .failures
            .push(Failure::CompletenessUnproven { key: name });
        return;
    };
    if lookup.key != name {
        verdict.failures.push(Failure::BadIndexProof {
            key: name,
            detail: format!("the answer is for key {:?}", lookup.key),
        });
        return;
    }
    match lookup
        .proof
        .verify_list(&commitment.root, &key.hash(), &lookup.indices)
    {
        Err(err) => verdict.failures.push(Failure::BadIndexProof {
            key: name,
            detail: err.to_string(),
        }),
        Ok(_) if lookup.indices.iter().any(|&i| i >= commitment.size) => {
            verdict.failures.push(Failure::BadIndexProof {
                key: name,
                detail: format!(
                    "it lists entries at or after the commitment ({})",
                    commitment.size
                ),
            })
        }
        Ok(_) => {
            verdict.completeness = Some(Completeness {
                size: commitment.size,
                keys: vec![name],
            })
        }
    }
}

/// The commitment must be the last entry of the checkpoint's tree, proven, signed
/// by the log's key, for this log, and cover every entry before it.
fn open_commitment(
    index: &BundleIndex,
    checkpoint: &Checkpoint,
    log_key: &VerifyingKey,
    verdict: &mut Verdict,
) -> Option<IndexCommitment> {
    let bad = |detail: String, verdict: &mut Verdict| {
        verdict
            .failures
            .push(Failure::BadIndexCommitment { detail });
        None
    };
    let receipt = &index.commitment;
    if checkpoint.size == 0 || receipt.index != checkpoint.size - 1 {
        return bad(
            format!(
                "it is entry {}, not the last entry ({}) of the checkpoint",
                receipt.index,
                checkpoint.size.saturating_sub(1)
            ),
            verdict,
        );
    }
    let envelope = match prove_receipt(receipt, checkpoint) {
        Ok(envelope) => envelope,
        Err(failure) => return bad(failure.to_string(), verdict),
    };
    let commitment = match IndexCommitment::open(&envelope, log_key) {
        Ok(c) => c,
        Err(err) => return bad(err.to_string(), verdict),
    };
    if commitment.origin != checkpoint.origin {
        return bad(
            format!(
                "it is for log {:?}, not {:?}",
                commitment.origin, checkpoint.origin
            ),
            verdict,
        );
    }
    if commitment.size != receipt.index {
        return bad(
            format!(
                "at entry {} it covers {} entries, not every entry before it",
                receipt.index, commitment.size
            ),
            verdict,
        );
    }
    Some(commitment)
}

/// Every entry of the evidence by log index, with the keys it is filed under.
/// Entries that do not parse are left to the evidence step, which fails them.
fn filed_evidence(bundle: &Bundle) -> BTreeMap<u64, Vec<IndexKey>> {
    bundle
        .entries
        .iter()
        .chain(&bundle.key_events)
        .filter_map(|receipt| {
            let envelope = Envelope::from_value(&receipt.entry).ok()?;
            let (_, attestation) = Attestation::from_envelope(&envelope).ok()?;
            Some((receipt.index, keys_of(&envelope, &attestation)))
        })
        .collect()
}
