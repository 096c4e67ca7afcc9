//! The participant registry, replayed from logged key events (docs/design.md §3).
//!
//! Who may sign what is itself recorded in the log: operators register and revoke
//! participant keys with key-event entries. The same replay serves the server, which
//! decides whether to accept a submission at the position it will take, and the
//! verifier, which decides whether each signer was entitled to sign *at the position
//! the entry holds* (docs/design.md §6 step 4). Both therefore apply one set of rules:
//!
//! - **Genesis.** The first key event must be a `register` of a key holding the
//!   `operator` role, signed by that key alone. No other self-signed registration is
//!   ever valid.
//! - **Authority.** Every later key event, and every attestation, must carry only
//!   signatures that verify with keys registered at a lower log index, not revoked at
//!   or before the entry's index, and holding a role the entry's kind allows.
//! - **Revocation is positional.** A key revoked at index r signs nothing valid after
//!   r. A revocation with `compromisedSince` also voids the key's earlier entries
//!   whose own signed timestamp is at or after that instant, and those that carry no
//!   timestamp (the log's order is the only time it can trust; see threat-model.md).
//! - **A compromised operator's registrations are void.** When an operator key is
//!   revoked with `compromisedSince`, every registration it signed whose
//!   `registeredAt` is at or after that instant, or that carries no `registeredAt`, is
//!   void from the start: the registered key never had standing, and neither did any
//!   key *it* registered. Revocations it signed stay in force — a revocation only ever
//!   removes trust, so honouring a forged one costs availability, never safety.
//! - A key ID is registered once and a revocation is final: re-registering or
//!   re-revoking is refused so that the history of a key reads one way only. The one
//!   exception is a key whose registration was voided: another operator may register
//!   it afresh, and it has standing only from that new position.
//!
//! [`Registry::authorise`] judges an entry by everything the registry knows, so a
//! later compromise revocation or voiding reaches back. [`Registry::authorise_as_logged`]
//! judges it as the registry stood at the entry's own position — what a verifier uses
//! for a rejection, which nothing logged after it may launder away.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::dsse::Envelope;
use crate::statement::time::rfc3339_to_unix;
use crate::statement::{Attestation, KeyEvent, KeyEventPredicate, Role};

/// A registered participant key and what happened to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    /// SHA-256 of the public key, lowercase hex.
    pub key_id: String,
    /// The registered Ed25519 public key.
    #[serde(skip)]
    pub public_key: VerifyingKey,
    /// The participant's name, as registered.
    pub name: String,
    /// The participant's organisation, as registered.
    pub organisation: String,
    /// Roles the key may sign entries for.
    pub roles: Vec<Role>,
    /// Log index of the registering key event.
    pub registered_at: u64,
    /// Key IDs that signed the registration (the genesis operator: itself).
    pub registered_by: Vec<String>,
    /// The registration's signed `registeredAt`, if it carries one.
    #[serde(skip)]
    pub registration_time: Option<String>,
    /// Set once a key event revoked the key.
    pub revocation: Option<Revocation>,
    /// Set when the registration was voided by the compromise of an operator.
    pub void: Option<Void>,
}

/// Why a registration is void (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Void {
    /// The compromised operator key whose registration (or whose own void) voids this one.
    pub operator: String,
    /// Log index of the compromise revocation that voided it.
    pub at: u64,
}

/// A logged revocation of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revocation {
    /// Log index of the revoking key event.
    pub index: u64,
    /// The reason given in the revocation.
    pub reason: String,
    /// RFC 3339 instant from which the key is considered compromised.
    pub compromised_since: Option<String>,
}

impl KeyRecord {
    /// `name (organisation)`, for reports.
    pub fn display_name(&self) -> String {
        if self.organisation.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.organisation)
        }
    }
}

