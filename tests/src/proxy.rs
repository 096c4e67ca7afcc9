//! A hostile log in front of an honest one: a loopback HTTP proxy that forwards every
//! request to a real `glassbox-server`, except the paths a test tells it to answer
//! itself — with an error status, a canned body (an old bundle, a malformed proof), or
//! no answer at all. It plays the malicious server of the verdict's threat model
//! without a second implementation of the log.
//!
//! Plain HTTP/1.1, one request per connection (`Connection: close`), one thread per
//! connection; only what `glassbox` sends is supported (GET, and POST with
//! `Content-Length`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy answers instead of the real server.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status with a JSON error body.
    Status(u16),
    /// 200 with this body (`application/json`).
    Body(Vec<u8>),
    /// Read the request and never answer (until the client gives up).
    Hang,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    rules: Arc<Mutex<Vec<(String, Answer)>>>,
    /// Every request target (path and query) received, in order.
    seen: Arc<Mutex<Vec<String>>>,
    listener: TcpListener,
}

impl Proxy {
    /// A proxy on a kernel-chosen loopback port forwarding to `upstream`.
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let rules: Arc<Mutex<Vec<(String, Answer)>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let accept = listener.try_clone().expect("clone the listener");
        let (upstream, shared) = (upstream.trim_end_matches('/').to_owned(), rules.clone());
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in accept.incoming() {
                let Ok(stream) = stream else { break };
                let (upstream, rules, log) = (upstream.clone(), shared.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &rules, &log);
                });
            }
        });
        Proxy {
            url,
            rules,
            seen,
            listener,
        }
    }

    /// Answer requests whose path (without the query) starts with `prefix` with
    /// `answer`, from now on. A `prefix` with a `?` is matched against the path
    /// and query, so one search (`/api/v1/entries?signer=…`) can be answered apart
    /// from the others.
    pub fn answer(&self, prefix: &str, answer: Answer) {
        self.rules
            .lock()
            .expect("rules")
            .push((prefix.to_owned(), answer));
    }

    /// The request targets (path and query) received so far, in order of arrival.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("request log").clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Wake the accept loop so its thread ends; it sees the error and stops.
        let _ = self.listener.set_nonblocking(true);
        let _ = TcpStream::connect(self.listener.local_addr().expect("address"));
    }
}

fn serve(
    stream: TcpStream,
    upstream: &str,
    rules: &Mutex<Vec<(String, Answer)>>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("/").to_owned(),
    );
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;

    seen.lock().expect("request log").push(target.clone());
    let path = target.split('?').next().unwrap_or("");
    let rule = rules
        .lock()
        .expect("rules")
        .iter()
        .rev()
        .find(|(prefix, _)| {
            let seen = if prefix.contains('?') {
                target.as_str()
            } else {
                path
            };
            seen.starts_with(prefix.as_str())
        })
        .map(|(_, answer)| answer.clone());
    let mut out = stream;
    match rule {
        Some(Answer::Hang) => {
            // Hold the connection until the client closes it.
            let mut sink = [0u8; 64];
            while reader.read(&mut sink)? > 0 {}
            Ok(())
        }
        Some(Answer::Status(status)) => {
            let body = format!(
                "{{\"error\":{{\"code\":\"withheld\",\"message\":\"the proxy answers {status}\"}}}}"
            );
            respond(&mut out, status, body.as_bytes())
        }
        Some(Answer::Body(bytes)) => respond(&mut out, 200, &bytes),
        None => {
            let (status, bytes) = forward(upstream, &method, &target, &body);
            respond(&mut out, status, &bytes)
        }
    }
}

fn forward(upstream: &str, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{upstream}{target}");
    let response = if method == "POST" {
        agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body)
    } else {
        agent.get(&url).call()
    };
    match response {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let bytes = resp
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap_or_default();
            (status, bytes)
        }
        Err(e) => (
            502,
            format!("{{\"error\":{{\"code\":\"upstream\",\"message\":\"{e}\"}}}}").into_bytes(),
        ),
    }
}

fn respond(out: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}
