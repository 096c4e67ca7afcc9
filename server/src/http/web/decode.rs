//! An entry as pages show it: the stored record plus its envelope and statement
//! decoded again from the leaf bytes (the leaf is the evidence; the search
//! columns are only an index into it).

use glassbox_core::dsse::Envelope;
use glassbox_core::statement::{Attestation, KeyEventPredicate, Scope, SourceDigest, Statement};
use maud::{html, Markup};

use super::layout::{artifact_link, entry_link, key_link, source_link, time};
use crate::storage::EntryRecord;

/// A stored entry with its decoded contents. Decoding cannot fail the page: a
/// leaf the current code cannot read is shown raw.
pub struct Decoded {
    pub record: EntryRecord,
    pub envelope: Option<Envelope>,
    pub statement: Option<Statement>,
    pub attestation: Option<Attestation>,
}

pub fn decode(record: EntryRecord) -> Decoded {
    let envelope = Envelope::from_json(&record.leaf).ok();
    let (statement, attestation) = match envelope.as_ref().map(Attestation::from_envelope) {
        Some(Ok((s, a))) => (Some(s), Some(a)),
        _ => (
            envelope
                .as_ref()
                .and_then(|e| Statement::from_json(&e.payload).ok()),
            None,
        ),
    };
    Decoded {
        record,
        envelope,
        statement,
        attestation,
    }
}

/// `"full"` or the reviewed paths.
pub fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Full => "full".into(),
        Scope::Paths(paths) => paths.join(", "),
    }
}

/// The preferred identifier of a source: its dirHash (docs/design.md §2).
pub fn source_cell(repository: &str, source: &SourceDigest) -> Markup {
    html! {
        span { (repository) } br;
        "dirHash " (source_link(&source.dir_hash))
        @if let Some(c) = &source.git_commit { br; "commit " (source_link(c)) }
    }
}

/// One line describing what the entry says, for result tables.
pub fn summary(d: &Decoded) -> Markup {
    match &d.attestation {
        Some(Attestation::Build(b)) => html! {
            "built "
            @for (i, s) in b.subjects.iter().enumerate() {
                @if i > 0 { ", " }
                (s.name) " " (artifact_link(&s.sha256.hex()))
            }
            @if let Some(src) = b.source() {
                " from " (src.uri) " dirHash " (source_link(&src.digest.dir_hash))
            }
        },
        Some(Attestation::SourceSubmission(s)) => html! {
            "submitted " (s.predicate.product) " " (s.predicate.version) " from "
            (s.predicate.repository) " dirHash " (source_link(&s.source.dir_hash))
        },
        Some(Attestation::SourceReview(r)) => html! {
            (r.predicate.verdict.as_str()) " review of " (r.predicate.repository)
            " dirHash " (source_link(&r.source.dir_hash))
        },
        Some(Attestation::KeyEvent(k)) => match &k.predicate {
            KeyEventPredicate::Register(reg) => html! {
                "registered " (key_link(&k.key_id)) " (" (reg.name) ", " (reg.organisation) ") as "
                (reg.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))
            },
            KeyEventPredicate::Revoke(rev) => html! {
                "revoked " (key_link(&k.key_id)) ": " (rev.reason)
            },
        },
        _ => html! { "(statement not decodable by this server version)" },
    }
}

/// A table of entries: index, time, kind, signers (with who holds each key, from
/// `names`), summary.
pub fn entries_table(
    caption: &str,
    entries: &[Decoded],
    names: &std::collections::HashMap<String, String>,
) -> Markup {
    html! {
        div.table {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Index" }
                    th scope="col" { "Integrated (UTC)" }
                    th scope="col" { "Kind" }
                    th scope="col" { "Signed by" }
                    th scope="col" { "What it says" }
                } }
                tbody {
                    @for d in entries {
                        tr {
                            td { (entry_link(d.record.index)) }
                            td { (time(d.record.integrated_at_ms)) }
                            td { (d.record.kind) }
                            td { @for s in &d.record.signers { (signer(s, names)) br; } }
                            td { (summary(d)) }
                        }
                    }
                }
            }
        }
    }
}

/// The most logged bytes one [`search_all`] holds: a page never reads more,
/// whatever size the entries it lists (up to 1 MiB each).
pub const MAX_READ_BYTES: usize = 8 << 20;

/// Every entry matching `query` (paging through storage), at most `cap` entries
/// and at most [`MAX_READ_BYTES`] of them (always at least one); the flag says
/// whether a bound cut the list short.
pub fn search_all(
    s: &dyn crate::storage::Storage,
    mut query: crate::storage::SearchQuery,
    cap: usize,
) -> Result<(Vec<EntryRecord>, bool), crate::storage::StorageError> {
    const PAGE: usize = 500;
    let (mut out, mut bytes) = (Vec::new(), 0usize);
    loop {
        query.limit = PAGE.min(cap + 1 - out.len());
        let page = s.search(&query)?;
        let full = page.len() == query.limit;
        query.after = page.last().map(|e| e.index).or(query.after);
        for e in page {
            bytes += e.leaf.len();
            if bytes > MAX_READ_BYTES && !out.is_empty() {
                return Ok((out, true));
            }
            out.push(e);
        }
        if out.len() > cap {
            out.truncate(cap);
            return Ok((out, true));
        }
        if !full {
            return Ok((out, false));
        }
    }
}

/// Display names of participant keys ("name, organisation"), from the registry.
pub fn key_names(
    s: &dyn crate::storage::Storage,
) -> Result<std::collections::HashMap<String, String>, crate::storage::StorageError> {
    Ok(names_of(&s.key_events()?))
}

/// [`key_names`] from key events already read.
pub fn names_of(
    events: &[crate::storage::KeyEventRecord],
) -> std::collections::HashMap<String, String> {
    let mut names = std::collections::HashMap::new();
    for ev in events {
        if ev.action == "register" {
            let get = |k: &str| ev.details.get(k).and_then(|v| v.as_str()).unwrap_or("");
            names.insert(
                ev.key_id.clone(),
                format!("{}, {}", get("name"), get("organisation")),
            );
        }
    }
    names
}

/// A signer: the key link and, when registered, who holds it.
pub fn signer(key_id: &str, names: &std::collections::HashMap<String, String>) -> Markup {
    html! {
        (key_link(key_id))
        @if let Some(n) = names.get(key_id) { " (" (n) ")" }
    }
}
