//! Source submission (`https://glassbox.dev/source-submission/v1`): a vendor's signed
//! claim that a source tree is the source of release `product` `version`, and what it
//! asks reviewers to look at (docs/design.md §3). Logging it makes "submitted but never
//! reviewed" visible in the history.
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "https://git.example/acme/app",
//!               "digest": {"gitCommit": "<40|64 hex>", "gitTree": "<40|64 hex>", "dirHash": "<64 hex>"}}],
//!  "predicateType": "https://glassbox.dev/source-submission/v1",
//!  "predicate": {"repository": "https://git.example/acme/app", "product": "app", "version": "1.2.0",
//!                "reviewRequest": {"scope": "full", "notes": "…"}, "submittedAt": "2025-01-31T12:00:00Z"}}
//! ```

use serde::{Deserialize, Serialize};

use super::fields::{check_label, check_text, check_timestamp, check_url, invalid};
use super::source::{parse_source_subject, source_subject};
use super::{Scope, SourceDigest, StatementError, Subject, UntypedPredicate};

/// The submission predicate, field for field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubmissionPredicate {
    /// Repository URL; must equal the subject name.
    pub repository: String,
    /// Product name.
    pub product: String,
    /// Release version.
    pub version: String,
    /// What reviewers are asked to look at.
    pub review_request: ReviewRequest,
    /// RFC 3339 time of submission.
    pub submitted_at: String,
}

/// `reviewRequest`: the scope to review and optional notes for reviewers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `"full"` or the paths to review.
    pub scope: Scope,
    /// Free-text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A validated source submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSubmission {
    /// The submitted tree (subject digest).
    pub source: SourceDigest,
    /// The predicate; `predicate.repository` is also the subject name.
    pub predicate: SubmissionPredicate,
}

impl SourceSubmission {
    /// Builds and validates a submission (what `glassbox attest source` calls).
    pub fn new(
        source: SourceDigest,
        predicate: SubmissionPredicate,
    ) -> Result<SourceSubmission, StatementError> {
        let submission = SourceSubmission { source, predicate };
        submission.validate()?;
        Ok(submission)
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
        check_label("predicate.product", &p.product)?;
        check_label("predicate.version", &p.version)?;
        p.review_request
            .scope
            .validate("predicate.reviewRequest.scope")?;
        if let Some(notes) = &p.review_request.notes {
            check_text("predicate.reviewRequest.notes", notes)?;
        }
        check_timestamp("predicate.submittedAt", &p.submitted_at)
    }

    pub(crate) fn parse(
        subjects: &[Subject],
        predicate: &(impl UntypedPredicate + ?Sized),
    ) -> Result<SourceSubmission, StatementError> {
        let (name, source) = parse_source_subject(subjects)?;
        let predicate: SubmissionPredicate = predicate.typed()?;
        if predicate.repository != name {
            return Err(invalid(
                "predicate.repository",
                format!("must equal subject[0].name {name:?}"),
            ));
        }
        SourceSubmission::new(source, predicate)
    }

    pub(crate) fn subjects(&self) -> Vec<Subject> {
        source_subject(&self.predicate.repository, &self.source)
    }
}
