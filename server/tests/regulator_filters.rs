//! The regulator's filters over the real router: an organisation's entries in
//! search, export and the web search; repository URLs matched with and without a
//! trailing `.git` and `/` (docs/api.md).

mod support;

use axum::http::StatusCode;
use glassbox_core::statement::Role;
use support::*;

/// Two vendor keys of "App Vendor Inc" (the second revoked), a reviewer of
/// "Audit Ltd"; sources of `https://git.example/a` (logged without `.git`) and
/// `https://git.example/b.git` (logged with it), and `https://git.example/c.git.git`.
struct Seeded {
    log: TestLog,
    vendor: Participant,
    bot: Participant,
    reviewer: Participant,
}

async fn seeded() -> Seeded {
    let log = TestLog::memory().await;
    let (vendor, bot, reviewer) = (participant(2), participant(3), participant(4));
    for (who, roles, org) in [
        (&vendor, Role::Vendor, "App Vendor Inc"),
        (&bot, Role::Vendor, "App Vendor Inc"),
        (&reviewer, Role::Reviewer, "Audit Ltd"),
    ] {
        let (status, body) = log
            .submit(&register_in(&log.operator, who, &[roles], org))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for (who, repo, n) in [
        (&vendor, "https://git.example/a", 1),
        (&bot, "https://git.example/b.git", 2),
        (&vendor, "https://git.example/c.git.git", 3),
    ] {
        let (status, body) = log.submit(&submission(who, repo, n, "1")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = log
        .submit(&review(&reviewer, "https://git.example/a/", 1))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = log.submit(&revoke(&log.operator, &bot)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Seeded {
        log,
        vendor,
        bot,
        reviewer,
    }
}

/// The entries (not the log's index commitments) a search finds, by kind and signer.
async fn found(log: &TestLog, query: &str) -> Vec<(String, Vec<String>)> {
    let (status, page) = log
        .get_json(&format!("/api/v1/entries?{query}&limit=1000"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    assert!(page["nextCursor"].is_null());
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] != "index-commitment")
        .map(|h| {
            let signers = h["signers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            (h["kind"].as_str().unwrap().to_owned(), signers)
        })
        .collect()
}

fn query_value(v: &str) -> String {
    v.replace(' ', "%20")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

#[tokio::test]
async fn an_organisation_finds_every_key_registered_under_it_with_their_key_events() {
    let s = seeded().await;
    let hits = found(&s.log, "organisation=App%20Vendor%20Inc").await;
    let op = s.log.operator.id.clone();
    // Both registrations and the bot's revocation (signed by the operator, about
    // the keys), and the three submissions the two keys signed; nothing of the
    // reviewer's.
    assert_eq!(
        hits,
        [
            ("key-event".to_owned(), vec![op.clone()]),
            ("key-event".to_owned(), vec![op.clone()]),
            ("source-submission".to_owned(), vec![s.vendor.id.clone()]),
            ("source-submission".to_owned(), vec![s.bot.id.clone()]),
            ("source-submission".to_owned(), vec![s.vendor.id.clone()]),
            ("key-event".to_owned(), vec![op.clone()]),
        ]
    );
    // With a signer too: only that key, if it is the organisation's.
    let bot = format!("organisation=App%20Vendor%20Inc&signer={}", s.bot.id);
    assert_eq!(found(&s.log, &bot).await.len(), 3);
    let other = format!("organisation=App%20Vendor%20Inc&signer={}", s.reviewer.id);
    assert!(found(&s.log, &other).await.is_empty());
    let reviews = found(&s.log, "organisation=Audit%20Ltd&kind=source-review").await;
    assert_eq!(
        reviews,
        [("source-review".to_owned(), vec![s.reviewer.id.clone()])]
    );

    // The export streams the same entries.
    let (status, _, body) = s
        .log
        .get("/api/v1/export?organisation=App%20Vendor%20Inc")
        .await;
    assert_eq!(status, StatusCode::OK);
    let exported = String::from_utf8(body).unwrap();
    let kinds: Vec<String> = exported
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].to_string())
        .filter(|k| k != "\"index-commitment\"")
        .collect();
    assert_eq!(kinds.len(), hits.len(), "{exported}");
}

#[tokio::test]
async fn an_unknown_organisation_is_refused_naming_the_registered_ones() {
    let s = seeded().await;
    // The name must match exactly: another case is another name.
    for name in ["Nobody%20Ltd", "app%20vendor%20inc"] {
        for route in ["/api/v1/entries", "/api/v1/export"] {
            let (status, body) = s
                .log
                .get_json(&format!("{route}?organisation={name}"))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{route} {name}");
            assert_eq!(code(&body), "bad_request");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("no key is registered under")
                    && message.contains("\"App Vendor Inc\", \"Audit Ltd\"")
                    && message.contains("/keys"),
                "{message}"
            );
        }
    }
    // The web search shows the same message with its form.
    let (status, _, body) = s.log.get("/search?organisation=Nobody%20Ltd").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("no key is registered under"));
}

#[tokio::test]
async fn a_repository_matches_with_and_without_a_trailing_git_and_slash() {
    let s = seeded().await;
    // Logged as …/a (submission) and …/a/ (review).
    for spelling in [
        "https://git.example/a",
        "https://git.example/a.git",
        "https://git.example/a/",
        "https://git.example/a.git/",
    ] {
        let q = format!("repository={}", query_value(spelling));
        let kinds: Vec<String> = found(&s.log, &q)
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(kinds, ["source-submission", "source-review"], "{spelling}");
    }
    // Logged as …/b.git.
    for spelling in ["https://git.example/b", "https://git.example/b.git/"] {
        let q = format!("repository={}", query_value(spelling));
        assert_eq!(found(&s.log, &q).await.len(), 1, "{spelling}");
    }
    // Only one `.git` goes: …/c.git.git is …/c.git, not …/c.
    let q = format!("repository={}", query_value("https://git.example/c"));
    assert!(found(&s.log, &q).await.is_empty());
    let q = format!(
        "repository={}",
        query_value("https://git.example/c.git.git/")
    );
    assert_eq!(found(&s.log, &q).await.len(), 1);
    // Case stays significant.
    let q = format!("repository={}", query_value("https://git.example/A"));
    assert!(found(&s.log, &q).await.is_empty());

    // The export and the web search read the filter the same way.
    let (status, _, body) = s
        .log
        .get(&format!(
            "/api/v1/export?repository={}",
            query_value("https://git.example/a.git")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(body).unwrap().lines().count(), 2);
    let (status, _, body) = s
        .log
        .get(&format!(
            "/search?repository={}&kind=source-review",
            query_value("https://git.example/a.git")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("https://git.example/a/"), "{html}");
}
