//! The monitor's HTTP sources: the log (its API through [`LogClient`], plus one
//! checkpoint of its history by size) and witnesses (`GET <url>/checkpoint/<origin>`,
//! the latest checkpoint a Glassbox witness cosigned; docs/witness.md).
//!
//! Nothing fetched here is trusted: every note is opened with the log key by the
//! caller before it counts as something the log signed.

use std::time::Duration;

use anyhow::Context;
use glassbox_core::api::CheckpointPage;
use glassbox_core::verify::ConsistencyProof;

use super::source::{LogSource, WitnessSource};
use crate::client::{LogClient, MAX_NOTE_BYTES};
use crate::commands::verify::check::ProofSource;

/// Largest history page accepted (one checkpoint is asked for).
const MAX_PAGE_BYTES: u64 = 2 * MAX_NOTE_BYTES;

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("glassbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// GET `url`: the body on 2xx, `None` on 404, an error otherwise.
fn get(agent: &ureq::Agent, url: &str, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    if status == 404 {
        return Ok(None);
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .with_context(|| format!("GET {url}: reading the body"))?;
    if !(200..300).contains(&status) {
        let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        anyhow::bail!("GET {url}: HTTP {status}: {}", text.trim());
    }
    Ok(Some(body))
}

/// The log server, as the monitor reads it.
pub struct OnlineLog {
    client: LogClient,
    agent: ureq::Agent,
}

impl OnlineLog {
    pub fn new(client: LogClient, timeout: Duration) -> OnlineLog {
        OnlineLog {
            client,
            agent: agent(timeout),
        }
    }
}

impl ProofSource for OnlineLog {
    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        ProofSource::consistency(&self.client, from, to)
    }
    fn label(&self) -> String {
        self.client.base().to_owned()
    }
}

impl LogSource for OnlineLog {
    fn checkpoint(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self.client.checkpoint()?)
    }
    fn entries(&self, start: u64, end: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(self.client.entries(start, end)?)
    }
    fn checkpoint_at(&self, size: u64) -> anyhow::Result<Option<Vec<u8>>> {
        // The first kept checkpoint of size ≥ `size` (docs/api.md).
        let url = format!(
            "{}/api/v1/checkpoints?since={size}&limit=1",
            self.client.base()
        );
        let Some(body) = get(&self.agent, &url, MAX_PAGE_BYTES)? else {
            return Ok(None);
        };
        let page: CheckpointPage =
            serde_json::from_slice(&body).with_context(|| format!("GET {url}: malformed"))?;
        Ok(page
            .checkpoints
            .into_iter()
            .find(|c| c.size == size)
            .map(|c| c.checkpoint.into_bytes()))
    }
}

/// A witness serving its latest cosigned checkpoint per log.
pub struct HttpWitness {
    url: String,
    agent: ureq::Agent,
}

impl HttpWitness {
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<HttpWitness> {
        let url = url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            anyhow::bail!("--witness {url:?}: not an http:// or https:// URL");
        }
        Ok(HttpWitness {
            url: url.to_owned(),
            agent: agent(timeout),
        })
    }
}

impl WitnessSource for HttpWitness {
    fn url(&self) -> &str {
        &self.url
    }
    fn latest(&self, origin: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let url = format!("{}/checkpoint/{}", self.url, encode_path(origin));
        get(&self.agent, &url, MAX_NOTE_BYTES)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/` (an origin
/// such as `log.example/main` keeps its slash: the witness matches the rest of the
/// path).
fn encode_path(origin: &str) -> String {
    let mut out = String::with_capacity(origin.len());
    for b in origin.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode_path;

    #[test]
    fn an_origin_keeps_its_slashes_and_escapes_the_rest() {
        assert_eq!(encode_path("log.example/main"), "log.example/main");
        assert_eq!(encode_path("a b?c%"), "a%20b%3Fc%25");
    }
}
