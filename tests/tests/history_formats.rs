//! `glassbox history --format csv|json` against the real server: the CSV is the
//! export endpoint's, byte for byte, and the JSON rows carry the decoded statement
//! next to the logged envelope, as the JSON Lines export does; the table's
//! header names each column it prints (docs/cli.md, docs/web.md).

use glassbox_tests::story::{Story, Who};

fn export(story: &Story, query: &str) -> Vec<u8> {
    glassbox_tests::http::get(&format!("{}/api/v1/export?{query}", story.url)).unwrap()
}

#[test]
fn history_csv_is_the_export_csv_byte_for_byte() {
    let story = Story::happy();
    let vendor = story.key_id(Who::Vendor.key());
    for (filter, query) in [
        (
            vec!["--signer", vendor.as_str()],
            format!("signer={vendor}"),
        ),
        (
            vec!["--kind", "source-review"],
            "kind=source-review".to_owned(),
        ),
    ] {
        let mut args = vec!["history", "--server", &story.url, "--format", "csv"];
        args.extend(&filter);
        let run = story.glassbox.run(args);
        let csv = run.ok();
        let exported = export(&story, &format!("{query}&format=csv"));
        assert_eq!(csv, String::from_utf8(exported).unwrap(), "{filter:?}");
        assert!(csv.contains(",leafHash,product,version,verdict,scope,findings,builder\r\n"));
        assert_eq!(
            csv.matches("\r\n").count(),
            csv.matches('\n').count(),
            "{csv}"
        );
    }
}

#[test]
fn history_json_carries_the_decoded_statement_next_to_the_envelope() {
    let story = Story::happy();
    let run = story.glassbox.run([
        "history",
        "--server",
        &story.url,
        "--repository",
        // Logged as https://git.example.com/app.git: either spelling finds it.
        "https://git.example.com/app/",
        "--format",
        "json",
    ]);
    let rows = run.json();
    let rows = rows.as_array().unwrap();
    let exported: Vec<serde_json::Value> = String::from_utf8(export(
        &story,
        "repository=https%3A%2F%2Fgit.example.com%2Fapp",
    ))
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(rows, &exported);
    let kinds: Vec<&str> = rows
        .iter()
        .map(|r| r["statement"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["source-submission", "source-review", "build", "build"],
        "{rows:?}"
    );
    let review = &rows[1]["statement"];
    assert_eq!(review["verdict"], "approved", "{review}");
    assert_eq!(review["scope"], "full", "{review}");
    assert!(rows[0]["statement"]["product"].is_string(), "{}", rows[0]);
    assert!(rows[0]["statement"]["version"].is_string(), "{}", rows[0]);
    assert!(rows[2]["statement"]["builder"].is_string(), "{}", rows[2]);
    let source = &rows[2]["statement"]["sources"][0];
    assert!(
        source["repository"].is_string()
            && source["dirHash"].is_string()
            && source["commit"].is_string(),
        "{source}"
    );
    // The envelope itself, as the search shows it.
    assert_eq!(
        rows[1]["entry"]["payloadType"],
        "application/vnd.in-toto+json"
    );
}

#[test]
fn history_table_header_names_every_column_it_prints() {
    let story = Story::happy();
    let run = story
        .glassbox
        .run(["history", "--server", &story.url, "--kind", "source-review"]);
    let text = run.ok();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["INDEX", "TIME", "KIND", "SIGNERS", "SUBJECT", "DIGEST", "DETAIL"],
        "{text}"
    );
    let review = lines.next().unwrap();
    let at = |name: &str| header.find(name).unwrap();
    assert_eq!(
        review[at("KIND")..at("SIGNERS")].trim_end(),
        "source-review",
        "{text}"
    );
    assert!(
        review[at("SUBJECT")..at("DIGEST")].starts_with("https://git.example.com/app"),
        "{text}"
    );
    assert_eq!(&review[at("DETAIL")..], "approved", "{text}");
}
