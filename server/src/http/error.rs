//! The one HTTP error type. Each variant maps to a status and a stable `code`
//! (docs/api.md lists them); 5xx details are logged, never sent.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use glassbox_core::api::{ErrorBody, ErrorDetail};
use glassbox_core::registry::RegistryError;

use crate::log::error::LogError;
use crate::storage::StorageError;

/// An error answered as `{"error": {"code", "message"}}` (docs/design.md §5).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The body is not a well-formed DSSE envelope.
    #[error("{0}")]
    MalformedEnvelope(String),
    /// The envelope's payload is not an acceptable Glassbox statement.
    #[error("{0}")]
    InvalidStatement(String),
    /// A query parameter or path segment is malformed.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnknownKey(String),
    #[error("{0}")]
    KeyRevoked(String),
    #[error("{0}")]
    RoleNotAllowed(String),
    #[error("{0}")]
    BadSignature(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the log's state (e.g. a key registered twice).
    #[error("{0}")]
    Conflict(String),
    /// The revocation would leave the log with no active operator key.
    #[error("{0}")]
    LastOperator(String),
    /// The envelope's statement is already logged, and the envelope carries a
    /// signer the logged copy lacks (crate::log::admission::dedupe).
    #[error("{0}")]
    StatementAlreadyLogged(String),
    /// The submission's `Content-Type` is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// The answer asked for is larger than one response may be.
    #[error("{0}")]
    AnswerTooLarge(String),
    #[error("rate limit exceeded for {what}; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited { what: String, retry_after: Duration },
    #[error("the submission queue is full; retry shortly")]
    Overloaded,
    /// A bounded resource (the export slots) is all in use.
    #[error("{what}; retry in {} s", retry_after.as_secs().max(1))]
    Busy {
        what: &'static str,
        retry_after: Duration,
    },
    #[error("the request took longer than {0:?}")]
    Timeout(Duration),
    /// The batch holding this submission could not be committed; nothing was logged.
    #[error("the log could not commit this submission; nothing was logged, retry")]
    CommitFailed,
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Storage failed in a way a retry may not meet (busy, connection lost);
    /// the detail is only logged.
    #[error("the log's storage is briefly unavailable; retry")]
    StorageUnavailable(String),
    /// Anything else that is the server's fault; the detail is only logged.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        use AppError::*;
        match self {
            MalformedEnvelope(_) | InvalidStatement(_) | BadRequest(_) => StatusCode::BAD_REQUEST,
            UnknownKey(_) | KeyRevoked(_) | RoleNotAllowed(_) | BadSignature(_) => {
                StatusCode::FORBIDDEN
            }
            NotFound(_) => StatusCode::NOT_FOUND,
            Conflict(_) | LastOperator(_) | StatementAlreadyLogged(_) => StatusCode::CONFLICT,
            BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AnswerTooLarge(_) => StatusCode::UNPROCESSABLE_ENTITY,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Overloaded
            | Busy { .. }
            | CommitFailed
            | ShuttingDown
            | Timeout(_)
            | StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use AppError::*;
        match self {
            MalformedEnvelope(_) => "malformed_envelope",
            InvalidStatement(_) => "invalid_statement",
            BadRequest(_) => "bad_request",
            UnknownKey(_) => "unknown_key",
            KeyRevoked(_) => "key_revoked",
            RoleNotAllowed(_) => "role_not_allowed",
            BadSignature(_) => "bad_signature",
            NotFound(_) => "not_found",
            Conflict(_) => "conflict",
            LastOperator(_) => "last_operator",
            StatementAlreadyLogged(_) => "statement_already_logged",
            BodyTooLarge { .. } => "body_too_large",
            AnswerTooLarge(_) => "answer_too_large",
            UnsupportedMediaType(_) => "unsupported_media_type",
            RateLimited { .. } => "rate_limited",
            Overloaded => "overloaded",
            Busy { .. } => "busy",
            Timeout(_) => "timeout",
            CommitFailed => "commit_failed",
            ShuttingDown => "shutting_down",
            StorageUnavailable(_) => "storage_unavailable",
            Internal(_) => "internal",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after, .. } | AppError::Busy { retry_after, .. } => {
                Some(retry_after.as_secs_f64().ceil().max(1.0) as u64)
            }
            AppError::Overloaded
            | AppError::CommitFailed
            | AppError::ShuttingDown
            | AppError::StorageUnavailable(_) => Some(1),
            // A timed-out submission may still be logged; retrying it is safe.
            AppError::Timeout(_) => Some(1),
            _ => None,
        }
    }
}

/// The log's errors as HTTP errors (docs/api.md, error codes): the one place
/// the domain meets status codes.
impl From<LogError> for AppError {
    fn from(e: LogError) -> Self {
        use LogError::*;
        match e {
            Statement(_) | StatementJson(_) | KindNotAccepted { .. } | StringTooLong { .. } => {
                AppError::InvalidStatement(e.to_string())
            }
            NotAnOperatorKey { .. } => AppError::UnknownKey(e.to_string()),
            LastOperator { .. } => AppError::LastOperator(e.to_string()),
            Registry(e) => registry_refusal(e),
            StatementAlreadyLogged { .. } => AppError::StatementAlreadyLogged(e.to_string()),
            Overloaded => AppError::Overloaded,
            ShuttingDown => AppError::ShuttingDown,
            CommitFailed => AppError::CommitFailed,
            Timeout(after) => AppError::Timeout(after),
            Refused {
                status,
                code,
                message,
            } => forwarded_refusal(status, &code, message),
            // A submission is idempotent, so a retry after a transient failure is
            // safe even when the entry was logged before the failure.
            Storage(ref s) if s.is_transient() => AppError::StorageUnavailable(e.to_string()),
            DuplicateLookup(ref s) if s.is_transient() => {
                AppError::StorageUnavailable(e.to_string())
            }
            Storage(_)
            | DuplicateLookup(_)
            | NoCheckpoint
            | EntryVanished { .. }
            | Append { .. }
            | InclusionProof { .. }
            | LeafNotJson { .. }
            | LeaderAnswer(_)
            | LeaderReceipt(_) => AppError::Internal(e.to_string()),
        }
    }
}

