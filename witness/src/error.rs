//! Every way `add-checkpoint` can refuse, and the status C2SP tlog-witness
//! §add-checkpoint assigns to it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use glassbox_core::api::add_checkpoint::BodyError;

/// Content type of a 409 body carrying the stored size (tlog-witness §add-checkpoint).
pub const TLOG_SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why a checkpoint was not cosigned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// 400: the body does not follow the request grammar.
    #[error("malformed request: {0}")]
    Malformed(#[from] BodyError),
    /// 400: the checkpoint is not a signed note holding a C2SP checkpoint.
    #[error("malformed checkpoint: {reason}")]
    MalformedCheckpoint { reason: String },
    /// 404: no log with this origin is configured.
    #[error("unknown log origin {origin:?}")]
    UnknownOrigin { origin: String },
    /// 403: no signature by a configured key of the log verifies (or one is invalid).
    #[error("the checkpoint is not validly signed by log {origin}: {reason}")]
    BadSignature { origin: String, reason: String },
    /// 400: the old size is larger than the checkpoint's size.
    #[error("old size {old} is larger than the checkpoint size {size}")]
    OldAfterNew { old: u64, size: u64 },
    /// 409 with a `text/x.tlog.size` body: the client's old size is not the size
    /// this witness last cosigned.
    #[error("old size {old} does not match the latest cosigned size {stored}")]
    SizeConflict { old: u64, stored: u64 },
    /// 409: same size as the stored checkpoint, different root — a fork.
    #[error("a checkpoint of size {size} with a different root was already cosigned")]
    RootConflict { size: u64 },
    /// 422: the consistency proof does not verify against the stored root.
    #[error("the consistency proof from {old} to {size} does not verify: {reason}")]
    BadProof { old: u64, size: u64, reason: String },
    /// 500: the state could not be read or written; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl AddError {
    /// The HTTP status the spec assigns.
    pub fn status(&self) -> StatusCode {
        match self {
            AddError::Malformed(_)
            | AddError::MalformedCheckpoint { .. }
            | AddError::OldAfterNew { .. } => StatusCode::BAD_REQUEST,
            AddError::UnknownOrigin { .. } => StatusCode::NOT_FOUND,
            AddError::BadSignature { .. } => StatusCode::FORBIDDEN,
            AddError::SizeConflict { .. } | AddError::RootConflict { .. } => StatusCode::CONFLICT,
            AddError::BadProof { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AddError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AddError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AddError::SizeConflict { stored, .. } => (
                status,
                [(header::CONTENT_TYPE, TLOG_SIZE_CONTENT_TYPE)],
                format!("{stored}\n"),
            )
                .into_response(),
            AddError::Internal(detail) => {
                tracing::error!(%detail, "add-checkpoint failed");
                (status, "internal error\n").into_response()
            }
            _ => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{self}\n"),
            )
                .into_response(),
        }
    }
}
