//! Valid example statements of every kind, shared by the statement tests.

#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, StatementError, PAYLOAD_TYPE};
use serde_json::{json, Value};

pub const REPO: &str = "https://git.example/acme/app";
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
pub const TREE: &str = "89abcdef0123456789abcdef0123456789abcdef";
pub const DIRHASH: &str = "95221ede299969f78a5fa9136d23f05b32dc9ae78184f9080a6412b25dce04e8";
pub const ARTIFACT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub fn source_subject() -> Value {
    json!([{"name": REPO, "digest": {"gitCommit": COMMIT, "gitTree": TREE, "dirHash": DIRHASH}}])
}

pub fn submission() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": source_subject(),
        "predicateType": "https://glassbox.dev/source-submission/v1",
        "predicate": {
            "repository": REPO,
            "product": "app",
            "version": "1.2.0",
            "reviewRequest": {"scope": "full", "notes": "please look at src/crypto"},
            "submittedAt": "2025-01-31T12:00:00Z"
        }
    })
}

pub fn review() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": source_subject(),
        "predicateType": "https://glassbox.dev/source-review/v1",
        "predicate": {
            "repository": REPO,
            "scope": ["src/crypto", "Cargo.lock"],
            "verdict": "approved-with-findings",
            "findings": "two low-severity issues",
            "reportDigest": {"sha256": ARTIFACT},
            "reviewedAt": "2025-02-03T09:30:00+01:00"
        }
    })
}

pub fn build() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app-linux-amd64", "digest": {"sha256": ARTIFACT}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://glassbox.dev/build/command/v1",
                "externalParameters": {
                    "command": "cargo build --release --locked",
                    "workingDirectory": ".",
                    "outputPath": "target/release/app",
                    "toolchain": "rust:1.89",
                    "environment": {"SOURCE_DATE_EPOCH": "0"},
                    "timeoutSeconds": 3600
                },
                "internalParameters": {"anything": ["goes", 1]},
                "resolvedDependencies": [
                    {"uri": REPO, "digest": {"gitCommit": COMMIT, "gitTree": TREE, "dirHash": DIRHASH}}
                ]
            },
            "runDetails": {
                "builder": {"id": "https://rebuilder.example/worker-1", "version": {"glassbox": "0.1.0"}},
                "metadata": {
                    "invocationId": "42",
                    "startedOn": "2025-02-04T10:00:00Z",
                    "finishedOn": "2025-02-04T10:05:00Z"
                },
                "byproducts": [{"name": "build.log", "digest": {"sha256": ARTIFACT}}]
            }
        }
    })
}

pub fn key_id(k: &SigningKey) -> String {
    glassbox_core::digest::key_id_hex(&k.verifying_key())
}

pub fn register(k: &SigningKey) -> Value {
    use base64::Engine as _;
    let id = key_id(k);
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": id, "digest": {"sha256": id}}],
        "predicateType": "https://glassbox.dev/key-event/v1",
        "predicate": {
            "event": "register",
            "publicKey": base64::engine::general_purpose::STANDARD.encode(k.verifying_key().as_bytes()),
            "name": "Alice Reviewer",
            "organisation": "Example Audits Ltd",
            "roles": ["reviewer", "builder"]
        }
    })
}

pub fn revoke(k: &SigningKey) -> Value {
    let id = key_id(k);
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": id, "digest": {"sha256": id}}],
        "predicateType": "https://glassbox.dev/key-event/v1",
        "predicate": {"event": "revoke", "reason": "laptop stolen", "compromisedSince": "2025-03-01T00:00:00Z"}
    })
}

/// Wraps a statement in an envelope signed by key 1 (signatures are not what these
/// tests look at).
pub fn envelope_of(statement: &Value) -> Envelope {
    Envelope::sign(
        PAYLOAD_TYPE,
        &serde_json::to_vec(statement).unwrap(),
        &[&key(1)],
    )
    .unwrap()
}

/// Parses through `from_envelope`, checking that the log's lean parse
/// (`of_envelope`) gives exactly the same answer, error text included.
pub fn parse(statement: &Value) -> Result<Attestation, StatementError> {
    let envelope = envelope_of(statement);
    let full = Attestation::from_envelope(&envelope).map(|(_, a)| a);
    assert_eq!(
        Attestation::of_envelope(&envelope),
        full,
        "of_envelope disagrees with from_envelope"
    );
    full
}

/// Asserts that parsing fails and the message starts with `path: ` and contains
/// `fragment`.
pub fn expect_error(statement: &Value, path: &str, fragment: &str) {
    match parse(statement) {
        Ok(a) => panic!("accepted, expected an error at {path}: {a:?}"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("{path}: ")),
                "wanted an error at {path}, got: {text}"
            );
            assert!(text.contains(fragment), "wanted {fragment:?} in: {text}");
        }
    }
}
