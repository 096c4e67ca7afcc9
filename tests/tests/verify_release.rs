//! Verifying a release: several files, a directory or `--digest`s in one call
//! (docs/cli.md "glassbox verify", docs/verification.md "Releases"), and the release
//! attestation that names every file of a build output directory in one envelope.
//! The attacks: a file no build covers, a file whose bytes differ from its subject, a
//! bundle for one artifact offered for another, a link out of the release, release
//! bundles from two views of one log.

use std::fs;

use base64::Engine as _;
use glassbox_tests::cli::{Glassbox, Run};
use glassbox_tests::proxy::Proxy;
use glassbox_tests::release::{copy_tree, RELEASE_FILES};
use glassbox_tests::server::{copy_data_dir, Server};
use glassbox_tests::story::{Story, Who};

/// The table row of `path` (the line whose first column is it).
#[track_caller]
fn row<'a>(run: &'a Run, path: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(path))
        .unwrap_or_else(|| panic!("no row for {path}:\n{run}"))
}

/// A story with the release built and attested; the customer's copy of it.
fn released() -> (Story, std::path::PathBuf) {
    let mut story = Story::begin();
    let (_, vendor) = story.release_directory();
    let customer = story.dir.join("installed");
    copy_tree(&vendor, &customer);
    story.write_policy("policy.toml");
    (story, customer)
}

fn verify(story: &Story, items: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["verify", "--policy", "policy.toml", "--state", "state"];
    args.extend_from_slice(items);
    args.extend_from_slice(extra);
    story.glassbox.run(args)
}

#[test]
fn attest_build_of_a_directory_names_every_file_by_its_relative_path_sorted() {
    let (story, _) = released();
    let envelope: serde_json::Value = serde_json::from_slice(
        &fs::read(story.dir.join(&story.submitted[story.submitted.len() - 1])).unwrap(),
    )
    .unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let names: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, RELEASE_FILES);
    let libapp = story
        .glassbox
        .ok(["hash", "file", "installed/lib/libapp.so"]);
    let digest = libapp.split_whitespace().next().unwrap();
    assert_eq!(
        statement["subject"][1]["digest"]["sha256"].as_str(),
        Some(digest.trim_start_matches("sha256:"))
    );
}

#[test]
fn a_release_directory_verifies_online_and_offline_from_one_release_bundle() {
    let (mut story, _) = released();
    let url = story.url.clone();
    let online = verify(&story, &["installed"], &["--server", &url]);
    let text = online.ok();
    for file in RELEASE_FILES {
        let line = row(&online, &format!("installed/{file}"));
        assert!(line.contains(" verified "), "{line}");
        assert!(line.contains("Independent Audit Ltd"), "reviewer: {line}");
        assert!(
            line.contains("Reproducible Rebuilds e.V."),
            "builder: {line}"
        );
    }
    assert!(text.lines().next().unwrap().starts_with("PATH"), "{online}");
    assert_eq!(
        text.lines().last(),
        Some("3 verified, 0 failed, 0 not covered")
    );

    let json = verify(&story, &["installed"], &["--server", &url, "--json"]);
    let doc = json.json();
    assert_eq!(doc["summary"]["verified"], 3, "{doc}");
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[1]["path"], "installed/lib/libapp.so");
    assert_eq!(results[1]["status"], "verified");
    assert_eq!(results[1]["attestedAs"][0], "lib/libapp.so");
    assert_eq!(results[1]["pathDiffers"], false);
    assert!(results[1]["builds"].as_array().unwrap().len() >= 2);

    // Online, one release bundle serves every file of the release.
    let proxy = Proxy::start(&url);
    verify(&story, &["installed"], &["--server", &proxy.url]).ok();
    let fetched: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("/api/v1/bundle"))
        .collect();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].contains("release=true"), "{fetched:?}");

    // Offline, a plain bundle proves only the file it was made for...
    story.fetch_bundle(&story.dir.join("installed/app"), "app.bundle.json");
    // ...and a release bundle, fetched for one file, proves all of them.
    let digest = story.glassbox.ok(["hash", "file", "installed/app"]);
    let digest = digest.split_whitespace().next().unwrap();
    story.glassbox.ok([
        "bundle",
        "--release",
        "--artifact",
        digest,
        "--server",
        &url,
        "-o",
        "release.bundle.json",
    ]);
    story.stop_server();
    let plain = verify(&story, &["installed"], &["--bundle", "app.bundle.json"]);
    plain.exits(1);
    assert!(
        row(&plain, "installed/app").contains(" verified "),
        "{plain}"
    );
    assert!(
        row(&plain, "installed/lib/libapp.so").contains("completenessUnproven"),
        "{plain}"
    );
    let offline = verify(&story, &["installed"], &["--bundle", "release.bundle.json"]);
    assert_eq!(
        offline.ok().lines().last(),
        Some("3 verified, 0 failed, 0 not covered"),
        "{offline}"
    );
}

