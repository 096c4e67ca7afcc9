//! docs/design.md §6 steps 3–5 with the client's memory around the pure engine: lock the
//! log's state, load the newest checkpoint this client verified, obtain a consistency
//! proof to the bundle's checkpoint, run `glassbox_core::verify`, then either keep the
//! evidence of a split view or remember the new checkpoint, and unlock.
//!
//! Online, anything short of a valid proof — an error status, a timeout, a malformed
//! body — is given to the engine as [`ConsistencyProof::Unavailable`], which fails
//! verification: a server that shows a larger tree must prove it extends the one this
//! client saw (the rule `glassbox monitor` applies too).

use std::borrow::Cow;
use std::path::PathBuf;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::bundle::Bundle;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::verify::{
    Consistency, ConsistencyProof, Failure, LocalRebuild, Prepared, PreviousCheckpoint, Verdict,
};

use crate::client::LogClient;
use crate::state::{SplitViewEvidence, StateDir, StateLock};

/// Where consistency proofs come from.
pub trait ProofSource {
    /// The RFC 9162 consistency proof from tree size `from` to `to` (`from < to`), or
    /// why there is none.
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof;
    /// Names the source in messages and evidence.
    fn label(&self) -> String;
}

/// No network: a bundle on disk.
pub struct Offline(pub String);

impl ProofSource for Offline {
    fn consistency(&self, _: u64, _: u64) -> ConsistencyProof {
        ConsistencyProof::Offline
    }
    fn label(&self) -> String {
        self.0.clone()
    }
}

impl ProofSource for LogClient {
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        match LogClient::consistency(self, from, to) {
            Ok(proof) => ConsistencyProof::Proof(proof),
            // Whatever went wrong — a 4xx "I do not hold that size", a 5xx, a timeout,
            // a body that is not a proof — the server has not proven its tree extends
            // what this client saw. The engine decides what that means.
            Err(err) => ConsistencyProof::Unavailable(err.to_string()),
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
    /// The remembered checkpoint the verdict was judged against (before this run).
    pub previous: Option<PreviousCheckpoint>,
}

/// Runs the engine on `bundle` for `artifact` (with the customer's own rebuild, when
/// one was run) and updates `state`, holding the log's state lock throughout.
pub fn check(
    artifact: &Sha256Digest,
    bundle: &Bundle,
    policy: &TrustPolicy,
    state: &StateDir,
    proofs: &dyn ProofSource,
    local_rebuild: Option<&LocalRebuild>,
) -> anyhow::Result<Checked> {
    Held::lock(state, policy)?.check(
        artifact,
        &Prepared::new(bundle, policy),
        proofs,
        local_rebuild,
    )
}

/// [`check`] with another engine over the bundle's checkpoint — `glassbox history`
/// checks an index lookup with `glassbox_core::verify::verify_lookup` — given the
/// remembered checkpoint and the proof from it.
pub fn check_with(
    bundle: &Bundle,
    policy: &TrustPolicy,
    state: &StateDir,
    proofs: &dyn ProofSource,
    engine: impl FnOnce(Option<&PreviousCheckpoint>) -> Verdict,
) -> anyhow::Result<Checked> {
    Held::lock(state, policy)?.judge(&bundle.checkpoint, None, proofs, engine)
}

/// The log's state, locked, with the checkpoint it remembers: one verification holds
/// it for one check, a release for every file in it — each file's check then starts
/// from what the previous one remembered, exactly as if it had locked and loaded
/// the state itself, without reading the state again.
pub struct Held {
    state: StateDir,
    /// The policy's log vkey, as written, and parsed.
    vkey: String,
    log_key: NoteVerifierKey,
    /// The remembered checkpoint, as on disk: read once under the lock, replaced by
    /// what this holder writes.
    stored: Option<SignedCheckpoint>,
    _lock: StateLock,
}

impl Held {
    /// Locks the state of the policy's log and loads its remembered checkpoint.
    pub fn lock(state: &StateDir, policy: &TrustPolicy) -> anyhow::Result<Held> {
        let log_key = NoteVerifierKey::parse(&policy.log.vkey)
            .with_context(|| format!("the policy's log vkey {:?}", policy.log.vkey))?;
        let lock = state.lock(log_key.name())?;
        let stored = state.load_checkpoint(&log_key)?;
        Ok(Held {
            state: state.clone(),
            vkey: policy.log.vkey.clone(),
            log_key,
            stored,
            _lock: lock,
        })
    }