/// A registry refusal by the error code a verifier's reason corresponds to.
fn registry_refusal(e: RegistryError) -> AppError {
    use RegistryError::*;
    let message = e.to_string();
    match e {
        NotRegistered { .. } => AppError::UnknownKey(message),
        // The genesis rule: before it, no key has standing to sign anything.
        BadGenesis { .. } => AppError::UnknownKey(format!(
            "{message}; this log has no operator yet, so nothing else can be logged"
        )),
        Revoked { .. } | Compromised { .. } | Voided { .. } => AppError::KeyRevoked(message),
        WrongRole { .. } => AppError::RoleNotAllowed(message),
        BadSignature { .. } => AppError::BadSignature(message),
        Unsigned => AppError::MalformedEnvelope(message),
        InvalidPublicKey { .. } => AppError::InvalidStatement(message),
        AlreadyRegistered { .. } | AlreadyRevoked { .. } | UnknownSubjectKey { .. } => {
            AppError::Conflict(message)
        }
        // OutOfOrder is a sequencer bug; anything newer is refused too.
        _ => AppError::Internal(format!("registry: {message}")),
    }
}

/// The sequencing node's refusal of a forwarded submission, answered with the
/// same code; anything else is a batch that did not commit here.
fn forwarded_refusal(status: u16, code: &str, message: String) -> AppError {
    match code {
        "malformed_envelope" => AppError::MalformedEnvelope(message),
        "invalid_statement" => AppError::InvalidStatement(message),
        "bad_request" => AppError::BadRequest(message),
        "unknown_key" => AppError::UnknownKey(message),
        "key_revoked" => AppError::KeyRevoked(message),
        "role_not_allowed" => AppError::RoleNotAllowed(message),
        "bad_signature" => AppError::BadSignature(message),
        "conflict" => AppError::Conflict(message),
        "last_operator" => AppError::LastOperator(message),
        "statement_already_logged" => AppError::StatementAlreadyLogged(message),
        "overloaded" | "rate_limited" => AppError::Overloaded,
        "timeout" => AppError::Timeout(Duration::from_secs(0)),
        _ => {
            tracing::warn!(status, code, "the sequencer refused a forwarded submission");
            AppError::CommitFailed
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        if e.is_transient() {
            AppError::StorageUnavailable(format!("storage: {e}"))
        } else {
            AppError::Internal(format!("storage: {e}"))
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("blocking task: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            if let AppError::Internal(detail) = &self {
                tracing::error!(%detail, "internal error");
            } else if let AppError::StorageUnavailable(detail) = &self {
                tracing::warn!(%detail, "storage unavailable");
            } else {
                tracing::warn!(error = %self, "request failed");
            }
            // Only the generic Display text, never the logged detail.
            self.to_string()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_not_sent() {
        let resp = AppError::Internal("secret path /var/db".into()).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = format!("{:?}", resp.body());
        assert!(!text.contains("secret"));
    }

    fn busy() -> StorageError {
        StorageError::Database {
            source: "database is locked".into(),
            transient: true,
        }
    }

    #[test]
    fn a_transient_storage_failure_is_503_with_retry_after_and_no_detail() {
        let resp = AppError::from(busy()).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert!(!format!("{:?}", resp.body()).contains("locked"));
        let lookup = AppError::from(LogError::DuplicateLookup(std::sync::Arc::new(busy())));
        assert_eq!(lookup.code(), "storage_unavailable");
    }

    #[test]
    fn a_fatal_storage_failure_stays_internal() {
        let e = AppError::from(StorageError::fatal("disk I/O error"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let lookup = AppError::from(LogError::DuplicateLookup(std::sync::Arc::new(
            StorageError::Corrupt("entry 3".into()),
        )));
        assert_eq!(lookup.code(), "internal");
    }

    #[tokio::test]
    async fn the_body_is_the_core_error_body() {
        let resp = AppError::BadRequest("limit must be at least 1".into()).into_response();
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(
            &body[..],
            br#"{"error":{"code":"bad_request","message":"limit must be at least 1"}}"#
        );
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let resp = AppError::RateLimited {
            what: "ip".into(),
            retry_after: Duration::from_millis(1500),
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn a_forwarded_refusal_keeps_the_leaders_code_and_message() {
        let e = AppError::from(LogError::Refused {
            status: 403,
            code: "unknown_key".into(),
            message: "key abc is not registered".into(),
        });
        assert_eq!(e.code(), "unknown_key");
        assert_eq!(e.to_string(), "key abc is not registered");
        let unreadable = LogError::Refused {
            status: 500,
            code: String::new(),
            message: String::new(),
        };
        assert_eq!(AppError::from(unreadable).code(), "commit_failed");
    }

    #[test]
    fn a_later_copy_with_more_signers_is_a_conflict() {
        let e = AppError::from(LogError::StatementAlreadyLogged {
            index: 7,
            added: vec!["abc".into()],
        });
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.code(), "statement_already_logged");
        assert!(e.to_string().contains("index 7"));
    }
}
