//! `glassbox monitor --witness` with the real binaries over loopback (docs/cli.md,
//! "Witnesses"): the monitor passes on an honest log whose witnesses are up to date;
//! once a fork of the log (same key and origin, another history) has got a witness
//! to cosign it, the monitor of the honest log exits 1 naming both checkpoints and
//! saves both notes — first at the same size as the log's `/checkpoint`, then, after
//! the honest log has grown, against the checkpoint of that size the log kept in its
//! history.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::{verify_cosignatures, CosignatureVerifierKey};
use glassbox_core::note::Note;
use glassbox_tests::http;
use glassbox_tests::server::{copy_data_dir, Server};
use glassbox_tests::story::{Story, Who, REVIEWED_AT};
use glassbox_tests::witness::{checkpoint_of, WitnessProcess};

const DEADLINE: Duration = Duration::from_secs(30);

/// The log's `/checkpoint` once it covers `size` with a cosignature from every one of
/// `witnesses`.
fn wait_for_cosigned(url: &str, size: u64, witnesses: &[&WitnessProcess]) -> Checkpoint {
    let keys: Vec<CosignatureVerifierKey> = witnesses
        .iter()
        .map(|w| CosignatureVerifierKey::parse(&w.vkey).unwrap())
        .collect();
    let keys: Vec<&CosignatureVerifierKey> = keys.iter().collect();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let bytes = http::get(&format!("{url}/checkpoint")).expect("checkpoint");
        let note = Note::parse(&bytes).expect("a signed note");
        let cosigned = verify_cosignatures(&note, &keys).expect("cosignatures verify");
        let cp = checkpoint_of(&bytes);
        if cp.size == size && cosigned.len() == keys.len() {
            return cp;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint {} has {} of {} cosignatures",
            cp.size,
            cosigned.len(),
            keys.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `glassbox monitor --once` of the log at `url` with fresh state `state`.
fn monitor(
    story: &Story,
    url: &str,
    state: &str,
    witnesses: &[&WitnessProcess],
    extra: &[&str],
) -> glassbox_tests::cli::Run {
    let mut args = vec![
        "monitor",
        "--server",
        url,
        "--log-vkey",
        &story.vkey,
        "--once",
        "--state",
        state,
    ];
    for w in witnesses {
        args.extend(["--witness", &w.url]);
    }
    args.extend(extra);
    story.glassbox.run(args)
}

/// The evidence directories the monitor saved under `state`.
fn evidence(story: &Story, state: &str) -> Vec<PathBuf> {
    let root = story.dir.join(state).join("evidence");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

fn saved(dir: &Path, name: &str) -> Checkpoint {
    checkpoint_of(&std::fs::read(dir.join(name)).expect("saved note"))
}

#[test]
fn a_witness_that_cosigned_a_fork_exposes_the_split_view_to_the_monitor() {
    // A log with its registrations and a copy of its data dir, key included. Each
    // submission here is a batch of its own, which the log's index commitment ends:
    // two entries per submission (four registrations: size 8).
    let mut story = Story::begin();
    story.stop_server();
    let fork_data = story.dir.join("fork-data");
    copy_data_dir(&story.data, &fork_data).unwrap();

    // The honest log, witnessed by w1 and w2: a submission and a review (size 12).
    let w1 = WitnessProcess::start(&story.dir, "w1.test/witness", &story.vkey);
    let w2 = WitnessProcess::start(&story.dir, "w2.test/witness", &story.vkey);
    let (f1, f2) = (w1.flag(), w2.flag());
    story.use_server(Server::start_with(
        &story.data,
        &["--witness", &f1, "--witness", &f2],
    ));
    let honest_url = story.url.clone();
    let commit = story.commit.clone();
    story.submit_source(&commit);
    let source = story.submitted.last().expect("the source envelope").clone();
    story.review(Who::Reviewer, &commit, "approved", REVIEWED_AT);
    let honest = wait_for_cosigned(&honest_url, 12, &[&w1, &w2]);

    let run = monitor(&story, &honest_url, "state-ok", &[&w1, &w2], &[]);
    let text = run.ok();
    assert!(
        text.contains(&format!("witness {}: current size 12", w1.url)),
        "{run}"
    );
    let json = monitor(&story, &honest_url, "state-ok", &[&w1, &w2], &["--json"]).json();
    let statuses: Vec<&str> = json["witnesses"]
        .as_array()
        .expect("witnesses")
        .iter()
        .map(|w| w["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["current", "current"], "{json}");

    // The fork: same key and origin, another history of the same size, shown only to
    // w3 — which cosigns it, having never seen the honest log.
    let w3 = WitnessProcess::start(&story.dir, "w3.test/witness", &story.vkey);
    let f3 = w3.flag();
    let fork = Server::start_with(&fork_data, &["--witness", &f3]);
    assert_eq!(fork.vkey, story.vkey, "the fork signs with the same key");
    story.url = fork.url.clone();
    story.register(Who::Auditor);
    story.submit_again(&[source]);
    story.url = honest_url.clone();
    let forked = w3.wait_for(&honest.origin, 12);
    assert_ne!(forked.root, honest.root);

    // The honest log's monitor, reading all three witnesses, catches it.
    let run = monitor(&story, &honest_url, "state-1", &[&w1, &w2, &w3], &[]);
    let text = run.exits(1);
    assert!(text.contains("split view"), "{text}");
    assert!(text.contains(&hex(&honest.root)), "{text}");
    assert!(text.contains(&hex(&forked.root)), "{text}");
    assert!(
        text.contains(&format!("witness {}: SPLIT VIEW", w3.url)),
        "{text}"
    );
    let [dir] = &evidence(&story, "state-1")[..] else {
        panic!("one evidence directory expected:\n{text}")
    };
    assert_eq!(saved(dir, "previous.checkpoint"), forked);
    assert_eq!(saved(dir, "current.checkpoint"), honest);

    // The honest log grows; the fork at size 12 now meets the checkpoint of size 12 the
    // honest log keeps in its history.
    story.review(Who::Reviewer, &commit, "rejected", REVIEWED_AT);
    wait_for_cosigned(&honest_url, 14, &[&w1, &w2]);
    let run = monitor(&story, &honest_url, "state-2", &[&w3], &["--json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    let problems = report["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| {
            let p = p.as_str().unwrap();
            p.contains("history") && p.contains(&hex(&honest.root))
        }),
        "{report}"
    );
    assert_eq!(report["witnesses"][0]["status"], "split-view", "{report}");
    let [dir] = &evidence(&story, "state-2")[..] else {
        panic!("one evidence directory expected: {report}")
    };
    assert_eq!(saved(dir, "previous.checkpoint"), forked);
    assert_eq!(saved(dir, "current.checkpoint"), honest);
    drop(fork);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
