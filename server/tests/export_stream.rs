//! `GET /api/v1/export`: every matching row in index order, JSON Lines or
//! RFC 4180 CSV, streamed from storage a page at a time — checked on 100,000
//! entries with a storage hook that measures how many rows the server holds
//! that the client has not yet received — within a fixed number of export
//! slots and a time limit.

mod support;
mod web_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt as _;
use glassbox_core::statement::Role;
use glassbox_server::http::routes::export::{ExportLimits, ExportRow, EXPORT_PAGE};
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::*;
use tower::ServiceExt as _;

/// Rows handed out by `search` against rows the test has read from the response,
/// and the largest difference.
#[derive(Default)]
struct Counting {
    handed_out: AtomicU64,
    consumed: AtomicU64,
    max_in_flight: AtomicU64,
    max_page: AtomicU64,
}

impl Counting {
    fn handed(&self, rows: &[EntryRecord]) {
        let n = rows.len() as u64;
        self.max_page.fetch_max(n, Ordering::SeqCst);
        let out = self.handed_out.fetch_add(n, Ordering::SeqCst) + n;
        let in_flight = out.saturating_sub(self.consumed.load(Ordering::SeqCst));
        self.max_in_flight.fetch_max(in_flight, Ordering::SeqCst);
    }
}

const N: u64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_100k_entries_streams_every_row_reading_a_page_only_once_the_last_was_taken() {
    let counting = Arc::new(Counting::default());
    let storage = Arc::new(MemoryStorage::new().after_search({
        let counting = counting.clone();
        move |rows| counting.handed(rows)
    }));
    let t = std::time::Instant::now();
    for start in (0..N).step_by(10_000) {
        web_support::seed(storage.as_ref(), start, 10_000, |i| {
            1_767_225_600_000 + i as i64
        });
    }
    eprintln!("seeded in {:?}", t.elapsed());
    let app = glassbox_server::app(web_support::reader_state(storage));
    let resp = app
        .oneshot(
            Request::get("/api/v1/export?format=jsonl")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");

    let mut stream = resp.into_body().into_data_stream();
    let mut rows = 0u64;
    let mut partial = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        partial.extend_from_slice(&chunk);
        let mut lines: Vec<&[u8]> = partial.split(|&b| b == b'\n').collect();
        let rest = lines.pop().unwrap_or_default().to_vec();
        for line in lines {
            // Check the order of every row cheaply; decode a sample in full.
            let prefix = format!("{{\"index\":{rows},");
            assert!(
                line.starts_with(prefix.as_bytes()),
                "row {rows} out of order"
            );
            if rows.is_multiple_of(10_000) {
                let row: ExportRow = serde_json::from_slice(line).unwrap();
                assert_eq!(row.index, rows);
                assert_eq!(row.kind, "build");
                assert_eq!(row.subjects[0].name, format!("app-{rows}.bin"));
                assert_eq!(row.repositories, vec!["https://git.example/app"]);
                assert_eq!(row.leaf_hash.len(), 64);
            }
            if rows == 0 {
                let row: ExportRow = serde_json::from_slice(line).unwrap();
                assert_eq!(row.integrated_time, "2026-01-01T00:00:00.000Z");
            }
            rows += 1;
        }
        counting.consumed.store(rows, Ordering::SeqCst);
        partial = rest;
    }
    eprintln!("exported in {:?}", t.elapsed());
    assert!(partial.is_empty());
    assert_eq!(rows, N);
    let max_page = counting.max_page.load(Ordering::SeqCst);
    let in_flight = counting.max_in_flight.load(Ordering::SeqCst);
    assert!(max_page <= EXPORT_PAGE as u64, "page of {max_page} rows");
    // A page is read only once the client has taken the one before.
    let bound = EXPORT_PAGE as u64;
    assert!(
        in_flight <= bound,
        "{in_flight} rows read from storage but not yet sent (bound {bound})"
    );
}

