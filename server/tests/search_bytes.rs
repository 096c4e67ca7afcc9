//! `GET /api/v1/entries` caps a page in bytes as well as in entries: a client
//! asking `limit=1000` of entries near the body limit gets a few megabytes and
//! the cursor for the rest, and following the cursors still yields every entry
//! exactly once.

mod web_support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use glassbox_server::http::routes::search::MAX_PAGE_BYTES;
use glassbox_server::storage::memory::MemoryStorage;
use tower::ServiceExt as _;

/// The status and body of `GET uri` from `app`.
async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::body::Bytes) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body)
}

#[tokio::test]
async fn a_page_of_large_entries_stops_at_the_byte_cap_and_its_cursor_reaches_the_rest() {
    let storage = Arc::new(MemoryStorage::new());
    // 40 entries of about 270 KiB: 10 MiB, well past one page's cap.
    web_support::seed_named(
        storage.as_ref(),
        0,
        40,
        |i| format!("{i:04}-{}", "a".repeat(200 * 1024)),
        |i| 1_767_225_600_000 + i as i64,
    );
    let app = glassbox_server::app(web_support::reader_state(storage));
    let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let uri = match &cursor {
            None => "/api/v1/entries?kind=build&limit=1000".to_string(),
            Some(c) => format!("/api/v1/entries?kind=build&limit=1000&cursor={c}"),
        };
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.len() <= MAX_PAGE_BYTES,
            "page {pages} is {} bytes",
            body.len()
        );
        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let entries = page["entries"].as_array().unwrap();
        assert!(!entries.is_empty(), "page {pages} is empty");
        seen.extend(entries.iter().map(|e| e["index"].as_u64().unwrap()));
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages for 10 MiB");
    assert_eq!(seen, (0..40).collect::<Vec<u64>>());
}

#[tokio::test]
async fn small_entries_fill_a_page_up_to_its_limit_across_read_steps() {
    let storage = Arc::new(MemoryStorage::new());
    web_support::seed(storage.as_ref(), 0, 250, |i| 1_767_225_600_000 + i as i64);
    let app = glassbox_server::app(web_support::reader_state(storage));
    let (_, body) = get(&app, "/api/v1/entries?limit=240").await;
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 240);
    assert_eq!(entries[239]["index"], 239);
    assert!(page["nextCursor"].is_string());
}

/// A web page lists what one source or artifact has within a byte budget, however
/// large the entries: it reads at most `MAX_READ_BYTES` of them and says that not
/// every entry is shown.
#[tokio::test]
async fn a_source_page_of_large_entries_reads_within_its_budget_and_says_so() {
    use glassbox_server::http::web::decode::MAX_READ_BYTES;
    let storage = Arc::new(MemoryStorage::new());
    // 210 builds of about 300 KiB; every 7th names the source "tree 0": 30 of
    // them, about 9 MiB.
    web_support::seed_named(
        storage.as_ref(),
        0,
        210,
        |i| format!("{i:04}-{}", "a".repeat(300 * 1024)),
        |i| 1_767_225_600_000 + i as i64,
    );
    let dir_hash = glassbox_core::digest::Sha256Digest::of(b"tree 0").hex();
    let app = glassbox_server::app(web_support::reader_state(storage));
    let (status, body) = get(&app, &format!("/source/{dir_hash}")).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        html.contains("Not every entry is shown"),
        "{}",
        &html[..2000]
    );
    assert!(
        body.len() < MAX_READ_BYTES + (1 << 20),
        "{} bytes",
        body.len()
    );
}

/// The web search page reads a page as the API does: `limit=1000` of large entries
/// stops at the byte cap and links to the next page.
#[tokio::test]
async fn the_web_search_page_stops_at_the_byte_cap_and_links_to_the_rest() {
    let storage = Arc::new(MemoryStorage::new());
    // 40 entries of about 270 KiB: 10 MiB.
    web_support::seed_named(
        storage.as_ref(),
        0,
        40,
        |i| format!("{i:04}-{}", "a".repeat(200 * 1024)),
        |i| 1_767_225_600_000 + i as i64,
    );
    let app = glassbox_server::app(web_support::reader_state(storage));
    let (status, body) = get(&app, "/search?kind=build&limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains("rel=\"next\""), "no next page link");
    assert!(
        body.len() < MAX_PAGE_BYTES + (1 << 20),
        "{} bytes",
        body.len()
    );
}
