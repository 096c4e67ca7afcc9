//! The real binary: first start on an empty data dir, submissions over HTTP,
//! SIGKILL, restart, and everything still there with a consistent checkpoint.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::merkle;
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::statement::Role;
use support::*;

struct Server {
    child: Child,
    base: String,
    vkey: NoteVerifierKey,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &Path, origin: &str) -> Result<Server, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_glassbox-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--origin",
            origin,
            "--batch-interval-ms",
            "5",
            "--data",
        ])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut vkey = None;
    let mut base = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("log vkey: ") {
            vkey = Some(v.parse::<NoteVerifierKey>().unwrap());
        }
        if let Some(a) = line.strip_prefix("listening on ") {
            base = Some(a.to_string());
            break;
        }
    }
    let Some(base) = base else {
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        let _ = child.wait();
        return Err(err);
    };
    let server = Server {
        child,
        base,
        vkey: vkey.unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{}/healthz", server.base))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "server never became healthy");
        std::thread::yield_now();
    }
    Ok(server)
}

fn get(base: &str, path: &str) -> Vec<u8> {
    ureq::get(&format!("{base}{path}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap()
}

fn post(base: &str, env: &glassbox_core::dsse::Envelope) -> serde_json::Value {
    let mut resp = ureq::post(&format!("{base}/api/v1/entries"))
        .header("content-type", "application/json")
        .send(&body(env)[..])
        .unwrap();
    serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap()
}

#[test]
fn restart_after_sigkill_keeps_everything_and_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let origin = "process.test/log";
    let server = start(&data, origin).unwrap();
    let operator_key = glassbox_keys::load_signing_key(&data.join("operator.pem")).unwrap();
    let operator = Participant {
        id: glassbox_core::digest::key_id_hex(&operator_key.verifying_key()),
        key: operator_key,
    };
    let vendor = participant(2);
    // The server logs the genesis in a batch of its own; every batch ends with
    // the log's index commitment, so entries sent one at a time take even indexes.
    let r = post(&server.base, &register(&operator, &vendor, &[Role::Vendor]));
    assert_eq!(r["index"], one_per_batch(1));
    let mut receipts = Vec::new();
    for n in 0..5 {
        receipts.push(post(
            &server.base,
            &submission(&vendor, "https://git.example/p", n, "1"),
        ));
    }
    let before = SignedCheckpoint::open(&get(&server.base, "/checkpoint"), &server.vkey)
        .unwrap()
        .checkpoint;
    assert_eq!(before.size, one_per_batch(7));
    let vkey = server.vkey.to_string();
    drop(server); // SIGKILL: no graceful shutdown

    // A different origin is refused with a clear error.
    let err = start(&data, "other.test/log")
        .err()
        .expect("origin change must be refused");
    assert!(err.contains("refusing to start"), "{err}");

    let server = start(&data, origin).unwrap();
    assert_eq!(server.vkey.to_string(), vkey, "the log key was reused");
    for r in &receipts {
        let index = r["index"].as_u64().unwrap();
        let again: serde_json::Value =
            serde_json::from_slice(&get(&server.base, &format!("/api/v1/entries/{index}")))
                .unwrap();
        assert_eq!(again["entry"], r["entry"]);
        verify_receipt(&again, &server.vkey);
    }
    let r = post(
        &server.base,
        &submission(&vendor, "https://git.example/p", 99, "2"),
    );
    assert_eq!(
        r["index"],
        one_per_batch(7),
        "the genesis entry was not logged twice"
    );
    let after = SignedCheckpoint::open(&get(&server.base, "/checkpoint"), &server.vkey)
        .unwrap()
        .checkpoint;
    let c: serde_json::Value = serde_json::from_slice(&get(
        &server.base,
        &format!(
            "/api/v1/proof/consistency?from={}&to={}",
            before.size, after.size
        ),
    ))
    .unwrap();
    let hashes: Vec<[u8; 32]> = c["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    merkle::verify_consistency(before.size, after.size, &hashes, &before.root, &after.root)
        .unwrap();
}

#[test]
fn sigterm_shuts_down_cleanly_after_answering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = start(&data, "term.test/log").unwrap();
    let cp = get(&server.base, "/checkpoint");
    // The genesis and the index commitment ending its batch.
    assert!(
        cp.starts_with(b"term.test/log\n2\n"),
        "genesis logged before serving"
    );
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::yield_now();
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_corrupted_database_stops_the_binary_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(start(&data, "corrupt.test/log").unwrap()); // SIGKILL after the genesis
                                                     // The newest leaf: the index commitment that ends the genesis batch.
    let conn = rusqlite::Connection::open(data.join("glassbox.db")).unwrap();
    conn.execute(
        "UPDATE nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 1",
        [],
    )
    .unwrap();
    drop(conn);
    let err = start(&data, "corrupt.test/log")
        .err()
        .expect("a corrupted log must not be served");
    assert!(
        err.contains("refusing to start: entry 1 does not hash to its stored leaf hash"),
        "{err}"
    );
}

#[test]
fn a_busy_port_says_how_to_choose_another_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_glassbox-server"))
        .args(["--listen", &addr.to_string(), "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for hint in [
        format!("cannot listen on {addr}: the address is in use"),
        "--listen 127.0.0.1:PORT".to_string(),
        "GLASSBOX_LISTEN=127.0.0.1:PORT".to_string(),
        "nothing was created".to_string(),
    ] {
        assert!(stderr.contains(&hint), "missing {hint:?} in: {stderr}");
    }
    assert!(!data.exists(), "a refused start created {}", data.display());
}

#[test]
fn the_data_directory_holds_the_log_vkey_the_server_prints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data, "vkey-file.test/log").unwrap();
    let held = std::fs::read_to_string(data.join("log.vkey")).unwrap();
    assert_eq!(held, format!("{}\n", server.vkey));
    drop(server);
    // A later start finds the file as it left it, and a damaged one is rewritten.
    std::fs::write(data.join("log.vkey"), "truncat").unwrap();
    let server = start(&data, "vkey-file.test/log").unwrap();
    let held = std::fs::read_to_string(data.join("log.vkey")).unwrap();
    assert_eq!(held, format!("{}\n", server.vkey));
}
