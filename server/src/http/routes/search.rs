//! `GET /api/v1/entries?…`: search by artifact, source, signer, kind and
//! integration time, ordered by index, with an opaque cursor.

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

use glassbox_core::api::{SearchFilter, SearchHit, SearchPage};
use glassbox_core::digest::Sha256Digest;
use glassbox_core::repository;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::http::error::AppError;
use crate::http::extract::{concat_keys, read_filter_query, read_once, Q};
use crate::http::state::AppState;
use crate::log::admission::facts::KINDS;
use crate::log::clock::rfc3339_ms;
use crate::storage::{EntryRecord, KeyEventRecord, SearchQuery, Storage, StorageError};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// A page stops before the entry that would take its entries past this many
/// bytes (it always holds one), whatever `limit` asked: with entries of up to
/// a request body each, `limit` alone would allow a gigabyte.
pub const MAX_PAGE_BYTES: usize = 4 << 20;
/// Entries read from storage per step while a page is filled, so that a page
/// cut short by [`MAX_PAGE_BYTES`] has not read `limit` large entries first.
pub const READ_STEP: usize = 100;
/// What a hit adds to its entry's bytes in the response (index, kind, time,
/// signers).
const HIT_OVERHEAD_BYTES: usize = 256;
/// Longest accepted `repository` (the only free-text parameter); longer cannot
/// match, since the log refuses longer strings in statements.
pub const MAX_REPOSITORY_BYTES: usize = crate::log::admission::facts::MAX_STATEMENT_STRING_BYTES;

/// The parameters of `GET /api/v1/entries`: the filter clients send
/// ([`SearchFilter`]), and the page. Any other key is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchParams {
    pub filter: SearchFilter,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

impl SearchParams {
    /// Every key the query may hold, as its unknown-key error lists them.
    pub const KEYS: &'static [&'static str] =
        &concat_keys::<11>(&SearchFilter::KEYS, &["cursor", "limit"]);
}

impl<'de> Deserialize<'de> for SearchParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Params;
        impl<'de> Visitor<'de> for Params {
            type Value = SearchParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("search parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SearchParams, A::Error> {
                let (mut cursor, mut limit) = (None, None);
                let filter = read_filter_query(map, SearchParams::KEYS, |key, map| match key {
                    "cursor" => read_once(&mut cursor, key, map),
                    // "limit", the only other key of KEYS.
                    _ => read_once(&mut limit, key, map),
                })?;
                Ok(SearchParams {
                    filter,
                    cursor,
                    limit,
                })
            }
        }
        d.deserialize_map(Params)
    }
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

/// A search's time bound, in Unix milliseconds, from any of: an RFC 3339 date-time
/// (`2026-12-03T09:30:00Z`, any offset), a date-time without an offset, read as UTC
/// (`2026-12-03T09:30:00`, or with a space for the `T`), or a bare date
/// (`2026-12-03`), which stands for its first millisecond (UTC) as a lower bound
/// (`end` false) and its last as an upper bound, so `until=2026-12-03` includes that
/// whole day. The one parser of the API, the web search form and the CLI's
/// `--since`/`--until` (which pass their text to the API).
pub fn time_bound(name: &str, v: &str, end: bool) -> Result<i64, AppError> {
    let v = v.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let start = day
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis();
        return Ok(if end { start + DAY_MS - 1 } else { start });
    }
    Err(AppError::BadRequest(format!(
        "{name}: {v:?} is not a time: give an RFC 3339 date-time (2026-12-03T09:30:00Z), \
         a date-time read as UTC (2026-12-03T09:30:00) or a date (2026-12-03)"
    )))
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

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

/// Turn request parameters into a normalised storage query, and narrow it to
/// the filter's organisation, if any ([`narrow_to_organisation`]). The one
/// reading of a filter for the API's search and export and the web search.
pub async fn query_for(state: &AppState, p: &SearchParams) -> Result<SearchQuery, AppError> {
    let query = to_query(p)?;
    match p.filter.organisation.clone() {
        None => Ok(query),
        Some(name) => {
            let records = state.read(|s| Ok(s.key_events()?)).await?;
            narrow_to_organisation(query, &name, &records)
        }
    }
}