/// Why a signer or a key event is not acceptable at its log position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The signer had no registration at the entry's position.
    #[error("signer {key_id} is not registered at log index {index}")]
    NotRegistered {
        /// The signer's key ID.
        key_id: String,
        /// Log index of the entry.
        index: u64,
    },
    /// The signer was revoked before the entry.
    #[error("signer {key_id} was revoked at log index {revoked_at} ({reason})")]
    Revoked {
        /// The signer's key ID.
        key_id: String,
        /// Log index of the revoking key event.
        revoked_at: u64,
        /// The reason given in the revocation.
        reason: String,
    },
    /// The signer was revoked as compromised from a time before the entry's claimed time.
    #[error(
        "signer {key_id} is compromised since {compromised_since}; the entry claims time {claimed}"
    )]
    Compromised {
        /// The signer's key ID.
        key_id: String,
        /// RFC 3339 instant from which the key is compromised.
        compromised_since: String,
        /// RFC 3339 time the entry claims for itself.
        claimed: String,
    },
    /// The signer holds none of the roles the entry's kind needs.
    #[error("signer {key_id} holds roles [{held}], but a {kind} needs one of [{needed}]")]
    WrongRole {
        /// The signer's key ID.
        key_id: String,
        /// The entry's kind.
        kind: &'static str,
        /// The roles the key holds, joined by `, `.
        held: String,
        /// The roles that would do, joined by `, `.
        needed: String,
    },
    /// The envelope's signature does not verify with the signer's key.
    #[error("signature by {key_id} does not verify")]
    BadSignature {
        /// The signer's key ID.
        key_id: String,
    },
    /// The envelope has no signature at all.
    #[error("the envelope carries no signature")]
    Unsigned,
    /// The first key event is not a self-signed operator registration.
    #[error("the first key event must be a self-signed registration of an operator key: {reason}")]
    BadGenesis {
        /// What the first key event lacks.
        reason: &'static str,
    },
    /// A registration carries bytes that are not an Ed25519 public key.
    #[error("key event registers an unusable public key for {key_id}")]
    InvalidPublicKey {
        /// The key ID the registration names.
        key_id: String,
    },
    /// A registration names a key that is already registered.
    #[error("key {key_id} is already registered (at log index {registered_at})")]
    AlreadyRegistered {
        /// The registered key ID.
        key_id: String,
        /// Log index of the existing registration.
        registered_at: u64,
    },
    /// A revocation names a key that is already revoked.
    #[error("key {key_id} is already revoked (at log index {revoked_at})")]
    AlreadyRevoked {
        /// The revoked key ID.
        key_id: String,
        /// Log index of the existing revocation.
        revoked_at: u64,
    },
    /// A key event names a key the registry does not know.
    #[error("key event names key {key_id}, which is not registered")]
    UnknownSubjectKey {
        /// The unknown key ID.
        key_id: String,
    },
    /// Key events were applied out of log order.
    #[error("key event at index {index} comes before an already applied event at index {last}")]
    OutOfOrder {
        /// Log index of the event being applied.
        index: u64,
        /// Log index of the event applied before it.
        last: u64,
    },
    /// The signer's registration is void: its registering operator was revoked as compromised.
    #[error("signer {key_id} was registered by operator {operator}, revoked as compromised at log index {at}: the registration is void")]
    Voided {
        /// The signer's key ID.
        key_id: String,
        /// The compromised operator key that registered it.
        operator: String,
        /// Log index of the compromise revocation.
        at: u64,
    },
}

/// Which of the registry's facts judge a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    /// Everything known, including compromise windows and voids logged later.
    Now,
    /// Only what was logged before the entry's own position.
    AsLogged,
}

/// The registry state after replaying key events in log order.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    keys: BTreeMap<String, KeyRecord>,
    last_event: Option<u64>,
}

impl Registry {
    /// An empty registry: the state of a log before its genesis.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The record of `key_id`, if it was ever registered.
    pub fn get(&self, key_id: &str) -> Option<&KeyRecord> {
        self.keys.get(key_id)
    }

    /// Every key ever registered, by key ID.
    pub fn keys(&self) -> impl Iterator<Item = &KeyRecord> {
        self.keys.values()
    }

    /// True once the genesis registration has been applied.
    pub fn has_genesis(&self) -> bool {
        self.last_event.is_some()
    }

    /// True while some key holding the `operator` role is neither revoked nor
    /// void: someone can still register and revoke keys.
    ///
    /// The replay rules above do not require one — a log whose last operator was
    /// revoked is still a valid log to verify — but a log that admits such a
    /// revocation can never change its registry again, so the server refuses it.
    pub fn has_active_operator(&self) -> bool {
        self.keys.values().any(|k| {
            k.revocation.is_none() && k.void.is_none() && k.roles.contains(&Role::Operator)
        })
    }

