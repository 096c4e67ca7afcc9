//! `glassbox history --policy` with the real binaries over loopback: the regulator's
//! query proven complete by the log's index, and a server that leaves an entry out
//! of its search answer caught by name (docs/cli.md, docs/threat-model.md); the
//! union of several keys' histories and an organisation's.

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
    assert!(text.contains("without --kind"), "{text}");
    let vendor = story.key_id(Who::Vendor.key());
    let run = history(
        &story,
        &story.url,
        &["--signer", &vendor, "--dirhash", &"ab".repeat(32)],
        &["--policy", "policy.toml"],
    );
    let text = run.exits(2);
    assert!(
        text.contains(
            "exactly one of --artifact, --dirhash, --signer (repeatable) or --organisation"
        ),
        "{text}"
    );
}

/// The vendor's honest index answer, and a copy paged after its first entry (as
/// the log pages a list longer than one answer): the first answer lists one
/// index and names it in `nextAfter`; the rest is the page `rest` makes of the
/// remaining indices.
fn paged_answer(story: &Story, vendor: &str) -> (serde_json::Value, Vec<u64>) {
    let answer =
        glassbox_tests::http::get(&format!("{}/api/v1/index?key=signer:{vendor}", story.url))
            .unwrap();
    let mut answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let indices: Vec<u64> = answer["lookup"]["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect();
    assert!(indices.len() >= 3, "{answer}");
    answer["lookup"]["indices"] = serde_json::json!([indices[0]]);
    answer["nextAfter"] = serde_json::json!(indices[0]);
    (answer, indices)
}

/// The page after the first answer's entry, listing `indices`.
fn page(vendor: &str, size: u64, indices: &[u64]) -> Answer {
    Answer::Body(
        serde_json::to_vec(&serde_json::json!({
            "key": format!("signer:{vendor}"),
            "size": size,
            "indices": indices,
        }))
        .unwrap(),
    )
}

/// A list longer than one answer comes in pages: the client chains them after the
/// first answer's list and proves the whole; a page that leaves an entry out, or
/// does not go on past the last one, proves nothing.
#[test]
fn a_paged_history_is_proven_whole_and_a_page_that_drops_an_entry_is_caught() {
    let story = Story::happy();
    let vendor = story.key_id(Who::Vendor.key());
    let (first, indices) = paged_answer(&story, &vendor);
    let size = first["commitment"]["index"].as_u64().unwrap() + 1;
    let proxy = Proxy::start(&story.url);
    proxy.answer(
        "/api/v1/index",
        Answer::Body(serde_json::to_vec(&first).unwrap()),
    );
    let proven = |proxy: &Proxy| {
        history(
            &story,
            &proxy.url,
            &["--signer", &vendor],
            &["--policy", "policy.toml", "--state", "state"],
        )
    };

    // Honest pages: the same history as unpaged.
    proxy.answer("/api/v1/index/list", page(&vendor, size, &indices[1..]));
    let run = proven(&proxy);
    let text = run.ok();
    assert!(text.contains("complete as of log size"), "{text}");

    // A page without the vendor's last entry: the chain does not reach the
    // proven value.
    proxy.answer(
        "/api/v1/index/list",
        page(&vendor, size, &indices[1..indices.len() - 1]),
    );
    let run = proven(&proxy);
    let text = run.exits(1);
    assert!(text.contains("does not prove a complete history"), "{text}");

    // A page that starts again at the first entry, to keep the client paging.
    proxy.answer("/api/v1/index/list", page(&vendor, size, &indices));
    let run = proven(&proxy);
    let text = run.exits(1);
    assert!(
        text.contains(&format!(
            "page of signer:{vendor}'s list after entry {} does not go on past it",
            indices[0]
        )),
        "{text}"
    );
}

/// `--since` and `--until` take a date, a date-time without an offset (UTC) or RFC
/// 3339, read by the API's one parser; anything else is refused with examples.
#[test]
fn history_reads_bare_dates_and_zoneless_times_and_explains_a_bad_one() {
    let story = Story::happy();
    let count = |filter: &[&str]| {
        history(&story, &story.url, filter, &["--format", "json"])
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    let all = count(&["--since", "2000-01-01"]);
    assert!(all > 0);
    assert_eq!(
        count(&["--since", "2000-01-01T00:00:00", "--until", "9999-12-31"]),
        all
    );
    assert_eq!(count(&["--until", "2000-01-01"]), 0);
    let run = history(&story, &story.url, &["--since", "yesterday"], &[]);
    let text = run.exits(2);
    assert!(
        text.contains("since: \"yesterday\" is not a time") && text.contains("a date (2026-12-03)"),
        "{text}"
    );
}

/// `--signer` takes the first digits of a key ID, as the tables print them, when
/// they name one registered key.
#[test]
fn a_signers_history_by_the_first_digits_of_its_key_id() {
    let story = Story::happy();
    let vendor = story.key_id(Who::Vendor.key());
    let json = |signer: &str| {
        history(
            &story,
            &story.url,
            &["--signer", signer],
            &["--format", "json"],
        )
        .json()
    };
    let full = json(&vendor);
    assert!(!full.as_array().unwrap().is_empty());
    assert_eq!(json(&vendor[..12]), full);
    assert_eq!(json(&vendor[..12].to_ascii_uppercase()), full);
    // No registered key starts with this.
    let unused = (0..16)
        .map(|d| format!("{d:x}"))
        .find(|d| {
            [Who::Vendor, Who::Rebuilder, Who::Reviewer]
                .iter()
                .all(|w| !story.key_id(w.key()).starts_with(d.as_str()))
                && !story.key_id(&story.operator_key()).starts_with(d.as_str())
        })
        .expect("16 digits, 4 keys");
    let run = history(&story, &story.url, &["--signer", &unused], &[]);
    let text = run.exits(2);
    assert!(text.contains("no key registered in this log"), "{text}");
}

/// The log's search answer for one signer, as the honest server gives it.
fn signer_page(story: &Story, key: &str) -> serde_json::Value {
    let page = glassbox_tests::http::get(&format!(
        "{}/api/v1/entries?signer={key}&limit=1000",
        story.url
    ))
    .unwrap();
    serde_json::from_slice(&page).unwrap()
}

fn indices(json: &serde_json::Value) -> Vec<u64> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|h| h["index"].as_u64().unwrap())
        .collect()
}

