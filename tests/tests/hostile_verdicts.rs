//! The verdict against a hostile server, bundle, vendor or operator, with the real
//! binaries over loopback. Every test builds genuine evidence — real signatures, real
//! proofs — then plays one attack and asserts that `glassbox verify` ends NOT
//! VERIFIED (exit 1) with the named failure in `--json`. docs/threat-model.md maps
//! each attack to its test here.

use std::fs;
use std::path::Path;

use glassbox_core::dsse::Envelope;
use glassbox_tests::cli::Run;
use glassbox_tests::proxy::{Answer, Proxy};
use glassbox_tests::repo;
use glassbox_tests::repo::BUILD_COMMAND;
use glassbox_tests::server::{copy_data_dir, Server};
use glassbox_tests::story::{policy_toml, Story, Who, BUILT_AT, REPOSITORY_URL, REVIEWED_AT};

/// The failure codes of a `--json` run that must have exited 1.
#[track_caller]
fn failures(run: &Run) -> Vec<String> {
    run.exits(1);
    run.json()["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect()
}

#[track_caller]
fn assert_has(codes: &[String], code: &str) {
    assert!(
        codes.iter().any(|c| c == code),
        "expected {code} among {codes:?}"
    );
}

/// `verify` arguments for an online run against `url` with `--json`.
fn online(url: &str) -> [&str; 3] {
    ["--server", url, "--json"]
}

/// The story's policy plus `extra` TOML, written as `name`.
fn policy_with(story: &Story, name: &str, extra: &str) -> String {
    let text = format!("{}{extra}", policy_toml(&story.vkey));
    fs::write(story.dir.join(name), text).expect("write policy");
    name.to_owned()
}

// ------------------------------------------------------------------ order and repeats

#[test]
fn a_bundle_with_its_entries_reordered_fails_as_evidence_order() {
    let story = Story::happy();
    let artifact = story.artifact();
    story.fetch_bundle(&artifact, "app.bundle.json");
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(story.dir.join("app.bundle.json")).unwrap()).unwrap();
    bundle["entries"].as_array_mut().expect("entries").reverse();
    fs::write(
        story.dir.join("reordered.json"),
        serde_json::to_vec(&bundle).unwrap(),
    )
    .unwrap();
    let codes = failures(&story.verify_bundle(&artifact, "reordered.json", &["--json"]));
    assert_has(&codes, "evidenceOrder");
}

#[test]
fn a_co_signed_approval_relogged_with_reordered_signatures_cannot_outrank_a_rejection() {
    let mut story = Story::begin();
    story.register(Who::Auditor);
    let commit = story.commit.clone();
    story.submit_source(&commit);
    // Two reviewers co-sign one approval…
    let single = story.attest_review(Who::Reviewer.key(), &commit, "approved", REVIEWED_AT, &[]);
    let env = Envelope::from_json(&fs::read(story.dir.join(&single)).unwrap()).unwrap();
    let keys = [Who::Reviewer.key(), Who::Auditor.key()]
        .map(|k| glassbox_keys::load_signing_key(&story.dir.join(k)).unwrap());
    let cosigned = Envelope::sign(&env.payload_type, &env.payload, &[&keys[0], &keys[1]]).unwrap();
    fs::write(
        story.dir.join("cosigned.json"),
        cosigned.to_canonical_json(),
    )
    .unwrap();
    story.submit("cosigned.json");
    let first = story.receipts.last().unwrap()["index"].as_u64().unwrap();
    // …then one of them finds a flaw and rejects.
    story.review(Who::Reviewer, &commit, "rejected", "2025-01-05T00:00:00Z");
    story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);

    // The attack: the approval again, its signatures swapped — a new leaf once.
    let mut swapped = cosigned.clone();
    swapped.signatures.reverse();
    fs::write(story.dir.join("swapped.json"), swapped.to_canonical_json()).unwrap();
    story.submit("swapped.json");
    let again = story.receipts.last().unwrap()["index"].as_u64().unwrap();
    assert_eq!(
        again, first,
        "the log answers a logged statement with its first receipt"
    );

    let codes = failures(&story.verify_online(&story.artifact(), &["--json"]));
    assert_has(&codes, "reviewRejected");
}

// ------------------------------------------------------------------ rollback

