//! Index lookup proofs (`index::IndexProof`) in their binary form: a parsed proof
//! re-encodes to exactly its input, and checking it against any root and key —
//! including the root the proof itself leads to — never panics; a proof that
//! verifies for a key gives that key's value or its absence, nothing else.
#![no_main]

use glassbox_core::index::{IndexProof, Lookup};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first 64 bytes choose the key and the root; the rest is the proof.
    if data.len() < 64 {
        return;
    }
    let (head, bytes) = data.split_at(64);
    let key: [u8; 32] = head[..32].try_into().unwrap();
    let root: [u8; 32] = head[32..].try_into().unwrap();
    let Ok(proof) = IndexProof::from_bytes(bytes) else {
        return;
    };
    assert_eq!(proof.to_bytes(), bytes, "a parsed proof is not its own encoding");
    if let Ok(lookup) = proof.verify(&root, &key) {
        if let Lookup::Present(value) = lookup {
            assert!(value.count > 0);
        }
        // The same proof cannot also verify for a different root.
        let mut other = root;
        other[0] ^= 1;
        assert!(proof.verify(&other, &key).is_err());
    }
    let _ = proof.verify_list(&root, &key, &[0, 1, 2]);
});