#[test]
fn a_directory_with_a_file_no_build_covers_exits_1_and_lists_it() {
    let (story, customer) = released();
    fs::write(customer.join("lib/extra.so"), b"slipped into the release").unwrap();
    let run = verify(&story, &["installed"], &["--server", &story.url]);
    let out = run.exits(1);
    let line = row(&run, "installed/lib/extra.so");
    assert!(line.contains("not covered"), "{line}");
    assert!(line.contains("noBuild"), "{line}");
    assert!(out.contains("3 verified, 0 failed, 1 not covered"), "{run}");
}

#[test]
fn a_release_file_whose_bytes_differ_from_its_subject_fails_that_row_only() {
    let (story, customer) = released();
    fs::write(customer.join("lib/libapp.so"), b"LIB\0patched").unwrap();
    let run = verify(&story, &["installed"], &["--server", &story.url, "--json"]);
    run.exits(1);
    let doc = run.json();
    let results = doc["results"].as_array().unwrap();
    let status: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["verified", "notCovered", "verified"], "{doc}");
    assert_eq!(results[1]["failures"][0]["code"], "noBuild");
    assert_eq!(doc["summary"]["notCovered"], 1);
}

#[test]
fn a_renamed_release_file_verifies_by_digest_and_names_its_attested_path() {
    let (story, customer) = released();
    fs::rename(
        customer.join("share/greeting.txt"),
        customer.join("share/motd"),
    )
    .unwrap();
    let run = verify(&story, &["installed"], &["--server", &story.url]);
    run.ok();
    let line = row(&run, "installed/share/motd");
    assert!(line.contains(" verified "), "{line}");
    assert!(line.contains("attested as share/greeting.txt"), "{line}");
    let doc = verify(&story, &["installed"], &["--server", &story.url, "--json"]).json();
    assert_eq!(doc["results"][2]["pathDiffers"], true, "{doc}");
    assert_eq!(doc["results"][2]["relativePath"], "share/motd");
}

#[test]
fn a_link_out_of_a_release_directory_fails_and_one_inside_counts_as_its_target() {
    let (story, customer) = released();
    std::os::unix::fs::symlink("/etc/passwd", customer.join("lib/libevil.so")).unwrap();
    std::os::unix::fs::symlink("libapp.so", customer.join("lib/libapp.so.2")).unwrap();
    let run = verify(&story, &["installed"], &["--server", &story.url]);
    let out = run.exits(1);
    let line = row(&run, "installed/lib/libevil.so");
    assert!(line.contains("failed"), "{line}");
    assert!(
        line.contains("symbolic link to /etc/passwd, not followed: it leads out of the directory"),
        "{line}"
    );
    let inside = row(&run, "installed/lib/libapp.so.2");
    assert!(
        inside.contains(" verified ") && inside.contains("symbolic link to libapp.so"),
        "{inside}"
    );
    assert!(out.contains("4 verified, 1 failed, 0 not covered"), "{run}");
}

#[test]
fn a_bundle_for_one_artifact_does_not_verify_another() {
    let story = Story::happy();
    story.fetch_bundle(&story.artifact(), "app.bundle.json");
    let stranger = story.dir.join("stranger.bin");
    fs::write(&stranger, b"APP\0not what was released\n").unwrap();
    story.write_policy("policy.toml");
    let artifact = story.artifact();
    let artifact = artifact.to_str().unwrap();

    let one = verify(&story, &["stranger.bin"], &["--bundle", "app.bundle.json"]);
    assert!(one.exits(1).starts_with("NOT VERIFIED"), "{one}");
    let both = verify(
        &story,
        &[artifact, "stranger.bin"],
        &["--bundle", "app.bundle.json"],
    );
    both.exits(1);
    assert!(row(&both, artifact).contains(" verified "), "{both}");
    assert!(row(&both, "stranger.bin").contains("not covered"), "{both}");
    // Nor does a digest the bundle was not made for.
    let digest = format!("sha256:{}", "ab".repeat(32));
    let by_digest = verify(
        &story,
        &[],
        &["--digest", &digest, "--bundle", "app.bundle.json"],
    );
    by_digest.exits(1);
    assert!(
        row(&by_digest, "--digest").contains("not covered"),
        "{by_digest}"
    );
}

#[test]
fn identical_files_and_digests_are_fetched_and_checked_once() {
    let story = Story::happy();
    story.write_policy("policy.toml");
    let proxy = Proxy::start(&story.url);
    let artifact = story.artifact();
    fs::copy(&artifact, story.dir.join("copy.bin")).unwrap();
    let digest = story
        .glassbox
        .ok(["hash", "file", artifact.to_str().unwrap()]);
    let digest = digest.split_whitespace().next().unwrap();
    let run = verify(
        &story,
        &[artifact.to_str().unwrap(), "copy.bin"],
        &["--digest", digest, "--server", &proxy.url],
    );
    let text = run.ok();
    assert_eq!(
        text.lines().last(),
        Some("3 verified, 0 failed, 0 not covered")
    );
    assert!(row(&run, "--digest").contains(" verified "), "{run}");
    let bundles = proxy
        .requests()
        .iter()
        .filter(|r| r.starts_with("/api/v1/bundle"))
        .count();
    assert_eq!(bundles, 1, "{:?}", proxy.requests());
}

