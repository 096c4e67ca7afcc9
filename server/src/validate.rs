//! Stateful validation of one envelope at the log position it is about to take
//! (DESIGN §3): every signature must come from a key that is registered, not
//! revoked, and holds a role the statement's kind allows; key events must also
//! make sense for the registry (no double registration or revocation).
//!
//! Stateless checks (DSSE syntax, statement kind and fields) happen in
//! [`crate::facts`] before a submission is queued.

use glassbox_core::dsse::Envelope;

use crate::error::AppError;
use crate::facts::Facts;
use crate::registry::{KeyChange, Registry};

/// Accept or refuse `env` as the entry at `index` given the registry state just
/// before it. `operator_pins` restricts which keys may perform the genesis
/// registration (empty = any).
pub fn validate(
    env: &Envelope,
    facts: &Facts,
    registry: &Registry,
    index: u64,
    operator_pins: &[String],
) -> Result<(), AppError> {
    if !registry.has_genesis() {
        return validate_genesis(env, facts, index, operator_pins);
    }
    for (i, sig) in env.signatures.iter().enumerate() {
        let key = registry.get(&sig.keyid).ok_or_else(|| {
            AppError::UnknownKey(format!(
                "signature {i}: key {} is not registered in this log",
                sig.keyid
            ))
        })?;
        if let Some(at) = key.revoked_at {
            return Err(AppError::KeyRevoked(format!(
                "signature {i}: key {} was revoked at log index {at}",
                sig.keyid
            )));
        }
        if !key
            .roles
            .iter()
            .any(|r| facts.allowed_roles.iter().any(|a| a == r))
        {
            return Err(AppError::RoleNotAllowed(format!(
                "signature {i}: key {} has roles [{}] but a {} must be signed by one of [{}]",
                sig.keyid,
                key.roles.join(", "),
                facts.kind,
                facts.allowed_roles.join(", ")
            )));
        }
        env.verify_signature(i, &key.public_key).map_err(|e| {
            AppError::BadSignature(format!("signature {i} by key {}: {e}", sig.keyid))
        })?;
    }
    if let Some(change) = &facts.key_change {
        registry
            .check(change)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
    }
    Ok(())
}

/// The contract's genesis rule: the first key event is a self-signed `register`
/// of a key holding the `operator` role; nothing else can be logged before it.
fn validate_genesis(
    env: &Envelope,
    facts: &Facts,
    index: u64,
    operator_pins: &[String],
) -> Result<(), AppError> {
    let Some(KeyChange::Register {
        public_key,
        key_id,
        roles,
        ..
    }) = &facts.key_change
    else {
        return Err(AppError::UnknownKey(format!(
            "no key is registered in this log yet: entry {index} must be the self-signed registration of an operator key"
        )));
    };
    if !roles.iter().any(|r| r == "operator") {
        return Err(AppError::RoleNotAllowed(format!(
            "the first key registration must give key {key_id} the operator role"
        )));
    }
    if env.signatures.len() != 1 || env.signatures[0].keyid != *key_id {
        return Err(AppError::UnknownKey(format!(
            "the genesis registration must be signed by the registered key {key_id} alone"
        )));
    }
    if !operator_pins.is_empty() && !operator_pins.iter().any(|p| p == key_id) {
        return Err(AppError::UnknownKey(format!(
            "key {key_id} is not one of the operator keys this log is configured with"
        )));
    }
    env.verify_signature(0, public_key)
        .map_err(|e| AppError::BadSignature(format!("genesis registration of key {key_id}: {e}")))
}