/// A minimal RFC 4180 reader: records of fields, quotes doubled inside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[tokio::test]
async fn csv_export_has_a_header_quotes_fields_and_applies_filters() {
    let log = support::TestLog::memory().await;
    let (vendor, builder) = (support::participant(2), support::participant(4));
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.enrol(&builder, &[Role::Builder]).await;
    let odd = "https://git.example/a,\"b\"";
    for env in [
        support::submission(&vendor, odd, 1, "1"),
        support::build(&vendor, "x.bin", odd, 1),
        support::build(&builder, "x.bin", odd, 1),
        support::build(&builder, "y.bin", "https://git.example/other", 2),
    ] {
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, headers, body) = log
        .get("/api/v1/export?format=csv&kind=build&repository=https%3A%2F%2Fgit.example%2Fa%2C%22b%22")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("\"https://git.example/a,\"\"b\"\"\""),
        "{text}"
    );
    let records = parse_csv(&text);
    assert_eq!(
        records[0],
        [
            "index",
            "integratedTime",
            "kind",
            "signers",
            "subjects",
            "artifacts",
            "repositories",
            "commits",
            "dirHashes",
            "leafHash",
            "product",
            "version",
            "verdict",
            "scope",
            "findings",
            "builder"
        ]
    );
    assert_eq!(records.len(), 3, "header + the two builds of x.bin: {text}");
    // Genesis, two registrations and the submission come first, one batch each
    // (every batch ends with the log's index commitment, which has no kind=build).
    assert_eq!(records[1][0], support::one_per_batch(4).to_string());
    assert_eq!(records[2][0], support::one_per_batch(5).to_string());
    assert_eq!(records[1][3], vendor.id);
    assert_eq!(records[2][3], builder.id);
    assert_eq!(records[1][5], support::artifact("x.bin").hex());
    assert_eq!(records[1][6], odd);
    assert_eq!(records[1][8], support::dir_hash(1));
    assert!(records[1][4].starts_with("x.bin (sha256:"));
}

