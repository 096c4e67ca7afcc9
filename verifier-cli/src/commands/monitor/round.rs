//! One round of the monitor: from the stored position to the log's latest checkpoint.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::cosignature::{verify_cosignatures, CosignatureVerifierKey};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{keys_of, IndexCommitment};
use glassbox_core::merkle::{leaf_hash, verify_consistency, Hash};
use glassbox_core::registry::Registry;
use glassbox_core::statement::Attestation;
use glassbox_core::verify::ConsistencyProof;

use serde::Serialize;

use super::position::{KeptKeyEvent, Position};
use super::source::{LogSource, Trust};
use super::witnesses::{self, Seen, WitnessCheck, WitnessView};
use crate::state::{SplitViewEvidence, StateDir};
use crate::summary::summarise;

/// Leaves fetched and checked per batch, bounding memory on a large catch-up.
const BATCH: u64 = 4096;

/// What to report.
#[derive(Clone, Debug, Default)]
pub struct Watches {
    pub repositories: Vec<String>,
    /// Lowercase key IDs.
    pub keys: Vec<String>,
}

impl Watches {
    fn all(&self) -> bool {
        self.repositories.is_empty() && self.keys.is_empty()
    }
}

/// The outcome of a round (`--json` prints it).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub previous_size: u64,
    pub size: u64,
    /// Entries checked this round.
    pub new_entries: u64,
    /// `INDEX  KIND  SIGNERS  SUBJECT…` for watched entries.
    pub watched: Vec<String>,
    /// Everything that is wrong; any makes the monitor exit 1.
    pub problems: Vec<String>,
    /// Worth a look, not proof of anything (a witness down or stuck).
    pub warnings: Vec<String>,
    /// Each witness's latest checkpoint compared with the log's.
    pub witnesses: Vec<WitnessView>,
    /// Directories holding the evidence of each split view or wrong index
    /// commitment found.
    pub evidence: Vec<PathBuf>,
    /// Index commitments that do not match the index rebuilt from the log:
    /// (log index, the entry, what is wrong), saved as evidence at the end of the round.
    #[serde(skip)]
    wrong_commitments: Vec<(u64, Vec<u8>, String)>,
}