#[test]
fn rebuild_with_more_than_one_artifact_is_a_usage_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a"), b"a").unwrap();
    fs::write(dir.path().join("b"), b"b").unwrap();
    let glassbox = Glassbox::new(dir.path());
    let run = glassbox.run([
        "verify",
        "a",
        "b",
        "--policy",
        "policy.toml",
        "--server",
        "http://127.0.0.1:9",
        "--rebuild",
        "--source",
        "app",
    ]);
    let err = run.exits(2);
    assert!(err.contains("--rebuild rebuilds one FILE"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

#[test]
fn a_warning_shared_by_every_row_is_printed_once_under_the_table() {
    let (story, _) = released();
    let policy = fs::read_to_string(story.dir.join("policy.toml")).unwrap();
    let policy = policy.replacen("[log]\n", "[log]\nmax_age = \"7d\"\n", 1);
    fs::write(story.dir.join("fresh.toml"), policy).unwrap();
    let run = story.glassbox.run([
        "verify",
        "installed",
        "--policy",
        "fresh.toml",
        "--state",
        "state",
        "--server",
        &story.url,
    ]);
    let out = run.ok();
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("  ! ")).collect();
    assert_eq!(warnings.len(), 1, "{run}");
    assert!(
        warnings[0].contains("freshness rests on this client's own state alone")
            && warnings[0].ends_with("(3 rows)"),
        "{run}"
    );
    assert_eq!(
        out.lines().last(),
        Some("3 verified, 0 failed, 0 not covered")
    );
}

/// A vendor ships a release with two release bundles, each genuine but from a
/// different view of the log: the same key and size, different histories. The
/// first file judged decides the view the state remembers; every file proven by
/// the other view fails as a split view — whichever core judged it — and the
/// evidence is saved. Verifying again gives every file the same verdict.
#[test]
fn release_bundles_from_two_views_of_the_log_fail_the_files_of_the_view_not_remembered() {
    let (mut story, _) = released();
    story.stop_server();
    let fork_data = story.dir.join("fork-data");
    copy_data_dir(&story.data, &fork_data).unwrap();
    // The honest log registers one more key; the fork, from the same data, another.
    story.use_server(Server::start_with(&story.data, &[]));
    story.register(Who::Auditor);
    let honest_url = story.url.clone();
    let fork = Server::start_with(&fork_data, &[]);
    story.url = fork.url.clone();
    let operator = story.operator_key();
    story.register_key(
        "other.pem",
        "Olga Other",
        "Elsewhere Ltd",
        "reviewer",
        &operator,
        None,
    );
    let digest_of = |file: &str| {
        let line = story.glassbox.ok(["hash", "file", file]);
        line.split_whitespace().next().unwrap().to_owned()
    };
    for (url, file, out) in [
        (&honest_url, "installed/app", "honest.bundle.json"),
        (&fork.url, "installed/lib/libapp.so", "fork.bundle.json"),
    ] {
        let digest = digest_of(file);
        story.glassbox.ok([
            "bundle",
            "--release",
            "--artifact",
            &digest,
            "--server",
            url,
            "-o",
            out,
        ]);
    }
    drop(fork);
    story.stop_server();
    let checkpoint = |name: &str| {
        let bundle: serde_json::Value =
            serde_json::from_slice(&fs::read(story.dir.join(name)).unwrap()).unwrap();
        bundle["checkpoint"].as_str().unwrap().to_owned()
    };
    let (honest, forked) = (
        checkpoint("honest.bundle.json"),
        checkpoint("fork.bundle.json"),
    );
    assert_eq!(honest.lines().nth(1), forked.lines().nth(1), "same size");
    assert_ne!(
        honest.lines().nth(2),
        forked.lines().nth(2),
        "different roots"
    );

    let bundles = [
        "--bundle",
        "fork.bundle.json",
        "--bundle",
        "honest.bundle.json",
    ];
    let statuses = |run: &glassbox_tests::cli::Run| -> Vec<(String, bool)> {
        RELEASE_FILES
            .iter()
            .map(|file| {
                let line = row(run, &format!("installed/{file}"));
                if !line.contains(" verified ") {
                    assert!(line.contains("splitView"), "{line}\n{run}");
                }
                (file.to_string(), line.contains(" verified "))
            })
            .collect()
    };
    let first = verify(&story, &["installed"], &bundles);
    first.exits(1);
    assert!(first.stderr.contains("split view"), "{first}");
    let judged = statuses(&first);
    let verified = judged.iter().filter(|(_, ok)| *ok).count();
    assert!(
        (1..RELEASE_FILES.len()).contains(&verified),
        "one view verifies, the other fails: {judged:?}\n{first}"
    );
    let again = verify(&story, &["installed"], &bundles);
    again.exits(1);
    assert_eq!(statuses(&again), judged, "{again}");
}
