//! One-line descriptions of log entries, for `history` and `monitor`.

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEventPredicate};

/// What an entry is about, in three columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Repository URL, artifact name(s) or key ID.
    pub subject: String,
    /// dirHash of a source, `sha256:` of an artifact, or empty.
    pub digest: String,
    /// Product and version, review verdict, build source and builder, key event.
    pub detail: String,
}

/// Describes a parsed attestation.
pub fn summarise(attestation: &Attestation) -> Summary {
    match attestation {
        Attestation::SourceSubmission(s) => Summary {
            subject: s.predicate.repository.clone(),
            digest: s.source.dir_hash.clone(),
            detail: format!("{} {}", s.predicate.product, s.predicate.version),
        },
        Attestation::SourceReview(r) => Summary {
            subject: r.predicate.repository.clone(),
            digest: r.source.dir_hash.clone(),
            detail: r.predicate.verdict.to_string(),
        },
        Attestation::Build(b) => Summary {
            subject: b
                .subjects
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            digest: b
                .subjects
                .iter()
                .map(|s| s.sha256.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            detail: match b.source() {
                Some(src) => format!(
                    "from {} dirHash {} by {}",
                    src.uri,
                    src.digest.dir_hash,
                    b.builder_id()
                ),
                None => format!("by {}", b.builder_id()),
            },
        },
        Attestation::KeyEvent(k) => Summary {
            subject: k.key_id.clone(),
            digest: String::new(),
            detail: match &k.predicate {
                KeyEventPredicate::Register(r) => format!(
                    "register {} ({}) as {}",
                    r.name,
                    r.organisation,
                    r.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                KeyEventPredicate::Revoke(r) => match &r.compromised_since {
                    Some(since) => format!("revoke: {} (compromised since {since})", r.reason),
                    None => format!("revoke: {}", r.reason),
                },
            },
        },
        _ => Summary {
            subject: attestation.kind().to_owned(),
            ..Summary::default()
        },
    }
}

/// Describes a logged envelope (as JSON), or says why it cannot be read.
pub fn summarise_value(entry: &serde_json::Value) -> Summary {
    let parsed = Envelope::from_value(entry)
        .map_err(|e| e.to_string())
        .and_then(|env| Attestation::from_envelope(&env).map_err(|e| e.to_string()));
    match parsed {
        Ok((_, attestation)) => summarise(&attestation),
        Err(err) => Summary {
            subject: "?".to_owned(),
            digest: String::new(),
            detail: format!("unreadable entry: {err}"),
        },
    }
}
