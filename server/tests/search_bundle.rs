//! Search and bundle return exactly the right entries for seeded data, across
//! several pages; a bundle's evidence is in log order.

mod support;

use axum::http::StatusCode;
use glassbox_core::statement::Role;
use support::*;

/// The log positions of the `k`-th entries sent: [`seeded`] sends one entry at a
/// time, and every batch ends with the log's index commitment. Comments number
/// entries by `k`.
fn at(ks: &[u64]) -> Vec<u64> {
    ks.iter().map(|&k| one_per_batch(k)).collect()
}

async fn seeded() -> (TestLog, Participant, Participant, Participant) {
    let log = TestLog::memory().await;
    let (vendor, reviewer, builder) = (participant(2), participant(3), participant(4));
    log.enrol(&vendor, &[Role::Vendor]).await; // 1
    log.enrol(&reviewer, &[Role::Reviewer]).await; // 2
    log.enrol(&builder, &[Role::Builder]).await; // 3
                                                 // Sources 0..10 of repo A, each submitted and reviewed; builds of a.bin from source 3
                                                 // by vendor and builder; b.bin from source 4.
    for n in 0..10 {
        log.submit(&submission(&vendor, "https://git.example/a", n, "1"))
            .await; // 4 + 2n
        log.submit(&review(&reviewer, "https://git.example/a", n))
            .await; // 5 + 2n
    }
    log.submit(&build(&vendor, "a.bin", "https://git.example/a", 3))
        .await; // 24
    log.submit(&build(&builder, "a.bin", "https://git.example/a", 3))
        .await; // 25
    log.submit(&build(&builder, "b.bin", "https://git.example/a", 4))
        .await; // 26
    log.submit(&submission(&vendor, "https://git.example/b", 3, "2"))
        .await; // 27: same tree, other repo
    (log, vendor, reviewer, builder)
}

async fn all_pages(log: &TestLog, query: &str, limit: usize) -> (Vec<u64>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = format!("/api/v1/entries?{query}&limit={limit}");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = log.get_json(&uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        pages += 1;
        out.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["index"].as_u64().unwrap()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (out, pages),
        }
    }
}