#[test]
fn an_old_bundle_is_stale_for_a_client_that_has_seen_the_newer_log() {
    let mut story = Story::happy();
    let artifact = story.artifact();
    story.fetch_bundle(&artifact, "old.bundle.json");
    let commit = story.commit.clone();
    story.review(Who::Reviewer, &commit, "rejected", "2025-01-05T00:00:00Z");
    failures(&story.verify_online(&artifact, &["--json"]));

    let run = story.verify_bundle(&artifact, "old.bundle.json", &[]);
    let text = run.exits(1);
    assert!(text.contains("stale evidence"), "{text}");
    assert!(
        text.contains("glassbox bundle"),
        "says how to refresh: {text}"
    );
    let codes = failures(&story.verify_bundle(&artifact, "old.bundle.json", &["--json"]));
    assert_eq!(codes, ["stale"]);
}

/// A bundle whose checkpoint a witness last cosigned a month ago: a frozen view.
/// With `[log] max_age = "7d"` it fails `checkpointTooOld`; within the age it verifies.
#[test]
fn a_bundle_last_cosigned_before_max_age_is_too_old() {
    use glassbox_core::cosignature::CosignatureSigner;
    use glassbox_core::note::Note;

    let story = Story::happy();
    let artifact = story.artifact();
    story.fetch_bundle(&artifact, "app.bundle.json");
    let witness = CosignatureSigner::new(
        "witness.test",
        ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cosigned_at = |at: u64, name: &str| {
        let mut bundle: serde_json::Value =
            serde_json::from_slice(&fs::read(story.dir.join("app.bundle.json")).unwrap()).unwrap();
        let mut note = Note::parse(bundle["checkpoint"].as_str().unwrap().as_bytes()).unwrap();
        note.add_signature(witness.sign(&note.text, at).unwrap())
            .unwrap();
        bundle["checkpoint"] = String::from_utf8(note.to_bytes()).unwrap().into();
        fs::write(story.dir.join(name), serde_json::to_vec(&bundle).unwrap()).unwrap();
    };
    cosigned_at(now - 30 * 86_400, "old.json");
    cosigned_at(now - 3_600, "fresh.json");
    let text = format!(
        "[log]\nvkey = \"{}\"\nmax_age = \"7d\"\n\
         [witnesses]\nvkeys = [\"{}\"]\nquorum = 1\n\
         [reviewers]\nkeys = [\"*\"]\nmin = 1\n[builders]\nkeys = [\"*\"]\nmin = 2\nindependent = 1\n",
        story.vkey,
        witness.verifier()
    );
    fs::write(story.dir.join("fresh.toml"), text).unwrap();
    let run = story.verify_with(&artifact, "fresh.toml", &["--bundle", "old.json", "--json"]);
    assert_eq!(failures(&run), ["checkpointTooOld"]);
    story
        .verify_with(&artifact, "fresh.toml", &["--bundle", "fresh.json"])
        .exits(0);
}

#[test]
fn a_server_answering_with_an_old_bundle_is_stale() {
    let mut story = Story::happy();
    let artifact = story.artifact();
    story.fetch_bundle(&artifact, "old.bundle.json");
    let old = fs::read(story.dir.join("old.bundle.json")).unwrap();
    let commit = story.commit.clone();
    story.review(Who::Reviewer, &commit, "rejected", "2025-01-05T00:00:00Z");
    failures(&story.verify_online(&artifact, &["--json"]));

    let proxy = Proxy::start(&story.url);
    proxy.answer("/api/v1/bundle", Answer::Body(old));
    let codes = failures(&story.verify_with(&artifact, "policy.toml", &online(&proxy.url)));
    assert_eq!(codes, ["stale"]);
}

// ------------------------------------------------------------------ completeness

/// The bundle at `name` as JSON.
fn read_bundle(story: &Story, name: &str) -> serde_json::Value {
    serde_json::from_slice(&fs::read(story.dir.join(name)).unwrap()).unwrap()
}

/// `bundle` with the receipt of entry `index` cut out of `entries` or `keyEvents`.
fn cut(mut bundle: serde_json::Value, index: u64) -> Vec<u8> {
    let mut found = false;
    for list in ["entries", "keyEvents"] {
        bundle[list].as_array_mut().unwrap().retain(|r| {
            let hit = r["index"] == index;
            found |= hit;
            !hit
        });
    }
    assert!(found, "entry {index} is not in the bundle");
    serde_json::to_vec(&bundle).unwrap()
}

/// The index of the entry logged last.
fn last_index(story: &Story) -> u64 {
    story.receipts.last().unwrap()["index"].as_u64().unwrap()
}

// ------------------------------------------------------------------ keys named

/// `name+keyid` of a C2SP vkey `name+keyid+base64`.
fn key_named(vkey: &str) -> String {
    let mut parts = vkey.splitn(3, '+');
    format!("{}+{}", parts.next().unwrap(), parts.next().unwrap())
}

/// A policy naming another key for the log (same name, as a careless or attacked
/// set-up would): the failure says which key signed, which was trusted, and what to do.
#[test]
fn a_checkpoint_by_another_log_key_names_both_keys_and_what_to_do() {
    let story = Story::happy();
    let artifact = story.artifact();
    let origin = story.vkey.split('+').next().unwrap();
    let other = glassbox_core::note::NoteSigner::new(
        origin,
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    )
    .unwrap()
    .verifier()
    .to_string();
    fs::write(story.dir.join("other-log.toml"), policy_toml(&other)).unwrap();

    let text = story
        .verify_with(&artifact, "other-log.toml", &["--server", &story.url])
        .exits(1);
    let (found, expected) = (key_named(&story.vkey), key_named(&other));
    let line = text
        .lines()
        .position(|l| l.contains("does not verify with the log key"))
        .unwrap_or_else(|| panic!("no log-key failure in:\n{text}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[line].contains(&format!("signed by {found}"))
            && lines[line].contains(&format!("trusted: {expected}")),
        "{}",
        lines[line]
    );
    assert!(
        lines[line + 1].starts_with("    → ") && lines[line + 1].contains("Never"),
        "{text}"
    );

    let run = story.verify_with(&artifact, "other-log.toml", &online(&story.url));
    run.exits(1);
    let json = run.json();
    let failure = json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "badLogSignature")
        .unwrap_or_else(|| panic!("{json:#}"));
    let detail = failure["detail"].as_str().unwrap();
    assert!(
        detail.contains(&found) && detail.contains(&expected),
        "{detail}"
    );
    assert!(
        failure["remedy"].as_str().unwrap().contains("Never"),
        "{failure}"
    );
}

/// The served bundle holds every entry about the artifact; cut any one out — the
/// reviewer's rejection, a key's revocation, a builder's build — and every proof
/// left still checks, but the log's index lists the missing entry: `entryWithheld`.
#[test]
fn a_bundle_with_one_entry_cut_out_fails_as_withheld() {
    let mut story = Story::happy();
    let artifact = story.artifact();
    let build = last_index(&story);
    let commit = story.commit.clone();
    story.review(Who::Reviewer, &commit, "rejected", "2025-01-05T00:00:00Z");
    let rejection = last_index(&story);
    story.register(Who::Auditor);
    story.revoke(Who::Auditor, None);
    let revocation = last_index(&story);
    story.fetch_bundle(&artifact, "whole.json");
    let whole = read_bundle(&story, "whole.json");
    assert_eq!(
        whole["mediaType"], "application/vnd.glassbox.bundle.v2+json",
        "the server serves bundles with index proofs"
    );
    // Whole, it fails on the rejection — the verdict an attacker wants to flip.
    assert_has(
        &failures(&story.verify_bundle(&artifact, "whole.json", &["--json"])),
        "reviewRejected",
    );
    for (what, index) in [
        ("rejection", rejection),
        ("revocation", revocation),
        ("build", build),
    ] {
        let name = format!("without-{what}.json");
        fs::write(story.dir.join(&name), cut(whole.clone(), index)).unwrap();
        let codes = failures(&story.verify_bundle(&artifact, &name, &["--json"]));
        assert_has(&codes, "entryWithheld");
    }
}

/// Online, a server (here a proxy in front of the honest one) that leaves the
/// rejection out of its answer is caught the same way.
#[test]
fn a_server_that_omits_an_entry_from_its_bundle_fails_as_withheld() {
    let mut story = Story::happy();
    let artifact = story.artifact();
    let commit = story.commit.clone();
    story.review(Who::Reviewer, &commit, "rejected", "2025-01-05T00:00:00Z");
    let rejection = last_index(&story);
    story.fetch_bundle(&artifact, "whole.json");
    let omitting = cut(read_bundle(&story, "whole.json"), rejection);

    story.write_policy("policy.toml");
    let proxy = Proxy::start(&story.url);
    proxy.answer("/api/v1/bundle", Answer::Body(omitting));
    let codes = failures(&story.verify_with(&artifact, "policy.toml", &online(&proxy.url)));
    assert_eq!(codes, ["entryWithheld"]);
}

/// A bundle stripped of its index proofs (made to look like version 1) verifies
/// with a warning under the default policy, and fails `completenessUnproven` under
/// `[log] require_completeness = true`.
#[test]
fn a_bundle_stripped_of_its_index_proofs_fails_a_policy_requiring_completeness() {
    let story = Story::happy();
    let artifact = story.artifact();
    story.fetch_bundle(&artifact, "whole.json");
    let mut stripped = read_bundle(&story, "whole.json");
    stripped.as_object_mut().unwrap().remove("index");
    stripped["mediaType"] = "application/vnd.glassbox.bundle.v1+json".into();
    fs::write(
        story.dir.join("stripped.json"),
        serde_json::to_vec(&stripped).unwrap(),
    )
    .unwrap();
    let lenient = story.verify_bundle(&artifact, "stripped.json", &[]);
    assert!(lenient.ok().contains("completeness unproven"), "{lenient}");

    let text = fs::read_to_string(story.dir.join("policy.toml"))
        .unwrap_or_else(|_| policy_toml(&story.vkey))
        .replacen("[log]\n", "[log]\nrequire_completeness = true\n", 1);
    fs::write(story.dir.join("strict.toml"), text).unwrap();
    let codes = failures(&story.verify_with(
        &artifact,
        "strict.toml",
        &["--bundle", "stripped.json", "--json"],
    ));
    assert_eq!(codes, ["completenessUnproven"]);
}

// ------------------------------------------------------------------ withheld proofs

#[test]
fn a_server_that_withholds_the_consistency_proof_fails_and_the_state_stays() {
    let mut story = Story::happy();
    let artifact = story.artifact();
    let first = story.verify_online(&artifact, &[]).ok().to_owned();
    let seen = checkpoint_size(&first);
    story.register(Who::Auditor);

    let proxy = Proxy::start(&story.url);
    for answer in [
        Answer::Status(400),
        Answer::Status(500),
        Answer::Body(b"{\"from\": 1}".to_vec()),
        Answer::Hang,
    ] {
        proxy.answer("/api/v1/proof/consistency", answer.clone());
        let run = story.verify_with(
            &artifact,
            "policy.toml",
            &["--server", &proxy.url, "--timeout", "3", "--json"],
        );
        assert_eq!(failures(&run), ["consistencyUnproven"], "{answer:?}");
    }
    // Nothing moved: the honest server proves the growth from the size seen first.
    let text = story.verify_online(&artifact, &[]).ok().to_owned();
    assert!(
        text.contains(&format!("proven consistent with size {seen} seen before")),
        "{text}"
    );
}

/// The checkpoint size a verdict's `log` line names.
fn checkpoint_size(verdict: &str) -> u64 {
    let (_, rest) = verdict
        .split_once("checkpoint size ")
        .unwrap_or_else(|| panic!("no checkpoint size in {verdict}"));
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn a_larger_forked_log_that_withholds_the_proof_is_not_verified() {
    let mut story = Story::begin();
    story.stop_server();
    let fork_data = story.dir.join("fork-data");
    copy_data_dir(&story.data, &fork_data).unwrap();
    story.use_server(Server::start(&story.data));
    story.release();
    story.verify_online(&story.artifact(), &[]).ok();

    // Same key, another history, longer than the one the client saw, and a server
    // that will not be drawn into proving it.
    story.use_server(Server::start(&fork_data));
    let entries = story.submitted[3..].to_vec();
    story.register(Who::Auditor);
    story.submit_again(&entries);
    let proxy = Proxy::start(&story.url);
    proxy.answer("/api/v1/proof/consistency", Answer::Status(400));
    let codes = failures(&story.verify_with(&story.artifact(), "policy.toml", &online(&proxy.url)));
    assert_eq!(codes, ["consistencyUnproven"]);
}

// ------------------------------------------------------------------ pinned operators

/// A log whose quickstart (genesis) operator registered a second operator,
/// `operator2.pem`; the story and the genesis operator's key file.
fn second_operator() -> (Story, String) {
    let mut story = Story::bare();
    let operator = story.operator_key();
    story.register_key(
        "operator2.pem",
        "Second Desk",
        "Log Co",
        "operator",
        &operator,
        None,
    );
    (story, operator)
}

#[test]
fn participants_registered_by_an_operator_the_policy_does_not_pin_do_not_count() {
    let (mut story, operator) = second_operator();
    story.register(Who::Vendor);
    story.register(Who::Rebuilder);
    story.register_key(
        Who::Reviewer.key(),
        "Rita Reviewer",
        "Independent Audit Ltd",
        "reviewer",
        "operator2.pem",
        None,
    );
    story.release();
    let artifact = story.artifact();
    story.verify_online(&artifact, &[]).ok();

    let first = story.key_id(&operator);
    let pinned = policy_with(
        &story,
        "pinned.toml",
        &format!("\n[operators]\nkeys = [\"{first}\"]\n"),
    );
    let codes = failures(&story.verify_with(&artifact, &pinned, &online(&story.url)));
    assert_has(&codes, "signerNotVouched");
    assert_has(&codes, "noApprovedReview");

    let second = story.key_id("operator2.pem");
    let both = policy_with(
        &story,
        "both.toml",
        &format!("\n[operators]\nkeys = [\"{first}\", \"{second}\"]\n"),
    );
    story
        .verify_with(&artifact, &both, &["--server", &story.url])
        .ok();

    // Pinning only the second operator leaves out the genesis operator, who
    // registered the vendor and the rebuilder.
    let genesis_left_out = policy_with(
        &story,
        "second-only.toml",
        &format!("\n[operators]\nkeys = [\"{second}\"]\n"),
    );
    let codes = failures(&story.verify_with(&artifact, &genesis_left_out, &online(&story.url)));
    assert_has(&codes, "signerNotVouched");
    assert_has(&codes, "tooFewBuilders");
}

#[test]
fn builds_by_keys_the_policy_does_not_trust_are_not_a_verdict() {
    let story = Story::happy();
    let artifact = story.artifact();
    let reviewer = story.key_id(Who::Reviewer.key());
    // The only trusted builder key built nothing; the logged builds are genuine.
    let text = format!(
        "[log]\nvkey = \"{}\"\n[reviewers]\nkeys = [\"*\"]\nmin = 1\n\
         [builders]\nkeys = [\"{reviewer}\"]\nmin = 1\nindependent = 0\n",
        story.vkey
    );
    fs::write(story.dir.join("builders.toml"), text).unwrap();
    let codes = failures(&story.verify_with(&artifact, "builders.toml", &online(&story.url)));
    assert_has(&codes, "tooFewBuilders");
    assert!(!codes.iter().any(|c| c == "noBuild"), "{codes:?}");
}

// ------------------------------------------------------------------ organisations

/// The story with every participant registered by the quickstart operator, the
/// rebuilder and reviewer under the organisations given.
fn story_with_orgs(rebuilder_org: &str, reviewer_org: &str) -> Story {
    let mut story = Story::bare();
    let operator = story.operator_key();
    story.register(Who::Vendor);
    story.register_key(
        Who::Rebuilder.key(),
        "Rebuilder",
        rebuilder_org,
        "builder",
        &operator,
        None,
    );
    story.register_key(
        Who::Reviewer.key(),
        "Rita",
        reviewer_org,
        "reviewer",
        &operator,
        None,
    );
    story.release();
    story
}

#[test]
fn a_second_key_of_the_vendors_organisation_is_not_an_independent_rebuilder() {
    let story = story_with_orgs("app vendor  INC", "Independent Audit Ltd");
    let codes = failures(&story.verify_online(&story.artifact(), &["--json"]));
    assert_has(&codes, "tooFewBuilders");
    assert_has(&codes, "tooFewIndependentBuilders");
}

#[test]
fn a_reviewer_from_the_vendors_organisation_does_not_count() {
    let story = story_with_orgs("Reproducible Rebuilds e.V.", "App Vendor Inc");
    let codes = failures(&story.verify_online(&story.artifact(), &["--json"]));
    assert_eq!(codes, ["noApprovedReview"]);
    let text = story.verify_online(&story.artifact(), &[]).exits(1);
    assert!(text.contains("not counted"), "{text}");
}

// ------------------------------------------------------------------ laundering

#[test]
fn revoking_a_rejecting_reviewer_as_compromised_does_not_launder_the_rejection() {
    let mut story = Story::begin();
    story.register(Who::Auditor);
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "rejected", REVIEWED_AT);
    story.review(Who::Auditor, &commit, "approved", REVIEWED_AT);
    story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);
    // "Compromised since before the rejection": the rejection would be void.
    story.revoke(Who::Reviewer, Some("2025-01-01T00:00:00Z"));
    let run = story.verify_online(&story.artifact(), &[]);
    let text = run.exits(1);
    assert!(text.contains("has since been revoked"), "{text}");
    let codes = failures(&story.verify_online(&story.artifact(), &["--json"]));
    assert_has(&codes, "reviewRejected");
}

