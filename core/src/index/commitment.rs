//! The log's index commitment: a log entry, signed with the log's own key, giving
//! the index root over every entry before it.
//!
//! The log appends one as the last leaf of every batch it sequences, so every
//! checkpoint it publishes ends with a commitment to the index of everything before
//! it. A log that shows two clients different indexes must therefore show them
//! different trees, which the witnesses and each client's remembered checkpoint
//! already catch: a split view of the index is a split view of the log.
//!
//! The entry is a DSSE envelope (`application/vnd.in-toto+json`) with one signature,
//! by the key the log signs checkpoints with (key ID: SHA-256 of the Ed25519 public
//! key, hex), over the statement
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "<log origin>", "digest": {"sha256": "<index root hex>"}}],
//!  "predicateType": "https://glassbox.dev/index-commitment/v1",
//!  "predicate": {"size": 1041, "keys": 377}}
//! ```
//!
//! `size` is the number of log entries the index covers — entries 0 … size−1 — and
//! equals the commitment's own log index. `keys` is how many keys have entries.
//! Commitments are filed under no index key.

use std::collections::BTreeMap;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::digest::key_id_hex;
use crate::dsse::{DsseError, Envelope};
use crate::statement::{Statement, StatementError, Subject, PAYLOAD_TYPE, STATEMENT_TYPE};

/// predicateType of the log's index commitment.
pub const INDEX_COMMITMENT_V1: &str = "https://glassbox.dev/index-commitment/v1";

/// What a commitment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexCommitment {
    /// The log's origin (checkpoint origin line).
    pub origin: String,
    /// Entries covered: log indices 0 … size−1.
    pub size: u64,
    /// The index trie root over those entries.
    pub root: [u8; 32],
    /// Keys with entries.
    pub keys: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Predicate {
    size: u64,
    keys: u64,
}

/// Why an entry is not a valid index commitment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// The entry is not an index-commitment statement.
    #[error("not an index commitment: {0}")]
    NotACommitment(String),
    /// It is not signed by the log's key alone.
    #[error("index commitment is not signed by the log's key: {0}")]
    Signature(String),
}

impl From<StatementError> for CommitmentError {
    fn from(e: StatementError) -> Self {
        CommitmentError::NotACommitment(e.to_string())
    }
}

impl From<DsseError> for CommitmentError {
    fn from(e: DsseError) -> Self {
        CommitmentError::Signature(e.to_string())
    }
}

impl IndexCommitment {
    /// True when `envelope` carries an index-commitment statement (signature not
    /// checked): how a reader of the log tells commitments from attestations.
    pub fn is_commitment(envelope: &Envelope) -> bool {
        envelope.payload_type == PAYLOAD_TYPE
            && Statement::from_json(&envelope.payload)
                .is_ok_and(|s| s.predicate_type == INDEX_COMMITMENT_V1)
    }

