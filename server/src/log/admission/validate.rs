//! Stateful admission of one envelope at the log position it is about to take
//! (DESIGN §3), by the core participant registry: every signature must come from
//! a key registered before that position, not revoked, holding a role the
//! statement's kind allows; key events must also obey the genesis rule and make
//! sense for the registry (no double registration or revocation).
//!
//! Stateless checks (DSSE syntax, statement kind and fields) happen in
//! [`crate::log::admission::facts`] before a submission is queued. Signatures are verified there
//! too, in parallel on the blocking pool, against the committed registry
//! ([`precheck`]); the serial sequencer then re-runs admission only for entries
//! a key event may affect.

use glassbox_core::dsse::Envelope;
use glassbox_core::registry::{Registry, RegistryError};
use glassbox_core::statement::Attestation;

use crate::log::error::LogError;

/// Accept or refuse `env` as the entry at `index` given `registry`, the state just
/// before it. An accepted key event is applied to `registry`, so later entries of
/// the same batch see it; a refused one leaves `registry` unchanged.
///
/// `operator_pins` is a server policy on top of the genesis rule: when non-empty,
/// only one of these key IDs may be the genesis operator.
pub fn admit(
    registry: &mut Registry,
    index: u64,
    env: &Envelope,
    attestation: &Attestation,
    operator_pins: &[String],
) -> Result<(), LogError> {
    match attestation {
        Attestation::KeyEvent(event) => {
            if !registry.has_genesis()
                && !operator_pins.is_empty()
                && !operator_pins.contains(&event.key_id)
            {
                return Err(LogError::NotAnOperatorKey {
                    key_id: event.key_id.clone(),
                });
            }
            registry.apply(index, env, event)?;
        }
        other => {
            registry.authorise(index, env, other)?;
        }
    }
    Ok(())
}

/// The participant registry as of the newest committed batch, shared with the
/// submit handlers so they can verify signatures before queuing (see [`precheck`]).
#[derive(Clone, Debug, Default)]
pub struct RegistryView {
    pub registry: Registry,
    /// Log index of the newest key event the registry holds (`None`: no genesis yet).
    pub last_key_event: Option<u64>,
}

impl RegistryView {
    /// The view of `registry`, which holds every key event up to its newest one.
    pub fn of(registry: Registry) -> RegistryView {
        let last_key_event = last_key_event(&registry);
        RegistryView {
            registry,
            last_key_event,
        }
    }
}

/// Log index of the newest key event applied to `registry`: every event either
/// registers or revokes a key, so it is the largest of those positions.
pub fn last_key_event(registry: &Registry) -> Option<u64> {
    registry
        .keys()
        .flat_map(|k| {
            [
                Some(k.registered_at),
                k.revocation.as_ref().map(|r| r.index),
            ]
        })
        .flatten()
        .max()
}

/// What the submit path established about an envelope's signatures before
/// queuing it, so the serial sequencer need not verify them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Precheck {
    /// Nothing: the sequencer runs the full [`admit`], signature verification included.
    #[default]
    Unchecked,
    /// [`Registry::authorise`] accepted the envelope against the registry whose
    /// newest key event is at `last_key_event`.
    ///
    /// `authorise` depends on the log position only through comparisons with the
    /// positions of key events, so its answer is the same at every position after
    /// `last_key_event` up to the next key event. The sequencer therefore skips
    /// admission exactly when no key event has been applied since (its registry's
    /// newest event is still `last_key_event`), and otherwise admits in full:
    /// positional semantics (a key revoked earlier in the same batch refuses a
    /// later entry) are unchanged.
    Authorised { last_key_event: u64 },
}

/// Check `env`'s signatures against the committed registry `view`, off the
/// sequencer. CPU-bound (one Ed25519 verification per signature): run it on the
/// blocking pool.
///
/// Refuses only what is refused at any later position with the same error: a
/// single-signature envelope whose signature does not verify with its (committed,
/// so registered before any new position) key gets `bad_signature` here, as the
/// sequencer would answer. Everything else that fails (an unknown key that a key
/// event queued ahead may register, a revoked key whose entry may be a
/// duplicate, multi-signature envelopes whose first failing check could change
/// with a key event in between) and every key event is left to the sequencer.
pub fn precheck(
    view: &RegistryView,
    env: &Envelope,
    attestation: &Attestation,
) -> Result<Precheck, LogError> {
    let Some(last) = view.last_key_event else {
        return Ok(Precheck::Unchecked);
    };
    if matches!(attestation, Attestation::KeyEvent(_)) {
        return Ok(Precheck::Unchecked);
    }
    match view.registry.authorise(last + 1, env, attestation) {
        Ok(_) => Ok(Precheck::Authorised {
            last_key_event: last,
        }),
        Err(e @ RegistryError::BadSignature { .. }) if env.signatures.len() == 1 => Err(e.into()),
        Err(_) => Ok(Precheck::Unchecked),
    }
}
