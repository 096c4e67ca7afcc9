//! `glassbox inspect`: each file kind is recognised, and signature and inclusion
//! checks report — and set the exit status — truthfully.

mod common;

use std::fs;
use std::path::Path;

use common::{fails_with, glassbox, ok};
use glassbox_core::bundle::{Bundle, BundleIndex, IndexLookup, Receipt, BUNDLE_MEDIA_TYPE};
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::merkle::{inclusion_proof, leaf_hash, MemoryTree};
use glassbox_core::note::NoteSigner;
use glassbox_core::tlog_proof::TlogProof;
use serde_json::Value;

const ORIGIN: &str = "log.example.com/test";

/// A directory with an operator key `op.pem` and its genesis envelope `genesis.json`,
/// plus a second key `other.pem`.
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "op.pem"],
    ));
    ok(glassbox(
        tmp.path(),
        &["key", "generate", "--out", "other.pem"],
    ));
    ok(glassbox(
        tmp.path(),
        &[
            "attest",
            "key",
            "--self-signed",
            "--register",
            "op.pem.pub",
            "--name",
            "Op",
            "--organisation",
            "Example",
            "--roles",
            "operator",
            "--key",
            "op.pem",
            "-o",
            "genesis.json",
        ],
    ));
    tmp
}

fn log_signer(seed: u8) -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[seed; 32])).unwrap()
}

/// A two-entry log whose second leaf is `genesis.json`; returns (receipt, checkpoint).
fn receipt_for(dir: &Path, log: &NoteSigner) -> (Receipt, String) {
    let envelope = Envelope::from_json(&fs::read(dir.join("genesis.json")).unwrap()).unwrap();
    let mut tree = MemoryTree::new();
    tree.push(leaf_hash(b"an earlier entry"));
    let index = tree.push(leaf_hash(&envelope.to_canonical_json()));
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: tree.size(),
        root: tree.root(),
        extensions: vec![],
    }
    .sign(log)
    .unwrap();
    let proof = TlogProof {
        extra: None,
        index,
        hashes: inclusion_proof(index, tree.size(), &tree).unwrap(),
        checkpoint: checkpoint.clone(),
    };
    let receipt = Receipt {
        index,
        entry: envelope.to_value(),
        tlog_proof: proof.to_text(),
    };
    (receipt, String::from_utf8(checkpoint).unwrap())
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap()
}

#[test]
fn envelope_signature_verifies_only_under_its_key() {
    let tmp = setup();
    let out = ok(glassbox(
        tmp.path(),
        &["inspect", "genesis.json", "--key", "op.pem.pub"],
    ));
    assert!(out.contains("type: DSSE envelope"), "{out}");
    assert!(out.contains("kind: key-event"), "{out}");
    assert!(out.contains("status: verified"), "{out}");

    let other = glassbox(
        tmp.path(),
        &["inspect", "genesis.json", "--key", "other.pem.pub"],
    );
    assert_eq!(
        other.status.code(),
        Some(1),
        "no signature by the given key"
    );

    let plain = ok(glassbox(tmp.path(), &["inspect", "genesis.json", "--json"]));
    assert_eq!(json(&plain)["kind"], "key-event");
}

