//! DSSE v1 envelopes (secure-systems-lab/dsse `envelope.md`, `protocol.md`), the unit
//! every Glassbox log entry is made of (docs/design.md §3).
//!
//! The signature covers `PAE(payloadType, payload)` — never the JSON — so the payload
//! is kept as the exact bytes that were signed. The log leaf is
//! [`Envelope::to_canonical_json`]: the RFC 8785 form of the envelope object, so that
//! two byte-different serialisations of one envelope (whitespace, member order, escapes)
//! become one leaf and re-submission is idempotent.
//!
//! Parsing is deliberately stricter than the DSSE envelope spec, because an accepted
//! envelope becomes a permanent log entry:
//!
//! - unknown members and duplicate members are rejected at every level;
//! - `payload` and `sig` are standard base64 with canonical padding; the URL-safe
//!   alphabet the DSSE protocol also allows is refused, so that one envelope has one
//!   spelling before canonicalisation too;
//! - `keyid`, optional in DSSE, is required and must be a Glassbox key ID
//!   ([`key_id_hex`]: 64 lowercase hex); no two signatures may share one;
//! - every `sig` is 64 bytes (Ed25519, the only algorithm Glassbox uses);
//! - there is at least one and at most [`MAX_SIGNATURES`] signatures, the JSON is at
//!   most [`MAX_ENVELOPE_BYTES`] and `payloadType` is 1..=[`MAX_PAYLOAD_TYPE_LEN`] bytes
//!   without control characters.
//!
//! The keyid only selects which key to try (DSSE protocol: "MUST NOT be used for
//! security decisions"); [`Envelope::verify_signature`] checks both that the key's ID
//! matches and that the signature verifies.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Deserialize;

pub use crate::digest::key_id_hex;
use crate::jcs;

/// Largest envelope JSON accepted by [`Envelope::from_json`].
pub const MAX_ENVELOPE_BYTES: usize = 1 << 20;
/// Most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 16;
/// Longest `payloadType` accepted, in bytes.
pub const MAX_PAYLOAD_TYPE_LEN: usize = 256;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A DSSE envelope: the signed payload bytes, their type, and the signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The serialised body exactly as signed (base64-decoded `payload`).
    pub payload: Vec<u8>,
    /// `payloadType`, e.g. `application/vnd.in-toto+json`.
    pub payload_type: String,
    /// Signatures in the order they were given; the order is part of the leaf.
    pub signatures: Vec<DsseSignature>,
}

/// One signature of an [`Envelope`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsseSignature {
    /// The signer's key ID ([`key_id_hex`]).
    pub keyid: String,
    /// The raw 64-byte Ed25519 signature over [`pae`].
    pub sig: Vec<u8>,
}

