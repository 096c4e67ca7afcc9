//! `/source/<commit or dirHash>`: everything logged about one source tree —
//! the vendor's submissions, every review, every build from it — and
//! `/sources/unreviewed`: submitted sources no reviewer has approved yet.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use glassbox_core::index::IndexKey;
use glassbox_core::statement::Attestation;
use maud::html;

use super::artifact::{reviews_table, submissions_table};
use super::decode::{
    decode, entries_table, key_names, search_all, signer, Decoded, MAX_READ_BYTES,
};
use super::layout::{entry_link, page, source_link};
use super::WebPath as P;
use super::{ok, PageResult};
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::storage::SearchQuery;

const CAP: usize = 1000;
/// How many submissions `/sources/unreviewed` looks at, newest last.
const SCAN: usize = 10_000;

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn source(State(state): State<AppState>, P(id): P<String>) -> PageResult {
    let id = id.to_ascii_lowercase();
    let id = id.strip_prefix("sha256:").unwrap_or(&id).to_string();
    if !is_hex(&id) || !(id.len() == 40 || id.len() == 64) {
        return Err(AppError::BadRequest(format!(
            "{id:?} is not a git commit ID (40 or 64 hex digits) or a dirHash (64 hex digits)"
        ))
        .into());
    }
    let id2 = id.clone();
    let index = state.index.clone();
    let (entries, capped, names, complete) = state
        .read(move |s| {
            // A 64-digit ID may be a dirHash or a SHA-256 git commit: look up both.
            let mut found = BTreeMap::new();
            let mut capped = false;
            let mut queries = vec![SearchQuery {
                commit: Some(id2.clone()),
                ..SearchQuery::default()
            }];
            if id2.len() == 64 {
                queries.push(SearchQuery {
                    dir_hash: Some(id2.clone()),
                    ..SearchQuery::default()
                });
            }
            let mut under_dir_hash = Vec::new();
            for q in queries {
                let by_dir_hash = q.dir_hash.is_some();
                let (rows, c) = search_all(s, q, CAP)?;
                capped |= c;
                if by_dir_hash {
                    under_dir_hash = rows.iter().map(|e| e.index).collect();
                }
                found.extend(rows.into_iter().map(|e| (e.index, e)));
            }
            // Complete only when the index lists exactly the entries found under
            // the dirHash, all of them shown.
            let complete = (!capped && !under_dir_hash.is_empty())
                .then(|| {
                    index
                        .lists_exactly(s, &IndexKey::Source(id2.clone()), &under_dir_hash)
                        .ok()
                        .flatten()
                })
                .flatten()
                .map(|size| (size, under_dir_hash.len()));
            Ok((found, capped, key_names(s)?, complete))
        })
        .await?;
    if entries.is_empty() {
        return Err(
            AppError::NotFound(format!("no entry in this log names the source {id}")).into(),
        );
    }
    let dir_hashes: BTreeSet<String> = entries
        .values()
        .flat_map(|e| e.terms.dir_hashes.iter().cloned())
        .collect();
    let (mut subs, mut reviews, mut builds) = (Vec::new(), Vec::new(), Vec::new());
    for d in entries.into_values().map(decode) {
        match d.record.kind.as_str() {
            "source-submission" => subs.push(d),
            "source-review" => reviews.push(d),
            "build" => builds.push(d),
            _ => {}
        }
    }
    let approvers: BTreeSet<&str> = reviews
        .iter()
        .filter(|d| matches!(&d.attestation, Some(Attestation::SourceReview(r)) if r.predicate.verdict.is_approval()))
        .flat_map(|d| d.record.signers.iter().map(String::as_str))
        .collect();
    let body = html! {
        h1 { "Source " code { (id) } }
        @if id.len() == 40 || !dir_hashes.contains(&id) {
            p { "Entries naming this commit name the dirHash "
                @for (i, d) in dir_hashes.iter().enumerate() { @if i > 0 { ", " } (source_link(d)) }
                ". Verification matches sources on dirHash; a commit ID alone is not trusted." }
        }
        @if capped { p.note { "Not every entry is shown: a page lists at most the first " (CAP)
            " entries, and " (MAX_READ_BYTES >> 20) " MiB of them, of each kind." } }
        p { (approvers.len()) " distinct reviewer key" @if approvers.len() != 1 { "s" } " approved this source; "
            (builds.len()) " build" @if builds.len() != 1 { "s" } " name it." }
        @if let Some((size, listed)) = complete {
            p.complete {
                "Complete as of log size " (size) ": the log's index lists exactly the "
                (listed) " entr" @if listed != 1 { "ies" } @else { "y" } " under this source shown here ("
                a href={ "/api/v1/index?key=source:" (id) } { "proof" }
                "; " code { "glassbox verify" } " checks it)."
            }
        }
        section aria-labelledby="subs-h" {
            h2 id="subs-h" { "Vendor submissions (" (subs.len()) ")" }
            (submissions_table(&subs, &names))
        }
        section aria-labelledby="reviews-h" {
            h2 id="reviews-h" { "Reviews (" (reviews.len()) ")" }
            (reviews_table(&reviews, &names))
        }
        section aria-labelledby="builds-h" {
            h2 id="builds-h" { "Builds from this source (" (builds.len()) ")" }
            @if builds.is_empty() { p { "No build names this source." } }
            @else { (entries_table("Builds", &builds, &names)) }
        }
    };
    Ok(ok(page(&format!("Source {}", &id[..12]), body)))
}

