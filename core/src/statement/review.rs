//! Source review (`https://glassbox.dev/source-review/v1`): a reviewer's verdict on a
//! source tree (docs/design.md §3).
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "https://git.example/acme/app", "digest": {"dirHash": "<64 hex>", …}}],
//!  "predicateType": "https://glassbox.dev/source-review/v1",
//!  "predicate": {"repository": "https://git.example/acme/app", "scope": ["src/crypto"],
//!                "verdict": "approved-with-findings", "findings": "…",
//!                "reportDigest": {"sha256": "<64 hex>"}, "reviewedAt": "2025-02-03T09:30:00Z"}}
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::fields::{check_hex, check_text, check_timestamp, check_url, invalid};
use super::source::{parse_source_subject, source_subject};
use super::{Scope, SourceDigest, StatementError, Subject, UntypedPredicate};

/// The review predicate, field for field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReviewPredicate {
    /// Repository URL; must equal the subject name.
    pub repository: String,
    /// What was reviewed.
    pub scope: Scope,
    /// The outcome.
    pub verdict: Verdict,
    /// Summary of findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    /// Digest of the full review report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_digest: Option<ReportDigest>,
    /// RFC 3339 time of the review.
    pub reviewed_at: String,
}

/// `reportDigest`: `{"sha256": <64 lowercase hex>}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDigest {
    /// SHA-256 of the report file, lowercase hex.
    pub sha256: String,
}

/// A review outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// `approved`.
    Approved,
    /// `approved-with-findings`.
    ApprovedWithFindings,
    /// `rejected`.
    Rejected,
}

const VERDICT_EXPECTED: &str = "expected one of approved, approved-with-findings, rejected";

impl Verdict {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::ApprovedWithFindings => "approved-with-findings",
            Verdict::Rejected => "rejected",
        }
    }

    /// True for `approved` and `approved-with-findings`: the verdicts that count towards
    /// a policy's reviewer quorum.
    pub fn is_approval(self) -> bool {
        !matches!(self, Verdict::Rejected)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Verdict::Approved,
            Verdict::ApprovedWithFindings,
            Verdict::Rejected,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| VERDICT_EXPECTED.to_owned())
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d).map_err(|_| serde::de::Error::custom(VERDICT_EXPECTED))?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A validated source review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceReview {
    /// The reviewed tree (subject digest).
    pub source: SourceDigest,
    /// The predicate; `predicate.repository` is also the subject name.
    pub predicate: ReviewPredicate,
}

impl SourceReview {
    /// Builds and validates a review (what `glassbox attest review` calls).
    pub fn new(
        source: SourceDigest,
        predicate: ReviewPredicate,
    ) -> Result<SourceReview, StatementError> {
        let review = SourceReview { source, predicate };
        review.validate()?;
        Ok(review)
    }

    /// The repository URL.
    pub fn repository(&self) -> &str {
        &self.predicate.repository
    }

    /// Checks every rule of the kind.
    pub fn validate(&self) -> Result<(), StatementError> {
        self.source.validate("subject[0].digest")?;
        let p = &self.predicate;
        check_url("predicate.repository", &p.repository)?;
        p.scope.validate("predicate.scope")?;
        if let Some(findings) = &p.findings {
            check_text("predicate.findings", findings)?;
        }
        if let Some(report) = &p.report_digest {
            check_hex("predicate.reportDigest.sha256", &report.sha256, &[64])?;
        }
        check_timestamp("predicate.reviewedAt", &p.reviewed_at)
    }

    pub(crate) fn parse(
        subjects: &[Subject],
        predicate: &(impl UntypedPredicate + ?Sized),
    ) -> Result<SourceReview, StatementError> {
        let (name, source) = parse_source_subject(subjects)?;
        let predicate: ReviewPredicate = predicate.typed()?;
        if predicate.repository != name {
            return Err(invalid(
                "predicate.repository",
                format!("must equal subject[0].name {name:?}"),
            ));
        }
        SourceReview::new(source, predicate)
    }

    pub(crate) fn subjects(&self) -> Vec<Subject> {
        source_subject(&self.predicate.repository, &self.source)
    }
}
