//! HTTP handlers, one file per resource (docs/design.md §5, docs/api.md).

pub mod bundle;
pub mod checkpoints;
pub mod entries;
pub mod export;
pub mod health;
pub mod index;
pub mod keys;
pub mod proofs;
pub mod search;
pub mod submit;
pub mod tiles;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::log::receipt::ReceiptJson;

/// A receipt is answered as its JSON, byte for byte.
impl IntoResponse for ReceiptJson {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.json,
        )
            .into_response()
    }
}
