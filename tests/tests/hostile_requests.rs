//! Requests an anonymous client or a careless operator could aim at the log,
//! against the real server over loopback: paths naming positions beyond any
//! tree, and a revocation that would leave the registry with no operator.
//! docs/threat-model.md maps each attack to its test here.

use glassbox_tests::server::Server;
use glassbox_tests::story::Story;

/// Status and JSON error code of a GET.
fn get(base: &str, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .get(&format!("{base}{path}"))
        .call()
        .expect("server reachable");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status, code)
}

#[test]
fn tile_and_entry_paths_beyond_the_log_are_404_up_to_u64_max_and_log_nothing() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(&tmp.path().join("data"));
    // 2^56 - 1, the largest tile index, and 2^64 - 1, past it, in C2SP form.
    let largest = "x072/x057/x594/x037/x927/x935";
    let past = "x018/x446/x744/x073/x709/x551/615";
    let mut paths: Vec<String> = Vec::new();
    for head in ["entries", "0", "1", "7", "8", "63", "64", "255"] {
        for index in ["001", "x001/000", largest, past] {
            for width in ["", ".p/1", ".p/255"] {
                paths.push(format!("/tile/{head}/{index}{width}"));
            }
        }
    }
    for index in [
        "1000000",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
    ] {
        paths.push(format!("/api/v1/entries/{index}"));
    }
    for path in &paths {
        assert_eq!(get(&server.url, path), (404, "not_found".into()), "{path}");
    }
    // The server's own view of its log is untouched: its newest checkpoint serves.
    assert_eq!(get(&server.url, "/checkpoint").0, 200);
    let logged = server.stop_and_read_log();
    assert!(
        !logged.contains("ERROR") && !logged.contains("WARN"),
        "the server logged:\n{logged}"
    );
}

#[test]
fn the_quickstart_operator_revoking_itself_is_refused_as_last_operator() {
    let story = Story::bare();
    let operator = story.operator_key();
    story.glassbox.ok([
        "attest",
        "key",
        "--revoke",
        &format!("{operator}.pub"),
        "--reason",
        "rotating keys",
        "--key",
        &operator,
        "-o",
        "revoke-operator.dsse.json",
    ]);
    let run = story.glassbox.run([
        "submit",
        "revoke-operator.dsse.json",
        "--server",
        &story.url,
    ]);
    // A refusal by the server is exit 2, like any failed submission.
    let said = run.exits(2);
    assert!(said.contains("last_operator"), "{run}");
    assert!(said.contains("no active operator"), "{run}");
    // Still the operator: it registers a key afterwards.
    let mut story = story;
    story.register_key(
        "vendor.pem",
        "Vendor",
        "Vendor Inc",
        "vendor",
        &operator,
        None,
    );
}

#[test]
fn with_a_second_operator_registered_revoking_the_first_is_accepted() {
    let mut story = Story::bare();
    let first = story.operator_key();
    story.register_key(
        "operator2.pem",
        "Second operator",
        "Log operator",
        "operator",
        &first,
        None,
    );
    story.glassbox.ok([
        "attest",
        "key",
        "--revoke",
        &format!("{first}.pub"),
        "--reason",
        "rotating keys",
        "--key",
        "operator2.pem",
        "-o",
        "revoke-operator.dsse.json",
    ]);
    story.submit("revoke-operator.dsse.json");
    let receipt = story.receipts.last().expect("receipt of the revocation");
    assert!(receipt["index"].as_u64().is_some(), "{receipt}");
}
