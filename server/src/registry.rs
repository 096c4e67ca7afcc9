//! The participant key registry as of one log position, rebuilt from logged key
//! events and advanced entry by entry by the sequencer (DESIGN §3, genesis and
//! revocation rules in the contract).
//!
//! Revocation is positional: a key revoked at index `r` signs nothing at any index
//! after `r`. The sequencer validates each envelope against the registry state
//! exactly at the position the envelope will take.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;

use crate::storage::{KeyEventRecord, StorageError};

/// One registered key.
#[derive(Clone, Debug)]
pub struct KeyState {
    pub key_id: String,
    pub public_key: VerifyingKey,
    /// Role names (`vendor`, `reviewer`, `builder`, `operator`).
    pub roles: Vec<String>,
    pub registered_at: u64,
    pub revoked_at: Option<u64>,
}

/// A key event as the registry applies it.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived, one per key event
pub enum KeyChange {
    Register {
        public_key: VerifyingKey,
        key_id: String,
        name: String,
        organisation: Option<String>,
        roles: Vec<String>,
    },
    Revoke {
        key_id: String,
        reason: String,
        compromised_since: Option<String>,
    },
}

impl KeyChange {
    pub fn key_id(&self) -> &str {
        match self {
            KeyChange::Register { key_id, .. } | KeyChange::Revoke { key_id, .. } => key_id,
        }
    }

    /// The stored form: action name and details JSON (docs/api.md, keys).
    pub fn to_record(&self, index: u64) -> KeyEventRecord {
        let (action, details) = match self {
            KeyChange::Register {
                public_key,
                name,
                organisation,
                roles,
                ..
            } => (
                "register",
                serde_json::json!({
                    "publicKey": STANDARD.encode(public_key.as_bytes()),
                    "name": name,
                    "organisation": organisation,
                    "roles": roles,
                }),
            ),
            KeyChange::Revoke {
                reason,
                compromised_since,
                ..
            } => (
                "revoke",
                serde_json::json!({"reason": reason, "compromisedSince": compromised_since}),
            ),
        };
        KeyEventRecord {
            index,
            key_id: self.key_id().to_string(),
            action: action.into(),
            details,
        }
    }

    /// Rebuild from the stored form.
    pub fn from_record(r: &KeyEventRecord) -> Result<KeyChange, StorageError> {
        let corrupt = |what: &str| StorageError::Corrupt(format!("key event {}: {what}", r.index));
        let str_field = |name: &str| {
            r.details
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match r.action.as_str() {
            "register" => {
                let pk = str_field("publicKey").ok_or_else(|| corrupt("no publicKey"))?;
                let bytes: [u8; 32] = STANDARD
                    .decode(pk)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| corrupt("bad publicKey"))?;
                let public_key =
                    VerifyingKey::from_bytes(&bytes).map_err(|_| corrupt("bad publicKey"))?;
                let roles = r
                    .details
                    .get("roles")
                    .and_then(|v| v.as_array())
                    .ok_or_else(|| corrupt("no roles"))?
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                Ok(KeyChange::Register {
                    public_key,
                    key_id: r.key_id.clone(),
                    name: str_field("name").unwrap_or_default(),
                    organisation: str_field("organisation"),
                    roles,
                })
            }
            "revoke" => Ok(KeyChange::Revoke {
                key_id: r.key_id.clone(),
                reason: str_field("reason").unwrap_or_default(),
                compromised_since: str_field("compromisedSince"),
            }),
            other => Err(corrupt(&format!("unknown action {other}"))),
        }
    }
}

/// Why a key event cannot be applied at its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("key {key_id} is already registered (at index {at})")]
    AlreadyRegistered { key_id: String, at: u64 },
    #[error("key {key_id} is not registered")]
    NotRegistered { key_id: String },
    #[error("key {key_id} was already revoked at index {at}")]
    AlreadyRevoked { key_id: String, at: u64 },
}

/// The registry state after some prefix of the log.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    keys: HashMap<String, KeyState>,
}

impl Registry {
    /// Replay stored key events in log order.
    pub fn from_records(records: &[KeyEventRecord]) -> Result<Registry, StorageError> {
        let mut reg = Registry::default();
        for r in records {
            let change = KeyChange::from_record(r)?;
            reg.apply(&change, r.index)
                .map_err(|e| StorageError::Corrupt(format!("key event {}: {e}", r.index)))?;
        }
        Ok(reg)
    }

    /// True once the genesis operator registration is logged.
    pub fn has_genesis(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn get(&self, key_id: &str) -> Option<&KeyState> {
        self.keys.get(key_id)
    }

    /// Check that `change` may be applied (without applying it).
    pub fn check(&self, change: &KeyChange) -> Result<(), RegistryError> {
        match change {
            KeyChange::Register { key_id, .. } => match self.keys.get(key_id) {
                Some(k) => Err(RegistryError::AlreadyRegistered {
                    key_id: key_id.clone(),
                    at: k.registered_at,
                }),
                None => Ok(()),
            },
            KeyChange::Revoke { key_id, .. } => match self.keys.get(key_id) {
                None => Err(RegistryError::NotRegistered {
                    key_id: key_id.clone(),
                }),
                Some(KeyState {
                    revoked_at: Some(at),
                    ..
                }) => Err(RegistryError::AlreadyRevoked {
                    key_id: key_id.clone(),
                    at: *at,
                }),
                Some(_) => Ok(()),
            },
        }
    }

    /// Apply a key event logged at `index`.
    pub fn apply(&mut self, change: &KeyChange, index: u64) -> Result<(), RegistryError> {
        self.check(change)?;
        match change {
            KeyChange::Register {
                public_key,
                key_id,
                roles,
                ..
            } => {
                self.keys.insert(
                    key_id.clone(),
                    KeyState {
                        key_id: key_id.clone(),
                        public_key: *public_key,
                        roles: roles.clone(),
                        registered_at: index,
                        revoked_at: None,
                    },
                );
            }
            KeyChange::Revoke { key_id, .. } => {
                if let Some(k) = self.keys.get_mut(key_id) {
                    k.revoked_at = Some(index);
                }
            }
        }
        Ok(())
    }
}
