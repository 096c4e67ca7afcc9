//! Key events (`https://glassbox.dev/key-event/v1`): the participant registry, kept in
//! the log itself so that who was accredited for what, and when, is as provable as the
//! attestations (docs/design.md §3).
//!
//! The subject is the participant key: `{"name": <key ID>, "digest": {"sha256": <key
//! ID>}}` — the key ID *is* the SHA-256 of the public key (docs/design.md §2), so the subject
//! is an ordinary in-toto DigestSet and a registration's `publicKey` is checked to hash
//! to it. The predicate is tagged by `event`:
//!
//! ```json
//! {"event": "register", "publicKey": "<std base64 of 32 bytes>", "name": "Alice Reviewer",
//!  "organisation": "Example Audits Ltd", "roles": ["reviewer"],
//!  "registeredAt": "2025-02-01T00:00:00Z"}
//! {"event": "revoke", "reason": "laptop stolen", "compromisedSince": "2025-03-01T00:00:00Z",
//!  "revokedAt": "2025-03-02T10:00:00Z"}
//! ```
//!
//! `registeredAt` / `revokedAt` are the operator's signed claim of when it made the
//! event. They are optional (events logged before they existed have none), but they
//! are what lets a revocation of an *operator* key with `compromisedSince` tell the
//! registrations that operator made before the compromise from those made after: an
//! event without one cannot be shown to predate it (see `registry`).
//!
//! Only operator keys may sign key events ([`super::Attestation::allowed_roles`]). The
//! one exception — the first key event of a log may be an operator registering itself
//! (signed by the key it registers) — depends on log order and is enforced by the
//! server and the verifier, not here.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::{check_hex, check_label, check_text, check_timestamp, invalid};
use super::{parse_predicate, Role, StatementError, Subject};
use crate::digest::key_id_hex;

/// A validated key event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// The key the event is about (64 lowercase hex).
    pub key_id: String,
    /// Register or revoke.
    pub predicate: KeyEventPredicate,
}

/// The predicate, by its `event` tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyEventPredicate {
    /// `"event": "register"`.
    Register(KeyRegistration),
    /// `"event": "revoke"`.
    Revoke(KeyRevocation),
}

/// A registration: the key, who holds it, and the roles it may sign for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRegistration {
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Holder's name.
    pub name: String,
    /// Holder's organisation.
    pub organisation: String,
    /// Non-empty, without duplicates.
    pub roles: Vec<Role>,
    /// RFC 3339 time the operator signed the registration (its claim).
    #[serde(
        default,
        rename = "registeredAt",
        skip_serializing_if = "Option::is_none"
    )]
    pub signed_at: Option<String>,
}

/// A revocation: the key must no longer be trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRevocation {
    /// Why.
    pub reason: String,
    /// RFC 3339 time from which the key must be considered compromised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
    /// RFC 3339 time the operator signed the revocation (its claim).
    #[serde(default, rename = "revokedAt", skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
}

impl KeyEvent {
    /// A registration of `key` (what `glassbox attest key --register` calls).
    pub fn register(
        key: &VerifyingKey,
        name: &str,
        organisation: &str,
        roles: Vec<Role>,
    ) -> Result<KeyEvent, StatementError> {
        let event = KeyEvent {
            key_id: key_id_hex(key),
            predicate: KeyEventPredicate::Register(KeyRegistration {
                public_key: STANDARD.encode(key.as_bytes()),
                name: name.to_owned(),
                organisation: organisation.to_owned(),
                roles,
                signed_at: None,
            }),
        };
        event.validate()?;
        Ok(event)
    }

    /// A revocation of the key with ID `key_id` (what `glassbox attest key --revoke`
    /// calls).
    pub fn revoke(
        key_id: &str,
        reason: &str,
        compromised_since: Option<&str>,
    ) -> Result<KeyEvent, StatementError> {
        let event = KeyEvent {
            key_id: key_id.to_owned(),
            predicate: KeyEventPredicate::Revoke(KeyRevocation {
                reason: reason.to_owned(),
                compromised_since: compromised_since.map(str::to_owned),
                signed_at: None,
            }),
        };
        event.validate()?;
        Ok(event)
    }

    /// The same event carrying the operator's signed time `time` (RFC 3339):
    /// `registeredAt` or `revokedAt`.
    pub fn at(mut self, time: &str) -> Result<KeyEvent, StatementError> {
        match &mut self.predicate {
            KeyEventPredicate::Register(r) => r.signed_at = Some(time.to_owned()),
            KeyEventPredicate::Revoke(r) => r.signed_at = Some(time.to_owned()),
        }
        self.validate()?;
        Ok(self)
    }

    /// The operator's signed claim of when it made this event, if it carries one.
    pub fn signed_at(&self) -> Option<&str> {
        match &self.predicate {
            KeyEventPredicate::Register(r) => r.signed_at.as_deref(),
            KeyEventPredicate::Revoke(r) => r.signed_at.as_deref(),
        }
    }

