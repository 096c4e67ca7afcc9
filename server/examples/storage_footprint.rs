//! How many bytes the SQLite store spends per entry beyond the envelope itself
//! (docs/performance.md, target ≤ 1.5× raw + 64 B/entry).
//!
//! Appends realistic build entries (signed envelopes, search terms extracted by
//! the server's own `facts`, the Merkle nodes and a checkpoint per batch) through
//! the `Storage` trait, closes the store so the WAL is folded in, and reports the
//! file size against the raw envelope bytes, with a per-table breakdown.
//!
//! ```sh
//! CARGO_TARGET_DIR=... cargo run --release -p glassbox-server --example storage_footprint -- 100000 [DB]
//! CARGO_TARGET_DIR=... cargo run --release -p glassbox-server --example storage_footprint -- open DB
//! ```

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use ed25519_dalek::SigningKey;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::merkle::{append_hashes, leaf_hash, MemoryTree};
use glassbox_core::statement::{
    ArtifactSubject, Attestation, Build, BuildRecipe, ProvenancePredicate, SourceDigest,
};
use glassbox_server::log::admission::facts::facts;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord, LogStore};

/// Entries per batch: what the sequencer commits in one busy 100 ms window.
const BATCH: u64 = 1000;
/// Distinct builder keys signing round-robin.
const BUILDERS: u64 = 8;
/// Distinct source repositories (each with its own commit and dirHash).
const REPOSITORIES: u64 = 50;

fn key(seed: u64) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[31] = 0x42;
    SigningKey::from_bytes(&bytes)
}

/// Build `n`: a distinct artifact from one of a few repositories, signed by one
/// of a few builders; the same shape as the benchmark's ingestion load.
fn build_envelope(keys: &[SigningKey], n: u64) -> Result<glassbox_core::dsse::Envelope> {
    let repo_n = n % REPOSITORIES;
    let repo = format!("https://git.example.org/team{repo_n}/service.git");
    let commit = Sha256Digest::of(&repo_n.to_be_bytes()).hex()[..40].to_owned();
    let tree = Sha256Digest::of(&(repo_n + 1).to_be_bytes()).hex()[..40].to_owned();
    let dir_hash = Sha256Digest::of(&(repo_n + 2).to_be_bytes()).hex();
    let build = Build::new(
        vec![ArtifactSubject {
            name: "app".to_owned(),
            sha256: Sha256Digest::of(&n.to_le_bytes()),
        }],
        ProvenancePredicate::new(
            BuildRecipe::new("make release".to_owned(), "out/app"),
            &repo,
            SourceDigest::from_git(&commit, &tree, &dir_hash),
            "https://builder.example.org/ci",
        ),
    )?;
    let k = &keys[(n % keys.len() as u64) as usize];
    Ok(Attestation::from(build).sign(&[k])?)
}

fn fill(path: &Path, count: u64) -> Result<u64> {
    let storage = SqliteStorage::open(path, 1)?;
    let keys: Vec<SigningKey> = (0..BUILDERS).map(key).collect();
    let mut tree = MemoryTree::from_leaf_hashes(std::iter::empty());
    let mut raw = 0u64;
    let mut size = 0u64;
    while size < count {
        let mut batch = Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note: Vec::new(),
                created_at_ms: 0,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        };
        let now = 1_767_225_600_000 + size as i64;
        for _ in 0..BATCH.min(count - size) {
            let env = build_envelope(&keys, size)?;
            let f = facts(&env).map_err(|e| anyhow!("facts: {e}"))?;
            let leaf = env.to_canonical_json();
            raw += leaf.len() as u64;
            let lh = leaf_hash(&leaf);
            batch.nodes.extend(append_hashes(size, lh, &tree)?);
            tree.push(lh);
            batch.entries.push(EntryRecord {
                index: size,
                leaf,
                leaf_hash: lh,
                statement_digest: f.statement_digest,
                kind: f.kind.to_string(),
                integrated_at_ms: now,
                signers: env.signatures.iter().map(|s| s.keyid.clone()).collect(),
                terms: f.terms,
            });
            size += 1;
        }
        // A checkpoint note of the usual size: origin, size, root, one signature.
        let note = format!(
            "log.example.org/glassbox\n{size}\n{}\n\n— log.example.org/glassbox {}\n",
            hex::encode(tree.root()),
            "A".repeat(92)
        );
        batch.checkpoint = CheckpointRecord {
            size,
            note: note.into_bytes(),
            created_at_ms: now,
        };
        storage.append_batch(&batch)?;
    }
    Ok(raw)
}

fn main() -> Result<()> {
    // `storage_footprint open DB`: time opening (and so migrating) an existing store.
    if std::env::args().nth(1).as_deref() == Some("open") {
        let path = std::env::args()
            .nth(2)
            .context("open needs a database path")?;
        let start = std::time::Instant::now();
        drop(SqliteStorage::open(Path::new(&path), 1)?);
        println!("opened {path} in {:.2} s", start.elapsed().as_secs_f64());
        return Ok(());
    }
    let count: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    // An optional second argument keeps the database there for inspection.
    let dir = tempfile::tempdir()?;
    let path = match std::env::args().nth(2) {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("glassbox.db"),
    };
    let raw = fill(&path, count)?;
    let file = std::fs::metadata(&path)?.len();
    let conn = rusqlite::Connection::open(&path)?;
    let mut stmt = conn
        .prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY SUM(pgsize) DESC")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    println!(
        "{count} build entries, {raw} raw envelope bytes ({:.0} B/entry)",
        raw as f64 / count as f64
    );
    for row in rows {
        let (name, bytes) = row?;
        println!(
            "  {name:<28} {bytes:>12} B  {:>7.1} B/entry",
            bytes as f64 / count as f64
        );
    }
    println!(
        "file {file} B = {:.3}× raw; {:.1} B/entry beyond 1.5× raw (target ≤ 64)",
        file as f64 / raw as f64,
        (file as f64 - 1.5 * raw as f64) / count as f64
    );
    Ok(())
}
