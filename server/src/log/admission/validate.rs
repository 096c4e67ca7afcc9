//! Stateful admission of one envelope at the log position it is about to take
//! (docs/design.md §3), by the core participant registry: every signature must come from
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
    /// True while the node publishing the view sequences, so that every committed
    /// key event is in it. A node that forwards to another sequencer (a follower on
    /// shared storage) may miss registrations made there: its handlers must not
    /// refuse a signer for being unknown to it.
    pub current: bool,
    /// Before genesis, the key IDs allowed to be the genesis operator (empty:
    /// any), so that a genesis attempt is judged as the sequencer will.
    pub operator_pins: Vec<String>,
}

impl RegistryView {
    /// The view of `registry`, which holds every key event up to its newest
    /// one, published by the sequencer of a log with `operator_pins`.
    pub fn of(registry: Registry, operator_pins: &[String]) -> RegistryView {
        let last_key_event = last_key_event(&registry);
        RegistryView {
            registry,
            last_key_event,
            current: true,
            operator_pins: match last_key_event {
                None => operator_pins.to_vec(),
                Some(_) => Vec::new(),
            },
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

/// What [`precheck`] found: what the sequencer may skip, and whose signatures
/// verified with the signer's registered key (the signers whose rate limits the
/// submission may be charged to; a key ID named only by a signature that does
/// not verify is never charged, so nobody can spend another signer's budget).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prechecked {
    pub precheck: Precheck,
    /// Key IDs, each once, in signature order.
    pub verified: Vec<String>,
}

/// Check `env`'s signatures against the committed registry `view`, off the
/// sequencer. CPU-bound: one Ed25519 verification per signature (two for a
/// signature that fails, or for a key event, which the sequencer verifies again).
///
/// Refuses only what the sequencer would refuse with the same error at the next
/// position, provided no key event queued ahead of it registers one of its
/// signers (a key may sign once the receipt of its registration is returned,
/// docs/api.md):
///
/// * an envelope none of whose signatures verifies with a registered key: at
///   the sequencer its first signature fails, `unknown_key` when that key is not
///   registered, `bad_signature` when it is. Such an envelope never takes a
///   queue slot, so junk from unregistered keys cannot crowd out honest
///   submissions. Before genesis only a valid genesis registration passes.
///
/// Everything else that fails (a revoked key whose entry may be a duplicate,
/// multi-signature envelopes whose first failing check could change with a key
/// event in between) and every key event is left to the sequencer.
pub fn precheck(
    view: &RegistryView,
    env: &Envelope,
    attestation: &Attestation,
) -> Result<Prechecked, LogError> {
    let Some(last) = view.last_key_event else {
        return precheck_genesis(view, env, attestation);
    };
    let next = last + 1;
    if !matches!(attestation, Attestation::KeyEvent(_)) {
        if let Ok(keys) = view.registry.authorise(next, env, attestation) {
            let mut verified: Vec<String> = Vec::with_capacity(keys.len());
            for k in keys {
                if !verified.contains(&k.key_id) {
                    verified.push(k.key_id.clone());
                }
            }
            return Ok(Prechecked {
                precheck: Precheck::Authorised {
                    last_key_event: last,
                },
                verified,
            });
        }
    }
    let verified = verified_signers(&view.registry, env);
    if verified.is_empty() {
        match env.signatures.first() {
            None => return Err(RegistryError::Unsigned.into()),
            // A registered key's public key never changes: its bad signature
            // stays bad at every later position.
            Some(first) if view.registry.get(&first.keyid).is_some() => {
                return Err(RegistryError::BadSignature {
                    key_id: first.keyid.clone(),
                }
                .into())
            }
            Some(first) if view.current => {
                return Err(RegistryError::NotRegistered {
                    key_id: first.keyid.clone(),
                    index: next,
                }
                .into())
            }
            Some(_) => {}
        }
    }
    Ok(Prechecked {
        precheck: Precheck::Unchecked,
        verified,
    })
}

/// The signers of `env` whose signature verifies with their key in `registry`,
/// each once. A key named by several signatures is tried once, with the first,
/// which bounds the work to one verification per registered key.
fn verified_signers(registry: &Registry, env: &Envelope) -> Vec<String> {
    let mut tried: Vec<&str> = Vec::new();
    let mut verified = Vec::new();
    for (i, sig) in env.signatures.iter().enumerate() {
        if tried.contains(&sig.keyid.as_str()) {
            continue;
        }
        tried.push(&sig.keyid);
        if let Some(key) = registry.get(&sig.keyid) {
            if env.verify_signature(i, &key.public_key).is_ok() {
                verified.push(sig.keyid.clone());
            }
        }
    }
    verified
}

/// [`precheck`] before the genesis registration is committed. Nothing can be
/// logged before it (docs/design.md §3, the genesis rule), so the entry would take
/// position 0: a statement that is not a key event names a signer not registered
/// at index 0, and a key event must be a valid genesis, judged on an empty
/// registry with the operator pins, exactly as the sequencer judges it.
fn precheck_genesis(
    view: &RegistryView,
    env: &Envelope,
    attestation: &Attestation,
) -> Result<Prechecked, LogError> {
    if !view.current {
        return Ok(Prechecked::default());
    }
    admit(
        &mut Registry::new(),
        0,
        env,
        attestation,
        &view.operator_pins,
    )?;
    let verified = match attestation {
        Attestation::KeyEvent(event) => vec![event.key_id.clone()],
        _ => Vec::new(),
    };
    Ok(Prechecked {
        precheck: Precheck::Unchecked,
        verified,
    })
}
