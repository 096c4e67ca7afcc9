//! What the log extracts from an envelope before sequencing it: the statement
//! kind, the roles allowed to sign it, the search terms and, for key events, the
//! registry change. Everything here is stateless; signatures and the registry
//! are checked by [`crate::validate`] at the entry's log position.

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEvent, KeyEventPredicate, SourceDigest};

use crate::error::AppError;
use crate::registry::KeyChange;
use crate::storage::SearchTerms;

/// The kind names used in storage, search and listings (`Attestation::kind`).
pub const KINDS: [&str; 4] = ["source-submission", "source-review", "build", "key-event"];

/// The stateless facts of one envelope.
#[derive(Clone, Debug)]
pub struct Facts {
    pub kind: &'static str,
    pub allowed_roles: Vec<String>,
    pub terms: SearchTerms,
    pub key_change: Option<KeyChange>,
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
    let mut terms = SearchTerms::default();
    let mut key_change = None;
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
        Attestation::KeyEvent(ev) => key_change = Some(key_change_of(ev)?),
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
        allowed_roles: attestation
            .allowed_roles()
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        terms,
        key_change,
    })
}

fn key_change_of(ev: &KeyEvent) -> Result<KeyChange, AppError> {
    Ok(match &ev.predicate {
        KeyEventPredicate::Register(r) => KeyChange::Register {
            public_key: r
                .verifying_key()
                .map_err(|e| AppError::InvalidStatement(format!("statement: {e}")))?,
            key_id: ev.key_id.clone(),
            name: r.name.clone(),
            organisation: Some(r.organisation.clone()),
            roles: r
                .roles
                .iter()
                .map(|role| role.as_str().to_string())
                .collect(),
        },
        KeyEventPredicate::Revoke(r) => KeyChange::Revoke {
            key_id: ev.key_id.clone(),
            reason: r.reason.clone(),
            compromised_since: r.compromised_since.clone(),
        },
    })
}
