//! Which index keys a log entry is filed under.
//!
//! An index key is a short string naming what entries are about:
//!
//! | key | entries filed under it |
//! |---|---|
//! | `artifact:<sha256 hex>` | builds naming the artifact as a subject |
//! | `source:<dirHash hex>` | submissions and reviews of the source tree, builds from it |
//! | `signer:<key ID>` | every entry the key signed, and the key events about the key |
//! | `registry` | every key event (registrations and revocations) |
//!
//! The trie is keyed by [`IndexKey::hash`], the SHA-256 of the key string, so keys
//! are spread evenly whatever their text.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::dsse::{is_key_id, Envelope};
use crate::statement::Attestation;

/// One key of the index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexKey {
    /// Builds that name the artifact (SHA-256 of its bytes, 64 lowercase hex).
    Artifact(String),
    /// Entries about the source tree with this dirHash (64 lowercase hex).
    Source(String),
    /// Entries signed by the key, and key events about it (key ID, 64 lowercase hex).
    Signer(String),
    /// Every key event.
    Registry,
}

/// Why a string is not an index key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an index key: {0:?} (expected artifact:<64 hex>, source:<64 hex>, signer:<64 hex> or registry)")]
pub struct BadIndexKey(pub String);

impl IndexKey {
    /// The trie key: SHA-256 of the key string.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_string().as_bytes()).into()
    }
}

impl fmt::Display for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexKey::Artifact(h) => write!(f, "artifact:{h}"),
            IndexKey::Source(h) => write!(f, "source:{h}"),
            IndexKey::Signer(k) => write!(f, "signer:{k}"),
            IndexKey::Registry => f.write_str("registry"),
        }
    }
}

impl FromStr for IndexKey {
    type Err = BadIndexKey;

    /// Parses the canonical form only (lowercase hex), so one key has one spelling.
    fn from_str(s: &str) -> Result<IndexKey, BadIndexKey> {
        let bad = || BadIndexKey(s.to_string());
        if s == "registry" {
            return Ok(IndexKey::Registry);
        }
        let (kind, hex) = s.split_once(':').ok_or_else(bad)?;
        if !is_key_id(hex) {
            return Err(bad());
        }
        let hex = hex.to_string();
        match kind {
            "artifact" => Ok(IndexKey::Artifact(hex)),
            "source" => Ok(IndexKey::Source(hex)),
            "signer" => Ok(IndexKey::Signer(hex)),
            _ => Err(bad()),
        }
    }
}

/// The keys `envelope` (whose statement is `attestation`) is filed under: sorted,
/// each once.
///
/// * every signature's key ID → `signer:`;
/// * a submission or review → `source:` of its tree;
/// * a build → `artifact:` of each subject, `source:` of each resolved dependency;
/// * a key event → `registry`, and `signer:` of the key it registers or revokes.
///
/// Hex is lower-cased, so an entry is found however its author spelled a digest.
pub fn keys_of(envelope: &Envelope, attestation: &Attestation) -> Vec<IndexKey> {
    let mut keys: Vec<IndexKey> = envelope
        .signatures
        .iter()
        .map(|s| IndexKey::Signer(s.keyid.to_ascii_lowercase()))
        .collect();
    match attestation {
        Attestation::SourceSubmission(s) => {
            keys.push(IndexKey::Source(s.source.dir_hash.to_ascii_lowercase()))
        }
        Attestation::SourceReview(r) => {
            keys.push(IndexKey::Source(r.source.dir_hash.to_ascii_lowercase()))
        }
        Attestation::Build(b) => {
            keys.extend(
                b.subjects
                    .iter()
                    .map(|s| IndexKey::Artifact(s.sha256.hex())),
            );
            keys.extend(
                b.predicate
                    .build_definition
                    .resolved_dependencies
                    .iter()
                    .map(|d| IndexKey::Source(d.digest.dir_hash.to_ascii_lowercase())),
            );
        }
        Attestation::KeyEvent(e) => {
            keys.push(IndexKey::Registry);
            keys.push(IndexKey::Signer(e.key_id.to_ascii_lowercase()));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_string_form() {
        let h = "ab".repeat(32);
        for key in [
            IndexKey::Artifact(h.clone()),
            IndexKey::Source(h.clone()),
            IndexKey::Signer(h.clone()),
            IndexKey::Registry,
        ] {
            assert_eq!(key.to_string().parse::<IndexKey>().unwrap(), key);
        }
    }

    #[test]
    fn only_the_canonical_spelling_parses() {
        let h = "ab".repeat(32);
        for bad in [
            format!("artifact:{}", h.to_uppercase()),
            format!("artifact:{}", &h[2..]),
            format!("binary:{h}"),
            format!("artifact:{h}:x"),
            "Registry".to_string(),
            String::new(),
        ] {
            assert!(bad.parse::<IndexKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_trie_key_is_the_sha256_of_the_key_string() {
        // echo -n registry | sha256sum
        assert_eq!(
            hex::encode(IndexKey::Registry.hash()),
            "872491a30d60d598962de6e7b834ab76b2aa65fbab102c6ebaaae6acdc238822"
        );
    }
}