/// Runs one round and saves the new position when the new tree is proven.
pub fn round(
    source: &dyn LogSource,
    trust: &Trust,
    state: &StateDir,
    watches: &Watches,
    witnessing: &WitnessCheck<'_>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let origin = trust.log.name().to_owned();
    let note = source.checkpoint()?;
    let signed = match SignedCheckpoint::open(&note, &trust.log) {
        Ok(signed) => signed,
        Err(err) => {
            report.problems.push(format!(
                "the log's checkpoint does not verify with the log key: {err}"
            ));
            return Ok(report);
        }
    };
    report.size = signed.checkpoint.size;

    // Before the quorum: a checkpoint a witness refused to cosign because it had
    // cosigned a fork is exactly what the witnesses' own checkpoints expose.
    let current = Seen {
        from: format!("the log's /checkpoint at {}", source.label()),
        note: note.clone(),
        checkpoint: signed.checkpoint.clone(),
    };
    let findings = witnesses::check(source, trust, &current, witnessing)?;
    report.witnesses = findings.views;
    report.warnings = findings.warnings;
    report.problems = findings.problems;
    for conflict in &findings.conflicts {
        let detail = conflict.describe();
        let evidence = SplitViewEvidence {
            source: &conflict.second.from,
            detail: &detail,
            previous_size: conflict.first.checkpoint.size,
            size: conflict.second.checkpoint.size,
            proof: conflict.proof.iter().map(|h| STANDARD.encode(h)).collect(),
        };
        report.evidence.push(state.save_split_view(
            &conflict.first.note,
            &conflict.second.note,
            &origin,
            &evidence,
        )?);
        report.problems.push(detail);
    }
    if !report.problems.is_empty() {
        return Ok(report);
    }

    if !trust.witnesses.is_empty() || trust.quorum > 0 {
        let keys: Vec<&CosignatureVerifierKey> = trust.witnesses.iter().collect();
        let cosigned = verify_cosignatures(&signed.note, &keys).map(|v| v.len());
        match cosigned {
            Ok(n) if n >= trust.quorum => {}
            Ok(n) => report.problems.push(format!(
                "{n} of the policy's witnesses cosigned the checkpoint; the policy requires {}",
                trust.quorum
            )),
            Err(err) => report
                .problems
                .push(format!("a witness cosignature does not verify: {err}")),
        }
        if !report.problems.is_empty() {
            return Ok(report);
        }
    }
    let new = &signed.checkpoint;
    report.size = new.size;

    // The newest checkpoint this client verified (by `verify` or an earlier round).
    let stored = state.load_checkpoint(&trust.log)?;
    if let Some(old) = &stored {
        if let Some((detail, proof)) = inconsistency(source, &old.checkpoint, new)? {
            let evidence = SplitViewEvidence {
                source: &source.label(),
                detail: &detail,
                previous_size: old.checkpoint.size,
                size: new.size,
                proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
            };
            report.evidence.push(state.save_split_view(
                &old.to_bytes(),
                &note,
                &origin,
                &evidence,
            )?);
            report.problems.push(format!(
                "split view: size {} root {} seen before, now size {} root {}: {detail}",
                old.checkpoint.size,
                hex::encode(old.checkpoint.root),
                new.size,
                hex::encode(new.root)
            ));
            return Ok(report);
        }
    }

    let position_path = state.monitor_path(&origin);
    let mut position = Position::load(&position_path, &origin)?;
    report.previous_size = position.frontier.size();
    if position.frontier.size() > new.size {
        report.problems.push(format!(
            "the log shows tree size {}, smaller than size {} this monitor already read",
            new.size,
            position.frontier.size()
        ));
        return Ok(report);
    }
    let mut registry = position
        .registry()
        .map_err(|e| anyhow::anyhow!("{}: {e}", position_path.display()))?;

    let mut next = position.frontier.size();
    while next < new.size {
        let end = (next + BATCH).min(new.size);
        let leaves = source.entries(next, end)?;
        if leaves.len() as u64 != end - next {
            anyhow::bail!("asked for entries {next}..{end}, got {}", leaves.len());
        }
        for (offset, leaf) in leaves.iter().enumerate() {
            let index = next + offset as u64;
            position.frontier.push(leaf_hash(leaf));
            check_entry(
                index,
                leaf,
                &Context {
                    origin: &origin,
                    log_key: trust.log.public_key(),
                    watches,
                },
                &mut registry,
                &mut position,
                &mut report,
            );
        }
        next = end;
    }
    report.new_entries = new.size - report.previous_size;
    for (index, entry, detail) in std::mem::take(&mut report.wrong_commitments) {
        report
            .evidence
            .push(state.save_index_evidence(&note, &origin, index, &entry, &detail)?);
    }

    if position.frontier.root() != new.root {
        report.problems.push(format!(
            "the entries the log serves do not make up the tree its checkpoint (size {}) commits to: \
             an entry was altered, or the tree does not extend the one read before (size {})",
            new.size, report.previous_size
        ));
        return Ok(report);
    }
    // Proven: every entry is in the signed tree, which extends the stored one.
    position.save(&position_path)?;
    state.save_checkpoint(&signed)?;
    Ok(report)
}

/// `Some((why, proof))` when `new` cannot be shown to be consistent with `old`.
fn inconsistency(
    source: &dyn LogSource,
    old: &glassbox_core::checkpoint::Checkpoint,
    new: &glassbox_core::checkpoint::Checkpoint,
) -> anyhow::Result<Option<(String, Vec<Hash>)>> {
    if old.size == new.size {
        return Ok(
            (old.root != new.root).then(|| ("same size, different roots".to_owned(), Vec::new()))
        );
    }
    if old.size == 0 {
        return Ok(None);
    }
    if new.size == 0 {
        return Ok(Some((
            "the log shrank to an empty tree".to_owned(),
            Vec::new(),
        )));
    }
    let (small, large) = if old.size < new.size {
        (old, new)
    } else {
        (new, old)
    };
    let proof = match source.consistency(small.size, large.size) {
        ConsistencyProof::Proof(proof) => proof,
        ConsistencyProof::Unavailable(reason) => {
            return Ok(Some((
                format!(
                    "the log did not prove tree size {} consistent with size {}: {reason}",
                    small.size, large.size
                ),
                Vec::new(),
            )))
        }
        ConsistencyProof::Offline => {
            return Ok(Some((
                format!(
                    "no proof of tree size {} consistent with size {} could be had",
                    small.size, large.size
                ),
                Vec::new(),
            )))
        }
    };
    Ok(
        verify_consistency(small.size, large.size, &proof, &small.root, &large.root)
            .err()
            .map(|e| (format!("consistency proof fails: {e}"), proof)),
    )
}

/// What every entry of a round is checked against.
struct Context<'a> {
    origin: &'a str,
    log_key: &'a ed25519_dalek::VerifyingKey,
    watches: &'a Watches,
}

