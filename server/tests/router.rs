//! Router-level tests (no socket): every route and every error status.

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::merkle;
use glassbox_core::statement::Role;
use glassbox_server::config::RateLimit;
use support::*;

#[tokio::test]
async fn submit_returns_201_then_200_for_the_identical_envelope() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let env = submission(&vendor, "https://git.example/w", 1, "1.0");
    let (s1, r1) = log.submit(&env).await;
    assert_eq!(s1, StatusCode::CREATED, "{r1}");
    let (s2, r2) = log.submit(&env).await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(r1["index"], r2["index"]);
    // Genesis, registration, submission: one batch each.
    assert_eq!(r1["index"], one_per_batch(2));
    // The receipt verifies offline against the log key, in the checkpoint of its
    // batch: the entry and the index commitment that ends the batch.
    let cp = verify_receipt(&r1, &log.vkey);
    assert_eq!(cp.size, one_per_batch(2) + 2);
    verify_receipt(&r2, &log.vkey);
}

#[tokio::test]
async fn malformed_envelope_is_400() {
    let log = TestLog::memory().await;
    let (status, body) = log.post_raw(b"{\"payload\": 1}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "malformed_envelope");
}

#[tokio::test]
async fn non_intoto_payload_is_invalid_statement() {
    let log = TestLog::memory().await;
    let env =
        glassbox_core::dsse::Envelope::sign("text/plain", b"hello", &[&log.operator.key]).unwrap();
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_statement", "{body}");
}

#[tokio::test]
async fn unregistered_signer_is_403_unknown_key() {
    let log = TestLog::memory().await;
    let (status, body) = log
        .submit(&submission(
            &participant(9),
            "https://git.example/w",
            1,
            "1",
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "unknown_key");
}

#[tokio::test]
async fn reviewer_signing_a_build_is_403_role_not_allowed() {
    let log = TestLog::memory().await;
    let reviewer = participant(3);
    log.enrol(&reviewer, &[Role::Reviewer]).await;
    let (status, body) = log
        .submit(&build(&reviewer, "app.bin", "https://git.example/w", 1))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "role_not_allowed");
}

#[tokio::test]
async fn tampered_signature_is_403_bad_signature() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let mut env = submission(&vendor, "https://git.example/w", 1, "1");
    env.signatures[0].sig[0] ^= 1;
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "bad_signature");
}

/// Envelopes over 64 KiB are checked on the blocking pool instead of the
/// runtime thread: the same answers either way.
#[tokio::test]
async fn a_large_envelope_is_checked_like_a_small_one() {
    use glassbox_core::statement::{
        ArtifactSubject, Attestation, Build, BuildRecipe, ProvenancePredicate,
    };
    let log = TestLog::memory().await;
    let builder = participant(3);
    log.enrol(&builder, &[Role::Builder]).await;
    // One build of 800 artifacts: ~110 bytes of statement each.
    let subjects = (0..800)
        .map(|i| ArtifactSubject {
            name: format!("out/part-{i}"),
            sha256: artifact(&format!("part-{i}")),
        })
        .collect();
    let large = Build::new(
        subjects,
        ProvenancePredicate::new(
            BuildRecipe::new("make", "out/part-0"),
            "https://git.example/w",
            source(7),
            "https://builder.example",
        ),
    )
    .unwrap();
    let env = Attestation::from(large).sign(&[&builder.key]).unwrap();
    assert!(body(&env).len() > 64 * 1024);
    let mut tampered = env.clone();
    tampered.signatures[0].sig[0] ^= 1;
    let (status, body) = log.submit(&tampered).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "bad_signature");
    let (status, receipt) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    verify_receipt(&receipt, &log.vkey);
}

#[tokio::test]
async fn revoked_key_is_refused_after_its_revocation() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let (status, _) = log.submit(&revoke(&log.operator, &vendor)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = log
        .submit(&submission(&vendor, "https://git.example/w", 1, "1"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "key_revoked");
}

#[tokio::test]
async fn registering_a_key_twice_is_409() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    let again = register(&log.operator, &vendor, &[Role::Vendor, Role::Builder]);
    let (status, body) = log.submit(&again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "conflict");
}

