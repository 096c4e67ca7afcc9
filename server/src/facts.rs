//! What the log extracts from an envelope before sequencing it: the parsed
//! statement and its search terms. Everything here is stateless; signatures and
//! the participant registry are checked by [`crate::validate`] at the entry's log
//! position.

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, SourceDigest};

use crate::error::AppError;
use crate::storage::SearchTerms;

/// The kind names used in storage, search and listings (`Attestation::kind`).
pub const KINDS: [&str; 4] = ["source-submission", "source-review", "build", "key-event"];

/// The longest string the log accepts anywhere in a statement (names, URLs,
/// findings, paths). The body limit bounds the whole envelope; this bounds each
/// field, so a listing or a web page never has to show a megabyte-long name.
pub const MAX_STATEMENT_STRING_BYTES: usize = 16 * 1024;

/// The stateless facts of one envelope.
#[derive(Clone, Debug)]
pub struct Facts {
    pub kind: &'static str,
    pub terms: SearchTerms,
    /// The validated statement, as the registry needs it (allowed roles, the signer's
    /// claimed time, the key event itself).
    pub attestation: Attestation,
}

fn add_source(terms: &mut SearchTerms, repository: &str, source: &SourceDigest) {
    terms.repositories.push(repository.to_string());
    terms.dir_hashes.push(source.dir_hash.to_ascii_lowercase());
    if let Some(c) = &source.git_commit {
        terms.commits.push(c.to_ascii_lowercase());
    }
}

/// Parse the envelope's statement and extract its facts (400 `invalid_statement`
/// when it is not one of the four kinds of DESIGN §3).
pub fn facts(envelope: &Envelope) -> Result<Facts, AppError> {
    let (_, attestation) = Attestation::from_envelope(envelope)
        .map_err(|e| AppError::InvalidStatement(format!("statement: {e}")))?;
    check_string_sizes(&envelope.payload)?;
    let mut terms = SearchTerms::default();
    match &attestation {
        Attestation::SourceSubmission(s) => add_source(&mut terms, s.repository(), &s.source),
        Attestation::SourceReview(r) => add_source(&mut terms, r.repository(), &r.source),
        Attestation::Build(b) => {
            for subject in &b.subjects {
                terms.artifacts.push(subject.sha256.hex());
            }
            for dep in &b.predicate.build_definition.resolved_dependencies {
                add_source(&mut terms, &dep.uri, &dep.digest);
            }
        }
        Attestation::KeyEvent(_) => {}
        other => {
            return Err(AppError::InvalidStatement(format!(
                "statement kind {} is not accepted by this log",
                other.kind()
            )))
        }
    }
    for list in [
        &mut terms.artifacts,
        &mut terms.commits,
        &mut terms.dir_hashes,
        &mut terms.repositories,
    ] {
        list.sort();
        list.dedup();
    }
    Ok(Facts {
        kind: attestation.kind(),
        terms,
        attestation,
    })
}

/// Refuse a statement holding a string (value or key) over
/// [`MAX_STATEMENT_STRING_BYTES`]. Runs after the statement parsed, so the
/// payload is JSON within serde_json's nesting limit.
fn check_string_sizes(payload: &[u8]) -> Result<(), AppError> {
    fn longest(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::String(s) => s.len(),
            serde_json::Value::Array(a) => a.iter().map(longest).max().unwrap_or(0),
            serde_json::Value::Object(o) => o
                .iter()
                .map(|(k, v)| k.len().max(longest(v)))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| AppError::InvalidStatement(format!("statement: {e}")))?;
    let n = longest(&value);
    if n > MAX_STATEMENT_STRING_BYTES {
        return Err(AppError::InvalidStatement(format!(
            "statement: a string of {n} bytes exceeds this log's limit of \
             {MAX_STATEMENT_STRING_BYTES} bytes per field"
        )));
    }
    Ok(())
}
