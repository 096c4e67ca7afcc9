//! Offline verification bundles (`bundle::Bundle` via serde_json): a bundle that parses
//! must serialise back to JSON that parses equal; every part a verifier reads from it
//! (entries, tlog-proofs, checkpoint, artifact digest) is then parsed too.
#![no_main]

use glassbox_core::bundle::Bundle;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::Attestation;
use glassbox_core::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = serde_json::from_slice::<Bundle>(data) else {
        return;
    };
    let json = serde_json::to_vec(&bundle).expect("a bundle serialises");
    let reparsed: Bundle = serde_json::from_slice(&json).expect("serialised bundle must parse");
    assert_eq!(reparsed, bundle, "bundle JSON round trip changed it");

    let _ = bundle.artifact.parse::<Sha256Digest>();
    let log = glassbox_fuzz::log_key();
    let _ = SignedCheckpoint::open(bundle.checkpoint.as_bytes(), &log);
    for receipt in bundle.entries.iter().chain(&bundle.key_events) {
        let Ok(envelope) = Envelope::from_value(&receipt.entry) else {
            continue;
        };
        let _ = Attestation::from_envelope(&envelope);
        if let Ok(proof) = TlogProof::parse(receipt.tlog_proof.as_bytes()) {
            let _ = proof.verify(&envelope.to_canonical_json(), &log);
        }
    }
});
