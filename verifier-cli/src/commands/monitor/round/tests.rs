//! Monitor rounds against an in-memory log served through [`LogSource`].

use glassbox_core::digest::Sha256Digest;

use super::*;
use crate::commands::monitor::source::WitnessSource;
use crate::commands::verify::check::ProofSource;
use crate::testlog::{key, key_id, TestLog, REPO};

/// Serves a test log; `tamper` flips a byte of one served leaf.
struct Served<'a> {
    log: &'a TestLog,
    tamper: Option<u64>,
}

/// No witnesses.
fn alone() -> WitnessCheck<'static> {
    WitnessCheck {
        witnesses: &[],
        max_age: 3600,
        now: 0,
    }
}

impl ProofSource for Served<'_> {
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        self.log.consistency(from, to)
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
    fn checkpoint_at(&self, size: u64) -> anyhow::Result<Option<Vec<u8>>> {
        Ok((size == self.log.tree.size()).then(|| self.log.checkpoint()))
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
    let report = round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("round");
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
    round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("first");
    log.story(Sha256Digest::of(b"app 2"));
    let watches = Watches {
        repositories: vec![REPO.to_owned()],
        keys: Vec::new(),
    };
    let report = round(&serve(&log), &trust(&log), &state, &watches, &alone()).expect("second");
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
    let report = round(&serve(&log), &trust(&log), &state, &by_key, &alone()).expect("third");
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
        &alone(),
    )
    .expect("first");
    let mut fork = TestLog::new();
    fork.story(Sha256Digest::of(b"something else"));
    fork.story(Sha256Digest::of(b"app"));
    let report = round(
        &serve(&fork),
        &trust(&fork),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("round");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].starts_with("split view: size 8"),
        "{:?}",
        report.problems
    );
    let evidence = &report.evidence[0];
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
    let report =
        round(&served, &trust(&log), &state, &Watches::default(), &alone()).expect("round");
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
    let report = round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("round");
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
    let report = round(
        &serve(&impostor),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("round");
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
    round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("first");
    // Only key events so far; the next round must know the reviewer without re-reading them.
    log.story(Sha256Digest::of(b"app"));
    let report = round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &alone(),
    )
    .expect("second");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.new_entries, 4);
}

#[test]
fn a_witness_holding_a_fork_fails_the_round_and_saves_both_notes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let log = story_log();
    let mut fork = TestLog::new();
    fork.story(Sha256Digest::of(b"something else"));
    struct Forked(Vec<u8>);
    impl WitnessSource for Forked {
        fn url(&self) -> &str {
            "http://w.test"
        }
        fn latest(&self, _: &str) -> anyhow::Result<Option<Vec<u8>>> {
            Ok(Some(self.0.clone()))
        }
    }
    let sources: Vec<Box<dyn WitnessSource>> = vec![Box::new(Forked(fork.checkpoint()))];
    let check = WitnessCheck {
        witnesses: &sources,
        max_age: 3600,
        now: 0,
    };
    let report = round(
        &serve(&log),
        &trust(&log),
        &state,
        &Watches::default(),
        &check,
    )
    .expect("round");
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].starts_with("split view: size 8 root "));
    let evidence = &report.evidence[0];
    assert_eq!(
        std::fs::read(evidence.join("previous.checkpoint")).unwrap(),
        fork.checkpoint()
    );
    assert_eq!(
        std::fs::read(evidence.join("current.checkpoint")).unwrap(),
        log.checkpoint()
    );
    assert!(
        state
            .load_checkpoint(&log.signer.verifier())
            .unwrap()
            .is_none(),
        "nothing is believed from a log caught equivocating"
    );
}

/// One round over `log` with nothing watched and no witnesses.
fn one_round(log: &TestLog, state: &StateDir) -> Report {
    round(
        &serve(log),
        &trust(log),
        state,
        &Watches::default(),
        &alone(),
    )
    .expect("round")
}

#[test]
fn the_index_rebuilt_from_the_log_audits_every_commitment_across_rounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    log.commit_index(false);
    let report = one_round(&log, &state);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The next round starts from the saved index: a later commitment over the
    // whole log still matches.
    log.release(b"second");
    log.commit_index(false);
    let report = one_round(&log, &state);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.evidence.is_empty());
}

#[test]
fn a_wrong_index_commitment_is_a_problem_with_evidence_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    let wrong = log.commit_index(true);
    let report = one_round(&log, &state);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains(&format!("entry {wrong}: wrong index commitment"))
            && report.problems[0].contains("the index rebuilt from the log gives root"),
        "{:?}",
        report.problems
    );
    let [evidence] = report.evidence.as_slice() else {
        panic!("one evidence directory: {:?}", report.evidence);
    };
    let entry = std::fs::read(evidence.join(format!("entry-{wrong}.json"))).unwrap();
    assert_eq!(entry, log.leaves[wrong as usize]);
    assert!(evidence.join("checkpoint").exists());
    assert!(std::fs::read_to_string(evidence.join("finding.txt"))
        .unwrap()
        .contains("wrong index commitment"));
}

#[test]
fn a_commitment_signed_by_anyone_but_the_log_is_a_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let mut log = story_log();
    let real = log.log_key.clone();
    log.log_key = key(77);
    let forged = log.commit_index(false);
    log.log_key = real;
    let report = one_round(&log, &state);
    assert!(
        report.problems.iter().any(|p| p.starts_with(&format!(
            "entry {forged}: index commitment is not signed by the log's key"
        ))),
        "{:?}",
        report.problems
    );
}