#[tokio::test]
async fn search_filters_and_paginates() {
    let (log, vendor, _, builder) = seeded().await;
    let (subs, pages) = all_pages(
        &log,
        "kind=source-submission&repository=https://git.example/a",
        3,
    )
    .await;
    assert_eq!(subs, at(&(0..10).map(|n| 4 + 2 * n).collect::<Vec<_>>()));
    assert_eq!(pages, 4);
    let (by_signer, _) = all_pages(&log, &format!("signer={}", builder.id.to_uppercase()), 1).await;
    // What the builder signed, and its registration (a key event about it).
    assert_eq!(by_signer, at(&[3, 25, 26]));
    let digest = artifact("a.bin");
    let (a, _) = all_pages(
        &log,
        &format!("artifact={}", digest.hex().to_uppercase()),
        1,
    )
    .await;
    assert_eq!(a, at(&[24, 25]));
    let (a2, _) = all_pages(&log, &format!("artifact={digest}"), 100).await;
    assert_eq!(a2, at(&[24, 25]));
    let (tree3, _) = all_pages(&log, &format!("dirhash=sha256:{}", dir_hash(3)), 2).await;
    assert_eq!(tree3, at(&[10, 11, 24, 25, 27]));
    let (c3, _) = all_pages(
        &log,
        &format!("commit={}&signer={}", commit(3), vendor.id),
        2,
    )
    .await;
    assert_eq!(c3, at(&[10, 24, 27]));
    let (keys, _) = all_pages(&log, "kind=key-event", 2).await;
    assert_eq!(keys, at(&[0, 1, 2, 3]));
    let (none, _) = all_pages(&log, "since=2030-01-01T00:00:00Z", 10).await;
    assert!(none.is_empty());
    let (every, _) = all_pages(&log, "until=2030-01-01T00:00:00Z", 1000).await;
    // The 28 entries sent and the index commitment ending each one's batch.
    assert_eq!(every.len(), 2 * 28);
    assert_eq!(every, (0..2 * 28).collect::<Vec<_>>());
    for bad in [
        "kind=nope",
        "artifact=md5:00",
        "since=yesterday",
        "cursor=zzz",
        "limit=1001",
        "colour=red",
    ] {
        let (status, body) = log.get_json(&format!("/api/v1/entries?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(code(&body), "bad_request");
    }
}

#[tokio::test]
async fn bundle_holds_builds_their_sources_and_every_key_event() {
    let (log, ..) = seeded().await;
    let (status, b) = log
        .get_json(&format!("/api/v1/bundle?artifact={}", artifact("a.bin")))
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let bundle: glassbox_core::bundle::Bundle = serde_json::from_value(b.clone()).unwrap();
    let idx =
        |rs: &[glassbox_core::bundle::Receipt]| rs.iter().map(|r| r.index).collect::<Vec<_>>();
    assert_eq!(idx(&bundle.entries), at(&[10, 11, 24, 25, 27]));
    assert_eq!(idx(&bundle.key_events), at(&[0, 1, 2, 3]));
    let cp =
        glassbox_core::checkpoint::SignedCheckpoint::open(bundle.checkpoint.as_bytes(), &log.vkey)
            .unwrap()
            .checkpoint;
    for r in b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(b["keyEvents"].as_array().unwrap())
    {
        assert_eq!(
            verify_receipt(r, &log.vkey),
            cp,
            "proof against the bundle checkpoint"
        );
    }
    // Version 2: the lists are proven complete against the index commitment that
    // ends the bundle's checkpoint.
    assert_eq!(
        bundle.media_type,
        glassbox_core::bundle::BUNDLE_MEDIA_TYPE_V2
    );
    let index = bundle.index.as_ref().expect("a version 2 bundle");
    assert_eq!(index.commitment.index + 1, cp.size);
    assert_eq!(verify_receipt(&b["index"]["commitment"], &log.vkey), cp);
    let envelope = glassbox_core::dsse::Envelope::from_json(
        &glassbox_core::jcs::canonicalize(&index.commitment.entry).unwrap(),
    )
    .unwrap();
    let commitment = glassbox_core::index::IndexCommitment::open(
        &envelope,
        &ed25519_dalek::SigningKey::from_bytes(&[200; 32]).verifying_key(),
    )
    .unwrap();
    let keys: Vec<&str> = index.lookups.iter().map(|l| l.key.as_str()).collect();
    let (artifact_key, source_key) = (
        format!("artifact:{}", artifact("a.bin").hex()),
        format!("source:{}", dir_hash(3)),
    );
    assert_eq!(
        keys,
        [artifact_key.as_str(), "registry", source_key.as_str()]
    );
    for lookup in &index.lookups {
        let key: glassbox_core::index::IndexKey = lookup.key.parse().unwrap();
        lookup
            .proof
            .verify_list(&commitment.root, &key.hash(), &lookup.indices)
            .unwrap();
    }
    assert_eq!(index.lookups[0].indices, at(&[24, 25]));
    assert_eq!(index.lookups[1].indices, idx(&bundle.key_events));
    assert_eq!(index.lookups[2].indices, idx(&bundle.entries));
    let (status, body) = log
        .get_json(&format!("/api/v1/bundle?artifact={}", artifact("nothing")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, _) = log.get_json("/api/v1/bundle?artifact=xyz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The bundle of `name`'s artifact, which must exist.
async fn bundle_of(log: &TestLog, name: &str) -> glassbox_core::bundle::Bundle {
    let (status, b) = log
        .get_json(&format!("/api/v1/bundle?artifact={}", artifact(name)))
        .await;
    assert_eq!(status, StatusCode::OK, "{name}: {b}");
    serde_json::from_value(b).unwrap()
}

#[tokio::test]
async fn a_bundle_holds_the_builds_of_other_artifacts_from_the_same_source() {
    let (log, vendor, _, builder) = seeded().await;
    for env in [
        build(&builder, "c.bin", "https://git.example/a", 3), // 28: other bytes, a.bin's source
        build(&vendor, "d.bin", "https://git.example/a", 4),  // 29: b.bin's source, not a.bin's
    ] {
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let idx =
        |b: &glassbox_core::bundle::Bundle| b.entries.iter().map(|r| r.index).collect::<Vec<_>>();
    assert_eq!(
        idx(&bundle_of(&log, "a.bin").await),
        at(&[10, 11, 24, 25, 27, 28])
    );
    assert_eq!(
        idx(&bundle_of(&log, "c.bin").await),
        at(&[10, 11, 24, 25, 27, 28])
    );
    assert_eq!(idx(&bundle_of(&log, "b.bin").await), at(&[12, 13, 26, 29]));
}

#[tokio::test]
async fn every_bundle_lists_entries_and_key_events_in_strictly_increasing_log_order() {
    let (log, vendor, reviewer, _) = seeded().await;
    // A key event after the evidence, and evidence after it: order by index,
    // not by kind or by the query that found an entry.
    let late = participant(9);
    log.enrol(&late, &[Role::Builder]).await; // 28
    for env in [
        build(&late, "a.bin", "https://git.example/a", 3), // 29
        review(&reviewer, "https://git.example/b", 4),     // 30: source 4 reviewed again
        build(&vendor, "b.bin", "https://git.example/a", 4), // 31
    ] {
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for name in ["a.bin", "b.bin"] {
        let bundle = bundle_of(&log, name).await;
        for (what, receipts) in [
            ("entries", &bundle.entries),
            ("keyEvents", &bundle.key_events),
        ] {
            let indexes: Vec<u64> = receipts.iter().map(|r| r.index).collect();
            assert!(
                indexes.windows(2).all(|w| w[0] < w[1]),
                "{name} {what}: {indexes:?}"
            );
        }
        assert_eq!(
            bundle
                .key_events
                .iter()
                .map(|r| r.index)
                .collect::<Vec<_>>(),
            at(&[0, 1, 2, 3, 28])
        );
    }
    let a: Vec<u64> = bundle_of(&log, "a.bin")
        .await
        .entries
        .iter()
        .map(|r| r.index)
        .collect();
    assert_eq!(a, at(&[10, 11, 24, 25, 27, 29]));
    let b: Vec<u64> = bundle_of(&log, "b.bin")
        .await
        .entries
        .iter()
        .map(|r| r.index)
        .collect();
    assert_eq!(b, at(&[12, 13, 26, 30, 31]));
}
