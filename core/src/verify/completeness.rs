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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use ed25519_dalek::VerifyingKey;

use crate::bundle::{Bundle, BundleIndex, IndexLookup};
use crate::checkpoint::Checkpoint;
use crate::digest::Sha256Digest;
use crate::index::{IndexCommitment, IndexKey};

use super::evidence::prove_receipt;
use super::{Completeness, Failure, Verdict};

/// What the evidence holds under each index key, by the documented mapping: the
/// same for every bundle holding the same entries and key events.
#[derive(Debug, Default)]
pub(super) struct Filing {
    /// Log indices of the evidence's entries that parse.
    filed: BTreeSet<u64>,
    /// The documented mapping: each key's entries among them, increasing.
    by_key: HashMap<IndexKey, Vec<u64>>,
    /// The source keys each entry is filed under.
    sources: HashMap<u64, Vec<IndexKey>>,
}

impl Filing {
    /// Files each entry (by log index) under its keys.
    pub(super) fn of(filed: BTreeMap<u64, Vec<IndexKey>>) -> Filing {
        let mut out = Filing::default();
        for (i, mut keys) in filed {
            out.filed.insert(i);
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                if matches!(key, IndexKey::Source(_)) {
                    out.sources.entry(i).or_default().push(key.clone());
                }
                out.by_key.entry(key).or_default().push(i);
            }
        }
        out
    }
}

/// The bundle's index evidence, opened once for any number of artifacts: the
/// commitment, what the evidence holds under each key, and each lookup's proof,
/// checked the first time an artifact relies on it.
#[derive(Debug)]
pub(super) struct IndexEvidence {
    /// `None` for a bundle without index proofs (version 1); else the commitment, or
    /// why it cannot be trusted.
    commitment: Option<Result<IndexCommitment, Failure>>,
    /// The evidence filed under its keys.
    filing: Arc<Filing>,
    /// Key → position of its lookup in the bundle (the last, if listed twice).
    lookups: HashMap<String, usize>,
    /// What checking each lookup found, by position, once an artifact relied on it.
    checked: Vec<OnceLock<Vec<Failure>>>,
}

impl IndexEvidence {
    /// Opens the commitment, with the evidence as filed.
    pub(super) fn open(
        bundle: &Bundle,
        filing: Arc<Filing>,
        checkpoint: &Checkpoint,
        log_key: &VerifyingKey,
    ) -> IndexEvidence {
        let mut out = IndexEvidence {
            commitment: None,
            filing,
            lookups: HashMap::new(),
            checked: Vec::new(),
        };
        let Some(index) = &bundle.index else {
            return out;
        };
        let mut scratch = Verdict::default();
        out.commitment = Some(
            open_commitment(index, checkpoint, log_key, &mut scratch).ok_or_else(|| {
                scratch
                    .failures
                    .pop()
                    .unwrap_or(Failure::BadIndexCommitment {
                        detail: String::new(),
                    })
            }),
        );
        out.lookups = index
            .lookups
            .iter()
            .enumerate()
            .map(|(at, l)| (l.key.clone(), at))
            .collect();
        out.checked = index.lookups.iter().map(|_| OnceLock::new()).collect();
        out
    }

    /// The proof of `lookup` (for `key`, named `name`), then its list against the
    /// evidence: an entry it lists that the evidence lacks is withheld, an entry the
    /// documented mapping files under the key that it does not list contradicts it.
    fn check_lookup(
        &self,
        lookup: &IndexLookup,
        key: &IndexKey,
        name: &str,
        commitment: &IndexCommitment,
    ) -> Vec<Failure> {
        if let Err(err) = lookup
            .proof
            .verify_list(&commitment.root, &key.hash(), &lookup.indices)
        {
            return vec![Failure::BadIndexProof {
                key: name.to_owned(),
                detail: err.to_string(),
            }];
        }
        let listed: BTreeSet<u64> = lookup.indices.iter().copied().collect();
        let mut failures = Vec::new();
        for &i in &lookup.indices {
            if !self.filing.filed.contains(&i) {
                failures.push(Failure::EntryWithheld {
                    key: name.to_owned(),
                    index: i,
                });
            }
        }
        for &i in self.filing.by_key.get(key).into_iter().flatten() {
            if i < commitment.size && !listed.contains(&i) {
                failures.push(Failure::IndexContradicted {
                    key: name.to_owned(),
                    index: i,
                });
            }
        }
        failures
    }

    /// Checks the index evidence for `artifact` (see the module documentation).
    pub(super) fn check(
        &self,
        artifact: &Sha256Digest,
        bundle: &Bundle,
        require: bool,
        verdict: &mut Verdict,
    ) {
        let (Some(index), Some(commitment)) = (&bundle.index, &self.commitment) else {
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
        let commitment = match commitment {
            Ok(commitment) => commitment,
            Err(failure) => {
                verdict.failures.push(failure.clone());
                return;
            }
        };

        // The keys the verdict relies on: the artifact's, the registry's, and those of
        // the sources its builds name.
        let own = IndexKey::Artifact(artifact.hex());
        let mut required: BTreeSet<IndexKey> = BTreeSet::from([own.clone(), IndexKey::Registry]);
        for i in self.filing.by_key.get(&own).into_iter().flatten() {
            required.extend(self.filing.sources.get(i).into_iter().flatten().cloned());
        }

        let mut proven = Vec::new();
        for key in &required {
            let name = key.to_string();
            let Some(&at) = self.lookups.get(&name) else {
                verdict
                    .failures
                    .push(Failure::CompletenessUnproven { key: name });
                continue;
            };
            // What a lookup proves depends on the lookup alone, not on the artifact
            // that relies on it: checked once, whatever the number of artifacts.
            let failures = self.checked[at]
                .get_or_init(|| self.check_lookup(&index.lookups[at], key, &name, commitment));
            if failures.is_empty() {
                proven.push(name);
            } else {
                verdict.failures.extend(failures.iter().cloned());
            }
        }
        verdict.completeness = Some(Completeness {
            size: commitment.size,
            keys: proven,
        });
    }
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
