//! Running `glassbox-server` as a child on a loopback port and talking to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;
use glassbox_cli::client::LogClient;
use glassbox_core::bundle::Receipt;
use glassbox_core::dsse::Envelope;

/// A running server.
pub struct Server {
    child: Child,
    pub url: String,
    /// The library client, for requests whose time is not measured.
    pub client: LogClient,
    pub data: PathBuf,
    started: Instant,
    /// Spawn → first `200 /healthz`.
    pub to_healthy: Duration,
    /// Spawn → first `200 /checkpoint`.
    pub to_checkpoint: Duration,
}

/// An HTTP agent that reports 4xx/5xx as responses, not errors.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// GET `url`: (status, body).
pub fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Vec<u8>)> {
    let mut resp = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let body = resp.body_mut().read_to_vec()?;
    Ok((resp.status().as_u16(), body))
}

/// POST a JSON body: (status, body).
pub fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<(u16, Vec<u8>)> {
    let mut resp = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .with_context(|| format!("POST {url}"))?;
    let body = resp.body_mut().read_to_vec()?;
    Ok((resp.status().as_u16(), body))
}

impl Server {
    /// Start `glassbox-server` on `data` with `extra` flags, and wait (bounded)
    /// until `/healthz` and `/checkpoint` answer 200.
    pub fn start(bin_dir: &Path, data: &Path, extra: &[&str]) -> Result<Server> {
        let binary = bin_dir.join("glassbox-server");
        let extra = known_flags(&binary, extra)?;
        let mut command = Command::new(&binary);
        command
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        let mut server = Server::spawn(command, data, "glassbox-server")?;
        let a = agent(Duration::from_secs(2));
        server.to_checkpoint = poll_ok(&a, &format!("{}/checkpoint", server.url), server.started)?;
        Ok(server)
    }

    /// Start the ingestion floor (`floor.rs`, this binary's `floor-server` mode)
    /// answering `response_bytes`-byte bodies; `data` only names its log file.
    pub fn start_floor(data: &Path, response_bytes: usize) -> Result<Server> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args([
            "floor-server",
            "--response-bytes",
            &response_bytes.to_string(),
        ]);
        Server::spawn(command, data, "the floor server")
    }

    /// Run `command`, read `listening on URL` from its stdout, and wait (bounded)
    /// until `/healthz` answers 200.
    fn spawn(mut command: Command, data: &Path, what: &str) -> Result<Server> {
        let log = data.with_extension("log");
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {what} (build it with --release first)"))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(line) => {
                    if let Some(url) = line?.strip_prefix("listening on ") {
                        break url.trim().to_string();
                    }
                }
                None => {
                    let _ = child.wait();
                    bail!("{what} exited before listening; see {}", log.display());
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let client = LogClient::new(&url, Duration::from_secs(60))?;
        let mut server = Server {
            child,
            url,
            client,
            data: data.to_path_buf(),
            started,
            to_healthy: Duration::ZERO,
            to_checkpoint: Duration::ZERO,
        };
        let a = agent(Duration::from_secs(2));
        server.to_healthy = poll_ok(&a, &format!("{}/healthz", server.url), started)?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (current RSS, peak RSS) of the server in KiB, from /proc.
    pub fn rss_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU seconds (user + system, every thread) the server has used so far, from /proc.
    #[allow(unsafe_code)]
    pub fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        cpu_ticks(&stat).map_or(0.0, |ticks| ticks as f64 / hz)
    }

    /// Wait until the server is idle — under 5% of a core over half a second —
    /// having loaded what it loads in the background after it starts (the
    /// verifiable index); how long that took, or an error past `deadline`.
    pub fn settle(&self, deadline: std::time::Duration) -> anyhow::Result<std::time::Duration> {
        let start = std::time::Instant::now();
        let mut before = self.cpu_secs();
        loop {
            // The harness polls a process it cannot ask; there is no event to wait on.
            std::thread::sleep(std::time::Duration::from_millis(500));
            let now = self.cpu_secs();
            if now - before < 0.025 {
                return Ok(start.elapsed());
            }
            if start.elapsed() > deadline {
                anyhow::bail!("the server was still busy {deadline:?} after it started");
            }
            before = now;
        }
    }

    /// SIGTERM and wait (bounded) for the graceful shutdown, which checkpoints
    /// the WAL into the database file.
    #[allow(unsafe_code)]
    pub fn stop(mut self) -> Result<()> {
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        let _ = self.child.wait();
        bail!("glassbox-server did not stop within 60 s of SIGTERM")
    }

    /// The quickstart operator key the server created in its data directory.
    pub fn operator_key(&self) -> Result<SigningKey> {
        Ok(glassbox_keys::load_signing_key(
            &self.data.join("operator.pem"),
        )?)
    }

    /// Submit one envelope and require 201 (or 200 for a duplicate).
    pub fn submit(&self, envelope: &Envelope) -> Result<Receipt> {
        let submitted = self
            .client
            .submit(&envelope.to_canonical_json())
            .context("submission refused")?;
        Ok(submitted.receipt)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Poll `url` until it answers 200 (30 s at most); the time since `start`. A bare
/// GET rather than the library client: this time is measured (cold start), and
/// only the status matters.
fn poll_ok(agent: &ureq::Agent, url: &str, start: Instant) -> Result<Duration> {
    let deadline = start + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = get(agent, url) {
            return Ok(start.elapsed());
        }
        if Instant::now() > deadline {
            bail!("{url} did not answer 200 within 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// utime + stime, in clock ticks, from the text of `/proc/PID/stat`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The fields after the parenthesised command name start with the state (field
    // 3 of proc(5)); utime and stime are fields 14 and 15, so the 12th and 13th of
    // these. Counted in place: the state is not a number.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Flags (each with one value) that builds before a certain point do not know: a
/// comparison against an earlier build (`--against`) leaves them out for it.
const NEWER_FLAGS: [&str; 1] = ["--max-connections"];

/// `extra` without the [`NEWER_FLAGS`] (and their values) that `binary --help` does
/// not list.
fn known_flags<'a>(binary: &Path, extra: &[&'a str]) -> Result<Vec<&'a str>> {
    let help = Command::new(binary)
        .arg("--help")
        .output()
        .with_context(|| format!("running {} --help", binary.display()))?;
    let help = String::from_utf8_lossy(&help.stdout);
    let mut out = Vec::with_capacity(extra.len());
    let mut rest = extra.iter();
    while let Some(&flag) = rest.next() {
        if NEWER_FLAGS.contains(&flag) && !help.contains(flag) {
            rest.next();
            continue;
        }
        out.push(flag);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cpu_ticks;

    #[test]
    fn cpu_ticks_adds_user_and_system_time() {
        // A real line (a command name with a space and a parenthesis in it).
        let stat = "22379 (glassbox (x) srv) S 22374 22374 1 0 -1 4194560 41516 0 3 0 \
                    1873 412 0 0 20 0 12 0 380000 424456000 34087 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(1873 + 412));
        assert_eq!(cpu_ticks("22379 (srv) S 1 2"), None);
        assert_eq!(cpu_ticks(""), None);
    }
}