#[test]
fn registrations_a_compromised_operator_signed_after_the_instant_are_void() {
    let (mut story, operator) = second_operator();
    let early = Some("2025-01-01T00:00:00Z");
    for (who, org, role) in [
        (Who::Vendor, "App Vendor Inc", "vendor"),
        (Who::Rebuilder, "Reproducible Rebuilds e.V.", "builder"),
    ] {
        story.register_key(who.key(), "x", org, role, "operator2.pem", early);
    }
    story.register_key(
        Who::Reviewer.key(),
        "Rita",
        "Independent Audit Ltd",
        "reviewer",
        "operator2.pem",
        Some("2025-03-01T00:00:00Z"),
    );
    story.release();
    story.verify_online(&story.artifact(), &[]).ok();

    story.revoke_key("operator2.pem", Some("2025-02-01T00:00:00Z"), &operator);
    let run = story.verify_online(&story.artifact(), &["--json"]);
    let codes = failures(&run);
    assert_has(&codes, "signerVoided");
    assert_has(&codes, "noApprovedReview");
    assert_eq!(
        run.json()["builds"].as_array().map(Vec::len),
        Some(2),
        "registrations from before the compromise stand"
    );
}

// ------------------------------------------------------------------ scope and identity

#[test]
fn a_partial_scope_approval_counts_only_when_the_policy_names_paths_it_covers() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review_with(
        Who::Reviewer.key(),
        &commit,
        "approved",
        REVIEWED_AT,
        &["--scope", "src"],
    );
    story.build(Who::Vendor, &commit);
    story.build(Who::Rebuilder, &commit);
    let codes = failures(&story.verify_online(&story.artifact(), &["--json"]));
    assert_eq!(codes, ["noApprovedReview"]);

    let covered = "paths.toml";
    let text = format!(
        "[log]\nvkey = \"{}\"\n[reviewers]\nkeys = [\"*\"]\nmin = 1\npaths = [\"src/data.txt\"]\n",
        story.vkey
    );
    fs::write(story.dir.join(covered), text).unwrap();
    story
        .verify_with(&story.artifact(), covered, &["--server", &story.url])
        .ok();
}