/// Narrows `query` to the keys the key registry registered under the
/// organisation `name` — spelled exactly as registered; any role, revoked keys
/// included — so that it finds what they signed and the key events about them.
/// With a `signer` too, only that key, if it is the organisation's. A name no
/// registration uses is an error naming the ones that are.
pub fn narrow_to_organisation(
    mut query: SearchQuery,
    name: &str,
    records: &[KeyEventRecord],
) -> Result<SearchQuery, AppError> {
    let organisation_of = |r: &KeyEventRecord| {
        (r.action == "register")
            .then(|| r.details.get("organisation").and_then(|o| o.as_str()))
            .flatten()
            .map(str::to_owned)
    };
    let keys: Vec<String> = records
        .iter()
        .filter(|r| organisation_of(r).as_deref() == Some(name))
        .map(|r| r.key_id.clone())
        .collect();
    if keys.is_empty() {
        let known: std::collections::BTreeSet<String> =
            records.iter().filter_map(organisation_of).collect();
        let shown: Vec<String> = known
            .iter()
            .take(MAX_NAMED_ORGANISATIONS)
            .map(|o| format!("{o:?}"))
            .collect();
        let more = known.len().saturating_sub(MAX_NAMED_ORGANISATIONS);
        return Err(AppError::BadRequest(format!(
            "organisation: no key is registered under {name:?} (the name must match exactly); \
             the registered organisations are {}{} — see /keys",
            if shown.is_empty() {
                "none".to_owned()
            } else {
                shown.join(", ")
            },
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )));
    }
    query.signers = Some(match query.signers.take() {
        None => keys,
        Some(given) => given.into_iter().filter(|k| keys.contains(k)).collect(),
    });
    Ok(query)
}

/// How many organisations an unknown-organisation error names at most.
const MAX_NAMED_ORGANISATIONS: usize = 20;

