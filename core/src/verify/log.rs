//! Step 3 of docs/design.md §6: is the bundle's checkpoint the log's, vouched for by enough
//! witnesses, and consistent with what this client saw before?

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::cosignature::{verify_cosignatures, CosignatureVerifierKey};
use crate::merkle::verify_consistency;
use crate::note::NoteVerifierKey;
use crate::policy::TrustPolicy;

use super::{
    CheckpointSummary, Consistency, ConsistencyProof, Failure, PreviousCheckpoint, Verdict,
    WitnessSummary,
};

/// Opens the evidence's checkpoint (signed note text) with the policy's log key and
/// counts witness cosignatures, their freshness judged at `now` (Unix seconds).
/// Returns `None` when the checkpoint cannot be trusted at all — then nothing proven
/// against it means anything and verification stops there.
pub(super) fn check_checkpoint(
    checkpoint: &str,
    policy: &TrustPolicy,
    now: u64,
    verdict: &mut Verdict,
) -> Option<SignedCheckpoint> {
    judge_checkpoint(&open_checkpoint(checkpoint, policy), policy, now, verdict).cloned()
}

/// The signatures on a checkpoint, checked: what [`judge_checkpoint`] needs, which
/// depends only on the checkpoint's bytes and the policy's keys.
#[derive(Clone, Debug)]
pub(super) struct OpenedCheckpoint {
    /// The checkpoint, its log signature verified, with what a verdict says of it
    /// (the witnesses whose cosignatures verified among it); or why not.
    signed: Result<(SignedCheckpoint, CheckpointSummary), Failure>,
    /// The policy's witnesses with no cosignature that verifies.
    missing: Vec<String>,
    /// Unusable witness keys and cosignatures that do not verify, in the order met.
    warnings: Vec<String>,
}

/// Verifies the log signature and each trusted witness's cosignature.
pub(super) fn open_checkpoint(checkpoint: &str, policy: &TrustPolicy) -> OpenedCheckpoint {
    let refused = |detail: String| OpenedCheckpoint {
        signed: Err(Failure::BadLogSignature { detail }),
        missing: Vec::new(),
        warnings: Vec::new(),
    };
    let log_key = match NoteVerifierKey::parse(&policy.log.vkey) {
        Ok(key) => key,
        Err(err) => return refused(format!("the policy's log vkey is unusable: {err}")),
    };
    let signed = match SignedCheckpoint::open(checkpoint.as_bytes(), &log_key) {
        Ok(signed) => signed,
        Err(err) => return refused(err.to_string()),
    };

    let mut warnings = Vec::new();
    let mut witnesses = Vec::new();
    let witness_keys: Vec<CosignatureVerifierKey> = policy
        .witnesses
        .vkeys
        .iter()
        .filter_map(|vkey| match CosignatureVerifierKey::parse(vkey) {
            Ok(key) => Some(key),
            Err(err) => {
                warnings.push(format!("ignoring unusable witness vkey {vkey:?}: {err}"));
                None
            }
        })
        .collect();
    // Each trusted witness is checked on its own, so one bad cosignature neither
    // hides the others nor counts (C2SP tlog-cosignature; signed-note §Signatures).
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    for key in &witness_keys {
        let id = format!("{}+{:08x}", key.name(), key.key_id());
        if seen.contains(&id) {
            continue;
        }
        seen.push(id.clone());
        match verify_cosignatures(&signed.note, &[key]) {
            Ok(verified) if !verified.is_empty() => {
                witnesses.extend(verified.into_iter().map(|c| WitnessSummary {
                    name: c.name,
                    timestamp: c.timestamp,
                }));
            }
            Ok(_) => missing.push(id),
            Err(err) => {
                warnings.push(format!(
                    "witness {id}: its cosignature on the checkpoint does not verify ({err}); not counted"
                ));
                missing.push(id);
            }
        }
    }
    let summary = CheckpointSummary {
        origin: signed.checkpoint.origin.clone(),
        size: signed.checkpoint.size,
        root: hex::encode(signed.checkpoint.root),
        witnesses,
    };
    OpenedCheckpoint {
        signed: Ok((signed, summary)),
        missing,
        warnings,
    }
}

impl OpenedCheckpoint {
    /// The checkpoint, when the log's signature on it verified.
    pub(super) fn signed(&self) -> Option<&SignedCheckpoint> {
        self.signed.as_ref().ok().map(|(signed, _)| signed)
    }
}

/// Records what [`open_checkpoint`] found in `verdict`, then checks the witness
/// quorum and, at `now`, the freshness the policy asks for.
pub(super) fn judge_checkpoint<'c>(
    opened: &'c OpenedCheckpoint,
    policy: &TrustPolicy,
    now: u64,
    verdict: &mut Verdict,
) -> Option<&'c SignedCheckpoint> {
    let (signed, summary) = match &opened.signed {
        Ok(opened) => opened,
        Err(failure) => {
            verdict.failures.push(failure.clone());
            return None;
        }
    };
    verdict.warnings.extend(opened.warnings.iter().cloned());
    let witnesses = &summary.witnesses;
    let quorum = policy.witnesses.quorum;
    if witnesses.len() < quorum {
        verdict.failures.push(Failure::WitnessQuorum {
            verified: witnesses.len(),
            quorum,
            missing: opened.missing.clone(),
        });
    } else if let Some(max_age) = policy.log.max_age {
        check_freshness(witnesses, quorum, max_age, now, verdict);
    }
    verdict.checkpoint = Some(summary.clone());
    Some(signed)
}

