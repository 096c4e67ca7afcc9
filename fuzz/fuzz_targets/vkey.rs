//! Signed-note verifier keys (`note::NoteVerifierKey::parse`) and private key strings
//! (`NoteSigner::from_private_key_string`, `CosignatureSigner::from_private_key_string`):
//! accepted strings format back to strings that parse to the same key.
#![no_main]

use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::note::{NoteSigner, NoteVerifierKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = NoteVerifierKey::parse(text) {
        let shown = key.to_string();
        assert_eq!(
            NoteVerifierKey::parse(&shown).as_ref(),
            Ok(&key),
            "vkey Display does not parse back"
        );
        // The key ID's hex digits may be upper case on input; nothing else may differ.
        assert!(shown.eq_ignore_ascii_case(text) && shown.len() == text.len());
    }
    if let Ok(signer) = NoteSigner::from_private_key_string(text) {
        let shown = signer.to_private_key_string();
        let again = NoteSigner::from_private_key_string(&shown).expect("formatted key must parse");
        assert_eq!(again.verifier(), signer.verifier());
        assert!(shown.eq_ignore_ascii_case(text) && shown.len() == text.len());
    }
    if let Ok(signer) = CosignatureSigner::from_private_key_string(text) {
        let shown = signer.to_private_key_string();
        let again =
            CosignatureSigner::from_private_key_string(&shown).expect("formatted key must parse");
        assert_eq!(again.verifier(), signer.verifier());
        assert!(shown.eq_ignore_ascii_case(text) && shown.len() == text.len());
    }
});
