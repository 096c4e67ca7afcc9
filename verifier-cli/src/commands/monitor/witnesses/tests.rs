//! Witness checkpoints against an in-memory log: honest views pass, a fork is proven
//! with both signed notes, a lagging witness is a warning.

use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::digest::Sha256Digest;

use super::*;
use crate::commands::verify::check::ProofSource;
use crate::testlog::{key, TestLog};

const NOW: u64 = 1_800_000_000;

/// The log as served: its tree, and the checkpoints it kept.
struct Served<'a> {
    log: &'a TestLog,
    history: Vec<Vec<u8>>,
}

impl ProofSource for Served<'_> {
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        self.log.consistency(from, to)
    }
    fn label(&self) -> String {
        "test-log".to_owned()
    }
}

impl LogSource for Served<'_> {
    fn checkpoint(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self.log.checkpoint())
    }
    fn entries(&self, _: u64, _: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        unreachable!("witness checks read no entries")
    }
    fn checkpoint_at(&self, size: u64) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.history.iter().find(|n| parse(n).size == size).cloned())
    }
}

enum Answer {
    Note(Vec<u8>),
    Nothing,
    Down,
}

struct Fake {
    url: String,
    answer: Answer,
}

impl WitnessSource for Fake {
    fn url(&self) -> &str {
        &self.url
    }
    fn latest(&self, _: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match &self.answer {
            Answer::Note(n) => Ok(Some(n.clone())),
            Answer::Nothing => Ok(None),
            Answer::Down => anyhow::bail!("connection refused"),
        }
    }
}

fn parse(note: &[u8]) -> Checkpoint {
    SignedCheckpoint::parse_unverified(note)
        .expect("a checkpoint")
        .checkpoint
}

/// `note` with a cosignature by witness `n` made at `at`.
fn cosigned(note: &[u8], n: u8, at: u64) -> Vec<u8> {
    let mut note = Note::parse(note).expect("note");
    let signer = CosignatureSigner::new(&format!("w{n}.test/witness"), key(100 + n)).unwrap();
    note.add_signature(signer.sign(&note.text, at).unwrap())
        .unwrap();
    note.to_bytes()
}

fn witness(n: u8, answer: Answer) -> Box<dyn WitnessSource> {
    Box::new(Fake {
        url: format!("http://w{n}.test"),
        answer,
    })
}

fn trust(log: &TestLog) -> Trust {
    Trust {
        log: log.signer.verifier(),
        witnesses: Vec::new(),
        quorum: 0,
    }
}

fn current(log: &TestLog) -> Seen {
    let note = log.checkpoint();
    Seen {
        from: "the log's /checkpoint".to_owned(),
        checkpoint: parse(&note),
        note,
    }
}

fn run(served: &Served<'_>, witnesses: &[Box<dyn WitnessSource>]) -> Findings {
    let check = WitnessCheck {
        witnesses,
        max_age: 3600,
        now: NOW,
    };
    super::check(served, &trust(served.log), &current(served.log), &check).expect("check")
}

/// An honest log of 8 entries, the checkpoint it kept at 8, then 4 more entries.
fn grown() -> (TestLog, Vec<u8>) {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    let at_8 = log.checkpoint();
    log.story(Sha256Digest::of(b"app 2"));
    (log, at_8)
}

/// Same log key and origin, another history of 8 entries.
fn fork() -> TestLog {
    let mut fork = TestLog::new();
    fork.story(Sha256Digest::of(b"something else"));
    fork
}

#[test]
fn witnesses_at_the_logs_checkpoint_or_recently_behind_it_are_consistent() {
    let (log, at_8) = grown();
    let served = Served {
        history: vec![at_8.clone(), log.checkpoint()],
        log: &log,
    };
    let findings = run(
        &served,
        &[
            witness(1, Answer::Note(cosigned(&log.checkpoint(), 1, NOW - 5))),
            witness(2, Answer::Note(cosigned(&at_8, 2, NOW - 60))),
        ],
    );
    assert!(findings.conflicts.is_empty(), "{:?}", findings.conflicts);
    assert!(findings.warnings.is_empty(), "{:?}", findings.warnings);
    let status: Vec<_> = findings.views.iter().map(|v| v.status).collect();
    assert_eq!(status, [WitnessStatus::Current, WitnessStatus::Behind]);
    assert_eq!(findings.views[1].size, Some(8));
    assert_eq!(findings.views[1].cosigned_at, Some(NOW - 60));
    assert!(
        !findings.views[1].timestamp_verified,
        "no policy keys given"
    );
}