/// `[log] max_age`: a quorum of the policy's witnesses must have cosigned the
/// checkpoint within `max_age` of `now`. Witness timestamps are the only clock
/// outside the log that vouches for when a checkpoint was current; with no witness
/// required there is none, and the verdict says so.
fn check_freshness(
    witnesses: &[WitnessSummary],
    quorum: usize,
    max_age: u64,
    now: u64,
    verdict: &mut Verdict,
) {
    if quorum == 0 {
        verdict.warnings.push(format!(
            "freshness rests on this client's own state alone: the policy sets max_age ({max_age} s) \
             but requires no witness, and only witness cosignatures say when a checkpoint was current"
        ));
        return;
    }
    let fresh = witnesses
        .iter()
        .filter(|w| w.timestamp.saturating_add(max_age) >= now)
        .count();
    if fresh < quorum {
        verdict.failures.push(Failure::CheckpointTooOld {
            fresh,
            quorum,
            max_age,
            newest: witnesses.iter().map(|w| w.timestamp).max(),
        });
    }
}

/// Relates `current` to the checkpoint this client verified before.
///
/// - same size: the roots must be equal;
/// - smaller: stale — evidence from the past never verifies (a replayed old bundle, a
///   server behind or rolled back); a proof that fails is a split view besides;
/// - larger: the proof must verify; online, a missing proof is a failure
///   ([`Failure::ConsistencyUnproven`]), offline it is a warning and the state is not
///   advanced.
pub(super) fn check_consistency(
    current: &Checkpoint,
    previous: Option<&PreviousCheckpoint>,
    verdict: &mut Verdict,
) {
    let Some(previous) = previous else {
        verdict.consistency = Consistency::FirstSeen;
        return;
    };
    let old = &previous.checkpoint;
    let split = |detail: String, verdict: &mut Verdict| {
        verdict.consistency = Consistency::SplitView;
        verdict.failures.push(Failure::SplitView {
            previous_size: old.size,
            previous_root: hex::encode(old.root),
            size: current.size,
            root: hex::encode(current.root),
            detail,
        });
    };
    if old.origin != current.origin {
        split(
            format!(
                "the previous checkpoint is of log {:?}, this one of {:?}",
                old.origin, current.origin
            ),
            verdict,
        );
        return;
    }
    if old.size == current.size {
        if old.root == current.root {
            verdict.consistency = Consistency::Same;
        } else {
            split("same size, different roots".to_owned(), verdict);
        }
        return;
    }
    if current.size < old.size {
        verdict.consistency = Consistency::Stale {
            previous_size: old.size,
            size: current.size,
        };
        verdict.failures.push(Failure::Stale {
            size: current.size,
            remembered_size: old.size,
            offline: previous.proof == ConsistencyProof::Offline,
        });
        if current.size == 0 {
            split("the log shrank to an empty tree".to_owned(), verdict);
        } else if let ConsistencyProof::Proof(proof) = &previous.proof {
            if let Err(err) =
                verify_consistency(current.size, old.size, proof, &current.root, &old.root)
            {
                split(format!("consistency proof fails: {err}"), verdict);
            }
        }
        return;
    }
    // An empty tree is a prefix of every tree.
    if old.size == 0 {
        verdict.consistency = Consistency::Proven {
            previous_size: 0,
            size: current.size,
        };
        return;
    }
    match &previous.proof {
        ConsistencyProof::Proof(proof) => {
            match verify_consistency(old.size, current.size, proof, &old.root, &current.root) {
                Ok(()) => {
                    verdict.consistency = Consistency::Proven {
                        previous_size: old.size,
                        size: current.size,
                    };
                }
                Err(err) => split(format!("consistency proof fails: {err}"), verdict),
            }
        }
        ConsistencyProof::Offline => {
            verdict.consistency = Consistency::Unproven {
                previous_size: old.size,
                size: current.size,
            };
            verdict.warnings.push(format!(
                "offline: no consistency proof between the checkpoint seen before (size {}) and this \
                 one (size {}); verify online to prove it (the remembered checkpoint is kept)",
                old.size, current.size
            ));
        }
        ConsistencyProof::Unavailable(reason) => {
            verdict.consistency = Consistency::Unproven {
                previous_size: old.size,
                size: current.size,
            };
            verdict.failures.push(Failure::ConsistencyUnproven {
                previous_size: old.size,
                size: current.size,
                detail: reason.clone(),
            });
        }
    }
}
