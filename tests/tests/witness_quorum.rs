//! Witnesses end to end (docs/witness.md), with the real binaries over loopback: three
//! `glassbox-witness` processes cosign an honest log's checkpoints and a
//! customer requiring two of them verifies; a fork of that log (same key, same
//! origin, different history) gets no cosignature and fails verification naming the
//! missing quorum; a witness killed with SIGKILL and restarted keeps its state.

use std::time::{Duration, Instant};

use glassbox_cli::client::LogClient;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::{verify_cosignatures, CosignatureVerifierKey};
use glassbox_core::note::Note;
use glassbox_tests::http;
use glassbox_tests::server::{copy_data_dir, Server};
use glassbox_tests::story::{Story, Who, REVIEWED_AT};
use glassbox_tests::witness::WitnessProcess;

const DEADLINE: Duration = Duration::from_secs(30);

fn policy(log_vkey: &str, witnesses: &[&WitnessProcess], quorum: usize) -> String {
    let vkeys: Vec<String> = witnesses
        .iter()
        .map(|w| format!("\"{}\"", w.vkey))
        .collect();
    format!(
        "[log]\nvkey = \"{log_vkey}\"\n\n[witnesses]\nvkeys = [{}]\nquorum = {quorum}\n\n\
         [reviewers]\nkeys = [\"*\"]\nmin = 1\n\n[builders]\nkeys = [\"*\"]\nmin = 2\n",
        vkeys.join(", ")
    )
}

