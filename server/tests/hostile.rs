//! Hostile HTTP input (malformed, oversized and injection-shaped requests),
//! table-driven through the router without a socket, over the SQLite backend (so
//! SQL metacharacters reach real SQL). Every row asserts the exact status and error
//! code, and that the log did not change: the same signed checkpoint (size and
//! root), the same key events.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::statement::Role;
use glassbox_server::storage::sqlite::SqliteStorage;
use support::*;

const REPO: &str = "https://git.example/widget";
const SQL: &str = "' OR '1'='1'; DROP TABLE entries; --";

/// Percent-encode a query value (every byte that is not unreserved).
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn post(body: impl Into<Vec<u8>>, content_type: &str) -> Request<Body> {
    Request::post("/api/v1/entries")
        .header("content-type", content_type)
        .body(Body::from(body.into()))
        .unwrap()
}

fn json(body: impl Into<Vec<u8>>) -> Request<Body> {
    post(body, "application/json")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// The envelope's JSON with `edit` applied.
fn edited(env: &Envelope, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&env.to_canonical_json()).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn statement(predicate_type: &str, subjects: serde_json::Value, predicate: &str) -> Vec<u8> {
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":{subjects},"predicateType":"{predicate_type}","predicate":{predicate}}}"#
    )
    .into_bytes()
}

fn signed(payload: &[u8], who: &Participant) -> Vec<u8> {
    Envelope::sign("application/vnd.in-toto+json", payload, &[&who.key])
        .unwrap()
        .to_canonical_json()
}

/// What must not change: the newest signed checkpoint and the key events.
async fn snapshot(log: &TestLog) -> (u64, [u8; 32], Vec<u8>, usize) {
    let cp = log.storage.latest_checkpoint().unwrap().unwrap();
    let opened = SignedCheckpoint::open(&cp.note, &log.vkey)
        .unwrap()
        .checkpoint;
    let keys = log.storage.key_events().unwrap().len();
    (opened.size, opened.root, cp.note, keys)
}

