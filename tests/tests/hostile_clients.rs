//! Clients that try to stall the log by holding its connections, against the
//! real server over loopback: slowloris connections that dribble their request
//! headers a byte at a time, and exports that are requested and never read,
//! both renewed as fast as the server drops them. Honest submitters must
//! still get receipts and `/checkpoint` must still answer. The server runs
//! with small limits so that the attack saturates them; only progress is
//! asserted (the log grows while the attack runs), never a wall-clock time.
//! docs/threat-model.md lists the attacks.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use glassbox_tests::crash::{
    agent, check_receipt, get, parse_vkey, post, Answer, Observed, Submitters, NO_RATE_LIMITS,
};
use glassbox_tests::server::Server;

/// Slowloris connections held open at once.
const SLOWLORIS: usize = 48;
/// Connections that request an export and read nothing.
const NON_READERS: usize = 24;
/// The server's connection cap: below the attackers' count, so that honest
/// clients must get in as the limits free slots.
const MAX_CONNECTIONS: &str = "32";
/// Honest submissions made while the attack runs.
const HONEST: usize = 20;
/// A deadline for one honest request through the attack, long enough for any
/// loaded machine: reaching it fails the test, meeting it proves nothing.
const PATIENCE: Duration = Duration::from_secs(120);

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Open a connection and send the start of a request, then one header byte
/// every few milliseconds until the server hangs up; then do it again.
fn slowloris(url: &str, stop: &AtomicBool, cut_off: &AtomicU64) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(addr(url)) else {
            continue;
        };
        let _ = conn.write_all(b"POST /api/v1/entries HTTP/1.1\r\nHost: glassbox\r\nX-Slow: ");
        while !stop.load(Ordering::Relaxed) {
            if conn.write_all(b"a").is_err() {
                cut_off.fetch_add(1, Ordering::Relaxed);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Request an export and never read the answer; hold the connection until the
/// server drops it (a write then fails) and start over.
fn non_reader(url: &str, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(addr(url)) else {
            continue;
        };
        if conn
            .write_all(b"GET /api/v1/export?format=jsonl HTTP/1.1\r\nHost: glassbox\r\n\r\n")
            .is_err()
        {
            continue;
        }
        // Pipelined requests the server will only read once the export is sent:
        // the writes fail once the server has closed the connection.
        while !stop.load(Ordering::Relaxed) {
            if conn
                .write_all(b"GET /api/v1/export HTTP/1.1\r\nHost: glassbox\r\n\r\n")
                .is_err()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `f` retried on transport errors (a pooled connection the server closed, a
/// connection still waiting for a slot) until it answers or [`PATIENCE`] passes.
fn patiently(what: &str, mut f: impl FnMut() -> Result<Answer, ureq::Error>) -> Answer {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match f() {
            Ok(answer) => return answer,
            Err(e) if Instant::now() >= deadline => panic!("{what}: no answer: {e}"),
            Err(_) => {}
        }
    }
}

/// Sets the flag when dropped, so the attackers stop even when an assertion
/// fails (a scope joins its threads before it lets a panic through).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn checkpoint_size(server: &Server, agent: &ureq::Agent) -> u64 {
    let url = format!("{}/checkpoint", server.url);
    let answer = patiently("GET /checkpoint", || get(agent, &url));
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer
        .text()
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("not a checkpoint: {}", answer.text()))
}

#[test]
fn honest_submitters_get_receipts_while_slowloris_and_non_reading_exports_hold_connections() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut flags = NO_RATE_LIMITS.to_vec();
    flags.extend([
        "--max-connections",
        MAX_CONNECTIONS,
        "--header-read-timeout-ms",
        "300",
        "--body-read-timeout-ms",
        "300",
        "--send-timeout-ms",
        "300",
        "--export-streams",
        "2",
    ]);
    let server = Server::start_with(&tmp.path().join("data"), &flags);
    let operator = server
        .operator_key
        .clone()
        .expect("quickstart operator key");
    let vkey = parse_vkey(&server.vkey).expect("the log's vkey");
    let honest = Submitters::register(tmp.path(), &operator, &server, 1, &mut Observed::default())
        .expect("register the honest submitter");
    // Entries for the exports to stream.
    let setup = agent(PATIENCE);
    for i in 0..200 {
        let answer = post(
            &setup,
            &server.url,
            &honest.envelope(0, &format!("before {i}")),
        )
        .expect("an answer");
        assert_eq!(answer.status, 201, "{}", answer.text());
    }

    let stop = AtomicBool::new(false);
    let cut_off = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..SLOWLORIS {
            scope.spawn(|| slowloris(&server.url, &stop, &cut_off));
        }
        for _ in 0..NON_READERS {
            scope.spawn(|| non_reader(&server.url, &stop));
        }
        let _stop = StopOnDrop(&stop);
        // The attack is under way once the server has cut off slow clients.
        let deadline = Instant::now() + PATIENCE;
        while cut_off.load(Ordering::Relaxed) < SLOWLORIS as u64 {
            assert!(
                Instant::now() < deadline,
                "no slowloris connection was cut off"
            );
            std::thread::yield_now();
        }

        let client = agent(PATIENCE);
        let before = checkpoint_size(&server, &client);
        for i in 0..HONEST {
            let leaf = honest.envelope(0, &format!("during {i}"));
            let answer = patiently("an honest submission", || post(&client, &server.url, &leaf));
            // A retried submission already logged is answered 200 with its receipt.
            assert!(
                answer.status == 201 || answer.status == 200,
                "honest {i}: {} {}",
                answer.status,
                answer.text()
            );
            check_receipt(&answer.body, &leaf, &vkey).expect("a receipt that verifies");
        }
        let after = checkpoint_size(&server, &client);
        assert!(
            after >= before + HONEST as u64,
            "the log grew from {before} to {after} during the attack"
        );
    });
    server.stop();
}
