//! A small blocking client for the log's HTTP API (docs/api.md).
//!
//! Nothing the server sends is trusted here: this module only moves bytes and decodes
//! JSON shapes. Signatures, proofs and policy are checked by `glassbox_core` on what
//! it returns. Every response body is read with a size bound, so a hostile or broken
//! server cannot make the client allocate without limit, and every request has a
//! global timeout.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::api::{CheckpointPage, ConsistencyProof, ErrorBody, SearchPage};
use glassbox_core::bundle::{Bundle, Receipt};
use glassbox_core::merkle::Hash;
use glassbox_core::tile::{decode_entry_bundle, TilePath, TILE_WIDTH};
use serde::de::DeserializeOwned;

pub use glassbox_core::api::{CheckpointItem, SearchFilter, SearchHit};

/// Largest JSON body accepted (a bundle carries every key event of the log).
pub const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// Largest checkpoint note accepted.
pub const MAX_NOTE_BYTES: u64 = 1024 * 1024;
/// Largest entry bundle accepted: 256 entries of at most 64 KiB each, plus prefixes.
pub const MAX_TILE_BYTES: u64 = 256 * (65_535 + 2);

/// Why a request did not produce the expected answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("{url}: connection refused or failed (is the log server running at that address?): {detail}")]
    Connect { url: String, detail: String },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: the server answered {status} {code}: {message}")]
    Status {
        url: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{url}: the response is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: malformed response: {detail}")]
    Malformed { url: String, detail: String },
    #[error("{url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("{url}: not an http:// or https:// URL")]
    BadUrl { url: String },
}

impl ClientError {
    /// The HTTP status when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A submission's answer: the receipt, and whether the entry is new (201) or was
/// logged before (200).
#[derive(Clone, Debug, PartialEq)]
pub struct Submitted {
    pub receipt: Receipt,
    pub created: bool,
}

/// A client for one log server.
pub struct LogClient {
    base: String,
    agent: ureq::Agent,
    timeout: Duration,
}

impl LogClient {
    /// A client for the server at `base` (`http://host:port`, optionally with a path
    /// prefix), with `timeout` per request.
    pub fn new(base: &str, timeout: Duration) -> Result<LogClient, ClientError> {
        let trimmed = base.trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(ClientError::BadUrl {
                url: base.to_owned(),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("glassbox/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(LogClient {
            base: trimmed.to_owned(),
            agent,
            timeout,
        })
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// Sends a request and reads a successful body of at most `limit` bytes.
    fn fetch(
        &self,
        url: &str,
        request: impl FnOnce(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut response = request(&self.agent).map_err(|e| self.transport(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => ClientError::TooLarge {
                    url: url.to_owned(),
                    limit,
                },
                other => self.transport(url, other),
            })?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(b) => ClientError::Status {
                    url: url.to_owned(),
                    status,
                    code: b.error.code,
                    message: b.error.message,
                },
                Err(_) => ClientError::Status {
                    url: url.to_owned(),
                    status,
                    code: "unknown".to_owned(),
                    message: String::from_utf8_lossy(&body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                        .trim()
                        .to_owned(),
                },
            });
        }
        Ok((status, body))
    }

    fn transport(&self, url: &str, err: ureq::Error) -> ClientError {
        let url = url.to_owned();
        match err {
            ureq::Error::Timeout(_) => ClientError::Timeout {
                url,
                seconds: self.timeout.as_secs(),
            },
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => ClientError::Connect {
                url,
                detail: err.to_string(),
            },
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::AddrNotAvailable
                ) =>
            {
                ClientError::Connect {
                    url,
                    detail: io.to_string(),
                }
            }
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                ClientError::Timeout {
                    url,
                    seconds: self.timeout.as_secs(),
                }
            }
            ureq::Error::BadUri(_) => ClientError::BadUrl { url },
            other => ClientError::Transport {
                url,
                detail: other.to_string(),
            },
        }
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let (_, body) = self.fetch(
            &url,
            |agent| agent.get(&url).query_pairs(query.iter().copied()).call(),
            MAX_JSON_BYTES,
        )?;
        decode(&url, &body)
    }

