//! A statement is logged once, at its first position (docs/design.md §6a).
//!
//! Two envelopes carry the same statement when their DSSE PAE is the same
//! (`Envelope::statement_digest`), whatever their signatures. The verifier
//! counts a statement only at its first position, so a later copy is never
//! evidence of anything; the sequencer does not log one. What a re-submission
//! of a logged statement is answered depends on its signers:
//!
//! * none the first copy lacks (the identical envelope, its signatures
//!   reordered, or a subset of them): the first copy's receipt, as for any
//!   duplicate (200);
//! * a signer the first copy lacks: refused (409), because logging it would
//!   make that signature look counted when it is not, and answering the first
//!   copy would tell the submitter their co-signature is on record when it is
//!   not (docs/decisions.md, "A statement is logged once").
//!
//! Either answer comes after the envelope's signatures are checked
//! ([`check_signatures`]): a tampered copy of a logged statement is refused as
//! tampered, as it would be if the statement were new.

use glassbox_core::dsse::Envelope;
use glassbox_core::registry::{Registry, RegistryError};

use crate::log::error::LogError;
use crate::storage::FirstCopy;

/// Refuse `envelope` when a signature by a key `registry` knows does not verify
/// (403 `bad_signature`, as at admission). A key the registry does not know
/// cannot have signed a logged statement, so its signer is one the first copy
/// lacks, which [`resubmission`] refuses.
pub fn check_signatures(registry: &Registry, envelope: &Envelope) -> Result<(), LogError> {
    for (i, sig) in envelope.signatures.iter().enumerate() {
        if let Some(key) = registry.get(&sig.keyid) {
            envelope.verify_signature(i, &key.public_key).map_err(|_| {
                LogError::from(RegistryError::BadSignature {
                    key_id: sig.keyid.clone(),
                })
            })?;
        }
    }
    Ok(())
}

/// The index to answer a submission of `envelope` with, whose statement is
/// already logged at `first`; or why it is refused.
pub fn resubmission(envelope: &Envelope, first: &FirstCopy) -> Result<u64, LogError> {
    let added: Vec<String> = envelope
        .signatures
        .iter()
        .map(|s| s.keyid.as_str())
        .filter(|k| !first.signers.iter().any(|f| f == k))
        .map(str::to_owned)
        .collect();
    if added.is_empty() {
        return Ok(first.index);
    }
    Err(LogError::StatementAlreadyLogged {
        index: first.index,
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn signed(keys: &[&SigningKey]) -> Envelope {
        Envelope::sign("application/vnd.in-toto+json", b"{\"s\":1}", keys).unwrap()
    }

    fn first_signed_by(keys: &[&SigningKey]) -> FirstCopy {
        FirstCopy {
            index: 7,
            signers: signed(keys)
                .signatures
                .into_iter()
                .map(|s| s.keyid)
                .collect(),
        }
    }

    /// The vectors of docs/formats/attestations.md, "Statement digest": DSSE's
    /// PAE example, and the page's example envelope.
    #[test]
    fn the_statement_digest_is_sha256_of_the_pae_as_documented() {
        let hello =
            Envelope::sign("http://example.com/HelloWorld", b"hello world", &[&key(1)]).unwrap();
        assert_eq!(
            hex::encode(hello.statement_digest()),
            "217751fac2c4f14edb2c9297fbc34abcb016ba88e74757e875ec4ac16fb6b6a1"
        );
        let page = include_str!("../../../../docs/formats/attestations.md");
        let example = page
            .lines()
            .find(|l| l.starts_with("{\"payload\":\""))
            .expect("the page's example envelope");
        assert_eq!(
            hex::encode(
                Envelope::from_json(example.as_bytes())
                    .unwrap()
                    .statement_digest()
            ),
            "2b0af8628516f7347719e0fc72987b1301c95e7ccfc50234a564d5b95393c03c"
        );
        assert!(page.contains("2b0af8628516f7347719e0fc72987b1301c95e7ccfc50234a564d5b95393c03c"));
    }

    #[test]
    fn reordered_or_fewer_signatures_get_the_first_copy() {
        let (a, b, c) = (key(1), key(2), key(3));
        let first = first_signed_by(&[&a, &b, &c]);
        for keys in [vec![&a, &b, &c], vec![&c, &a, &b], vec![&b], vec![&c, &a]] {
            assert_eq!(resubmission(&signed(&keys), &first).unwrap(), 7);
        }
    }

    #[test]
    fn an_added_signer_is_refused_and_named() {
        let (a, b, c) = (key(1), key(2), key(3));
        let first = first_signed_by(&[&a, &b]);
        let more = signed(&[&b, &c, &a]);
        let e = resubmission(&more, &first).unwrap_err();
        match &e {
            LogError::StatementAlreadyLogged { index, added } => {
                assert_eq!(*index, 7);
                assert_eq!(added, &[more.signatures[1].keyid.clone()]);
            }
            other => panic!("{other:?}"),
        }
        let text = e.to_string();
        assert!(text.contains("index 7"), "{text}");
        assert!(text.contains(&more.signatures[1].keyid), "{text}");
        assert!(!text.contains(&more.signatures[0].keyid), "{text}");
    }
}