/// Each row carries what the statement says, decoded by the code `glassbox history`
/// uses, next to the logged envelope itself; the CSV has the same fields.
#[tokio::test]
async fn an_export_row_carries_the_decoded_statement_next_to_the_envelope() {
    let log = support::TestLog::memory().await;
    let (vendor, reviewer, builder) = (
        support::participant(2),
        support::participant(3),
        support::participant(4),
    );
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.enrol(&reviewer, &[Role::Reviewer]).await;
    log.enrol(&builder, &[Role::Builder]).await;
    let repo = "https://git.example/app";
    let envelopes = [
        support::submission(&vendor, repo, 1, "2.1"),
        support::review(&reviewer, repo, 1),
        support::build(&builder, "x.bin", repo, 1),
    ];
    for env in &envelopes {
        let (status, body) = log.submit(env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, _, body) = log.get(&format!("/api/v1/export?repository={repo}")).await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<serde_json::Value> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    let source = serde_json::json!([{
        "repository": repo, "commit": support::commit(1), "dirHash": support::dir_hash(1)
    }]);
    let (sub, rev, build) = (
        &rows[0]["statement"],
        &rows[1]["statement"],
        &rows[2]["statement"],
    );
    assert_eq!(sub["kind"], "source-submission");
    assert_eq!(
        (&sub["product"], &sub["version"]),
        (&"widget".into(), &"2.1".into())
    );
    assert_eq!(sub["scope"], "full");
    assert_eq!(sub["sources"], source);
    assert_eq!(
        (&rev["verdict"], &rev["scope"]),
        (&"approved".into(), &"full".into())
    );
    assert!(rev.get("findings").is_none(), "{rev}");
    assert_eq!(rev["sources"], source);
    let builder_id = format!("https://builder.example/{}", &builder.id[..16]);
    assert_eq!(build["builder"], builder_id.as_str());
    assert_eq!(build["sources"], source);
    assert_eq!(rows[2]["subjects"][0]["name"], "x.bin");
    // The raw envelope, exactly as logged, next to the decoded fields.
    for (row, env) in rows.iter().zip(&envelopes) {
        assert_eq!(row["entry"], env.to_value(), "{row}");
    }

    let (status, _, body) = log
        .get(&format!("/api/v1/export?repository={repo}&format=csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let records = parse_csv(&String::from_utf8(body).unwrap());
    let column = |name: &str| records[0].iter().position(|c| c == name).unwrap();
    assert_eq!(records[1][column("product")], "widget");
    assert_eq!(records[1][column("version")], "2.1");
    assert_eq!(records[2][column("verdict")], "approved");
    assert_eq!(records[2][column("scope")], "full");
    assert_eq!(records[3][column("builder")], builder_id);
    assert_eq!(
        records[3][column("leafHash")],
        rows[2]["leafHash"].as_str().unwrap()
    );
}

#[tokio::test]
async fn export_rejects_unknown_formats_and_parameters() {
    let log = support::TestLog::memory().await;
    for uri in [
        "/api/v1/export?format=xml",
        "/api/v1/export?cursor=abc",
        "/api/v1/export?since=yesterday",
    ] {
        let (status, body) = log.get_json(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(support::code(&body), "bad_request");
    }
}

#[tokio::test]
async fn csv_export_neutralises_formulas_a_hostile_signer_planted() {
    let log = support::TestLog::memory().await;
    let builder = support::participant(4);
    log.enrol(&builder, &[Role::Builder]).await;
    let hostile = "=SUM(1+1)";
    let env = support::build(&builder, hostile, "https://git.example/app", 1);
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = log.get("/api/v1/export?format=csv&kind=build").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let records = parse_csv(&text);
    assert_eq!(records.len(), 2, "{text}");
    assert!(
        records[1][4].starts_with(&format!("'{hostile} (sha256:")),
        "{text}"
    );
    assert_eq!(records[1][6], "https://git.example/app");
    // The JSON Lines export keeps the exact logged values.
    let (_, _, body) = log.get("/api/v1/export?format=jsonl&kind=build").await;
    let line: serde_json::Value =
        serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["subjects"][0]["name"], hostile);
}

#[tokio::test]
async fn an_unfiltered_export_lists_every_entry_index_commitments_included() {
    let log = support::TestLog::memory().await;
    let vendor = support::participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let env = support::submission(&vendor, "https://git.example/app", 1, "1");
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = log.get("/api/v1/export?format=jsonl").await;
    assert_eq!(status, StatusCode::OK);
    let rows: Vec<ExportRow> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // Three entries sent one at a time, each batch ended by the log's commitment.
    let size = support::one_per_batch(3);
    assert_eq!(
        rows.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..size).collect::<Vec<_>>()
    );
    for row in &rows {
        let commitment = row.index % 2 == 1;
        assert_eq!(row.kind == "index-commitment", commitment, "{}", row.index);
    }
    let (status, _, body) = log.get("/api/v1/export?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert_eq!(parse_csv(&text).len(), 1 + size as usize, "{text}");
}

#[tokio::test]
async fn an_export_beyond_the_slots_is_refused_busy_until_one_ends() {
    let storage = Arc::new(MemoryStorage::new());
    web_support::seed(storage.as_ref(), 0, 10, |i| 1_767_225_600_000 + i as i64);
    let app = glassbox_server::app(web_support::reader_state(storage)).layer(axum::Extension(
        ExportLimits::new(1, Duration::from_secs(3600)),
    ));
    let get = || Request::get("/api/v1/export").body(Body::empty()).unwrap();
    let first = app.clone().oneshot(get()).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    // The first export is not read: it still holds the only slot.
    let second = app.clone().oneshot(get()).await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers()["retry-after"], "5");
    let body = axum::body::to_bytes(second.into_body(), 1 << 20)
        .await
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "busy");
    // A client gone (its body dropped) frees the slot.
    drop(first);
    let third = app.oneshot(get()).await.unwrap();
    assert_eq!(third.status(), StatusCode::OK);
    let rows = axum::body::to_bytes(third.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        rows.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        10
    );
}

#[tokio::test]
async fn an_export_past_its_time_limit_ends_truncated_not_short() {
    let storage = Arc::new(MemoryStorage::new());
    web_support::seed(storage.as_ref(), 0, 10, |i| 1_767_225_600_000 + i as i64);
    let app = glassbox_server::app(web_support::reader_state(storage))
        .layer(axum::Extension(ExportLimits::new(1, Duration::ZERO)));
    let resp = app
        .oneshot(Request::get("/api/v1/export").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The body fails instead of ending: a client cannot take it for the whole log.
    assert!(axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .is_err());
}