/// One submitted source and whether anyone approved it.
struct Submitted {
    first: Decoded,
    submissions: usize,
    reviews: usize,
}

pub async fn unreviewed(State(state): State<AppState>) -> PageResult {
    let (pending, capped, names) = state
        .read(|s| {
            let (subs, capped) = search_all(
                s,
                SearchQuery {
                    kind: Some("source-submission".into()),
                    ..SearchQuery::default()
                },
                SCAN,
            )?;
            let mut by_dir: BTreeMap<String, Submitted> = BTreeMap::new();
            for e in subs {
                let Some(dir) = e.terms.dir_hashes.first().cloned() else {
                    continue;
                };
                match by_dir.get_mut(&dir) {
                    Some(sub) => sub.submissions += 1,
                    None => {
                        by_dir.insert(
                            dir,
                            Submitted {
                                first: decode(e),
                                submissions: 1,
                                reviews: 0,
                            },
                        );
                    }
                }
            }
            let mut pending = Vec::new();
            for (dir, mut sub) in by_dir {
                let (reviews, _) = search_all(
                    s,
                    SearchQuery {
                        dir_hash: Some(dir.clone()),
                        kind: Some("source-review".into()),
                        ..SearchQuery::default()
                    },
                    CAP,
                )?;
                sub.reviews = reviews.len();
                let approved = reviews.into_iter().map(decode).any(|d| {
                    matches!(&d.attestation, Some(Attestation::SourceReview(r)) if r.predicate.verdict.is_approval())
                });
                if !approved {
                    pending.push((dir, sub));
                }
            }
            pending.sort_by_key(|(_, sub)| std::cmp::Reverse(sub.first.record.index));
            Ok((pending, capped, key_names(s)?))
        })
        .await?;
    let body = html! {
        h1 { "Submitted sources no reviewer has approved" }
        p { "Sources a vendor submitted for review that have no " code { "approved" } " or "
            code { "approved-with-findings" } " review yet (rejections are counted as reviews). "
            "Newest submission first." }
        @if capped { p.note { "Only the first " (SCAN) " submissions in the log were examined." } }
        @if pending.is_empty() {
            p.good { "Every submitted source has at least one approving review." }
        } @else {
            div.table { table {
                caption { (pending.len()) " source" @if pending.len() != 1 { "s" } " awaiting approval" }
                thead { tr {
                    th scope="col" { "dirHash" } th scope="col" { "Product" } th scope="col" { "Version" }
                    th scope="col" { "Repository" } th scope="col" { "First submitted" }
                    th scope="col" { "Vendor" } th scope="col" { "Reviews" }
                } }
                tbody { @for (dir, sub) in &pending { tr {
                    td { (source_link(dir)) }
                    @if let Some(Attestation::SourceSubmission(s)) = &sub.first.attestation {
                        td { (s.predicate.product) } td { (s.predicate.version) } td { (s.predicate.repository) }
                    } @else { td colspan="3" { "(not decodable)" } }
                    td { "entry " (entry_link(sub.first.record.index))
                         @if sub.submissions > 1 { " (+" (sub.submissions - 1) " more)" } }
                    td { @for k in &sub.first.record.signers { (signer(k, &names)) br; } }
                    td { (sub.reviews) @if sub.reviews > 0 { " (none approving)" } }
                } } }
            } }
        }
    };
    Ok(ok(page("Unreviewed sources", body)))
}
