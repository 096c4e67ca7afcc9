//! Server-rendered HTML pages for people who will never install the CLI:
//! customers checking an artifact, regulators browsing the history
//! (docs/web.md). Pages are plain HTML with one inline stylesheet and no
//! JavaScript; every string from the log goes through maud's escaping.
//!
//! Pages only *show* evidence. Whether an artifact is trustworthy is decided by
//! `glassbox verify` against the reader's own trust policy, never here.

pub mod artifact;
pub mod chart;
pub mod checkpoints;
pub mod decode;
pub mod entry;
pub mod home;
pub mod key;
pub mod layout;
pub mod search;
pub mod source;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use crate::http::error::AppError;
use crate::storage::StorageError;

/// Pages allow nothing but their own inline styles and same-origin forms and
/// links: no script can run even if escaping were ever bypassed.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A rendered page with the given status and security headers.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut resp = (status, markup.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// A 200 page.
pub fn ok(markup: Markup) -> Response {
    respond(StatusCode::OK, markup)
}

/// An error answered as an HTML page with the status the JSON API would use
/// (404 for unknown digests, keys and indexes; 400 for malformed input). Server
/// faults show only the generic text; their detail goes to the log.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<StorageError> for PageError {
    fn from(e: StorageError) -> Self {
        PageError(e.into())
    }
}

impl From<tokio::task::JoinError> for PageError {
    fn from(e: tokio::task::JoinError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let AppError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error rendering a page");
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            s if s.is_server_error() => "Server error",
            _ => "Request refused",
        };
        let body = html! {
            h1 { (title) }
            p role="alert" { (self.0.to_string()) }
            p { a href="/" { "Back to the log's home page" } " · " a href="/search" { "Search" } }
        };
        let mut resp = respond(status, layout::page(title, body));
        if let AppError::RateLimited { .. } = self.0 {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

/// The answer of every page handler.
pub type PageResult = Result<Response, PageError>;

/// Path parameters whose rejection is an HTML error page.
pub struct WebPath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S>
    for WebPath<T>
{
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        crate::http::extract::P::<T>::from_request_parts(parts, state)
            .await
            .map(|crate::http::extract::P(v)| WebPath(v))
            .map_err(PageError)
    }
}

/// Query parameters whose rejection is an HTML error page.
pub struct WebQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S>
    for WebQuery<T>
{
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        crate::http::extract::Q::<T>::from_request_parts(parts, state)
            .await
            .map(|crate::http::extract::Q(v)| WebQuery(v))
            .map_err(PageError)
    }
}