#[test]
fn tampered_envelope_fails_with_status_1() {
    let tmp = setup();
    let mut envelope =
        Envelope::from_json(&fs::read(tmp.path().join("genesis.json")).unwrap()).unwrap();
    envelope.payload = envelope.payload.replace_first("Example", "Exampl3");
    fs::write(
        tmp.path().join("tampered.json"),
        envelope.to_canonical_json(),
    )
    .unwrap();
    let out = glassbox(
        tmp.path(),
        &["inspect", "tampered.json", "--key", "op.pem.pub"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"));
}

trait ReplaceFirst {
    fn replace_first(&self, from: &str, to: &str) -> Vec<u8>;
}
impl ReplaceFirst for Vec<u8> {
    fn replace_first(&self, from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(self.clone())
            .unwrap()
            .replacen(from, to, 1)
            .into_bytes()
    }
}

#[test]
fn checkpoint_signature_checked_by_vkey() {
    let tmp = setup();
    let log = log_signer(1);
    let (_, checkpoint) = receipt_for(tmp.path(), &log);
    fs::write(tmp.path().join("checkpoint"), &checkpoint).unwrap();
    let vkey = log.verifier().to_string();
    let out = ok(glassbox(
        tmp.path(),
        &["inspect", "checkpoint", "--vkey", &vkey, "--json"],
    ));
    let v = json(&out);
    assert_eq!(v["type"], "signed checkpoint");
    assert_eq!(v["origin"], ORIGIN);
    assert_eq!(v["size"], 2);
    assert_eq!(v["signatures"][0]["status"], "verified");

    let stranger = log_signer(2).verifier().to_string();
    let out = glassbox(tmp.path(), &["inspect", "checkpoint", "--vkey", &stranger]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a key that did not sign verifies nothing"
    );
}

#[test]
fn receipt_inclusion_and_signatures_verify() {
    let tmp = setup();
    let log = log_signer(1);
    let (receipt, _) = receipt_for(tmp.path(), &log);
    fs::write(
        tmp.path().join("receipt.json"),
        serde_json::to_vec(&receipt).unwrap(),
    )
    .unwrap();
    fs::write(tmp.path().join("entry.proof"), &receipt.tlog_proof).unwrap();
    let vkey = log.verifier().to_string();
    let out = ok(glassbox(
        tmp.path(),
        &[
            "inspect",
            "receipt.json",
            "--vkey",
            &vkey,
            "--key",
            "op.pem.pub",
        ],
    ));
    assert!(out.contains("type: receipt"), "{out}");
    assert!(
        out.contains("inclusion: verified in tree of size 2"),
        "{out}"
    );
    assert!(
        out.contains("3 signature(s) or proof(s) verified, 0 failed"),
        "{out}"
    );

    let proof = ok(glassbox(
        tmp.path(),
        &["inspect", "entry.proof", "--vkey", &vkey],
    ));
    assert!(proof.contains("type: tlog-proof"), "{proof}");
    assert!(proof.contains("index: 1"), "{proof}");

    // A receipt whose index disagrees with its proof's is refused.
    let mut forged = receipt.clone();
    forged.index = 0;
    fs::write(
        tmp.path().join("forged.json"),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    let out = glassbox(tmp.path(), &["inspect", "forged.json", "--vkey", &vkey]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bundle_lists_entries_and_key_events() {
    let tmp = setup();
    let log = log_signer(1);
    let (receipt, checkpoint) = receipt_for(tmp.path(), &log);
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_owned(),
        artifact: format!("sha256:{}", "ab".repeat(32)),
        checkpoint,
        entries: vec![],
        key_events: vec![receipt],
        index: None,
    };
    fs::write(
        tmp.path().join("b.json"),
        serde_json::to_vec(&bundle).unwrap(),
    )
    .unwrap();
    let vkey = log.verifier().to_string();
    let out = ok(glassbox(
        tmp.path(),
        &["inspect", "b.json", "--vkey", &vkey, "--json"],
    ));
    let v = json(&out);
    assert_eq!(v["type"], "bundle");
    assert_eq!(v["keyEvents"][0]["index"], 1);
    assert_eq!(v["keyEvents"][0]["entry"]["kind"], "key-event");
    assert_eq!(v["failed"], 0);
}

/// A version 2 bundle: entry 0 the genesis registration, entry 1 the log's index
/// commitment over it; the registry lookup checks out, an edited copy does not.
#[test]
fn a_version_2_bundle_shows_its_commitment_and_checks_each_lookup() {
    use glassbox_core::bundle::BUNDLE_MEDIA_TYPE_V2;
    use glassbox_core::index::{keys_of, IndexCommitment, IndexKey, Trie};
    use glassbox_core::statement::Attestation;

    let tmp = setup();
    let log_key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let log = log_signer(1);
    let genesis = Envelope::from_json(&fs::read(tmp.path().join("genesis.json")).unwrap()).unwrap();
    let mut trie = Trie::new();
    let (_, attestation) = Attestation::from_envelope(&genesis).unwrap();
    for key in keys_of(&genesis, &attestation) {
        trie.append(key.hash(), 0);
    }
    let commitment = IndexCommitment {
        origin: ORIGIN.to_owned(),
        size: 1,
        root: trie.root(),
        keys: trie.len() as u64,
    }
    .sign(&log_key)
    .unwrap();
    let mut tree = MemoryTree::new();
    for env in [&genesis, &commitment] {
        tree.push(leaf_hash(&env.to_canonical_json()));
    }
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 2,
        root: tree.root(),
        extensions: vec![],
    }
    .sign(&log)
    .unwrap();
    let receipt = |index: u64, env: &Envelope| Receipt {
        index,
        entry: env.to_value(),
        tlog_proof: TlogProof {
            extra: None,
            index,
            hashes: inclusion_proof(index, 2, &tree).unwrap(),
            checkpoint: checkpoint.clone(),
        }
        .to_text(),
    };
    let mut bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE_V2.to_owned(),
        artifact: format!("sha256:{}", "ab".repeat(32)),
        checkpoint: String::from_utf8(checkpoint.clone()).unwrap(),
        entries: vec![],
        key_events: vec![receipt(0, &genesis)],
        index: Some(BundleIndex {
            commitment: receipt(1, &commitment),
            lookups: vec![IndexLookup {
                key: "registry".to_owned(),
                indices: vec![0],
                proof: trie.prove(&IndexKey::Registry.hash()),
            }],
        }),
    };
    let vkey = log.verifier().to_string();
    let inspect = |bundle: &Bundle, name: &str| {
        fs::write(tmp.path().join(name), serde_json::to_vec(bundle).unwrap()).unwrap();
        glassbox(tmp.path(), &["inspect", name, "--vkey", &vkey, "--json"])
    };
    let v = json(&ok(inspect(&bundle, "v2.json")));
    assert_eq!(v["index"]["commitment"]["covers"], 1);
    assert_eq!(v["index"]["commitment"]["root"], hex::encode(trie.root()));
    assert_eq!(v["index"]["lookups"][0]["key"], "registry");
    assert!(v["index"]["lookups"][0]["proof"]
        .as_str()
        .unwrap()
        .starts_with("verified"));
    assert_eq!(v["failed"], 0);

    // The same bundle with the registry's list cut short.
    bundle.index.as_mut().unwrap().lookups[0].indices.clear();
    let out = inspect(&bundle, "cut.json");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unrecognised_or_missing_files_are_errors() {
    let tmp = setup();
    fs::write(tmp.path().join("junk.txt"), b"hello\n").unwrap();
    fails_with(
        glassbox(tmp.path(), &["inspect", "junk.txt"]),
        &["junk.txt", "not an envelope"],
    );
    fs::write(tmp.path().join("other.json"), b"{\"a\": 1}").unwrap();
    fails_with(
        glassbox(tmp.path(), &["inspect", "other.json"]),
        &["other.json"],
    );
    fails_with(
        glassbox(tmp.path(), &["inspect", "nope.json"]),
        &["nope.json"],
    );
    fails_with(
        glassbox(
            tmp.path(),
            &["inspect", "genesis.json", "--vkey", "garbage"],
        ),
        &["--vkey", "garbage"],
    );
}
