//! `/key/<id>`: one participant key — registration, roles, revocation — and
//! every entry it signed, paginated.

use super::WebQuery as Query;
use axum::extract::State;
use glassbox_core::api::SearchFilter;
use maud::html;
use serde::Deserialize;

use super::decode::{decode, entries_table, Decoded};
use super::layout::{entry_link, page};
use super::search::{form_encode, PAGE_LIMIT};
use super::WebPath as P;
use super::{ok, PageResult};
use crate::http::error::AppError;
use crate::http::routes::search::{encode_cursor, to_query, SearchParams};
use crate::http::state::AppState;
use crate::storage::KeyEventRecord;

#[derive(Deserialize, Default)]
pub struct KeyPage {
    cursor: Option<String>,
}

fn text<'a>(ev: &'a KeyEventRecord, k: &str) -> &'a str {
    ev.details.get(k).and_then(|v| v.as_str()).unwrap_or("")
}

pub async fn key(
    State(state): State<AppState>,
    P(id): P<String>,
    Query(kp): Query<KeyPage>,
) -> PageResult {
    let id = id.to_ascii_lowercase();
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest(format!("{id:?} is not a key ID (64 hex digits)")).into());
    }
    let mut query = to_query(&SearchParams {
        filter: SearchFilter {
            signer: Some(id.clone()),
            ..SearchFilter::default()
        },
        cursor: kp.cursor.clone().filter(|c| !c.is_empty()),
        limit: Some(PAGE_LIMIT),
    })?;
    query.limit = PAGE_LIMIT + 1;
    let id2 = id.clone();
    let (events, signed) = state
        .read(move |s| {
            let events: Vec<KeyEventRecord> = s
                .key_events()?
                .into_iter()
                .filter(|e| e.key_id == id2)
                .collect();
            if events.is_empty() {
                return Err(AppError::NotFound(format!(
                    "key {id2} is not registered in this log"
                )));
            }
            Ok((events, s.search(&query)?))
        })
        .await?;
    let more = signed.len() > PAGE_LIMIT;
    let signed: Vec<Decoded> = signed.into_iter().take(PAGE_LIMIT).map(decode).collect();
    let reg = events.iter().find(|e| e.action == "register");
    let rev = events.iter().find(|e| e.action == "revoke");
    let roles: Vec<String> = reg
        .and_then(|r| r.details.get("roles"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        h1 { "Key " code { (id) } }
        section aria-labelledby="reg-h" {
            h2 id="reg-h" { "Registration" }
            @if let Some(r) = reg {
                dl {
                    dt { "Holder" } dd { (text(r, "name")) }
                    dt { "Organisation" } dd { (text(r, "organisation")) }
                    dt { "Roles" } dd { (roles.join(", ")) }
                    dt { "Public key" } dd { code { (text(r, "publicKey")) } }
                    dt { "Registered by entry" } dd { (entry_link(r.index)) }
                }
            } @else {
                p { "No registration is logged for this key." }
            }
        }
        section aria-labelledby="rev-h" {
            h2 id="rev-h" { "Revocation" }
            @if let Some(r) = rev {
                div.bad {
                    p { "Revoked by entry " (entry_link(r.index)) ": " (text(r, "reason")) }
                    p { "Entries this key signed after index " (r.index) " are not valid." }
                    @if !text(r, "compromisedSince").is_empty() {
                        p { "Compromised since " (text(r, "compromisedSince"))
                            ": its earlier entries that claim a time at or after that are not valid either." }
                    }
                }
            } @else {
                p { "Not revoked." }
            }
        }
        section aria-labelledby="signed-h" {
            h2 id="signed-h" { "Entries signed by this key" }
            @if signed.is_empty() { p { "None" @if kp.cursor.is_some() { " on this page" } "." } }
            @else { (entries_table("In log order", &signed)) }
            nav.pages aria-label="Result pages" {
                @if kp.cursor.is_some() { a href={ "/key/" (id) } { "← First page" } }
                @if more { @if let Some(last) = signed.last() {
                    a rel="next" href={ "/key/" (id) "?cursor=" (form_encode(&encode_cursor(last.record.index))) } { "Next page →" }
                } }
            }
            p { a href={ "/api/v1/keys/" (id) } { "This key as JSON" } }
        }
    };
    Ok(ok(page(&format!("Key {}", &id[..12]), body)))
}
