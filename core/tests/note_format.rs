//! Signed-note shape rules (C2SP signed-note §Format), each test named after the
//! malformation it rejects.

use ed25519_dalek::SigningKey;
use glassbox_core::note::{
    is_valid_key_name, sign_note, KeyError, Note, NoteError, NoteSignature, NoteSigner,
    MAX_NOTE_BYTES,
};

fn signer(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).unwrap()
}

fn signed(text: &str) -> String {
    String::from_utf8(sign_note(text, &[&signer("example.com/log", 1)]).unwrap()).unwrap()
}

#[test]
fn key_names_with_space_plus_or_control_are_invalid() {
    for good in ["example.com/log", "PeterNeumann", "é/ü", "a\u{7f}b"] {
        assert!(is_valid_key_name(good), "{good:?}");
    }
    for bad in [
        "",
        "a b",
        "a+b",
        "a\tb",
        "a\nb",
        "a\u{1}b",
        "a\u{a0}b",
        "a\u{2003}b",
        "a\u{3000}b",
    ] {
        assert!(!is_valid_key_name(bad), "{bad:?}");
    }
    assert_eq!(
        NoteSigner::new("a+b", SigningKey::from_bytes(&[1; 32])).unwrap_err(),
        KeyError::InvalidName { name: "a+b".into() }
    );
}

#[test]
fn signed_note_round_trips_through_parse() {
    let (a, b) = (signer("a.example/log", 1), signer("b.example/log", 2));
    let bytes = sign_note("hello\n\nworld\n", &[&a, &b]).unwrap();
    let note = Note::parse(&bytes).unwrap();
    assert_eq!(note.text, "hello\n\nworld\n");
    assert_eq!(note.signatures.len(), 2);
    assert_eq!(note.to_bytes(), bytes);
    let (va, vb) = (a.verifier(), b.verifier());
    assert_eq!(note.verify(&[&vb, &va]).unwrap().len(), 2);
}

#[test]
fn text_without_final_newline_cannot_be_signed() {
    assert_eq!(
        sign_note("abc", &[&signer("a", 1)]),
        Err(NoteError::MalformedText {
            reason: "text does not end with a newline"
        })
    );
}

#[test]
fn empty_text_cannot_be_signed() {
    assert!(matches!(
        sign_note("", &[&signer("a", 1)]),
        Err(NoteError::MalformedText { .. })
    ));
}

#[test]
fn text_ending_in_blank_line_is_rejected() {
    assert!(matches!(
        sign_note("a\n\n", &[&signer("a", 1)]),
        Err(NoteError::MalformedText { .. })
    ));
    let good = signed("a\n");
    let bad = good.replacen("a\n", "a\n\n", 1);
    assert_eq!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::MalformedText {
            reason: "text ends with a blank line"
        })
    );
}

#[test]
fn note_with_no_signers_is_rejected() {
    assert_eq!(sign_note("a\n", &[]), Err(NoteError::NoSignatures));
}

#[test]
fn two_signatures_by_one_signer_are_rejected() {
    let a = signer("a", 1);
    assert!(matches!(
        sign_note("a\n", &[&a, &a]),
        Err(NoteError::DuplicateSignature { .. })
    ));
}

#[test]
fn carriage_return_is_a_control_character() {
    let crlf = signed("a\n").replace('\n', "\r\n");
    assert!(matches!(
        Note::parse(crlf.as_bytes()),
        Err(NoteError::ControlCharacter { byte: b'\r', .. })
    ));
    assert!(matches!(
        sign_note("a\tb\n", &[&signer("a", 1)]),
        Err(NoteError::ControlCharacter { byte: b'\t', .. })
    ));
}

#[test]
fn unpadded_signature_base64_is_rejected() {
    let good = signed("a\n");
    let bad = good.replace("=\n", "\n");
    assert_ne!(
        good, bad,
        "Ed25519 signature lines end in one '=' of padding"
    );
    assert!(matches!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::MalformedSignatureLine { line: 3, .. })
    ));
}

#[test]
fn signature_of_only_a_key_id_is_rejected() {
    // base64("\0\0\0\0") = "AAAAAA==": a key ID and no signature bytes.
    let bad = "a\n\n— a AAAAAA==\n";
    assert!(matches!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::MalformedSignatureLine { line: 3, .. })
    ));
    assert!(Note::parse("a\n\n— a AAAAAAA=\n".as_bytes()).is_ok());
}

