//! Seeding storage directly (no sequencer, no signatures) for tests that need
//! many entries fast: export streaming, search pages, the activity chart; and
//! the state of a router that only reads it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::merkle::leaf_hash;
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, ProvenancePredicate, SourceDigest,
};
use glassbox_server::config::RateLimit;
use glassbox_server::http::ratelimit::RateLimiter;
use glassbox_server::http::state::{AppState, Limits};
use glassbox_server::log::sequencer::queue;
use glassbox_server::metrics::Metrics;
use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord, SearchTerms, Storage};

/// Placeholders of [`template`], each replaced per entry.
const NAME: &str = "SYNTHETIC-NAME";
const ARTIFACT: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const COMMIT: &str = "2222222222222222222222222222222222222222";
const DIR_HASH: &str = "3333333333333333333333333333333333333333333333333333333333333333";
const REPO: &str = "https://synthetic.example/repo";

/// The canonical payload of a valid build statement with placeholder values,
/// made once by the code the CLI signs with: replacing the values keeps it
/// canonical (RFC 8785 orders members by name, not value) and valid, without
/// building a statement per entry (JCS in a debug build would dominate a
/// 100,000-entry test).
fn template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let tree = "4".repeat(40);
        let predicate = ProvenancePredicate::new(
            BuildRecipe::new("make", "out.bin"),
            REPO,
            SourceDigest::from_git(COMMIT, tree, DIR_HASH),
            "https://builder.example/synthetic",
        );
        let build = Build::new(
            vec![ArtifactSubject {
                name: NAME.into(),
                sha256: ARTIFACT.parse().unwrap(),
            }],
            predicate,
        )
        .unwrap();
        String::from_utf8(Attestation::from(build).to_payload()).unwrap()
    })
}

/// A canonical envelope whose statement is a valid build of `name` (artifact
/// digest = SHA-256 of `name`) from source `n` of `repo`. Its signature is
/// zeros: storage and export never verify signatures. Returned with its search
/// terms and statement digest.
pub fn synthetic_leaf(name: &str, repo: &str, n: u64) -> (Vec<u8>, SearchTerms, [u8; 32]) {
    let artifact = Sha256Digest::of(name.as_bytes()).hex();
    let dir_hash = Sha256Digest::of(format!("tree {n}").as_bytes()).hex();
    let commit = Sha256Digest::of(format!("commit {n}").as_bytes()).hex()[..40].to_string();
    let statement = template()
        .replace(NAME, name)
        .replace(ARTIFACT, &artifact)
        .replace(COMMIT, &commit)
        .replace(DIR_HASH, &dir_hash)
        .replace(REPO, repo);
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
    seed_named(storage, start, count, |i| format!("app-{i}.bin"), time_ms)
}

/// [`seed`] with entry `i` a build of the artifact named `name(i)` (a long name
/// makes a large entry).
pub fn seed_named(
    storage: &dyn Storage,
    start: u64,
    count: u64,
    name: impl Fn(u64) -> String,
    time_ms: impl Fn(u64) -> i64,
) {
    let entries = (start..start + count)
        .map(|i| {
            let (leaf, terms, statement_digest) =
                synthetic_leaf(&name(i), "https://git.example/app", i % 7);
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

/// The state of a router over `storage` that only reads: no sequencer behind
/// its queue, rate limits out of the way.
pub fn reader_state(storage: Arc<dyn Storage>) -> AppState {
    let metrics = Arc::new(Metrics::default());
    let (sequencer, _rx) = queue(1, metrics.clone());
    let open = RateLimit {
        rate_per_sec: 1e6,
        burst: 1e6,
    };
    AppState {
        storage,
        sequencer,
        metrics,
        ip_limiter: Arc::new(RateLimiter::new(open)),
        signer_limiter: Arc::new(RateLimiter::new(open)),
        trusted_proxies: Default::default(),
        limits: Limits {
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(120),
        },
        index: Default::default(),
        reads: Default::default(),
    }
}
