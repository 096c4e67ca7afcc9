//! `/checkpoints`: every signed checkpoint, oldest first, with links to the
//! consistency proofs between consecutive ones and to the newest (RFC 9162
//! §2.1.4) — what a monitor checks to rule out a forked log.

use super::WebQuery as Query;
use axum::extract::State;
use glassbox_core::checkpoint::SignedCheckpoint;
use maud::html;
use serde::Deserialize;

use super::layout::{hex, page, time};
use super::{ok, PageResult};
use crate::http::state::AppState;

const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct Since {
    since: Option<u64>,
}

fn consistency(from: u64, to: u64) -> String {
    format!("/api/v1/proof/consistency?from={from}&to={to}")
}

pub async fn checkpoints(State(state): State<AppState>, Query(q): Query<Since>) -> PageResult {
    let since = q.since.unwrap_or(0);
    let (rows, latest) = state
        .read(move |s| Ok((s.checkpoints(since, PAGE + 1)?, s.latest_checkpoint()?)))
        .await?;
    let next = rows.get(PAGE).map(|c| c.size);
    let latest = latest.map_or(0, |c| c.size);
    let body = html! {
        h1 { "Checkpoints" }
        p { "Every checkpoint this log signed, oldest first. Each one commits to all entries "
            "before it; the consistency proofs show every later tree extends every earlier one. "
            "Also as " a href="/api/v1/checkpoints" { "JSON" } "." }
        div.table { table {
            caption { "Signed checkpoints" @if since > 0 { " from size " (since) } }
            thead { tr {
                th scope="col" { "Size" } th scope="col" { "Signed (UTC)" } th scope="col" { "Root hash" }
                th scope="col" { "Signatures" } th scope="col" { "Consistency" }
            } }
            tbody {
                @for (i, c) in rows.iter().take(PAGE).enumerate() {
                    @let parsed = SignedCheckpoint::parse_unverified(&c.note).ok();
                    @let prev = if i > 0 { Some(rows[i - 1].size) } else { None };
                    tr {
                        td { (c.size) }
                        td { (time(c.created_at_ms)) }
                        td { @if let Some(p) = &parsed { code title=(hex(&p.checkpoint.root)) { (super::layout::short(&hex(&p.checkpoint.root))) } } }
                        td { @if let Some(p) = &parsed {
                            @for s in &p.note.signatures { (s.name) br; }
                        } }
                        td {
                            @if let Some(p) = prev { @if p > 0 {
                                a href=(consistency(p, c.size)) { "from " (p) } br;
                            } }
                            @if c.size > 0 && c.size < latest {
                                a href=(consistency(c.size, latest)) { "to newest (" (latest) ")" }
                            }
                        }
                    }
                }
            }
        } }
        nav.pages aria-label="Checkpoint pages" {
            @if since > 0 { a href="/checkpoints" { "← First page" } }
            @if let Some(n) = next { a rel="next" href={ "/checkpoints?since=" (n) } { "Next page →" } }
        }
    };
    Ok(ok(page("Checkpoints", body)))
}
