//! The verifiable index in process: building and updating the trie, lookup proofs,
//! proof size, memory per key — each against the log's own Merkle tree (RFC 9162)
//! doing the same number of appends and inclusion proofs in the same run.
//!
//! Keys are SHA-256 of counters, as index keys are SHA-256 of key strings. A batch
//! is 4,096 key updates followed by one root, as the sequencer would file a batch.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use glassbox_core::index::Trie;
use glassbox_core::merkle::{inclusion_proof, leaf_hash, MemoryTree};
use sha2::{Digest, Sha256};

use crate::report::{ratio, Report, Target};
use crate::Ctx;

const BATCH: u64 = 4096;

fn key(n: u64) -> [u8; 32] {
    Sha256::digest(n.to_be_bytes()).into()
}

/// Resident set size of this process, in bytes.
fn rss_bytes() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0)
}

struct Row {
    keys: u64,
    build_us: f64,
    merkle_append_us: f64,
    update_us: f64,
    proofs_per_sec: f64,
    inclusion_per_sec: f64,
    verify_per_sec: f64,
    proof_mean: f64,
    proof_max: usize,
    bytes_per_key: f64,
}

fn measure(keys: u64) -> Row {
    // The trie, built batch by batch.
    let rss0 = rss_bytes();
    let mut trie = Trie::new();
    let t = Instant::now();
    let mut next = 0;
    while next < keys {
        for k in next..(next + BATCH).min(keys) {
            trie.append(key(k), k);
        }
        black_box(trie.root());
        next += BATCH;
    }
    let build_us = t.elapsed().as_secs_f64() * 1e6 / keys as f64;
    let bytes_per_key = (rss_bytes() - rss0).max(0.0) / keys as f64;

    // Steady state: batches of half existing keys, half new ones.
    let rounds = 16u64;
    let t = Instant::now();
    for r in 0..rounds {
        for j in 0..BATCH / 2 {
            let at = keys + r * BATCH + j;
            trie.append(key((r * 7919 + j * 104_729) % keys), at);
            trie.append(key(at), at);
        }
        black_box(trie.root());
    }
    let update_us = t.elapsed().as_secs_f64() * 1e6 / (rounds * BATCH) as f64;

    // Lookup proofs, encoded as served.
    let root = trie.root();
    let proofs = 100_000u64.min(keys * 4);
    let t = Instant::now();
    let mut total = 0usize;
    let mut max = 0usize;
    let mut sample = Vec::new();
    for p in 0..proofs {
        let k = key(p.wrapping_mul(2_654_435_761) % keys);
        let bytes = trie.prove(&k).to_bytes();
        total += bytes.len();
        max = max.max(bytes.len());
        if sample.len() < 10_000 {
            sample.push((k, bytes));
        }
    }
    let proofs_per_sec = proofs as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (k, bytes) in &sample {
        let proof = glassbox_core::index::IndexProof::from_bytes(bytes).expect("own proof");
        black_box(proof.verify(&root, k).expect("own proof verifies"));
    }
    let verify_per_sec = sample.len() as f64 / t.elapsed().as_secs_f64();
    drop(trie);

    // Baseline: the log's Merkle tree, the same number of appends and proofs.
    let mut tree = MemoryTree::new();
    let t = Instant::now();
    for k in 0..keys {
        tree.push(leaf_hash(&k.to_be_bytes()));
    }
    black_box(tree.root());
    let merkle_append_us = t.elapsed().as_secs_f64() * 1e6 / keys as f64;
    let t = Instant::now();
    for p in 0..proofs {
        let index = p.wrapping_mul(2_654_435_761) % keys;
        black_box(inclusion_proof(index, keys, &tree).expect("in range"));
    }
    let inclusion_per_sec = proofs as f64 / t.elapsed().as_secs_f64();

    Row {
        keys,
        build_us,
        merkle_append_us,
        update_us,
        proofs_per_sec,
        inclusion_per_sec,
        verify_per_sec,
        proof_mean: total as f64 / proofs as f64,
        proof_max: max,
        bytes_per_key,
    }
}

/// `glassbox-bench index`: one row per size in `ctx.scale.index_keys`.
pub fn index(ctx: &Ctx, rep: &mut Report) -> Result<()> {
    let rows: Vec<Row> = ctx
        .scale
        .index_keys
        .iter()
        .map(|&n| measure(n.max(2)))
        .collect();
    rep.section("verifiable index (in process, one thread)");
    rep.note(
        "Keys are SHA-256 of counters; a batch is 4,096 key updates and one root. The \
         baseline is the log's own RFC 9162 tree in the same run: one leaf append per key, \
         one inclusion proof per lookup proof. Memory is the process's RSS growth while \
         the trie was built.",
    );
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("{}", r.keys),
                format!("{:.2} µs", r.build_us),
                format!("{:.2} µs", r.merkle_append_us),
                format!("{:.1}×", ratio(r.build_us, r.merkle_append_us)),
                format!("{:.2} µs", r.update_us),
                format!("{:.0}", r.proofs_per_sec),
                format!("{:.0}", r.inclusion_per_sec),
                format!("{:.2}×", ratio(r.proofs_per_sec, r.inclusion_per_sec)),
                format!("{:.0}", r.verify_per_sec),
                format!("{:.0} B (max {})", r.proof_mean, r.proof_max),
                format!("{:.0} B", r.bytes_per_key),
            ]
        })
        .collect();
    rep.table(
        &[
            "keys",
            "build / key",
            "Merkle append / leaf",
            "build ÷ append",
            "steady update / key",
            "lookup proofs/s",
            "inclusion proofs/s",
            "lookup ÷ inclusion",
            "verifications/s",
            "proof size",
            "memory / key",
        ],
        &table,
    );
    if let Some(r) = rows.iter().find(|r| r.keys == 1_000_000) {
        rep.target(Target::at_least(
            "index lookup proofs/s at 10^6 keys (one thread)",
            r.proofs_per_sec,
            10_000.0,
        ));
    }
    if let Some(r) = rows.iter().max_by_key(|r| r.keys) {
        rep.target(Target::at_most(
            &format!("index proof bytes at {} keys (largest seen)", r.keys),
            r.proof_max as f64,
            2048.0,
        ));
    }
    Ok(())
}
