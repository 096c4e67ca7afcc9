//! A slow or dead witness never blocks sequencing, since witnessing runs beside the
//! sequencer and only adds cosignatures: the real binary with one witness URL that
//! nothing listens on and one that accepts connections and never answers (with a
//! request timeout far longer than the test) still answers twenty submissions with
//! receipts while its witnessing round is stuck on the silent one.

mod support;

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::cosignature::CosignatureSigner;
use glassbox_core::note::Note;
use glassbox_core::statement::Role;
use support::*;

/// Generous: only a blocked sequencer could need anything like it.
const DEADLINE: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cosigner vkey for a witness that will never cosign anything.
fn vkey(name: &str, seed: u8) -> String {
    CosignatureSigner::new(name, SigningKey::from_bytes(&[seed; 32]))
        .unwrap()
        .verifier()
        .to_string()
}

/// A loopback address nothing listens on (bound, then released).
fn dead_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A witness that accepts every connection and never answers; the accepted streams
/// are kept open (and returned) so the test can see the request still waiting.
fn hung_witness() -> (String, Arc<Mutex<Vec<TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let keep = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            keep.lock().unwrap().push(stream);
        }
    });
    (url, accepted)
}

/// Whether the client side of `stream` is still connected (it has not closed it).
fn still_open(stream: &TcpStream) -> bool {
    let mut stream = stream.try_clone().unwrap();
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue, // the request the witness never answers
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}

fn start(data: &std::path::Path, witnesses: &[String]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glassbox-server"));
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--batch-interval-ms",
        "5",
        "--data",
    ])
    .arg(data);
    for w in witnesses {
        cmd.args(["--witness", w]);
    }
    // One request may hang for ten minutes, and the dead witness is retried.
    cmd.args(["--witness-timeout-ms", "600000", "--witness-attempts", "5"]);
    let mut child = cmd
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let base = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .unwrap();
        if let Some(a) = line.strip_prefix("listening on ") {
            break a.to_owned();
        }
    };
    let server = Server { child, base };
    let deadline = Instant::now() + DEADLINE;
    while ureq::get(&format!("{}/healthz", server.base))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "server never became healthy");
        std::thread::yield_now();
    }
    server
}

#[test]
fn submissions_get_receipts_while_witnesses_are_dead_or_silent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (hung_url, accepted) = hung_witness();
    let witnesses = [
        format!("{} {}", dead_address(), vkey("dead.test/witness", 7)),
        format!("{hung_url} {}", vkey("hung.test/witness", 8)),
    ];
    let server = start(&data, &witnesses);
    let deadline = Instant::now() + DEADLINE;

    // The first witnessing round (for the genesis checkpoint) is now waiting on the
    // silent witness, and will for ten minutes.
    while accepted.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the server never asked the witness"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(DEADLINE))
        .build()
        .into();
    let post = |env: &glassbox_core::dsse::Envelope| -> serde_json::Value {
        let mut resp = agent
            .post(&format!("{}/api/v1/entries", server.base))
            .header("content-type", "application/json")
            .send(&body(env)[..])
            .expect("a receipt, not a timeout");
        serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap()
    };
    let operator_key = glassbox_keys::load_signing_key(&data.join("operator.pem")).unwrap();
    let operator = Participant {
        id: glassbox_core::digest::key_id_hex(&operator_key.verifying_key()),
        key: operator_key,
    };
    let vendor = participant(2);
    // One entry per batch, each batch ended by the log's index commitment.
    assert_eq!(
        post(&register(&operator, &vendor, &[Role::Vendor]))["index"],
        one_per_batch(1)
    );
    for n in 0..20 {
        let receipt = post(&submission(&vendor, "https://git.example/p", n, "1"));
        assert_eq!(
            receipt["index"],
            one_per_batch(u64::from(n) + 2),
            "{receipt}"
        );
        assert!(receipt["tlogProof"].is_string(), "{receipt}");
        assert!(Instant::now() < deadline, "submissions stalled");
    }

    // All answered while the witnessing round is still waiting on the silent witness.
    let streams = accepted.lock().unwrap();
    assert!(
        streams.iter().any(still_open),
        "the request to the silent witness is still pending"
    );
    drop(streams);
    let note = ureq::get(&format!("{}/checkpoint", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    let note = Note::parse(&note).unwrap();
    assert_eq!(
        Checkpoint::parse(&note.text).unwrap().size,
        one_per_batch(22)
    );
    assert_eq!(
        note.signatures.len(),
        1,
        "the log's signature, no cosignature"
    );
}
