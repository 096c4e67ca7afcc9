//! C2SP tlog-checkpoint parsing and signed-checkpoint opening; negative cases are
//! named after the malformation.

use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use glassbox_core::note::{sign_note, Note, NoteError, NoteSigner};

// Source: C2SP tlog-checkpoint.md, the example checkpoint at the top of the document.
const SOFA: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SOFA_ROOT_HEX: &str = "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62";

fn root() -> [u8; 32] {
    hex::decode(SOFA_ROOT_HEX).unwrap().try_into().unwrap()
}

fn log(name: &str) -> NoteSigner {
    NoteSigner::new(name, SigningKey::from_bytes(&[1; 32])).unwrap()
}

#[test]
fn c2sp_example_checkpoint_parses_and_formats_back() {
    let cp = Checkpoint::parse(SOFA).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20852163);
    assert_eq!(cp.root, root());
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), SOFA);
}

#[test]
fn c2sp_example_signed_checkpoint_parses_unverified() {
    // Source: C2SP tlog-checkpoint.md example, with its log signature line.
    let signed = format!("{SOFA}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n");
    let sc = SignedCheckpoint::parse_unverified(signed.as_bytes()).unwrap();
    assert_eq!(sc.checkpoint.size, 20852163);
    assert_eq!(sc.note.signatures[0].key_id, 0x033de0ae);
    assert_eq!(sc.to_bytes(), signed.as_bytes());
}

#[test]
fn empty_tree_has_size_zero() {
    let text = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    assert_eq!(Checkpoint::parse(text).unwrap().size, 0);
}

#[test]
fn extension_lines_round_trip() {
    let text = format!("{SOFA}ext one\n— ext two\n");
    let cp = Checkpoint::parse(&text).unwrap();
    assert_eq!(cp.extensions, ["ext one", "— ext two"]);
    assert_eq!(cp.to_text(), text);
}

#[test]
fn largest_u64_size_parses() {
    let text = SOFA.replace("20852163", "18446744073709551615");
    assert_eq!(Checkpoint::parse(&text).unwrap().size, u64::MAX);
}

fn size_err(size: &str) -> CheckpointError {
    Checkpoint::parse(&SOFA.replace("20852163", size)).unwrap_err()
}

#[test]
fn size_with_leading_zero_is_rejected() {
    assert_eq!(
        size_err("020852163"),
        CheckpointError::InvalidSize {
            value: "020852163".into()
        }
    );
    assert_eq!(
        size_err("00"),
        CheckpointError::InvalidSize { value: "00".into() }
    );
}

#[test]
fn size_with_sign_space_or_hex_is_rejected() {
    for bad in [
        "+20852163",
        "-1",
        " 20852163",
        "20852163 ",
        "0x10",
        "1e3",
        "２",
    ] {
        assert!(
            matches!(size_err(bad), CheckpointError::InvalidSize { .. }),
            "{bad:?}"
        );
    }
}

#[test]
fn size_above_u64_is_rejected() {
    assert_eq!(
        size_err("18446744073709551616"),
        CheckpointError::SizeOverflow {
            value: "18446744073709551616".into()
        }
    );
}

#[test]
fn missing_root_line_is_rejected() {
    assert_eq!(
        Checkpoint::parse("example.com/log\n5\n"),
        Err(CheckpointError::MissingLines { found: 2 })
    );
}

#[test]
fn missing_final_newline_is_rejected() {
    assert_eq!(
        Checkpoint::parse(SOFA.trim_end_matches('\n')),
        Err(CheckpointError::MissingFinalNewline)
    );
}

#[test]
fn empty_origin_or_extension_line_is_rejected() {
    assert_eq!(
        Checkpoint::parse(&format!("\n{SOFA}")),
        Err(CheckpointError::EmptyLine { line: 1 })
    );
    assert_eq!(
        Checkpoint::parse(&format!("{SOFA}\next\n")),
        Err(CheckpointError::EmptyLine { line: 4 })
    );
}