    /// Checks that every signature on `envelope` was made by a key entitled to sign
    /// `attestation` at log position `index`, and returns those keys in signature order.
    pub fn authorise(
        &self,
        index: u64,
        envelope: &Envelope,
        attestation: &Attestation,
    ) -> Result<Vec<&KeyRecord>, RegistryError> {
        self.authorise_with(index, envelope, attestation, Standing::Now)
    }

    /// [`Registry::authorise`] as the registry stood when `index` was logged: later
    /// `compromisedSince` windows and voids do not reach back. Revocations logged
    /// before `index` still count.
    pub fn authorise_as_logged(
        &self,
        index: u64,
        envelope: &Envelope,
        attestation: &Attestation,
    ) -> Result<Vec<&KeyRecord>, RegistryError> {
        self.authorise_with(index, envelope, attestation, Standing::AsLogged)
    }

    fn authorise_with(
        &self,
        index: u64,
        envelope: &Envelope,
        attestation: &Attestation,
        standing: Standing,
    ) -> Result<Vec<&KeyRecord>, RegistryError> {
        if envelope.signatures.is_empty() {
            return Err(RegistryError::Unsigned);
        }
        let claimed = claimed_time(attestation);
        let mut signers = Vec::with_capacity(envelope.signatures.len());
        for (i, sig) in envelope.signatures.iter().enumerate() {
            let record = self
                .keys
                .get(&sig.keyid)
                .filter(|r| r.registered_at < index)
                .ok_or_else(|| RegistryError::NotRegistered {
                    key_id: sig.keyid.clone(),
                    index,
                })?;
            envelope
                .verify_signature(i, &record.public_key)
                .map_err(|_| RegistryError::BadSignature {
                    key_id: sig.keyid.clone(),
                })?;
            check_standing(record, index, claimed, standing)?;
            let allowed = attestation.allowed_roles();
            if !record.roles.iter().any(|r| allowed.contains(r)) {
                return Err(RegistryError::WrongRole {
                    key_id: record.key_id.clone(),
                    kind: attestation.kind(),
                    held: join_roles(&record.roles),
                    needed: join_roles(allowed),
                });
            }
            signers.push(record);
        }
        Ok(signers)
    }

    /// Validates the key event `event`, carried by `envelope` and logged at `index`,
    /// against the current state, and applies it. Events must be applied in log order.
    /// On error the registry is unchanged.
    pub fn apply(
        &mut self,
        index: u64,
        envelope: &Envelope,
        event: &KeyEvent,
    ) -> Result<(), RegistryError> {
        if let Some(last) = self.last_event {
            if index <= last {
                return Err(RegistryError::OutOfOrder { index, last });
            }
            self.authorise(index, envelope, &Attestation::KeyEvent(event.clone()))?;
        } else {
            check_genesis(envelope, event)?;
        }
        match &event.predicate {
            KeyEventPredicate::Register(reg) => {
                if let Some(existing) = self.keys.get(&event.key_id) {
                    if existing.void.is_none() {
                        return Err(RegistryError::AlreadyRegistered {
                            key_id: event.key_id.clone(),
                            registered_at: existing.registered_at,
                        });
                    }
                }
                // Validated by the statement layer: the key hashes to the subject ID.
                let public_key =
                    reg.verifying_key()
                        .map_err(|_| RegistryError::InvalidPublicKey {
                            key_id: event.key_id.clone(),
                        })?;
                self.keys.insert(
                    event.key_id.clone(),
                    KeyRecord {
                        key_id: event.key_id.clone(),
                        public_key,
                        name: reg.name.clone(),
                        organisation: reg.organisation.clone(),
                        roles: reg.roles.clone(),
                        registered_at: index,
                        registered_by: envelope
                            .signatures
                            .iter()
                            .map(|s| s.keyid.clone())
                            .collect(),
                        registration_time: reg.signed_at.clone(),
                        revocation: None,
                        void: None,
                    },
                );
            }
            KeyEventPredicate::Revoke(rev) => {
                let record = self.keys.get_mut(&event.key_id).ok_or_else(|| {
                    RegistryError::UnknownSubjectKey {
                        key_id: event.key_id.clone(),
                    }
                })?;
                if let Some(done) = &record.revocation {
                    return Err(RegistryError::AlreadyRevoked {
                        key_id: event.key_id.clone(),
                        revoked_at: done.index,
                    });
                }
                record.revocation = Some(Revocation {
                    index,
                    reason: rev.reason.clone(),
                    compromised_since: rev.compromised_since.clone(),
                });
                if let Some(since) = &rev.compromised_since {
                    self.void_registrations_by(&event.key_id, since, index);
                }
            }
        }
        self.last_event = Some(index);
        Ok(())
    }

