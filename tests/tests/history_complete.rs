//! `glassbox history --policy` with the real binaries over loopback: the regulator's
//! query proven complete by the log's index, and a server that leaves an entry out
//! of its search answer caught by name (docs/cli.md, docs/threat-model.md).

use glassbox_tests::proxy::{Answer, Proxy};
use glassbox_tests::story::{Story, Who};

fn history(story: &Story, url: &str, filter: &[&str], extra: &[&str]) -> glassbox_tests::cli::Run {
    story.write_policy("policy.toml");
    let mut args = vec!["history", "--server", url];
    args.extend(filter);
    args.extend(extra);
    story.glassbox.run(args)
}

#[test]
fn a_signers_history_is_proven_complete_with_its_key_events() {
    let mut story = Story::happy();
    story.revoke(Who::Rebuilder, None);
    let rebuilder = story.key_id(Who::Rebuilder.key());
    let run = history(
        &story,
        &story.url,
        &["--signer", &rebuilder],
        &["--policy", "policy.toml", "--state", "state"],
    );
    let text = run.ok();
    assert!(text.contains("complete as of log size"), "{text}");
    // Its registration and revocation (signed by the operator) and its build.
    assert!(text.contains("entries under signer:"), "{text}");
    let json = history(
        &story,
        &story.url,
        &["--signer", &rebuilder],
        &[
            "--policy",
            "policy.toml",
            "--state",
            "state",
            "--format",
            "json",
        ],
    )
    .json();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["key-event", "build", "key-event"], "{json}");
}

#[test]
fn a_server_that_leaves_an_entry_out_of_a_history_is_caught() {
    let story = Story::happy();
    let vendor = story.key_id(Who::Vendor.key());
    // The honest answer, with the vendor's build cut out.
    let page = glassbox_tests::http::get(&format!(
        "{}/api/v1/entries?signer={vendor}&limit=1000",
        story.url
    ))
    .unwrap();
    let mut page: serde_json::Value = serde_json::from_slice(&page).unwrap();
    let entries = page["entries"].as_array_mut().unwrap();
    let cut = entries
        .iter()
        .position(|h| h["kind"] == "build")
        .expect("the vendor's build");
    let index = entries.remove(cut)["index"].as_u64().unwrap();

    let proxy = Proxy::start(&story.url);
    proxy.answer(
        "/api/v1/entries",
        Answer::Body(serde_json::to_vec(&page).unwrap()),
    );
    let run = history(
        &story,
        &proxy.url,
        &["--signer", &vendor],
        &["--policy", "policy.toml", "--state", "state"],
    );
    let text = run.exits(1);
    assert!(
        text.contains(&format!(
            "entry {index} is filed under signer:{vendor} but the search left it out"
        )),
        "{text}"
    );
    // Without --policy the same answer is shown as it is: nothing is proven.
    history(&story, &proxy.url, &["--signer", &vendor], &[]).ok();
}

#[test]
fn a_proven_history_needs_one_key_and_no_other_filter() {
    let story = Story::happy();
    let run = history(
        &story,
        &story.url,
        &["--kind", "build"],
        &["--policy", "policy.toml"],
    );
    let text = run.exits(2);
    assert!(
        text.contains("exactly one of --artifact, --dirhash or --signer"),
        "{text}"
    );
}