/// The happy story with a second, later revoked, key of the vendor's organisation
/// (its release bot); returns the two key IDs of "App Vendor Inc".
fn vendor_with_two_keys() -> (Story, String, String) {
    let mut story = Story::happy();
    let operator = story.operator_key();
    story.register_key(
        "bot.pem",
        "Release Bot",
        "App Vendor Inc",
        "vendor",
        &operator,
        None,
    );
    story.revoke_key("bot.pem", None, &operator);
    let vendor = story.key_id(Who::Vendor.key());
    let bot = story.key_id("bot.pem");
    (story, vendor, bot)
}

/// `--signer` repeated is the union of the keys' histories in log order, each entry
/// once, and `--organisation` is the same union over every key registered under
/// the name (the revoked one included); both proven complete key by key.
#[test]
fn an_organisations_history_is_the_union_of_its_keys_proven_key_by_key() {
    let (story, vendor, bot) = vendor_with_two_keys();
    let mut want: Vec<u64> = [&vendor, &bot]
        .iter()
        .flat_map(|k| {
            signer_page(&story, k)["entries"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|h| h["index"].as_u64().unwrap())
        .collect();
    want.sort_unstable();
    want.dedup();
    // The bot's registration and revocation, the vendor's registration, submission
    // and build.
    assert_eq!(want.len(), 5, "{want:?}");

    let json = |filter: &[&str], extra: &[&str]| {
        let mut args = filter.to_vec();
        args.extend(["--format", "json"]);
        history(&story, &story.url, &args, extra).json()
    };
    let proven = ["--policy", "policy.toml", "--state", "state"];
    let by_keys = json(&["--signer", &vendor[..12], "--signer", &bot], &[]);
    assert_eq!(indices(&by_keys), want);
    // A key named twice counts once.
    let twice = json(
        &["--signer", &vendor, "--signer", &bot, "--signer", &vendor],
        &proven,
    );
    assert_eq!(twice, by_keys);
    let by_organisation = json(&["--organisation", "App Vendor Inc"], &proven);
    assert_eq!(by_organisation, by_keys);

    let run = history(
        &story,
        &story.url,
        &["--organisation", "App Vendor Inc"],
        &proven,
    );
    let text = run.ok();
    for key in [
        "registry".to_owned(),
        format!("signer:{vendor}"),
        format!("signer:{bot}"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("complete as of log size") && l.ends_with(&key)),
            "{key}: {text}"
        );
    }
}

/// The organisation's name must be spelled as registered; one that is not is an
/// error naming those that are, not an empty history.
#[test]
fn an_unknown_organisation_is_refused_naming_the_registered_ones() {
    let story = Story::happy();
    for name in ["Nobody Ltd", "app vendor inc"] {
        let run = history(&story, &story.url, &["--organisation", name], &[]);
        let text = run.exits(2);
        assert!(
            text.contains(&format!(
                "--organisation {name:?}: no key in this log is registered"
            )) && text.contains("\"App Vendor Inc\"")
                && text.contains("\"Independent Audit Ltd\""),
            "{text}"
        );
    }
}

/// A server that leaves one key's entry out of that key's search answer fails the
/// organisation's proven history, naming the entry and the key; without --policy
/// the same answer is shown as it is.
#[test]
fn a_server_that_drops_one_keys_entry_from_an_organisations_history_is_caught() {
    let (story, vendor, _bot) = vendor_with_two_keys();
    let mut page = signer_page(&story, &vendor);
    let entries = page["entries"].as_array_mut().unwrap();
    let cut = entries
        .iter()
        .position(|h| h["kind"] == "build")
        .expect("the vendor's build");
    let index = entries.remove(cut)["index"].as_u64().unwrap();
    let proxy = Proxy::start(&story.url);
    proxy.answer(
        &format!("/api/v1/entries?signer={vendor}"),
        Answer::Body(serde_json::to_vec(&page).unwrap()),
    );
    let proven = ["--policy", "policy.toml", "--state", "state"];
    let run = history(
        &story,
        &proxy.url,
        &["--organisation", "App Vendor Inc"],
        &proven,
    );
    let text = run.exits(1);
    assert!(
        text.contains(&format!(
            "entry {index} is filed under signer:{vendor} but the search left it out"
        )) && text.contains("the history is NOT complete"),
        "{text}"
    );
    let shown = history(
        &story,
        &proxy.url,
        &["--organisation", "App Vendor Inc", "--format", "json"],
        &[],
    )
    .json();
    assert!(!indices(&shown).contains(&index), "{shown}");
}

/// A server that hides a key's registration from the key events hides the key from
/// the organisation; the registry's proven list catches it.
#[test]
fn a_server_that_hides_a_registration_from_an_organisation_is_caught() {
    let (story, _vendor, bot) = vendor_with_two_keys();
    let events = glassbox_tests::http::get(&format!(
        "{}/api/v1/entries?kind=key-event&limit=1000",
        story.url
    ))
    .unwrap();
    let mut events: serde_json::Value = serde_json::from_slice(&events).unwrap();
    let bot_page = signer_page(&story, &bot);
    let registration = bot_page["entries"][0]["index"].as_u64().unwrap();
    events["entries"]
        .as_array_mut()
        .unwrap()
        .retain(|h| h["index"] != registration);
    let proxy = Proxy::start(&story.url);
    proxy.answer(
        "/api/v1/entries?kind=key-event",
        Answer::Body(serde_json::to_vec(&events).unwrap()),
    );
    let proven = ["--policy", "policy.toml", "--state", "state"];
    let run = history(
        &story,
        &proxy.url,
        &["--organisation", "App Vendor Inc"],
        &proven,
    );
    let text = run.exits(1);
    assert!(
        text.contains(&format!(
            "entry {registration} is filed under registry but the search left it out"
        )),
        "{text}"
    );
}
