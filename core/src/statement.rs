//! in-toto Statement v1 and the four Glassbox attestation kinds (docs/design.md §3).
//!
//! Every log entry is a DSSE envelope whose payload (`application/vnd.in-toto+json`) is
//! an in-toto Statement: `{"_type", "subject", "predicateType", "predicate"}`. The
//! `predicateType` selects one of the kinds below, each a typed struct whose parser and
//! constructor run the same validation, so what the CLI builds is exactly what the
//! server accepts.
//!
//! | kind | predicateType | module |
//! |---|---|---|
//! | source submission | [`SOURCE_SUBMISSION_V1`] | [`submission`] |
//! | source review | [`SOURCE_REVIEW_V1`] | [`review`] |
//! | build (SLSA provenance v1) | [`SLSA_PROVENANCE_V1`] | [`build`] |
//! | key event | [`KEY_EVENT_V1`] | [`key_event`] |
//!
//! Strictness. in-toto's parsing rules tell consumers to ignore unrecognised fields.
//! Glassbox is the consumer that turns a statement into a permanent log entry, and a
//! field it did not understand could mean something to a later reader that it never
//! checked; so unknown members are rejected at every level (statement, subject,
//! predicate), except inside the members SLSA itself defines as open
//! (see [`build`]). Duplicate member names anywhere are rejected too (RFC 7493 §2.3).
//!
//! Who may sign what ([`Attestation::allowed_roles`]) is data here; *whether* a signer
//! holds that role, and the log's genesis rule — the very first key event may be an
//! operator registration signed by the key it registers — are enforced by the server
//! and the verifier, which see the key registry and the log order.

pub mod build;
mod fields;
pub mod key_event;
pub mod review;
pub mod source;
mod strict_json;
pub mod submission;
pub mod time;

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::dsse::{DsseError, Envelope};

pub use build::{
    ArtifactSubject, Build, BuildDefinition, BuildMetadata, BuildRecipe, Builder, PackagePin,
    ProvenancePredicate, ResourceDescriptor, RunDetails, SourceDependency, ToolIdentity,
    BUILD_TYPE_COMMAND_V1, TOOLCHAIN_PARAMETER,
};
pub use key_event::{KeyEvent, KeyEventPredicate, KeyRegistration, KeyRevocation};
pub use review::{ReportDigest, ReviewPredicate, SourceReview, Verdict};
pub use source::{Scope, SourceDigest};
pub use submission::{ReviewRequest, SourceSubmission, SubmissionPredicate};

/// DSSE `payloadType` of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// predicateType of a vendor's source submission.
pub const SOURCE_SUBMISSION_V1: &str = "https://glassbox.dev/source-submission/v1";
/// predicateType of a reviewer's source review.
pub const SOURCE_REVIEW_V1: &str = "https://glassbox.dev/source-review/v1";
/// predicateType of a build: SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// predicateType of a key registration or revocation.
pub const KEY_EVENT_V1: &str = "https://glassbox.dev/key-event/v1";

/// An in-toto Statement v1 with its predicate still untyped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// Selects the predicate schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate object.
    pub predicate: Value,
}

/// [`Statement`] with the predicate left as text ([`Attestation::of_envelope`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeanStatement<'a> {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(borrow)]
    predicate: &'a RawValue,
}

/// An in-toto ResourceDescriptor as Glassbox uses it in `subject`: a name and a
/// DigestSet, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Repository URL, artifact name or key ID, depending on the kind.
    pub name: String,
    /// Algorithm name → lowercase hex.
    pub digest: BTreeMap<String, String>,
}

/// A participant role (docs/design.md §3); serialised in lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Submits source and release builds.
    Vendor,
    /// Reviews source.
    Reviewer,
    /// Independently rebuilds releases.
    Builder,
    /// Runs the log and accredits keys.
    Operator,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 4] = [Role::Vendor, Role::Reviewer, Role::Builder, Role::Operator];

    /// The lowercase wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Vendor => "vendor",
            Role::Reviewer => "reviewer",
            Role::Builder => "builder",
            Role::Operator => "operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "expected one of vendor, reviewer, builder, operator".to_owned())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a payload is not an acceptable Glassbox statement. The `Display` form always
