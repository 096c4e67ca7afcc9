//! Key names, key IDs and the text encodings of Ed25519 note keys.
//!
//! C2SP signed-note §Signatures recommends, and Glassbox requires, that a key ID be
//! `SHA-256(key name || 0x0A || signature type || public key)[:4]` read big-endian.
//! Keys travel as text:
//!
//! * verifier key (vkey): `<name>+<key ID as 8 hex digits>+<base64(type || public key)>`
//! * private key: `PRIVATE+KEY+<name>+<key ID>+<base64(type || 32-byte seed)>`
//!
//! These are the encodings of the Go `golang.org/x/mod/sumdb/note` package, which the
//! C2SP ecosystem (sumdb, sigsum, witnesses) shares. Parsing recomputes the key ID
//! from the name and key and rejects a string whose declared ID disagrees, so a typo
//! in any part of a key string is caught when it is loaded, not when a signature fails.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::b64;
use super::{NoteSignature, NoteVerifier};

/// Signature type byte of plain Ed25519 note signatures (C2SP signed-note §Signature types).
pub const ALG_ED25519: u8 = 0x01;

/// Computes a key ID: the first four bytes, big-endian, of
/// `SHA-256(name || "\n" || alg || public_key)` (C2SP signed-note §Signatures).
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([alg]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Whether `name` may name a note key.
///
/// C2SP signed-note §Format: key names are non-empty and contain no Unicode spaces and
/// no `+`. We also refuse ASCII control characters, which a signed note may not contain
/// at all, so every valid name can appear in a signature line. (`&str` is UTF-8 already.)
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c == '+' || c < ' ' || c.is_whitespace())
}

/// Which kind of key string a [`KeyError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStringKind {
    /// `<name>+<id>+<base64>`.
    VerifierKey,
    /// `PRIVATE+KEY+<name>+<id>+<base64>`.
    PrivateKey,
}

impl fmt::Display for KeyStringKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyStringKind::VerifierKey => "verifier key",
            KeyStringKind::PrivateKey => "private key",
        })
    }
}

/// Why a key name, verifier key or private key string was rejected.
///
/// Errors about private key strings never include key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The name is empty or contains a space, `+` or a control character.
    #[error(
        "invalid key name {name:?}: it must be non-empty with no spaces, '+' or control characters"
    )]
    InvalidName { name: String },
    /// The string does not have the `name+id+base64` shape.
    #[error("malformed {kind}: {reason}")]
    Malformed {
        kind: KeyStringKind,
        reason: &'static str,
    },
    /// The encoded key has a signature type byte other than the one expected here.
    #[error("{kind} has signature type 0x{found:02x}, expected 0x{expected:02x}")]
    WrongAlgorithm {
        kind: KeyStringKind,
        found: u8,
        expected: u8,
    },
    /// The key after the type byte has the wrong length.
    #[error("{kind} holds {actual} key bytes, expected {expected}")]
    WrongKeyLength {
        kind: KeyStringKind,
        actual: usize,
        expected: usize,
    },
    /// The declared key ID is not the hash of the name and key.
    #[error("{kind} declares key ID {declared:08x} but its name and key give {computed:08x}")]
    KeyIdMismatch {
        kind: KeyStringKind,
        declared: u32,
        computed: u32,
    },
    /// The 32 bytes are not the encoding of an Ed25519 curve point.
    #[error("{kind} is not a valid Ed25519 public key")]
    InvalidPublicKey { kind: KeyStringKind },
}

/// A key string split into its parts, before any algorithm-specific checks.
pub(crate) struct KeyString {
    pub(crate) name: String,
    pub(crate) declared_id: u32,
    pub(crate) alg: u8,
    pub(crate) key: Vec<u8>,
}

const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// Splits `name+id+base64`. The name cannot contain `+`, so the first two `+` are
/// the separators; the base64 part may contain more.
pub(crate) fn split_key_string(text: &str, kind: KeyStringKind) -> Result<KeyString, KeyError> {
    let malformed = |reason| KeyError::Malformed { kind, reason };
    let (name, rest) = text
        .split_once('+')
        .ok_or(malformed("expected <name>+<key ID>+<key>"))?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or(malformed("expected <name>+<key ID>+<key>"))?;
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName {
            name: name.to_owned(),
        });
    }
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("key ID is not 8 hexadecimal digits"));
    }
    let declared_id =
        u32::from_str_radix(id_hex, 16).map_err(|_| malformed("key ID is not hexadecimal"))?;
    let mut decoded = b64::decode(key_b64).ok_or(malformed("key is not canonical base64"))?;
    if decoded.is_empty() {
        return Err(malformed("key is empty"));
    }
    let alg = decoded[0];
    let key = decoded[1..].to_vec();
    decoded.fill(0);
    Ok(KeyString {
        name: name.to_owned(),
        declared_id,
        alg,
        key,
    })
}

/// Splits `PRIVATE+KEY+name+id+base64`.
pub(crate) fn split_private_key_string(text: &str) -> Result<KeyString, KeyError> {
    let rest = text
        .strip_prefix(PRIVATE_PREFIX)
        .ok_or(KeyError::Malformed {
            kind: KeyStringKind::PrivateKey,
            reason: "does not start with PRIVATE+KEY+",
        })?;
    split_key_string(rest, KeyStringKind::PrivateKey)
}

