//! C2SP tlog-cosignature v1 (signature type 0x04): layout, signed message and
//! verification.

use ed25519_dalek::{Signature, SigningKey};
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::{
    cosigned_message, verify_cosignatures, CosignatureError, CosignatureSigner,
    CosignatureVerifierKey, TimestampedSignature, VerifiedCosignature, MAX_TIMESTAMP,
};
use glassbox_core::note::{KeyError, Note, NoteError, NoteSigner, NoteVerifier, NoteVerifierKey};
use sha2::{Digest, Sha256};

// Source: C2SP tlog-cosignature.md §Format example (checkpoint with a log signature
// and one Ed25519 cosignature by witness.example.com/w1).
const SOFA: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_COSIGNED_NOTE: &str = "example.com/behind-the-sofa\n\
20852163\n\
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
\n\
— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
// Source: C2SP tlog-cosignature.md §Ed25519 signed message, the example message.
const SPEC_SIGNED_MESSAGE: &str = "cosignature/v1\n\
time 1679315147\n\
example.com/behind-the-sofa\n\
20852163\n\
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

// Glassbox vector: the spec publishes no cosigner public key, so this one comes from
// seed 00 01 02 … 1f, name witness.example/w1, time 1679315147, over SOFA; computed
// independently with Python `cryptography` (Ed25519) and hashlib.
const SEED: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31,
];
const W1_VKEY: &str = "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const W1_SKEY: &str =
    "PRIVATE+KEY+witness.example/w1+e75f6532+BAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
const W1_LINE: &str = "— witness.example/w1 519lMgAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS83rE1nFZsVE8YiWV6Ngr7lV8H6bdoBQGP/l73euDMQ9k+bBQ==";
const TIME: u64 = 1679315147;

fn w1() -> CosignatureSigner {
    CosignatureSigner::new("witness.example/w1", SigningKey::from_bytes(&SEED)).unwrap()
}

fn log() -> NoteSigner {
    NoteSigner::new(
        "example.com/behind-the-sofa",
        SigningKey::from_bytes(&[1; 32]),
    )
    .unwrap()
}

fn cosigned(witnesses: &[&CosignatureSigner], time: u64) -> Note {
    let mut note = Note::parse(&Checkpoint::parse(SOFA).unwrap().sign(&log()).unwrap()).unwrap();
    for w in witnesses {
        note.add_signature(w.sign(&note.text.clone(), time).unwrap())
            .unwrap();
    }
    note
}

#[test]
fn signed_message_matches_the_spec_example() {
    assert_eq!(
        cosigned_message(SOFA.as_bytes(), TIME),
        SPEC_SIGNED_MESSAGE.as_bytes()
    );
}

#[test]
fn spec_example_cosignature_has_key_id_timestamp_and_signature_layout() {
    let note = Note::parse(SPEC_COSIGNED_NOTE.as_bytes()).unwrap();
    let witness = &note.signatures[1];
    assert_eq!(witness.name, "witness.example.com/w1");
    assert_eq!(witness.key_id, 0x8d66cf3f);
    let ts = TimestampedSignature::from_bytes(&witness.signature).unwrap();
    // The example cosignature was made at the time the spec's message example shows.
    assert_eq!(ts.timestamp, TIME);
}

#[test]
fn fixed_seed_cosignature_is_byte_exact() {
    let sig = w1().sign(SOFA, TIME).unwrap();
    assert_eq!(sig.to_line(), W1_LINE);
    assert_eq!(w1().verifier().to_string(), W1_VKEY);
    assert_eq!(w1().to_private_key_string(), W1_SKEY);
    assert_eq!(
        CosignatureSigner::from_private_key_string(W1_SKEY)
            .unwrap()
            .verifier(),
        w1().verifier()
    );
}

#[test]
fn fixed_seed_cosignature_layout_follows_the_spec() {
    let note = Note::parse(format!("{SOFA}\n{W1_LINE}\n").as_bytes()).unwrap();
    let sig = &note.signatures[0];
    let public = SigningKey::from_bytes(&SEED).verifying_key();

    // Key ID: SHA-256(name || "\n" || 0x04 || public key)[:4], big-endian.
    let mut h = Sha256::new();
    h.update(b"witness.example/w1\n\x04");
    h.update(public.as_bytes());
    let digest = h.finalize();
    assert_eq!(sig.key_id.to_be_bytes(), digest[..4]);

    // 8-byte big-endian timestamp, then a 64-byte Ed25519 signature over the message.
    assert_eq!(sig.signature.len(), 72);
    assert_eq!(sig.signature[..8], TIME.to_be_bytes());
    let ed = Signature::from_slice(&sig.signature[8..]).unwrap();
    public
        .verify_strict(SPEC_SIGNED_MESSAGE.as_bytes(), &ed)
        .unwrap();
}

#[test]
fn cosigner_key_id_differs_from_note_key_id_for_the_same_key() {
    let note_key = NoteSigner::new("witness.example/w1", SigningKey::from_bytes(&SEED)).unwrap();
    assert_ne!(note_key.key_id(), w1().key_id());
}

