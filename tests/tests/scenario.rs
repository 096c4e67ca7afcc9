//! The whole Glassbox story with the real binaries over loopback (docs/design.md §1 and §6,
//! the end-to-end suite): one test for the story that must verify — online, offline from
//! a bundle with the server stopped, and with `--rebuild` — then one test per way it
//! must not, each asserting exit status 1 and the specific reason.

use std::fs;

use glassbox_tests::repo;
use glassbox_tests::server::{copy_data_dir, Server};
use glassbox_tests::story::{Story, Who, REVIEWED_AT};

/// Lower-cased stdout + stderr of a run that must exit 1.
#[track_caller]
fn failure(run: &glassbox_tests::cli::Run) -> String {
    run.exits(1).to_lowercase()
}

#[track_caller]
fn assert_mentions(text: &str, any_of: &[&str]) {
    assert!(
        any_of.iter().any(|needle| text.contains(needle)),
        "expected one of {any_of:?} in:\n{text}"
    );
}

#[test]
fn the_set_up_logs_every_statement_of_the_story() {
    let story = Story::happy();
    // Genesis (0), three registrations, source, review, two builds: each its own
    // batch, which the log's index commitment ends (at 1, 3, 5, …).
    let indexes: Vec<u64> = story
        .receipts
        .iter()
        .map(|r| r["index"].as_u64().expect("receipt index"))
        .collect();
    assert_eq!(indexes, (1..=7).map(|i| 2 * i).collect::<Vec<_>>());
    // Vendor and rebuilder produced the same bytes from commit C.
    let vendor = fs::read(story.artifact()).unwrap();
    let rebuilder = fs::read(
        story
            .dir
            .join(format!("rebuilder-{}.bin", &story.commit[..12])),
    )
    .unwrap();
    assert_eq!(vendor, rebuilder);
}

#[test]
fn an_approved_reproducible_artifact_verifies_online_offline_and_by_rebuilding() {
    let mut story = Story::happy();
    let artifact = story.artifact();

    let online = story.verify_online(&artifact, &[]);
    let text = online.ok();
    assert!(
        text.contains(&story.commit),
        "the chain names commit C:\n{online}"
    );

    story.fetch_bundle(&artifact, "app.bundle.json");
    story.stop_server();
    let offline = story.verify_bundle(&artifact, "app.bundle.json", &[]);
    offline.ok();

    let rebuilt = story.verify_bundle(
        &artifact,
        "app.bundle.json",
        &["--rebuild", "--source", "app"],
    );
    rebuilt.ok();

    let json = story.verify_bundle(&artifact, "app.bundle.json", &["--json"]);
    let verdict = json.json();
    assert!(
        verdict["failures"].as_array().is_none_or(|f| f.is_empty()),
        "{verdict}"
    );
}

#[test]
fn a_binary_modified_by_one_byte_fails() {
    let story = Story::happy();
    let tampered = story.dir.join("tampered.bin");
    let mut bytes = fs::read(story.artifact()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&tampered, bytes).unwrap();
    let text = failure(&story.verify_online(&tampered, &[]));
    assert_mentions(
        &text,
        &["no logged build", "names this artifact", "not found"],
    );
}

#[test]
fn an_artifact_built_from_a_commit_nobody_reviewed_fails() {
    let mut story = Story::begin();
    let reviewed = story.commit.clone();
    story.submit_source(&reviewed);
    story.review(Who::Reviewer, &reviewed, "approved", REVIEWED_AT);
    // The vendor ships a later commit the reviewer never saw.
    let unreviewed = repo::commit_change(
        &story.repo,
        "src/data.txt",
        "0123456789abcdef plus a backdoor\n",
        "app 1.0.1",
    );
    story.submit_source(&unreviewed);
    let artifact = story.build(Who::Vendor, &unreviewed);
    story.build(Who::Rebuilder, &unreviewed);
    let text = failure(&story.verify_online(&artifact, &[]));
    assert_mentions(&text, &["review"]);
}

#[test]
fn only_the_vendor_attesting_the_build_fails() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let artifact = story.build(Who::Vendor, &commit);
    let text = failure(&story.verify_online(&artifact, &[]));
    assert_mentions(&text, &["builder"]);
}

#[test]
fn a_rejected_review_fails() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "rejected", REVIEWED_AT);
    let artifact = story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);
    let text = failure(&story.verify_online(&artifact, &[]));
    assert_mentions(&text, &["reject", "review"]);
}

#[test]
fn a_review_by_a_key_compromised_before_the_review_fails() {
    let mut story = Story::happy();
    // The reviewer's key turns out to have been stolen a day before the review was
    // signed: the operator revokes it as compromised since then.
    story.revoke(Who::Reviewer, Some("2025-01-02T12:00:00Z"));
    let text = failure(&story.verify_online(&story.artifact(), &[]));
    assert_mentions(&text, &["revoked", "compromised"]);
}

#[test]
fn a_server_showing_a_forked_history_is_detected_through_the_client_state() {
    // A log with its registrations, then a copy of its data dir (log key included).
    let mut story = Story::begin();
    story.stop_server();
    let fork_data = story.dir.join("fork-data");
    copy_data_dir(&story.data, &fork_data).unwrap();

    // The honest log continues; the client verifies and remembers its checkpoint.
    let honest = Server::start(&story.data);
    story.use_server(honest);
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);
    story.verify_online(&story.artifact(), &[]).ok();

    // The same log key, a different tree: another entry first, then the same story.
    let fork = Server::start(&fork_data);
    assert_eq!(fork.vkey, story.vkey, "the fork signs with the same key");
    story.use_server(fork);
    let story_entries = story.submitted[3..].to_vec();
    story.register(Who::Auditor);
    story.submit_again(&story_entries);
    let text = failure(&story.verify_online(&story.artifact(), &[]));
    assert_mentions(&text, &["consisten", "fork", "split"]);
}

#[test]
fn a_bundle_whose_checkpoint_is_signed_by_another_key_fails() {
    let story = Story::happy();
    let artifact = story.artifact();
    // Another log (its own key) that accepted the very same envelopes.
    let other = story.replay_on_another_log();
    assert_ne!(other.vkey, story.vkey);
    story.fetch_bundle_from(&other.url, &artifact, "other.bundle.json");
    let text = failure(&story.verify_bundle(&artifact, "other.bundle.json", &[]));
    assert_mentions(&text, &["signature", "signed", "log key", "vkey"]);
}

#[test]
fn a_rebuild_whose_output_differs_fails() {
    // Vendor and rebuilder agree on an artifact that commit C's recipe does not
    // produce (a compromised toolchain they share, or collusion): the policy's two
    // builders are satisfied, only rebuilding from source exposes it.
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let artifact = story.build_only(Who::Vendor, &commit);
    let mut bytes = fs::read(&artifact).unwrap();
    bytes.extend_from_slice(b"\0implant");
    fs::write(&artifact, bytes).unwrap();
    story.attest_build(Who::Vendor, &commit, &artifact);
    story.attest_build(Who::Rebuilder, &commit, &artifact);
    story.verify_online(&artifact, &[]).ok();

    let text = failure(&story.verify_online(&artifact, &["--rebuild", "--source", "app"]));
    assert_mentions(&text, &["output_hash", "output hash", "rebuil"]);
    // The divergence is a named failure for machines too.
    let run = story.verify_online(&artifact, &["--rebuild", "--source", "app", "--json"]);
    run.exits(1);
    let failures = run.json()["failures"].clone();
    assert_eq!(failures[0]["code"], "rebuildDiverged", "{failures}");
    assert_eq!(failures[0]["stage"], "output_hash", "{failures}");
}
