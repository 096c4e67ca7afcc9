//! C2SP tlog-cosignature v1: timestamped Ed25519 witness cosignatures
//! (<https://c2sp.org/tlog-cosignature>, signature type 0x04).
//!
//! A witness that has checked a checkpoint is consistent with everything it saw before
//! adds one signature line to the checkpoint's note. Per tlog-cosignature §Format:
//!
//! * key ID = `SHA-256(<name> || "\n" || 0x04 || 32-byte public key)[:4]`;
//! * signature = `timestamp (u64, big-endian) || Ed25519 signature (64 bytes)`;
//! * the timestamp is POSIX seconds and must not exceed 2^63 − 1.
//!
//! Per §Ed25519 signed message, what is signed is
//!
//! ```text
//! cosignature/v1
//! time <timestamp in decimal>
//! <the whole checkpoint note text, extension lines included, final newline included>
//! ```
//!
//! The message does not name the cosigner, so one key must serve exactly one cosigner.
//! A cosignature says "as of this time, this is the largest consistent tree I have
//! seen for this origin"; it says nothing about extension lines.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{
    ed25519_signer_from, ed25519_verifier_from, ed25519_verify, format_key_string,
    format_private_key_string, is_valid_key_name, key_id, split_key_string,
    split_private_key_string, KeyError, KeyStringKind, Note, NoteError, NoteSignature,
    NoteVerifier,
};

/// Signature type byte of tlog-cosignature v1 (C2SP signed-note §Signature types).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Largest timestamp a cosignature may carry (tlog-cosignature §Format: 2^63 − 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Length of a `timestamped_signature` for Ed25519: 8 + 64 bytes.
pub const TIMESTAMPED_SIGNATURE_LEN: usize = 72;

/// The message a v1 cosigner signs for `checkpoint_text` at `timestamp`.
pub fn cosigned_message(checkpoint_text: &[u8], timestamp: u64) -> Vec<u8> {
    let header = format!("cosignature/v1\ntime {timestamp}\n");
    let mut msg = Vec::with_capacity(header.len() + checkpoint_text.len());
    msg.extend_from_slice(header.as_bytes());
    msg.extend_from_slice(checkpoint_text);
    msg
}

/// The `timestamped_signature` structure carried after a cosignature's key ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedSignature {
    /// POSIX seconds at which the cosignature was made.
    pub timestamp: u64,
    /// Ed25519 signature over [`cosigned_message`].
    pub signature: [u8; 64],
}

impl TimestampedSignature {
    /// Decodes the 72 bytes after the key ID.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CosignatureError> {
        let bytes: &[u8; TIMESTAMPED_SIGNATURE_LEN] = bytes
            .try_into()
            .map_err(|_| CosignatureError::WrongSignatureLength { len: bytes.len() })?;
        let (ts, sig) = bytes.split_at(8);
        let mut ts_bytes = [0u8; 8];
        ts_bytes.copy_from_slice(ts);
        let timestamp = u64::from_be_bytes(ts_bytes);
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge { timestamp });
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig);
        Ok(TimestampedSignature {
            timestamp,
            signature,
        })
    }

    /// Encodes timestamp (big-endian) then signature.
    pub fn to_bytes(&self) -> [u8; TIMESTAMPED_SIGNATURE_LEN] {
        let mut out = [0u8; TIMESTAMPED_SIGNATURE_LEN];
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..].copy_from_slice(&self.signature);
        out
    }
}

/// When a cosignature/v1 signature line was made (POSIX seconds), `None` for a line
/// that is not one. A witness re-cosigning a checkpoint it holds makes a newer one.
pub fn cosigned_at(line: &crate::note::NoteSignature) -> Option<u64> {
    TimestampedSignature::from_bytes(&line.signature)
        .ok()
        .map(|t| t.timestamp)
}

/// Why a cosignature could not be made or was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The signature after the key ID is not 72 bytes.
    #[error("cosignature is {len} bytes after the key ID, expected 72")]
    WrongSignatureLength {
        /// Bytes found after the key ID.
        len: usize,
    },
    /// The timestamp exceeds 2^63 − 1.
    #[error("cosignature timestamp {timestamp} exceeds 2^63-1")]
    TimestampTooLarge {
        /// The timestamp asked for, in seconds since the Unix epoch.
        timestamp: u64,
    },
    /// The text to cosign is not a checkpoint.
    #[error("cannot cosign: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The note carrying the cosignatures is malformed.
    #[error("cosigned note: {0}")]
    Note(#[from] NoteError),
    /// Two trusted cosigner keys share a name and key ID.
    #[error("more than one trusted cosigner is named {name}+{key_id:08x}")]
    AmbiguousCosigner {
        /// The shared key name.
        name: String,
        /// The shared 32-bit key ID.
        key_id: u32,
    },
    /// A cosignature by a trusted cosigner does not verify.
    #[error("invalid cosignature by trusted cosigner {name}+{key_id:08x}")]
    InvalidCosignature {
        /// The cosigner's key name.
        name: String,
        /// The cosigner's 32-bit key ID.
        key_id: u32,
    },
}

