//! Every web page against a seeded log through the router (no socket): the
//! right evidence, 404/400 pages for unknown or malformed digests, keys and
//! indexes, and user-controlled strings rendered inert.

mod support;

use axum::http::StatusCode;
use glassbox_core::statement::build::{ArtifactSubject, Build, BuildRecipe, ProvenancePredicate};
use glassbox_core::statement::{
    Attestation, ReportDigest, ReviewPredicate, ReviewRequest, Role, Scope, SourceReview,
    SourceSubmission, SubmissionPredicate, Verdict,
};
use support::*;

const EVIL_REPO: &str = "https://git.example/<script>alert(1)</script>";
const EVIL_PRODUCT: &str = "<img src=x onerror=alert(2)>";
const GOOD_REPO: &str = "https://git.example/good";

fn evil_submission(vendor: &Participant, n: u32) -> glassbox_core::dsse::Envelope {
    let s = SourceSubmission::new(
        source(n),
        SubmissionPredicate {
            repository: EVIL_REPO.into(),
            product: EVIL_PRODUCT.into(),
            version: "1.0\"><b>".into(),
            review_request: ReviewRequest {
                scope: Scope::Full,
                notes: None,
            },
            submitted_at: "2026-01-01T00:00:00Z".into(),
        },
    )
    .unwrap();
    Attestation::from(s).sign(&[&vendor.key]).unwrap()
}

struct Seeded {
    log: TestLog,
    vendor: Participant,
    reviewer: Participant,
    builder: Participant,
}

/// The number of entries [`seeded`] sends, one at a time.
const SENT: u64 = 11;

/// The log's size after [`seeded`]: each entry sent is a batch of its own, ended
/// by the log's index commitment.
const SIZE: u64 = one_per_batch(SENT);

/// A link to the page of the `k`-th entry [`seeded`] sent (at an even index; the
/// index commitments ending the batches are at the odd ones).
fn link(k: u64) -> String {
    format!("href=\"/entry/{}\"", one_per_batch(k))
}

/// Entries sent, by `k`: 0 genesis, 1–3 registrations, 4 evil submission of
/// source 1, 5 review of source 1, 6–7 builds of app.bin from source 1 (vendor,
/// builder), 8 submission of source 2 (never reviewed), 9–10 builds of split.bin
/// from sources 2 and 3. Entry `k` is at index `one_per_batch(k)`.
async fn seeded() -> Seeded {
    let log = TestLog::memory().await;
    let (vendor, reviewer, builder) = (participant(2), participant(3), participant(4));
    log.enrol(&vendor, &[Role::Vendor]).await;
    log.enrol(&reviewer, &[Role::Reviewer]).await;
    log.enrol(&builder, &[Role::Builder]).await;
    for env in [
        evil_submission(&vendor, 1),
        review(&reviewer, EVIL_REPO, 1),
        build(&vendor, "app.bin", EVIL_REPO, 1),
        build(&builder, "app.bin", EVIL_REPO, 1),
        submission(&vendor, GOOD_REPO, 2, "2.0"),
        build(&vendor, "split.bin", GOOD_REPO, 2),
        build(&builder, "split.bin", GOOD_REPO, 3),
    ] {
        let (status, body) = log.submit(&env).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    Seeded {
        log,
        vendor,
        reviewer,
        builder,
    }
}

async fn page(log: &TestLog, uri: &str, want: StatusCode) -> String {
    let (status, headers, body) = log.get(uri).await;
    let text = String::from_utf8(body).unwrap();
    assert_eq!(status, want, "{uri}: {text}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{uri}");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"),
        "{uri}"
    );
    assert_inert(uri, &text);
    text
}

/// No attacker-supplied markup survives unescaped.
fn assert_inert(uri: &str, html: &str) {
    for raw in ["<script", "<img", "\"><b>"] {
        assert!(!html.contains(raw), "{uri} contains raw {raw:?}");
    }
}

