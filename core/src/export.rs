//! One logged entry as the history exports show it: the row of
//! `GET /api/v1/export` (JSON Lines and CSV) and of `glassbox history --format
//! json|csv`, built here from the entry's bytes so the server and the CLI write
//! the same fields, decoded by the same code (docs/api.md, "Export").
//!
//! A row carries the raw envelope (`entry`, JSON only) and, next to it, what the
//! statement says, decoded ([`StatementFields`]): kind, product and version,
//! verdict, scope and findings, builder, source digests, subjects. The decoded
//! fields are a reading aid; the signed bytes are the envelope.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::dsse::Envelope;
use crate::statement::{Attestation, KeyEventPredicate, Scope, SourceDigest};

/// One in-toto subject of the entry's statement.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExportSubject {
    /// Repository URL, artifact name or key ID, depending on the kind.
    pub name: String,
    /// Algorithm → lowercase hex.
    pub digest: BTreeMap<String, String>,
}

/// A source tree the statement names: the submitted or reviewed source, or a
/// build's source.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExportSource {
    /// Repository URL, as the statement spells it.
    pub repository: String,
    /// Git commit ID (40 or 64 hex), when the statement gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// dirHash of the tree (64 hex).
    pub dir_hash: String,
}

/// What the entry's statement says, decoded. Fields a kind does not have are
/// absent.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatementFields {
    /// `source-submission`, `source-review`, `build` or `key-event`.
    pub kind: String,
    /// Submission: the product released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Submission: its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Review: `approved`, `approved-with-findings` or `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Submission (scope asked for) and review (scope reviewed): `"full"` or a
    /// list of paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Review: the reviewer's findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    /// Build: the builder ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// Key event: the key registered or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Key event: `register` or `revoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Key registration: the organisation the key is registered under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// The source trees named: the one submitted or reviewed, a build's sources.
    pub sources: Vec<ExportSource>,
}

impl StatementFields {
    /// The decoded fields of a validated attestation.
    pub fn of(attestation: &Attestation) -> StatementFields {
        let mut out = StatementFields {
            kind: attestation.kind().to_owned(),
            sources: sources(attestation)
                .into_iter()
                .map(|(repository, digest)| ExportSource {
                    repository: repository.to_owned(),
                    commit: digest.git_commit.clone(),
                    dir_hash: digest.dir_hash.clone(),
                })
                .collect(),
            ..StatementFields::default()
        };
        match attestation {
            Attestation::SourceSubmission(s) => {
                out.product = Some(s.predicate.product.clone());
                out.version = Some(s.predicate.version.clone());
                out.scope = Some(s.predicate.review_request.scope.clone());
            }
            Attestation::SourceReview(r) => {
                out.verdict = Some(r.predicate.verdict.as_str().to_owned());
                out.scope = Some(r.predicate.scope.clone());
                out.findings = r.predicate.findings.clone();
            }
            Attestation::Build(b) => out.builder = Some(b.builder_id().to_owned()),
            Attestation::KeyEvent(k) => {
                out.key_id = Some(k.key_id.clone());
                out.action = Some(k.predicate.event().to_owned());
                if let KeyEventPredicate::Register(r) = &k.predicate {
                    out.organisation = Some(r.organisation.clone());
                }
            }
        }
        out
    }
}

/// The source trees an attestation names, with the repository each is named
/// under: the submitted or reviewed source, or each source of a build. The one
/// reading of "which sources" for the log's search terms and the exports.
pub fn sources(attestation: &Attestation) -> Vec<(&str, &SourceDigest)> {
    match attestation {
        Attestation::SourceSubmission(s) => vec![(s.repository(), &s.source)],
        Attestation::SourceReview(r) => vec![(r.repository(), &r.source)],
        Attestation::Build(b) => b
            .predicate
            .build_definition
            .resolved_dependencies
            .iter()
            .map(|dep| (dep.uri.as_str(), &dep.digest))
            .collect(),
        Attestation::KeyEvent(_) => Vec::new(),
    }
}