/// A witness's signing key: a name and an Ed25519 key used only for v1 cosignatures.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl CosignatureSigner {
    /// Binds `key` to cosigner `name`, computing the type-0x04 key ID.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName {
                name: name.to_owned(),
            });
        }
        let key_id = key_id(name, ALG_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(CosignatureSigner {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64(0x04 || seed)>` — the signed-note private
    /// key encoding with the cosignature type byte.
    pub fn from_private_key_string(text: &str) -> Result<Self, KeyError> {
        let parts = split_private_key_string(text)?;
        let (name, key_id, key) = ed25519_signer_from(parts, ALG_COSIGNATURE_V1)?;
        Ok(CosignatureSigner { name, key_id, key })
    }

    /// The `PRIVATE+KEY+…` string for this key. Keep it secret.
    pub fn to_private_key_string(&self) -> String {
        format_private_key_string(
            &self.name,
            self.key_id,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        )
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The type-0x04 key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> CosignatureVerifierKey {
        CosignatureVerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Cosigns `checkpoint_text` (a checkpoint note text, final newline included) at
    /// `timestamp` POSIX seconds. The caller must first have checked the checkpoint's
    /// log signature and its consistency with every earlier checkpoint it cosigned.
    pub fn sign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge { timestamp });
        }
        Checkpoint::parse(checkpoint_text)?;
        let msg = cosigned_message(checkpoint_text.as_bytes(), timestamp);
        let sig = TimestampedSignature {
            timestamp,
            signature: self.key.sign(&msg).to_bytes(),
        };
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: sig.to_bytes().to_vec(),
        })
    }
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A trusted witness: name, type-0x04 key ID and Ed25519 public key. Parsed from and
/// displayed as a vkey `<name>+<id>+<base64(0x04 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifierKey {
    /// Binds `key` to cosigner `name`, computing the key ID.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName {
                name: name.to_owned(),
            });
        }
        Ok(CosignatureVerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, ALG_COSIGNATURE_V1, key.as_bytes()),
            key,
        })
    }

    /// Parses a cosigner vkey (signature type byte 0x04).
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let parts = split_key_string(vkey, KeyStringKind::VerifierKey)?;
        let (name, key_id, key) = ed25519_verifier_from(parts, ALG_COSIGNATURE_V1)?;
        Ok(CosignatureVerifierKey { name, key_id, key })
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies the 72-byte `signature` (after the key ID) over `checkpoint_text` and
    /// returns the timestamp it vouches for.
    pub fn verify_timestamped(
        &self,
        checkpoint_text: &[u8],
        signature: &[u8],
    ) -> Result<u64, CosignatureError> {
        let parsed = TimestampedSignature::from_bytes(signature)?;
        let msg = cosigned_message(checkpoint_text, parsed.timestamp);
        if ed25519_verify(&self.key, &msg, &parsed.signature) {
            Ok(parsed.timestamp)
        } else {
            Err(CosignatureError::InvalidCosignature {
                name: self.name.clone(),
                key_id: self.key_id,
            })
        }
    }
}

impl fmt::Display for CosignatureVerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_key_string(
            &self.name,
            self.key_id,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        ))
    }
}

impl FromStr for CosignatureVerifierKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        CosignatureVerifierKey::parse(s)
    }
}

impl NoteVerifier for CosignatureVerifierKey {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verify_timestamped(msg, sig).is_ok()
    }
}

/// A cosignature that verified under a trusted cosigner key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCosignature {
    /// Cosigner name.
    pub name: String,
    /// Cosigner key ID.
    pub key_id: u32,
    /// POSIX seconds the cosigner signed at.
    pub timestamp: u64,
}

/// Checks the cosignatures on a checkpoint note against trusted cosigners and returns
/// those that verified, in note order; counting them against a quorum is the caller's
/// policy.
///
/// Lines from unknown keys (the log's own signature among them) are ignored; a line
/// from a trusted cosigner that fails to verify rejects the note, as C2SP signed-note
/// §Signatures advises for any known key.
pub fn verify_cosignatures(
    note: &Note,
    cosigners: &[&CosignatureVerifierKey],
) -> Result<Vec<VerifiedCosignature>, CosignatureError> {
    note.validate()?;
    let mut verified = Vec::new();
    for sig in &note.signatures {
        let mut matching = cosigners
            .iter()
            .filter(|c| c.name == sig.name && c.key_id == sig.key_id);
        let Some(cosigner) = matching.next() else {
            continue;
        };
        if matching.next().is_some() {
            return Err(CosignatureError::AmbiguousCosigner {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        }
        let timestamp = cosigner.verify_timestamped(note.text.as_bytes(), &sig.signature)?;
        verified.push(VerifiedCosignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
            timestamp,
        });
    }
    Ok(verified)
}
