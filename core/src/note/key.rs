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
    InvalidName {
        /// The name as written.
        name: String,
    },
    /// The string does not have the `name+id+base64` shape.
    #[error("malformed {kind}: {reason}")]
    Malformed {
        /// Which kind of key string was parsed.
        kind: KeyStringKind,
        /// What is missing or out of place.
        reason: &'static str,
    },
    /// The encoded key has a signature type byte other than the one expected here.
    #[error("{kind} has signature type 0x{found:02x}, expected 0x{expected:02x}")]
    WrongAlgorithm {
        /// Which kind of key string was parsed.
        kind: KeyStringKind,
        /// The signature type byte found.
        found: u8,
        /// The signature type byte this kind of key needs.
        expected: u8,
    },
    /// The key after the type byte has the wrong length.
    #[error("{kind} holds {actual} key bytes, expected {expected}")]
    WrongKeyLength {
        /// Which kind of key string was parsed.
        kind: KeyStringKind,
        /// Key bytes found after the type byte.
        actual: usize,
        /// Key bytes this algorithm needs.
        expected: usize,
    },
    /// The declared key ID is not the hash of the name and key.
    #[error("{kind} declares key ID {declared:08x} but its name and key give {computed:08x}")]
    KeyIdMismatch {
        /// Which kind of key string was parsed.
        kind: KeyStringKind,
        /// The key ID written in the string.
        declared: u32,
        /// The key ID of the name and key.
        computed: u32,
    },
    /// The 32 bytes are not the encoding of an Ed25519 curve point.
    #[error("{kind} is not a valid Ed25519 public key")]
    InvalidPublicKey {
        /// Which kind of key string was parsed.
        kind: KeyStringKind,
    },
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

    /// The Ed25519 key itself: a log signs its other statements — its index
    /// commitments — with the key it signs checkpoints with.
    pub fn ed25519(&self) -> &SigningKey {
        &self.key
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<const N: usize>(h: &str) -> [u8; N] {
        hex::decode(h).unwrap().try_into().unwrap()
    }

    /// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
    const RFC8032: [(&str, &str, &str, &str); 2] = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ];

    /// The group order L, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    // The field arithmetic behind these checks is chosen per CPU at run time
    // (docs/decisions.md); these run on whichever backend this machine selects.
    #[test]
    fn rfc8032_vectors_verify_and_a_changed_bit_does_not() {
        for (secret, public, msg, sig) in RFC8032 {
            let signer = SigningKey::from_bytes(&bytes(secret));
            let key = VerifyingKey::from_bytes(&bytes(public)).unwrap();
            assert_eq!(signer.verifying_key(), key);
            let msg = hex::decode(msg).unwrap();
            let sig: [u8; 64] = bytes(sig);
            assert_eq!(signer.sign(&msg).to_bytes(), sig);
            assert!(ed25519_verify(&key, &msg, &sig));
            for bit in [0, 7, 255, 256, 511] {
                let mut bad = sig;
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(!ed25519_verify(&key, &msg, &bad), "bit {bit} flipped");
            }
            let mut other = msg.clone();
            other.push(0);
            assert!(!ed25519_verify(&key, &other, &sig));
        }
    }

    #[test]
    fn a_non_canonical_s_is_refused() {
        let (_, public, msg, sig) = RFC8032[1];
        let key = VerifyingKey::from_bytes(&bytes(public)).unwrap();
        let msg = hex::decode(msg).unwrap();
        let mut sig: [u8; 64] = bytes(sig);
        // S + L is the same scalar mod L: a lax check would accept it.
        let mut carry = 0u16;
        for (s, l) in sig[32..].iter_mut().zip(L) {
            let sum = u16::from(*s) + u16::from(l) + carry;
            *s = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        assert!(!ed25519_verify(&key, &msg, &sig));
    }

    #[test]
    fn a_small_order_key_is_refused() {
        // A = R = the identity point and S = 0 satisfy the cofactorless equation
        // [S]B = R + [k]A for every message; strict verification refuses them.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let key = VerifyingKey::from_bytes(&identity).unwrap();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&identity);
        for msg in [&b""[..], b"any message"] {
            // The lax check accepts it, so this test tells strict from lax.
            use ed25519_dalek::Verifier;
            assert!(key.verify(msg, &Signature::from_bytes(&sig)).is_ok());
            assert!(!ed25519_verify(&key, msg, &sig));
        }
    }
}
