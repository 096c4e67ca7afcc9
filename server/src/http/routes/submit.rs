//! `POST /api/v1/entries`: submit one DSSE envelope and wait for its receipt.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use glassbox_core::dsse::Envelope;

use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::log::admission::facts::facts;
use crate::log::admission::validate::{precheck, Prechecked};
use crate::log::sequencer::SubmitOutcome;

/// 201 with the receipt when newly logged, 200 with the existing receipt when
/// the identical envelope was logged before.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    check_content_type(&headers)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::BodyTooLarge {
                limit: state.limits.max_body_bytes,
            }
        } else {
            AppError::BadRequest(e.body_text())
        }
    })?;
    let envelope =
        Envelope::from_json(&body).map_err(|e| AppError::MalformedEnvelope(e.to_string()))?;
    // Parsing the statement and verifying its signatures (~85 µs of CPU for a
    // typical entry) runs on the runtime thread that read the request: handing
    // it to the blocking pool cost more in thread wake-ups than the work itself,
    // and a burst of thousands of such tasks queued the sequencer's own blocking
    // stages behind it. Large envelopes, whose parse and hash take milliseconds,
    // still go to the blocking pool. Either way the serial sequencer only
    // re-checks what a key event logged since could change (validate::precheck).
    let view = state.sequencer.registry_view();
    let check = move || {
        let facts = facts(&envelope)?;
        let prechecked = match &view {
            Some(view) => precheck(view, &envelope, &facts.attestation)?,
            None => Prechecked::default(),
        };
        let leaf = envelope.to_canonical_json();
        Ok::<_, AppError>((envelope, facts, leaf, prechecked))
    };
    let (envelope, facts, leaf, prechecked) = if body.len() <= INLINE_CHECK_BYTES {
        check()?
    } else {
        tokio::task::spawn_blocking(check).await??
    };
    // The body and the header values share the connection's 8 KiB read buffer,
    // which hyper replaces while the request is handled: held until the receipt,
    // every submission waiting for its batch would keep a read buffer of its own
    // alive beside the connection's new one. Everything below uses the parsed copy.
    drop((headers, body));
    // Only a signer whose signature verified is charged: a key ID is public, and
    // charging whoever an envelope names would let anyone spend a reviewer's or
    // an operator's budget with forged signatures (docs/threat-model.md).
    let now = Instant::now();
    for key_id in &prechecked.verified {
        state
            .signer_limiter
            .check(key_id, now)
            .map_err(|retry_after| AppError::RateLimited {
                what: format!("signer {key_id}"),
                retry_after,
            })?;
    }
    let outcome = state
        .sequencer
        .submit_prechecked(envelope, facts, leaf, prechecked.precheck)
        .await?;
    match outcome {
        SubmitOutcome::Created(r) => Ok((StatusCode::CREATED, r).into_response()),
        SubmitOutcome::Existing(r) => Ok((StatusCode::OK, r).into_response()),
    }
}

/// Envelopes up to this size are checked on the runtime thread (see [`submit`]).
const INLINE_CHECK_BYTES: usize = 64 * 1024;

/// A DSSE envelope is JSON: `application/json` or any `application/…+json` type
/// (e.g. `application/vnd.dsse.envelope+json`) is accepted, and so is no
/// `Content-Type` at all (plain HTTP clients); anything else is refused before
/// the body is read, so a form post or a file upload is never parsed as an entry.
fn check_content_type(headers: &HeaderMap) -> Result<(), AppError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let refuse = || {
        AppError::UnsupportedMediaType(format!(
            "content type {:?} is not JSON; send the envelope as application/json",
            String::from_utf8_lossy(value.as_bytes())
        ))
    };
    let text = value.to_str().map_err(|_| refuse())?;
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(refuse())
    }
}