#[tokio::test]
async fn home_shows_identity_size_witness_note_chart_and_latest_entries() {
    let s = seeded().await;
    // The real server records its identity when it creates the data directory.
    s.log
        .storage
        .set_identity(&glassbox_server::storage::LogIdentity {
            origin: ORIGIN.into(),
            vkey: s.log.vkey.to_string(),
        })
        .unwrap();
    let html = page(&s.log, "/", StatusCode::OK).await;
    assert!(html.contains(ORIGIN));
    assert!(html.contains(&s.log.vkey.to_string()));
    assert!(html.contains(&format!("{SIZE} entries")));
    assert!(html.contains("No witnesses are configured"));
    assert!(html.contains("<svg"));
    assert!(html.contains(&format!("{SIZE} entries from 2025-12-03 to 2026-01-01")));
    // The newest 20 entries, index commitments included: from the commitment
    // ending the last batch back to the first registration.
    let entry = |index: u64| format!("href=\"/entry/{index}\"");
    assert!(html.contains(&entry(SIZE - 1)));
    assert!(html.contains(&link(10)));
    assert!(html.contains(&link(1)) && html.contains(&entry(SIZE - 20)));
    assert!(!html.contains(&entry(SIZE - 21)), "more than the newest 20");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn artifact_page_lays_out_builds_sources_reviews_and_the_verify_command() {
    let s = seeded().await;
    let digest = artifact("app.bin");
    let html = page(&s.log, &format!("/artifact/{digest}"), StatusCode::OK).await;
    assert!(html.contains("Builds (2)"));
    assert!(html.contains("name the same source"));
    assert!(html.contains(&dir_hash(1)));
    assert!(html.contains(&link(6)) && html.contains(&link(7)));
    assert!(html.contains(&link(5)), "the review's index");
    assert!(html.contains(&link(4)), "the submission's index");
    assert!(html.contains("approved"));
    assert!(html.contains(&s.reviewer.id));
    assert!(html.contains(&s.builder.id));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("glassbox verify app.bin --policy policy.toml --server http://localhost"));
    assert!(html.contains(&format!("glassbox bundle --artifact {digest}")));
    assert!(!html.contains("Verified"), "the page claims no verdict");
    // Any spelling of the digest finds the same page.
    let bare = digest.hex().to_uppercase();
    page(&s.log, &format!("/artifact/{bare}"), StatusCode::OK).await;
}

/// A build of three files by the vendor and the same release by the builder.
fn release_build(builder: &Participant) -> glassbox_core::dsse::Envelope {
    let subjects = ["bin/app", "lib/libapp.so", "share/app.1"]
        .map(|name| ArtifactSubject {
            name: name.into(),
            sha256: artifact(name),
        })
        .to_vec();
    let predicate = ProvenancePredicate::new(
        BuildRecipe::new("make install", "dist"),
        GOOD_REPO,
        source(2),
        &format!("https://builder.example/{}", &builder.id[..16]),
    );
    let b = Build::new(subjects, predicate).unwrap();
    Attestation::from(b).sign(&[&builder.key]).unwrap()
}

