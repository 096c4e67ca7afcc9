//! Seeding storage directly (no sequencer, no signatures) for tests that need
//! many entries fast: export streaming, the activity chart.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::merkle::leaf_hash;
use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord, SearchTerms, Storage};

/// A structurally valid canonical envelope whose statement is a build of
/// `name` (artifact digest = SHA-256 of `name`) from source `n`. Its signature
/// is zeros: storage and export never verify signatures. Returned with its
/// search terms and statement digest.
pub fn synthetic_leaf(name: &str, repo: &str, n: u64) -> (Vec<u8>, SearchTerms, [u8; 32]) {
    let artifact = Sha256Digest::of(name.as_bytes()).hex();
    let dir_hash = Sha256Digest::of(format!("tree {n}").as_bytes()).hex();
    let commit = Sha256Digest::of(format!("commit {n}").as_bytes()).hex()[..40].to_string();
    // Built as text: the envelope's keys are already in RFC 8785 order and every
    // value is plain ASCII, so this is the canonical form (JCS in a debug build
    // would dominate a 100,000-entry test).
    let statement = format!(
        concat!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{name}","digest":{{"sha256":"{artifact}"}}}}],"#,
            r#""predicateType":"https://slsa.dev/provenance/v1","predicate":{{"buildDefinition":{{"resolvedDependencies":"#,
            r#"[{{"uri":"{repo}","digest":{{"gitCommit":"{commit}","dirHash":"{dir_hash}"}}}}]}}}}}}"#
        ),
        name = name,
        artifact = artifact,
        repo = repo,
        commit = commit,
        dir_hash = dir_hash
    );
    let leaf = format!(
        r#"{{"payload":"{}","payloadType":"application/vnd.in-toto+json","signatures":[{{"keyid":"{}","sig":"{}"}}]}}"#,
        STANDARD.encode(statement.as_bytes()),
        "ab".repeat(32),
        STANDARD.encode([0u8; 64])
    )
    .into_bytes();
    let statement_digest = Sha256Digest::of(&glassbox_core::dsse::pae(
        "application/vnd.in-toto+json",
        statement.as_bytes(),
    ))
    .0;
    let terms = SearchTerms {
        artifacts: vec![artifact],
        commits: vec![commit],
        dir_hashes: vec![dir_hash],
        repositories: vec![repo.to_string()],
    };
    (leaf, terms, statement_digest)
}

/// Append `count` synthetic build entries starting at index `start`, entry `i`
/// integrated at `time_ms(i)`, and a checkpoint record for the new size.
pub fn seed(storage: &dyn Storage, start: u64, count: u64, time_ms: impl Fn(u64) -> i64) {
    let entries = (start..start + count)
        .map(|i| {
            let (leaf, terms, statement_digest) =
                synthetic_leaf(&format!("app-{i}.bin"), "https://git.example/app", i % 7);
            EntryRecord {
                index: i,
                leaf_hash: leaf_hash(&leaf),
                statement_digest,
                leaf,
                kind: "build".into(),
                integrated_at_ms: time_ms(i),
                signers: vec!["ab".repeat(32)],
                terms,
            }
        })
        .collect();
    storage
        .append_batch(&Batch {
            entries,
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: start + count,
                note: b"synthetic\n".to_vec(),
                created_at_ms: time_ms(start + count),
            },
            key_events: Vec::new(),
            index: Vec::new(),
        })
        .unwrap();
}