#[test]
fn builds_of_another_git_tree_with_the_same_dirhash_disagree_with_the_review() {
    let mut story = Story::begin();
    let reviewed = story.commit.clone();
    story.submit_source(&reviewed);
    story.review(Who::Reviewer, &reviewed, "approved", REVIEWED_AT);
    // Same files, same contents — one executable bit differs: same dirHash, other tree.
    let other = repo::commit_mode_change(&story.repo, "build.sh", true, "chmod +x");
    let dir_hash = |rev: &str| {
        story
            .glassbox
            .ok(["hash", "tree", "--repo", "app", "--rev", rev])
            .to_owned()
    };
    assert_eq!(
        dir_hash(&reviewed).split_whitespace().next(),
        dir_hash(&other).split_whitespace().next()
    );
    let artifact = story.build(Who::Vendor, &other);
    story.build(Who::Rebuilder, &other);
    let codes = failures(&story.verify_online(&artifact, &["--json"]));
    assert_has(&codes, "sourceIdentityMismatch");
}

#[test]
fn a_strangers_submission_of_the_same_tree_neither_fails_nor_relabels_the_verdict() {
    let mut story = Story::happy();
    let operator = story.operator_key();
    story.register_key(
        "other.pem",
        "Other",
        "Other Vendor",
        "vendor",
        &operator,
        None,
    );
    let other = repo::commit_mode_change(&story.repo, "build.sh", true, "chmod +x");
    let out = "stranger-source.dsse.json";
    story.glassbox.ok([
        "attest",
        "source",
        "--repo",
        "app",
        "--rev",
        &other,
        "--repository-url",
        "https://git.example.com/app.git",
        "--product",
        "evil",
        "--version",
        "6.6.6",
        "--key",
        "other.pem",
        "-o",
        out,
    ]);
    story.submit(out);
    let run = story.verify_online(&story.artifact(), &[]);
    let text = run.ok();
    assert!(text.contains("(app 1.0, entry"), "{text}");
    assert!(!text.contains("evil"), "{text}");
}

