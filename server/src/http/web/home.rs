//! `/`: what this log is (origin, verifier key), how big, how fresh, who
//! cosigns it, how busy it has been, and its newest entries.

use axum::extract::State;
use glassbox_core::checkpoint::SignedCheckpoint;
use maud::html;

use super::chart;
use super::decode::{decode, entries_table, key_names, Decoded};
use super::layout::{age, hex, page, time};
use super::{ok, PageResult};
use crate::http::state::AppState;
use crate::storage::{CheckpointRecord, DayCount, LogIdentity, SearchQuery, DAY_MS};

const LATEST: u64 = 20;
const CHART_DAYS: i64 = 30;

struct Home {
    identity: Option<LogIdentity>,
    checkpoint: Option<CheckpointRecord>,
    days: Vec<DayCount>,
    last_day: i64,
    latest: Vec<Decoded>,
    /// Who holds each registered key.
    names: std::collections::HashMap<String, String>,
}

pub async fn home(State(state): State<AppState>) -> PageResult {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let h = state
        .read(move |s| {
            let identity = s.identity()?;
            let checkpoint = s.latest_checkpoint()?;
            let size = checkpoint.as_ref().map_or(0, |c| c.size);
            // The chart ends on the day of the newest checkpoint, so an idle log
            // still shows its last month of activity.
            let last_day = checkpoint
                .as_ref()
                .map_or(now_ms, |c| c.created_at_ms)
                .div_euclid(DAY_MS);
            let days = s.entries_per_day((last_day - CHART_DAYS + 1) * DAY_MS)?;
            let latest = s.search(&SearchQuery {
                after: size.checked_sub(LATEST + 1),
                before: Some(size),
                limit: LATEST as usize,
                ..SearchQuery::default()
            })?;
            Ok(Home {
                identity,
                checkpoint,
                days,
                last_day,
                latest: latest.into_iter().rev().map(decode).collect(),
                names: key_names(s)?,
            })
        })
        .await?;
    let signed = h
        .checkpoint
        .as_ref()
        .and_then(|c| SignedCheckpoint::parse_unverified(&c.note).ok());
    let origin = h
        .identity
        .as_ref()
        .map(|i| i.origin.as_str())
        .or(signed.as_ref().map(|s| s.checkpoint.origin.as_str()));
    let cosignatures: Vec<_> = signed
        .as_ref()
        .map(|s| {
            s.note
                .signatures
                .iter()
                .filter(|sig| Some(sig.name.as_str()) != origin)
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        h1 { "Glassbox transparency log" }
        p {
            "An append-only, publicly verifiable record of source submissions, reviews, "
            "builds and key registrations. Anyone can check that an artifact was built "
            "from reviewed source without trusting this server."
        }
        section aria-labelledby="log-h" {
            h2 id="log-h" { "This log" }
            dl {
                dt { "Origin" }
                dd.mono { (origin.unwrap_or("(not yet initialised)")) }
                dt { "Verifier key" }
                dd { code { (h.identity.as_ref().map_or("", |i| i.vkey.as_str())) } }
                @if let Some(cp) = &h.checkpoint {
                    dt { "Size" }
                    dd { (cp.size) " entries" }
                    dt { "Newest checkpoint" }
                    dd {
                        "signed " (time(cp.created_at_ms)) " ("
                        (age(chrono::Utc::now().timestamp_millis() - cp.created_at_ms)) " ago)"
                        @if let Some(s) = &signed { br; "root " code { (hex(&s.checkpoint.root)) } }
                        br; a href="/checkpoint" { "signed note" } " · " a href="/checkpoints" { "history" }
                    }
                } @else {
                    dt { "Size" } dd { "no checkpoint yet" }
                }
            }
            p {
                "To verify an artifact, put the verifier key above in the "
                code { "[log]" } " section of your trust policy and run "
                code { "glassbox verify FILE --policy policy.toml --server URL" } "."
            }
        }
        section aria-labelledby="wit-h" {
            h2 id="wit-h" { "Witnesses" }
            @if cosignatures.is_empty() {
                p.note {
                    "No witnesses are configured for this log yet: its checkpoints carry only the "
                    "log's own signature. Until independent witnesses cosign them, detect a split "
                    "view by comparing checkpoints with other clients ("
                    code { "glassbox monitor" } ", the verifier's state directory)."
                }
            } @else {
                div.table { table {
                    caption { "Cosignatures on the newest checkpoint" }
                    thead { tr { th scope="col" { "Witness" } th scope="col" { "Key ID" } } }
                    tbody { @for sig in &cosignatures {
                        tr { td { (sig.name) } td.mono { (format!("{:08x}", sig.key_id)) } }
                    } }
                } }
            }
        }
        section aria-labelledby="act-h" {
            h2 id="act-h" { "Activity" }
            (chart::entries_per_day(&h.days, h.last_day, CHART_DAYS))
        }
        section aria-labelledby="latest-h" {
            h2 id="latest-h" { "Latest entries" }
            @if h.latest.is_empty() { p { "The log is empty." } }
            @else { (entries_table("Newest first", &h.latest, &h.names)) }
            p { a href="/search" { "Search all entries" } " · "
                a href="/api/v1/export?format=csv" { "export everything as CSV" } " · "
                a href="/api/v1/export?format=jsonl" { "as JSON Lines" } }
        }
    };
    Ok(ok(page("Home", body)))
}
