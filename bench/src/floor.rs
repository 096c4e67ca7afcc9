//! The ingestion floor: a server that does only what no log can skip per
//! submission on this stack — read the HTTP request with axum and hyper, parse
//! the DSSE envelope, check its signatures with the same strict Ed25519 check as
//! the log — and answers with a body the size of a real receipt. Nothing is
//! sequenced, stored, hashed into a tree or proved.
//!
//! Driven by the same load generator as `glassbox-server`, it bounds what any
//! log on this machine could sustain; the log's own work per entry is the
//! difference in server CPU between the two rows. It runs as this binary's hidden
//! `floor-server` mode, a process of its own so its CPU is counted like the log's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ed25519_dalek::VerifyingKey;
use glassbox_core::digest::key_id_hex;
use glassbox_core::dsse::Envelope;

use crate::envelopes;

/// Builder keys the load is signed with (`log::register_builders`).
pub const BUILDER_KEYS: u64 = 16;

struct Floor {
    keys: HashMap<String, VerifyingKey>,
    response: Bytes,
}

/// The envelope's problem, if any: it must parse and carry only valid
/// signatures by the builder keys.
fn check(keys: &HashMap<String, VerifyingKey>, body: &[u8]) -> Result<(), String> {
    let envelope = Envelope::from_json(body).map_err(|e| e.to_string())?;
    check_signatures(keys, &envelope)
}

/// Every signature of `envelope` is by a builder key and valid, and there is one.
fn check_signatures(
    keys: &HashMap<String, VerifyingKey>,
    envelope: &Envelope,
) -> Result<(), String> {
    if envelope.signatures.is_empty() {
        return Err("no signatures".into());
    }
    for (i, s) in envelope.signatures.iter().enumerate() {
        let key = keys
            .get(&s.keyid)
            .ok_or_else(|| format!("unknown key {}", s.keyid))?;
        envelope
            .verify_signature(i, key)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn submit(State(floor): State<Arc<Floor>>, body: Bytes) -> Response {
    match check(&floor.keys, &body) {
        Ok(()) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            floor.response.clone(),
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

fn builder_keys() -> HashMap<String, VerifyingKey> {
    (0..BUILDER_KEYS)
        .map(|i| {
            let key = envelopes::key(500 + i).verifying_key();
            (key_id_hex(&key), key)
        })
        .collect()
}

/// A JSON body of exactly `bytes` bytes (at least the braces and one member).
fn response_body(bytes: usize) -> Bytes {
    let frame = r#"{"floor":""}"#.len();
    let pad = "x".repeat(bytes.saturating_sub(frame));
    Bytes::from(format!(r#"{{"floor":"{pad}"}}"#))
}

/// `glassbox-bench floor-server`: serve on 127.0.0.1, an ephemeral port, until
/// killed; prints `listening on http://ADDR` like glassbox-server.
pub fn serve(response_bytes: usize) -> Result<()> {
    // The same runtime as glassbox-server's `#[tokio::main]`.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let floor = Arc::new(Floor {
            keys: builder_keys(),
            response: response_body(response_bytes),
        });
        let app = Router::new()
            .route("/api/v1/entries", post(submit))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(floor);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// The strict signature check alone, in this process on one core: µs per
/// envelope over `bodies` (parse excluded).
pub fn signature_check_us(bodies: &[Bytes]) -> Result<f64> {
    let keys = builder_keys();
    let envelopes = bodies
        .iter()
        .map(|b| Envelope::from_json(b))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    for envelope in &envelopes {
        check_signatures(&keys, envelope).map_err(anyhow::Error::msg)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / envelopes.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_refuses_what_the_log_would_refuse_for_its_signature() {
        let keys = builder_keys();
        let signers: Vec<_> = (0..BUILDER_KEYS).map(|i| envelopes::key(500 + i)).collect();
        let good = envelopes::builds(&signers, 0, 1, 0).unwrap().remove(0);
        assert_eq!(check(&keys, &good.to_canonical_json()), Ok(()));

        let mut forged = good.clone();
        forged.payload.push(b' ');
        assert!(check(&keys, &forged.to_canonical_json()).is_err());

        let stranger = envelopes::builds(&[envelopes::key(7)], 0, 1, 0)
            .unwrap()
            .remove(0);
        let err = check(&keys, &stranger.to_canonical_json()).unwrap_err();
        assert!(err.contains("unknown key"), "{err}");

        assert!(check(&keys, b"{\"payload\":").is_err());
    }

    #[test]
    fn the_response_has_the_asked_size_and_is_json() {
        for n in [0, 12, 13, 2600] {
            let body = response_body(n);
            assert_eq!(body.len(), n.max(12));
            serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        }
    }
}
