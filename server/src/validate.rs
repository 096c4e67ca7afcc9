//! Stateful admission of one envelope at the log position it is about to take
//! (DESIGN §3), by the core participant registry: every signature must come from
//! a key registered before that position, not revoked, holding a role the
//! statement's kind allows; key events must also obey the genesis rule and make
//! sense for the registry (no double registration or revocation).
//!
//! Stateless checks (DSSE syntax, statement kind and fields) happen in
//! [`crate::facts`] before a submission is queued.

use glassbox_core::dsse::Envelope;
use glassbox_core::registry::Registry;
use glassbox_core::statement::Attestation;

use crate::error::AppError;

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
) -> Result<(), AppError> {
    match attestation {
        Attestation::KeyEvent(event) => {
            if !registry.has_genesis()
                && !operator_pins.is_empty()
                && !operator_pins.contains(&event.key_id)
            {
                return Err(AppError::UnknownKey(format!(
                    "key {} is not one of the operator keys this log is configured with; \
                     the first key event must register one of them",
                    event.key_id
                )));
            }
            registry.apply(index, env, event)?;
        }
        other => {
            registry.authorise(index, env, other)?;
        }
    }
    Ok(())
}
