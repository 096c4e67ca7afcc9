//! Anyone can rebuild the log's index: this test recomputes every index commitment
//! of a real server's log from its raw entry bundles (`tile/entries/…`), following
//! docs/formats/index.md with its own code — JSON read as plain values, its own
//! hash chain and its own crit-bit trie — and none of the product's index code. A
//! log whose commitments an independent reader cannot reproduce would be caught here.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use glassbox_core::tile::{decode_entry_bundle, TilePath};
use glassbox_tests::http;
use glassbox_tests::story::{Story, Who};
use serde_json::Value;
use sha2::{Digest, Sha256};

const COMMITMENT: &str = "https://glassbox.dev/index-commitment/v1";

/// Every raw entry of the log at `url`, from its entry bundles.
fn entries(url: &str) -> Vec<Vec<u8>> {
    let checkpoint = String::from_utf8(http::get(&format!("{url}/checkpoint")).unwrap()).unwrap();
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    let mut out = Vec::new();
    for index in 0..size.div_ceil(256) {
        let width = (size - index * 256).min(256) as u16;
        let path = TilePath::Entries { index, width };
        let bundle = http::get(&format!("{url}/{path}")).unwrap();
        out.extend(decode_entry_bundle(&bundle).unwrap());
    }
    assert_eq!(out.len() as u64, size);
    out
}

/// The statement inside an envelope.
fn statement(envelope: &Value) -> Value {
    let payload = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

fn lower(v: &Value) -> String {
    v.as_str().unwrap().to_ascii_lowercase()
}

/// The index keys of one entry, by the documented mapping.
fn keys(envelope: &Value, statement: &Value) -> Vec<String> {
    let mut keys: Vec<String> = envelope["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("signer:{}", lower(&s["keyid"])))
        .collect();
    let predicate_type = statement["predicateType"].as_str().unwrap();
    let subjects = statement["subject"].as_array().unwrap();
    match predicate_type {
        "https://glassbox.dev/source-submission/v1" | "https://glassbox.dev/source-review/v1" => {
            keys.push(format!(
                "source:{}",
                lower(&subjects[0]["digest"]["dirHash"])
            ));
        }
        "https://slsa.dev/provenance/v1" => {
            for s in subjects {
                keys.push(format!("artifact:{}", lower(&s["digest"]["sha256"])));
            }
            let deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
                .as_array()
                .unwrap();
            for d in deps {
                keys.push(format!("source:{}", lower(&d["digest"]["dirHash"])));
            }
        }
        "https://glassbox.dev/key-event/v1" => {
            keys.push("registry".to_owned());
            keys.push(format!("signer:{}", lower(&subjects[0]["name"])));
        }
        other => panic!("an entry of an unknown kind: {other}"),
    }
    keys.sort();
    keys.dedup();
    keys
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn bit(key: &[u8; 32], i: usize) -> bool {
    key[i / 8] >> (7 - i % 8) & 1 == 1
}

/// The trie root over `leaves` (sorted by key): a single leaf is its hash; a range
/// splits at the first bit where its first and last keys differ.
fn root(leaves: &[([u8; 32], u64, [u8; 32])]) -> [u8; 32] {
    match leaves {
        [] => sha256(&[]),
        [(key, count, head)] => sha256(&[&[0x00], key, &count.to_be_bytes(), head]),
        [first, .., last] => {
            let crit = (0..256)
                .find(|&i| bit(&first.0, i) != bit(&last.0, i))
                .unwrap();
            let split = leaves.partition_point(|l| !bit(&l.0, crit));
            let (left, right) = leaves.split_at(split);
            sha256(&[&[0x01], &[crit as u8], &root(left), &root(right)])
        }
    }
}

#[test]
fn every_commitment_of_a_real_log_is_rebuilt_from_its_raw_entries() {
    let mut story = Story::happy();
    story.review(
        Who::Reviewer,
        &story.commit.clone(),
        "rejected",
        "2025-03-01T00:00:00Z",
    );
    story.revoke(Who::Rebuilder, None);

    // key string → (count, head)
    let mut index: BTreeMap<String, (u64, [u8; 32])> = BTreeMap::new();
    let mut commitments = 0;
    for (i, leaf) in entries(&story.url).iter().enumerate() {
        let envelope: Value = serde_json::from_slice(leaf).unwrap();
        let statement = statement(&envelope);
        if statement["predicateType"] == COMMITMENT {
            let mut leaves: Vec<([u8; 32], u64, [u8; 32])> = index
                .iter()
                .map(|(k, (count, head))| (sha256(&[k.as_bytes()]), *count, *head))
                .collect();
            leaves.sort();
            let committed = statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap();
            assert_eq!(hex::encode(root(&leaves)), committed, "commitment at {i}");
            assert_eq!(statement["predicate"]["size"], i as u64);
            assert_eq!(statement["predicate"]["keys"], index.len() as u64);
            commitments += 1;
            continue;
        }
        for key in keys(&envelope, &statement) {
            let (count, head) = index.entry(key).or_insert((0, [0; 32]));
            *head = sha256(&[&[0x02], head, &(i as u64).to_be_bytes()]);
            *count += 1;
        }
    }
    // One per batch: every submission of the story was its own batch.
    assert!(commitments >= 10, "{commitments} commitments");
}
