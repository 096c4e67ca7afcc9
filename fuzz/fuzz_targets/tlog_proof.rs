//! C2SP tlog-proof (`tlog_proof::TlogProof::parse`): an accepted proof re-encodes byte
//! for byte and parses back equal; verification against the log key never panics.
#![no_main]

use glassbox_core::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

/// The leaf the `index1.proof` seed proves (the canonical review envelope).
const SEED_LEAF: &[u8] = include_bytes!("../seeds/tlog_proof/leaf.bin");

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = TlogProof::parse(data) else {
        return;
    };
    let text = proof.to_text();
    assert_eq!(
        text,
        String::from_utf8_lossy(data),
        "a parsed tlog-proof does not re-encode byte for byte"
    );
    assert_eq!(TlogProof::parse(text.as_bytes()).as_ref(), Ok(&proof));
    let log = glassbox_fuzz::log_key();
    for leaf in [SEED_LEAF, data] {
        if let Ok(checkpoint) = proof.verify(leaf, &log) {
            assert!(
                proof.index < checkpoint.size,
                "verified an index outside the tree"
            );
        }
    }
});
