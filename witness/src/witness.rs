//! The witness proper: which logs it follows, its cosigning key, its state, and the
//! `add-checkpoint` decision (C2SP tlog-witness §add-checkpoint), in the order the
//! spec lists the checks.

use std::collections::HashMap;
use std::sync::Arc;

use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::merkle::{empty_root, verify_consistency};
use glassbox_core::note::{Note, NoteSignature, NoteVerifier, NoteVerifierKey};
use tokio::sync::Mutex;

use crate::error::AddError;
use crate::store::{LogState, Store, StoreError};
use glassbox_core::api::add_checkpoint::AddCheckpoint;

/// A source of POSIX seconds for cosignature timestamps (injectable for tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock in POSIX seconds.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// One log the witness follows.
struct Log {
    keys: Vec<NoteVerifierKey>,
    /// Serialises check-and-persist for this origin: the spec's roll-back race
    /// (§add-checkpoint, steps 1–6) cannot happen while it is held.
    lock: Mutex<()>,
}

/// Why a witness could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("no log is configured: pass at least one --log VKEY")]
    NoLogs,
}

/// A configured witness. Cheap to share behind an [`Arc`].
pub struct Witness {
    signer: CosignatureSigner,
    logs: HashMap<String, Log>,
    store: Arc<Store>,
    clock: Clock,
}

/// What a successful `add-checkpoint` returns.
#[derive(Clone, Debug)]
pub struct Cosigned {
    /// This witness's cosignature line (tlog-cosignature v1).
    pub cosignature: NoteSignature,
}

impl Witness {
    /// A witness cosigning with `signer` for the logs whose verifier keys are `logs`
    /// (several keys may share an origin: any of them may sign).
    pub fn new(
        signer: CosignatureSigner,
        logs: Vec<NoteVerifierKey>,
        store: Store,
        clock: Clock,
    ) -> Result<Witness, ConfigError> {
        if logs.is_empty() {
            return Err(ConfigError::NoLogs);
        }
        let mut by_origin: HashMap<String, Log> = HashMap::new();
        for key in logs {
            by_origin
                .entry(key.name().to_owned())
                .or_insert_with(|| Log {
                    keys: Vec::new(),
                    lock: Mutex::new(()),
                })
                .keys
                .push(key);
        }
        Ok(Witness {
            signer,
            logs: by_origin,
            store: Arc::new(store),
            clock,
        })
    }

    /// The cosigning key's name and identity.
    pub fn signer(&self) -> &CosignatureSigner {
        &self.signer
    }

    /// The origins this witness follows.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }

    /// The latest cosigned checkpoint of `origin` (for monitors).
    pub async fn latest(&self, origin: &str) -> Result<Option<LogState>, StoreError> {
        let store = self.store.clone();
        let origin = origin.to_owned();
        tokio::task::spawn_blocking(move || store.latest(&origin))
            .await
            .map_err(|e| StoreError::Corrupt(format!("state task: {e}")))?
    }