// ------------------------------------------------------------------ builds

#[test]
fn a_trusted_builder_who_got_other_bytes_makes_the_artifact_irreproducible() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    story.build(Who::Vendor, &commit);
    // The rebuilder ran the same recipe on the same source and got other bytes.
    let theirs = story.build_only(Who::Rebuilder, &commit);
    let mut bytes = fs::read(&theirs).unwrap();
    bytes.push(b'\n');
    fs::write(&theirs, &bytes).unwrap();
    story.attest_build(Who::Rebuilder, &commit, &theirs);
    let run = story.verify_online(&story.artifact(), &["--json"]);
    let codes = failures(&run);
    assert_has(&codes, "irreproducible");
    let failure = run.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "irreproducible")
        .cloned()
        .unwrap();
    assert_eq!(failure["got"], digest(&story, &theirs));
}

fn digest(story: &Story, file: &Path) -> String {
    story
        .glassbox
        .ok(["hash", "file", file.to_str().unwrap()])
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn the_customers_own_rebuild_counts_as_the_independent_builder() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let artifact = story.build(Who::Vendor, &commit);
    let codes = failures(&story.verify_online(&artifact, &["--json"]));
    assert_has(&codes, "tooFewBuilders");

    let run = story.verify_online(&artifact, &["--rebuild", "--source", "app", "--json"]);
    run.ok();
    let verdict = run.json();
    let builds = verdict["builds"].as_array().unwrap();
    assert!(builds.iter().any(|b| b["local"] == true), "{verdict}");
    assert_eq!(verdict["rebuild"]["status"], "reproduced");
    let text = story
        .verify_online(&artifact, &["--rebuild", "--source", "app"])
        .ok()
        .to_owned();
    assert!(text.contains("built by   you"), "{text}");
}

