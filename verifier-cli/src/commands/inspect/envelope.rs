//! DSSE envelopes: signatures by key ID, and the in-toto statement they carry.

use anyhow::Context;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::Attestation;

use super::{Keys, Tally, NOT_CHECKED};
use crate::doc::Doc;

pub fn inspect(value: &serde_json::Value, keys: &Keys, tally: &mut Tally) -> anyhow::Result<Doc> {
    let envelope = Envelope::from_value(value).context("invalid DSSE envelope")?;
    Ok(Doc::map()
        .with("type", "DSSE envelope")
        .with_all(describe(&envelope, keys, tally)))
}

/// The fields of an envelope (without a `type` line), for embedding in receipts.
pub fn describe(envelope: &Envelope, keys: &Keys, tally: &mut Tally) -> Vec<(String, Doc)> {
    let signatures: Vec<Doc> = envelope
        .signatures
        .iter()
        .enumerate()
        .map(|(i, sig)| {
            let status = match keys.participant(&sig.keyid) {
                Some(key) => tally.record(
                    envelope
                        .verify_signature(i, key)
                        .map(|()| "verified".to_owned()),
                ),
                None => NOT_CHECKED.to_owned(),
            };
            Doc::map()
                .with("keyid", sig.keyid.as_str())
                .with("status", status)
        })
        .collect();
    let mut fields = vec![
        (
            "payloadType".to_owned(),
            Doc::from(envelope.payload_type.as_str()),
        ),
        ("signatures".to_owned(), Doc::from(signatures)),
    ];
    match Attestation::from_envelope(envelope) {
        Ok((statement, attestation)) => {
            fields.push(("kind".to_owned(), Doc::from(attestation.kind())));
            let statement = serde_json::to_value(&statement).unwrap_or_default();
            fields.push(("statement".to_owned(), Doc::from(&statement)));
        }
        Err(e) => {
            fields.push((
                "kind".to_owned(),
                Doc::from(format!("INVALID statement: {e}")),
            ));
            let payload = match serde_json::from_slice::<serde_json::Value>(&envelope.payload) {
                Ok(v) => Doc::from(&v),
                Err(_) => Doc::from(String::from_utf8_lossy(&envelope.payload).into_owned()),
            };
            fields.push(("payload".to_owned(), payload));
        }
    }
    fields
}
