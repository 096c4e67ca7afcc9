//! Step 4 of docs/design.md §6: every receipt in the bundle is proven to be in the tree the
//! checkpoint commits to, parses as one of the entry kinds, and was signed by keys
//! entitled to sign it at its position.
//!
//! Nothing about the bundle's arrangement is trusted:
//! - **Order.** Each list (`keyEvents`, `entries`) must be in strictly increasing log
//!   index, and no index may appear in both. Evidence is never sorted here: a rule
//!   such as "a reviewer's latest verdict counts" depends on order, so evidence in the
//!   wrong order is tampering, not a formatting slip ([`Failure::EvidenceOrder`]).
//! - **Repeats.** A statement (its DSSE PAE, [`Envelope::statement_digest`]) logged more
//!   than once — re-submitted with its signatures reordered, or with fewer of them —
//!   counts at its first position only; later copies are ignored with a warning. So an
//!   old approval cannot be replayed into a fresh "latest verdict".
//! - **Placement.** A key event among the ordinary entries would escape the registry
//!   replay (a revocation hidden there would never apply), so it is a failure.
//! - **Vouching.** With `[operators] keys` pinned, a signer counts only if a pinned
//!   operator signed its registration.

use std::collections::{BTreeMap, BTreeSet};

use crate::bundle::{Bundle, Receipt};
use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::digest::Sha256Digest;
use crate::dsse::Envelope;
use crate::index::{keys_of, IndexKey};
use crate::merkle::{leaf_hash, verify_inclusion};
use crate::policy::{KeySet, TrustPolicy};
use crate::registry::{KeyRecord, Registry, RegistryError};
use crate::statement::Attestation;
use crate::tlog_proof::TlogProof;

use super::subjects::Subjects;
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
    /// Entries that count, in log order.
    pub entries: Vec<OpenedEntry>,
    /// Entries that were authorised when they were logged but are not now, because of
    /// something logged after them (a `compromisedSince` window, a voided
    /// registration), in log order. They never add trust; a rejection among them still
    /// stands (see `reviews`).
    pub as_logged: Vec<OpenedEntry>,
    /// Entries that are genuine log entries but whose signers were not entitled to
    /// sign them at their position. They do not count; they become failures if the
    /// policy is not met without them, and warnings otherwise.
    pub excluded: Vec<Failure>,
    /// Artifacts named by build attestations among the excluded entries: a build that
    /// exists but does not count is `tooFewBuilders`, not `noBuild`.
    pub excluded_artifacts: BTreeSet<Sha256Digest>,
    /// The subjects of the builds among `entries`.
    pub subjects: Subjects,
}

/// Every entry and key event of a bundle that parses, by log index, with the keys
/// the log's index files it under (for `completeness`).
pub(super) type Filed = BTreeMap<u64, Vec<IndexKey>>;

/// A receipt that passed its proof and parsed.
struct Opened {
    /// Where the receipt is in its list.
    position: usize,
    index: u64,
    envelope: Envelope,
    attestation: Attestation,
}

