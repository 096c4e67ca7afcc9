//! `/key/<id>`: one participant key — registration, roles, revocation — and
//! every entry it signed, paginated; `/keys`: every participant, or one
//! organisation's.

use super::WebQuery as Query;
use axum::extract::State;
use glassbox_core::api::SearchFilter;
use maud::html;
use serde::Deserialize;

use super::decode::{decode, entries_table, names_of, Decoded};
use super::layout::{entry_link, page};
use super::search::{form_encode, PAGE_LIMIT};
use super::WebPath as P;
use super::{ok, PageResult};
use crate::http::error::AppError;
use crate::http::routes::keys::{views, KeyView};
use crate::http::routes::search::{encode_cursor, read_page, to_query, SearchParams};
use crate::http::state::AppState;
use crate::storage::KeyEventRecord;
use glassbox_core::index::IndexKey;

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
    let query = to_query(&SearchParams {
        filter: SearchFilter {
            signer: Some(id.clone()),
            ..SearchFilter::default()
        },
        cursor: kp.cursor.clone().filter(|c| !c.is_empty()),
        limit: Some(PAGE_LIMIT),
    })?;
    let id2 = id.clone();
    let (events, signed, names) = state
        .read(move |s| {
            let all = s.key_events()?;
            let names = names_of(&all);
            let events: Vec<KeyEventRecord> = all.into_iter().filter(|e| e.key_id == id2).collect();
            if events.is_empty() {
                return Err(AppError::NotFound(format!(
                    "key {id2} is not registered in this log"
                )));
            }
            // One page as the API reads it: at most PAGE_LIMIT entries, 4 MiB.
            Ok((events, read_page(s, query)?, names))
        })
        .await?;
    let (signed, more) = signed;
    let signed: Vec<Decoded> = signed.into_iter().map(decode).collect();
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
            @else { (entries_table("In log order", &signed, &names)) }
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

/// Participants one `/keys` page lists at most.
const PARTICIPANTS_PAGE: usize = 500;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsQuery {
    /// Only the keys registered for this organisation (any case).
    organisation: Option<String>,
    /// Keys registered after this log index (the next-page link).
    after: Option<u64>,
}

/// `/keys`: every participant key — name, organisation, roles, registration and
/// revocation, and how many entries the log's index files under it — optionally
/// one organisation's, by registration.
pub async fn participants(
    State(state): State<AppState>,
    Query(q): Query<ParticipantsQuery>,
) -> PageResult {
    let organisation = q
        .organisation
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned);
    let wanted = organisation.clone();
    let index = state.index.clone();
    let (keys, counts, more) = state
        .read(move |s| {
            let mut keys: Vec<KeyView> = views(s.key_events()?)
                .into_iter()
                .filter(|k| {
                    wanted.as_deref().is_none_or(|o| {
                        k.organisation
                            .as_deref()
                            .is_some_and(|have| have.trim().eq_ignore_ascii_case(o))
                    })
                })
                .filter(|k| q.after.is_none_or(|a| k.registered_at.unwrap_or(0) > a))
                .collect();
            let more = keys.len() > PARTICIPANTS_PAGE;
            keys.truncate(PARTICIPANTS_PAGE);
            let signer_keys: Vec<IndexKey> = keys
                .iter()
                .map(|k| IndexKey::Signer(k.key_id.clone()))
                .collect();
            // A log with no index yet shows no counts.
            let counts = index.counts(s, &signer_keys).map(|(_, c)| c).ok();
            Ok((keys, counts, more))
        })
        .await?;
    let filter_link = |o: &str| format!("/keys?organisation={}", form_encode(o));
    let body = html! {
        h1 { "Participants" @if let Some(o) = &organisation { " of " (o) } }
        p { "Every key the log's operators registered, in order of registration: who holds it, "
            "what it may sign, and when it was registered and revoked. Select an organisation "
            "to see only its keys; a key's page lists what it signed." }
        @if organisation.is_some() { p { a href="/keys" { "All participants" } } }
        @if keys.is_empty() { p { "No key" @if organisation.is_some() { " of this organisation" } " is registered." } }
        @else {
            div.table { table {
                caption { (keys.len()) " key" @if keys.len() != 1 { "s" } @if more { " (first page)" } }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Organisation" } th scope="col" { "Roles" }
                    th scope="col" { "Key" } th scope="col" { "Registered" } th scope="col" { "Revoked" }
                    th scope="col" { "Entries" }
                } }
                tbody { @for (i, k) in keys.iter().enumerate() { tr {
                    td { (k.name.as_deref().unwrap_or("")) }
                    td { @if let Some(o) = &k.organisation { a href=(filter_link(o)) { (o) } } }
                    td { (k.roles.join(", ")) }
                    td { a href={ "/key/" (k.key_id) } { code { (&k.key_id[..12]) } } }
                    td { @if let Some(r) = k.registered_at { "entry " (entry_link(r)) } }
                    td { @if let Some(r) = k.revoked_at { "entry " (entry_link(r)) } @else { "—" } }
                    td { @match counts.as_ref().and_then(|c| c.get(i)) {
                        Some(n) => { a href={ "/search?signer=" (k.key_id) } { (n) } }
                        None => { "—" }
                    } }
                } } }
            } }
            @if more { @if let Some(last) = keys.last().and_then(|k| k.registered_at) {
                nav.pages aria-label="Result pages" {
                    a rel="next" href={ "/keys?after=" (last)
                        @if let Some(o) = &organisation { "&organisation=" (form_encode(o)) } } { "Next page →" }
                }
            } }
        }
        p { a href="/api/v1/keys" { "The registry as JSON" } }
    };
    Ok(ok(page("Participants", body)))
}
