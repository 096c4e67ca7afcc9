//! Key hygiene (docs/threat-model.md, "A compromised host"): private keys are
//! written 0600, a group- or world-readable private key stops the server with the
//! `chmod 600` fix, and no private key material ever reaches stdout, stderr or an
//! HTTP error body.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::note::NoteSigner;
use glassbox_server::config::Config;
use glassbox_server::log::datadir::{LOG_KEY_FILE, OPERATOR_KEY_FILE};
use glassbox_server::server::prepare;
use support::*;

fn config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        origin: ORIGIN.into(),
        ..Config::default()
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn refusal(config: &Config) -> String {
    match prepare(config) {
        Ok(_) => panic!("started with an exposed key"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn first_start_writes_private_keys_0600_in_a_0700_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(prepare(&config(&data)).unwrap());
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(LOG_KEY_FILE)), 0o600);
    assert_eq!(mode(&data.join(OPERATOR_KEY_FILE)), 0o600);
}

#[test]
fn a_group_or_world_readable_private_key_is_refused_with_the_chmod_fix() {
    for (file, bad) in [
        (LOG_KEY_FILE, 0o640),
        (LOG_KEY_FILE, 0o604),
        (OPERATOR_KEY_FILE, 0o644),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        drop(prepare(&config).unwrap());
        let path = dir.path().join(file);
        chmod(&path, bad);
        let msg = refusal(&config);
        assert!(
            msg.starts_with("refusing to start: ")
                && msg.contains(&format!("permissions {bad:04o}"))
                && msg.contains("too open")
                && msg.contains(&format!("chmod 600 {}", path.display())),
            "{file} {bad:o}: {msg}"
        );
        chmod(&path, 0o600);
        drop(prepare(&config).expect("starts again once fixed"));
    }
}

#[test]
fn a_readable_private_key_given_as_operator_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("ops.pem");
    glassbox_keys::generate_key_file(&key_path).unwrap();
    chmod(&key_path, 0o644);
    let mut config = config(&dir.path().join("data"));
    config.operator_keys = vec![key_path.clone()];
    let msg = refusal(&config);
    assert!(
        msg.contains(&format!("chmod 600 {}", key_path.display())),
        "{msg}"
    );
    // The public half may be world-readable.
    config.operator_keys = vec![key_path.with_extension("pem.pub")];
    chmod(&key_path.with_extension("pem.pub"), 0o644);
    drop(prepare(&config).unwrap());
}

/// Every textual form a private key could leak in.
fn secret_forms(path: &Path) -> Vec<String> {
    let pem = std::fs::read_to_string(path).unwrap();
    let key = glassbox_keys::load_signing_key(path).unwrap();
    let seed = key.to_bytes();
    let mut forms: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    forms.push(hex::encode(seed));
    forms.push(hex::encode_upper(seed));
    forms.push(STANDARD.encode(seed));
    forms.push(format!("{seed:?}"));
    forms.push(
        NoteSigner::new("glassbox.hygiene/log", key)
            .unwrap()
            .to_private_key_string(),
    );
    forms
}

fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut s);
        s
    })
}

fn call(base: &str, method: &str, path: &str, body: &[u8], content_type: &str) -> String {
    let url = format!("{base}{path}");
    let resp = match method {
        "POST" => ureq::post(&url)
            .header("content-type", content_type)
            .config()
            .http_status_as_error(false)
            .build()
            .send(body),
        _ => ureq::get(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .call(),
    };
    let mut resp = resp.unwrap();
    String::from_utf8_lossy(&resp.body_mut().read_to_vec().unwrap()).into_owned()
}

#[test]
fn private_keys_never_appear_in_output_logs_or_error_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_glassbox-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--origin",
            "glassbox.hygiene/log",
        ])
        .arg("--data")
        .arg(&data)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = drain(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    let stdout_pipe = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout_pipe).lines() {
            let line = line.unwrap_or_default();
            if let Some(a) = line.strip_prefix("listening on ") {
                let _ = tx.send(a.to_string());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server started");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "server never became healthy");
        std::thread::yield_now();
    }

    let stranger = participant(9);
    let mut tampered = body(&submission(&stranger, "https://git.example/w", 1, "1"));
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let mut bodies = Vec::new();
    for (method, path, body, ct) in [
        ("POST", "/api/v1/entries", &b"{"[..], "application/json"),
        ("POST", "/api/v1/entries", &b"not json"[..], "text/plain"),
        ("POST", "/api/v1/entries", &tampered[..], "application/json"),
        (
            "POST",
            "/api/v1/entries",
            &body(&submission(&stranger, "https://git.example/w", 1, "1"))[..],
            "application/json",
        ),
        ("GET", "/api/v1/entries/99", &b""[..], ""),
        ("GET", "/api/v1/entries?signer=%27;DROP", &b""[..], ""),
        ("GET", "/tile/../../log.pem", &b""[..], ""),
        ("GET", "/api/v1/keys/zz", &b""[..], ""),
        ("GET", "/checkpoint", &b""[..], ""),
        ("GET", "/api/v1/keys", &b""[..], ""),
        ("GET", "/metrics", &b""[..], ""),
    ] {
        bodies.push(call(&base, method, path, body, ct));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let mut output = stdout.join().unwrap();
    output.push_str(&stderr.join().unwrap());
    assert!(output.contains("log vkey: "), "{output}");

    // A refused start prints its error: with the key exposed, it names the file only.
    chmod(&data.join(LOG_KEY_FILE), 0o644);
    let refused = Command::new(env!("CARGO_BIN_EXE_glassbox-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--origin",
            "glassbox.hygiene/log",
        ])
        .arg("--data")
        .arg(&data)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let refused_text = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(refused_text.contains("chmod 600"), "{refused_text}");
    chmod(&data.join(LOG_KEY_FILE), 0o600);

    let keys: Vec<PathBuf> = vec![data.join(LOG_KEY_FILE), data.join(OPERATOR_KEY_FILE)];
    for key in &keys {
        for secret in secret_forms(key) {
            assert!(
                !output.contains(&secret),
                "{} leaked to the output",
                key.display()
            );
            assert!(
                !refused_text.contains(&secret),
                "{} leaked in a start-up error",
                key.display()
            );
            for b in &bodies {
                assert!(!b.contains(&secret), "{} leaked in {b}", key.display());
            }
        }
    }
}
