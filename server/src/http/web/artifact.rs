//! `/artifact/sha256:<hex>`: the evidence chain for one binary as a customer
//! reads it — who built it, from which source, whether the builders name the
//! same source, who reviewed that source — and the command that checks it all
//! independently. No verdict: that is the verifier's job under the reader's
//! own trust policy (docs/design.md §6).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::{header, HeaderMap};
use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::IndexKey;
use glassbox_core::statement::build::ArtifactSubject;
use glassbox_core::statement::Attestation;
use maud::{html, Markup};

use super::decode::{decode, key_names, scope_text, search_all, signer, Decoded, MAX_READ_BYTES};
use super::layout::{artifact_link, entry_link, page, short, source_link, time};
use super::WebPath as P;
use super::{ok, PageResult};
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::storage::SearchQuery;

const CAP: usize = 1000;

struct Evidence {
    builds: Vec<Decoded>,
    /// dirHash → (submissions, reviews) of that source.
    sources: BTreeMap<String, (Vec<Decoded>, Vec<Decoded>)>,
    names: HashMap<String, String>,
    vkey: String,
    /// The log size as of which the log's index proves `builds` is every build
    /// naming the artifact; `None` when it does not (or the log has no index yet).
    complete: Option<u64>,
    /// Whether `builds` is cut short by the page's bounds.
    capped: bool,
}

/// The URL readers reach this server at, from the request's Host header.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    let local =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https")
        .unwrap_or(if local { "http" } else { "https" });
    format!("{scheme}://{host}")
}

