//! C2SP tlog-cosignature v1: the 72-byte `timestamped_signature`
//! (`cosignature::TimestampedSignature::from_bytes`), cosigner vkeys
//! (`CosignatureVerifierKey::parse`) and cosignature verification over fuzzed notes.
#![no_main]

use glassbox_core::cosignature::{
    verify_cosignatures, CosignatureVerifierKey, TimestampedSignature, MAX_TIMESTAMP,
};
use glassbox_core::note::Note;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ts) = TimestampedSignature::from_bytes(data) {
        assert!(ts.timestamp <= MAX_TIMESTAMP);
        assert_eq!(
            &ts.to_bytes()[..],
            data,
            "timestamped_signature does not round-trip"
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = CosignatureVerifierKey::parse(text) {
            let shown = key.to_string();
            assert_eq!(
                CosignatureVerifierKey::parse(&shown).as_ref(),
                Ok(&key),
                "cosigner vkey Display does not parse back"
            );
            // Only the key ID's hex case may differ from the input.
            assert!(shown.eq_ignore_ascii_case(text) && shown.len() == text.len());
        }
    }
    if let Ok(note) = Note::parse(data) {
        let witness = glassbox_fuzz::witness();
        if let Ok(verified) = verify_cosignatures(&note, &[&witness]) {
            for v in verified {
                assert_eq!(v.name, witness.name());
                assert!(v.timestamp <= MAX_TIMESTAMP);
            }
        }
    }
});
