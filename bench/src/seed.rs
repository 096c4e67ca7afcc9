//! Growing a stopped server's log to millions of entries through the storage API
//! (`glassbox_server::storage`), exactly as the sequencer writes a batch: entries,
//! the Merkle nodes they complete, and a checkpoint signed with the log's key — so
//! the server restarts on it, passes its integrity check and serves proofs. Much
//! faster than HTTP, which the ingestion measurement covers separately.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::merkle::{append_hashes, leaf_hash, MemoryTree};
use glassbox_core::note::NoteSigner;
use glassbox_server::datadir::{DB_FILE, LOG_KEY_FILE};
use glassbox_server::facts::facts;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord, Storage};

use crate::envelopes;

/// Entries per storage batch (one transaction, one fsync).
const CHUNK: u64 = 20_000;

/// Append build entries signed by `builder` (already registered with the builder
/// role) until the log at `data` holds `target` entries. Returns the time spent.
pub fn grow(data: &Path, target: u64, builder: &SigningKey) -> Result<Duration> {
    let start = Instant::now();
    let storage = SqliteStorage::open(&data.join(DB_FILE), 1)?;
    let identity = storage
        .identity()?
        .context("the data directory has no log identity; start the server on it once")?;
    let signer = NoteSigner::new(
        &identity.origin,
        glassbox_keys::load_signing_key(&data.join(LOG_KEY_FILE))?,
    )
    .map_err(|e| anyhow!("log key: {e}"))?;
    let mut size = storage.latest_checkpoint()?.map_or(0, |c| c.size);
    let mut tree =
        MemoryTree::from_leaf_hashes(storage.leaves(0, size)?.iter().map(|l| leaf_hash(l)));
    let keys = [builder.clone()];
    while size < target {
        let count = CHUNK.min(target - size);
        // Serial numbers far from the ingestion run's, so artifacts never collide.
        let envs = envelopes::builds(&keys, 1 << 40 | size, count, 0)?;
        let now = 1_767_225_600_000;
        let mut batch = Batch {
            entries: Vec::with_capacity(count as usize),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note: Vec::new(),
                created_at_ms: now,
            },
            key_events: Vec::new(),
        };
        for env in envs {
            let f = facts(&env).map_err(|e| anyhow!("facts: {e}"))?;
            let leaf = env.to_canonical_json();
            let lh = leaf_hash(&leaf);
            batch.nodes.extend(append_hashes(size, lh, &tree)?);
            tree.push(lh);
            batch.entries.push(EntryRecord {
                index: size,
                leaf,
                leaf_hash: lh,
                kind: f.kind.to_string(),
                integrated_at_ms: now,
                signers: env.signatures.iter().map(|s| s.keyid.clone()).collect(),
                terms: f.terms,
            });
            size += 1;
        }
        let note = Checkpoint {
            origin: identity.origin.clone(),
            size,
            root: tree.root(),
            extensions: Vec::new(),
        }
        .sign(&signer)
        .map_err(|e| anyhow!("signing checkpoint: {e}"))?;
        batch.checkpoint = CheckpointRecord {
            size,
            note,
            created_at_ms: now,
        };
        storage.append_batch(&batch)?;
    }
    Ok(start.elapsed())
}