    /// Checks every rule of the kind, including that a registered key hashes to
    /// `key_id`.
    pub fn validate(&self) -> Result<(), StatementError> {
        check_hex("subject[0].name", &self.key_id, &[64])?;
        match &self.predicate {
            KeyEventPredicate::Register(r) => {
                let key = r.verifying_key()?;
                let actual = key_id_hex(&key);
                if actual != self.key_id {
                    return Err(invalid(
                        "predicate.publicKey",
                        format!(
                            "key ID (SHA-256 of the key) is {actual}, but the subject names {}",
                            self.key_id
                        ),
                    ));
                }
                check_label("predicate.name", &r.name)?;
                check_label("predicate.organisation", &r.organisation)?;
                if r.roles.is_empty() {
                    return Err(invalid(
                        "predicate.roles",
                        "expected at least one of vendor, reviewer, builder, operator",
                    ));
                }
                for (i, role) in r.roles.iter().enumerate() {
                    if r.roles[..i].contains(role) {
                        return Err(invalid(
                            format!("predicate.roles[{i}]"),
                            format!("duplicate role {role}"),
                        ));
                    }
                }
                if let Some(t) = &r.signed_at {
                    check_timestamp("predicate.registeredAt", t)?;
                }
                Ok(())
            }
            KeyEventPredicate::Revoke(r) => {
                check_text("predicate.reason", &r.reason)?;
                if let Some(t) = &r.compromised_since {
                    check_timestamp("predicate.compromisedSince", t)?;
                }
                if let Some(t) = &r.signed_at {
                    check_timestamp("predicate.revokedAt", t)?;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn parse(
        subjects: &[Subject],
        predicate: &Value,
    ) -> Result<KeyEvent, StatementError> {
        let [subject] = subjects else {
            return Err(invalid(
                "subject",
                format!(
                    "expected exactly one subject (the key), found {}",
                    subjects.len()
                ),
            ));
        };
        check_hex("subject[0].name", &subject.name, &[64])?;
        if let Some(other) = subject.digest.keys().find(|k| *k != "sha256") {
            return Err(invalid(
                format!("subject[0].digest.{other}"),
                "unexpected digest; a key is named by sha256 only",
            ));
        }
        match subject.digest.get("sha256") {
            Some(d) if *d == subject.name => {}
            Some(_) => {
                return Err(invalid(
                    "subject[0].digest.sha256",
                    "must equal subject[0].name (the key ID)",
                ))
            }
            None => return Err(invalid("subject[0].digest.sha256", "required")),
        }
        let event = KeyEvent {
            key_id: subject.name.clone(),
            predicate: KeyEventPredicate::parse(predicate)?,
        };
        event.validate()?;
        Ok(event)
    }

    pub(crate) fn subjects(&self) -> Vec<Subject> {
        vec![Subject {
            name: self.key_id.clone(),
            digest: BTreeMap::from([("sha256".to_owned(), self.key_id.clone())]),
        }]
    }
}

impl KeyEventPredicate {
    /// `register` or `revoke`.
    pub fn event(&self) -> &'static str {
        match self {
            KeyEventPredicate::Register(_) => "register",
            KeyEventPredicate::Revoke(_) => "revoke",
        }
    }

    /// The predicate object, `event` tag included.
    pub fn to_value(&self) -> Value {
        let body = match self {
            KeyEventPredicate::Register(r) => serde_json::to_value(r),
            KeyEventPredicate::Revoke(r) => serde_json::to_value(r),
        };
        let mut map = match body {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        map.insert("event".to_owned(), Value::String(self.event().to_owned()));
        Value::Object(map)
    }

    fn parse(predicate: &Value) -> Result<KeyEventPredicate, StatementError> {
        let Some(map) = predicate.as_object() else {
            return Err(invalid("predicate", "expected an object"));
        };
        let expected = "expected one of register, revoke";
        let event = match map.get("event") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(invalid("predicate.event", expected)),
            None => return Err(invalid("predicate.event", format!("required; {expected}"))),
        };
        let mut rest = map.clone();
        rest.remove("event");
        let rest = Value::Object(rest);
        match event {
            "register" => Ok(KeyEventPredicate::Register(parse_predicate(&rest)?)),
            "revoke" => Ok(KeyEventPredicate::Revoke(parse_predicate(&rest)?)),
            _ => Err(invalid("predicate.event", expected)),
        }
    }
}

impl KeyRegistration {
    /// The registered Ed25519 key; refuses bad base64, a wrong length, an invalid point
    /// and small-order ("weak") keys.
    pub fn verifying_key(&self) -> Result<VerifyingKey, StatementError> {
        let path = "predicate.publicKey";
        let bytes = STANDARD
            .decode(&self.public_key)
            .map_err(|e| invalid(path, format!("not standard base64 with padding: {e}")))?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            invalid(
                path,
                format!(
                    "expected a 32-byte Ed25519 public key, found {} bytes",
                    bytes.len()
                ),
            )
        })?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| invalid(path, "not a valid Ed25519 public key"))?;
        if key.is_weak() {
            return Err(invalid(path, "small-order Ed25519 key"));
        }
        Ok(key)
    }
}
