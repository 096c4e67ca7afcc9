//! `GET /api/v1/entries?…`: search by artifact, source, signer, kind and
//! integration time, ordered by index, with an opaque cursor.

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use glassbox_core::digest::Sha256Digest;
use serde::{Deserialize, Serialize};

use crate::http::error::AppError;
use crate::http::extract::Q;
use crate::http::state::AppState;
use crate::log::admission::facts::KINDS;
use crate::log::clock::rfc3339_ms;
use crate::storage::{EntryRecord, SearchQuery};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// Longest accepted `repository` (the only free-text parameter); longer cannot
/// match, since the log refuses longer strings in statements.
pub const MAX_REPOSITORY_BYTES: usize = crate::log::admission::facts::MAX_STATEMENT_STRING_BYTES;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub artifact: Option<String>,
    pub commit: Option<String>,
    pub dirhash: Option<String>,
    pub repository: Option<String>,
    pub signer: Option<String>,
    pub kind: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

/// One search hit.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub index: u64,
    pub kind: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: String,
    pub signers: Vec<String>,
    /// The canonical envelope.
    pub entry: serde_json::Value,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct SearchPage {
    pub entries: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(
        rename = "nextCursor",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub next_cursor: Option<String>,
}

pub fn check_limit(limit: Option<usize>) -> Result<usize, AppError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        0 => Err(AppError::BadRequest("limit must be at least 1".into())),
        n if n > MAX_LIMIT => Err(AppError::BadRequest(format!(
            "limit {n} exceeds the maximum of {MAX_LIMIT}"
        ))),
        n => Ok(n),
    }
}

fn digest(name: &str, v: &str) -> Result<String, AppError> {
    v.parse::<Sha256Digest>()
        .map(|d| d.hex())
        .map_err(|e| AppError::BadRequest(format!("{name}: {e}")))
}

fn git_commit(v: &str) -> Result<String, AppError> {
    let ok = (v.len() == 40 || v.len() == 64) && v.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(AppError::BadRequest(format!(
            "commit: {v:?} is not a 40- or 64-digit hex git object ID"
        )))
    }
}

fn time(name: &str, v: &str) -> Result<i64, AppError> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.timestamp_millis())
        .map_err(|e| AppError::BadRequest(format!("{name}: {v:?} is not an RFC 3339 time: {e}")))
}

pub fn encode_cursor(after: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{after}"))
}

fn decode_cursor(c: &str) -> Result<u64, AppError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("after:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| AppError::BadRequest("cursor: not a cursor this server issued".into()))
}

/// Turn request parameters into a normalised storage query.
pub fn to_query(p: &SearchParams) -> Result<SearchQuery, AppError> {
    let kind = match &p.kind {
        None => None,
        Some(k) if KINDS.contains(&k.as_str()) => Some(k.clone()),
        Some(k) => {
            return Err(AppError::BadRequest(format!(
                "kind: {k:?} is not one of {}",
                KINDS.join(", ")
            )))
        }
    };
    let signer = match &p.signer {
        None => None,
        Some(s) => Some(digest("signer", s)?),
    };
    Ok(SearchQuery {
        artifact: p
            .artifact
            .as_deref()
            .map(|v| digest("artifact", v))
            .transpose()?,
        commit: p.commit.as_deref().map(git_commit).transpose()?,
        dir_hash: p
            .dirhash
            .as_deref()
            .map(|v| digest("dirhash", v))
            .transpose()?,
        repository: match &p.repository {
            Some(r) if r.len() > MAX_REPOSITORY_BYTES => {
                return Err(AppError::BadRequest(format!(
                    "repository: {} bytes is longer than the limit of {MAX_REPOSITORY_BYTES}",
                    r.len()
                )))
            }
            r => r.clone(),
        },
        signer,
        kind,
        since_ms: p.since.as_deref().map(|v| time("since", v)).transpose()?,
        until_ms: p.until.as_deref().map(|v| time("until", v)).transpose()?,
        after: p.cursor.as_deref().map(decode_cursor).transpose()?,
        before: None,
        limit: check_limit(p.limit)?,
    })
}

pub fn hit(e: EntryRecord) -> Result<SearchHit, AppError> {
    let entry = serde_json::from_slice(&e.leaf)
        .map_err(|err| AppError::Internal(format!("stored leaf {} is not JSON: {err}", e.index)))?;
    Ok(SearchHit {
        index: e.index,
        kind: e.kind,
        integrated_time: rfc3339_ms(e.integrated_at_ms),
        signers: e.signers,
        entry,
    })
}

pub async fn search(
    State(state): State<AppState>,
    Q(params): Q<SearchParams>,
) -> Result<Json<SearchPage>, AppError> {
    let mut query = to_query(&params)?;
    let limit = query.limit;
    query.limit = limit + 1;
    let mut rows = state.read(move |s| Ok(s.search(&query)?)).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|e| encode_cursor(e.index))
    } else {
        None
    };
    let entries = rows.into_iter().map(hit).collect::<Result<_, _>>()?;
    Ok(Json(SearchPage {
        entries,
        next_cursor,
    }))
}