    /// The statement this commitment is logged as.
    pub fn to_statement(&self) -> Statement {
        let predicate = Predicate {
            size: self.size,
            keys: self.keys,
        };
        Statement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: vec![Subject {
                name: self.origin.clone(),
                digest: BTreeMap::from([("sha256".to_owned(), hex::encode(self.root))]),
            }],
            predicate_type: INDEX_COMMITMENT_V1.to_owned(),
            // Two integers serialise infallibly.
            predicate: serde_json::to_value(predicate).unwrap_or_default(),
        }
    }

    /// The commitment as a log entry signed with the log's key.
    pub fn sign(&self, log_key: &SigningKey) -> Result<Envelope, DsseError> {
        Envelope::sign(PAYLOAD_TYPE, &self.to_statement().to_json(), &[log_key])
    }

    /// Parses a commitment, without checking its signature.
    pub fn parse(envelope: &Envelope) -> Result<IndexCommitment, CommitmentError> {
        let not = |why: &str| CommitmentError::NotACommitment(why.to_owned());
        if envelope.payload_type != PAYLOAD_TYPE {
            return Err(not("payloadType is not an in-toto statement"));
        }
        let statement = Statement::from_json(&envelope.payload)?;
        if statement.statement_type != STATEMENT_TYPE {
            return Err(not("_type is not an in-toto Statement v1"));
        }
        if statement.predicate_type != INDEX_COMMITMENT_V1 {
            return Err(CommitmentError::NotACommitment(format!(
                "predicateType is {:?}",
                statement.predicate_type
            )));
        }
        let [subject] = statement.subject.as_slice() else {
            return Err(not("subject must name exactly the log"));
        };
        let root = match (subject.digest.len(), subject.digest.get("sha256")) {
            (1, Some(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let mut root = [0u8; 32];
                hex::decode_to_slice(h, &mut root).map_err(|_| not("subject digest"))?;
                if hex::encode(root) != *h {
                    return Err(not("subject digest must be lowercase hex"));
                }
                root
            }
            _ => return Err(not("subject digest must be exactly one sha256")),
        };
        let predicate: Predicate = serde_json::from_value(statement.predicate.clone())
            .map_err(|e| CommitmentError::NotACommitment(format!("predicate: {e}")))?;
        Ok(IndexCommitment {
            origin: subject.name.clone(),
            size: predicate.size,
            root,
            keys: predicate.keys,
        })
    }

    /// Parses a commitment and checks it carries exactly one signature, by `log_key`.
    pub fn open(
        envelope: &Envelope,
        log_key: &VerifyingKey,
    ) -> Result<IndexCommitment, CommitmentError> {
        let commitment = IndexCommitment::parse(envelope)?;
        let [signature] = envelope.signatures.as_slice() else {
            return Err(CommitmentError::Signature(format!(
                "{} signatures, expected the log's one",
                envelope.signatures.len()
            )));
        };
        if signature.keyid != key_id_hex(log_key) {
            return Err(CommitmentError::Signature(format!(
                "signed by key {}",
                signature.keyid
            )));
        }
        envelope.verify_signature(0, log_key)?;
        Ok(commitment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commitment() -> IndexCommitment {
        IndexCommitment {
            origin: "log.example/test".into(),
            size: 41,
            root: [7; 32],
            keys: 12,
        }
    }

    #[test]
    fn a_commitment_round_trips_and_opens_with_the_log_key_only() {
        let log = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let env = commitment().sign(&log).unwrap();
        assert!(IndexCommitment::is_commitment(&env));
        assert_eq!(
            IndexCommitment::open(&env, &log.verifying_key()).unwrap(),
            commitment()
        );
        assert!(matches!(
            IndexCommitment::open(&env, &other.verifying_key()),
            Err(CommitmentError::Signature(_))
        ));
        // Countersigned by anyone else: refused, the log signs alone.
        let both = Envelope::sign(PAYLOAD_TYPE, &env.payload, &[&log, &other]).unwrap();
        assert!(IndexCommitment::open(&both, &log.verifying_key()).is_err());
        // Signed by another key that claims the log's key ID.
        let mut forged = commitment().sign(&other).unwrap();
        forged.signatures[0].keyid = key_id_hex(&log.verifying_key());
        assert!(IndexCommitment::open(&forged, &log.verifying_key()).is_err());
    }

    #[test]
    fn statements_that_are_not_commitments_are_refused() {
        let log = SigningKey::from_bytes(&[1; 32]);
        let mut statement = commitment().to_statement();
        statement.predicate = serde_json::json!({"size": 1, "keys": 1, "extra": true});
        let env = Envelope::sign(PAYLOAD_TYPE, &statement.to_json(), &[&log]).unwrap();
        assert!(IndexCommitment::parse(&env).is_err());
        let mut statement = commitment().to_statement();
        statement.subject[0]
            .digest
            .insert("sha256".into(), "AB".repeat(32));
        let env = Envelope::sign(PAYLOAD_TYPE, &statement.to_json(), &[&log]).unwrap();
        assert!(IndexCommitment::parse(&env).is_err());
        let mut statement = commitment().to_statement();
        statement.predicate_type = "https://glassbox.dev/source-review/v1".into();
        let env = Envelope::sign(PAYLOAD_TYPE, &statement.to_json(), &[&log]).unwrap();
        assert!(!IndexCommitment::is_commitment(&env));
        assert!(IndexCommitment::parse(&env).is_err());
    }
}
