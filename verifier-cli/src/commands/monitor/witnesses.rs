//! Comparing the log's checkpoints with the ones its witnesses cosigned.
//!
//! A log that shows two parties two histories has to sign two checkpoints that
//! cannot both be honest: two of the same size with different roots, or two sizes
//! the log cannot prove consistent (RFC 9162 §2.1.4). A witness keeps the latest
//! checkpoint it cosigned for each log (C2SP tlog-witness; docs/witness.md), so a
//! log that got a witness to cosign a fork cannot later show anyone else a history
//! that does not extend it without the two signed notes, side by side, proving it.
//! This module finds such pairs among the log's `/checkpoint`, its history
//! (`/api/v1/checkpoints`) and each witness's latest checkpoint; the notes are the
//! evidence, independent of the monitor and of the witness that served them.

use std::collections::BTreeMap;

use glassbox_core::checkpoint::{Checkpoint, SignedCheckpoint};
use glassbox_core::cosignature::TimestampedSignature;
use glassbox_core::merkle::{verify_consistency, Hash};
use glassbox_core::note::Note;
use glassbox_core::verify::ConsistencyProof;
use serde::Serialize;

use super::source::{LogSource, Trust, WitnessSource};

/// The witnesses to read and when a witness that lags counts as stuck.
pub struct WitnessCheck<'a> {
    pub witnesses: &'a [Box<dyn WitnessSource>],
    /// Seconds after which a witness whose checkpoint is smaller than the log's is
    /// reported as stuck.
    pub max_age: u64,
    /// Now, in POSIX seconds.
    pub now: u64,
}

/// How a witness's view relates to the log's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WitnessStatus {
    /// Same checkpoint as the log's `/checkpoint`.
    Current,
    /// An older checkpoint the log proved its tree extends, recently cosigned.
    Behind,
    /// Older, and cosigned longer ago than the limit: the witness is down or the log
    /// stopped showing it new checkpoints (a freeze of that witness's view).
    Stuck,
    /// A larger checkpoint the log proved consistent with its `/checkpoint` (a
    /// stale `/checkpoint`, e.g. behind a cache).
    Ahead,
    /// A checkpoint that conflicts with the log's: proof of misbehaviour.
    SplitView,
    /// The witness answered that it has cosigned nothing for this log.
    Empty,
    /// The witness could not be reached, or served something that is not a
    /// checkpoint signed by the log key.
    Unavailable,
}

/// One witness as this round saw it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WitnessView {
    pub url: String,
    pub status: WitnessStatus,
    pub size: Option<u64>,
    /// Root hash, lowercase hex.
    pub root: Option<String>,
    /// Newest cosignature timestamp on the note (POSIX seconds).
    pub cosigned_at: Option<u64>,
    /// Whether that timestamp verified with a witness key of the policy.
    pub timestamp_verified: bool,
}

/// A log-signed checkpoint and where it was read.
#[derive(Clone, Debug)]
pub struct Seen {
    pub from: String,
    pub note: Vec<u8>,
    pub checkpoint: Checkpoint,
}

impl Seen {
    fn describe(&self) -> String {
        format!(
            "size {} root {} ({})",
            self.checkpoint.size,
            hex::encode(self.checkpoint.root),
            self.from
        )
    }
}

/// Two log-signed checkpoints that cannot both be honest.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub first: Seen,
    pub second: Seen,
    /// Why: same size with different roots, a failing proof, or no proof at all.
    pub reason: String,
    /// The consistency proof that failed, if the log gave one.
    pub proof: Vec<Hash>,
}

impl Conflict {
    /// One line naming both checkpoints.
    pub fn describe(&self) -> String {
        format!(
            "split view: {} and {} are both signed by the log: {}",
            self.first.describe(),
            self.second.describe(),
            self.reason
        )
    }
}