#[test]
fn a_release_build_is_rebuilt_and_compared_by_the_subject_that_is_the_file() {
    let mut story = Story::begin();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let artifact = story.build_only(Who::Vendor, &commit);
    // The vendor attests the whole output directory `dist`: `app` (the file the
    // customer holds) and a second file, signed in one envelope.
    story.glassbox.ok([
        "attest",
        "build",
        "--artifact",
        artifact.to_str().unwrap(),
        "--artifact-name",
        "app",
        "--repo",
        "app",
        "--rev",
        &commit,
        "--repository-url",
        REPOSITORY_URL,
        "--command",
        BUILD_COMMAND,
        "--output-path",
        "dist",
        "--builder-id",
        "https://ci.vendor.example/app",
        "--time",
        BUILT_AT,
        "--key",
        Who::Vendor.key(),
        "-o",
        "single.json",
    ]);
    let env = Envelope::from_json(&fs::read(story.dir.join("single.json")).unwrap()).unwrap();
    let mut statement: serde_json::Value = serde_json::from_slice(&env.payload).unwrap();
    let subjects = statement["subject"].as_array_mut().expect("subjects");
    subjects.insert(
        0,
        serde_json::json!({"name": "app.1", "digest": {"sha256": "ab".repeat(32)}}),
    );
    let payload = serde_json::to_vec(&statement).unwrap();
    let vendor = glassbox_keys::load_signing_key(&story.dir.join(Who::Vendor.key())).unwrap();
    let release = Envelope::sign(&env.payload_type, &payload, &[&vendor]).unwrap();
    fs::write(story.dir.join("release.json"), release.to_canonical_json()).unwrap();
    story.submit("release.json");

    let run = story.verify_online(&artifact, &["--rebuild", "--source", "app", "--json"]);
    run.ok();
    let verdict = run.json();
    assert_eq!(verdict["rebuild"]["status"], "reproduced", "{verdict}");
}
