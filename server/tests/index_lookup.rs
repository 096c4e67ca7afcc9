//! `GET /api/v1/index?key=`: a key's complete list of log entries, proven against
//! the index commitment that ends the newest checkpoint — checked the way a
//! verifier would, from the log key alone, after the log grew and after a
//! restart over SQLite (where the sequencer reloads the stored index and checks
//! it against its last commitment).

mod support;

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use ed25519_dalek::SigningKey;
use glassbox_core::api::IndexAnswer;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::index::{IndexCommitment, IndexKey};
use glassbox_core::statement::Role;
use glassbox_server::storage::sqlite::SqliteStorage;
use glassbox_server::storage::Storage;
use support::*;

const REPO: &str = "https://git.example/app";

/// The key the test logs sign with (see `support`).
fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[200; 32])
}

/// Look `key` up and verify the answer as a client would: the checkpoint is
/// signed by the log, the commitment is its last entry, signed by the log key and
/// included in it, and the list is exactly the one the commitment's root holds.
/// Returns the list and the checkpoint's size.
async fn lookup(log: &TestLog, key: &IndexKey) -> (Vec<u64>, u64) {
    let (status, body) = log.get_json(&format!("/api/v1/index?key={key}")).await;
    assert_eq!(status, StatusCode::OK, "{key}: {body}");
    let mut answer: IndexAnswer = serde_json::from_value(body.clone()).unwrap();
    // A list longer than one answer: chain its pages after the first.
    let size = answer.commitment.index + 1;
    while let Some(after) = answer.next_after.take() {
        let (status, page) = log
            .get_json(&format!(
                "/api/v1/index/list?key={key}&size={size}&after={after}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{key}: {page}");
        let page: glassbox_core::api::IndexPage = serde_json::from_value(page).unwrap();
        assert_eq!(
            (page.key.as_str(), page.size),
            (key.to_string().as_str(), size)
        );
        answer.lookup.indices.extend(page.indices);
        answer.next_after = page.next_after;
    }
    let checkpoint = SignedCheckpoint::open(answer.checkpoint.as_bytes(), &log.vkey)
        .unwrap()
        .checkpoint;
    assert_eq!(verify_receipt(&body["commitment"], &log.vkey), checkpoint);
    assert_eq!(
        answer.commitment.index + 1,
        checkpoint.size,
        "not the last entry"
    );
    let envelope =
        Envelope::from_json(&glassbox_core::jcs::canonicalize(&answer.commitment.entry).unwrap())
            .unwrap();
    let commitment = IndexCommitment::open(&envelope, &log_key().verifying_key()).unwrap();
    assert_eq!(
        commitment.size, answer.commitment.index,
        "covers what precedes it"
    );
    assert_eq!(answer.lookup.key, key.to_string());
    answer
        .lookup
        .proof
        .verify_list(&commitment.root, &key.hash(), &answer.lookup.indices)
        .unwrap();
    (answer.lookup.indices, checkpoint.size)
}

/// A vendor's submission and a builder's builds of `a.bin` from it, one entry a
/// batch: returns the vendor and the builder. Entry `k` is at `one_per_batch(k)`:
/// 0 genesis, 1–2 registrations, 3 submission, 4 build of a.bin, 5 build of b.bin.
async fn seed(log: &TestLog) -> (Participant, Participant) {
    let (vendor, builder) = (participant(2), participant(4));
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.enrol(&builder, &[Role::Builder]).await;
    for env in [
        submission(&vendor, REPO, 1, "1.0"),
        build(&builder, "a.bin", REPO, 1),
        build(&builder, "b.bin", REPO, 1),
    ] {
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    (vendor, builder)
}

fn at(ks: &[u64]) -> Vec<u64> {
    ks.iter().map(|&k| one_per_batch(k)).collect()
}

#[tokio::test]
async fn a_lookup_lists_every_entry_under_its_key_and_proves_the_list_complete() {
    let log = TestLog::memory().await;
    let (vendor, builder) = seed(&log).await;
    let signer = |p: &Participant| IndexKey::Signer(p.id.clone());

    let (registry, size) = lookup(&log, &IndexKey::Registry).await;
    assert_eq!(registry, at(&[0, 1, 2]));
    assert_eq!(size, one_per_batch(6), "as of the newest checkpoint");
    // A key's own registration is filed under it, with what it signed.
    assert_eq!(lookup(&log, &signer(&vendor)).await.0, at(&[1, 3]));
    assert_eq!(lookup(&log, &signer(&builder)).await.0, at(&[2, 4, 5]));
    // The operator signed the genesis and both registrations; the genesis is
    // also the event about its own key.
    assert_eq!(lookup(&log, &signer(&log.operator)).await.0, at(&[0, 1, 2]));
    assert_eq!(
        lookup(&log, &IndexKey::Artifact(artifact("a.bin").hex()))
            .await
            .0,
        at(&[4])
    );
    assert_eq!(
        lookup(&log, &IndexKey::Source(dir_hash(1))).await.0,
        at(&[3, 4, 5])
    );
    // A key nothing is filed under: an empty list, proven absent.
    assert!(lookup(&log, &IndexKey::Artifact(artifact("none").hex()))
        .await
        .0
        .is_empty());

    // A failed commit leaves the index as it was, in storage and in the
    // sequencer, which files the retry's entry once.
    log.memory.as_ref().unwrap().fail_next_appends(1);
    let (status, body) = log.submit(&build(&builder, "a.bin", REPO, 2)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (list, size) = lookup(&log, &IndexKey::Artifact(artifact("a.bin").hex())).await;
    assert_eq!((list, size), (at(&[4]), one_per_batch(6)));

    // The log grows: the answer moves to the new commitment.
    let (status, body) = log.submit(&build(&builder, "a.bin", REPO, 2)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (list, size) = lookup(&log, &IndexKey::Artifact(artifact("a.bin").hex())).await;
    assert_eq!(list, at(&[4, 6]));
    assert_eq!(size, one_per_batch(7));

    for bad in [
        "nonsense",
        "signer:XYZ",
        &format!("source:{}", dir_hash(1).to_uppercase()),
    ] {
        let (status, body) = log.get_json(&format!("/api/v1/index?key={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

/// The sequencer files each batch in the trie the readers share while the batch
/// before it commits; a lookup answers as of the newest committed checkpoint, from
/// the trie as it stood there. Builds go in many at a time while lookups run:
/// every answer verifies against its own commitment (a list read from storage
/// that the trie's version does not prove is refused by the server), no answer
/// goes back in time, and the last one lists every build.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookups_while_batches_are_filed_ahead_answer_as_of_a_committed_checkpoint() {
    use futures_util::StreamExt as _;
    let log = TestLog::memory().await;
    let (_, builder) = seed(&log).await;
    let key = IndexKey::Artifact(artifact("a.bin").hex());
    let (log, builder) = (&log, &builder);
    let mut submitted = futures_util::stream::iter(2..200u32)
        .map(|n| {
            let env = build(builder, "a.bin", REPO, n);
            async move { log.submit(&env).await }
        })
        .buffer_unordered(16);
    let mut lookups = 0;
    let mut last = (0, 0);
    let mut created = vec![one_per_batch(4)];
    loop {
        tokio::select! {
            done = submitted.next() => match done {
                Some((status, body)) => {
                    assert_eq!(status, StatusCode::CREATED, "{body}");
                    created.push(body["index"].as_u64().unwrap());
                }
                None => break,
            },
            (list, size) = lookup(log, &key) => {
                lookups += 1;
                assert!(size >= last.0, "went back from size {} to {size}", last.0);
                assert!(list.len() >= last.1);
                assert!(list.windows(2).all(|w| w[0] < w[1]));
                last = (size, list.len());
            }
        }
    }
    created.sort_unstable();
    let (list, _) = lookup(log, &key).await;
    assert_eq!(list, created, "every build, once");
    assert!(lookups > 0);
}

fn sqlite(path: &Path) -> Arc<dyn Storage> {
    Arc::new(SqliteStorage::open(path, 2).unwrap())
}

#[tokio::test]
async fn after_a_restart_the_stored_index_is_reloaded_and_extended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glassbox.db");
    let builder = {
        let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
        seed(&log).await.1
    };
    let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
    let key = IndexKey::Signer(builder.id.clone());
    assert_eq!(lookup(&log, &key).await.0, at(&[2, 4, 5]));
    let (status, body) = log.submit(&build(&builder, "c.bin", REPO, 1)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(lookup(&log, &key).await.0, at(&[2, 4, 5, 6]));
    assert_eq!(
        lookup(&log, &IndexKey::Source(dir_hash(1))).await.0,
        at(&[3, 4, 5, 6])
    );
}

/// A stored index that is not the one the log committed to — one byte of a key's
/// chain head changed, or a batch's record cut short — is never extended or served
/// after a restart: submissions are refused with 503 and lookups are not answered,
/// while the log's other reads go on.
#[tokio::test]
async fn a_stored_index_changed_or_cut_is_neither_extended_nor_served() {
    let changed = |record: &mut Vec<u8>| record[40] ^= 1;
    let cut = |record: &mut Vec<u8>| {
        record.pop();
    };
    for (what, tamper) in [
        ("a changed chain head", &changed as &dyn Fn(&mut Vec<u8>)),
        ("a cut record", &cut),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("glassbox.db");
        let builder = {
            let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
            seed(&log).await.1
        };
        // The newest batch's record: its first leaf's head starts at byte 40.
        let conn = rusqlite::Connection::open(&path).unwrap();
        let (size, mut record): (i64, Vec<u8>) = conn
            .query_row(
                "SELECT size, leaves FROM index_batches ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        tamper(&mut record);
        conn.execute(
            "UPDATE index_batches SET leaves = ?1 WHERE size = ?2",
            rusqlite::params![record, size],
        )
        .unwrap();
        drop(conn);
        let log = TestLog::with(Options::default(), Some(sqlite(&path))).await;
        let (status, body) = log.submit(&build(&builder, "c.bin", REPO, 1)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        let key = IndexKey::Signer(builder.id.clone());
        let (status, body) = log.get_json(&format!("/api/v1/index?key={key}")).await;
        assert!(
            status.is_server_error(),
            "{what}: a lookup answered {status}: {body}"
        );
        let (status, _, note) = log.get("/checkpoint").await;
        assert_eq!(status, StatusCode::OK, "{what}: {note:?}");
    }
}

#[tokio::test]
async fn an_empty_log_has_no_index_to_answer_from() {
    let log = TestLog::with(
        Options {
            stalled: true,
            ..Options::default()
        },
        None,
    )
    .await;
    let (status, body) = log.get_json("/api/v1/index?key=registry").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// A key with more entries than one answer lists is answered a page at a time: the
/// first answer carries the proof and the first entries, `/api/v1/index/list` the
/// rest, and only the chained whole verifies against the proof. A bundle, which
/// is not paged, is refused with `422 answer_too_large` past the same cap.
#[tokio::test]
async fn a_list_past_one_answer_is_paged_and_the_pages_chain_into_the_proven_value() {
    let log = TestLog::with(
        Options {
            max_listed: 2,
            ..Options::default()
        },
        None,
    )
    .await;
    let (vendor, builder) = seed(&log).await;
    // The vendor's submission and the builder's two builds under the source: a
    // first answer of two and a page of one.
    let source = IndexKey::Source(dir_hash(1));
    let (status, first) = log.get_json(&format!("/api/v1/index?key={source}")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["lookup"]["indices"].as_array().unwrap().len(), 2);
    assert!(first["nextAfter"].is_u64(), "{first}");
    assert_eq!(lookup(&log, &source).await.0, at(&[3, 4, 5]));
    let signer = IndexKey::Signer(vendor.id.clone());
    assert_eq!(lookup(&log, &signer).await.0, at(&[1, 3]));
    let (status, body) = log
        .get_json(&format!("/api/v1/bundle?artifact={}", artifact("a.bin")))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "answer_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("one answer lists at most 2"),
        "{body}"
    );
    // A page past the log's checkpoints is refused.
    let (status, body) = log
        .get_json(&format!(
            "/api/v1/index/list?key={source}&size=9999&after=0"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Two entries fit one answer, with nothing after; three do not.
    let (status, body) = log.get_json(&format!("/api/v1/index?key={signer}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("nextAfter").is_none(), "{body}");
    let builder = IndexKey::Signer(builder.id.clone());
    assert_eq!(lookup(&log, &builder).await.0, at(&[2, 4, 5]));
}

/// An artifact whose evidence passes the bundle's byte cap is refused with
/// `422 answer_too_large` instead of a response of any size; a smaller artifact's
/// bundle is still served.
#[tokio::test]
async fn a_bundle_past_its_byte_cap_is_refused_and_smaller_ones_are_served() {
    use glassbox_server::http::routes::bundle::MAX_BUNDLE_ENTRY_BYTES;
    let log = TestLog::memory().await;
    let builder = participant(3);
    log.enrol(&builder, &[Role::Builder]).await;
    // Builds of one artifact, each with 40 more subjects of 15 KiB names: logged
    // entries of about 800 KiB.
    let large = "large.bin";
    let (mut logged, mut n) = (0, 0);
    while logged <= MAX_BUNDLE_ENTRY_BYTES {
        let env = wide_build(&builder, large, n);
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        logged += body_len(&env);
        n += 1;
    }
    let (status, body) = log
        .get_json(&format!("/api/v1/bundle?artifact={}", artifact(large)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "answer_too_large");
    let (status, body) = log.submit(&build(&builder, "small.bin", REPO, n)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = log
        .get_json(&format!(
            "/api/v1/bundle?artifact={}",
            artifact("small.bin")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The bytes an envelope is logged as.
fn body_len(env: &Envelope) -> usize {
    body(env).len()
}

/// A build of `name` from source `n` that also names 40 other subjects of 15 KiB
/// names each (every string within the log's per-field limit).
fn wide_build(builder: &Participant, name: &str, n: u32) -> Envelope {
    use glassbox_core::statement::{
        ArtifactSubject, Attestation, Build, BuildRecipe, ProvenancePredicate,
    };
    let mut subjects = vec![ArtifactSubject {
        name: name.into(),
        sha256: artifact(name),
    }];
    subjects.extend((0..40).map(|i| {
        let other = format!("{n}-{i}-{}", "x".repeat(15 * 1024));
        ArtifactSubject {
            sha256: artifact(&other),
            name: other,
        }
    }));
    let predicate = ProvenancePredicate::new(
        BuildRecipe::new("make", name),
        REPO,
        source(n),
        &format!("https://builder.example/{}", &builder.id[..16]),
    );
    Attestation::from(Build::new(subjects, predicate).unwrap())
        .sign(&[&builder.key])
        .unwrap()
}

/// The artifact and source pages say "Complete as of log size N" when the log's
/// index proves the entries they show are every entry under their key.
#[tokio::test]
async fn the_web_pages_say_complete_only_when_the_index_proves_it() {
    let log = TestLog::memory().await;
    seed(&log).await;
    let page = |uri: String| {
        let log = &log;
        async move {
            let (status, _, body) = log.get(&uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            String::from_utf8(body).unwrap()
        }
    };
    let artifact = page(format!("/artifact/{}", artifact("a.bin"))).await;
    assert!(
        artifact.contains("Complete as of log size 12: the log's index lists exactly the 1 build of the artifact shown"),
        "{artifact}"
    );
    let source = page(format!("/source/{}", dir_hash(1))).await;
    assert!(
        source.contains("Complete as of log size 12: the log's index lists exactly the 3 entries under this source shown here"),
        "{source}"
    );
    // By commit, the page shows what names the commit, not what the index
    // files under a source: no claim.
    let by_commit = page(format!("/source/{}", commit(1))).await;
    assert!(!by_commit.contains("Complete as of"), "{by_commit}");
}

/// `/keys` lists every participant with its organisation, roles, registration and
/// how many entries the index files under it; `?organisation=` keeps one
/// organisation's keys (any case).
#[tokio::test]
async fn the_participants_page_lists_keys_and_filters_by_organisation() {
    let log = TestLog::memory().await;
    let (vendor, builder) = seed(&log).await;
    let other = participant(7);
    let ev = glassbox_core::statement::KeyEvent::register(
        &other.key.verifying_key(),
        "Ada",
        "Other Org",
        vec![Role::Reviewer],
    )
    .unwrap();
    let env = glassbox_core::statement::Attestation::from(ev)
        .sign(&[&log.operator.key])
        .unwrap();
    let (status, body) = log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let get = |uri: &'static str| {
        let log = &log;
        async move {
            let (status, _, body) = log.get(uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            String::from_utf8(body).unwrap()
        }
    };
    let all = get("/keys").await;
    for id in [&vendor.id, &builder.id, &other.id] {
        assert!(all.contains(&format!("/key/{id}")), "{all}");
    }
    // The builder: its registration and two builds.
    assert!(
        all.contains(&format!(r#"<a href="/search?signer={}">3</a>"#, builder.id)),
        "{all}"
    );
    let one = get("/keys?organisation=other%20org").await;
    assert!(one.contains(&format!("/key/{}", other.id)), "{one}");
    assert!(!one.contains(&format!("/key/{}", vendor.id)), "{one}");
    assert!(one.contains("Participants of other org"), "{one}");
}
