//! A plain HTTP client for the harnesses: every status is an answer (no error for
//! 4xx/5xx), and every request has a global deadline so a hung server shows up as a
//! timeout instead of a hung test.

use std::time::Duration;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An agent whose requests fail with [`ureq::Error::Timeout`] after `timeout`.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(mut resp: ureq::http::Response<ureq::Body>) -> Result<Answer, ureq::Error> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// `GET url`.
pub fn get(agent: &ureq::Agent, url: &str) -> Result<Answer, ureq::Error> {
    answer(agent.get(url).call()?)
}

/// `POST <base>/api/v1/entries` with `body` as `application/json`.
pub fn post(agent: &ureq::Agent, base: &str, body: &[u8]) -> Result<Answer, ureq::Error> {
    answer(
        agent
            .post(&format!("{base}/api/v1/entries"))
            .header("content-type", "application/json")
            .send(body)?,
    )
}