    /// Runs the engine on the opened bundle for `artifact` and updates the state.
    pub fn check(
        &mut self,
        artifact: &Sha256Digest,
        prepared: &Prepared<'_>,
        proofs: &dyn ProofSource,
        local_rebuild: Option<&LocalRebuild>,
    ) -> anyhow::Result<Checked> {
        // The engine's side opened the checkpoint with its policy's log key.
        let opened = prepared
            .signed_checkpoint()
            .filter(|_| prepared.policy().log.vkey == self.vkey);
        self.judge(&prepared.bundle().checkpoint, opened, proofs, |previous| {
            prepared.verify(artifact, previous, local_rebuild, super::unix_now())
        })
    }

    /// docs/design.md §6 steps 3–5 around `engine`, for evidence ending in
    /// `checkpoint`: `opened` is that checkpoint when the engine's side already
    /// verified its log signature.
    fn judge(
        &mut self,
        checkpoint: &str,
        opened: Option<&SignedCheckpoint>,
        proofs: &dyn ProofSource,
        engine: impl FnOnce(Option<&PreviousCheckpoint>) -> Verdict,
    ) -> anyhow::Result<Checked> {
        let current = match opened {
            Some(signed) => Some(Cow::Borrowed(signed)),
            None => SignedCheckpoint::parse_unverified(checkpoint.as_bytes())
                .ok()
                .map(Cow::Owned),
        };
        let stored = self.stored.as_ref();

        let previous = stored.map(|old| {
            let (a, b) = (&old.checkpoint, current.as_ref().map(|c| &c.checkpoint));
            let proof = match b {
                Some(b) if a.origin == b.origin && a.size != b.size && a.size > 0 && b.size > 0 => {
                    proofs.consistency(a.size.min(b.size), a.size.max(b.size))
                }
                // Nothing to prove (same size, an empty tree, another origin); the engine
                // decides on the checkpoints alone.
                _ => ConsistencyProof::Proof(Vec::new()),
            };
            PreviousCheckpoint {
                checkpoint: old.checkpoint.clone(),
                proof,
            }
        });

        let verdict = engine(previous.as_ref());

        let mut evidence = None;
        if let (Consistency::SplitView, Some(old)) = (&verdict.consistency, stored) {
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
                proof: match previous.as_ref().map(|p| &p.proof) {
                    Some(ConsistencyProof::Proof(p)) => {
                        p.iter().map(|h| STANDARD.encode(h)).collect()
                    }
                    _ => Vec::new(),
                },
            };
            evidence = Some(self.state.save_split_view(
                &old.to_bytes(),
                checkpoint.as_bytes(),
                &old.checkpoint.origin,
                &record,
            )?);
        }

        let mut remembered = false;
        if checkpoint_trusted(&verdict) {
            // The engine verified this signature already; opening it again (when the
            // engine's side did not keep it) yields the typed note to store.
            let signed = match opened {
                Some(signed) => Some(Cow::Borrowed(signed)),
                None => SignedCheckpoint::open(checkpoint.as_bytes(), &self.log_key)
                    .ok()
                    .map(Cow::Owned),
            };
            if let Some(signed) = signed {
                // State never moves backwards (StateDir::save_checkpoint): with the
                // lock held, the remembered checkpoint is what is on disk.
                let newer = self
                    .stored
                    .as_ref()
                    .is_none_or(|old| old.checkpoint.size < signed.checkpoint.size);
                if newer {
                    remembered = self.state.save_checkpoint(&signed)?;
                    if remembered {
                        self.stored = Some(signed.into_owned());
                    }
                }
            }
        }
        Ok(Checked {
            verdict,
            evidence,
            remembered,
            previous,
        })
    }
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
                    | Failure::ConsistencyUnproven { .. }
                    | Failure::Stale { .. }
            )
        })
}