/// One exported entry.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ExportRow {
    /// Log index.
    pub index: u64,
    /// When the entry was integrated, RFC 3339 UTC with milliseconds.
    pub integrated_time: String,
    /// The kind the log files the entry under (`index-commitment` included).
    pub kind: String,
    /// Key IDs of the envelope's signatures.
    pub signers: Vec<String>,
    /// The statement's in-toto subjects.
    pub subjects: Vec<ExportSubject>,
    /// SHA-256 of built artifacts (lowercase hex).
    pub artifacts: Vec<String>,
    /// Repositories, commits and dirHashes of the sources the entry names
    /// (sorted, each once).
    pub repositories: Vec<String>,
    /// See `repositories`.
    pub commits: Vec<String>,
    /// See `repositories`.
    pub dir_hashes: Vec<String>,
    /// RFC 9162 leaf hash of the entry, lowercase hex.
    pub leaf_hash: String,
    /// The statement's fields, decoded; `null` for the log's own index
    /// commitments and anything that is not one of the four kinds.
    pub statement: Option<StatementFields>,
    /// The logged DSSE envelope (the Merkle leaf), as logged.
    pub entry: Box<RawValue>,
}

/// CSV column names, in order: the row's fields but `entry`, and the statement's
/// decoded fields after `leafHash` (docs/api.md).
pub const CSV_HEADER: [&str; 16] = [
    "index",
    "integratedTime",
    "kind",
    "signers",
    "subjects",
    "artifacts",
    "repositories",
    "commits",
    "dirHashes",
    "leafHash",
    "product",
    "version",
    "verdict",
    "scope",
    "findings",
    "builder",
];

/// The CSV line end: CRLF, as RFC 4180 §2.1 has it.
pub const CSV_LINE_END: &str = "\r\n";

impl ExportRow {
    /// The row of the entry whose leaf (canonical envelope bytes) is `leaf`.
    /// Leaves that are not an envelope of one of the four kinds (the log's index
    /// commitments) get empty decoded fields.
    pub fn of_leaf(
        index: u64,
        integrated_time: String,
        kind: String,
        signers: Vec<String>,
        leaf: &[u8],
    ) -> ExportRow {
        let parsed = Envelope::from_json(leaf)
            .ok()
            .and_then(|e| Attestation::from_envelope(&e).ok());
        let entry = std::str::from_utf8(leaf)
            .ok()
            .and_then(|text| RawValue::from_string(text.to_owned()).ok())
            .unwrap_or_else(|| RawValue::from_string("null".to_owned()).expect("JSON null"));
        let mut row = ExportRow {
            index,
            integrated_time,
            kind,
            signers,
            subjects: Vec::new(),
            artifacts: Vec::new(),
            repositories: Vec::new(),
            commits: Vec::new(),
            dir_hashes: Vec::new(),
            leaf_hash: hex::encode(crate::merkle::leaf_hash(leaf)),
            statement: None,
            entry,
        };
        if let Some((statement, attestation)) = parsed {
            row.subjects = statement
                .subject
                .into_iter()
                .map(|s| ExportSubject {
                    name: s.name,
                    digest: s.digest,
                })
                .collect();
            if let Attestation::Build(b) = &attestation {
                row.artifacts = b.subjects.iter().map(|s| s.sha256.hex()).collect();
            }
            for (repository, digest) in sources(&attestation) {
                row.repositories.push(repository.to_owned());
                row.dir_hashes.push(digest.dir_hash.clone());
                row.commits.extend(digest.git_commit.clone());
            }
            for list in [
                &mut row.artifacts,
                &mut row.repositories,
                &mut row.commits,
                &mut row.dir_hashes,
            ] {
                list.sort();
                list.dedup();
            }
            row.statement = Some(StatementFields::of(&attestation));
        }
        row
    }

    /// The row as one CSV record ([`CSV_HEADER`]'s columns, [`CSV_LINE_END`]),
    /// cells made safe for spreadsheets ([`crate::csv`]). Multi-valued cells hold
    /// one value per line (a quoted field may span lines, RFC 4180 §2.6); a
    /// subject is `name (alg:hex alg:hex)`; a scope is `full` or its paths, one
    /// per line.
    pub fn csv_record(&self) -> String {
        let subjects: Vec<String> = self
            .subjects
            .iter()
            .map(|s| {
                let d: Vec<String> = s.digest.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{} ({})", s.name, d.join(" "))
            })
            .collect();
        let fields = self.statement.clone().unwrap_or_default();
        let scope = match &fields.scope {
            None => String::new(),
            Some(Scope::Full) => "full".to_owned(),
            Some(Scope::Paths(paths)) => paths.join("\n"),
        };
        let cells = [
            self.index.to_string(),
            self.integrated_time.clone(),
            self.kind.clone(),
            self.signers.join("\n"),
            subjects.join("\n"),
            self.artifacts.join("\n"),
            self.repositories.join("\n"),
            self.commits.join("\n"),
            self.dir_hashes.join("\n"),
            self.leaf_hash.clone(),
            fields.product.unwrap_or_default(),
            fields.version.unwrap_or_default(),
            fields.verdict.unwrap_or_default(),
            scope,
            fields.findings.unwrap_or_default(),
            fields.builder.unwrap_or_default(),
        ];
        crate::csv::record(cells.iter().map(String::as_str), CSV_LINE_END)
    }