#[test]
fn a_witness_holding_a_fork_of_the_same_size_is_a_split_view_naming_both() {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    let fork = fork();
    let served = Served {
        history: vec![log.checkpoint()],
        log: &log,
    };
    let findings = run(
        &served,
        &[witness(
            1,
            Answer::Note(cosigned(&fork.checkpoint(), 1, NOW)),
        )],
    );
    assert_eq!(findings.views[0].status, WitnessStatus::SplitView);
    let [conflict] = &findings.conflicts[..] else {
        panic!("{:?}", findings.conflicts)
    };
    let text = conflict.describe();
    assert!(text.contains(&hex::encode(log.tree.root())), "{text}");
    assert!(text.contains(&hex::encode(fork.tree.root())), "{text}");
    assert!(text.contains("witness http://w1.test"), "{text}");
    assert!(text.ends_with("same size, different roots"), "{text}");
    assert_eq!(parse(&conflict.first.note).root, fork.tree.root());
    assert_eq!(parse(&conflict.second.note).root, log.tree.root());
}

#[test]
fn a_smaller_forked_checkpoint_meets_the_logs_kept_checkpoint_of_that_size() {
    let (log, at_8) = grown();
    let served = Served {
        history: vec![at_8, log.checkpoint()],
        log: &log,
    };
    let findings = run(
        &served,
        &[witness(
            1,
            Answer::Note(cosigned(&fork().checkpoint(), 1, NOW)),
        )],
    );
    let [conflict] = &findings.conflicts[..] else {
        panic!("{:?}", findings.conflicts)
    };
    assert!(conflict.second.from.contains("history"), "{conflict:?}");
    assert_eq!(conflict.reason, "same size, different roots");
}

#[test]
fn without_a_kept_checkpoint_the_consistency_proof_exposes_the_fork() {
    let (log, _) = grown();
    let served = Served {
        history: Vec::new(),
        log: &log,
    };
    let findings = run(
        &served,
        &[witness(
            1,
            Answer::Note(cosigned(&fork().checkpoint(), 1, NOW)),
        )],
    );
    let [conflict] = &findings.conflicts[..] else {
        panic!("{:?}", findings.conflicts)
    };
    assert!(
        conflict.reason.starts_with("the consistency proof fails"),
        "{conflict:?}"
    );
    assert!(!conflict.proof.is_empty());
}

#[test]
fn a_larger_checkpoint_the_log_cannot_prove_is_a_split_view() {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    let mut ahead = fork();
    ahead.story(Sha256Digest::of(b"more"));
    let served = Served {
        history: Vec::new(),
        log: &log,
    };
    let findings = run(
        &served,
        &[witness(
            1,
            Answer::Note(cosigned(&ahead.checkpoint(), 1, NOW)),
        )],
    );
    let [conflict] = &findings.conflicts[..] else {
        panic!("{:?}", findings.conflicts)
    };
    assert!(
        conflict
            .reason
            .contains("did not prove size 8 consistent with size 12"),
        "{conflict:?}"
    );
}

#[test]
fn a_witness_long_behind_down_or_empty_is_a_warning_not_a_split_view() {
    let (log, at_8) = grown();
    let served = Served {
        history: vec![at_8.clone()],
        log: &log,
    };
    let findings = run(
        &served,
        &[
            witness(1, Answer::Note(cosigned(&at_8, 1, NOW - 7200))),
            witness(2, Answer::Down),
            witness(3, Answer::Nothing),
        ],
    );
    assert!(findings.conflicts.is_empty(), "{:?}", findings.conflicts);
    let status: Vec<_> = findings.views.iter().map(|v| v.status).collect();
    assert_eq!(
        status,
        [
            WitnessStatus::Stuck,
            WitnessStatus::Unavailable,
            WitnessStatus::Empty
        ]
    );
    assert_eq!(findings.warnings.len(), 3, "{:?}", findings.warnings);
    assert!(
        findings.warnings[0].contains("stuck at size 8, 4 behind the log's 12"),
        "{:?}",
        findings.warnings
    );
}

#[test]
fn a_witness_note_the_log_key_did_not_sign_proves_nothing() {
    let log = {
        let mut log = TestLog::new();
        log.story(Sha256Digest::of(b"app"));
        log
    };
    let impostor = TestLog::with_log_key(key(98));
    let served = Served {
        history: Vec::new(),
        log: &log,
    };
    let findings = run(&served, &[witness(1, Answer::Note(impostor.checkpoint()))]);
    assert!(findings.conflicts.is_empty());
    assert_eq!(findings.views[0].status, WitnessStatus::Unavailable);
    assert!(findings.warnings[0].contains("does not verify with the log key"));
}

#[test]
fn the_logs_kept_checkpoint_of_its_current_size_must_match_it() {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    let served = Served {
        history: vec![fork().checkpoint()],
        log: &log,
    };
    let findings = run(&served, &[]);
    assert_eq!(findings.conflicts.len(), 1, "{:?}", findings.conflicts);
}

#[test]
fn a_policy_witness_key_verifies_the_cosignature_time() {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    let signer = CosignatureSigner::new("w1.test/witness", key(101)).unwrap();
    let mut trust = trust(&log);
    trust.witnesses = vec![signer.verifier()];
    let note = Note::parse(&cosigned(&log.checkpoint(), 1, NOW - 1)).unwrap();
    assert_eq!(cosigned_at(&note, &trust), (Some(NOW - 1), true));
}
