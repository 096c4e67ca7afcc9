//! `/search`: one GET form over every filter of the search API, results in
//! index order, paginated with the API's cursor (links, no script).

use axum::extract::State;
use glassbox_core::api::SearchFilter;
use maud::{html, Markup};
use serde::Deserialize;

use super::decode::{decode, entries_table, key_names, Decoded};
use super::layout::page;
use super::{respond, PageResult, WebQuery};
use crate::http::routes::search::{encode_cursor, query_for, read_page, SearchParams};
use crate::http::state::AppState;
use crate::log::admission::facts::KINDS;

/// Results per page unless `limit` says otherwise.
pub const PAGE_LIMIT: usize = 25;

/// The form's fields: the API's filter ([`SearchFilter`]) and the page. Browsers
/// submit empty inputs as empty strings; they mean "no filter". Other keys are
/// ignored, as a page should not fail over a parameter it does not use.
#[derive(Deserialize, Default, Clone)]
pub struct SearchForm {
    // serde reads a flattened struct from buffered text, which suits the filter
    // because every field of it is a string; `limit`, a number, stays out here.
    #[serde(flatten)]
    pub filter: SearchFilter,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().and_then(nonblank)
}

fn nonblank(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

impl SearchForm {
    /// The same filters as API parameters (blank fields dropped; the API reads dates).
    pub fn params(&self) -> SearchParams {
        let f = &self.filter;
        SearchParams {
            filter: SearchFilter {
                artifact: given(&f.artifact),
                commit: given(&f.commit),
                dirhash: given(&f.dirhash),
                repository: given(&f.repository),
                signer: given(&f.signer),
                organisation: given(&f.organisation),
                kind: given(&f.kind),
                since: given(&f.since),
                until: given(&f.until),
            },
            cursor: given(&self.cursor),
            limit: Some(self.limit.unwrap_or(PAGE_LIMIT)),
        }
    }

    /// The non-empty filters as `name=value` pairs, for links to other pages.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = self
            .filter
            .query_pairs()
            .into_iter()
            .filter_map(|(name, v)| nonblank(v).map(|v| (name, v)))
            .collect();
        if let Some(l) = self.limit {
            out.push(("limit", l.to_string()));
        }
        out
    }
}

/// The filters of `p` as API query parameters (no cursor, no limit), for links
/// to the JSON API and the export.
pub fn api_pairs(p: &SearchParams) -> Vec<(&'static str, String)> {
    p.filter
        .query_pairs()
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?name=value&…` with every value encoded.
pub fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

fn text_field(name: &str, label: &str, value: &Option<String>, hint: &str) -> Markup {
    let id = format!("f-{name}");
    html! {
        label for=(id) {
            (label)
            input type="text" id=(id) name=(name) value=(value.as_deref().unwrap_or(""))
                placeholder=(hint) autocomplete="off" spellcheck="false";
        }
    }
}

fn form(f: &SearchForm) -> Markup {
    let kind = given(&f.filter.kind).unwrap_or_default();
    html! {
        form.search method="get" action="/search" role="search" aria-label="Search the log" {
            (text_field("artifact", "Artifact digest", &f.filter.artifact, "sha256:…"))
            (text_field("repository", "Repository URL", &f.filter.repository, "https://…"))
            (text_field("commit", "Git commit", &f.filter.commit, "40 or 64 hex digits"))
            (text_field("dirhash", "Source dirHash", &f.filter.dirhash, "64 hex digits"))
            (text_field("signer", "Signer key ID", &f.filter.signer, "64 hex digits"))
            (text_field("organisation", "Organisation (exactly as registered)", &f.filter.organisation, "as on /keys"))
            label for="f-kind" {
                "Kind"
                select id="f-kind" name="kind" {
                    option value="" selected[kind.is_empty()] { "any" }
                    @for k in KINDS { option value=(k) selected[kind == k] { (k) } }
                }
            }
            (text_field("since", "Integrated since", &f.filter.since, "2026-01-01 or RFC 3339"))
            (text_field("until", "Integrated until", &f.filter.until, "2026-12-31 or RFC 3339"))
            button type="submit" { "Search" }
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    WebQuery(f): WebQuery<SearchForm>,
) -> PageResult {
    let query = match query_for(&state, &f.params()).await {
        Ok(q) => q,
        Err(e) => {
            // Show the form again with the problem, so the reader can fix it.
            let body = html! {
                h1 { "Search" }
                p.bad role="alert" { (e.to_string()) }
                (form(&f))
            };
            return Ok(respond(e.status(), page("Search", body)));
        }
    };
    // One page as the API reads it: at most `limit` entries and 4 MiB of them.
    let q = query.clone();
    let ((rows, more), names) = state
        .read(move |s| Ok((read_page(s, q)?, key_names(s)?)))
        .await?;
    let hits: Vec<Decoded> = rows.into_iter().map(decode).collect();
    let next = if more {
        hits.last().map(|d| {
            let mut pairs = f.pairs();
            pairs.push(("cursor", encode_cursor(d.record.index)));
            href("/search", &pairs)
        })
    } else {
        None
    };
    let export = api_pairs(&f.params());
    let body = html! {
        h1 { "Search" }
        (form(&f))
        section aria-labelledby="results-h" {
            h2 id="results-h" { "Results" }
            @if hits.is_empty() {
                p { "No entries match." }
            } @else {
                (entries_table(&format!(
                    "{} entries{}, in log order",
                    hits.len(),
                    if f.cursor.is_some() { " (continued)" } else { "" }
                ), &hits, &names))
            }
            nav.pages aria-label="Result pages" {
                @if f.cursor.is_some() { a href=(href("/search", &f.pairs())) { "← First page" } }
                @if let Some(n) = &next { a href=(n) rel="next" { "Next page →" } }
            }
            p {
                "Export every match: "
                a href=(href("/api/v1/export", &[export.clone(), vec![("format", "csv".into())]].concat())) { "CSV" }
                " · "
                a href=(href("/api/v1/export", &[export.clone(), vec![("format", "jsonl".into())]].concat())) { "JSON Lines" }
                " · "
                a href=(href("/api/v1/entries", &export)) { "JSON API" }
            }
        }
    };
    Ok(super::ok(page("Search", body)))
}
