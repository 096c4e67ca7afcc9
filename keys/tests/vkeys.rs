//! Verifier-key strings produced for logs.

use ed25519_dalek::SigningKey;
use glassbox_core::note::{KeyError, NoteVerifierKey};
use glassbox_keys::{note_vkey, try_note_vkey};

/// The verifier key of the C2SP signed-note specification's example.
const SPEC_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

#[test]
fn note_vkey_reproduces_spec_example() {
    let key = *NoteVerifierKey::parse(SPEC_VKEY).unwrap().public_key();
    assert_eq!(note_vkey("PeterNeumann", &key), SPEC_VKEY);
}

#[test]
fn note_vkey_parses_back_to_same_name_and_key() {
    let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let vkey = note_vkey("glassbox.example/log", &key);
    let parsed = NoteVerifierKey::parse(&vkey).unwrap();
    assert_eq!(parsed.name(), "glassbox.example/log");
    assert_eq!(parsed.public_key(), &key);
}

#[test]
fn try_note_vkey_refuses_name_with_space_or_plus() {
    let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
    for name in ["", "two words", "a+b"] {
        assert!(matches!(
            try_note_vkey(name, &key),
            Err(KeyError::InvalidName { .. })
        ));
    }
}

#[test]
#[should_panic(expected = "invalid key name")]
fn note_vkey_panics_on_invalid_name() {
    note_vkey("a+b", &SigningKey::from_bytes(&[9; 32]).verifying_key());
}
