//! `GET /api/v1/export?…&format=jsonl|csv`: every entry matching the search
//! filters, in index order, streamed for regulators and archives.
//!
//! Memory stays constant whatever the log's size: a blocking task reads one
//! page of storage at a time and hands each formatted page to the response
//! through a channel of [`CHANNEL_PAGES`] slots, so at most a few pages exist
//! at once and a slow client slows the reader instead of filling memory.

use std::fmt;
use std::io;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::api::SearchFilter;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::http::error::AppError;
use crate::http::extract::{concat_keys, read_filter_query, read_once, Q};
use crate::http::routes::search::{to_query, SearchParams};
use crate::http::state::AppState;
use crate::log::clock::rfc3339_ms;
use crate::storage::{EntryRecord, SearchQuery, Storage};

/// Entries read from storage per step.
pub const EXPORT_PAGE: usize = 1000;
/// Formatted pages buffered between the reader and the client.
pub const CHANNEL_PAGES: usize = 2;

/// The parameters of `GET /api/v1/export`: the search filter ([`SearchFilter`]) and
/// the format. Any other key, a cursor or limit included, is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportParams {
    pub filter: SearchFilter,
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
}

impl ExportParams {
    /// Every key the query may hold, as its unknown-key error lists them.
    pub const KEYS: &'static [&'static str] = &concat_keys::<9>(&SearchFilter::KEYS, &["format"]);
}

impl<'de> Deserialize<'de> for ExportParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Params;
        impl<'de> Visitor<'de> for Params {
            type Value = ExportParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("export parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ExportParams, A::Error> {
                let mut format = None;
                // "format" is the only key of KEYS that is not the filter's.
                let filter = read_filter_query(map, ExportParams::KEYS, |key, map| {
                    read_once(&mut format, key, map)
                })?;
                Ok(ExportParams { filter, format })
            }
        }
        d.deserialize_map(Params)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

/// One in-toto subject of the entry's statement.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExportSubject {
    pub name: String,
    pub digest: std::collections::BTreeMap<String, String>,
}

/// One exported entry (a JSON Lines row; the CSV has the same columns).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExportRow {
    pub index: u64,
    pub integrated_time: String,
    pub kind: String,
    pub signers: Vec<String>,
    pub subjects: Vec<ExportSubject>,
    /// SHA-256 of built artifacts (lowercase hex).
    pub artifacts: Vec<String>,
    /// Source repositories, commits and dirHashes the entry names.
    pub repositories: Vec<String>,
    pub commits: Vec<String>,
    pub dir_hashes: Vec<String>,
    /// RFC 9162 leaf hash, lowercase hex.
    pub leaf_hash: String,
}

/// The statement's subjects, read with the least parsing that gets them: the
/// leaf was fully validated when it was admitted, and an export touches every
/// entry of the log.
fn subjects_of(leaf: &[u8]) -> Option<Vec<ExportSubject>> {
    #[derive(Deserialize)]
    struct Env {
        payload: String,
    }
    #[derive(Deserialize)]
    struct Stmt {
        subject: Vec<ExportSubject>,
    }
    let env: Env = serde_json::from_slice(leaf).ok()?;
    let payload = STANDARD.decode(env.payload).ok()?;
    serde_json::from_slice::<Stmt>(&payload)
        .ok()
        .map(|s| s.subject)
}

/// CSV column names, in order.
pub const CSV_HEADER: [&str; 10] = [
    "index",
    "integratedTime",
    "kind",
    "signers",
    "subjects",
    "artifacts",
    "repositories",
    "commits",
    "dirHashes",
    "leafHash",
];

impl ExportRow {
    pub fn from_record(e: EntryRecord) -> ExportRow {
        let subjects = subjects_of(&e.leaf).unwrap_or_default();
        ExportRow {
            index: e.index,
            integrated_time: rfc3339_ms(e.integrated_at_ms),
            kind: e.kind,
            signers: e.signers,
            subjects,
            artifacts: e.terms.artifacts,
            repositories: e.terms.repositories,
            commits: e.terms.commits,
            dir_hashes: e.terms.dir_hashes,
            leaf_hash: hex::encode(e.leaf_hash),
        }
    }