    /// The CSV header record.
    pub fn csv_header() -> String {
        crate::csv::record(CSV_HEADER, CSV_LINE_END)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::{KeyEvent, ReviewPredicate, Role, SourceReview, Verdict};
    use ed25519_dalek::SigningKey;

    fn review(findings: Option<&str>, scope: Scope) -> Vec<u8> {
        let source = SourceDigest::from_dir_hash("ab".repeat(32));
        let r = SourceReview::new(
            source,
            ReviewPredicate {
                repository: "https://git.example/app.git".into(),
                scope,
                verdict: Verdict::ApprovedWithFindings,
                findings: findings.map(str::to_owned),
                report_digest: None,
                reviewed_at: "2026-01-02T00:00:00Z".into(),
            },
        )
        .unwrap();
        let key = SigningKey::from_bytes(&[3; 32]);
        Attestation::from(r)
            .sign(&[&key])
            .unwrap()
            .to_canonical_json()
    }

    fn row(leaf: &[u8]) -> ExportRow {
        ExportRow::of_leaf(
            7,
            "2026-01-01T00:00:00.000Z".into(),
            "source-review".into(),
            vec!["aa".into()],
            leaf,
        )
    }

    #[test]
    fn a_review_row_decodes_verdict_scope_findings_and_source() {
        let leaf = review(
            Some("=HYPERLINK(\"x\"), see report"),
            Scope::Paths(vec!["src".into(), "lib".into()]),
        );
        let row = row(&leaf);
        let fields = row.statement.clone().unwrap();
        assert_eq!(fields.kind, "source-review");
        assert_eq!(fields.verdict.as_deref(), Some("approved-with-findings"));
        assert_eq!(
            fields.scope,
            Some(Scope::Paths(vec!["src".into(), "lib".into()]))
        );
        assert_eq!(fields.sources[0].repository, "https://git.example/app.git");
        assert_eq!(fields.sources[0].commit, None);
        assert_eq!(row.repositories, ["https://git.example/app.git"]);
        assert_eq!(row.leaf_hash, hex::encode(crate::merkle::leaf_hash(&leaf)));
        assert_eq!(row.entry.get().as_bytes(), &leaf[..]);
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(
            json["statement"]["scope"],
            serde_json::json!(["src", "lib"])
        );
        assert!(json["statement"].get("product").is_none(), "{json}");
        // CSV: CRLF, the paths one per line, the hostile findings neutralised.
        let csv = row.csv_record();
        assert!(
            csv.ends_with(
                ",approved-with-findings,\"src\nlib\",\"'=HYPERLINK(\"\"x\"\"), see report\",\r\n"
            ),
            "{csv}"
        );
        assert_eq!(
            ExportRow::csv_header().matches(',').count(),
            CSV_HEADER.len() - 1
        );
    }

    #[test]
    fn a_key_event_row_names_the_key_and_organisation() {
        let op = SigningKey::from_bytes(&[1; 32]);
        let who = SigningKey::from_bytes(&[2; 32]);
        let ev = KeyEvent::register(
            &who.verifying_key(),
            "Bot",
            "App Vendor Inc",
            vec![Role::Vendor],
        )
        .unwrap();
        let key_id = ev.key_id.clone();
        let leaf = Attestation::from(ev)
            .sign(&[&op])
            .unwrap()
            .to_canonical_json();
        let fields = row(&leaf).statement.unwrap();
        assert_eq!(fields.kind, "key-event");
        assert_eq!(fields.key_id, Some(key_id));
        assert_eq!(fields.action.as_deref(), Some("register"));
        assert_eq!(fields.organisation.as_deref(), Some("App Vendor Inc"));
        assert!(fields.sources.is_empty());
    }

    #[test]
    fn a_leaf_that_is_no_attestation_has_no_decoded_statement() {
        let row = row(br#"{"not":"an envelope"}"#);
        assert!(row.statement.is_none());
        assert!(row.subjects.is_empty());
        assert_eq!(row.entry.get(), r#"{"not":"an envelope"}"#);
        let csv = row.csv_record();
        assert!(csv.ends_with(",,,,,,\r\n"), "{csv}");
    }
}
