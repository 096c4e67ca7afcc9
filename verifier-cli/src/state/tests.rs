use glassbox_core::note::NoteVerifierKey;

use super::*;
use crate::testlog::{TestLog, ORIGIN};

fn log_key(log: &TestLog) -> NoteVerifierKey {
    log.signer.verifier()
}

#[test]
fn no_state_loads_as_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = TestLog::new();
    let state = StateDir::new(dir.path());
    assert!(state
        .load_checkpoint(&log_key(&log))
        .expect("load")
        .is_none());
}

#[test]
fn saved_checkpoint_round_trips_and_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = TestLog::new();
    let state = StateDir::new(dir.path());
    assert!(state
        .save_checkpoint(&log.signed_checkpoint())
        .expect("save"));
    let loaded = state
        .load_checkpoint(&log_key(&log))
        .expect("load")
        .expect("some");
    assert_eq!(loaded.checkpoint, log.signed_checkpoint().checkpoint);
    let files: Vec<_> = fs::read_dir(dir.path().join("checkpoints"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

#[test]
fn state_never_moves_backwards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = TestLog::new();
    let older = log.signed_checkpoint();
    log.story(glassbox_core::digest::Sha256Digest::of(b"app"));
    let newer = log.signed_checkpoint();
    let state = StateDir::new(dir.path());
    assert!(state.save_checkpoint(&newer).expect("save newer"));
    assert!(!state.save_checkpoint(&older).expect("older is ignored"));
    let loaded = state
        .load_checkpoint(&log_key(&log))
        .expect("load")
        .expect("some");
    assert_eq!(loaded.checkpoint.size, newer.checkpoint.size);
}

#[test]
fn tampered_state_file_is_reported_not_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = TestLog::new();
    let state = StateDir::new(dir.path());
    state
        .save_checkpoint(&log.signed_checkpoint())
        .expect("save");
    let path = state.checkpoint_path(ORIGIN);
    let mut bytes = fs::read(&path).expect("read");
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    fs::write(&path, bytes).expect("write");
    let err = state.load_checkpoint(&log_key(&log)).expect_err("corrupt");
    assert!(matches!(err, StateError::OtherLog { .. }), "{err:?}");
    assert!(err.to_string().contains("the file was altered"), "{err}");
}

/// A second log with the same name (two quickstart logs) meets the first one's
/// state: the error says so and names --state, instead of only "does not verify".
#[test]
fn another_log_of_the_same_name_is_told_to_keep_its_state_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    state
        .save_checkpoint(&TestLog::new().signed_checkpoint())
        .expect("save");
    let other = TestLog::with_log_key(crate::testlog::key(99));
    let err = state
        .load_checkpoint(&log_key(&other))
        .expect_err("other log");
    let text = err.to_string();
    assert!(
        text.contains(&format!("this client remembers a log named {ORIGIN}"))
            && text.contains("keep its state apart with --state DIR"),
        "{text}"
    );
}

#[test]
fn split_view_evidence_keeps_both_checkpoints_and_the_proof() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = StateDir::new(dir.path());
    let evidence = SplitViewEvidence {
        source: "http://127.0.0.1:1",
        detail: "consistency proof fails",
        previous_size: 4,
        size: 9,
        proof: vec!["AAAA".to_owned()],
    };
    let first = state
        .save_split_view(b"old\n", b"new\n", ORIGIN, &evidence)
        .expect("save");
    let second = state
        .save_split_view(b"old\n", b"new\n", ORIGIN, &evidence)
        .expect("save twice");
    assert_ne!(
        first, second,
        "a second split view must not overwrite the first"
    );
    assert!(first.starts_with(dir.path().join("evidence")));
    assert_eq!(
        fs::read(first.join("previous.checkpoint")).expect("prev"),
        b"old\n"
    );
    assert_eq!(
        fs::read(first.join("current.checkpoint")).expect("cur"),
        b"new\n"
    );
    let proof: serde_json::Value =
        serde_json::from_slice(&fs::read(first.join("proof.json")).expect("proof")).expect("json");
    assert_eq!(proof["previousSize"], 4);
    assert_eq!(proof["proof"][0], "AAAA");
}

#[test]
fn origin_file_names_are_safe_and_distinct() {
    assert_ne!(file_name("a/b"), file_name("a_b"));
    let name = file_name("../../etc/passwd");
    assert!(!name.contains('/') && !name.starts_with('.'), "{name}");
    assert!(file_name("glassbox.example/log").starts_with("glassbox.example_log-"));
}

#[test]
fn explicit_state_dir_wins() {
    let state = StateDir::resolve(Some(Path::new("/tmp/x"))).expect("resolve");
    assert_eq!(state.root(), Path::new("/tmp/x"));
}
