//! The one HTTP error type. Each variant maps to a status and a stable `code`
//! (docs/api.md lists them); 5xx details are logged, never sent.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::storage::StorageError;

/// An error answered as `{"error": {"code", "message"}}` (DESIGN §5).
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
    /// The envelope's statement is already logged, and the envelope carries a
    /// signer the logged copy lacks (crate::log::admission::dedupe).
    #[error("{0}")]
    StatementAlreadyLogged(String),
    /// The submission's `Content-Type` is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body exceeds {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("rate limit exceeded for {what}; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited { what: String, retry_after: Duration },
    #[error("the submission queue is full; retry shortly")]
    Overloaded,
    #[error("the request took longer than {0:?}")]
    Timeout(Duration),
    /// The batch holding this submission could not be committed; nothing was logged.
    #[error("the log could not commit this submission; nothing was logged, retry")]
    CommitFailed,
    #[error("the server is shutting down")]
    ShuttingDown,
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
            Conflict(_) | StatementAlreadyLogged(_) => StatusCode::CONFLICT,
            BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Overloaded | CommitFailed | ShuttingDown | Timeout(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
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
            StatementAlreadyLogged(_) => "statement_already_logged",
            BodyTooLarge { .. } => "body_too_large",
            UnsupportedMediaType(_) => "unsupported_media_type",
            RateLimited { .. } => "rate_limited",
            Overloaded => "overloaded",
            Timeout(_) => "timeout",
            CommitFailed => "commit_failed",
            ShuttingDown => "shutting_down",
            Internal(_) => "internal",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after, .. } => {
                Some(retry_after.as_secs_f64().ceil().max(1.0) as u64)
            }
            AppError::Overloaded | AppError::CommitFailed | AppError::ShuttingDown => Some(1),
            // A timed-out submission may still be logged; retrying it is safe.
            AppError::Timeout(_) => Some(1),
            _ => None,
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        AppError::Internal(format!("storage: {e}"))
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
            } else {
                tracing::warn!(error = %self, "request failed");
            }
            // Only the generic Display text, never the logged detail.
            self.to_string()
        } else {
            self.to_string()
        };
        let body = serde_json::json!({"error": {"code": self.code(), "message": message}});
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
}