/// Why an envelope was rejected, or could not be signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// The JSON text is larger than [`MAX_ENVELOPE_BYTES`].
    #[error("envelope is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Malformed JSON, or a member missing, unknown, duplicated or of the wrong type.
    #[error("{path}: {message}")]
    Json {
        /// Where in the envelope (`envelope`, `signatures[1].sig`, …).
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// A `payload` or `sig` is not standard padded base64.
    #[error("{path}: not standard base64 with padding: {message}")]
    Base64 {
        /// `payload` or `signatures[i].sig`.
        path: String,
        /// The decoder's complaint.
        message: String,
    },
    /// `payloadType` is empty, too long or contains a control character.
    #[error("payloadType: {reason}")]
    BadPayloadType {
        /// What is wrong with it.
        reason: String,
    },
    /// `signatures` is empty.
    #[error("signatures: an envelope needs at least one signature")]
    NoSignatures,
    /// More than [`MAX_SIGNATURES`] signatures.
    #[error("signatures: {count} signatures, more than the limit of {limit}")]
    TooManySignatures {
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A `keyid` is not 64 lowercase hex digits.
    #[error("signatures[{index}].keyid: expected 64 lowercase hex digits (SHA-256 of the Ed25519 public key), found {keyid:?}")]
    BadKeyId {
        /// Position of the signature.
        index: usize,
        /// The keyid given.
        keyid: String,
    },
    /// Two signatures carry the same `keyid`.
    #[error("signatures[{index}].keyid: duplicate keyid {keyid}")]
    DuplicateKeyId {
        /// Position of the second occurrence.
        index: usize,
        /// The repeated keyid.
        keyid: String,
    },
    /// A `sig` does not decode to 64 bytes.
    #[error("signatures[{index}].sig: expected a {SIGNATURE_LEN}-byte Ed25519 signature, found {len} bytes")]
    BadSignatureLength {
        /// Position of the signature.
        index: usize,
        /// Decoded length.
        len: usize,
    },
    /// [`Envelope::verify_signature`] was asked for a signature that does not exist.
    #[error("signature index {index} out of range: the envelope has {count}")]
    NoSuchSignature {
        /// Requested position.
        index: usize,
        /// Number of signatures.
        count: usize,
    },
    /// The key offered for a signature is not the key its `keyid` names.
    #[error("signatures[{index}].keyid is {keyid}, but the key offered has ID {key_id}")]
    KeyIdMismatch {
        /// Position of the signature.
        index: usize,
        /// The keyid in the envelope.
        keyid: String,
        /// The ID of the key offered.
        key_id: String,
    },
    /// The signature does not verify over PAE(payloadType, payload).
    #[error("signatures[{index}]: Ed25519 signature by {keyid} does not verify")]
    BadSignature {
        /// Position of the signature.
        index: usize,
        /// The keyid of the signature.
        keyid: String,
    },
    /// [`Envelope::sign`] was given no keys.
    #[error("no signing keys given")]
    NoSigningKeys,
}

/// The DSSE v1 Pre-Authentication Encoding (protocol.md):
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes as ASCII
/// decimal without leading zeros. This, not the JSON, is what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let head = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    );
    let mut out = Vec::with_capacity(head.len() + payload.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    keyid: String,
    sig: String,
}

impl Envelope {
    /// Parses and validates envelope JSON under the rules in the module docs.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, DsseError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DsseError::TooLarge {
                size: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            });
        }
        // Untracked first (see `Statement::from_json`); the tracked parse only
        // explains a failure.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        if let Ok(raw) = RawEnvelope::deserialize(&mut de) {
            if de.end().is_ok() {
                return Self::from_raw(raw);
            }
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let raw: RawEnvelope = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
        de.end().map_err(|e| DsseError::Json {
            path: "envelope".to_owned(),
            message: e.to_string(),
        })?;
        Self::from_raw(raw)
    }

    /// Parses an envelope held as a JSON value (e.g. a receipt's `entry`), with the same
    /// rules as [`Envelope::from_json`].
    pub fn from_value(value: &serde_json::Value) -> Result<Envelope, DsseError> {
        let bytes = serde_json::to_vec(value).map_err(|e| DsseError::Json {
            path: "envelope".to_owned(),
            message: e.to_string(),
        })?;
        Self::from_json(&bytes)
    }

    fn from_raw(raw: RawEnvelope) -> Result<Envelope, DsseError> {
        check_payload_type(&raw.payload_type)?;
        let payload = decode_b64("payload", &raw.payload)?;
        if raw.signatures.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        if raw.signatures.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures {
                count: raw.signatures.len(),
                limit: MAX_SIGNATURES,
            });
        }
        let mut signatures: Vec<DsseSignature> = Vec::with_capacity(raw.signatures.len());
        for (index, s) in raw.signatures.into_iter().enumerate() {
            if !is_key_id(&s.keyid) {
                return Err(DsseError::BadKeyId {
                    index,
                    keyid: s.keyid,
                });
            }
            if signatures.iter().any(|prev| prev.keyid == s.keyid) {
                return Err(DsseError::DuplicateKeyId {
                    index,
                    keyid: s.keyid,
                });
            }
            let sig = decode_b64(&format!("signatures[{index}].sig"), &s.sig)?;
            if sig.len() != SIGNATURE_LEN {
                return Err(DsseError::BadSignatureLength {
                    index,
                    len: sig.len(),
                });
            }
            signatures.push(DsseSignature {
                keyid: s.keyid,
                sig,
            });
        }
        Ok(Envelope {
            payload,
            payload_type: raw.payload_type,
            signatures,
        })
    }

    /// Signs `payload` as `payload_type` with each key in turn; signatures appear in the
    /// order of `keys`. Two keys with the same ID are one signer and are refused.
    pub fn sign(
        payload_type: &str,
        payload: &[u8],
        keys: &[&SigningKey],
    ) -> Result<Envelope, DsseError> {
        check_payload_type(payload_type)?;
        if keys.is_empty() {
            return Err(DsseError::NoSigningKeys);
        }
        if keys.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures {
                count: keys.len(),
                limit: MAX_SIGNATURES,
            });
        }
        let message = pae(payload_type, payload);
        let mut signatures: Vec<DsseSignature> = Vec::with_capacity(keys.len());
        for (index, key) in keys.iter().enumerate() {
            let keyid = key_id_hex(&key.verifying_key());
            if signatures.iter().any(|prev| prev.keyid == keyid) {
                return Err(DsseError::DuplicateKeyId { index, keyid });
            }
            let sig = key.sign(&message).to_bytes().to_vec();
            signatures.push(DsseSignature { keyid, sig });
        }
        Ok(Envelope {
            payload: payload.to_vec(),
            payload_type: payload_type.to_owned(),
            signatures,
        })
    }

    /// PAE of this envelope's type and payload: the bytes every signature covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The statement's identity: SHA-256 of [`Envelope::pae`], the bytes every
    /// signature covers. Two envelopes with the same payload and type share it whatever
    /// their signatures (order, subset, extra signers), so the log and the verifier use
    /// it to count a statement once, at its first position (docs/formats/attestations.md).
    pub fn statement_digest(&self) -> [u8; 32] {
        use sha2::{Digest as _, Sha256};
        Sha256::digest(self.pae()).into()
    }

    /// Checks signature `sig_index` against `key`: the key's ID must equal the
    /// signature's `keyid`, and the Ed25519 signature must verify (RFC 8032 strict:
    /// non-canonical encodings and small-order keys are refused) over [`Envelope::pae`].
    pub fn verify_signature(&self, sig_index: usize, key: &VerifyingKey) -> Result<(), DsseError> {
        let s = self
            .signatures
            .get(sig_index)
            .ok_or(DsseError::NoSuchSignature {
                index: sig_index,
                count: self.signatures.len(),
            })?;
        let key_id = key_id_hex(key);
        if key_id != s.keyid {
            return Err(DsseError::KeyIdMismatch {
                index: sig_index,
                keyid: s.keyid.clone(),
                key_id,
            });
        }
        let bytes: [u8; SIGNATURE_LEN] =
            s.sig
                .as_slice()
                .try_into()
                .map_err(|_| DsseError::BadSignatureLength {
                    index: sig_index,
                    len: s.sig.len(),
                })?;
        key.verify_strict(&self.pae(), &Signature::from_bytes(&bytes))
            .map_err(|_| DsseError::BadSignature {
                index: sig_index,
                keyid: s.keyid.clone(),
            })
    }

    /// The RFC 8785 canonical JSON of
    /// `{"payload", "payloadType", "signatures": [{"keyid", "sig"}, …]}` with standard
    /// padded base64 — THE LOG LEAF. Equal envelopes give equal bytes; the payload is
    /// carried exactly and the signature order is kept.
    pub fn to_canonical_json(&self) -> Vec<u8> {
        // Every member is a string, so the JCS rules reduce to: members in UTF-16 order
        // (here all names are ASCII: keyid < sig, payload < payloadType < signatures)
        // and RFC 8785 string escaping, which base64 text never needs.
        let base64_len = |n: usize| n.div_ceil(3) * 4;
        let mut out = String::with_capacity(
            64 + base64_len(self.payload.len())
                + self.payload_type.len()
                + self
                    .signatures
                    .iter()
                    .map(|s| 32 + s.keyid.len() + base64_len(s.sig.len()))
                    .sum::<usize>(),
        );
        let base64 = |bytes: &[u8], out: &mut String| {
            out.push('"');
            STANDARD.encode_string(bytes, out);
            out.push('"');
        };
        out.push_str("{\"payload\":");
        base64(&self.payload, &mut out);
        out.push_str(",\"payloadType\":");
        jcs::write_string(&self.payload_type, &mut out);
        out.push_str(",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"keyid\":");
            jcs::write_string(&s.keyid, &mut out);
            out.push_str(",\"sig\":");
            base64(&s.sig, &mut out);
            out.push('}');
        }
        out.push_str("]}");
        out.into_bytes()
    }

    /// The envelope as a JSON value (the shape of a receipt's `entry`).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::json!({
            "payload": STANDARD.encode(&self.payload),
            "payloadType": self.payload_type,
            "signatures": self.signatures.iter().map(|s| serde_json::json!({
                "keyid": s.keyid,
                "sig": STANDARD.encode(&s.sig),
            })).collect::<Vec<_>>(),
        })
    }
}

/// True when `s` is a Glassbox key ID: 64 lowercase hex digits.
pub fn is_key_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_payload_type(payload_type: &str) -> Result<(), DsseError> {
    let reason = if payload_type.is_empty() {
        "must not be empty".to_owned()
    } else if payload_type.len() > MAX_PAYLOAD_TYPE_LEN {
        format!(
            "{} bytes, more than the limit of {MAX_PAYLOAD_TYPE_LEN}",
            payload_type.len()
        )
    } else if payload_type.chars().any(char::is_control) {
        "must not contain control characters".to_owned()
    } else {
        return Ok(());
    };
    Err(DsseError::BadPayloadType { reason })
}

fn decode_b64(path: &str, text: &str) -> Result<Vec<u8>, DsseError> {
    STANDARD.decode(text).map_err(|e| DsseError::Base64 {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> DsseError {
    let path = e.path().to_string();
    DsseError::Json {
        path: if path == "." {
            "envelope".to_owned()
        } else {
            path
        },
        message: e.into_inner().to_string(),
    }
}
