//! What the log extracts from an envelope before sequencing it: the parsed
//! statement and its search terms. Everything here is stateless; signatures and
//! the participant registry are checked by [`crate::log::admission::validate`] at the entry's log
//! position.

use glassbox_core::dsse::Envelope;
use glassbox_core::export::sources;
use glassbox_core::statement::Attestation;

use crate::log::error::LogError;
use crate::storage::{EntryRecord, Hash, SearchTerms};

/// The kind names used in storage, search and listings: `Attestation::kind` of
/// what participants submit, and the log's own index commitments.
pub const KINDS: [&str; 5] = [
    "source-submission",
    "source-review",
    "build",
    "key-event",
    INDEX_COMMITMENT_KIND,
];

/// The kind of the log's own index commitments (`glassbox_core::index::commitment`),
/// which the sequencer appends at the end of every batch; never submitted.
pub const INDEX_COMMITMENT_KIND: &str = "index-commitment";

/// The stored entry of the log's index commitment `envelope` at `index`: its kind,
/// its signer (the log's key) and no search terms.
pub fn commitment_entry(index: u64, envelope: &Envelope, integrated_at_ms: i64) -> EntryRecord {
    let leaf = envelope.to_canonical_json();
    EntryRecord {
        index,
        leaf_hash: glassbox_core::merkle::leaf_hash(&leaf),
        statement_digest: envelope.statement_digest(),
        leaf,
        kind: INDEX_COMMITMENT_KIND.to_string(),
        integrated_at_ms,
        signers: envelope
            .signatures
            .iter()
            .map(|s| s.keyid.clone())
            .collect(),
        terms: SearchTerms::default(),
    }
}

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
    /// The statement's identity (`Envelope::statement_digest`), by which the
    /// sequencer logs a statement once whatever signatures carry it.
    pub statement_digest: Hash,
}

/// Parse the envelope's statement and extract its facts (400 `invalid_statement`
/// when it is not one of the four kinds of docs/design.md §3).
pub fn facts(envelope: &Envelope) -> Result<Facts, LogError> {
    let attestation = Attestation::of_envelope(envelope).map_err(LogError::Statement)?;
    check_string_sizes(&envelope.payload)?;
    let mut terms = SearchTerms::default();
    match &attestation {
        Attestation::SourceSubmission(_) | Attestation::SourceReview(_) => {}
        Attestation::Build(b) => {
            for subject in &b.subjects {
                terms.artifacts.push(subject.sha256.hex());
            }
        }
        Attestation::KeyEvent(_) => {}
        other => {
            return Err(LogError::KindNotAccepted {
                kind: other.kind().to_string(),
            })
        }
    }
    // The sources the exports list (glassbox_core::export) are the ones searched.
    for (repository, source) in sources(&attestation) {
        terms.repositories.push(repository.to_string());
        terms.dir_hashes.push(source.dir_hash.to_ascii_lowercase());
        if let Some(c) = &source.git_commit {
            terms.commits.push(c.to_ascii_lowercase());
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
        statement_digest: envelope.statement_digest(),
    })
}

/// The length of the longest string (value or member name) in a JSON document,
/// found while parsing it without building it (no allocation per value).
struct Longest(usize);

impl<'de> serde::Deserialize<'de> for Longest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LongestVisitor)
    }
}

struct LongestVisitor;

impl<'de> serde::de::Visitor<'de> for LongestVisitor {
    type Value = Longest;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Longest, E> {
        Ok(Longest(0))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Longest, E> {
        Ok(Longest(0))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Longest, E> {
        Ok(Longest(0))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Longest, E> {
        Ok(Longest(0))
    }
    fn visit_unit<E>(self) -> Result<Longest, E> {
        Ok(Longest(0))
    }
    fn visit_str<E>(self, s: &str) -> Result<Longest, E> {
        Ok(Longest(s.len()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Longest, A::Error> {
        let mut max = 0;
        while let Some(Longest(n)) = seq.next_element()? {
            max = max.max(n);
        }
        Ok(Longest(max))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Longest, A::Error> {
        let mut max = 0;
        while let Some(Longest(k)) = map.next_key()? {
            let Longest(v) = map.next_value()?;
            max = max.max(k).max(v);
        }
        Ok(Longest(max))
    }
}

/// Refuse a statement holding a string (value or key) over
/// [`MAX_STATEMENT_STRING_BYTES`]. Runs after the statement parsed, so the
/// payload is JSON within serde_json's nesting limit.
fn check_string_sizes(payload: &[u8]) -> Result<(), LogError> {
    let Longest(n) = serde_json::from_slice(payload).map_err(LogError::StatementJson)?;
    if n > MAX_STATEMENT_STRING_BYTES {
        return Err(LogError::StringTooLong {
            bytes: n,
            limit: MAX_STATEMENT_STRING_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Longest;

    fn longest(json: &str) -> usize {
        serde_json::from_str::<Longest>(json).unwrap().0
    }

    #[test]
    fn the_longest_string_is_found_at_any_depth_and_in_member_names() {
        assert_eq!(longest(r#"{"a": [1, 2.5, true, null, "xyz"]}"#), 3);
        assert_eq!(longest(r#"{"abcdef": {"b": "x"}}"#), 6);
        assert_eq!(longest(r#"[[[["abcd"]]], {"k": [{"m": "ab"}]}]"#), 4);
        assert_eq!(longest("-12"), 0);
        // Decoded length: an escape is one character, "é" two bytes of UTF-8.
        assert_eq!(longest(r#""\u0041\n""#), 2);
        assert_eq!(longest(r#"{"\u00e9": ""}"#), 2);
        assert!(serde_json::from_str::<Longest>(r#"{"a": }"#).is_err());
    }
}
