//! The server's side of the participant registry. The rules themselves (genesis,
//! authority, positional revocation, `compromisedSince`) live in
//! [`glassbox_core::registry::Registry`], which the verifier replays too, so the
//! log accepts exactly what a verifier will later accept (docs/design.md §3, §6 step 4).
//!
//! Here: rebuilding that registry from the stored log at start, and the stored
//! summary of each key event (for `/api/v1/keys`). A refusal is a
//! [`crate::log::error::LogError::Registry`].

use glassbox_core::dsse::Envelope;
use glassbox_core::registry::Registry;
use glassbox_core::statement::{Attestation, KeyEvent, KeyEventPredicate};

use crate::log::admission::validate::admit;
use crate::log::error::LogError;
use crate::storage::{KeyEventRecord, LogStore, StorageError};

/// [`admit`], and a server rule on top of the core's: a key event after which
/// no key holds an active `operator` role is refused ([`LogError::LastOperator`]),
/// since nothing could ever register or revoke a key again. Only the server
/// applies it; [`replay`] and the verifier accept a log that lost its last
/// operator (docs/formats/attestations.md, key events).
pub fn admit_keeping_an_operator(
    registry: &mut Registry,
    index: u64,
    env: &Envelope,
    attestation: &Attestation,
    operator_pins: &[String],
) -> Result<(), LogError> {
    let revocation = match attestation {
        Attestation::KeyEvent(event) => match event.predicate {
            KeyEventPredicate::Revoke(_) => Some(&event.key_id),
            KeyEventPredicate::Register(_) => None,
        },
        _ => None,
    };
    let Some(key_id) = revocation else {
        return admit(registry, index, env, attestation, operator_pins);
    };
    // A revocation can void other operators' registrations too (a compromised
    // operator's): judge the registry it leaves, not the one key.
    let mut after = registry.clone();
    admit(&mut after, index, env, attestation, operator_pins)?;
    if !after.has_active_operator() {
        return Err(LogError::LastOperator {
            key_id: key_id.clone(),
        });
    }
    *registry = after;
    Ok(())
}

/// Replay every logged key event, in log order, through the core registry.
///
/// The events are re-read from the entries themselves (not from the stored
/// summaries) and re-verified, so a database whose key events no longer follow
/// the rules is refused at start instead of being extended.
pub fn replay(storage: &dyn LogStore) -> Result<Registry, StorageError> {
    let records = storage.key_events()?;
    let indexes: Vec<u64> = records.iter().map(|r| r.index).collect();
    let entries = storage.entries(&indexes)?;
    if entries.len() != indexes.len() {
        return Err(StorageError::Corrupt(format!(
            "{} key events are recorded but only {} of their entries are stored",
            indexes.len(),
            entries.len()
        )));
    }
    let mut registry = Registry::new();
    for (record, entry) in records.iter().zip(&entries) {
        let corrupt = |what: String| {
            StorageError::Corrupt(format!("key event at index {}: {what}", record.index))
        };
        if entry.index != record.index {
            return Err(corrupt(format!("stored entry has index {}", entry.index)));
        }
        let envelope =
            Envelope::from_json(&entry.leaf).map_err(|e| corrupt(format!("envelope: {e}")))?;
        let (_, attestation) = Attestation::from_envelope(&envelope)
            .map_err(|e| corrupt(format!("statement: {e}")))?;
        let Attestation::KeyEvent(event) = attestation else {
            return Err(corrupt(format!("the entry is a {}", attestation.kind())));
        };
        if event.key_id != record.key_id {
            return Err(corrupt(format!(
                "the entry is about key {}, the record about {}",
                event.key_id, record.key_id
            )));
        }
        registry
            .apply(record.index, &envelope, &event)
            .map_err(|e| corrupt(e.to_string()))?;
    }
    Ok(registry)
}

/// The stored summary of a key event logged at `index` (docs/api.md, keys).
pub fn key_event_record(index: u64, event: &KeyEvent) -> KeyEventRecord {
    let (action, details) = match &event.predicate {
        KeyEventPredicate::Register(r) => (
            "register",
            serde_json::json!({
                "publicKey": r.public_key,
                "name": r.name,
                "organisation": r.organisation,
                "roles": r.roles.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
                "signedAt": r.signed_at,
            }),
        ),
        KeyEventPredicate::Revoke(r) => (
            "revoke",
            serde_json::json!({
                "reason": r.reason,
                "compromisedSince": r.compromised_since,
                "signedAt": r.signed_at,
            }),
        ),
    };
    KeyEventRecord {
        index,
        key_id: event.key_id.clone(),
        action: action.into(),
        details,
    }
}