/// Formats `name+id+base64(alg || key)`.
pub(crate) fn format_key_string(name: &str, id: u32, alg: u8, key: &[u8]) -> String {
    let mut material = Vec::with_capacity(1 + key.len());
    material.push(alg);
    material.extend_from_slice(key);
    let text = format!("{name}+{id:08x}+{}", b64::encode(&material));
    material.fill(0);
    text
}

/// Formats `PRIVATE+KEY+name+id+base64(alg || seed)`.
pub(crate) fn format_private_key_string(name: &str, id: u32, alg: u8, seed: &[u8]) -> String {
    format!("{PRIVATE_PREFIX}{}", format_key_string(name, id, alg, seed))
}

/// Checks the type byte and length, builds the Ed25519 public key and checks the
/// declared key ID, for a verifier key of signature type `alg`.
pub(crate) fn ed25519_verifier_from(
    parts: KeyString,
    alg: u8,
) -> Result<(String, u32, VerifyingKey), KeyError> {
    let kind = KeyStringKind::VerifierKey;
    if parts.alg != alg {
        return Err(KeyError::WrongAlgorithm {
            kind,
            found: parts.alg,
            expected: alg,
        });
    }
    let bytes: [u8; 32] =
        parts
            .key
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongKeyLength {
                kind,
                actual: parts.key.len(),
                expected: 32,
            })?;
    let computed = key_id(&parts.name, alg, &bytes);
    if computed != parts.declared_id {
        return Err(KeyError::KeyIdMismatch {
            kind,
            declared: parts.declared_id,
            computed,
        });
    }
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublicKey { kind })?;
    Ok((parts.name, computed, key))
}

/// Like [`ed25519_verifier_from`] for a private key: the ID is checked against the
/// public key derived from the seed, since that is what the ID commits to.
pub(crate) fn ed25519_signer_from(
    mut parts: KeyString,
    alg: u8,
) -> Result<(String, u32, SigningKey), KeyError> {
    let kind = KeyStringKind::PrivateKey;
    if parts.alg != alg {
        parts.key.fill(0);
        return Err(KeyError::WrongAlgorithm {
            kind,
            found: parts.alg,
            expected: alg,
        });
    }
    let actual = parts.key.len();
    let seed: Result<[u8; 32], _> = parts.key.as_slice().try_into();
    parts.key.fill(0);
    let Ok(mut seed) = seed else {
        return Err(KeyError::WrongKeyLength {
            kind,
            actual,
            expected: 32,
        });
    };
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let computed = key_id(&parts.name, alg, key.verifying_key().as_bytes());
    if computed != parts.declared_id {
        return Err(KeyError::KeyIdMismatch {
            kind,
            declared: parts.declared_id,
            computed,
        });
    }
    Ok((parts.name, computed, key))
}

/// Verifies an Ed25519 signature the strict way (RFC 8032 §5.1.7 plus rejection of
/// small-order keys and non-canonical encodings), so a signature has one valid form.
pub(crate) fn ed25519_verify(key: &VerifyingKey, msg: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    key.verify_strict(msg, &sig).is_ok()
}

/// The signing half of a note key: a name and an Ed25519 key (signature type 0x01).
///
/// The log signs its checkpoints with one of these; its name is the log origin.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl NoteSigner {
    /// Binds `key` to `name`, computing the key ID.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName {
                name: name.to_owned(),
            });
        }
        let key_id = key_id(name, ALG_ED25519, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
    pub fn from_private_key_string(text: &str) -> Result<Self, KeyError> {
        let parts = split_private_key_string(text)?;
        let (name, key_id, key) = ed25519_signer_from(parts, ALG_ED25519)?;
        Ok(NoteSigner { name, key_id, key })
    }

    /// The `PRIVATE+KEY+…` string for this key. It is the secret key: keep it secret.
    pub fn to_private_key_string(&self) -> String {
        format_private_key_string(&self.name, self.key_id, ALG_ED25519, self.key.as_bytes())
    }

    /// The key name that appears in signature lines.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID that prefixes every signature.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> NoteVerifierKey {
        NoteVerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (the whole note text, final newline included) and returns the
    /// signature line's content. [`super::sign_note`] checks the text's shape first;
    /// this does not.
    pub fn sign(&self, text: &[u8]) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text).to_bytes().to_vec(),
        }
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// A trusted Ed25519 note key (signature type 0x01): name, key ID and public key.
///
/// Parsed from and displayed as a vkey string, e.g.
/// `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifierKey {
    /// Binds `key` to `name`, computing the key ID.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName {
                name: name.to_owned(),
            });
        }
        Ok(NoteVerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, ALG_ED25519, key.as_bytes()),
            key,
        })
    }

    /// Parses a vkey string `<name>+<id>+<base64(0x01 || public key)>`. Hex digits of
    /// the ID may be upper or lower case (as Go accepts); the ID must match the key.
    pub fn parse(vkey: &str) -> Result<Self, KeyError> {
        let parts = split_key_string(vkey, KeyStringKind::VerifierKey)?;
        let (name, key_id, key) = ed25519_verifier_from(parts, ALG_ED25519)?;
        Ok(NoteVerifierKey { name, key_id, key })
    }

    /// The key name.
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
}

impl fmt::Display for NoteVerifierKey {
    /// The vkey string, key ID in lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_key_string(
            &self.name,
            self.key_id,
            ALG_ED25519,
            self.key.as_bytes(),
        ))
    }
}

impl FromStr for NoteVerifierKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        NoteVerifierKey::parse(s)
    }
}

impl NoteVerifier for NoteVerifierKey {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        ed25519_verify(&self.key, msg, sig)
    }
}