/// What comparing the witnesses' checkpoints with the log's found.
#[derive(Debug, Default)]
pub struct Findings {
    pub views: Vec<WitnessView>,
    pub conflicts: Vec<Conflict>,
    /// Not proof of anything, but worth a look (e.g. a witness stuck or down).
    pub warnings: Vec<String>,
    /// Wrong, but not two conflicting checkpoints (e.g. a history note the log key
    /// did not sign).
    pub problems: Vec<String>,
}

/// Compares `current` (the log's `/checkpoint`) with the log's history at the same
/// size and with every witness's latest checkpoint.
pub fn check(
    log: &dyn LogSource,
    trust: &Trust,
    current: &Seen,
    witnesses: &WitnessCheck<'_>,
) -> anyhow::Result<Findings> {
    let mut findings = Findings::default();
    let mut history = History::default();
    if let Some(kept) = history.at(log, trust, current.checkpoint.size, &mut findings) {
        findings.conflicts.extend(compare(log, &kept, current)?);
    }
    let origin = trust.log.name();
    for witness in witnesses.witnesses {
        let url = witness.url().to_owned();
        let mut view = WitnessView {
            url: url.clone(),
            status: WitnessStatus::Unavailable,
            size: None,
            root: None,
            cosigned_at: None,
            timestamp_verified: false,
        };
        let note = match witness.latest(origin) {
            Ok(Some(note)) => note,
            Ok(None) => {
                view.status = WitnessStatus::Empty;
                findings.warnings.push(format!(
                    "witness {url} has cosigned no checkpoint of {origin} (is the log asking it?)"
                ));
                findings.views.push(view);
                continue;
            }
            Err(err) => {
                findings
                    .warnings
                    .push(format!("witness {url} is unreachable: {err:#}"));
                findings.views.push(view);
                continue;
            }
        };
        let signed = match SignedCheckpoint::open(&note, &trust.log) {
            Ok(signed) => signed,
            Err(err) => {
                findings.warnings.push(format!(
                    "witness {url} serves a checkpoint that does not verify with the log key: {err}"
                ));
                findings.views.push(view);
                continue;
            }
        };
        let seen = Seen {
            from: format!("witness {url}"),
            note,
            checkpoint: signed.checkpoint,
        };
        let size = seen.checkpoint.size;
        view.size = Some(size);
        view.root = Some(hex::encode(seen.checkpoint.root));
        (view.cosigned_at, view.timestamp_verified) = cosigned_at(&signed.note, trust);

        // A kept checkpoint of the same size is the plainest evidence; else a proof.
        let mut conflict = None;
        if size != current.checkpoint.size {
            if let Some(kept) = history.at(log, trust, size, &mut findings) {
                conflict = compare(log, &seen, &kept)?;
            }
        }
        if conflict.is_none() {
            conflict = compare(log, &seen, current)?;
        }
        view.status = match (&conflict, size.cmp(&current.checkpoint.size)) {
            (Some(_), _) => WitnessStatus::SplitView,
            (None, std::cmp::Ordering::Equal) => WitnessStatus::Current,
            (None, std::cmp::Ordering::Greater) => WitnessStatus::Ahead,
            (None, std::cmp::Ordering::Less) => {
                let age = view.cosigned_at.map(|t| witnesses.now.saturating_sub(t));
                if age.is_none_or(|age| age > witnesses.max_age) {
                    findings.warnings.push(format!(
                        "witness {url} is stuck at size {size}, {} behind the log's {}, {}: \
                         the witness is down, or the log stopped showing it new checkpoints",
                        current.checkpoint.size - size,
                        current.checkpoint.size,
                        match age {
                            Some(age) => format!("last cosigned {age} s ago"),
                            None => "with no cosignature time".to_owned(),
                        }
                    ));
                    WitnessStatus::Stuck
                } else {
                    WitnessStatus::Behind
                }
            }
        };
        findings.conflicts.extend(conflict);
        findings.views.push(view);
    }
    Ok(findings)
}