#[tokio::test]
async fn hostile_requests_get_the_specific_4xx_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("glassbox.db"), 2).unwrap());
    let log = TestLog::with(Options::default(), Some(storage)).await;
    let vendor = participant(2);
    let reviewer = participant(3);
    let revoked = participant(4);
    let stranger = participant(9);
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.enrol(&reviewer, &[Role::Reviewer]).await;
    log.enrol(&revoked, &[Role::Vendor]).await;
    let (status, answer) = log.submit(&revoke(&log.operator, &revoked)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = log.submit(&submission(&vendor, REPO, 1, "1.0")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    let good = submission(&vendor, REPO, 2, "2.0");
    let good_bytes = body(&good);
    let subject = serde_json::json!([{"name": "app", "digest": {"sha256": "ab".repeat(32)}}]);
    let deep_predicate = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let many_subjects = serde_json::Value::Array(
        (0..10_000)
            .map(|i| serde_json::json!({"name": format!("a{i}"), "digest": {"sha256": format!("{i:064x}")}}))
            .collect(),
    );

    use StatusCode as S;
    let mut cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        // Malformed bodies.
        ("empty body", json(""), S::BAD_REQUEST, "malformed_envelope"),
        (
            "malformed JSON",
            json("{\"payload\": "),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "not an object",
            json("[1, 2, 3]"),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "truncated envelope",
            json(&good_bytes[..good_bytes.len() / 2]),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "deeply nested JSON body",
            json("[".repeat(100_000)),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "deeply nested field",
            json(format!(
                "{{\"payload\": {}{}}}",
                "{\"a\":".repeat(50_000),
                "}".repeat(50_000)
            )),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "invalid base64 payload",
            json(edited(&good, |v| v["payload"] = "!!not*base64!!".into())),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "invalid base64 signature",
            json(edited(&good, |v| v["signatures"][0]["sig"] = "@@@=".into())),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "unknown envelope field",
            json(edited(&good, |v| v["extra"] = 1.into())),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        // Transport.
        (
            "wrong content type",
            post(good_bytes.clone(), "text/plain"),
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "form content type",
            post(good_bytes.clone(), "application/x-www-form-urlencoded"),
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "body over the limit",
            json(vec![b' '; (1 << 20) + 1]),
            S::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "10,000 subjects",
            json(signed(
                &statement("https://slsa.dev/provenance/v1", many_subjects, "{}"),
                &vendor,
            )),
            S::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        // Statements.
        (
            "unknown predicateType",
            json(signed(
                &statement("https://evil.example/predicate/v1", subject.clone(), "{}"),
                &vendor,
            )),
            S::BAD_REQUEST,
            "invalid_statement",
        ),
        (
            "deeply nested statement",
            json(signed(
                &statement(
                    "https://glassbox.dev/source-submission/v1",
                    subject.clone(),
                    &deep_predicate,
                ),
                &vendor,
            )),
            S::BAD_REQUEST,
            "invalid_statement",
        ),
        (
            "oversized string",
            json(body(&submission(&vendor, REPO, 3, &"9".repeat(20_000)))),
            S::BAD_REQUEST,
            "invalid_statement",
        ),
        // Signers.
        (
            "signature by an unregistered key",
            json(body(&submission(&stranger, REPO, 4, "1"))),
            S::FORBIDDEN,
            "unknown_key",
        ),
        (
            "signature by a revoked key",
            json(body(&submission(&revoked, REPO, 5, "1"))),
            S::FORBIDDEN,
            "key_revoked",
        ),
        (
            "key without the needed role",
            json(body(&submission(&reviewer, REPO, 6, "1"))),
            S::FORBIDDEN,
            "role_not_allowed",
        ),
        (
            "keyid of another registered key",
            json(edited(&good, |v| {
                v["signatures"][0]["keyid"] = reviewer.id.clone().into()
            })),
            S::FORBIDDEN,
            "bad_signature",
        ),
        (
            "keyid of an unknown key",
            json(edited(&good, |v| {
                v["signatures"][0]["keyid"] = stranger.id.clone().into()
            })),
            S::FORBIDDEN,
            "unknown_key",
        ),
        (
            "keyid that is not a key ID",
            json(edited(&good, |v| v["signatures"][0]["keyid"] = SQL.into())),
            S::BAD_REQUEST,
            "malformed_envelope",
        ),
        (
            "self-signed registration after the genesis",
            json(body(&genesis(&stranger))),
            S::FORBIDDEN,
            "unknown_key",
        ),
        (
            "key event by a non-operator",
            json(body(&register(&vendor, &stranger, &[Role::Vendor]))),
            S::FORBIDDEN,
            "role_not_allowed",
        ),
    ];

    // SQL metacharacters in every search parameter.
    for param in [
        "artifact", "commit", "dirhash", "signer", "kind", "since", "until", "cursor", "limit",
    ] {
        let uri = format!("/api/v1/entries?{param}={}", enc(SQL));
        cases.push((
            "SQL in a search parameter",
            get(&uri),
            S::BAD_REQUEST,
            "bad_request",
        ));
    }
    for uri in [
        format!("/api/v1/bundle?artifact={}", enc(SQL)),
        format!("/api/v1/checkpoints?since={}", enc(SQL)),
        format!("/api/v1/keys/{}", enc(SQL)),
        format!("/api/v1/proof/inclusion?index={}&size=1", enc(SQL)),
        format!("/api/v1/entries?{}=1", enc(SQL)),
        format!("/api/v1/entries?repository={}", enc(&"r".repeat(20_000))),
    ] {
        cases.push((
            "SQL or oversize elsewhere",
            get(&uri),
            S::BAD_REQUEST,
            "bad_request",
        ));
    }

    // Tile paths: traversal, absolute paths, huge numbers, non-canonical forms.
    for uri in [
        "/tile/../../etc/passwd",
        "/tile/..%2F..%2Fetc%2Fpasswd",
        "/tile//etc/passwd",
        "/tile/0/../../../glassbox.db",
        "/tile/entries/../../log.pem",
        "/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "/tile/0/18446744073709551616",
        "/tile/0/x18446744073709551615",
        "/tile/entries/x999/x999/x999/x999/x999/x999/999",
        "/tile/255/000",
        "/tile/0/000.p/0",
        "/tile/0/000.p/257",
        "/tile/0/000.p/99999999999999999999",
        "/tile/0/0",
        "/tile/0/-1",
        "/tile/entries/000.p/-5",
    ] {
        cases.push(("hostile tile path", get(uri), S::NOT_FOUND, "not_found"));
    }

    // Negative and overflowing indexes and sizes.
    for uri in [
        "/api/v1/entries/-1",
        "/api/v1/entries/18446744073709551616",
        "/api/v1/entries/1e3",
        "/api/v1/proof/inclusion?index=-1&size=2",
        "/api/v1/proof/inclusion?index=0&size=18446744073709551616",
        "/api/v1/proof/inclusion?index=0&size=18446744073709551615",
        "/api/v1/proof/inclusion?index=18446744073709551615&size=2",
        "/api/v1/proof/inclusion?index=2&size=2",
        "/api/v1/proof/consistency?from=-1&to=2",
        "/api/v1/proof/consistency?from=1&to=18446744073709551616",
        "/api/v1/proof/consistency?from=1&to=18446744073709551615",
        "/api/v1/proof/consistency?from=3&to=2",
        "/api/v1/checkpoints?since=-1",
        "/api/v1/checkpoints?limit=18446744073709551616",
        "/api/v1/checkpoints?limit=0",
        "/api/v1/entries?limit=-1",
        "/api/v1/entries?limit=0",
        "/api/v1/entries?limit=1000000",
    ] {
        cases.push(("bad index or size", get(uri), S::BAD_REQUEST, "bad_request"));
    }
    cases.push((
        "largest index",
        get("/api/v1/entries/18446744073709551615"),
        S::NOT_FOUND,
        "not_found",
    ));

    let before = snapshot(&log).await;
    let mut failures = Vec::new();
    for (name, req, want_status, want_code) in cases {
        let uri = req.uri().to_string();
        let shown_uri: String = uri.chars().take(120).collect();
        let (status, _, raw) = log.request(req).await;
        let body: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
        if status != want_status || code(&body) != want_code {
            failures.push(format!(
                "{name} ({shown_uri}): got {status} {:?}, want {want_status} {want_code}: {}",
                code(&body),
                String::from_utf8_lossy(&raw)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ));
        }
        // Error messages say what is wrong and never echo a megabyte back.
        assert!(raw.len() < 4096, "{name}: {} byte error body", raw.len());
        assert_eq!(snapshot(&log).await, before, "{name} changed the log");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    // SQL metacharacters in the one free-text parameter are data: no hits, and
    // the tables are still there.
    let (status, body) = log
        .get_json(&format!("/api/v1/entries?repository={}", enc(SQL)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["entries"], serde_json::json!([]));
    let (status, body) = log
        .get_json(&format!("/api/v1/entries?repository={}", enc(REPO)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["entries"].as_array().unwrap().len(), 1);
    assert_eq!(snapshot(&log).await, before);
}

#[tokio::test]
async fn json_content_types_are_accepted() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    for (n, ct) in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.dsse.envelope+json",
    ]
    .into_iter()
    .enumerate()
    {
        let req = post(body(&submission(&vendor, REPO, n as u32, "1")), ct);
        let (status, _, raw) = log.request(req).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{ct}: {}",
            String::from_utf8_lossy(&raw)
        );
    }
    let req = Request::post("/api/v1/entries")
        .body(Body::from(body(&submission(&vendor, REPO, 9, "1"))))
        .unwrap();
    let (status, _, _) = log.request(req).await;
    assert_eq!(status, StatusCode::CREATED, "no content type");
}

#[tokio::test]
async fn an_envelope_over_the_core_limit_is_refused_even_with_a_larger_body_limit() {
    let log = TestLog::with(
        Options {
            max_body_bytes: 4 << 20,
            ..Options::default()
        },
        None,
    )
    .await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let subjects = serde_json::Value::Array(
        (0..10_000)
            .map(|i| serde_json::json!({"name": format!("a{i}"), "digest": {"sha256": format!("{i:064x}")}}))
            .collect(),
    );
    let (status, body) = log
        .post_raw(signed(
            &statement("https://slsa.dev/provenance/v1", subjects, "{}"),
            &vendor,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "malformed_envelope");
}

#[tokio::test]
async fn a_statement_string_over_16_kib_is_refused_by_the_field_limit() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let (status, body) = log
        .submit(&submission(&vendor, REPO, 1, &"9".repeat(16 * 1024 + 1)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit of 16384 bytes per field"),
        "{body}"
    );
    let (status, _) = log
        .submit(&submission(&vendor, REPO, 1, &"9".repeat(16 * 1024)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "exactly at the limit");
}