#[tokio::test]
async fn artifact_page_shows_the_release_an_artifact_belongs_to() {
    let s = seeded().await;
    for who in [&s.vendor, &s.builder] {
        let (status, body) = s.log.submit(&release_build(who)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let html = page(
        &s.log,
        &format!("/artifact/{}", artifact("lib/libapp.so")),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        html.matches("Release: 3 files built together").count(),
        1,
        "two builds of one release are one release: {html}"
    );
    for name in ["bin/app", "share/app.1"] {
        assert!(
            html.contains(&format!(
                "href=\"/artifact/sha256:{}\"",
                artifact(name).hex()
            )),
            "{name} is not linked: {html}"
        );
    }
    assert!(
        html.contains("lib/libapp.so</code> (this artifact)"),
        "{html}"
    );
    assert!(html.contains(&link(SENT)) && html.contains(&link(SENT + 1)));

    // A single-file build belongs to no release.
    let html = page(
        &s.log,
        &format!("/artifact/{}", artifact("app.bin")),
        StatusCode::OK,
    )
    .await;
    assert!(!html.contains("Release:"), "{html}");
}

#[tokio::test]
async fn artifact_page_says_when_builders_name_different_sources() {
    let s = seeded().await;
    let html = page(
        &s.log,
        &format!("/artifact/{}", artifact("split.bin")),
        StatusCode::OK,
    )
    .await;
    assert!(html.contains("The builders disagree"));
    assert!(html.contains(&dir_hash(2)) && html.contains(&dir_hash(3)));
    assert!(html.contains("No reviewer has reviewed this source."));
}

#[tokio::test]
async fn source_page_by_dirhash_and_by_commit_lists_submissions_reviews_builds() {
    let s = seeded().await;
    for id in [dir_hash(1), commit(1)] {
        let html = page(&s.log, &format!("/source/{id}"), StatusCode::OK).await;
        assert!(html.contains("Vendor submissions (1)"), "{id}");
        assert!(html.contains("Reviews (1)"));
        assert!(html.contains("Builds from this source (2)"));
        assert!(html.contains("1.0&quot;&gt;&lt;b&gt;"), "version escaped");
        assert!(html.contains("2026-01-02T00:00:00Z"), "review date");
        assert!(html.contains("full"), "review scope");
        assert!(html.contains(&s.vendor.id));
    }
}

#[tokio::test]
async fn entry_tables_name_who_signed_and_reviews_show_their_report_digest() {
    let s = seeded().await;
    let source_1 = format!("/source/{}", dir_hash(1));
    let key = format!("/key/{}", s.builder.id);
    for uri in ["/", "/search?kind=build", source_1.as_str(), key.as_str()] {
        let html = page(&s.log, uri, StatusCode::OK).await;
        assert!(
            html.contains("(someone, some org)"),
            "{uri} names no signer: {html}"
        );
    }
    let html = page(&s.log, &source_1, StatusCode::OK).await;
    assert!(html.contains("Report (sha256)") && html.contains("none named"));

    let report = glassbox_core::digest::Sha256Digest::of(b"the full audit report").hex();
    let review = SourceReview::new(
        source(3),
        ReviewPredicate {
            repository: GOOD_REPO.into(),
            scope: Scope::Full,
            verdict: Verdict::ApprovedWithFindings,
            findings: Some("two low-severity issues".into()),
            report_digest: Some(ReportDigest {
                sha256: report.clone(),
            }),
            reviewed_at: "2026-01-03T00:00:00Z".into(),
        },
    )
    .unwrap();
    let env = Attestation::from(review).sign(&[&s.reviewer.key]).unwrap();
    let (status, body) = s.log.submit(&env).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let html = page(&s.log, &format!("/source/{}", dir_hash(3)), StatusCode::OK).await;
    assert!(
        html.contains(&format!("title=\"{report}\"")),
        "the report digest is not on the source page: {html}"
    );
}

#[tokio::test]
async fn unreviewed_sources_lists_only_sources_without_an_approval() {
    let s = seeded().await;
    let html = page(&s.log, "/sources/unreviewed", StatusCode::OK).await;
    assert!(html.contains(&dir_hash(2)));
    assert!(!html.contains(&dir_hash(1)), "source 1 was approved");
    assert!(html.contains("1 source awaiting approval"), "{html}");
}

#[tokio::test]
async fn key_page_shows_registration_roles_revocation_and_signed_entries() {
    let s = seeded().await;
    let html = page(&s.log, &format!("/key/{}", s.builder.id), StatusCode::OK).await;
    assert!(html.contains("builder"));
    assert!(html.contains("Not revoked."));
    assert!(html.contains(&link(3)), "registration entry");
    assert!(html.contains(&link(7)) && html.contains(&link(10)));

    let (status, body) = s.log.submit(&revoke(&s.log.operator, &s.builder)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let upper = s.builder.id.to_uppercase();
    let html = page(&s.log, &format!("/key/{upper}"), StatusCode::OK).await;
    assert!(html.contains("Revoked by entry"));
    assert!(html.contains("left the project"));
}

#[tokio::test]
async fn entry_page_shows_statement_envelope_and_inclusion_proof() {
    let s = seeded().await;
    let index = one_per_batch(4);
    let html = page(&s.log, &format!("/entry/{index}"), StatusCode::OK).await;
    assert!(html.contains("source-submission"));
    assert!(html.contains("https://glassbox.dev/source-submission/v1"));
    assert!(html.contains("payloadType"));
    assert!(html.contains("Tree size"));
    assert!(html.contains(&format!("href=\"/entry/{index}/tlog-proof\"")));
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn an_index_commitment_has_an_entry_page_like_any_other_entry() {
    let s = seeded().await;
    // The commitment ending the evil submission's batch.
    let index = one_per_batch(4) + 1;
    let html = page(&s.log, &format!("/entry/{index}"), StatusCode::OK).await;
    assert!(html.contains("https://glassbox.dev/index-commitment/v1"));
    assert!(html.contains("Tree size"));
    assert!(html.contains(&format!("href=\"/entry/{index}/tlog-proof\"")));
}

#[tokio::test]
async fn tlog_proof_download_verifies_offline() {
    let s = seeded().await;
    let index = one_per_batch(6);
    let (status, headers, body) = s.log.get(&format!("/entry/{index}/tlog-proof")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("glassbox-entry-{index}.tlog-proof")));
    let (_, receipt) = s.log.get_json(&format!("/api/v1/entries/{index}")).await;
    let receipt = serde_json::json!({
        "index": index, "entry": receipt["entry"], "tlogProof": String::from_utf8(body).unwrap()
    });
    let cp = verify_receipt(&receipt, &s.log.vkey);
    assert_eq!(cp.size, SIZE);
}

#[tokio::test]
async fn checkpoints_page_links_consistency_proofs_that_work() {
    let s = seeded().await;
    let html = page(&s.log, "/checkpoints", StatusCode::OK).await;
    assert!(html.contains(ORIGIN));
    let link = html
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|h| h.starts_with("/api/v1/proof/consistency?from="))
        .expect("a consistency link")
        .replace("&amp;", "&");
    let (status, proof) = s.log.get_json(&link).await;
    assert_eq!(status, StatusCode::OK, "{link}: {proof}");
}

#[tokio::test]
async fn search_form_filters_and_paginates_with_cursor_links() {
    let s = seeded().await;
    let html = page(&s.log, "/search?kind=build&limit=2", StatusCode::OK).await;
    assert!(html.contains("<form"));
    for field in [
        "artifact",
        "repository",
        "commit",
        "dirhash",
        "signer",
        "kind",
        "since",
        "until",
    ] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(html.contains(&link(6)) && html.contains(&link(7)));
    assert!(!html.contains(&link(9)));
    let next = html
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|h| h.contains("cursor="))
        .expect("next-page link")
        .replace("&amp;", "&");
    let html = page(&s.log, &next, StatusCode::OK).await;
    assert!(html.contains(&link(9)) && html.contains(&link(10)));
    assert!(!html.contains(&link(6)));
    assert!(!html.contains("Next page"), "last page");

    // Blank fields are no filter; a bare date is a whole day.
    let html = page(
        &s.log,
        "/search?artifact=&repository=&commit=&dirhash=&signer=&kind=&since=2026-01-01&until=2026-01-01",
        StatusCode::OK,
    )
    .await;
    assert!(html.contains(&link(0)) && html.contains(&link(10)));
    let html = page(&s.log, "/search?since=2026-01-02", StatusCode::OK).await;
    assert!(html.contains("No entries match."));

    let repo = EVIL_REPO
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('/', "%2F");
    let html = page(
        &s.log,
        &format!("/search?repository={repo}"),
        StatusCode::OK,
    )
    .await;
    assert!(html.contains(&link(4)) && html.contains(&link(7)));
    assert!(!html.contains(&link(8)));
}

#[tokio::test]
async fn search_form_reports_a_malformed_filter_as_400_with_the_form() {
    let s = seeded().await;
    let html = page(
        &s.log,
        "/search?artifact=%3Cscript%3Ex",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(html.contains("artifact"));
    assert!(html.contains("<form"));
}

#[tokio::test]
async fn unknown_digests_keys_and_indexes_are_404_pages() {
    let s = seeded().await;
    let unknown = "ab".repeat(32);
    for uri in [
        format!("/artifact/sha256:{unknown}"),
        format!("/key/{unknown}"),
        format!("/source/{unknown}"),
        format!("/entry/{SIZE}"),
        format!("/entry/{SIZE}/tlog-proof"),
    ] {
        let html = page(&s.log, &uri, StatusCode::NOT_FOUND).await;
        assert!(html.contains("Not found"), "{uri}");
    }
    for uri in [
        "/artifact/sha256:nothex".to_string(),
        "/key/xyz".to_string(),
        "/source/%3Cscript%3E".to_string(),
        "/entry/-1".to_string(),
    ] {
        page(&s.log, &uri, StatusCode::BAD_REQUEST).await;
    }
}

/// A malformed path says what is wrong in the reader's words, and an unknown page
/// is an HTML page to a browser while API clients keep the JSON error.
#[tokio::test]
async fn malformed_and_unknown_pages_are_explained_in_html() {
    let log = TestLog::memory().await;
    let html = page(&log, "/entry/abc", StatusCode::BAD_REQUEST).await;
    assert!(
        html.contains("&quot;abc&quot; is not a whole number (0 or more)"),
        "{html}"
    );
    let browser = axum::http::Request::get("/no/such/page")
        .header("accept", "text/html,application/xhtml+xml")
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, body) = log.request(browser).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("there is no page at /no/such/page"), "{text}");
    let (status, body) = log.get_json("/no/such/page").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, body) = log.get_json("/api/v1/nope").await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}
