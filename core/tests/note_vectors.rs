//! Known-answer tests for signed notes, from the published vectors:
//! - golang.org/x/mod sumdb/note/note_test.go (PeterNeumann and EnochRoot keys, notes
//!   and negative cases), and
//! - the example note of C2SP signed-note.md.

use glassbox_core::note::{
    sign_note, KeyError, Note, NoteError, NoteSigner, NoteVerifier, NoteVerifierKey,
};

// Source: golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
// TestSign, TestOpen).
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// Source: C2SP signed-note.md, the example at the top of the document. The spec
// publishes no public key for quasimodo.example/salvatore, so only its structure can
// be checked; signature verification is covered by the Go vectors.
const C2SP_EXAMPLE: &str = "Ognuno sta solo sul cuor della terra\n\
trafitto da un raggio di sole:\n\
\n\
ed è subito sera.\n\
\n\
— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

fn peter() -> NoteVerifierKey {
    NoteVerifierKey::parse(PETER_VKEY).unwrap()
}

fn enoch() -> NoteVerifierKey {
    NoteVerifierKey::parse(ENOCH_VKEY).unwrap()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn note(parts: &[&str]) -> Vec<u8> {
    parts.concat().into_bytes()
}

#[test]
fn go_vkey_parses_with_name_and_key_id_and_formats_back() {
    let key = peter();
    assert_eq!(key.name(), "PeterNeumann");
    assert_eq!(key.key_id(), 0xc74f20a3);
    assert_eq!(key.to_string(), PETER_VKEY);
}

#[test]
fn go_private_key_derives_the_published_verifier_key() {
    let signer = NoteSigner::from_private_key_string(PETER_SKEY).unwrap();
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_string(), PETER_VKEY);
    assert_eq!(signer.to_private_key_string(), PETER_SKEY);
}

#[test]
fn go_sign_output_is_byte_exact() {
    let signer = NoteSigner::from_private_key_string(PETER_SKEY).unwrap();
    let signed = sign_note(TEXT, &[&signer]).unwrap();
    assert_eq!(
        String::from_utf8(signed).unwrap(),
        [TEXT, "\n", PETER_SIG].concat()
    );
}

#[test]
fn go_vkey_substrings_are_rejected() {
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(NoteVerifierKey::parse(s).is_err(), "accepted {s:?}");
        }
    }
}

#[test]
fn go_vkey_with_any_byte_incremented_is_rejected() {
    let mut b = PETER_VKEY.as_bytes().to_vec();
    for i in 0..b.len() {
        b[i] += 1;
        let s = String::from_utf8(b.clone()).unwrap();
        assert!(NoteVerifierKey::parse(&s).is_err(), "accepted {s:?}");
        b[i] -= 1;
    }
}

#[test]
fn go_private_key_substrings_and_increments_are_rejected() {
    let b = PETER_SKEY.as_bytes().to_vec();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let s = std::str::from_utf8(&b[i..j]).unwrap();
            assert!(
                NoteSigner::from_private_key_string(s).is_err(),
                "accepted a substring"
            );
        }
    }
    let mut b = b;
    for i in 0..b.len() {
        b[i] += 1;
        let s = String::from_utf8(b.clone()).unwrap();
        assert!(
            NoteSigner::from_private_key_string(&s).is_err(),
            "accepted an increment at {i}"
        );
        b[i] -= 1;
    }
}

