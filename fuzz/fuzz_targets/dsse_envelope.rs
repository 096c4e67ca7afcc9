//! DSSE envelope JSON (`dsse::Envelope::from_json`): whatever parses must give a
//! canonical leaf that parses back to the same envelope, is its own RFC 8785 form,
//! and matches the receipt path (`from_value`).
#![no_main]

use glassbox_core::dsse::Envelope;
use glassbox_core::jcs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::from_json(data) else {
        return;
    };
    let leaf = envelope.to_canonical_json();
    let reparsed =
        Envelope::from_json(&leaf).expect("the canonical leaf of a parsed envelope must parse");
    assert_eq!(
        reparsed, envelope,
        "leaf does not parse back to the same envelope"
    );
    assert_eq!(
        reparsed.to_canonical_json(),
        leaf,
        "canonical leaf is not stable"
    );

    let value: serde_json::Value = serde_json::from_slice(&leaf).expect("the leaf must be JSON");
    let jcs_of_leaf = jcs::canonicalize(&value).expect("the leaf must have an RFC 8785 form");
    assert_eq!(
        jcs_of_leaf, leaf,
        "the leaf is not the RFC 8785 form of the envelope object"
    );

    let via_value = Envelope::from_value(&envelope.to_value()).expect("to_value must parse back");
    assert_eq!(
        via_value, envelope,
        "to_value/from_value round trip changed the envelope"
    );
    let input_value: serde_json::Value =
        serde_json::from_slice(data).expect("accepted input must be JSON");
    assert_eq!(
        Envelope::from_value(&input_value).as_ref(),
        Ok(&envelope),
        "from_value disagrees with from_json on the same document"
    );

    let key = glassbox_fuzz::peter();
    for i in 0..envelope.signatures.len() {
        let _ = envelope.verify_signature(i, key.public_key());
    }
});