/// Polls the log's `/checkpoint` until it covers `size` entries with at least
/// `want` valid cosignatures from `witnesses`; returns the note.
fn wait_for_cosigned(
    url: &str,
    size: u64,
    witnesses: &[CosignatureVerifierKey],
    want: usize,
) -> Note {
    let keys: Vec<&CosignatureVerifierKey> = witnesses.iter().collect();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let note = Note::parse(&http::get(&format!("{url}/checkpoint")).expect("checkpoint"))
            .expect("a signed note");
        let cp = Checkpoint::parse(&note.text).expect("a checkpoint");
        let cosigned = verify_cosignatures(&note, &keys).expect("cosignatures verify");
        if cp.size == size && cosigned.len() >= want {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint {} has {} of the {want} cosignatures awaited",
            cp.size,
            cosigned.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_size(url: &str) -> u64 {
    let note = Note::parse(&http::get(&format!("{url}/checkpoint")).expect("checkpoint")).unwrap();
    Checkpoint::parse(&note.text).unwrap().size
}

#[test]
fn a_quorum_of_witnesses_vouches_for_the_honest_log_and_refuses_its_fork() {
    // A log with its registrations; a copy of its data dir (log key included) to fork.
    let mut story = Story::begin();
    story.stop_server();
    let fork_data = story.dir.join("fork-data");
    copy_data_dir(&story.data, &fork_data).unwrap();

    let witnesses: Vec<WitnessProcess> = (1..=3)
        .map(|i| WitnessProcess::start(&story.dir, &format!("w{i}.test/witness"), &story.vkey))
        .collect();
    let flags: Vec<String> = witnesses.iter().map(WitnessProcess::flag).collect();
    let mut args: Vec<&str> = Vec::new();
    for flag in &flags {
        args.extend(["--witness", flag]);
    }
    let witness_keys: Vec<CosignatureVerifierKey> = witnesses
        .iter()
        .map(|w| CosignatureVerifierKey::parse(&w.vkey).unwrap())
        .collect();

    // The honest log, asking all three witnesses.
    story.use_server(Server::start_with(&story.data, &args));
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);
    let honest_size = log_size(&story.url);
    let note = wait_for_cosigned(&story.url, honest_size, &witness_keys, 2);
    assert!(
        note.signatures.len() >= 3,
        "log signature and ≥ 2 cosignatures"
    );
    let origin = Checkpoint::parse(&note.text).unwrap().origin;

    let refs: Vec<&WitnessProcess> = witnesses.iter().collect();
    std::fs::write(
        story.dir.join("witnessed.toml"),
        policy(&story.vkey, &refs, 2),
    )
    .unwrap();
    let verify = |story: &Story, state: &str| {
        story.glassbox.run([
            "verify",
            story.artifact().to_str().unwrap(),
            "--policy",
            "witnessed.toml",
            "--server",
            &story.url,
            "--state",
            state,
        ])
    };
    verify(&story, "state-honest").ok();

    // The fork: same key and origin, another entry first, then the same story.
    let fork = Server::start_with(&fork_data, &args);
    assert_eq!(fork.vkey, story.vkey, "the fork signs with the same key");
    let entries = story.submitted[3..].to_vec();
    story.use_server(fork);
    story.register(Who::Auditor);
    story.submit_again(&entries);
    let fork_size = log_size(&story.url);
    assert!(fork_size > honest_size);

    // Every witness still holds the honest tree and refuses the fork: 409 with its
    // size from a stale old size, 422 for a proof from its size.
    let fork_note = http::get(&format!("{}/checkpoint", story.url)).unwrap();
    let proof = http::get(&format!(
        "{}/api/v1/proof/consistency?from={honest_size}&to={fork_size}",
        story.url
    ))
    .unwrap();
    let proof: serde_json::Value = serde_json::from_slice(&proof).unwrap();
    let proof: Vec<String> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    for w in &witnesses {
        assert_eq!(w.latest(&origin).size, honest_size);
        assert_eq!(
            w.add_checkpoint(0, &[], &fork_note),
            (409, format!("{honest_size}\n"))
        );
        assert_eq!(w.add_checkpoint(honest_size, &proof, &fork_note).0, 422);
    }
    let fork_cosigned = Note::parse(&fork_note).unwrap();
    let keys: Vec<&CosignatureVerifierKey> = witness_keys.iter().collect();
    assert!(verify_cosignatures(&fork_cosigned, &keys)
        .unwrap()
        .is_empty());

    // A customer who never saw the honest log is still protected by the quorum.
    let run = verify(&story, "state-fresh");
    let text = run.exits(1);
    assert!(
        text.contains("quorum") || text.contains("requires 2"),
        "{text}"
    );
    assert!(
        text.contains("w1.test/witness"),
        "the missing witnesses are named:\n{text}"
    );
}

#[test]
fn a_witness_killed_and_restarted_keeps_its_state_and_refuses_to_roll_back() {
    let story = Story::begin();
    let url = story.url.clone();
    let client = LogClient::new(&url, Duration::from_secs(30)).unwrap();
    let notes: Vec<(u64, Vec<u8>)> = client
        .checkpoints(0)
        .unwrap()
        .into_iter()
        .map(|c| (c.size, c.checkpoint.into_bytes()))
        .collect();
    let (small_size, small) = notes.iter().find(|(s, _)| *s > 0).unwrap().clone();
    let (large_size, large) = notes.last().unwrap().clone();
    assert!(large_size > small_size);

    let witness = WitnessProcess::start(&story.dir, "w.test/witness", &story.vkey);
    let vkey = witness.vkey.clone();
    assert_eq!(witness.add_checkpoint(0, &[], &large).0, 200);
    let origin = Checkpoint::parse(&Note::parse(&large).unwrap().text)
        .unwrap()
        .origin;
    witness.kill(); // SIGKILL: no chance to flush anything not already durable

    let witness = WitnessProcess::start(&story.dir, "w.test/witness", &story.vkey);
    assert_eq!(witness.vkey, vkey, "same key and name, same cosigner");
    assert_eq!(witness.latest(&origin).size, large_size);
    assert_eq!(
        witness.add_checkpoint(0, &[], &small),
        (409, format!("{large_size}\n"))
    );
    assert_eq!(witness.add_checkpoint(large_size, &[], &small).0, 400);
    // The checkpoint it holds is still cosigned again on request.
    assert_eq!(witness.add_checkpoint(large_size, &[], &large).0, 200);
}

/// A quiet log keeps its checkpoint fresh: with nothing new to sequence, the log asks
/// its witness again after `--witness-refresh-secs`, and `/checkpoint` then carries a
/// cosignature with a later timestamp in place of the first (one line per witness).
#[test]
fn a_quiet_log_gets_its_checkpoint_cosigned_afresh() {
    let mut story = Story::begin();
    story.stop_server();
    let witness = WitnessProcess::start(&story.dir, "w.test/witness", &story.vkey);
    let flag = witness.flag();
    story.use_server(Server::start_with(
        &story.data,
        &["--witness", &flag, "--witness-refresh-secs", "1"],
    ));
    let key = CosignatureVerifierKey::parse(&witness.vkey).unwrap();
    let size = log_size(&story.url);
    let cosigned_at = |note: &Note| {
        let lines: Vec<_> = note
            .signatures
            .iter()
            .filter(|s| s.name == key.name() && s.key_id == key.key_id())
            .collect();
        assert_eq!(lines.len(), 1, "one cosignature per witness");
        glassbox_core::cosignature::cosigned_at(lines[0]).unwrap()
    };
    let first = cosigned_at(&wait_for_cosigned(
        &story.url,
        size,
        std::slice::from_ref(&key),
        1,
    ));
    let deadline = Instant::now() + DEADLINE;
    loop {
        let note = wait_for_cosigned(&story.url, size, std::slice::from_ref(&key), 1);
        if cosigned_at(&note) > first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no fresh cosignature of the quiet log's checkpoint"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        log_size(&story.url),
        size,
        "nothing was appended to freshen it"
    );
}
