//! C2SP tlog-proof v1 text format: round trips and malformations.

use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::{Checkpoint, CheckpointError};
use glassbox_core::note::{NoteError, NoteSigner};
use glassbox_core::tlog_proof::{TlogProof, TlogProofError, MAX_PROOF_HASHES};

// Source: C2SP tlog-proof.md, the example proof. Its checkpoint signatures are elided
// in the spec ("hI2DJw[...]1roloI="), so the head is used verbatim and the checkpoint
// (same origin, size and root) is re-signed with a local key.
const SPEC_HEAD: &str = "c2sp.org/tlog-proof@v1\n\
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
index 73894\n\
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
\n";
const SPEC_CHECKPOINT: &str =
    "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n";

fn signed_checkpoint() -> String {
    let log = NoteSigner::new("example.com/fancylog", SigningKey::from_bytes(&[3; 32])).unwrap();
    String::from_utf8(
        Checkpoint::parse(SPEC_CHECKPOINT)
            .unwrap()
            .sign(&log)
            .unwrap(),
    )
    .unwrap()
}

fn spec_proof() -> String {
    format!("{SPEC_HEAD}{}", signed_checkpoint())
}

fn parse(text: &str) -> Result<TlogProof, TlogProofError> {
    TlogProof::parse(text.as_bytes())
}

#[test]
fn spec_example_parses_and_formats_back_byte_for_byte() {
    let text = spec_proof();
    let proof = parse(&text).unwrap();
    assert_eq!(
        proof.extra.as_deref(),
        Some(&b"age-v1.2.1-darwin-arm64.tar.gz\x91\x85\xc9\xdd\xa5\xb8\xb5\x85\xc9"[..])
    );
    assert_eq!(proof.index, 73894);
    assert_eq!(proof.hashes.len(), 5);
    assert_eq!(proof.hashes[0][..4], [0x81, 0x22, 0xb2, 0x5e]);
    assert_eq!(proof.checkpoint, signed_checkpoint().as_bytes());
    assert_eq!(proof.to_text(), text);
}

#[test]
fn proof_without_extra_or_hashes_round_trips() {
    let text = format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{}", signed_checkpoint());
    let proof = parse(&text).unwrap();
    assert_eq!(proof.extra, None);
    assert_eq!(proof.index, 0);
    assert!(proof.hashes.is_empty());
    assert_eq!(proof.to_text(), text);
}

#[test]
fn empty_extra_round_trips() {
    let text = format!(
        "c2sp.org/tlog-proof@v1\nextra \nindex 1\n\n{}",
        signed_checkpoint()
    );
    let proof = parse(&text).unwrap();
    assert_eq!(proof.extra, Some(vec![]));
    assert_eq!(proof.to_text(), text);
}

#[test]
fn wrong_header_is_rejected() {
    for header in [
        "c2sp.org/tlog-proof@v2",
        "c2sp.org/tlog-proof",
        "C2SP.ORG/TLOG-PROOF@V1",
        "",
    ] {
        let text = spec_proof().replacen("c2sp.org/tlog-proof@v1", header, 1);
        assert_eq!(parse(&text), Err(TlogProofError::WrongHeader), "{header:?}");
    }
}

#[test]
fn index_with_leading_zero_is_rejected() {
    let text = spec_proof().replace("index 73894", "index 073894");
    assert_eq!(
        parse(&text),
        Err(TlogProofError::InvalidIndex {
            value: "073894".into()
        })
    );
}

#[test]
fn index_with_sign_or_overflow_is_rejected() {
    for bad in ["+73894", "-1", "", " 1", "18446744073709551616"] {
        let text = spec_proof().replace("index 73894", &format!("index {bad}"));
        assert_eq!(
            parse(&text),
            Err(TlogProofError::InvalidIndex { value: bad.into() }),
            "{bad:?}"
        );
    }
}

#[test]
fn missing_index_line_is_rejected() {
    let text = spec_proof().replace("index 73894\n", "");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 3, .. })
    ));
}

#[test]
fn extra_after_index_is_rejected() {
    let text = spec_proof().replace(
        "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\n",
        "index 73894\nextra YWdl\n",
    );
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 3, .. })
    ));
}

#[test]
fn extra_without_space_is_rejected() {
    let text = spec_proof().replace("extra YWdl", "extraYWdl");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 2, .. })
    ));
}

#[test]
fn extra_that_is_not_base64_is_rejected() {
    let text = spec_proof().replace("extra YWdl", "extra !Wdl");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 2, .. })
    ));
}

#[test]
fn proof_hash_of_wrong_length_is_rejected() {
    let text = spec_proof().replace(
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=",
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPg==",
    );
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 4, .. })
    ));
}

#[test]
fn proof_hash_without_padding_is_rejected() {
    let text = spec_proof().replace("BTcdPlQ=", "BTcdPlQ");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 4, .. })
    ));
}

#[test]
fn more_than_64_proof_hashes_are_rejected() {
    let hash = "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n";
    let ok = format!(
        "c2sp.org/tlog-proof@v1\nindex 0\n{}\n{}",
        hash.repeat(MAX_PROOF_HASHES),
        signed_checkpoint()
    );
    assert_eq!(parse(&ok).unwrap().hashes.len(), MAX_PROOF_HASHES);
    let bad = format!(
        "c2sp.org/tlog-proof@v1\nindex 0\n{}\n{}",
        hash.repeat(MAX_PROOF_HASHES + 1),
        signed_checkpoint()
    );
    assert_eq!(
        parse(&bad),
        Err(TlogProofError::TooManyHashes { limit: 64 })
    );
}

#[test]
fn missing_checkpoint_is_rejected() {
    assert_eq!(parse(SPEC_HEAD), Err(TlogProofError::MissingCheckpoint));
    let no_blank = SPEC_HEAD.trim_end_matches('\n');
    assert_eq!(
        parse(&format!("{no_blank}\n")),
        Err(TlogProofError::MissingCheckpoint)
    );
}

#[test]
fn unsigned_checkpoint_is_rejected() {
    let text = format!("{SPEC_HEAD}{SPEC_CHECKPOINT}");
    assert_eq!(
        parse(&text),
        Err(TlogProofError::Checkpoint(CheckpointError::Note(
            NoteError::MissingSignatureBlock
        )))
    );
}

#[test]
fn checkpoint_with_bad_size_is_rejected() {
    let text = spec_proof().replace("\n109482\n", "\n0109482\n");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::Checkpoint(
            CheckpointError::InvalidSize { .. }
        ))
    ));
}

#[test]
fn carriage_returns_are_rejected() {
    let text = spec_proof().replace("index 73894\n", "index 73894\r\n");
    assert!(matches!(
        parse(&text),
        Err(TlogProofError::MalformedLine { line: 3, .. })
    ));
}