#[test]
fn root_that_is_not_base64_is_rejected() {
    let text = SOFA.replace("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "not*base64");
    assert!(matches!(
        Checkpoint::parse(&text),
        Err(CheckpointError::InvalidRootEncoding { .. })
    ));
}

#[test]
fn root_without_padding_is_rejected() {
    let text = SOFA.replace("q2I=", "q2I");
    assert!(matches!(
        Checkpoint::parse(&text),
        Err(CheckpointError::InvalidRootEncoding { .. })
    ));
}

#[test]
fn root_in_url_safe_base64_is_rejected() {
    let text = SOFA.replace("om/X", "om_X");
    assert!(matches!(
        Checkpoint::parse(&text),
        Err(CheckpointError::InvalidRootEncoding { .. })
    ));
}

#[test]
fn root_of_wrong_hash_length_is_rejected() {
    // 31 and 33 zero bytes.
    let short = SOFA.replace(
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
    );
    assert_eq!(
        Checkpoint::parse(&short),
        Err(CheckpointError::WrongRootLength { len: 31 })
    );
    let long = SOFA.replace(
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_eq!(
        Checkpoint::parse(&long),
        Err(CheckpointError::WrongRootLength { len: 33 })
    );
}

#[test]
fn trailing_carriage_return_is_rejected() {
    let text = SOFA.replace("q2I=\n", "q2I=\r\n");
    assert_eq!(
        Checkpoint::parse(&text),
        Err(CheckpointError::ControlCharacter { line: 3 })
    );
}

#[test]
fn trailing_garbage_after_last_newline_is_rejected() {
    assert_eq!(
        Checkpoint::parse(&format!("{SOFA}garbage")),
        Err(CheckpointError::MissingFinalNewline)
    );
}

#[test]
fn signed_checkpoint_opens_with_the_log_key() {
    let log = log("example.com/behind-the-sofa");
    let cp = Checkpoint::parse(SOFA).unwrap();
    let bytes = cp.sign(&log).unwrap();
    // Independently computed (Python `cryptography`, seed 0x01 × 32) for this text.
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        format!("{SOFA}\n— example.com/behind-the-sofa be1zqQx8hYrJJIfiWfY39ShElJ74dPrOjXSgJJ2qG3vny2U7JyHN2kKCWb5H5e2MfxP7My2OyDRrDvCH/RbVubiZ8AE=\n")
    );
    assert_eq!(
        log.verifier().to_string(),
        "example.com/behind-the-sofa+6ded73a9+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    );
    let opened = SignedCheckpoint::open(&bytes, &log.verifier()).unwrap();
    assert_eq!(opened.checkpoint, cp);
}

#[test]
fn checkpoint_signed_under_another_name_is_rejected() {
    let other = log("example.com/other");
    let bytes = sign_note(SOFA, &[&other]).unwrap();
    assert_eq!(
        SignedCheckpoint::open(&bytes, &other.verifier()),
        Err(CheckpointError::OriginMismatch {
            origin: "example.com/behind-the-sofa".into(),
            key_name: "example.com/other".into()
        })
    );
    assert!(matches!(
        Checkpoint::parse(SOFA).unwrap().sign(&other),
        Err(CheckpointError::OriginMismatch { .. })
    ));
}

#[test]
fn checkpoint_signed_by_another_key_of_the_same_name_is_rejected() {
    let real = log("example.com/behind-the-sofa");
    let impostor = NoteSigner::new(
        "example.com/behind-the-sofa",
        SigningKey::from_bytes(&[2; 32]),
    )
    .unwrap();
    let bytes = sign_note(SOFA, &[&impostor]).unwrap();
    let got = SignedCheckpoint::open(&bytes, &real.verifier());
    assert!(
        matches!(
            got,
            Err(CheckpointError::Note(NoteError::NoVerifiedSignature {
                signatures: 1,
                ..
            }))
        ),
        "{got:?}"
    );
}

#[test]
fn checkpoint_with_altered_size_fails_the_log_signature() {
    let log = log("example.com/behind-the-sofa");
    let bytes = Checkpoint::parse(SOFA).unwrap().sign(&log).unwrap();
    let altered = String::from_utf8(bytes)
        .unwrap()
        .replace("20852163", "20852164");
    assert!(matches!(
        SignedCheckpoint::open(altered.as_bytes(), &log.verifier()),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
}

#[test]
fn signed_note_that_is_not_a_checkpoint_is_rejected() {
    let log = log("example.com/behind-the-sofa");
    let bytes = sign_note("example.com/behind-the-sofa\n12\n", &[&log]).unwrap();
    assert_eq!(
        SignedCheckpoint::open(&bytes, &log.verifier()),
        Err(CheckpointError::MissingLines { found: 2 })
    );
}

#[test]
fn unknown_extra_signatures_do_not_prevent_opening() {
    let log = log("example.com/behind-the-sofa");
    let mut note = Note::parse(&Checkpoint::parse(SOFA).unwrap().sign(&log).unwrap()).unwrap();
    note.add_signature(
        NoteSigner::new("w.example", SigningKey::from_bytes(&[9; 32]))
            .unwrap()
            .sign(SOFA.as_bytes()),
    )
    .unwrap();
    let opened = SignedCheckpoint::open(&note.to_bytes(), &log.verifier()).unwrap();
    assert_eq!(opened.note.signatures.len(), 2);
}

#[test]
fn checkpoint_with_multiline_origin_fails_validation() {
    let cp = Checkpoint {
        origin: "a\nb".into(),
        size: 1,
        root: root(),
        extensions: vec![],
    };
    assert_eq!(
        cp.validate(),
        Err(CheckpointError::ControlCharacter { line: 1 })
    );
}