    fn write_jsonl(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut *out, self)?;
        out.push(b'\n');
        Ok(())
    }

    /// Multi-valued cells hold one value per line (a quoted CSV field may span
    /// lines, RFC 4180 §2.6); a subject is `name (alg:hex alg:hex)`.
    fn write_csv(&self, out: &mut Vec<u8>) {
        let subjects: Vec<String> = self
            .subjects
            .iter()
            .map(|s| {
                let d: Vec<String> = s.digest.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{} ({})", s.name, d.join(" "))
            })
            .collect();
        let cells = [
            self.index.to_string(),
            self.integrated_time.clone(),
            self.kind.clone(),
            self.signers.join("\n"),
            subjects.join("\n"),
            self.artifacts.join("\n"),
            self.repositories.join("\n"),
            self.commits.join("\n"),
            self.dir_hashes.join("\n"),
            self.leaf_hash.clone(),
        ];
        write_csv_record(out, cells.iter().map(String::as_str));
    }
}

/// One CSV record (RFC 4180, CRLF line end), cells made safe for spreadsheets
/// ([`glassbox_core::csv`]).
pub fn write_csv_record<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    out.extend_from_slice(glassbox_core::csv::record(cells, "\r\n").as_bytes());
}

fn format_of(p: &ExportParams) -> Result<Format, AppError> {
    match p.format.as_deref() {
        None | Some("jsonl") => Ok(Format::Jsonl),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(AppError::BadRequest(format!(
            "format: {other:?} is not jsonl or csv"
        ))),
    }
}

/// Read every matching entry below the tree size at the start, page by page,
/// sending each formatted page; stops early when the client goes away.
fn produce(
    storage: &dyn Storage,
    mut query: SearchQuery,
    format: Format,
    tx: &mpsc::Sender<Result<Bytes, io::Error>>,
) -> Result<(), String> {
    // One consistent snapshot: entries appended while exporting are left out,
    // so the export matches the checkpoint current when it began.
    let size = storage
        .latest_checkpoint()
        .map_err(|e| e.to_string())?
        .map_or(0, |c| c.size);
    query.before = Some(size);
    query.limit = EXPORT_PAGE;
    if format == Format::Csv {
        let mut head = Vec::new();
        write_csv_record(&mut head, CSV_HEADER);
        if tx.blocking_send(Ok(head.into())).is_err() {
            return Ok(());
        }
    }
    loop {
        let page = storage.search(&query).map_err(|e| e.to_string())?;
        let last = page.last().map(|e| e.index);
        let full = page.len() == EXPORT_PAGE;
        let mut chunk = Vec::with_capacity(page.len() * 512);
        for e in page {
            let row = ExportRow::from_record(e);
            match format {
                Format::Jsonl => row.write_jsonl(&mut chunk).map_err(|e| e.to_string())?,
                Format::Csv => row.write_csv(&mut chunk),
            }
        }
        if !chunk.is_empty() && tx.blocking_send(Ok(chunk.into())).is_err() {
            return Ok(()); // the client hung up
        }
        match last {
            Some(i) if full => query.after = Some(i),
            _ => return Ok(()),
        }
    }
}

pub async fn export(
    State(state): State<AppState>,
    Q(p): Q<ExportParams>,
) -> Result<Response, AppError> {
    let format = format_of(&p)?;
    let query = to_query(&SearchParams {
        filter: p.filter,
        cursor: None,
        limit: Some(EXPORT_PAGE),
    })?;
    let (tx, rx) = mpsc::channel(CHANNEL_PAGES);
    let storage = state.storage.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(detail) = produce(storage.as_ref(), query, format, &tx) {
            tracing::error!(%detail, "export failed mid-stream");
            // Abort the body: the client sees a truncated transfer, never a
            // silently short file.
            let _ = tx.blocking_send(Err(io::Error::other("export failed")));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let (content_type, ext) = match format {
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"glassbox-export.{ext}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