/// Replays the bundle's key events into a registry, then opens its attestations;
/// also files every entry under its index keys. Tampering (bad order, a bad proof, a
/// malformed entry, a forged signature, a broken key history) is recorded in
/// `verdict.failures` at once.
pub(super) fn open_all(
    bundle: &Bundle,
    checkpoint: &SignedCheckpoint,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) -> (Evidence, Filed) {
    let cp = &checkpoint.checkpoint;
    let key_events = open_in_order(&bundle.key_events, cp, verdict);
    let entries = open_in_order(&bundle.entries, cp, verdict);
    let filed = filed_evidence(bundle, &entries, &key_events);
    let event_indexes: BTreeSet<u64> = key_events.iter().map(|e| e.index).collect();
    let first_copies = first_copies(key_events.iter().chain(&entries), verdict);

    let mut registry = Registry::new();
    for opened in &key_events {
        if !first_copies.contains(&opened.index) {
            continue;
        }
        let Attestation::KeyEvent(event) = &opened.attestation else {
            verdict.failures.push(Failure::BadKeyEvent {
                index: opened.index,
                detail: format!(
                    "listed among key events but is a {} entry",
                    opened.attestation.kind()
                ),
            });
            continue;
        };
        if let Err(err) = registry.apply(opened.index, &opened.envelope, event) {
            verdict.failures.push(Failure::BadKeyEvent {
                index: opened.index,
                detail: err.to_string(),
            });
        }
    }
    if let KeySet::Listed(pins) = &policy.operators {
        if !pins.iter().any(|pin| registry.get(pin).is_some()) {
            verdict.warnings.push(
                "none of the operator keys your policy pins is registered in this log's history"
                    .to_owned(),
            );
        }
    }

    let mut evidence = Evidence::default();
    for opened in entries {
        if event_indexes.contains(&opened.index) {
            verdict.failures.push(Failure::EvidenceOrder {
                index: opened.index,
                previous: opened.index,
            });
            continue;
        }
        if !first_copies.contains(&opened.index) {
            continue;
        }
        if let Attestation::KeyEvent(_) = opened.attestation {
            verdict.failures.push(Failure::BadKeyEvent {
                index: opened.index,
                detail: "listed among ordinary entries, where the registry replay would not see it"
                    .to_owned(),
            });
            continue;
        }
        let Opened {
            index,
            envelope,
            attestation,
            ..
        } = opened;
        let now = registry
            .authorise(index, &envelope, &attestation)
            .map_err(|err| authorisation_failure(index, &attestation, err))
            .and_then(|signers| vouched(index, signers, &policy.operators));
        match now.map_err(|failure| *failure) {
            Ok(signers) => evidence.entries.push(OpenedEntry {
                index,
                attestation,
                signers,
            }),
            Err(failure) => {
                if matches!(
                    failure,
                    Failure::BadEntrySignature { .. } | Failure::MalformedEntry { .. }
                ) {
                    verdict.failures.push(failure);
                    continue;
                }
                if let Attestation::Build(build) = &attestation {
                    evidence
                        .excluded_artifacts
                        .extend(build.subjects.iter().map(|s| s.sha256));
                }
                let retroactive = matches!(
                    failure,
                    Failure::SignerCompromised { .. } | Failure::SignerVoided { .. }
                );
                if retroactive {
                    let then = registry
                        .authorise_as_logged(index, &envelope, &attestation)
                        .map_err(|err| authorisation_failure(index, &attestation, err))
                        .and_then(|signers| vouched(index, signers, &policy.operators));
                    if let Ok(signers) = then {
                        evidence.as_logged.push(OpenedEntry {
                            index,
                            attestation,
                            signers,
                        });
                    }
                }
                evidence.excluded.push(failure);
            }
        }
    }
    evidence.subjects = Subjects::of(&evidence.entries);
    (evidence, filed)
}

/// Entries whose signers were not entitled to sign them only matter when the policy
/// failed: then they are part of the explanation; otherwise they are warnings.
pub(super) fn report_excluded(evidence: &Evidence, verdict: &mut Verdict) {
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

/// Every entry and key event of the bundle by log index, with the keys it is filed
/// under: those opened as they were parsed, the others (a bad proof, out of order)
/// parsed here. Entries that do not parse are left out; opening fails them.
fn filed_evidence(bundle: &Bundle, entries: &[Opened], key_events: &[Opened]) -> Filed {
    let mut filed = BTreeMap::new();
    for (receipts, opened) in [(&bundle.entries, entries), (&bundle.key_events, key_events)] {
        let mut opened = opened.iter().peekable();
        for (position, receipt) in receipts.iter().enumerate() {
            let keys = match opened.next_if(|o| o.position == position) {
                Some(o) => Some(keys_of(&o.envelope, &o.attestation)),
                None => Envelope::from_value(&receipt.entry)
                    .ok()
                    .and_then(|envelope| {
                        let (_, attestation) = Attestation::from_envelope(&envelope).ok()?;
                        Some(keys_of(&envelope, &attestation))
                    }),
            };
            // A log index listed twice is filed as its last copy.
            if let Some(keys) = keys {
                filed.insert(receipt.index, keys);
            }
        }
    }
    filed
}

/// Opens every receipt of one list, refusing any that does not come strictly after
/// the previous one in log order.
fn open_in_order(receipts: &[Receipt], cp: &Checkpoint, verdict: &mut Verdict) -> Vec<Opened> {
    let mut last: Option<u64> = None;
    let mut out = Vec::with_capacity(receipts.len());
    for (position, receipt) in receipts.iter().enumerate() {
        if let Some(previous) = last.filter(|&last| receipt.index <= last) {
            verdict.failures.push(Failure::EvidenceOrder {
                index: receipt.index,
                previous,
            });
            continue;
        }
        last = Some(receipt.index);
        if let Some(opened) = open_receipt(position, receipt, cp, verdict) {
            out.push(opened);
        }
    }
    out
}

/// The indexes of the first copy of each statement; a warning for each later copy.
fn first_copies<'a>(
    opened: impl Iterator<Item = &'a Opened>,
    verdict: &mut Verdict,
) -> BTreeSet<u64> {
    let mut first: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    let mut repeats = Vec::new();
    for o in opened {
        let digest = o.envelope.statement_digest();
        match first.get(&digest).copied() {
            None => {
                first.insert(digest, o.index);
            }
            Some(seen) if seen < o.index => repeats.push((o.index, seen)),
            Some(seen) => {
                // Listed later but logged earlier (the other list): the earlier wins.
                first.insert(digest, o.index);
                repeats.push((seen, o.index));
            }
        }
    }
    for (index, seen) in repeats {
        verdict.warnings.push(format!(
            "entry {index} repeats the statement of entry {seen} (same payload, other signatures); only the first copy counts"
        ));
    }
    first.into_values().collect()
}