#[tokio::test]
async fn first_entry_must_be_self_signed_operator_registration() {
    let log = TestLog::with(
        Options {
            stalled: false,
            ..Options::default()
        },
        None,
    )
    .await;
    // A second self-signed registration is not a genesis: its signer is unknown.
    let other = participant(5);
    let (status, body) = log.submit(&genesis(&other)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "unknown_key");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let log = TestLog::with(
        Options {
            max_body_bytes: 4096,
            ..Options::default()
        },
        None,
    )
    .await;
    let (status, body) = log.post_raw(vec![b' '; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&body), "body_too_large");
}

#[tokio::test]
async fn signer_over_its_rate_is_429_with_retry_after() {
    let opts = Options {
        signer_limit: RateLimit {
            rate_per_sec: 0.001,
            burst: 2.0,
        },
        ..Options::default()
    };
    let log = TestLog::with(opts, None).await; // genesis used one token of the operator
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await; // second operator token
    let (status, body) = log
        .submit(&register(&log.operator, &participant(3), &[Role::Vendor]))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&body), "rate_limited");
}

#[tokio::test]
async fn client_over_its_rate_is_429() {
    let opts = Options {
        ip_limit: RateLimit {
            rate_per_sec: 0.001,
            burst: 2.0,
        },
        ..Options::default()
    };
    let log = TestLog::with(opts, None).await; // genesis took one token
    let (first, _, _) = log.get("/checkpoint").await;
    assert_eq!(first, StatusCode::OK);
    let (status, headers, _) = log.get("/checkpoint").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    // Liveness is exempt.
    assert_eq!(log.get("/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn full_queue_is_503_overloaded() {
    let log = TestLog::with(
        Options {
            stalled: true,
            queue_size: 1,
            ..Options::default()
        },
        None,
    )
    .await;
    let app = log.app.clone();
    let first = genesis(&log.operator);
    let waiting = tokio::spawn(async move {
        use tower::ServiceExt as _;
        let req = axum::http::Request::post("/api/v1/entries")
            .body(axum::body::Body::from(body(&first)))
            .unwrap();
        app.oneshot(req).await.unwrap().status()
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while log
        .state
        .metrics
        .queue_depth
        .load(std::sync::atomic::Ordering::SeqCst)
        == 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "first submission never queued"
        );
        tokio::task::yield_now().await;
    }
    let (status, body) = log.submit(&genesis(&participant(7))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&body), "overloaded");
    waiting.abort();
}

#[tokio::test]
async fn slow_request_is_503_timeout() {
    let opts = Options {
        stalled: true,
        request_timeout: Duration::from_millis(20),
        ..Options::default()
    };
    let log = TestLog::with(opts, None).await;
    let (status, body) = log.submit(&genesis(&log.operator)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&body), "timeout");
}

#[tokio::test]
async fn failed_commit_is_503_and_leaves_nothing_behind() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.memory.as_ref().unwrap().fail_next_appends(1);
    let env = register(&log.operator, &vendor, &[Role::Vendor]);
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&body), "commit_failed");
    // The genesis batch (the genesis and its index commitment) is all there is.
    let next = one_per_batch(1);
    assert_eq!(
        log.get_json(&format!("/api/v1/entries/{next}")).await.0,
        StatusCode::NOT_FOUND
    );
    // The registry change was rolled back too: the same registration now succeeds
    // at the position the failed batch would have taken.
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["index"], next);
}

