//! Monitor rounds against an in-memory log served through [`LogSource`].

use glassbox_core::digest::Sha256Digest;
use glassbox_core::merkle::consistency_proof;

use super::*;
use crate::testlog::{key, key_id, TestLog, REPO};

/// Serves a test log; `tamper` flips a byte of one served leaf.
struct Served<'a> {
    log: &'a TestLog,
    tamper: Option<u64>,
}

impl ProofSource for Served<'_> {
    fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Option<Vec<Hash>>> {
        if to > self.log.tree.size() {
            return Ok(None);
        }
        Ok(Some(consistency_proof(from, to, &self.log.tree)?))
    }
    fn label(&self) -> String {
        "test".to_owned()
    }
}

impl LogSource for Served<'_> {
    fn checkpoint(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self.log.checkpoint())
    }
    fn entries(&self, start: u64, end: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut leaves = self.log.leaves[start as usize..end as usize].to_vec();
        if let Some(i) = self.tamper.filter(|i| (start..end).contains(i)) {
            let leaf = &mut leaves[(i - start) as usize];
            let n = leaf.len();
            leaf[n - 3] ^= 1;
        }
        Ok(leaves)
    }
}

fn serve(log: &TestLog) -> Served<'_> {
    Served { log, tamper: None }
}

fn trust(log: &TestLog) -> Trust {
    Trust {
        log: log.signer.verifier(),
        witnesses: Vec::new(),
        quorum: 0,
    }
}

fn story_log() -> TestLog {
    let mut log = TestLog::new();
    log.story(Sha256Digest::of(b"app"));
    log
}

#[test]
fn first_round_reads_the_whole_log_and_saves_the_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let log = story_log();
    let report = round(&serve(&log), &trust(&log), &state, &Watches::default()).expect("round");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        (report.previous_size, report.size, report.new_entries),
        (0, 8, 8)
    );
    assert_eq!(
        report.watched.len(),
        8,
        "nothing watched: every entry is shown"
    );
    assert!(
        report.watched[0].starts_with("0  key-event  "),
        "{:?}",
        report.watched
    );
    let stored = state
        .load_checkpoint(&log.signer.verifier())
        .expect("load")
        .expect("checkpoint remembered");
    assert_eq!(stored.checkpoint.size, 8);
}

#[test]
fn next_round_reads_only_new_entries_and_reports_watched_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    round(&serve(&log), &trust(&log), &state, &Watches::default()).expect("first");
    log.story(Sha256Digest::of(b"app 2"));
    let watches = Watches {
        repositories: vec![REPO.to_owned()],
        keys: Vec::new(),
    };
    let report = round(&serve(&log), &trust(&log), &state, &watches).expect("second");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        (report.previous_size, report.size, report.new_entries),
        (8, 12, 4)
    );
    assert_eq!(report.watched.len(), 4, "{:?}", report.watched);
    assert!(report
        .watched
        .iter()
        .any(|l| l.contains("source-review") && l.ends_with("approved")));

    let by_key = Watches {
        repositories: Vec::new(),
        keys: vec![key_id(&log.reviewer).to_uppercase()],
    };
    log.story(Sha256Digest::of(b"app 3"));
    let report = round(&serve(&log), &trust(&log), &state, &by_key).expect("third");
    assert_eq!(report.watched.len(), 1, "{:?}", report.watched);
}

#[test]
fn a_forked_log_is_a_split_view_with_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let honest = story_log();
    round(
        &serve(&honest),
        &trust(&honest),
        &state,
        &Watches::default(),
    )
    .expect("first");
    let mut fork = TestLog::new();
    fork.story(Sha256Digest::of(b"something else"));
    fork.story(Sha256Digest::of(b"app"));
    let report = round(&serve(&fork), &trust(&fork), &state, &Watches::default()).expect("round");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].starts_with("split view: size 8"),
        "{:?}",
        report.problems
    );
    let evidence = report.evidence.expect("evidence");
    assert!(evidence.join("current.checkpoint").is_file());
    // Nothing moved.
    let position = Position::load(
        &state.monitor_path(crate::testlog::ORIGIN),
        crate::testlog::ORIGIN,
    )
    .expect("position");
    assert_eq!(position.frontier.size(), 8);
}

#[test]
fn an_altered_entry_does_not_make_up_the_signed_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let log = story_log();
    let served = Served {
        log: &log,
        tamper: Some(5),
    };
    let report = round(&served, &trust(&log), &state, &Watches::default()).expect("round");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("do not make up the tree")),
        "{:?}",
        report.problems
    );
    assert!(state
        .load_checkpoint(&log.signer.verifier())
        .expect("load")
        .is_none());
}

#[test]
fn an_entry_from_an_unregistered_key_is_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    let review = log.review(glassbox_core::statement::Verdict::Approved);
    log.append_attestation(review, &key(77));
    let report = round(&serve(&log), &trust(&log), &state, &Watches::default()).expect("round");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].starts_with("entry 8: source-review not authorised"),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_checkpoint_from_another_key_is_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let log = story_log();
    let impostor = TestLog::with_log_key(key(98));
    let report =
        round(&serve(&impostor), &trust(&log), &state, &Watches::default()).expect("round");
    assert!(
        report.problems[0].contains("does not verify with the log key"),
        "{:?}",
        report.problems
    );
}

#[test]
fn the_registry_survives_between_rounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = TestLog::new();
    round(&serve(&log), &trust(&log), &state, &Watches::default()).expect("first");
    // Only key events so far; the next round must know the reviewer without re-reading them.
    log.story(Sha256Digest::of(b"app"));
    let report = round(&serve(&log), &trust(&log), &state, &Watches::default()).expect("second");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.new_entries, 4);
}