/// With pinned operators, every signer must have been registered by one of them (or
/// be one of them).
fn vouched(
    index: u64,
    signers: Vec<&KeyRecord>,
    operators: &KeySet,
) -> Result<Vec<KeyRecord>, Box<Failure>> {
    if let KeySet::Listed(pins) = operators {
        for signer in &signers {
            let ok = pins.contains(&signer.key_id)
                || signer.registered_by.iter().any(|by| pins.contains(by));
            if !ok {
                return Err(Box::new(Failure::SignerNotVouched {
                    index,
                    key_id: signer.key_id.clone(),
                    registered_by: signer.registered_by.clone(),
                    pinned: pins.iter().cloned().collect(),
                }));
            }
        }
    }
    Ok(signers.into_iter().cloned().collect())
}

/// Proves one receipt against the checkpoint and parses its envelope and statement.
fn open_receipt(
    position: usize,
    receipt: &Receipt,
    checkpoint: &Checkpoint,
    verdict: &mut Verdict,
) -> Option<Opened> {
    let index = receipt.index;
    let envelope = match prove_receipt(receipt, checkpoint) {
        Ok(envelope) => envelope,
        Err(failure) => {
            verdict.failures.push(*failure);
            return None;
        }
    };
    match Attestation::from_envelope(&envelope) {
        Ok((_, attestation)) => Some(Opened {
            position,
            index,
            envelope,
            attestation,
        }),
        Err(err) => {
            verdict.failures.push(Failure::MalformedEntry {
                index,
                detail: format!("statement: {err}"),
            });
            None
        }
    }
}

/// The receipt's envelope, once its tlog-proof shows it at its index in the
/// checkpoint's tree.
pub(super) fn prove_receipt(
    receipt: &Receipt,
    checkpoint: &Checkpoint,
) -> Result<Envelope, Box<Failure>> {
    let index = receipt.index;
    let bad_proof = |detail: String| Box::new(Failure::BadInclusionProof { index, detail });
    let envelope = Envelope::from_value(&receipt.entry).map_err(|err| {
        Box::new(Failure::MalformedEntry {
            index,
            detail: format!("envelope: {err}"),
        })
    })?;
    let proof = TlogProof::parse(receipt.tlog_proof.as_bytes())
        .map_err(|err| bad_proof(format!("tlog-proof: {err}")))?;
    if proof.index != index {
        return Err(bad_proof(format!(
            "the tlog-proof is for index {}",
            proof.index
        )));
    }
    match SignedCheckpoint::parse_unverified(&proof.checkpoint) {
        Ok(signed) if &signed.checkpoint == checkpoint => {}
        Ok(signed) => {
            return Err(bad_proof(format!(
            "the tlog-proof is made against tree size {}, not the bundle's checkpoint (size {})",
            signed.checkpoint.size, checkpoint.size
        )))
        }
        Err(err) => return Err(bad_proof(format!("the tlog-proof's checkpoint: {err}"))),
    }
    let leaf = envelope.to_canonical_json();
    verify_inclusion(
        &leaf_hash(&leaf),
        index,
        checkpoint.size,
        &proof.hashes,
        &checkpoint.root,
    )
    .map_err(|err| bad_proof(err.to_string()))?;
    Ok(envelope)
}

fn authorisation_failure(
    index: u64,
    attestation: &Attestation,
    err: RegistryError,
) -> Box<Failure> {
    Box::new(match err {
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
        RegistryError::Voided {
            key_id,
            operator,
            at,
        } => Failure::SignerVoided {
            index,
            key_id,
            operator,
            at,
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
    })
}