    /// Checks `req` and, if everything holds, durably records the checkpoint and
    /// returns its cosignature.
    pub async fn add_checkpoint(&self, req: AddCheckpoint) -> Result<Cosigned, AddError> {
        let note = Note::parse(&req.checkpoint).map_err(|e| AddError::MalformedCheckpoint {
            reason: e.to_string(),
        })?;
        let checkpoint =
            Checkpoint::parse(&note.text).map_err(|e| AddError::MalformedCheckpoint {
                reason: e.to_string(),
            })?;
        let origin = checkpoint.origin.clone();
        let log = self
            .logs
            .get(&origin)
            .ok_or_else(|| AddError::UnknownOrigin {
                origin: origin.clone(),
            })?;
        // Signatures from keys the witness does not know are ignored (§add-checkpoint);
        // only the log's verified ones are kept in the note served to monitors.
        let log_signatures =
            verified_log_signatures(&note, &log.keys).map_err(|e| AddError::BadSignature {
                origin: origin.clone(),
                reason: e.to_string(),
            })?;
        if req.old_size > checkpoint.size {
            return Err(AddError::OldAfterNew {
                old: req.old_size,
                size: checkpoint.size,
            });
        }

        let _serialised = log.lock.lock().await;
        let stored = self
            .latest(&origin)
            .await
            .map_err(|e| AddError::Internal(e.to_string()))?;
        check_against_stored(stored.as_ref(), &req, &checkpoint)?;

        let timestamp = (self.clock)().max(1);
        let cosignature = self
            .signer
            .sign(&note.text, timestamp)
            .map_err(|e| AddError::Internal(format!("cosigning: {e}")))?;
        if stored
            .as_ref()
            .is_some_and(|s| s.size == checkpoint.size && s.root == checkpoint.root)
        {
            // The checkpoint this witness already holds: nothing to make durable,
            // so no write and no fsync however often it is sent. The cosignature is
            // fresh — its timestamp says the checkpoint is still the latest now,
            // which is what a verifier's max_age asks of a quiet log.
            return Ok(Cosigned { cosignature });
        }
        let mut served = Note {
            text: note.text.clone(),
            signatures: log_signatures,
        };
        served.signatures.push(cosignature.clone());
        let state = LogState {
            size: checkpoint.size,
            root: checkpoint.root,
            note: served.to_bytes(),
            cosigned_at: timestamp,
        };
        let store = self.store.clone();
        let expected = stored.map_or(0, |s| s.size);
        tokio::task::spawn_blocking(move || store.advance(&origin, expected, &state))
            .await
            .map_err(|e| AddError::Internal(format!("state task: {e}")))?
            .map_err(|e| match e {
                // Another process sharing the database moved first.
                StoreError::Conflict { stored, .. } => AddError::SizeConflict {
                    old: req.old_size,
                    stored,
                },
                other => AddError::Internal(other.to_string()),
            })?;
        // The new state is durable: the cosignature may now leave.
        Ok(Cosigned { cosignature })
    }
}

fn verified_log_signatures(
    note: &Note,
    keys: &[NoteVerifierKey],
) -> Result<Vec<NoteSignature>, glassbox_core::note::NoteError> {
    let verifiers: Vec<&dyn NoteVerifier> = keys.iter().map(|k| k as &dyn NoteVerifier).collect();
    Ok(note.verify(&verifiers)?.into_iter().cloned().collect())
}

/// The stateful checks: old size against the stored size (409), then the
/// consistency proof from the stored root (422), or root equality at equal sizes
/// (409). The proof is checked against the root the witness stored, never one the
/// client supplies.
fn check_against_stored(
    stored: Option<&LogState>,
    req: &AddCheckpoint,
    checkpoint: &Checkpoint,
) -> Result<(), AddError> {
    let stored_size = stored.map_or(0, |s| s.size);
    if req.old_size != stored_size {
        return Err(AddError::SizeConflict {
            old: req.old_size,
            stored: stored_size,
        });
    }
    let bad_proof = |reason: String| AddError::BadProof {
        old: req.old_size,
        size: checkpoint.size,
        reason,
    };
    match stored {
        None => {
            // Never cosigned: nothing to be consistent with, and the proof MUST be empty.
            if !req.proof.is_empty() {
                return Err(bad_proof(
                    "the proof must be empty when the old size is 0".into(),
                ));
            }
            if checkpoint.size == 0 && checkpoint.root != empty_root() {
                return Err(bad_proof("an empty tree has the empty root".into()));
            }
            Ok(())
        }
        Some(state) if state.size == checkpoint.size => {
            if state.root != checkpoint.root {
                return Err(AddError::RootConflict { size: state.size });
            }
            if !req.proof.is_empty() {
                return Err(bad_proof("the proof must be empty for equal sizes".into()));
            }
            Ok(())
        }
        Some(state) if state.size == 0 => {
            if !req.proof.is_empty() {
                return Err(bad_proof(
                    "the proof must be empty when the old size is 0".into(),
                ));
            }
            Ok(())
        }
        Some(state) => verify_consistency(
            state.size,
            checkpoint.size,
            &req.proof,
            &state.root,
            &checkpoint.root,
        )
        .map_err(|e| bad_proof(e.to_string())),
    }
}
