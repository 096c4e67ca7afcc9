//! PEM encodings of Ed25519 keys: PKCS#8 private keys (RFC 5208 / RFC 8410) and
//! SubjectPublicKeyInfo public keys (RFC 5280 / RFC 8410), the formats OpenSSL's
//! `genpkey -algorithm ed25519` and `pkey -pubout` write.
//!
//! Decoding reads the PEM label and the algorithm OID before anything else so that a
//! user who hands over an RSA or EC key is told exactly that, not "malformed key".

use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::{self, LineEnding};
use ed25519_dalek::pkcs8::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use ed25519_dalek::pkcs8::{
    EncodePrivateKey, EncodePublicKey, KeypairBytes, PrivateKeyInfoRef, PublicKeyBytes,
    ALGORITHM_OID,
};
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::{KeyError, KeyFormatError};

/// A key read from PEM: files may hold either half.
pub(crate) enum DecodedKey {
    Private(SigningKey),
    Public(VerifyingKey),
}

/// The PEM of a public key as written to `<key>.pub`: SubjectPublicKeyInfo,
/// `-----BEGIN PUBLIC KEY-----`, LF line endings.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    PublicKeyBytes(key.to_bytes())
        .to_public_key_pem(LineEnding::LF)
        // Encoding a fixed 32-byte key into a fixed ASN.1 structure cannot fail.
        .expect("DER encoding of an Ed25519 SubjectPublicKeyInfo")
}

/// The PKCS#8 v1 PEM of a private key (`-----BEGIN PRIVATE KEY-----`, no embedded
/// public key), byte-for-byte what `openssl genpkey -algorithm ed25519` writes, so
/// files are interchangeable with OpenSSL. The returned buffer is wiped on drop.
pub(crate) fn private_key_pem(
    key: &SigningKey,
) -> ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing<String> {
    let v1 = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    v1.to_pkcs8_pem(LineEnding::LF)
        // Encoding a fixed 32-byte seed into a fixed ASN.1 structure cannot fail.
        .expect("DER encoding of an Ed25519 PKCS#8 private key")
}

/// Decodes a PEM file holding an Ed25519 private (PKCS#8 v1 or v2) or public
/// (SubjectPublicKeyInfo) key.
pub(crate) fn decode_pem(data: &[u8]) -> Result<DecodedKey, KeyFormatError> {
    // RFC 7468 §5.2 allows explanatory text before the encapsulation boundary
    // (OpenSSL writes some with `-text`); start at the first BEGIN line.
    let begin = find(data, b"-----BEGIN ").ok_or_else(|| KeyFormatError::NotPem {
        reason: "no \"-----BEGIN\" line".to_string(),
    })?;
    if find(&data[begin..], b"-----END ").is_none() {
        return Err(KeyFormatError::NotPem {
            reason: "no \"-----END\" line; is the file truncated?".to_string(),
        });
    }
    let (label, der) =
        pem::decode_vec(trim_end(&data[begin..])).map_err(|e| KeyFormatError::NotPem {
            reason: e.to_string(),
        })?;
    match label {
        "PRIVATE KEY" => decode_pkcs8(&der).map(DecodedKey::Private),
        "PUBLIC KEY" => decode_spki(&der).map(DecodedKey::Public),
        "ENCRYPTED PRIVATE KEY" => Err(KeyFormatError::Encrypted),
        "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => wrong_type("RSA"),
        "EC PRIVATE KEY" => wrong_type("EC"),
        "DSA PRIVATE KEY" => wrong_type("DSA"),
        "OPENSSH PRIVATE KEY" => Err(KeyFormatError::WrongKind {
            found: "an OpenSSH-format private key".to_string(),
            expected: "a PKCS#8 PEM key (`-----BEGIN PRIVATE KEY-----`)",
        }),
        other => Err(KeyFormatError::WrongKind {
            found: format!("a PEM block labelled {other:?}"),
            expected:
                "an Ed25519 key (`-----BEGIN PRIVATE KEY-----` or `-----BEGIN PUBLIC KEY-----`)",
        }),
    }
}

/// Parses a public key given as text: PEM SubjectPublicKeyInfo, or the standard
/// base64 (with padding) of the 32 raw key bytes, as found in registries and configs.
pub fn parse_verifying_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let malformed = |problem| KeyError::MalformedText { problem };
    let trimmed = text.trim();
    if trimmed.contains("-----BEGIN ") {
        return match decode_pem(trimmed.as_bytes()).map_err(malformed)? {
            DecodedKey::Public(key) => Ok(key),
            DecodedKey::Private(_) => Err(malformed(KeyFormatError::WrongKind {
                found: "a private key".to_string(),
                expected: "a public key",
            })),
        };
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .map_err(|_| malformed(KeyFormatError::NotAPublicKey))?;
    let bytes: [u8; 32] = raw
        .try_into()
        .map_err(|_| malformed(KeyFormatError::NotAPublicKey))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| {
        malformed(KeyFormatError::InvalidKey {
            reason: e.to_string(),
        })
    })
}

fn decode_pkcs8(der: &[u8]) -> Result<SigningKey, KeyFormatError> {
    let info = PrivateKeyInfoRef::try_from(der).map_err(|e| KeyFormatError::InvalidKey {
        reason: format!("PKCS#8 structure: {e}"),
    })?;
    if info.algorithm.oid != ALGORITHM_OID {
        return wrong_type(algorithm_name(&info.algorithm.oid));
    }
    let keypair = KeypairBytes::try_from(info).map_err(|e| KeyFormatError::InvalidKey {
        reason: e.to_string(),
    })?;
    // Checks that an embedded public key (PKCS#8 v2) matches the seed.
    SigningKey::try_from(&keypair).map_err(|_| KeyFormatError::InvalidKey {
        reason: "the embedded public key does not belong to the private key".to_string(),
    })
}

fn decode_spki(der: &[u8]) -> Result<VerifyingKey, KeyFormatError> {
    let info = SubjectPublicKeyInfoRef::try_from(der).map_err(|e| KeyFormatError::InvalidKey {
        reason: format!("SubjectPublicKeyInfo structure: {e}"),
    })?;
    if info.algorithm.oid != ALGORITHM_OID {
        return wrong_type(algorithm_name(&info.algorithm.oid));
    }
    let bytes = PublicKeyBytes::try_from(info).map_err(|e| KeyFormatError::InvalidKey {
        reason: e.to_string(),
    })?;
    VerifyingKey::from_bytes(&bytes.0).map_err(|e| KeyFormatError::InvalidKey {
        reason: e.to_string(),
    })
}

fn wrong_type<T>(found: impl Into<String>) -> Result<T, KeyFormatError> {
    Err(KeyFormatError::WrongKeyType {
        found: found.into(),
    })
}

/// Human names of the key algorithms people are likely to pass by mistake
/// (RFC 8017, RFC 5480, RFC 8410, RFC 3279).
fn algorithm_name(oid: &ObjectIdentifier) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        "1.2.840.10045.2.1" => "EC",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.113" => "Ed448",
        other => return format!("an unknown one (algorithm OID {other})"),
    };
    name.to_string()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_end(data: &[u8]) -> &[u8] {
    let end = data
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &data[..end]
}
