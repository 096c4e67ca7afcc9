//! Anyone can audit the log's index: a real server serving a log one of whose index
//! commitments is wrong — the log's own key signed it, every proof checks — is caught
//! by `glassbox monitor`, which rebuilds the index from the entries it reads and saves
//! the evidence (docs/cli.md, docs/threat-model.md).
//!
//! The wrong log is made the way a dishonest operator would: with the log's key, the
//! commitment at entry 1 is replaced by one giving another root, and the tree nodes
//! and every later checkpoint are recomputed and re-signed, so the server's start-up
//! checks (signature, tree root, its stored index against its *last* commitment)
//! all pass.

use std::fs;

use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::index::IndexCommitment;
use glassbox_core::merkle::{leaf_hash, node_hash, Hash, MemoryTree};
use glassbox_core::note::{Note, NoteSigner};
use glassbox_tests::server::Server;
use glassbox_tests::story::Story;
use rusqlite::{params, Connection};

/// Every complete subtree hash of the tree over `leaves`, as (level, index, hash).
fn all_nodes(leaves: &[Hash]) -> Vec<(i64, i64, Hash)> {
    let mut out = Vec::new();
    let mut level: Vec<Hash> = leaves.to_vec();
    let mut l = 0;
    while !level.is_empty() {
        out.extend(level.iter().enumerate().map(|(i, h)| (l, i as i64, *h)));
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
        l += 1;
    }
    out
}

/// Rewrites the stopped log at `data` so that its commitment at `index` gives a wrong
/// root, re-signing everything after it with the log's key.
fn forge_commitment(data: &std::path::Path, index: i64) {
    let db = Connection::open(data.join("glassbox.db")).unwrap();
    let key = glassbox_keys::load_signing_key(&data.join("log.pem")).unwrap();
    let newest: Vec<u8> = db
        .query_row(
            "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let origin = Checkpoint::parse(&Note::parse(&newest).unwrap().text)
        .unwrap()
        .origin;
    let signer = NoteSigner::new(&origin, key).unwrap();

    let leaf: Vec<u8> = db
        .query_row("SELECT leaf FROM entries WHERE idx = ?1", [index], |r| {
            r.get(0)
        })
        .unwrap();
    let mut commitment = IndexCommitment::parse(&Envelope::from_json(&leaf).unwrap()).unwrap();
    commitment.root[0] ^= 1;
    let forged = commitment.sign(signer.ed25519()).unwrap();
    let forged_leaf = forged.to_canonical_json();
    db.execute(
        "UPDATE entries SET leaf = ?1, statement = ?2 WHERE idx = ?3",
        params![forged_leaf, &forged.statement_digest()[..], index],
    )
    .unwrap();

    let leaves: Vec<Hash> = {
        let mut stmt = db.prepare("SELECT leaf FROM entries ORDER BY idx").unwrap();
        stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|l| leaf_hash(&l.unwrap()))
            .collect()
    };
    db.execute("DELETE FROM nodes", []).unwrap();
    for (level, idx, hash) in all_nodes(&leaves) {
        db.execute(
            "INSERT INTO nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
            params![level, idx, &hash[..]],
        )
        .unwrap();
    }
    let sizes: Vec<i64> = {
        let mut stmt = db
            .prepare("SELECT size FROM checkpoints WHERE size > ?1")
            .unwrap();
        stmt.query_map([index], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for size in sizes {
        let tree = MemoryTree::from_leaf_hashes(leaves[..size as usize].iter().copied());
        let note = Checkpoint {
            origin: origin.clone(),
            size: size as u64,
            root: tree.root(),
            extensions: Vec::new(),
        }
        .sign(&signer)
        .unwrap();
        db.execute(
            "UPDATE checkpoints SET note = ?1 WHERE size = ?2",
            params![note, size],
        )
        .unwrap();
    }
    db.execute("DELETE FROM cosignatures", []).unwrap();
}

#[test]
fn a_server_whose_log_holds_a_wrong_index_commitment_is_caught_by_the_monitor() {
    let mut story = Story::happy();
    let monitor = |story: &Story, state: &str| {
        story.glassbox.run([
            "monitor",
            "--server",
            &story.url,
            "--log-vkey",
            &story.vkey,
            "--once",
            "--state",
            state,
        ])
    };
    // The honest log passes the audit.
    monitor(&story, "state-honest").ok();

    story.stop_server();
    forge_commitment(&story.data, 1);
    story.use_server(Server::start(&story.data));

    let run = monitor(&story, "state-audit");
    let text = run.exits(1);
    assert!(text.contains("entry 1: wrong index commitment"), "{text}");
    let evidence = story.dir.join("state-audit").join("evidence");
    let dirs: Vec<_> = fs::read_dir(&evidence)
        .unwrap_or_else(|e| panic!("{}: {e}", evidence.display()))
        .map(|e| e.unwrap().path())
        .collect();
    let [dir] = dirs.as_slice() else {
        panic!("one evidence directory expected: {dirs:?}\n{text}")
    };
    let finding = fs::read_to_string(dir.join("finding.txt")).unwrap();
    assert!(finding.contains("wrong index commitment"), "{finding}");
    assert!(dir.join("entry-1.json").exists());
}