#[test]
fn hyphens_instead_of_em_dash_are_rejected() {
    let bad = signed("a\n").replace('\u{2014}', "--");
    assert!(matches!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::MalformedSignatureLine { line: 3, .. })
    ));
}

#[test]
fn two_spaces_after_key_name_are_rejected() {
    let bad = signed("a\n").replacen("example.com/log ", "example.com/log  ", 1);
    assert!(matches!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::MalformedSignatureLine { .. })
    ));
}

#[test]
fn signature_line_with_invalid_name_is_rejected() {
    let bad = "a\n\n— a+b AAAAAAA=\n";
    assert_eq!(
        Note::parse(bad.as_bytes()),
        Err(NoteError::InvalidKeyName { name: "a+b".into() })
    );
}

/// C2SP signed-note §Format: the text ends at the *last* blank line, so a blank line
/// among the signatures turns everything before it into (different, unsigned) text.
#[test]
fn blank_line_inside_signature_block_moves_signatures_into_the_text() {
    let a = signer("example.com/log", 1);
    let good = String::from_utf8(sign_note("a\n", &[&a]).unwrap()).unwrap();
    let sig = good.strip_prefix("a\n\n").unwrap();
    let bad = format!("a\n\n{sig}\n{sig}");
    let note = Note::parse(bad.as_bytes()).unwrap();
    assert_eq!(note.text, format!("a\n\n{sig}"));
    assert!(matches!(
        note.verify(&[&a.verifier()]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn note_over_the_size_limit_is_rejected() {
    let big = vec![b'a'; MAX_NOTE_BYTES + 1];
    assert_eq!(
        Note::parse(&big),
        Err(NoteError::TooLarge {
            size: MAX_NOTE_BYTES + 1,
            limit: MAX_NOTE_BYTES
        })
    );
}

#[test]
fn add_signature_replaces_the_same_key_instead_of_duplicating() {
    let a = signer("a", 1);
    let mut note = Note::parse(&sign_note("x\n", &[&a]).unwrap()).unwrap();
    note.add_signature(NoteSignature {
        name: "a".into(),
        key_id: a.key_id(),
        signature: vec![1; 64],
    })
    .unwrap();
    assert_eq!(note.signatures.len(), 1);
    note.add_signature(a.sign(b"x\n")).unwrap();
    note.add_signature(signer("b", 2).sign(b"x\n")).unwrap();
    assert_eq!(note.signatures.len(), 2);
    assert_eq!(Note::parse(&note.to_bytes()).unwrap(), note);
    assert_eq!(note.verify(&[&a.verifier()]).unwrap().len(), 1);
}

#[test]
fn signature_over_different_text_fails_for_a_known_key() {
    let a = signer("a", 1);
    let mut note = Note::parse(&sign_note("x\n", &[&a]).unwrap()).unwrap();
    note.text = "y\n".into();
    assert_eq!(
        note.verify(&[&a.verifier()]),
        Err(NoteError::InvalidSignature {
            name: "a".into(),
            key_id: a.key_id()
        })
    );
}

#[test]
fn same_name_with_other_key_id_is_ignored_not_failed() {
    let real = signer("a", 1);
    let impostor = signer("a", 2);
    let bytes = sign_note("x\n", &[&impostor]).unwrap();
    let note = Note::parse(&bytes).unwrap();
    let got = note.verify(&[&real.verifier()]);
    assert!(
        matches!(
            got,
            Err(NoteError::NoVerifiedSignature { signatures: 1, .. })
        ),
        "{got:?}"
    );
    // The error names the key that signed and the one trusted, so the reader can tell
    // a wrong policy from a wrong log.
    let message = got.unwrap_err().to_string();
    for key in [impostor.verifier(), real.verifier()] {
        let named = format!("{}+{:08x}", key.name(), key.key_id());
        assert!(message.contains(&named), "{named} not in: {message}");
    }
    assert!(message.contains("signed by a+"), "{message}");
}

#[test]
fn a_signature_line_parses_back_to_the_signature_and_nothing_else_does() {
    let note = Note::parse(signed("example.com/log\n5\nAAAA\n").as_bytes()).unwrap();
    let sig = &note.signatures[0];
    assert_eq!(NoteSignature::from_line(&sig.to_line()).as_ref(), Some(sig));
    for bad in [
        String::new(),
        sig.to_line().replacen('\u{2014}', "-", 1),
        format!("{}\n", sig.to_line()),
        "\u{2014} a+b AAAAAAA=".to_string(),
    ] {
        assert_eq!(NoteSignature::from_line(&bad), None, "{bad:?}");
    }
}