#[test]
fn vkey_round_trips_and_rejects_the_other_signature_type() {
    let vkey = CosignatureVerifierKey::parse(W1_VKEY).unwrap();
    assert_eq!(vkey.name(), "witness.example/w1");
    assert_eq!(vkey.key_id(), 0xe75f6532);
    assert_eq!(vkey, w1().verifier());
    assert!(matches!(
        NoteVerifierKey::parse(W1_VKEY),
        Err(KeyError::WrongAlgorithm {
            found: 0x04,
            expected: 0x01,
            ..
        })
    ));
    let note_vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert!(matches!(
        CosignatureVerifierKey::parse(note_vkey),
        Err(KeyError::WrongAlgorithm {
            found: 0x01,
            expected: 0x04,
            ..
        })
    ));
}

#[test]
fn verify_cosignatures_returns_trusted_timestamps_and_ignores_others() {
    let w2 =
        CosignatureSigner::new("witness.example/w2", SigningKey::from_bytes(&[2; 32])).unwrap();
    let note = cosigned(&[&w1(), &w2], TIME);
    let (v1, v2) = (w1().verifier(), w2.verifier());
    let got = verify_cosignatures(&note, &[&v2, &v1]).unwrap();
    assert_eq!(
        got,
        [
            VerifiedCosignature {
                name: "witness.example/w1".into(),
                key_id: 0xe75f6532,
                timestamp: TIME
            },
            VerifiedCosignature {
                name: "witness.example/w2".into(),
                key_id: w2.key_id(),
                timestamp: TIME
            },
        ]
    );
    assert_eq!(verify_cosignatures(&note, &[&v2]).unwrap().len(), 1);
    assert!(verify_cosignatures(&note, &[]).unwrap().is_empty());
}

#[test]
fn cosigner_works_as_a_note_verifier() {
    let note = cosigned(&[&w1()], TIME);
    let v = w1().verifier();
    let verified = note.verify(&[&v as &dyn NoteVerifier]).unwrap();
    assert_eq!(verified[0].name, "witness.example/w1");
}

#[test]
fn altered_timestamp_fails_verification() {
    let mut note = cosigned(&[&w1()], TIME);
    note.signatures[1].signature[7] ^= 1;
    assert_eq!(
        verify_cosignatures(&note, &[&w1().verifier()]),
        Err(CosignatureError::InvalidCosignature {
            name: "witness.example/w1".into(),
            key_id: 0xe75f6532
        })
    );
}

#[test]
fn cosignature_over_other_checkpoint_fails_verification() {
    let mut note = cosigned(&[&w1()], TIME);
    let other = SOFA.replace("20852163", "20852164");
    note.signatures[1] = w1().sign(&other, TIME).unwrap();
    assert!(matches!(
        verify_cosignatures(&note, &[&w1().verifier()]),
        Err(CosignatureError::InvalidCosignature { .. })
    ));
}

#[test]
fn extension_lines_are_part_of_the_signed_message() {
    let with_ext = format!("{SOFA}extension\n");
    let sig = w1().sign(&with_ext, TIME).unwrap();
    let v = w1().verifier();
    assert_eq!(
        v.verify_timestamped(with_ext.as_bytes(), &sig.signature),
        Ok(TIME)
    );
    assert!(v
        .verify_timestamped(SOFA.as_bytes(), &sig.signature)
        .is_err());
}

#[test]
fn timestamp_above_two_to_the_63_is_rejected() {
    assert_eq!(
        w1().sign(SOFA, MAX_TIMESTAMP + 1),
        Err(CosignatureError::TimestampTooLarge {
            timestamp: MAX_TIMESTAMP + 1
        })
    );
    assert!(w1().sign(SOFA, MAX_TIMESTAMP).is_ok());
    let mut raw = [0u8; 72];
    raw[0] = 0x80;
    assert_eq!(
        TimestampedSignature::from_bytes(&raw),
        Err(CosignatureError::TimestampTooLarge { timestamp: 1 << 63 })
    );
}

#[test]
fn cosignature_of_wrong_length_is_rejected() {
    assert_eq!(
        TimestampedSignature::from_bytes(&[0; 64]),
        Err(CosignatureError::WrongSignatureLength { len: 64 })
    );
    let mut note = cosigned(&[&w1()], TIME);
    note.signatures[1].signature.pop();
    assert_eq!(
        verify_cosignatures(&note, &[&w1().verifier()]),
        Err(CosignatureError::WrongSignatureLength { len: 71 })
    );
}

#[test]
fn text_that_is_not_a_checkpoint_is_not_cosigned() {
    assert!(matches!(
        w1().sign("hello\n", TIME),
        Err(CosignatureError::Checkpoint(_))
    ));
}

#[test]
fn duplicated_trusted_cosigner_is_ambiguous() {
    let note = cosigned(&[&w1()], TIME);
    let v = w1().verifier();
    assert!(matches!(
        verify_cosignatures(&note, &[&v, &v]),
        Err(CosignatureError::AmbiguousCosigner { .. })
    ));
}

#[test]
fn malformed_note_is_reported_as_a_note_error() {
    let mut note = cosigned(&[&w1()], TIME);
    note.text.clear();
    assert!(matches!(
        verify_cosignatures(&note, &[&w1().verifier()]),
        Err(CosignatureError::Note(NoteError::MalformedText { .. }))
    ));
}