#[test]
fn go_vkey_with_wrong_key_length_is_rejected() {
    // Source: note_test.go TestNewVerifier, "wrong length key, with adjusted key hash".
    // Its base64 ends in non-zero padding bits, which the strict decoder refuses before
    // the length is looked at.
    let err = NoteVerifierKey::parse(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    )
    .unwrap_err();
    assert!(matches!(err, KeyError::Malformed { .. }), "{err:?}");
    // The same mistake with canonical base64 (one extra key byte, key ID adjusted).
    let name = "PeterNeumann";
    let mut material = vec![0x01];
    material.extend_from_slice(&[0x1a; 33]);
    let id = glassbox_core::note::key_id(name, 0x01, &material[1..]);
    let vkey = format!("{name}+{id:08x}+{}", b64(&material));
    let err = NoteVerifierKey::parse(&vkey).unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::WrongKeyLength {
                actual: 33,
                expected: 32,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn go_vkey_with_unknown_algorithm_is_rejected() {
    // Source: note_test.go TestNewVerifier, "unknown algorithm, with adjusted key hash".
    let err = NoteVerifierKey::parse(
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::WrongAlgorithm {
                found: 0x65,
                expected: 0x01,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn go_open_verifies_known_key_and_ignores_unknown_one() {
    let n = Note::parse(&note(&[TEXT, "\n", PETER_SIG, ENOCH_SIG])).unwrap();
    assert_eq!(n.text, TEXT);
    let peter = peter();
    let verified = n.verify(&[&peter]).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "PeterNeumann");
    assert_eq!(verified[0].key_id, 0xc74f20a3);
}

#[test]
fn go_open_verifies_both_known_keys_in_note_order() {
    let n = Note::parse(&note(&[TEXT, "\n", PETER_SIG, ENOCH_SIG])).unwrap();
    let (peter, enoch) = (peter(), enoch());
    let verified = n.verify(&[&enoch, &peter]).unwrap();
    let names: Vec<&str> = verified.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["PeterNeumann", "EnochRoot"]);
    assert_eq!(verified[1].key_id, 0xaf0cfe78);
}

#[test]
fn go_open_with_no_known_key_is_rejected() {
    let n = Note::parse(&note(&[TEXT, "\n", PETER_SIG, ENOCH_SIG])).unwrap();
    let got = n.verify(&[]);
    assert!(
        matches!(
            got,
            Err(NoteError::NoVerifiedSignature { signatures: 2, .. })
        ),
        "{got:?}"
    );
}

#[test]
fn go_open_with_duplicated_verifier_for_a_signature_is_ambiguous() {
    let (peter, enoch) = (peter(), enoch());
    let verifiers: [&dyn NoteVerifier; 3] = [&enoch, &peter, &enoch];
    let n = Note::parse(&note(&[TEXT, "\n", ENOCH_SIG])).unwrap();
    assert_eq!(
        n.verify(&verifiers),
        Err(NoteError::AmbiguousVerifier {
            name: "EnochRoot".into(),
            key_id: 0xaf0cfe78
        })
    );
    // A duplicated verifier that no signature uses does no harm.
    let n = Note::parse(&note(&[TEXT, "\n", PETER_SIG])).unwrap();
    assert_eq!(n.verify(&verifiers).unwrap().len(), 1);
}

#[test]
fn go_open_with_101_signatures_is_too_many() {
    let mut parts = vec![TEXT, "\n"];
    parts.extend(std::iter::repeat_n(PETER_SIG, 101));
    assert_eq!(
        Note::parse(&note(&parts)),
        Err(NoteError::TooManySignatures {
            count: 101,
            limit: 100
        })
    );
}

#[test]
fn go_open_with_corrupted_known_signature_rejects_the_note() {
    let corrupted = [&PETER_SIG[..60], "ABCD", &PETER_SIG[60..]].concat();
    let n = Note::parse(&note(&[TEXT, "\n", &corrupted, ENOCH_SIG])).unwrap();
    assert_eq!(
        n.verify(&[&peter()]),
        Err(NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        })
    );
}

#[test]
fn go_corrupted_unknown_signature_is_ignored() {
    let corrupted = [&ENOCH_SIG[..60], "ABCD", &ENOCH_SIG[60..]].concat();
    let n = Note::parse(&note(&[TEXT, "\n", PETER_SIG, &corrupted])).unwrap();
    assert_eq!(n.verify(&[&peter()]).unwrap().len(), 1);
}

/// Go keeps the first of several lines by one key; Glassbox rejects the note, so a
/// note has one meaning whichever line a verifier would have looked at.
#[test]
fn duplicate_signature_lines_are_rejected_where_go_ignores_them() {
    // Source of the input: note_test.go TestOpen, "Duplicated verified and unverified
    // signatures".
    let dup = note(&[TEXT, "\n", PETER_SIG, PETER_SIG, ENOCH_SIG]);
    assert_eq!(
        Note::parse(&dup),
        Err(NoteError::DuplicateSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        })
    );
    let corrupted = [&ENOCH_SIG[..60], "ABCD", &ENOCH_SIG[60..]].concat();
    let dup = note(&[TEXT, "\n", PETER_SIG, ENOCH_SIG, &corrupted]);
    assert!(matches!(
        Note::parse(&dup),
        Err(NoteError::DuplicateSignature { .. })
    ));
}

#[test]
fn go_malformed_messages_are_rejected() {
    // Source: note_test.go TestOpen, badMsgs.
    let no_newline = &PETER_SIG[..PETER_SIG.len() - 1];
    let cases: Vec<(Vec<u8>, NoteError)> = vec![
        (note(&[TEXT]), NoteError::MissingSignatureBlock),
        (note(&[TEXT, "\n"]), NoteError::MissingSignatureBlock),
        (
            note(&[TEXT, "\n", no_newline]),
            NoteError::MalformedSignatureLine {
                line: 4,
                reason: "missing final newline",
            },
        ),
        (
            note(&["\x01", TEXT, "\n", PETER_SIG]),
            NoteError::ControlCharacter { offset: 0, byte: 1 },
        ),
        (
            [b"\xff".as_slice(), TEXT.as_bytes(), b"\n", PETER_SIG.as_bytes()].concat(),
            NoteError::InvalidUtf8 { offset: 0 },
        ),
        (
            note(&[
                TEXT,
                "\n",
                "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            ]),
            NoteError::MalformedSignatureLine {
                line: 4,
                reason: "missing final newline",
            },
        ),
        (
            note(&[TEXT, "\n", PETER_SIG, "Unexpected line.\n"]),
            NoteError::MalformedSignatureLine {
                line: 5,
                reason: "does not start with an em dash and a space",
            },
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(
            Note::parse(&msg),
            Err(want),
            "{}",
            String::from_utf8_lossy(&msg)
        );
    }
}

#[test]
fn name_containing_a_space_does_not_parse_as_a_signature_line() {
    let line = "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    assert!(matches!(
        Note::parse(&note(&[TEXT, "\n", line])),
        Err(NoteError::MalformedSignatureLine { line: 4, .. })
    ));
}

#[test]
fn c2sp_example_text_ends_at_the_last_blank_line() {
    let n = Note::parse(C2SP_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        n.text,
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    );
    assert_eq!(n.signatures.len(), 1);
    assert_eq!(n.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(n.signatures[0].key_id, 0x367ba04b);
    assert_eq!(n.signatures[0].signature.len(), 64);
    assert_eq!(n.to_bytes(), C2SP_EXAMPLE.as_bytes());
}

#[test]
fn c2sp_example_is_unverified_without_its_key() {
    let n = Note::parse(C2SP_EXAMPLE.as_bytes()).unwrap();
    let got = n.verify(&[&peter()]);
    assert!(
        matches!(
            got,
            Err(NoteError::NoVerifiedSignature { signatures: 1, .. })
        ),
        "{got:?}"
    );
}

#[test]
fn fresh_key_signs_and_rejects_corrupted_signature_or_message() {
    let signer = NoteSigner::new(
        "glassbox.example/log",
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    )
    .unwrap();
    let vkey = NoteVerifierKey::parse(&signer.verifier().to_string()).unwrap();
    assert_eq!(vkey, signer.verifier());
    let restored = NoteSigner::from_private_key_string(&signer.to_private_key_string()).unwrap();
    assert_eq!(restored.verifier(), signer.verifier());

    let sig = signer.sign(b"hi\n");
    assert!(vkey.verify(b"hi\n", &sig.signature));
    let mut bad = sig.signature.clone();
    bad[0] ^= 1;
    assert!(!vkey.verify(b"hi\n", &bad));
    assert!(!vkey.verify(b"ho\n", &sig.signature));
    assert!(!vkey.verify(b"hi\n", &sig.signature[..63]));
}
