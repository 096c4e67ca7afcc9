//! A statement is logged once, at its first position (docs/design.md §6a): a
//! re-submission of a logged statement under other signatures is answered with
//! the first copy, or refused when it adds a signer — from memory, from storage
//! after a restart, and from a database written by the previous schema.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use glassbox_core::statement::Role;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::Storage;
use support::*;

const REPO: &str = "https://git.example/widget";

/// Where the first statement a test logs after [`reviewers`] lands: the genesis
/// and the three registrations are each a batch of their own, ended by the
/// log's index commitment.
const FIRST: u64 = one_per_batch(4);

/// The log's size once that statement's batch is committed: the statement and
/// the index commitment after it.
const AFTER_FIRST: u64 = FIRST + 2;

/// Reviewers registered at indexes 2, 4 and 6 of a fresh log.
async fn reviewers(log: &TestLog) -> (Participant, Participant, Participant) {
    let (a, b, c) = (participant(3), participant(5), participant(6));
    for r in [&a, &b, &c] {
        log.enrol(r, &[Role::Reviewer]).await;
    }
    (a, b, c)
}

fn sqlite(path: &Path) -> Arc<dyn Storage> {
    Arc::new(SqliteStorage::open(path, 2).unwrap())
}

/// The log's size as its newest checkpoint states it.
fn size(log: &TestLog) -> u64 {
    log.storage.latest_checkpoint().unwrap().unwrap().size
}

/// `env` answered 200 with the receipt of the entry at `first`, whose envelope
/// is the first copy's (not the one just sent), provable against the log key.
async fn answered_with_first_copy(log: &TestLog, env: &glassbox_core::dsse::Envelope, first: u64) {
    let (status, receipt) = log.submit(env).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["index"], first);
    let stored = log.storage.entry(first).unwrap().unwrap().leaf;
    assert_eq!(
        glassbox_core::jcs::canonicalize(&receipt["entry"]).unwrap(),
        stored
    );
    verify_receipt(&receipt, &log.vkey);
}

/// `env` refused with 409 `statement_already_logged`, naming the first copy's
/// index and the signer it lacks.
async fn refused_as_already_logged(
    log: &TestLog,
    env: &glassbox_core::dsse::Envelope,
    first: u64,
    added: &Participant,
) {
    let (status, body) = log.submit(env).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "statement_already_logged");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("index {first}")), "{message}");
    assert!(message.contains(&added.id), "{message}");
    assert!(message.contains("before its first submission"), "{message}");
}