    /// `POST /api/v1/entries`: logs one DSSE envelope.
    pub fn submit(&self, envelope_json: &[u8]) -> Result<Submitted, ClientError> {
        let url = self.url("api/v1/entries");
        let (status, body) = self.fetch(
            &url,
            |agent| {
                agent
                    .post(&url)
                    .header("content-type", "application/json")
                    .send(envelope_json)
            },
            MAX_JSON_BYTES,
        )?;
        Ok(Submitted {
            receipt: decode(&url, &body)?,
            created: status == 201,
        })
    }

    /// `GET /api/v1/entries/{index}`: the entry as a receipt against the latest checkpoint.
    pub fn entry(&self, index: u64) -> Result<Receipt, ClientError> {
        self.get_json(&format!("api/v1/entries/{index}"), &[])
    }

    /// `GET /api/v1/entries?…`, following `nextCursor` to the last page.
    pub fn search(&self, filter: &SearchFilter) -> Result<Vec<SearchHit>, ClientError> {
        let mut hits = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = filter.query_pairs();
            query.push(("limit", "1000"));
            if let Some(c) = &cursor {
                query.push(("cursor", c));
            }
            let page: SearchPage = self.get_json("api/v1/entries", &query)?;
            let last = hits.last().map(|h: &SearchHit| h.index);
            if page
                .entries
                .first()
                .is_some_and(|h| last.is_some_and(|l| h.index <= l))
            {
                return Err(ClientError::Malformed {
                    url: self.url("api/v1/entries"),
                    detail: "a page repeats or goes back before the previous one".to_owned(),
                });
            }
            let empty = page.entries.is_empty();
            hits.extend(page.entries);
            match page.next_cursor {
                Some(next) if !empty => cursor = Some(next),
                _ => return Ok(hits),
            }
        }
    }

    /// `GET /api/v1/index?key=…`: one index key's list, with its proofs (unchecked).
    pub fn index(&self, key: &str) -> Result<glassbox_core::api::IndexAnswer, ClientError> {
        self.get_json("api/v1/index", &[("key", key)])
    }

    /// `GET /api/v1/index/list?key=&size=&after=`: the next page of a key's list
    /// too long for one lookup answer. Unproven: the caller chains it after the
    /// lookup's list and checks the whole against the lookup's proof.
    pub fn index_page(
        &self,
        key: &str,
        size: u64,
        after: u64,
    ) -> Result<glassbox_core::api::IndexPage, ClientError> {
        let (size, after) = (size.to_string(), after.to_string());
        self.get_json(
            "api/v1/index/list",
            &[("key", key), ("size", &size), ("after", &after)],
        )
    }

    /// `GET /api/v1/bundle?artifact=…`: the bundle, and the bytes it was decoded from.
    pub fn bundle(&self, artifact: &str) -> Result<(Bundle, Vec<u8>), ClientError> {
        self.get_bundle(artifact, false)
    }

    /// `GET /api/v1/bundle?artifact=…&release=true`: the bundle also proving every
    /// other subject of the artifact's builds, and the bytes it was decoded from.
    pub fn release_bundle(&self, artifact: &str) -> Result<(Bundle, Vec<u8>), ClientError> {
        self.get_bundle(artifact, true)
    }

    fn get_bundle(&self, artifact: &str, release: bool) -> Result<(Bundle, Vec<u8>), ClientError> {
        let url = self.url("api/v1/bundle");
        let (_, body) = self.fetch(
            &url,
            |agent| {
                let request = agent.get(&url).query("artifact", artifact);
                if release {
                    request.query("release", "true").call()
                } else {
                    request.call()
                }
            },
            MAX_JSON_BYTES,
        )?;
        Ok((decode(&url, &body)?, body))
    }

    /// `GET /api/v1/proof/consistency?from=&to=`: RFC 9162 §2.1.4 proof hashes.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ClientError> {
        let path = "api/v1/proof/consistency";
        let (f, t) = (from.to_string(), to.to_string());
        let body: ConsistencyProof = self.get_json(path, &[("from", &f), ("to", &t)])?;
        let url = self.url(path);
        if body.from != from || body.to != to {
            return Err(ClientError::Malformed {
                url,
                detail: format!(
                    "asked for a proof from {from} to {to}, got one from {} to {}",
                    body.from, body.to
                ),
            });
        }
        body.hashes
            .iter()
            .map(|h| {
                decode_hash(h).ok_or_else(|| ClientError::Malformed {
                    url: url.clone(),
                    detail: format!("proof hash {h:?} is not 32 bytes of base64"),
                })
            })
            .collect()
    }

    /// `GET /checkpoint`: the latest signed checkpoint note.
    pub fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        let url = self.url("checkpoint");
        Ok(self
            .fetch(&url, |agent| agent.get(&url).call(), MAX_NOTE_BYTES)?
            .1)
    }

    /// `GET /api/v1/checkpoints?since=`: every signed checkpoint of size ≥ `since`.
    pub fn checkpoints(&self, since: u64) -> Result<Vec<CheckpointItem>, ClientError> {
        let mut all = Vec::new();
        let mut since = since;
        loop {
            let s = since.to_string();
            let page: CheckpointPage =
                self.get_json("api/v1/checkpoints", &[("since", &s), ("limit", "1000")])?;
            all.extend(page.checkpoints);
            match page.next_since {
                Some(next) if next > since => since = next,
                _ => return Ok(all),
            }
        }
    }

    /// `GET /api/v1/keys`: the participant registry with its history, every page
    /// of it joined into one `{"keys": [...]}`.
    pub fn keys(&self) -> Result<serde_json::Value, ClientError> {
        // A page at a time (`nextAfter`), joined into one list.
        let mut keys = Vec::new();
        let mut after: Option<u64> = None;
        loop {
            let shown = after.map(|a| a.to_string());
            let query: Vec<(&str, &str)> = shown.iter().map(|a| ("after", a.as_str())).collect();
            let mut page: serde_json::Value = self.get_json("api/v1/keys", &query)?;
            if let Some(list) = page["keys"].as_array_mut() {
                keys.append(list);
            }
            match page["nextAfter"].as_u64() {
                // Each page must go on past the last: a server cannot keep us paging.
                Some(next) if after.is_none_or(|a| next > a) => after = Some(next),
                _ => return Ok(serde_json::json!({ "keys": keys })),
            }
        }
    }

    /// The leaves `start..end` from the C2SP entry bundles (`/tile/entries/…`).
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut leaves = Vec::new();
        let mut next = start;
        while next < end {
            let tile = next / TILE_WIDTH;
            let tile_start = tile * TILE_WIDTH;
            let width = (end - tile_start).min(TILE_WIDTH);
            // Within the range, so width is 1..=256.
            let path = TilePath::Entries {
                index: tile,
                width: width as u16,
            }
            .to_string();
            let url = self.url(&path);
            let (_, body) = self.fetch(&url, |agent| agent.get(&url).call(), MAX_TILE_BYTES)?;
            let bundle = decode_entry_bundle(&body).map_err(|e| ClientError::Malformed {
                url: url.clone(),
                detail: e.to_string(),
            })?;
            if bundle.len() as u64 != width {
                return Err(ClientError::Malformed {
                    url,
                    detail: format!("expected {width} entries, got {}", bundle.len()),
                });
            }
            let skip = (next - tile_start) as usize;
            leaves.extend(bundle.into_iter().skip(skip));
            next = tile_start + width;
        }
        Ok(leaves)
    }
}

fn decode<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::Malformed {
        url: url.to_owned(),
        detail: e.to_string(),
    })
}

fn decode_hash(text: &str) -> Option<Hash> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests;
