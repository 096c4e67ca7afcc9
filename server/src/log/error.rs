//! The log's own error: why a submission was refused or could not be logged.
//! It says nothing about HTTP; `http::error` maps each variant to a status and
//! a stable code (docs/api.md).

use std::sync::Arc;
use std::time::Duration;

use glassbox_core::merkle::ProofError;
use glassbox_core::registry::RegistryError;
use glassbox_core::statement::StatementError;

use crate::storage::StorageError;

/// Why the log refused a submission or failed to answer it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The payload is not a Glassbox statement (docs/design.md §3).
    #[error("statement: {0}")]
    Statement(#[source] StatementError),
    /// The payload could not be read for the string-size check.
    #[error("statement: {0}")]
    StatementJson(#[source] serde_json::Error),
    /// A statement kind the core knows but this log does not accept.
    #[error("statement kind {kind} is not accepted by this log")]
    KindNotAccepted { kind: String },
    /// A string (value or key) of the statement is longer than the log stores.
    #[error(
        "statement: a string of {bytes} bytes exceeds this log's limit of {limit} bytes per field"
    )]
    StringTooLong { bytes: usize, limit: usize },
    /// The first key event registers a key that is not one of the configured
    /// operator pins.
    #[error(
        "key {key_id} is not one of the operator keys this log is configured with; \
         the first key event must register one of them"
    )]
    NotAnOperatorKey { key_id: String },
    /// The key event would leave the registry with no active operator, so no
    /// key could ever be registered or revoked again.
    #[error(
        "revoking key {key_id} would leave this log with no active operator key, and \
         then no key could ever be registered or revoked again; register another \
         operator key first, then revoke this one"
    )]
    LastOperator { key_id: String },
    /// The participant registry refused the envelope at its position.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The statement is already logged at `index`, and this copy adds signers
    /// the logged one lacks (`log::admission::dedupe`).
    #[error(
        "this statement is already logged at index {index}, without the signature of {}; \
         a statement counts only at its first position, so a later copy with more \
         signers would not count: put every co-signature on the envelope before its \
         first submission, or sign a new statement",
        added.join(", ")
    )]
    StatementAlreadyLogged { index: u64, added: Vec<String> },
    /// The sequencer's queue is full.
    #[error("the submission queue is full")]
    Overloaded,
    /// The sequencer has stopped taking submissions.
    #[error("the sequencer is shutting down")]
    ShuttingDown,
    /// The batch holding the submission did not commit; nothing was logged.
    #[error("the batch holding this submission did not commit")]
    CommitFailed,
    /// The sequencing node did not answer a forwarded submission in time; it
    /// may still have logged it.
    #[error("no answer from the sequencing node within {0:?}")]
    Timeout(Duration),
    /// The sequencing node refused a forwarded submission with this code.
    #[error("the sequencing node refused the submission ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// Storage failed while the submission was being sequenced or answered.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The batch's duplicate lookup failed; every submission of the batch is
    /// answered with the one error.
    #[error("storage: {0}")]
    DuplicateLookup(#[source] Arc<StorageError>),
    /// A duplicate was to be answered but the log has no checkpoint.
    #[error("duplicate of an entry with no checkpoint")]
    NoCheckpoint,
    /// An entry the sequencer found logged is no longer stored.
    #[error("entry {index} vanished")]
    EntryVanished { index: u64 },
    /// The new leaf's Merkle nodes could not be computed.
    #[error("append {size}: {source}")]
    Append {
        size: u64,
        #[source]
        source: ProofError,
    },
    /// The inclusion proof of a receipt could not be built.
    #[error("inclusion proof of {index} in {size}: {source}")]
    InclusionProof {
        index: u64,
        size: u64,
        #[source]
        source: ProofError,
    },
    /// A stored leaf is not JSON, so it cannot be embedded in a receipt.
    #[error("stored leaf {index} is not JSON: {source}")]
    LeafNotJson {
        index: u64,
        #[source]
        source: serde_json::Error,
    },
    /// The sequencing node's answer to a forwarded submission could not be read.
    #[error("reading the sequencer's answer: {0}")]
    LeaderAnswer(#[source] ureq::Error),
    /// The sequencing node's receipt is not a receipt.
    #[error("sequencer's receipt: {0}")]
    LeaderReceipt(#[source] serde_json::Error),
}