/// `Some` when `a` and `b` cannot both be checkpoints of one append-only log.
fn compare(log: &dyn LogSource, a: &Seen, b: &Seen) -> anyhow::Result<Option<Conflict>> {
    let conflict = |reason: String, proof: Vec<Hash>| {
        Some(Conflict {
            first: a.clone(),
            second: b.clone(),
            reason,
            proof,
        })
    };
    let (small, large) = if a.checkpoint.size <= b.checkpoint.size {
        (&a.checkpoint, &b.checkpoint)
    } else {
        (&b.checkpoint, &a.checkpoint)
    };
    if small.size == large.size {
        return Ok(if small.root == large.root {
            None
        } else {
            conflict("same size, different roots".to_owned(), Vec::new())
        });
    }
    if small.size == 0 {
        // Every tree extends the empty one (whose root the checkpoint parser fixes).
        return Ok(None);
    }
    let proof = match log.consistency(small.size, large.size) {
        ConsistencyProof::Proof(proof) => proof,
        ConsistencyProof::Unavailable(reason) => {
            return Ok(conflict(
                format!(
                    "the log did not prove size {} consistent with size {}: {reason}",
                    small.size, large.size
                ),
                Vec::new(),
            ))
        }
        ConsistencyProof::Offline => {
            return Ok(conflict(
                format!(
                    "no proof of size {} consistent with size {} could be had",
                    small.size, large.size
                ),
                Vec::new(),
            ))
        }
    };
    Ok(
        match verify_consistency(small.size, large.size, &proof, &small.root, &large.root) {
            Ok(()) => None,
            Err(err) => conflict(format!("the consistency proof fails: {err}"), proof),
        },
    )
}

/// The log's kept checkpoints, fetched once per size.
#[derive(Default)]
struct History {
    by_size: BTreeMap<u64, Option<Seen>>,
}

impl History {
    fn at(
        &mut self,
        log: &dyn LogSource,
        trust: &Trust,
        size: u64,
        findings: &mut Findings,
    ) -> Option<Seen> {
        if let Some(kept) = self.by_size.get(&size) {
            return kept.clone();
        }
        let kept = match log.checkpoint_at(size) {
            Ok(Some(note)) => match SignedCheckpoint::open(&note, &trust.log) {
                Ok(signed) => Some(Seen {
                    from: format!("the log's checkpoint history ({})", log.label()),
                    note,
                    checkpoint: signed.checkpoint,
                }),
                Err(err) => {
                    findings.problems.push(format!(
                        "the log's kept checkpoint of size {size} does not verify with the log key: {err}"
                    ));
                    None
                }
            },
            Ok(None) => None,
            Err(err) => {
                findings.warnings.push(format!(
                    "the log's checkpoint history is unavailable: {err:#}"
                ));
                None
            }
        };
        self.by_size.insert(size, kept.clone());
        kept
    }
}

/// The newest cosignature time on `note` other than the log's own signature: from a
/// policy witness key if one verifies (`true`), else read without verification — it
/// only decides whether a lagging witness is reported as stuck.
fn cosigned_at(note: &Note, trust: &Trust) -> (Option<u64>, bool) {
    let mut verified = None;
    let mut unverified = None;
    for sig in &note.signatures {
        if sig.name == trust.log.name() && sig.key_id == trust.log.key_id() {
            continue;
        }
        let key = trust
            .witnesses
            .iter()
            .find(|w| w.name() == sig.name && w.key_id() == sig.key_id);
        match key {
            Some(key) => {
                if let Ok(t) = key.verify_timestamped(note.text.as_bytes(), &sig.signature) {
                    verified = verified.max(Some(t));
                }
            }
            None => {
                if let Ok(t) = TimestampedSignature::from_bytes(&sig.signature) {
                    unverified = unverified.max(Some(t.timestamp));
                }
            }
        }
    }
    match verified {
        Some(t) => (Some(t), true),
        None => (unverified, false),
    }
}

#[cfg(test)]
mod tests;
