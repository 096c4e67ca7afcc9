//! Proofs, tiles and receipts through the node hash cache (storage/cache.rs), as
//! the server runs them: the same answers as the storage under it, the same
//! 400/404 beyond the log, and a failed commit leaves nothing servable.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use glassbox_core::statement::Role;
use glassbox_server::storage::cache::{CachedStorage, DEFAULT_CACHE_BYTES};
use glassbox_server::storage::memory::MemoryStorage;
use glassbox_server::storage::Storage;
use support::*;

/// The size of a [`twin_logs`] log fed `entries` submissions: the genesis, the
/// vendor's registration and the submissions, each a batch of its own that the
/// log's index commitment ends.
const fn twin_size(entries: u64) -> u64 {
    one_per_batch(entries + 2)
}

/// Two logs fed the same submissions: one over memory, one over a cache on memory.
async fn twin_logs(entries: u32) -> (TestLog, TestLog, Arc<MemoryStorage>) {
    let plain = TestLog::memory().await;
    let inner = Arc::new(MemoryStorage::new());
    let cached: Arc<dyn Storage> = Arc::new(CachedStorage::new(inner.clone(), DEFAULT_CACHE_BYTES));
    let cached = TestLog::with(Options::default(), Some(cached)).await;
    let vendor = participant(2);
    for log in [&plain, &cached] {
        log.enrol(&vendor, &[Role::Vendor]).await;
        for n in 0..entries {
            let (status, r) = log
                .submit(&submission(&vendor, "https://git.example/c", n, "1.0"))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{r}");
        }
    }
    (plain, cached, inner)
}

#[tokio::test]
async fn proofs_and_tiles_through_the_cache_equal_the_uncached_ones() {
    let (plain, cached, _) = twin_logs(20).await;
    let size = twin_size(20);
    assert_eq!(
        cached.storage.latest_checkpoint().unwrap().unwrap().size,
        size
    );
    let mut uris = vec![
        format!("/tile/0/000.p/{size}"),
        format!("/tile/entries/000.p/{size}"),
        "/tile/0/000.p/5".to_string(),
    ];
    for s in [1, 2, 7, 16, 21, size] {
        uris.push(format!("/api/v1/proof/consistency?from={s}&to={size}"));
        for index in [0, s / 2, s - 1] {
            uris.push(format!("/api/v1/proof/inclusion?index={index}&size={s}"));
        }
    }
    // Beyond the log: the same refusals.
    let beyond = size + 1;
    uris.extend([
        format!("/api/v1/proof/inclusion?index=0&size={beyond}"),
        format!("/api/v1/proof/inclusion?index={}&size={beyond}", size + 8),
        format!("/api/v1/proof/consistency?from=3&to={beyond}"),
        format!("/api/v1/proof/consistency?from=0&to={beyond}"),
        format!("/tile/0/000.p/{beyond}"),
        "/tile/0/000".into(),
        format!("/tile/entries/000.p/{beyond}"),
        "/tile/1/000.p/1".into(),
    ]);
    for uri in &uris {
        let (a_status, a_headers, a) = plain.get(uri).await;
        let (b_status, b_headers, b) = cached.get(uri).await;
        assert_eq!(a_status, b_status, "{uri}");
        assert_eq!(a, b, "{uri}");
        assert_eq!(
            a_headers.get("cache-control"),
            b_headers.get("cache-control"),
            "{uri}"
        );
    }
    let (status, body) = cached
        .get_json(&format!("/api/v1/proof/inclusion?index=0&size={beyond}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string()
            .contains(&format!("exceeds the log's size {size}")),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_commit_leaves_nothing_servable_through_the_cache() {
    let (_, cached, inner) = twin_logs(3).await;
    let vendor = participant(2);
    let size = twin_size(3);
    inner.fail_next_appends(1);
    let (status, _) = cached
        .submit(&submission(&vendor, "https://git.example/c", 99, "1.0"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Neither the entry nor the index commitment that would have ended its batch.
    for uri in [
        format!("/api/v1/proof/inclusion?index={size}&size={}", size + 1),
        format!(
            "/api/v1/proof/inclusion?index={}&size={}",
            size + 1,
            size + 2
        ),
        format!("/tile/0/000.p/{}", size + 1),
        format!("/tile/0/000.p/{}", size + 2),
    ] {
        let (status, _, _) = cached.get(&uri).await;
        assert!(status.is_client_error(), "{uri}: {status}");
    }
    // The retry commits at the same position and is proved.
    let (status, r) = cached
        .submit(&submission(&vendor, "https://git.example/c", 99, "1.0"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["index"], size);
    verify_receipt(&r, &cached.vkey);
    let (status, _) = cached
        .get_json(&format!(
            "/api/v1/proof/inclusion?index={size}&size={}",
            size + 2
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
}
