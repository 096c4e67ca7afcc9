//! DESIGN §6 steps 3–5 with the client's memory around the pure engine: load the
//! newest checkpoint this client verified, obtain a consistency proof to the bundle's
//! checkpoint, run `glassbox_core::verify`, then either keep the evidence of a split
//! view or remember the new checkpoint.

use std::path::PathBuf;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::bundle::Bundle;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::merkle::Hash;
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::verify::{
    verify, Consistency, Failure, PreviousCheckpoint, Verdict, VerifyRequest,
};

use crate::client::LogClient;
use crate::state::{SplitViewEvidence, StateDir};

/// Where consistency proofs come from.
pub trait ProofSource {
    /// The RFC 9162 consistency proof from tree size `from` to `to` (`from < to`), or
    /// `None` when it cannot be had (offline, or the server does not hold `to`); the
    /// engine then reports the checkpoint as unproven. `Err` is an I/O failure.
    fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Option<Vec<Hash>>>;
    /// Names the source in messages and evidence.
    fn label(&self) -> String;
}

/// No network: a bundle on disk.
pub struct Offline(pub String);

impl ProofSource for Offline {
    fn consistency(&self, _: u64, _: u64) -> anyhow::Result<Option<Vec<Hash>>> {
        Ok(None)
    }
    fn label(&self) -> String {
        self.0.clone()
    }
}

impl ProofSource for LogClient {
    fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Option<Vec<Hash>>> {
        match LogClient::consistency(self, from, to) {
            Ok(proof) => Ok(Some(proof)),
            // The server does not hold tree size `to`: it cannot prove that an older
            // checkpoint it shows extends what this client saw. Unproven, not an error.
            Err(err) if err.status() == Some(400) => Ok(None),
            Err(err) => Err(err).context("fetching a consistency proof"),
        }
    }
    fn label(&self) -> String {
        self.base().to_owned()
    }
}

/// The verdict, and what happened to the client's state.
#[derive(Debug)]
pub struct Checked {
    pub verdict: Verdict,
    /// Where a split view's evidence was saved.
    pub evidence: Option<PathBuf>,
    /// Whether the bundle's checkpoint is now the newest remembered one.
    pub remembered: bool,
}

/// Runs the engine on `bundle` for `artifact` and updates `state`.
pub fn check(
    artifact: &Sha256Digest,
    bundle: &Bundle,
    policy: &TrustPolicy,
    state: &StateDir,
    proofs: &dyn ProofSource,
) -> anyhow::Result<Checked> {
    let log_key = NoteVerifierKey::parse(&policy.log.vkey)
        .with_context(|| format!("the policy's log vkey {:?}", policy.log.vkey))?;
    let stored = state.load_checkpoint(&log_key)?;
    let current = SignedCheckpoint::parse_unverified(bundle.checkpoint.as_bytes()).ok();

    let previous = match &stored {
        None => None,
        Some(old) => {
            let (a, b) = (&old.checkpoint, current.as_ref().map(|c| &c.checkpoint));
            let proof = match b {
                Some(b) if a.origin == b.origin && a.size != b.size && a.size > 0 && b.size > 0 => {
                    proofs.consistency(a.size.min(b.size), a.size.max(b.size))?
                }
                _ => None,
            };
            Some(PreviousCheckpoint {
                checkpoint: old.checkpoint.clone(),
                proof,
            })
        }
    };

    let verdict = verify(VerifyRequest {
        artifact,
        bundle,
        policy,
        previous: previous.as_ref(),
    });

    let mut evidence = None;
    if let (Consistency::SplitView, Some(old)) = (&verdict.consistency, &stored) {
        let detail = verdict
            .failures
            .iter()
            .find(|f| matches!(f, Failure::SplitView { .. }))
            .map(ToString::to_string)
            .unwrap_or_default();
        let record = SplitViewEvidence {
            source: &proofs.label(),
            detail: &detail,
            previous_size: old.checkpoint.size,
            size: current.as_ref().map_or(0, |c| c.checkpoint.size),
            proof: previous
                .as_ref()
                .and_then(|p| p.proof.as_ref())
                .map(|p| p.iter().map(|h| STANDARD.encode(h)).collect())
                .unwrap_or_default(),
        };
        evidence = Some(state.save_split_view(
            &old.to_bytes(),
            bundle.checkpoint.as_bytes(),
            &old.checkpoint.origin,
            &record,
        )?);
    }

    let mut remembered = false;
    if checkpoint_trusted(&verdict) {
        // The engine verified this signature already; opening it again yields the
        // typed note to store.
        if let Ok(signed) = SignedCheckpoint::open(bundle.checkpoint.as_bytes(), &log_key) {
            remembered = state.save_checkpoint(&signed)?;
        }
    }
    Ok(Checked {
        verdict,
        evidence,
        remembered,
    })
}

/// A checkpoint may be remembered when the log signed it, enough witnesses cosigned
/// it, and it is proven to extend what was remembered before (or nothing was). Whether
/// the artifact itself verifies does not matter: the checkpoint is the log's either
/// way, and remembering it narrows what a forking log could show next time.
fn checkpoint_trusted(verdict: &Verdict) -> bool {
    verdict.checkpoint.is_some()
        && matches!(
            verdict.consistency,
            Consistency::FirstSeen | Consistency::Proven { .. }
        )
        && !verdict.failures.iter().any(|f| {
            matches!(
                f,
                Failure::BadLogSignature { .. }
                    | Failure::WitnessQuorum { .. }
                    | Failure::SplitView { .. }
            )
        })
}
