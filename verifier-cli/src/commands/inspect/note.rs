//! Signed notes, checkpoints (C2SP tlog-checkpoint) and tlog-proofs (C2SP tlog-proof).

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::note::{Note, NoteVerifier};
use glassbox_core::tlog_proof::TlogProof;

use super::{hex_id, Keys, Tally, VKey, NOT_CHECKED};
use crate::doc::Doc;

pub fn inspect_note(bytes: &[u8], keys: &Keys, tally: &mut Tally) -> anyhow::Result<Doc> {
    let note = Note::parse(bytes)?;
    Ok(describe_note(&note, keys, tally))
}

/// A checkpoint when the note text is one, else a generic note.
pub fn describe_note(note: &Note, keys: &Keys, tally: &mut Tally) -> Doc {
    let doc = match Checkpoint::parse(&note.text) {
        Ok(cp) => Doc::map()
            .with("type", "signed checkpoint")
            .with("origin", cp.origin.as_str())
            .with("size", cp.size)
            .with("root", hex::encode(cp.root))
            .with("rootBase64", STANDARD.encode(cp.root))
            .with(
                "extensions",
                cp.extensions
                    .iter()
                    .map(|e| Doc::from(e.as_str()))
                    .collect::<Vec<_>>(),
            ),
        Err(_) => Doc::map()
            .with("type", "signed note")
            .with("text", note.text.as_str()),
    };
    doc.with("signatures", signatures(note, keys, tally))
}

fn signatures(note: &Note, keys: &Keys, tally: &mut Tally) -> Vec<Doc> {
    note.signatures
        .iter()
        .map(|sig| {
            let status = match keys.vkey(&sig.name, sig.key_id) {
                Some(VKey::Log(k)) => {
                    tally.record(if k.verify(note.text.as_bytes(), &sig.signature) {
                        Ok("verified".to_owned())
                    } else {
                        Err("signature does not verify")
                    })
                }
                Some(VKey::Cosigner(k)) => tally.record(
                    k.verify_timestamped(note.text.as_bytes(), &sig.signature)
                        .map(|ts| format!("verified cosignature, timestamp {}", unix_time(ts))),
                ),
                None => NOT_CHECKED.to_owned(),
            };
            Doc::map()
                .with("name", sig.name.as_str())
                .with("keyId", hex_id(sig.key_id))
                .with("status", status)
        })
        .collect()
}

fn unix_time(ts: u64) -> String {
    i64::try_from(ts)
        .ok()
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ts.to_string())
}

pub fn inspect_tlog_proof(bytes: &[u8], keys: &Keys, tally: &mut Tally) -> anyhow::Result<Doc> {
    let proof = TlogProof::parse(bytes).context("invalid tlog-proof")?;
    Ok(describe_proof(&proof, None, keys, tally))
}

/// A tlog-proof; with `leaf` (the entry's canonical bytes), its inclusion is checked
/// against every `--vkey` log key named like the checkpoint's origin.
pub fn describe_proof(
    proof: &TlogProof,
    leaf: Option<&[u8]>,
    keys: &Keys,
    tally: &mut Tally,
) -> Doc {
    let checkpoint = match Note::parse(&proof.checkpoint) {
        Ok(note) => describe_note(&note, keys, tally),
        Err(e) => Doc::from(format!("INVALID: {e}")),
    };
    let origin = Note::parse(&proof.checkpoint)
        .ok()
        .and_then(|n| Checkpoint::parse(&n.text).ok())
        .map(|cp| cp.origin);
    let inclusion = match (leaf, origin) {
        (None, _) => "not checked (the entry is not in this file; inspect its receipt)".to_owned(),
        (Some(_), None) => "not checked (invalid checkpoint)".to_owned(),
        (Some(leaf), Some(origin)) => {
            let log_keys = keys.log_keys(&origin);
            if log_keys.is_empty() {
                format!("not checked (no --vkey for log {origin:?})")
            } else {
                let results: Vec<String> = log_keys
                    .into_iter()
                    .map(|k| {
                        tally.record(
                            proof
                                .verify(leaf, k)
                                .map(|cp| format!("verified in tree of size {}", cp.size)),
                        )
                    })
                    .collect();
                results.join("; ")
            }
        }
    };
    Doc::map()
        .with("type", "tlog-proof")
        .with("index", proof.index)
        .with_opt("extra", proof.extra.as_ref().map(|e| STANDARD.encode(e)))
        .with(
            "hashes",
            proof
                .hashes
                .iter()
                .map(|h| Doc::from(hex::encode(h)))
                .collect::<Vec<_>>(),
        )
        .with("inclusion", inclusion)
        .with("checkpoint", checkpoint)
}