/// starts with the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The envelope does not carry an in-toto statement.
    #[error("payloadType: expected {PAYLOAD_TYPE}, found {found:?}")]
    WrongPayloadType {
        /// The envelope's payloadType.
        found: String,
    },
    /// Malformed JSON, or a member missing, unknown, duplicated or of the wrong type.
    #[error("{path}: {message}")]
    Json {
        /// JSON path (`predicate.reviewRequest.scope`, `subject[0].digest`, …).
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// The predicateType is not one of the four kinds.
    #[error("predicateType: unsupported {found:?}; expected one of {SOURCE_SUBMISSION_V1}, {SOURCE_REVIEW_V1}, {SLSA_PROVENANCE_V1}, {KEY_EVENT_V1}")]
    UnknownPredicateType {
        /// The predicateType given.
        found: String,
    },
    /// A field is well-formed JSON but breaks a rule of its kind.
    #[error("{path}: {reason}")]
    Invalid {
        /// JSON path of the field.
        path: String,
        /// The rule it breaks.
        reason: String,
    },
}

/// One validated Glassbox attestation.
// Attestations are handled one at a time, never in large collections, so the size of
// the Build variant costs nothing worth a Box in every caller's pattern.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Attestation {
    /// A vendor's claim that a source tree is release X.
    SourceSubmission(SourceSubmission),
    /// A reviewer's verdict on a source tree.
    SourceReview(SourceReview),
    /// A build of artifacts from a source tree.
    Build(Build),
    /// A key registration or revocation.
    KeyEvent(KeyEvent),
}

impl Attestation {
    /// Parses and validates the statement in `envelope`. Signatures are not checked
    /// here; see [`Envelope::verify_signature`].
    pub fn from_envelope(envelope: &Envelope) -> Result<(Statement, Attestation), StatementError> {
        if envelope.payload_type != PAYLOAD_TYPE {
            return Err(StatementError::WrongPayloadType {
                found: envelope.payload_type.clone(),
            });
        }
        let statement = Statement::from_json(&envelope.payload)?;
        let attestation = Attestation::from_statement(&statement)?;
        Ok((statement, attestation))
    }

    /// [`from_envelope`](Self::from_envelope) for a caller that needs only the
    /// attestation (the log, per submission): the predicate is typed straight from
    /// the payload text, without the JSON tree a [`Statement`] holds. The same
    /// input is accepted; anything the lean parse does not accept goes through
    /// `from_envelope`, so errors are exactly its errors.
    pub fn of_envelope(envelope: &Envelope) -> Result<Attestation, StatementError> {
        if let Some(attestation) = Self::lean(envelope) {
            return Ok(attestation);
        }
        Self::from_envelope(envelope).map(|(_, a)| a)
    }

    /// The common kinds, parsed from the payload text; `None` for any failure
    /// and for key events (rare; their predicate is parsed in two steps).
    fn lean(envelope: &Envelope) -> Option<Attestation> {
        if envelope.payload_type != PAYLOAD_TYPE {
            return None;
        }
        let bytes = &envelope.payload;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        strict_json::NoDuplicateMembers::deserialize(&mut de).ok()?;
        de.end().ok()?;
        let statement: LeanStatement<'_> = serde_json::from_slice(bytes).ok()?;
        if statement.statement_type != STATEMENT_TYPE {
            return None;
        }
        let (subjects, predicate) = (&statement.subject, statement.predicate);
        match statement.predicate_type.as_str() {
            SOURCE_SUBMISSION_V1 => SourceSubmission::parse(subjects, predicate)
                .ok()
                .map(Attestation::SourceSubmission),
            SOURCE_REVIEW_V1 => SourceReview::parse(subjects, predicate)
                .ok()
                .map(Attestation::SourceReview),
            SLSA_PROVENANCE_V1 => Build::parse(subjects, predicate)
                .ok()
                .map(Attestation::Build),
            _ => None,
        }
    }

