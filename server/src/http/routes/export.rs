//! `GET /api/v1/export?…&format=jsonl|csv`: every entry matching the search
//! filters, in index order, streamed for regulators and archives.
//!
//! Memory stays constant whatever the log's size, and a slow client costs the
//! log nothing but its connection: the response reads one page of storage at a
//! time, on the blocking pool, only when the client has taken the previous one.
//! Between pages it holds no thread and no database connection, so a client
//! that dawdles delays only itself; one that reads nothing is disconnected by
//! the connection's send timeout (glassbox_edge), which drops the stream and
//! its export slot. Every export holds one of a fixed number of slots
//! ([`ExportLimits`]) and ends, truncated, at its time limit.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use glassbox_core::api::SearchFilter;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::AppError;
use crate::http::extract::{concat_keys, read_filter_query, read_once, Q};
use crate::http::routes::search::{query_for, SearchParams};
use crate::http::state::AppState;
use crate::log::clock::rfc3339_ms;
use crate::storage::{EntryRecord, SearchQuery, Storage};

/// Entries read from storage per step.
pub const EXPORT_PAGE: usize = 1000;
/// How long to tell a client refused for want of a free export slot to wait.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The bounds every export runs within, shared by the requests of one server.
#[derive(Clone, Debug)]
pub struct ExportLimits {
    /// One permit per export streaming at once; none free is `503 busy`.
    slots: Arc<Semaphore>,
    /// An export still streaming after this long is cut off, truncated.
    time_limit: Duration,
}

impl ExportLimits {
    /// At most `streams` exports at once, each for at most `time_limit`.
    pub fn new(streams: usize, time_limit: Duration) -> ExportLimits {
        ExportLimits {
            slots: Arc::new(Semaphore::new(streams)),
            time_limit,
        }
    }
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits::new(DEFAULT_EXPORT_STREAMS, DEFAULT_EXPORT_TIME_LIMIT)
    }
}

/// Exports streaming at once unless configured.
pub const DEFAULT_EXPORT_STREAMS: usize = 8;
/// Longest an export may stream unless configured.
pub const DEFAULT_EXPORT_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

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
    pub const KEYS: &'static [&'static str] = &concat_keys::<10>(&SearchFilter::KEYS, &["format"]);
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

/// A row is built from the entry's leaf by the code `glassbox history` uses too,
/// so the export and the CLI write the same fields and the same CSV.
pub use glassbox_core::export::{ExportRow, CSV_HEADER};

fn row_of(e: EntryRecord) -> ExportRow {
    ExportRow::of_leaf(
        e.index,
        rfc3339_ms(e.integrated_at_ms),
        e.kind,
        e.signers,
        &e.leaf,
    )
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

/// An export in progress: where it has got to and what it holds.
struct Export {
    storage: Arc<dyn Storage>,
    /// `before` is the tree size when the export began, `after` the last
    /// index sent: the cursor the next page is read from.
    query: SearchQuery,
    format: Format,
    deadline: Instant,
    /// Released when the response body is dropped: finished, failed, or the
    /// client gone.
    _slot: OwnedSemaphorePermit,
    done: bool,
}

impl Export {
    /// The next formatted page, or `None` after the last. Storage is read in
    /// one short call on the blocking pool, and only when the client has taken
    /// the page before.
    async fn next_page(mut self) -> Option<(Result<Bytes, io::Error>, Export)> {
        loop {
            if self.done {
                return None;
            }
            if Instant::now() >= self.deadline {
                self.done = true;
                tracing::info!("export cut off at its time limit");
                // An error aborts the body: the client sees a truncated
                // transfer, never a silently short file.
                return Some((Err(io::Error::other("export time limit reached")), self));
            }
            let (storage, query, format) = (self.storage.clone(), self.query.clone(), self.format);
            let page =
                tokio::task::spawn_blocking(move || read_page(storage.as_ref(), &query, format))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|page| page);
            match page {
                Err(detail) => {
                    tracing::error!(%detail, "export failed mid-stream");
                    self.done = true;
                    return Some((Err(io::Error::other("export failed")), self));
                }
                Ok((chunk, last)) => {
                    match last {
                        Some(i) => self.query.after = Some(i),
                        None => self.done = true,
                    }
                    if !chunk.is_empty() {
                        return Some((Ok(chunk.into()), self));
                    }
                }
            }
        }
    }
}

/// One page of matching entries after `query.after`, formatted, and the index
/// to continue after (`None` when this was the last page).
fn read_page(
    storage: &dyn Storage,
    query: &SearchQuery,
    format: Format,
) -> Result<(Vec<u8>, Option<u64>), String> {
    let page = storage.search(query).map_err(|e| e.to_string())?;
    let next = match page.last() {
        Some(e) if page.len() == query.limit => Some(e.index),
        _ => None,
    };
    let mut chunk = Vec::with_capacity(page.len() * 512);
    for e in page {
        let row = row_of(e);
        match format {
            Format::Jsonl => {
                serde_json::to_writer(&mut chunk, &row).map_err(|e| e.to_string())?;
                chunk.push(b'\n');
            }
            Format::Csv => chunk.extend_from_slice(row.csv_record().as_bytes()),
        }
    }
    Ok((chunk, next))
}

pub async fn export(
    State(state): State<AppState>,
    limits: Option<Extension<ExportLimits>>,
    Q(p): Q<ExportParams>,
) -> Result<Response, AppError> {
    let format = format_of(&p)?;
    let mut query = query_for(
        &state,
        &SearchParams {
            filter: p.filter,
            cursor: None,
            limit: Some(EXPORT_PAGE),
        },
    )
    .await?;
    let limits = limits.map(|Extension(l)| l).unwrap_or_default();
    let slot = limits
        .slots
        .try_acquire_owned()
        .map_err(|_| AppError::Busy {
            what: "every export slot is streaming",
            retry_after: BUSY_RETRY_AFTER,
        })?;
    // One consistent snapshot: entries appended while exporting are left out,
    // so the export matches the checkpoint current when it began.
    let size = state
        .read(|s| Ok(s.latest_checkpoint()?.map_or(0, |c| c.size)))
        .await?;
    query.before = Some(size);
    query.limit = EXPORT_PAGE;
    let head = match format {
        Format::Csv => Some(Ok::<_, io::Error>(Bytes::from(ExportRow::csv_header()))),
        Format::Jsonl => None,
    };
    let export = Export {
        storage: state.storage.clone(),
        query,
        format,
        deadline: Instant::now() + limits.time_limit,
        _slot: slot,
        done: false,
    };
    let rows = futures_util::stream::unfold(export, Export::next_page);
    let stream = futures_util::StreamExt::chain(futures_util::stream::iter(head), rows);
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
