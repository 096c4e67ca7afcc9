//! C2SP signed notes (`note::Note::parse`): an accepted note validates, re-encodes byte
//! for byte (one spelling per note) and parses back equal; verification never panics.
#![no_main]

use glassbox_core::note::{Note, NoteVerifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(note) = Note::parse(data) else {
        return;
    };
    note.validate().expect("a parsed note must validate");
    let bytes = note.to_bytes();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(data),
        "a parsed note does not re-encode byte for byte"
    );
    assert_eq!(Note::parse(&bytes).as_ref(), Ok(&note));

    let peter = glassbox_fuzz::peter();
    let verifiers: [&dyn NoteVerifier; 1] = [&peter];
    if let Ok(verified) = note.verify(&verifiers) {
        assert!(!verified.is_empty());
        assert!(verified
            .iter()
            .all(|s| s.name == peter.name() && s.key_id == peter.key_id()));
    }
});