    /// Validates a parsed statement as one of the four kinds.
    pub fn from_statement(statement: &Statement) -> Result<Attestation, StatementError> {
        if statement.statement_type != STATEMENT_TYPE {
            return Err(fields::invalid(
                "_type",
                format!(
                    "expected {STATEMENT_TYPE}, found {:?}",
                    statement.statement_type
                ),
            ));
        }
        let subjects = &statement.subject;
        let predicate = &statement.predicate;
        Ok(match statement.predicate_type.as_str() {
            SOURCE_SUBMISSION_V1 => {
                Attestation::SourceSubmission(SourceSubmission::parse(subjects, predicate)?)
            }
            SOURCE_REVIEW_V1 => {
                Attestation::SourceReview(SourceReview::parse(subjects, predicate)?)
            }
            SLSA_PROVENANCE_V1 => Attestation::Build(Build::parse(subjects, predicate)?),
            KEY_EVENT_V1 => Attestation::KeyEvent(KeyEvent::parse(subjects, predicate)?),
            other => {
                return Err(StatementError::UnknownPredicateType {
                    found: other.to_owned(),
                })
            }
        })
    }

    /// The roles whose keys may sign this kind: submission → vendor; review → reviewer;
    /// build → vendor or builder; key event → operator.
    pub fn allowed_roles(&self) -> &'static [Role] {
        match self {
            Attestation::SourceSubmission(_) => &[Role::Vendor],
            Attestation::SourceReview(_) => &[Role::Reviewer],
            Attestation::Build(_) => &[Role::Vendor, Role::Builder],
            Attestation::KeyEvent(_) => &[Role::Operator],
        }
    }

    /// The predicateType URI of this kind.
    pub fn predicate_type(&self) -> &'static str {
        match self {
            Attestation::SourceSubmission(_) => SOURCE_SUBMISSION_V1,
            Attestation::SourceReview(_) => SOURCE_REVIEW_V1,
            Attestation::Build(_) => SLSA_PROVENANCE_V1,
            Attestation::KeyEvent(_) => KEY_EVENT_V1,
        }
    }

    /// A short stable name of the kind: `source-submission`, `source-review`, `build`
    /// or `key-event` (used in search filters and listings).
    pub fn kind(&self) -> &'static str {
        match self {
            Attestation::SourceSubmission(_) => "source-submission",
            Attestation::SourceReview(_) => "source-review",
            Attestation::Build(_) => "build",
            Attestation::KeyEvent(_) => "key-event",
        }
    }

    /// The in-toto statement of this attestation.
    pub fn to_statement(&self) -> Statement {
        let (subject, predicate) = match self {
            Attestation::SourceSubmission(a) => (a.subjects(), to_value(&a.predicate)),
            Attestation::SourceReview(a) => (a.subjects(), to_value(&a.predicate)),
            Attestation::Build(a) => (a.subjects(), to_value(&a.predicate)),
            Attestation::KeyEvent(a) => (a.subjects(), a.predicate.to_value()),
        };
        Statement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject,
            predicate_type: self.predicate_type().to_owned(),
            predicate,
        }
    }

    /// The statement serialised as the DSSE payload (compact JSON; the bytes are what
    /// gets signed and are kept verbatim in the log).
    pub fn to_payload(&self) -> Vec<u8> {
        self.to_statement().to_json()
    }

    /// Signs the statement into a DSSE envelope with `keys` (in that order).
    pub fn sign(&self, keys: &[&SigningKey]) -> Result<Envelope, DsseError> {
        Envelope::sign(PAYLOAD_TYPE, &self.to_payload(), keys)
    }
}

impl From<SourceSubmission> for Attestation {
    fn from(a: SourceSubmission) -> Self {
        Attestation::SourceSubmission(a)
    }
}
impl From<SourceReview> for Attestation {
    fn from(a: SourceReview) -> Self {
        Attestation::SourceReview(a)
    }
}
impl From<Build> for Attestation {
    fn from(a: Build) -> Self {
        Attestation::Build(a)
    }
}
impl From<KeyEvent> for Attestation {
    fn from(a: KeyEvent) -> Self {
        Attestation::KeyEvent(a)
    }
}

impl Statement {
    /// Parses statement JSON: duplicate members and unknown fields are rejected.
    pub fn from_json(bytes: &[u8]) -> Result<Statement, StatementError> {
        // Path tracking costs allocations on every member; the same parse without
        // it accepts exactly the same input, so it runs first and the tracked
        // parse only explains a failure.
        if let Some(statement) = Self::from_json_untracked(bytes) {
            return Ok(statement);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize::<_, strict_json::NoDuplicateMembers>(&mut de)
            .map_err(|e| json_error("", e))?;
        de.end().map_err(|e| json_error_plain("statement", e))?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| json_error("", e))
    }