/// Turn request parameters into a normalised storage query, without the
/// organisation (which needs the registry: [`query_for`]).
pub fn to_query(p: &SearchParams) -> Result<SearchQuery, AppError> {
    let f = &p.filter;
    let kind = match &f.kind {
        None => None,
        Some(k) if KINDS.contains(&k.as_str()) => Some(k.clone()),
        Some(k) => {
            return Err(AppError::BadRequest(format!(
                "kind: {k:?} is not one of {}",
                KINDS.join(", ")
            )))
        }
    };
    let signers = match &f.signer {
        None => None,
        Some(s) => Some(vec![digest("signer", s)?]),
    };
    Ok(SearchQuery {
        artifact: f
            .artifact
            .as_deref()
            .map(|v| digest("artifact", v))
            .transpose()?,
        commit: f.commit.as_deref().map(git_commit).transpose()?,
        dir_hash: f
            .dirhash
            .as_deref()
            .map(|v| digest("dirhash", v))
            .transpose()?,
        repositories: match &f.repository {
            Some(r) if r.len() > MAX_REPOSITORY_BYTES => {
                return Err(AppError::BadRequest(format!(
                    "repository: {} bytes is longer than the limit of {MAX_REPOSITORY_BYTES}",
                    r.len()
                )))
            }
            r => r.as_deref().map(repository::spellings),
        },
        signers,
        kind,
        since_ms: f
            .since
            .as_deref()
            .map(|v| time_bound("since", v, false))
            .transpose()?,
        until_ms: f
            .until
            .as_deref()
            .map(|v| time_bound("until", v, true))
            .transpose()?,
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

/// The entries of one page of `query` (limit `query.limit`), and whether more
/// match after them: read [`READ_STEP`] at a time, the page ends at
/// `query.limit` entries or before [`MAX_PAGE_BYTES`], whichever comes first.
pub fn read_page(
    storage: &dyn Storage,
    mut query: SearchQuery,
) -> Result<(Vec<EntryRecord>, bool), StorageError> {
    let limit = query.limit;
    let (mut rows, mut bytes) = (Vec::new(), 0usize);
    loop {
        // One more than the page holds, to learn whether there is more.
        let want = (limit + 1 - rows.len()).min(READ_STEP);
        query.limit = want;
        let step = storage.search(&query)?;
        let got = step.len();
        for e in step {
            let size = e.leaf.len() + HIT_OVERHEAD_BYTES;
            if rows.len() == limit || (!rows.is_empty() && bytes + size > MAX_PAGE_BYTES) {
                return Ok((rows, true));
            }
            bytes += size;
            rows.push(e);
        }
        match rows.last() {
            Some(last) if got == want => query.after = Some(last.index),
            _ => return Ok((rows, false)),
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    Q(params): Q<SearchParams>,
) -> Result<Json<SearchPage>, AppError> {
    let query = query_for(&state, &params).await?;
    let (rows, more) = state.read(move |s| Ok(read_page(s, query)?)).await?;
    let next_cursor = if more {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use axum::http::Uri;

    /// Reads `query` as the handler's extractor does; the error is the text sent.
    fn parse(query: &str) -> Result<SearchParams, String> {
        let uri: Uri = format!("/api/v1/entries?{query}").parse().unwrap();
        Query::<SearchParams>::try_from_uri(&uri)
            .map(|Query(p)| p)
            .map_err(|e| e.body_text())
    }

    #[test]
    fn one_time_parser_reads_rfc3339_zoneless_times_as_utc_and_bare_dates_as_whole_days() {
        let t = |v: &str, end: bool| time_bound("since", v, end).unwrap();
        // 2026-12-03T00:00:00Z
        let day = 1_796_256_000_000;
        assert_eq!(t("2026-12-03T00:00:00Z", false), day);
        assert_eq!(t("2026-12-03T01:00:00+01:00", false), day);
        assert_eq!(t("2026-12-03T00:00:00", false), day);
        assert_eq!(t("2026-12-03 00:00:00.000", false), day);
        assert_eq!(t("2026-12-03T09:30", false), day + 34_200_000);
        assert_eq!(t("2026-12-03", false), day);
        assert_eq!(t("2026-12-03", true), day + 86_400_000 - 1);
        for bad in ["2026-13-01", "yesterday", "2026-12-03T25:00:00", ""] {
            let err = time_bound("until", bad, true).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("until: {bad:?} is not a time"))
                    && err.contains("(2026-12-03)"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_filter_and_the_page_come_from_one_query() {
        let p = parse("kind=build&cursor=abc&repository=https%3A%2F%2Fgit.example%2Fa&limit=5")
            .unwrap();
        assert_eq!(p.filter.kind.as_deref(), Some("build"));
        assert_eq!(
            p.filter.repository.as_deref(),
            Some("https://git.example/a")
        );
        assert_eq!(p.cursor.as_deref(), Some("abc"));
        assert_eq!(p.limit, Some(5));
        assert_eq!(parse("").unwrap(), SearchParams::default());
    }

    #[test]
    fn an_unknown_key_is_refused_naming_every_accepted_one() {
        assert_eq!(
            parse("kind=build&colour=red").unwrap_err(),
            "Failed to deserialize query string: colour: unknown field `colour`, expected one of \
             `artifact`, `commit`, `dirhash`, `repository`, `signer`, `organisation`, `kind`, \
             `since`, `until`, `cursor`, `limit`"
        );
    }

    #[test]
    fn a_repeated_key_or_a_limit_that_is_not_a_number_is_refused() {
        for (query, error) in [
            ("artifact=a&artifact=b", "duplicate field `artifact`"),
            ("limit=5&limit=6", "duplicate field `limit`"),
            ("limit=a", "limit: invalid digit found in string"),
        ] {
            assert_eq!(
                parse(query).unwrap_err(),
                format!("Failed to deserialize query string: {error}"),
                "{query}"
            );
        }
    }
}