/// Parses, authorises, files in the rebuilt index and (when watched) describes one
/// new entry; audits an index commitment against the index rebuilt so far.
fn check_entry(
    index: u64,
    leaf: &[u8],
    cx: &Context<'_>,
    registry: &mut Registry,
    position: &mut Position,
    report: &mut Report,
) {
    let watches = cx.watches;
    let envelope = match Envelope::from_json(leaf) {
        Ok(env) if env.to_canonical_json() == leaf => env,
        Ok(_) => {
            report
                .problems
                .push(format!("entry {index}: not in canonical form"));
            return;
        }
        Err(err) => {
            report
                .problems
                .push(format!("entry {index}: malformed envelope: {err}"));
            return;
        }
    };
    if IndexCommitment::is_commitment(&envelope) {
        audit_commitment(index, &envelope, leaf, cx, position, report);
        return;
    }
    let attestation = match Attestation::from_envelope(&envelope) {
        Ok((_, a)) => a,
        Err(err) => {
            report
                .problems
                .push(format!("entry {index}: invalid statement: {err}"));
            return;
        }
    };
    for key in keys_of(&envelope, &attestation) {
        position.index.append(key.hash(), index);
    }
    let checked = match &attestation {
        Attestation::KeyEvent(event) => registry.apply(index, &envelope, event).map(|()| {
            position.key_events.push(KeptKeyEvent {
                index,
                entry: envelope.to_value(),
            });
        }),
        other => registry.authorise(index, &envelope, other).map(|_| ()),
    };
    if let Err(err) = checked {
        report.problems.push(format!(
            "entry {index}: {} not authorised at its position: {err}",
            attestation.kind()
        ));
    }
    let signers: Vec<&str> = envelope
        .signatures
        .iter()
        .map(|s| s.keyid.as_str())
        .collect();
    if watched(&attestation, &signers, watches) {
        let s = summarise(&attestation);
        let short: Vec<&str> = signers.iter().map(|k| k.get(..12).unwrap_or(k)).collect();
        let mut line = format!(
            "{index}  {}  {}  {}",
            attestation.kind(),
            short.join(","),
            s.subject
        );
        for part in [s.digest, s.detail] {
            if !part.is_empty() {
                line.push_str("  ");
                line.push_str(&part);
            }
        }
        report.watched.push(line.replace(['\n', '\r'], " "));
    }
}

/// An index commitment must be signed by the log's key, name this log, cover every
/// entry before it, and give the root of the index rebuilt from those entries.
fn audit_commitment(
    index: u64,
    envelope: &Envelope,
    leaf: &[u8],
    cx: &Context<'_>,
    position: &mut Position,
    report: &mut Report,
) {
    let commitment = match IndexCommitment::open(envelope, cx.log_key) {
        Ok(c) => c,
        Err(err) => {
            report.problems.push(format!("entry {index}: {err}"));
            return;
        }
    };
    if position.index_from > 0 {
        report.warnings.push(format!(
            "entry {index}: index commitment not audited: this monitor's state began keeping \
             the index at size {}; audit from the start with a fresh --state directory",
            position.index_from
        ));
        return;
    }
    let rebuilt = position.index.root();
    let keys = position.index.len() as u64;
    let mut wrong = Vec::new();
    if commitment.origin != cx.origin {
        wrong.push(format!("it names log {:?}", commitment.origin));
    }
    if commitment.size != index {
        wrong.push(format!(
            "it covers {} entries, not the {index} before it",
            commitment.size
        ));
    }
    if commitment.root != rebuilt || commitment.keys != keys {
        wrong.push(format!(
            "it commits to root {} over {} keys; the index rebuilt from the log gives root {} over {keys} keys",
            hex::encode(commitment.root),
            commitment.keys,
            hex::encode(rebuilt)
        ));
    }
    if !wrong.is_empty() {
        let detail = format!(
            "entry {index}: wrong index commitment: {}",
            wrong.join("; ")
        );
        report.problems.push(detail.clone());
        report
            .wrong_commitments
            .push((index, leaf.to_vec(), detail));
    }
}

fn watched(attestation: &Attestation, signers: &[&str], watches: &Watches) -> bool {
    if watches.all() {
        return true;
    }
    if signers
        .iter()
        .any(|k| watches.keys.iter().any(|w| w.eq_ignore_ascii_case(k)))
    {
        return true;
    }
    let repository = match attestation {
        Attestation::SourceSubmission(s) => Some(s.predicate.repository.as_str()),
        Attestation::SourceReview(r) => Some(r.predicate.repository.as_str()),
        Attestation::Build(b) => b.source().map(|s| s.uri.as_str()),
        Attestation::KeyEvent(k) => {
            return watches
                .keys
                .iter()
                .any(|w| w.eq_ignore_ascii_case(&k.key_id));
        }
        _ => None,
    };
    repository.is_some_and(|r| watches.repositories.iter().any(|w| w == r))
}

#[cfg(test)]
mod tests;
