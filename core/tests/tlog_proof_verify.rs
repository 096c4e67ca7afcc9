//! tlog-proof verification against leaf data and the log key, checked against a naive
//! RFC 6962 §2.1 reference implementation that lives only in this test.

use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::{Checkpoint, CheckpointError};
use glassbox_core::merkle::ProofError;
use glassbox_core::note::{NoteError, NoteSigner, NoteVerifierKey};
use glassbox_core::tlog_proof::{TlogProof, TlogProofError};
use sha2::{Digest, Sha256};

type Hash = [u8; 32];

fn sha(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RFC 6962 §2.1 MTH, written from the definition.
fn mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => sha(&[]),
        1 => sha(&[&[0], &leaves[0]]),
        n => {
            let k = split(n);
            sha(&[&[1], &mth(&leaves[..k]), &mth(&leaves[k..])])
        }
    }
}

/// RFC 6962 §2.1.1 PATH(m, D[n]).
fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// Largest power of two smaller than n.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

const ORIGIN: &str = "glassbox.example/log";

fn log() -> NoteSigner {
    NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[1; 32])).unwrap()
}

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

fn proof_for(index: usize, leaves: &[Vec<u8>], signer: &NoteSigner) -> TlogProof {
    let checkpoint = Checkpoint {
        origin: signer.name().to_owned(),
        size: leaves.len() as u64,
        root: mth(leaves),
        extensions: vec![],
    };
    TlogProof {
        extra: None,
        index: index as u64,
        hashes: path(index, leaves),
        checkpoint: checkpoint.sign(signer).unwrap(),
    }
}

// Glassbox vector (docs/formats/notes.md §5), computed independently with Python
// `hashlib` and `cryptography`: leaves "one", "two", log key seed 0x01 × 32.
const TWO_LEAF_PROOF: &str = "c2sp.org/tlog-proof@v1\n\
index 1\n\
0Nc2CrefWKseHj/mStd+LqC8B+NrX0btIiPt2SmN+ek=\n\
\n\
glassbox.example/log\n\
2\n\
T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=\n\
\n\
— glassbox.example/log Bm1Um/KonhvZczOgzkYU52gYITZpU4C0gqsrHXdY3BRuEdppcJxQI4yFavhoAxySoqFhPI62TerikpYROv1O/q5lZQ8=\n";
const TWO_LEAF_VKEY: &str =
    "glassbox.example/log+066d549b+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";

#[test]
fn documented_two_leaf_proof_verifies() {
    let vkey = NoteVerifierKey::parse(TWO_LEAF_VKEY).unwrap();
    assert_eq!(vkey, log().verifier());
    let proof = TlogProof::parse(TWO_LEAF_PROOF.as_bytes()).unwrap();
    let checkpoint = proof.verify(b"two", &vkey).unwrap();
    assert_eq!(checkpoint.size, 2);
    assert_eq!(checkpoint.origin, ORIGIN);
    assert!(matches!(
        proof.verify(b"one", &vkey),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch { .. }))
    ));
    let built = proof_for(1, &[b"one".to_vec(), b"two".to_vec()], &log());
    assert_eq!(built.to_text(), TWO_LEAF_PROOF);
}

#[test]
fn every_index_of_small_trees_verifies_after_a_text_round_trip() {
    let signer = log();
    let vkey = signer.verifier();
    for n in 1..=9 {
        let leaves = leaves(n);
        for i in 0..n {
            let proof = proof_for(i, &leaves, &signer);
            let parsed = TlogProof::parse(proof.to_text().as_bytes()).unwrap();
            assert_eq!(parsed, proof);
            let checkpoint = parsed.verify(&leaves[i], &vkey).unwrap();
            assert_eq!(checkpoint.size, n as u64);
        }
    }
}

#[test]
fn proof_for_other_leaf_data_is_rejected() {
    let leaves = leaves(5);
    let proof = proof_for(2, &leaves, &log());
    assert!(matches!(
        proof.verify(&leaves[3], &log().verifier()),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch { .. }))
    ));
}

#[test]
fn proof_with_shifted_index_is_rejected() {
    let leaves = leaves(5);
    let mut proof = proof_for(2, &leaves, &log());
    proof.index = 3;
    assert!(matches!(
        proof.verify(&leaves[2], &log().verifier()),
        Err(TlogProofError::Inclusion(_))
    ));
}

#[test]
fn proof_with_index_beyond_tree_size_is_rejected() {
    let leaves = leaves(5);
    let mut proof = proof_for(4, &leaves, &log());
    proof.index = 5;
    assert!(matches!(
        proof.verify(&leaves[4], &log().verifier()),
        Err(TlogProofError::Inclusion(ProofError::IndexOutOfRange {
            index: 5,
            size: 5
        }))
    ));
}

#[test]
fn proof_with_flipped_hash_bit_is_rejected() {
    let leaves = leaves(7);
    let mut proof = proof_for(3, &leaves, &log());
    proof.hashes[1][0] ^= 1;
    assert!(matches!(
        proof.verify(&leaves[3], &log().verifier()),
        Err(TlogProofError::Inclusion(ProofError::RootMismatch { .. }))
    ));
}

#[test]
fn truncated_or_extended_proof_is_rejected() {
    let leaves = leaves(7);
    let mut short = proof_for(3, &leaves, &log());
    short.hashes.pop();
    assert!(matches!(
        short.verify(&leaves[3], &log().verifier()),
        Err(TlogProofError::Inclusion(
            ProofError::WrongProofLength { .. }
        ))
    ));
    let mut long = proof_for(3, &leaves, &log());
    long.hashes.push([0; 32]);
    assert!(matches!(
        long.verify(&leaves[3], &log().verifier()),
        Err(TlogProofError::Inclusion(
            ProofError::WrongProofLength { .. }
        ))
    ));
}

#[test]
fn checkpoint_signed_by_another_log_key_is_rejected() {
    let leaves = leaves(3);
    let impostor = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[2; 32])).unwrap();
    let proof = proof_for(0, &leaves, &impostor);
    let got = proof.verify(&leaves[0], &log().verifier());
    assert!(
        matches!(
            got,
            Err(TlogProofError::Checkpoint(CheckpointError::Note(
                NoteError::NoVerifiedSignature { signatures: 1, .. }
            )))
        ),
        "{got:?}"
    );
}

#[test]
fn checkpoint_of_another_origin_is_rejected() {
    let leaves = leaves(3);
    let other = NoteSigner::new("other.example/log", SigningKey::from_bytes(&[1; 32])).unwrap();
    let proof = proof_for(0, &leaves, &other);
    assert!(matches!(
        proof.verify(&leaves[0], &log().verifier()),
        Err(TlogProofError::Checkpoint(
            CheckpointError::OriginMismatch { .. }
        ))
    ));
}

#[test]
fn open_returns_the_note_for_cosignature_checks() {
    let leaves = leaves(4);
    let proof = proof_for(1, &leaves, &log());
    let signed = proof.open(&leaves[1], &log().verifier()).unwrap();
    assert_eq!(signed.note.to_bytes(), proof.checkpoint);
}