    /// Voids every registration `operator` signed at or after `since` (or without a
    /// signed time), and, transitively, every registration signed by a key so voided.
    fn void_registrations_by(&mut self, operator: &str, since: &str, at: u64) {
        let since = rfc3339_to_unix(since).ok();
        let mut compromised = vec![(operator.to_owned(), since)];
        while let Some((signer, since)) = compromised.pop() {
            for record in self.keys.values_mut() {
                // The compromised key's own (genesis) registration is not voided: its
                // revocation already says all there is to say about it.
                if record.void.is_some()
                    || record.key_id == signer
                    || !record.registered_by.contains(&signer)
                {
                    continue;
                }
                // `since` is `None` for a key that was itself voided: it never had
                // standing, so everything it registered goes, whatever the time.
                let after = match (since, record.registration_time.as_deref()) {
                    (Some(since), Some(time)) => rfc3339_to_unix(time).map_or(true, |t| t >= since),
                    _ => true,
                };
                if after {
                    record.void = Some(Void {
                        operator: signer.clone(),
                        at,
                    });
                    compromised.push((record.key_id.clone(), None));
                }
            }
        }
    }
}

/// The genesis rule: a self-signed registration of an operator key.
fn check_genesis(envelope: &Envelope, event: &KeyEvent) -> Result<(), RegistryError> {
    let bad = |reason| Err(RegistryError::BadGenesis { reason });
    let KeyEventPredicate::Register(reg) = &event.predicate else {
        return bad("it is not a registration");
    };
    let [sig] = envelope.signatures.as_slice() else {
        return bad("it must carry exactly one signature");
    };
    if sig.keyid != event.key_id {
        return bad("it is not signed by the key it registers");
    }
    if !reg.roles.contains(&Role::Operator) {
        return bad("the key it registers lacks the operator role");
    }
    let Ok(key) = reg.verifying_key() else {
        return Err(RegistryError::InvalidPublicKey {
            key_id: event.key_id.clone(),
        });
    };
    envelope
        .verify_signature(0, &key)
        .map_err(|_| RegistryError::BadSignature {
            key_id: sig.keyid.clone(),
        })
}

/// Void, revocation and compromise checks for a signature at `index`.
fn check_standing(
    record: &KeyRecord,
    index: u64,
    claimed: Option<&str>,
    standing: Standing,
) -> Result<(), RegistryError> {
    if let Some(void) = &record.void {
        if standing == Standing::Now || void.at <= index {
            return Err(RegistryError::Voided {
                key_id: record.key_id.clone(),
                operator: void.operator.clone(),
                at: void.at,
            });
        }
    }
    let Some(rev) = &record.revocation else {
        return Ok(());
    };
    if rev.index <= index {
        return Err(RegistryError::Revoked {
            key_id: record.key_id.clone(),
            revoked_at: rev.index,
            reason: rev.reason.clone(),
        });
    }
    if standing == Standing::AsLogged {
        return Ok(());
    }
    let Some(since) = &rev.compromised_since else {
        return Ok(());
    };
    let compromised = match (claimed, rfc3339_to_unix(since)) {
        (Some(claim), Ok(since_unix)) => match rfc3339_to_unix(claim) {
            Ok(claim_unix) => claim_unix >= since_unix,
            Err(_) => true,
        },
        // No signed time to compare, or an unreadable bound: the entry cannot be
        // shown to predate the compromise.
        _ => true,
    };
    if compromised {
        return Err(RegistryError::Compromised {
            key_id: record.key_id.clone(),
            compromised_since: since.clone(),
            claimed: claimed.unwrap_or("nothing").to_owned(),
        });
    }
    Ok(())
}

/// The signer's own claim of when it made the statement.
fn claimed_time(attestation: &Attestation) -> Option<&str> {
    match attestation {
        Attestation::SourceSubmission(s) => Some(&s.predicate.submitted_at),
        Attestation::SourceReview(r) => Some(&r.predicate.reviewed_at),
        Attestation::Build(b) => b
            .predicate
            .run_details
            .metadata
            .as_ref()
            .and_then(|m| m.finished_on.as_deref().or(m.started_on.as_deref())),
        Attestation::KeyEvent(e) => e.signed_at(),
    }
}

fn join_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