    /// [`from_json`](Self::from_json) without error paths: `None` on any error.
    fn from_json_untracked(bytes: &[u8]) -> Option<Statement> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        strict_json::NoDuplicateMembers::deserialize(&mut de).ok()?;
        de.end().ok()?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        Statement::deserialize(&mut de).ok()
    }

    /// Compact JSON with members in declaration order.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs, strings and a `Value` cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn to_value<T: Serialize>(t: &T) -> Value {
    // The predicate structs serialise to JSON objects infallibly (string keys only).
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// A predicate not yet typed: a parsed JSON tree, or its text.
pub(crate) trait UntypedPredicate {
    /// The predicate as `T`; error paths start with `predicate`.
    fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, StatementError>;
}

impl UntypedPredicate for Value {
    fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, StatementError> {
        parse_predicate(self)
    }
}

impl UntypedPredicate for RawValue {
    fn typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, StatementError> {
        // Untracked first, as in `Statement::from_json`.
        if let Ok(t) = serde_json::from_str(self.get()) {
            return Ok(t);
        }
        let mut de = serde_json::Deserializer::from_str(self.get());
        serde_path_to_error::deserialize(&mut de).map_err(|e| json_error("predicate", e))
    }
}

/// Deserialises a predicate object into its typed struct; error paths start with
/// `predicate`.
pub(crate) fn parse_predicate<T: serde::de::DeserializeOwned>(
    value: &Value,
) -> Result<T, StatementError> {
    // Untracked first, as in `Statement::from_json`.
    if let Ok(t) = T::deserialize(value) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(value).map_err(|e| json_error("predicate", e))
}

pub(crate) fn json_error(
    prefix: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> StatementError {
    let inner = e.path().to_string();
    let path = match (prefix.is_empty(), inner.as_str()) {
        (true, ".") => "statement".to_owned(),
        (true, _) => inner,
        (false, ".") => prefix.to_owned(),
        (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
        (false, p) => format!("{prefix}.{p}"),
    };
    StatementError::Json {
        path,
        message: e.into_inner().to_string(),
    }
}

fn json_error_plain(path: &str, e: serde_json::Error) -> StatementError {
    StatementError::Json {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(payload: &str) -> Envelope {
        Envelope {
            payload: payload.as_bytes().to_vec(),
            payload_type: PAYLOAD_TYPE.to_string(),
            signatures: Vec::new(),
        }
    }

    const REVIEW: &str = r#"{"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "https://git.example/acme/app", "digest": {
            "gitCommit": "0123456789abcdef0123456789abcdef01234567",
            "gitTree": "89abcdef0123456789abcdef0123456789abcdef",
            "dirHash": "95221ede299969f78a5fa9136d23f05b32dc9ae78184f9080a6412b25dce04e8"}}],
        "predicateType": "https://glassbox.dev/source-review/v1",
        "predicate": {"repository": "https://git.example/acme/app", "scope": "full",
            "verdict": "approved", "reviewedAt": "2025-02-03T09:30:00Z"}}"#;

    #[test]
    fn the_lean_parse_takes_a_valid_statement_itself() {
        let env = envelope(REVIEW);
        let (_, full) = Attestation::from_envelope(&env).unwrap();
        // Not through the fallback: the fallback would hide a lean parse that
        // never succeeds, and the log would pay for both.
        assert_eq!(Attestation::lean(&env), Some(full));
    }

    #[test]
    fn the_lean_parse_leaves_every_failure_to_the_full_parse() {
        let duplicate = REVIEW.replace(
            r#""scope": "full","#,
            r#""scope": "full", "scope": "full","#,
        );
        let unknown = REVIEW.replace(r#""scope": "full","#, r#""scope": "full", "extra": 1,"#);
        for text in [duplicate.as_str(), &unknown, "{}", "[", ""] {
            let env = envelope(text);
            assert_eq!(Attestation::lean(&env), None, "{text}");
            assert_eq!(
                Attestation::of_envelope(&env),
                Attestation::from_envelope(&env).map(|(_, a)| a)
            );
            assert!(Attestation::of_envelope(&env).is_err(), "{text}");
        }
    }
}
