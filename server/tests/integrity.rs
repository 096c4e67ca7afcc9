//! Integrity on start, against a compromised host (docs/threat-model.md): a data
//! directory whose database or log key no longer matches the newest checkpoint is
//! refused, with a message saying what is wrong. Each case damages a freshly
//! written log one way.

mod support;

use std::path::Path;

use glassbox_core::statement::Role;
use glassbox_server::config::Config;
use glassbox_server::log::datadir::{DB_FILE, LOG_KEY_FILE, OPERATOR_KEY_FILE};
use glassbox_server::server::{genesis_envelope, prepare};
use rusqlite::Connection;
use support::*;

/// The size of [`written_log`]'s log: five entries sent one at a time, each a
/// batch that the log's index commitment ends.
const SIZE: u64 = one_per_batch(5);

/// Its newest entry: the index commitment ending the last batch.
const NEWEST: u64 = SIZE - 1;

/// A data directory holding a log of 5 entries (genesis, a registration, three
/// submissions) and their batches' index commitments, shut down cleanly.
async fn written_log(dir: &Path) -> Config {
    let config = Config {
        data_dir: dir.to_path_buf(),
        origin: ORIGIN.into(),
        ..Config::default()
    };
    let prepared = prepare(&config).unwrap();
    let (handle, task) = prepared.sequencer.spawn();
    let operator = glassbox_keys::load_signing_key(&dir.join(OPERATOR_KEY_FILE)).unwrap();
    let operator = Participant {
        id: glassbox_core::digest::key_id_hex(&operator.verifying_key()),
        key: operator,
    };
    let vendor = participant(2);
    let mut envs = vec![
        genesis_envelope(&operator.key).unwrap(),
        register(&operator, &vendor, &[Role::Vendor]),
    ];
    envs.extend((0..3).map(|i| submission(&vendor, "https://git.example/w", i, "1")));
    for env in envs {
        let facts = glassbox_server::log::admission::facts::facts(&env).unwrap();
        handle
            .submit(env.clone(), facts, env.to_canonical_json())
            .await
            .unwrap();
    }
    drop(handle);
    task.await.unwrap();
    drop(prepared.storage);
    config
}

fn refusal(config: &Config) -> String {
    match prepare(config) {
        Ok(_) => panic!("the damaged log was accepted"),
        Err(e) => e.to_string(),
    }
}

fn db(config: &Config) -> Connection {
    Connection::open(config.data_dir.join(DB_FILE)).unwrap()
}

fn flip_node(config: &Config, level: u8, index: u64) {
    let conn = db(config);
    let mut hash: Vec<u8> = conn
        .query_row(
            "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2",
            [level as i64, index as i64],
            |r| r.get(0),
        )
        .unwrap();
    hash[7] ^= 0x01;
    conn.execute(
        "UPDATE nodes SET hash = ?1 WHERE level = ?2 AND idx = ?3",
        rusqlite::params![hash, level as i64, index as i64],
    )
    .unwrap();
}

#[tokio::test]
async fn an_undamaged_log_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let prepared = prepare(&config).unwrap();
    assert_eq!(prepared.sequencer.size(), SIZE);
}

#[tokio::test]
async fn a_flipped_interior_hash_is_refused_with_the_root_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    // Size 10: root = H(node(3,0), node(1,4)).
    flip_node(&config, 3, 0);
    let msg = refusal(&config);
    assert!(msg.starts_with("refusing to start: "), "{msg}");
    assert!(
        msg.contains("the tree recomputed from stored hashes has root")
            && msg.contains(&format!("at size {SIZE}"))
            && msg.contains("the database is corrupt"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_flipped_newest_leaf_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    flip_node(&config, 0, NEWEST);
    let msg = refusal(&config);
    assert!(
        msg.contains(&format!(
            "entry {NEWEST} does not hash to its stored leaf hash"
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn a_deleted_newest_entry_is_refused_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let conn = db(&config);
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF;
         DELETE FROM entry_terms WHERE idx = {NEWEST};
         DELETE FROM entries WHERE idx = {NEWEST};"
    ))
    .unwrap();
    drop(conn);
    let msg = refusal(&config);
    assert!(
        msg.contains(&format!(
            "the newest checkpoint covers {SIZE} entries but entry {NEWEST} is missing"
        )) && msg.contains("truncated"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_dropped_newest_checkpoint_is_refused_as_extra_entries() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let conn = db(&config);
    conn.execute("DELETE FROM checkpoints WHERE size = ?1", [SIZE as i64])
        .unwrap();
    drop(conn);
    let msg = refusal(&config);
    assert!(
        msg.contains("is stored beyond the newest checkpoint"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_truncated_database_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let path = config.data_dir.join(DB_FILE);
    assert!(
        !config.data_dir.join("glassbox.db-wal").exists(),
        "a clean shutdown leaves no WAL"
    );
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let msg = refusal(&config);
    assert!(
        msg.starts_with("refusing to start: the database")
            && msg.contains(DB_FILE)
            && msg.contains("database disk image is malformed")
            && msg.contains("restore it from a backup"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_replaced_log_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let key_path = config.data_dir.join(LOG_KEY_FILE);
    std::fs::remove_file(&key_path).unwrap();
    std::fs::remove_file(key_path.with_extension("pem.pub")).unwrap();
    glassbox_keys::generate_key_file(&key_path).unwrap();
    let msg = refusal(&config);
    assert!(
        msg.contains("is not the key this log was created with")
            && msg.contains("log.pem")
            && msg.contains("restore the original log key"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_replaced_log_key_with_a_rewritten_identity_fails_the_checkpoint_signature() {
    let dir = tempfile::tempdir().unwrap();
    let config = written_log(dir.path()).await;
    let key_path = config.data_dir.join(LOG_KEY_FILE);
    std::fs::remove_file(&key_path).unwrap();
    std::fs::remove_file(key_path.with_extension("pem.pub")).unwrap();
    let key = glassbox_keys::generate_key_file(&key_path)
        .unwrap()
        .signing_key;
    let vkey = glassbox_core::note::NoteSigner::new(ORIGIN, key)
        .unwrap()
        .verifier()
        .to_string();
    db(&config)
        .execute("UPDATE meta SET value = ?1 WHERE key = 'vkey'", [&vkey])
        .unwrap();
    let msg = refusal(&config);
    assert!(
        msg.contains(&format!(
            "the newest checkpoint (size {SIZE}) does not verify with this server's log key"
        )) && msg.contains(&vkey),
        "{msg}"
    );
}
