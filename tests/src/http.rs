//! Talking to the log directly: health checks, and submitting an envelope without
//! going through `glassbox submit` (for set-ups that must not depend on the command
//! under test).

use std::path::Path;
use std::time::{Duration, Instant};

/// GET `url`; the body on a 2xx status.
pub fn get(url: &str) -> Result<Vec<u8>, String> {
    let mut resp = ureq::get(url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    resp.body_mut()
        .read_to_vec()
        .map_err(|e| format!("GET {url}: {e}"))
}

/// Poll `<base>/healthz` until it answers 200 or `timeout` passes.
pub fn wait_healthy(base: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let url = format!("{base}/healthz");
    loop {
        match get(&url) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("{base} not healthy after {timeout:?}: {e}"))
            }
            Err(_) => std::thread::yield_now(),
        }
    }
}

/// POST the envelope file at `path` to `<base>/api/v1/entries`; the receipt.
pub fn submit_file(base: &str, path: &Path) -> Result<serde_json::Value, String> {
    let body = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let url = format!("{base}/api/v1/entries");
    let mut resp = ureq::post(&url)
        .header("content-type", "application/json")
        .send(&body[..])
        .map_err(|e| format!("POST {} to {url}: {e}", path.display()))?;
    let bytes = resp
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("POST {url}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("POST {url}: receipt is not JSON: {e}"))
}
