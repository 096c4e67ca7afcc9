//! SHA-256 digests as they appear on the wire and on the command line, and
//! participant key IDs (docs/design.md §2).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A SHA-256 digest, written `sha256:<64 lowercase hex>`.
///
/// Parsing is lenient in what humans type — the `sha256:` prefix is optional and
/// hex may be in any letter case — and strict in everything else: exactly 64 hex
/// digits, no other algorithm names, no whitespace.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

/// Why a string is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The algorithm prefix is not `sha256`.
    #[error("unsupported digest algorithm {algorithm:?}: only sha256 is accepted")]
    UnsupportedAlgorithm {
        /// The algorithm named before the colon.
        algorithm: String,
    },
    /// The hex part is not 64 characters long.
    #[error("a sha256 digest has 64 hex digits, found {found} characters")]
    WrongLength {
        /// Characters in the hex part.
        found: usize,
    },
    /// The hex part holds a character that is not a hex digit.
    #[error("a sha256 digest is hexadecimal; found {found:?}")]
    NotHex {
        /// The first character that is not a hex digit.
        found: char,
    },
}

impl Sha256Digest {
    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(data).into())
    }

    /// Lowercase hex without the algorithm prefix.
    pub fn hex(&self) -> String {
        String::from_utf8_lossy(&self.hex_bytes()).into_owned()
    }

    /// The lowercase hex digits, without an allocation.
    fn hex_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        // 64 bytes hold 32 bytes' digits exactly: encoding cannot fail.
        let _ = hex::encode_to_slice(self.0, &mut out);
        out
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_part = match s.split_once(':') {
            Some((algorithm, rest)) if algorithm.eq_ignore_ascii_case("sha256") => rest,
            Some((algorithm, _)) => {
                return Err(DigestError::UnsupportedAlgorithm {
                    algorithm: algorithm.to_string(),
                })
            }
            None => s,
        };
        // 64 digits of either case decode in one pass (a release bundle names tens
        // of thousands of digests); anything else is then explained.
        let mut out = [0u8; 32];
        if hex::decode_to_slice(hex_part, &mut out).is_ok() {
            return Ok(Sha256Digest(out));
        }
        if let Some(found) = hex_part.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(DigestError::NotHex { found });
        }
        Err(DigestError::WrongLength {
            found: hex_part.chars().count(),
        })
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        f.write_str(&String::from_utf8_lossy(&self.hex_bytes()))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The key ID of a participant key: lowercase hex SHA-256 of the 32-byte Ed25519
/// public key (docs/design.md §2). Used as the DSSE `keyid` and in the key registry.
pub fn key_id_hex(key: &ed25519_dalek::VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input_matches_sha256sum() {
        assert_eq!(Sha256Digest::of(b"").to_string(), format!("sha256:{EMPTY}"));
    }

    #[test]
    fn prefix_is_optional_and_case_is_ignored() {
        let want = Sha256Digest::of(b"");
        for s in [
            EMPTY.to_string(),
            format!("sha256:{EMPTY}"),
            format!("SHA256:{}", EMPTY.to_uppercase()),
        ] {
            assert_eq!(s.parse::<Sha256Digest>().unwrap(), want, "{s}");
        }
    }

    #[test]
    fn every_digit_decodes_as_the_hex_crate_decodes_it() {
        let digits = "0123456789abcdefABCDEF";
        for (i, d) in digits.chars().enumerate() {
            let text: String = digits.chars().cycle().skip(i).take(63).chain([d]).collect();
            let mut want = [0u8; 32];
            hex::decode_to_slice(&text, &mut want).unwrap();
            assert_eq!(text.parse::<Sha256Digest>().unwrap().0, want, "{text}");
        }
    }

    #[test]
    fn other_algorithm_is_refused() {
        let err = format!("sha512:{EMPTY}")
            .parse::<Sha256Digest>()
            .unwrap_err();
        assert!(matches!(err, DigestError::UnsupportedAlgorithm { .. }));
    }

    #[test]
    fn truncated_digest_is_refused() {
        let err = EMPTY[..63].parse::<Sha256Digest>().unwrap_err();
        assert_eq!(err, DigestError::WrongLength { found: 63 });
    }

    #[test]
    fn non_hex_character_is_refused() {
        let bad = format!("{}g", &EMPTY[..63]);
        assert_eq!(
            bad.parse::<Sha256Digest>().unwrap_err(),
            DigestError::NotHex { found: 'g' }
        );
    }

    #[test]
    fn key_id_is_sha256_of_public_key_bytes() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        assert_eq!(key_id_hex(&key), Sha256Digest::of(key.as_bytes()).hex());
    }
}