#[tokio::test]
async fn a_cosigned_review_resubmitted_with_its_signatures_reordered_gets_the_first_index() {
    let log = TestLog::memory().await;
    let (a, b, _) = reviewers(&log).await;
    let (status, first) = log.submit(&cosigned_review(&[&a, &b], REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["index"], FIRST);
    answered_with_first_copy(&log, &cosigned_review(&[&b, &a], REPO, 1), FIRST).await;
    assert_eq!(size(&log), AFTER_FIRST, "no second copy was logged");
}

#[tokio::test]
async fn a_subset_of_the_cosignatures_gets_the_first_index() {
    let log = TestLog::memory().await;
    let (a, b, c) = reviewers(&log).await;
    let (status, _) = log.submit(&cosigned_review(&[&a, &b, &c], REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    answered_with_first_copy(&log, &cosigned_review(&[&c], REPO, 1), FIRST).await;
    answered_with_first_copy(&log, &cosigned_review(&[&b, &a], REPO, 1), FIRST).await;
    assert_eq!(size(&log), AFTER_FIRST);
}

#[tokio::test]
async fn an_envelope_adding_a_signer_to_a_logged_statement_is_409() {
    let log = TestLog::memory().await;
    let (a, b, c) = reviewers(&log).await;
    let (status, _) = log.submit(&cosigned_review(&[&a, &b], REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    // A co-signature added after the first submission would not count at a
    // later position; neither order nor the signers it shares change that.
    refused_as_already_logged(&log, &cosigned_review(&[&a, &b, &c], REPO, 1), FIRST, &c).await;
    refused_as_already_logged(&log, &cosigned_review(&[&c, &a], REPO, 1), FIRST, &c).await;
    refused_as_already_logged(&log, &review(&c, REPO, 1), FIRST, &c).await;
    assert_eq!(size(&log), AFTER_FIRST);
    // A new statement (another source) is a new entry.
    let (status, _) = log.submit(&cosigned_review(&[&a, &b, &c], REPO, 2)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_tampered_copy_of_a_logged_statement_is_still_403_bad_signature() {
    let log = TestLog::memory().await;
    let (a, b, _) = reviewers(&log).await;
    let (status, _) = log.submit(&cosigned_review(&[&a, &b], REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    for order in [[&a, &b], [&b, &a]] {
        let mut forged = cosigned_review(&order, REPO, 1);
        forged.signatures[1].sig[0] ^= 1;
        let (status, body) = log.submit(&forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(code(&body), "bad_signature");
    }
    assert_eq!(size(&log), AFTER_FIRST);
}

#[tokio::test]
async fn two_copies_of_a_statement_in_one_batch_are_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glassbox.db");
    let (a, b) = {
        let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
        let (a, b, _) = reviewers(&log).await;
        (a, b)
    };
    // Batches of exactly two, cut only when full: both copies are in one.
    let opts = Options {
        batch_size: 2,
        batch_interval: Duration::from_secs(3600),
        ..Options::default()
    };
    let log = TestLog::with(opts, Some(sqlite(&path))).await;
    let (ab, ba) = (
        cosigned_review(&[&a, &b], REPO, 1),
        cosigned_review(&[&b, &a], REPO, 1),
    );
    let ((s1, r1), (s2, r2)) = tokio::join!(log.submit(&ab), log.submit(&ba));
    let mut statuses = [s1, s2];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED], "{r1} {r2}");
    assert_eq!(r1["index"], FIRST);
    assert_eq!(r2["index"], FIRST);
    // One copy and the batch's index commitment.
    assert_eq!(size(&log), AFTER_FIRST);
}

/// A SQLite log at `path` that logs one review co-signed by `a` and `b`, then
/// stops; the three enrolled reviewers.
async fn log_cosigned_review_then_stop(path: &Path) -> (Participant, Participant, Participant) {
    let log = TestLog::with(Options::default(), Some(sqlite(path))).await;
    let (a, b, c) = reviewers(&log).await;
    let (status, _) = log.submit(&cosigned_review(&[&a, &b], REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED);
    (a, b, c)
}

#[tokio::test]
async fn a_logged_statement_is_found_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glassbox.db");
    let (a, b, c) = log_cosigned_review_then_stop(&path).await;
    let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
    answered_with_first_copy(&log, &cosigned_review(&[&b, &a], REPO, 1), FIRST).await;
    refused_as_already_logged(&log, &cosigned_review(&[&a, &b, &c], REPO, 1), FIRST, &c).await;
    assert_eq!(size(&log), AFTER_FIRST);
}

/// Where the previous schema's log (see [`previous_schema_log`]) holds the review.
const PREVIOUS_REVIEW: u64 = 4;

/// A log as the previous schema (SQLite version 3) left it at `path`: the genesis,
/// three reviewers' registrations and a review co-signed by `a` and `b`, with no
/// statement digests, no index and no index commitments (a log of that version
/// holds none). Written straight to storage as one batch whose checkpoint is
/// signed with the test log's key, then taken back to version 3: `DROP COLUMN`
/// rewrites `entries` in version 3's layout, and the other columns are written
/// exactly as version 3 wrote them. Returns the three reviewers.
fn previous_schema_log(path: &Path) -> (Participant, Participant, Participant) {
    use glassbox_core::merkle::{self, MemoryTree, NodeId};
    use glassbox_core::statement::Attestation;
    use glassbox_server::log::admission::facts::facts;
    use glassbox_server::log::registry::key_event_record;
    use glassbox_server::storage::{Batch, CheckpointRecord, EntryRecord};

    let operator = participant(1);
    let (a, b, c) = (participant(3), participant(5), participant(6));
    let mut envs = vec![genesis(&operator)];
    envs.extend([&a, &b, &c].map(|r| register(&operator, r, &[Role::Reviewer])));
    envs.push(cosigned_review(&[&a, &b], REPO, 1));
    let (mut tree, mut entries, mut key_events) = (MemoryTree::new(), Vec::new(), Vec::new());
    for (index, env) in (0u64..).zip(&envs) {
        let f = facts(env).unwrap();
        if let Attestation::KeyEvent(event) = &f.attestation {
            key_events.push(key_event_record(index, event));
        }
        let leaf = env.to_canonical_json();
        let leaf_hash = merkle::leaf_hash(&leaf);
        tree.push(leaf_hash);
        entries.push(EntryRecord {
            index,
            leaf,
            leaf_hash,
            statement_digest: f.statement_digest,
            kind: f.kind.into(),
            integrated_at_ms: 1_767_225_600_000,
            signers: env.signatures.iter().map(|s| s.keyid.clone()).collect(),
            terms: f.terms,
        });
    }
    let size = tree.size();
    let nodes = (0u8..64)
        .flat_map(|level| (0..size >> level).map(move |i| NodeId::new(level, i)))
        .map(|node| (node, tree.node(node).unwrap()))
        .collect();
    let signer = glassbox_core::note::NoteSigner::new(
        ORIGIN,
        ed25519_dalek::SigningKey::from_bytes(&[200; 32]),
    )
    .unwrap();
    let note = glassbox_core::checkpoint::Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root(),
        extensions: Vec::new(),
    }
    .sign(&signer)
    .unwrap();
    sqlite(path)
        .append_batch(&Batch {
            entries,
            nodes,
            checkpoint: CheckpointRecord {
                size,
                note,
                created_at_ms: 1_767_225_600_000,
            },
            key_events,
            index: Vec::new(),
        })
        .unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TABLE index_batches;
         DROP TABLE statement_index;
         DROP TABLE statement_flushed;
         DROP TABLE artifact_index;
         DROP TABLE artifact_flushed;
         CREATE TABLE term_values_v3 (
             id     INTEGER PRIMARY KEY,
             field  INTEGER NOT NULL,
             value  ANY     NOT NULL,
             UNIQUE (field, value)
         ) STRICT;
         INSERT INTO term_values_v3 SELECT id, field, value FROM term_values;
         DROP TABLE term_values;
         ALTER TABLE term_values_v3 RENAME TO term_values;
         ALTER TABLE entries DROP COLUMN statement;
         CREATE UNIQUE INDEX nodes_leaf_hash ON nodes (hash) WHERE level = 0;
         PRAGMA user_version = 3;",
    )
    .unwrap();
    (a, b, c)
}

#[tokio::test]
async fn a_database_of_the_previous_schema_is_migrated_and_dedupes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glassbox.db");
    let (a, b, c) = previous_schema_log(&path);
    let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, glassbox_server::storage::schema::SCHEMA_VERSION);
    // On start the migrated log commits to the index built from its entries, in
    // a batch of its own, so its newest checkpoint ends with a commitment too.
    let migrated = PREVIOUS_REVIEW + 1;
    assert_eq!(size(&log), migrated + 1);
    assert!(is_index_commitment(
        &log.storage.entry(migrated).unwrap().unwrap().leaf
    ));
    let first = PREVIOUS_REVIEW;
    answered_with_first_copy(&log, &cosigned_review(&[&b, &a], REPO, 1), first).await;
    answered_with_first_copy(&log, &cosigned_review(&[&a], REPO, 1), first).await;
    refused_as_already_logged(&log, &cosigned_review(&[&a, &c], REPO, 1), first, &c).await;
    // Entries logged before the migration read back with their statement digest.
    assert_eq!(
        log.storage.entry(first).unwrap().unwrap().statement_digest,
        cosigned_review(&[&a, &b], REPO, 1).statement_digest()
    );
    assert_eq!(size(&log), migrated + 1);
}
