//! Witness cosignatures kept with the checkpoint history: appended after the log
//! signed, returned with every read of that checkpoint, one per witness key, durable.

use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::{verify_cosignatures, CosignatureSigner};
use glassbox_core::merkle::empty_root;
use glassbox_core::note::{Note, NoteSigner, NoteVerifier};
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::{Batch, CheckpointRecord, LogStore, Storage};

const ORIGIN: &str = "test.glassbox.localhost/log";

fn log() -> NoteSigner {
    NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[1; 32])).unwrap()
}

fn witness(seed: u8) -> CosignatureSigner {
    CosignatureSigner::new(
        &format!("w{seed}.test"),
        SigningKey::from_bytes(&[seed; 32]),
    )
    .unwrap()
}

/// An empty log's checkpoint, committed; returns its note text.
fn empty_log(storage: &dyn Storage) -> String {
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 0,
        root: empty_root(),
        extensions: Vec::new(),
    };
    let note = cp.sign(&log()).unwrap();
    storage
        .append_batch(&Batch {
            entries: Vec::new(),
            nodes: Vec::new(),
            checkpoint: CheckpointRecord {
                size: 0,
                note,
                created_at_ms: 0,
            },
            key_events: Vec::new(),
            index: Vec::new(),
        })
        .unwrap();
    cp.to_text()
}

fn check(storage: &dyn Storage) {
    let text = empty_log(storage);
    let (w1, w2) = (witness(2), witness(3));
    storage
        .add_cosignatures(0, &[w1.sign(&text, 10).unwrap()])
        .unwrap();
    // A later cosignature by w1 (the log asked again) replaces its first; w2's is
    // added; an older one by w1 (a late answer to an earlier round) is ignored.
    storage
        .add_cosignatures(
            0,
            &[w1.sign(&text, 11).unwrap(), w2.sign(&text, 12).unwrap()],
        )
        .unwrap();
    storage
        .add_cosignatures(0, &[w1.sign(&text, 9).unwrap()])
        .unwrap();

    let reads = [
        storage.latest_checkpoint().unwrap().unwrap(),
        storage.checkpoint_at(0).unwrap().unwrap(),
        storage.checkpoints(0, 10).unwrap().remove(0),
    ];
    for record in reads {
        let note = Note::parse(&record.note).expect("one signature per key");
        note.verify(&[&log().verifier() as &dyn NoteVerifier])
            .unwrap();
        let verified = verify_cosignatures(&note, &[&w1.verifier(), &w2.verifier()]).unwrap();
        let stamps: Vec<u64> = verified.iter().map(|c| c.timestamp).collect();
        assert_eq!(stamps, [11, 12]);
    }
}

#[test]
fn cosignatures_are_served_with_every_read_of_their_checkpoint_in_memory() {
    check(&MemoryStorage::new());
}

#[test]
fn cosignatures_are_served_with_every_read_of_their_checkpoint_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    check(&SqliteStorage::open(&dir.path().join("log.db"), 1).unwrap());
}

#[test]
fn cosignatures_survive_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let text = {
        let storage = SqliteStorage::open(&path, 1).unwrap();
        let text = empty_log(&storage);
        storage
            .add_cosignatures(0, &[witness(2).sign(&text, 10).unwrap()])
            .unwrap();
        text
    };
    let storage = SqliteStorage::open(&path, 1).unwrap();
    let note = Note::parse(&storage.latest_checkpoint().unwrap().unwrap().note).unwrap();
    assert_eq!(note.text, text);
    assert_eq!(
        verify_cosignatures(&note, &[&witness(2).verifier()])
            .unwrap()
            .len(),
        1
    );
}