#[tokio::test]
async fn entry_by_index_and_404_beyond_the_log() {
    let log = TestLog::memory().await;
    let (status, body) = log.get_json("/api/v1/entries/0").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["index"], 0);
    // Entry 1 is the index commitment ending the genesis batch; the log ends there.
    let (status, body) = log.get_json("/api/v1/entries/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["index"], 1);
    let (status, body) = log.get_json("/api/v1/entries/2").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, body) = log.get_json("/api/v1/entries/minus-one").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "bad_request");
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    for n in 0..5 {
        log.submit(&submission(&vendor, "https://git.example/w", n, "1"))
            .await;
    }
    // Seven batches of one entry, each ended by an index commitment.
    let size = log.storage.latest_checkpoint().unwrap().unwrap().size;
    assert_eq!(size, one_per_batch(7));
    let decode = |v: &serde_json::Value| -> [u8; 32] {
        STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let (status, p) = log.get_json("/api/v1/proof/inclusion?index=3&size=6").await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let hashes: Vec<[u8; 32]> = p["hashes"].as_array().unwrap().iter().map(decode).collect();
    merkle::verify_inclusion(&decode(&p["leafHash"]), 3, 6, &hashes, &decode(&p["root"])).unwrap();

    let (status, c) = log.get_json("/api/v1/proof/consistency?from=2&to=7").await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let hashes: Vec<[u8; 32]> = c["hashes"].as_array().unwrap().iter().map(decode).collect();
    merkle::verify_consistency(
        2,
        7,
        &hashes,
        &decode(&c["fromRoot"]),
        &decode(&c["toRoot"]),
    )
    .unwrap();

    for bad in [
        format!("/api/v1/proof/inclusion?index={size}&size={size}"),
        format!("/api/v1/proof/inclusion?index=0&size={}", size + 1),
        "/api/v1/proof/consistency?from=0&to=3".into(),
        "/api/v1/proof/consistency?from=4&to=3".into(),
        "/api/v1/proof/consistency?from=1".into(),
    ] {
        let (status, body) = log.get_json(&bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn checkpoint_history_and_latest_checkpoint() {
    let log = TestLog::memory().await;
    let (status, headers, note) = log.get("/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    // The genesis and the index commitment ending its batch.
    assert!(String::from_utf8(note)
        .unwrap()
        .starts_with(&format!("{ORIGIN}\n2\n")));
    let (status, h) = log.get_json("/api/v1/checkpoints?since=0&limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["checkpoints"][0]["size"], 0);
    // The next checkpoint signed is the genesis batch's.
    assert_eq!(h["nextSince"], 2);
    let (status, _) = log.get_json("/api/v1/checkpoints?limit=5000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn keys_registry_lists_history() {
    let log = TestLog::memory().await;
    let vendor = participant(2);
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.submit(&revoke(&log.operator, &vendor)).await;
    let (status, list) = log.get_json("/api/v1/keys").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["keys"].as_array().unwrap().len(), 2);
    let (status, k) = log
        .get_json(&format!("/api/v1/keys/{}", vendor.id.to_uppercase()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(k["registeredAt"], one_per_batch(1));
    assert_eq!(k["revokedAt"], one_per_batch(2));
    assert_eq!(k["events"][1]["action"], "revoke");
    let (status, _) = log
        .get_json(&format!("/api/v1/keys/{}", participant(9).id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = log.get_json("/api/v1/keys/nothex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The registry comes a page at a time, by registration: `nextAfter` leads to the
/// rest, and the pages hold every key once.
#[tokio::test]
async fn the_key_list_is_paged_by_registration() {
    let log = TestLog::memory().await;
    for seed in 2..=6 {
        log.enrol(&participant(seed), &[Role::Vendor]).await;
    }
    let (mut seen, mut after, mut pages) = (Vec::new(), None::<u64>, 0);
    loop {
        let uri = match after {
            None => "/api/v1/keys?limit=2".to_owned(),
            Some(a) => format!("/api/v1/keys?limit=2&after={a}"),
        };
        let (status, page) = log.get_json(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let keys = page["keys"].as_array().unwrap();
        assert!(keys.len() <= 2);
        seen.extend(keys.iter().map(|k| k["registeredAt"].as_u64().unwrap()));
        pages += 1;
        match page["nextAfter"].as_u64() {
            Some(next) => {
                assert_eq!(Some(next), seen.last().copied());
                after = Some(next);
            }
            None => break,
        }
    }
    // The operator and five participants, registered one a batch.
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..6).map(one_per_batch).collect::<Vec<_>>());
    let (status, _) = log.get_json("/api/v1/keys?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tiles_are_served_within_the_tree_only() {
    let log = TestLog::memory().await;
    let (status, headers, data) = log.get("/tile/entries/000.p/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=5"));
    let leaves = glassbox_core::tile::decode_entry_bundle(&data).unwrap();
    assert_eq!(leaves, vec![body(&genesis(&log.operator))]);
    let (status, _, data) = log.get("/tile/0/000.p/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(data, merkle::leaf_hash(&leaves[0]).to_vec());
    // The genesis batch ends with the log's index commitment: the tree's size is 2.
    let (status, _, data) = log.get("/tile/entries/000.p/2").await;
    assert_eq!(status, StatusCode::OK);
    let leaves = glassbox_core::tile::decode_entry_bundle(&data).unwrap();
    assert_eq!(leaves.len(), 2);
    assert!(is_index_commitment(&leaves[1]));
    for missing in [
        "/tile/entries/000.p/3",
        "/tile/0/000",
        "/tile/1/000.p/1",
        "/tile/bogus",
    ] {
        let (status, _, _) = log.get(missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn health_metrics_and_unknown_routes() {
    let log = TestLog::memory().await;
    assert_eq!(log.get("/healthz").await.0, StatusCode::OK);
    let (_, _, _) = log.get("/api/v1/entries/99").await;
    let (status, _, text) = log.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(text).unwrap();
    // The genesis and the index commitment ending its batch.
    assert!(text.contains("glassbox_entries_total 2"), "{text}");
    assert!(text.contains("glassbox_sequencing_latency_seconds_count"));
    assert!(
        text.contains("route=\"/api/v1/entries/{index}\",status=\"404\""),
        "{text}"
    );
    let (status, body) = log.get_json("/no/such/route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
}

/// The number of entries and key events the log holds.
fn log_state(log: &TestLog) -> (u64, usize) {
    let size = log.storage.latest_checkpoint().unwrap().unwrap().size;
    (size, log.storage.key_events().unwrap().len())
}

#[tokio::test]
async fn the_last_operator_revoking_itself_is_409_last_operator_and_logs_nothing() {
    let log = TestLog::memory().await;
    let before = log_state(&log);
    let (status, body) = log.submit(&revoke(&log.operator, &log.operator)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "last_operator");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("register another operator key first"),
        "{body}"
    );
    assert_eq!(log_state(&log), before);
    // The operator keeps its standing: it can still register keys.
    log.enrol(&participant(2), &[Role::Vendor]).await;
}

#[tokio::test]
async fn with_a_second_operator_the_first_can_be_revoked_but_not_then_the_second() {
    let log = TestLog::memory().await;
    let second = participant(7);
    log.enrol(&second, &[Role::Operator]).await;
    let (status, body) = log.submit(&revoke(&second, &log.operator)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = log.submit(&revoke(&second, &second)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "last_operator");
}

#[tokio::test]
async fn a_compromise_revocation_that_voids_every_other_operator_is_409_last_operator() {
    use glassbox_core::statement::{Attestation, KeyEvent};
    let log = TestLog::memory().await;
    // Registered by the genesis operator with no signed time: void once that
    // operator is revoked as compromised.
    let second = participant(7);
    log.enrol(&second, &[Role::Operator]).await;
    let ev =
        KeyEvent::revoke(&log.operator.id, "key leaked", Some("2020-01-01T00:00:00Z")).unwrap();
    let env = Attestation::from(ev).sign(&[&second.key]).unwrap();
    let before = log_state(&log);
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code(&body), "last_operator");
    assert_eq!(log_state(&log), before);
}

#[tokio::test]
async fn a_submitted_index_commitment_is_refused_even_under_the_log_key() {
    use glassbox_core::index::IndexCommitment;
    let log = TestLog::memory().await;
    let before = log_state(&log);
    // A participant forging the log's commitment, or a copy of its key doing so:
    // commitments are the sequencer's own, appended at the end of a batch.
    let log_key = ed25519_dalek::SigningKey::from_bytes(&[200; 32]);
    for key in [&log.operator.key, &log_key] {
        let forged = IndexCommitment {
            origin: ORIGIN.into(),
            size: 2,
            root: [0; 32],
            keys: 0,
        }
        .sign(key)
        .unwrap();
        let (status, body) = log.submit(&forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&body), "invalid_statement", "{body}");
    }
    assert_eq!(log_state(&log), before);
}
