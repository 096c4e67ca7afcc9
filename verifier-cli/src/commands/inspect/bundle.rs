//! Receipts and bundles (docs/design.md §5): each entry's envelope and its inclusion proof.

use anyhow::{bail, Context};
use glassbox_core::bundle::{Bundle, BundleIndex, Receipt};
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{IndexCommitment, IndexKey};
use glassbox_core::note::Note;
use glassbox_core::tlog_proof::TlogProof;

use super::{envelope, note, Keys, Tally};
use crate::doc::Doc;

pub fn inspect_receipt(
    value: serde_json::Value,
    keys: &Keys,
    tally: &mut Tally,
) -> anyhow::Result<Doc> {
    let receipt: Receipt = serde_json::from_value(value).context("invalid receipt")?;
    Ok(Doc::map()
        .with("type", "receipt")
        .with_all(describe_receipt(&receipt, keys, tally)))
}

pub fn inspect_bundle(
    value: serde_json::Value,
    keys: &Keys,
    tally: &mut Tally,
) -> anyhow::Result<Doc> {
    let bundle: Bundle = serde_json::from_value(value).context("invalid bundle")?;
    if bundle.media_type != bundle.expected_media_type() {
        bail!(
            "bundle mediaType {:?} does not match its contents; expected {}",
            bundle.media_type,
            bundle.expected_media_type()
        );
    }
    let checkpoint = match Note::parse(bundle.checkpoint.as_bytes()) {
        Ok(n) => note::describe_note(&n, keys, tally),
        Err(e) => Doc::from(format!("INVALID: {e}")),
    };
    let receipts = |list: &[Receipt], tally: &mut Tally| -> Vec<Doc> {
        list.iter()
            .map(|r| Doc::map().with_all(describe_receipt(r, keys, tally)))
            .collect()
    };
    let entries = receipts(&bundle.entries, tally);
    let key_events = receipts(&bundle.key_events, tally);
    let doc = Doc::map()
        .with("type", "bundle")
        .with("mediaType", bundle.media_type.as_str())
        .with("artifact", bundle.artifact.as_str())
        .with("checkpoint", checkpoint)
        .with("entries", entries)
        .with("keyEvents", key_events);
    Ok(match &bundle.index {
        Some(index) => doc.with("index", describe_index(index, keys, tally)),
        None => doc,
    })
}

/// A version 2 bundle's completeness evidence: the commitment (its receipt and what
/// it commits to) and each lookup, checked against the committed root. Whether the
/// lookups cover what a verdict needs, and match the entries, is `verify`'s job.
fn describe_index(index: &BundleIndex, keys: &Keys, tally: &mut Tally) -> Doc {
    let commitment = Envelope::from_value(&index.commitment.entry)
        .ok()
        .and_then(|e| IndexCommitment::parse(&e).ok());
    let mut described = Doc::map().with_all(describe_receipt(&index.commitment, keys, tally));
    match &commitment {
        Some(c) => {
            described = described
                .with("covers", c.size)
                .with("root", hex::encode(c.root))
                .with("keys", c.keys);
        }
        None => {
            tally.failed += 1;
            described = described.with("commits", "FAILED: not an index commitment");
        }
    }
    let lookups: Vec<Doc> = index
        .lookups
        .iter()
        .map(|lookup| {
            let check = match (&commitment, lookup.key.parse::<IndexKey>()) {
                (None, _) => "not checked: no commitment".to_owned(),
                (_, Err(e)) => {
                    tally.failed += 1;
                    format!("FAILED: {e}")
                }
                (Some(c), Ok(key)) => {
                    match lookup
                        .proof
                        .verify_list(&c.root, &key.hash(), &lookup.indices)
                    {
                        Ok(()) => {
                            tally.verified += 1;
                            "verified: the complete list at the committed root".to_owned()
                        }
                        Err(e) => {
                            tally.failed += 1;
                            format!("FAILED: {e}")
                        }
                    }
                }
            };
            Doc::map()
                .with("key", lookup.key.as_str())
                .with("entries", lookup.indices.len() as u64)
                .with("proof", check)
        })
        .collect();
    Doc::map()
        .with("commitment", described)
        .with("lookups", lookups)
}

fn describe_receipt(receipt: &Receipt, keys: &Keys, tally: &mut Tally) -> Vec<(String, Doc)> {
    let mut fields = vec![("index".to_owned(), Doc::from(receipt.index))];
    let envelope = Envelope::from_value(&receipt.entry);
    match &envelope {
        Ok(env) => fields.push((
            "entry".to_owned(),
            Doc::map().with_all(envelope::describe(env, keys, tally)),
        )),
        Err(e) => fields.push((
            "entry".to_owned(),
            Doc::from(format!("INVALID envelope: {e}")),
        )),
    }
    let proof = match TlogProof::parse(receipt.tlog_proof.as_bytes()) {
        Ok(proof) => {
            if proof.index != receipt.index {
                tally.failed += 1;
                fields.push((
                    "indexMismatch".to_owned(),
                    Doc::from(format!(
                        "FAILED: receipt index {} but proof index {}",
                        receipt.index, proof.index
                    )),
                ));
            }
            let leaf = envelope.as_ref().ok().map(Envelope::to_canonical_json);
            note::describe_proof(&proof, leaf.as_deref(), keys, tally)
        }
        Err(e) => Doc::from(format!("INVALID: {e}")),
    };
    fields.push(("tlogProof".to_owned(), proof));
    fields
}