/// `name` as one POSIX shell word: unchanged when it is plainly safe,
/// single-quoted otherwise (names come from attestations, not from us).
pub fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-+=:@".contains(&b));
    if plain {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

pub async fn artifact(
    State(state): State<AppState>,
    headers: HeaderMap,
    P(digest): P<String>,
) -> PageResult {
    let digest: Sha256Digest = digest
        .parse()
        .map_err(|e| AppError::BadRequest(format!("{digest:?} is not an artifact digest: {e}")))?;
    let hex = digest.hex();
    let hex2 = hex.clone();
    let index = state.index.clone();
    let ev = state
        .read(move |s| {
            let (builds, capped) = search_all(
                s,
                SearchQuery {
                    artifact: Some(hex2.clone()),
                    kind: Some("build".into()),
                    ..SearchQuery::default()
                },
                CAP,
            )?;
            if builds.is_empty() {
                return Err(AppError::NotFound(format!(
                    "no build in this log names the artifact sha256:{hex2}"
                )));
            }
            let builds: Vec<Decoded> = builds.into_iter().map(decode).collect();
            let mut sources = BTreeMap::new();
            for b in &builds {
                if let Some(Attestation::Build(build)) = &b.attestation {
                    if let Some(src) = build.source() {
                        let dir = src.digest.dir_hash.to_ascii_lowercase();
                        if sources.contains_key(&dir) {
                            continue;
                        }
                        let of = |kind: &str| {
                            search_all(
                                s,
                                SearchQuery {
                                    dir_hash: Some(dir.clone()),
                                    kind: Some(kind.into()),
                                    ..SearchQuery::default()
                                },
                                CAP,
                            )
                            .map(|(v, _)| v.into_iter().map(decode).collect::<Vec<_>>())
                        };
                        let subs = of("source-submission")?;
                        let reviews = of("source-review")?;
                        sources.insert(dir, (subs, reviews));
                    }
                }
            }
            let shown: Vec<u64> = builds.iter().map(|b| b.record.index).collect();
            let complete = index
                .lists_exactly(s, &IndexKey::Artifact(hex2.clone()), &shown)
                .ok()
                .flatten();
            Ok(Evidence {
                builds,
                sources,
                names: key_names(s)?,
                vkey: s.identity()?.map(|i| i.vkey).unwrap_or_default(),
                complete,
                capped,
            })
        })
        .await?;

    let file = ev
        .builds
        .iter()
        .find_map(|b| match &b.attestation {
            Some(Attestation::Build(build)) => build
                .subjects
                .iter()
                .find(|s| s.sha256.hex() == hex)
                .map(|s| s.name.rsplit('/').next().unwrap_or(&s.name).to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "FILE".into());
    let base = base_url(&headers);
    let signers: std::collections::BTreeSet<&str> = ev
        .builds
        .iter()
        .flat_map(|b| b.record.signers.iter().map(String::as_str))
        .collect();
    let body = html! {
        h1 { "Artifact " code { "sha256:" (hex) } }
        p.note {
            "This page lists what the log holds about this artifact. It is not a verdict: "
            "run the command below with your own trust policy to decide whether to trust it."
        }
        section aria-labelledby="builds-h" {
            h2 id="builds-h" { "Builds (" (ev.builds.len()) ")" }
            (builds_table(&ev.builds, &ev.names))
            @if ev.capped {
                p.note { "Not every build is shown: a page lists at most the first " (CAP)
                    ", and " (MAX_READ_BYTES >> 20) " MiB of them." }
            }
            @if let Some(size) = ev.complete {
                p.complete {
                    "Complete as of log size " (size) ": the log's index lists exactly the "
                    (ev.builds.len()) " build" @if ev.builds.len() != 1 { "s" }
                    " of the artifact shown (" a href={ "/api/v1/index?key=artifact:" (hex) } { "proof" }
                    "; " code { "glassbox verify" } " checks it)."
                }
            }
            @if ev.sources.len() == 1 {
                p.good {
                    "All " (ev.builds.len()) " build attestations, signed by "
                    (signers.len()) " distinct key" @if signers.len() != 1 { "s" }
                    ", name the same source: dirHash "
                    @for d in ev.sources.keys() { (source_link(d)) } "."
                }
            } @else {
                p.bad {
                    "The builders disagree: the build attestations name " (ev.sources.len())
                    " different sources (or none). Compare them below."
                }
            }
        }
        @for (subjects, entries) in releases(&ev.builds) {
            section aria-label="Release" {
                h2 { "Release: " (subjects.len()) " files built together" }
                p { "Build" @if entries.len() != 1 { "s" } " "
                    @for (i, index) in entries.iter().enumerate() { @if i > 0 { ", " } (entry_link(*index)) }
                    " attest these files as the output of one build; each has a page of its own." }
                (release_table(subjects, &hex))
            }
        }
        @for (dir, (subs, reviews)) in &ev.sources {
            section aria-label={ "Source " (dir) } {
                h2 { "Source dirHash " code { (dir) } }
                p { a href={ "/source/" (dir) } { "Everything about this source" } }
                (submissions_table(subs, &ev.names))
                (reviews_table(reviews, &ev.names))
            }
        }
        section aria-labelledby="verify-h" {
            h2 id="verify-h" { "Check it yourself" }
            p { "With the file at hand and a trust policy naming this log's key "
                "(and the reviewers and builders you trust):" }
            pre { code {
                "glassbox verify " (shell_word(&file)) " --policy policy.toml --server " (shell_word(&base))
            } }
            p { "Or offline, from a bundle of the same evidence:" }
            pre { code {
                "glassbox bundle --artifact sha256:" (hex) " --server " (shell_word(&base)) " -o artifact.bundle.json\n"
                "glassbox verify " (shell_word(&file)) " --policy policy.toml --bundle artifact.bundle.json"
            } }
            p { "A minimal " code { "policy.toml" } ":" }
            pre { code {
                "[log]\nvkey = \"" (ev.vkey) "\"\n[witnesses]\nvkeys = []\nquorum = 0\n"
                "[reviewers]\nkeys = [\"*\"]\nmin = 1          # one approval by an organisation other than the vendor's\n"
                "[builders]\nkeys = [\"*\"]\nmin = 2          # two organisations attest the same bytes from one source\n"
                "independent = 1  # at least one of them is not the vendor\n"
            } }
            p { a href={ "/api/v1/bundle?artifact=sha256:" (hex) } { "Download the bundle (JSON)" } }
        }
    };
    Ok(ok(page(&format!("Artifact sha256:{}", &hex[..12]), body)))
}

/// Most files of a release listed on an artifact page.
const RELEASE_ROWS: usize = 500;

/// The releases the builds describe: each distinct list of two or more subjects,
/// with the builds attesting it, in the order first seen.
fn releases(builds: &[Decoded]) -> Vec<(&[ArtifactSubject], Vec<u64>)> {
    let mut out: Vec<(&[ArtifactSubject], Vec<u64>)> = Vec::new();
    for b in builds {
        let Some(Attestation::Build(build)) = &b.attestation else {
            continue;
        };
        if build.subjects.len() < 2 {
            continue;
        }
        match out
            .iter_mut()
            .find(|(s, _)| *s == build.subjects.as_slice())
        {
            Some((_, entries)) => entries.push(b.record.index),
            None => out.push((&build.subjects, vec![b.record.index])),
        }
    }
    out
}

/// The files of one release, this page's artifact marked.
fn release_table(subjects: &[ArtifactSubject], artifact_hex: &str) -> Markup {
    html! {
        div.table { table {
            caption { "Files of the release, as the build names them" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "SHA-256" } } }
            tbody { @for s in subjects.iter().take(RELEASE_ROWS) { tr {
                td { code { (s.name) } @if s.sha256.hex() == artifact_hex { " (this artifact)" } }
                td { (artifact_link(&s.sha256.hex())) }
            } } }
        } }
        @if subjects.len() > RELEASE_ROWS {
            p.note { "The first " (RELEASE_ROWS) " of " (subjects.len())
                " files are shown; the build's entry lists them all." }
        }
    }
}

pub fn builds_table(builds: &[Decoded], names: &HashMap<String, String>) -> Markup {
    html! {
        div.table { table {
            caption { "Build attestations" }
            thead { tr {
                th scope="col" { "Index" } th scope="col" { "Signed by" } th scope="col" { "Builder" }
                th scope="col" { "Source" } th scope="col" { "Recipe" } th scope="col" { "Integrated (UTC)" }
            } }
            tbody { @for b in builds { tr {
                td { (entry_link(b.record.index)) }
                td { @for s in &b.record.signers { (signer(s, names)) br; } }
                @if let Some(Attestation::Build(build)) = &b.attestation {
                    td { (build.builder_id())
                        @if build.subjects.len() > 1 {
                            br; "one of " (build.subjects.len()) " files (see Release)"
                        }
                    }
                    td { @if let Some(src) = build.source() { (super::decode::source_cell(&src.uri, &src.digest)) } @else { "none named" } }
                    td { code { (build.recipe().command) } br; "output " code { (build.recipe().output_path) } }
                } @else {
                    td colspan="3" { "(not decodable)" }
                }
                td { (time(b.record.integrated_at_ms)) }
            } } }
        } }
    }
}

pub fn submissions_table(subs: &[Decoded], names: &HashMap<String, String>) -> Markup {
    html! {
        @if subs.is_empty() {
            p { "No vendor submitted this source." }
        } @else {
            div.table { table {
                caption { "Vendor submissions" }
                thead { tr {
                    th scope="col" { "Index" } th scope="col" { "Product" } th scope="col" { "Version" }
                    th scope="col" { "Submitted" } th scope="col" { "Repository" } th scope="col" { "Vendor key" }
                } }
                tbody { @for d in subs { tr {
                    td { (entry_link(d.record.index)) }
                    @if let Some(Attestation::SourceSubmission(s)) = &d.attestation {
                        td { (s.predicate.product) } td { (s.predicate.version) }
                        td { (s.predicate.submitted_at) } td { (s.predicate.repository) }
                    } @else { td colspan="4" { "(not decodable)" } }
                    td { @for s in &d.record.signers { (signer(s, names)) br; } }
                } } }
            } }
        }
    }
}

pub fn reviews_table(reviews: &[Decoded], names: &HashMap<String, String>) -> Markup {
    html! {
        @if reviews.is_empty() {
            p.bad { "No reviewer has reviewed this source." }
        } @else {
            div.table { table {
                caption { "Reviews" }
                thead { tr {
                    th scope="col" { "Index" } th scope="col" { "Verdict" } th scope="col" { "Scope" }
                    th scope="col" { "Reviewer" } th scope="col" { "Reviewed" } th scope="col" { "Findings" }
                    th scope="col" { "Report (sha256)" }
                } }
                tbody { @for d in reviews { tr {
                    td { (entry_link(d.record.index)) }
                    @if let Some(Attestation::SourceReview(r)) = &d.attestation {
                        td { strong { (r.predicate.verdict.as_str()) } }
                        td { (scope_text(&r.predicate.scope)) }
                        td { @for s in &d.record.signers { (signer(s, names)) br; } }
                        td { (r.predicate.reviewed_at) }
                        td { (r.predicate.findings.as_deref().unwrap_or("")) }
                        td { @match &r.predicate.report_digest {
                            Some(d) => { code title=(d.sha256) { (short(&d.sha256)) } }
                            None => { "none named" }
                        } }
                    } @else { td colspan="6" { "(not decodable)" } }
                } } }
            } }
        }
    }
}
