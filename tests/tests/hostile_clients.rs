//! Clients that try to stall the log by holding its connections, against the
//! real server over loopback: slowloris connections that dribble their request
//! headers a byte at a time, and exports that are requested and never read,
//! both renewed as fast as the server drops them; then the same together with
//! floods of envelopes that name a registered signer's key ID with garbage
//! signatures, and of envelopes validly signed by keys the log does not know.
//! Honest submitters must still get receipts and `/checkpoint` must still
//! answer. The server runs with small limits so that the attack saturates
//! them; only progress is asserted (the log grows while the attack runs),
//! never a wall-clock time. docs/threat-model.md lists the attacks; the bench's
//! hostile mix (bench/src/hostile.rs) measures what they cost.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use glassbox_core::dsse::Envelope;
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

/// The connection limits both attacks saturate.
const CONNECTION_LIMITS: [&str; 10] = [
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
];

/// A server with `flags`, one registered honest submitter, and entries for the
/// exports to stream.
fn attacked_server(dir: &std::path::Path, flags: &[&str]) -> (Server, Submitters) {
    let server = Server::start_with(&dir.join("data"), flags);
    let operator = server
        .operator_key
        .clone()
        .expect("quickstart operator key");
    let honest = Submitters::register(dir, &operator, &server, 1, &mut Observed::default())
        .expect("register the honest submitter");
    let setup = agent(PATIENCE);
    for i in 0..SETUP_ENTRIES {
        let answer = post(
            &setup,
            &server.url,
            &honest.envelope(0, &format!("before {i}")),
        )
        .expect("an answer");
        assert_eq!(answer.status, 201, "{}", answer.text());
    }
    (server, honest)
}

/// Entries logged before an attack starts.
const SETUP_ENTRIES: usize = 200;

/// Wait until the server has cut off every slowloris connection once: the
/// attack is then under way.
fn until_slowloris_is_cut_off(cut_off: &AtomicU64) {
    let deadline = Instant::now() + PATIENCE;
    while cut_off.load(Ordering::Relaxed) < SLOWLORIS as u64 {
        assert!(
            Instant::now() < deadline,
            "no slowloris connection was cut off"
        );
        std::thread::yield_now();
    }
}

/// [`HONEST`] submissions through the attack: each must get a receipt that
/// verifies, and the log must grow by at least as many entries meanwhile.
fn honest_submissions_get_receipts(server: &Server, honest: &Submitters) {
    let vkey = parse_vkey(&server.vkey).expect("the log's vkey");
    let client = agent(PATIENCE);
    let before = checkpoint_size(server, &client);
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
    let after = checkpoint_size(server, &client);
    assert!(
        after >= before + HONEST as u64,
        "the log grew from {before} to {after} during the attack"
    );
}

#[test]
fn honest_submitters_get_receipts_while_slowloris_and_non_reading_exports_hold_connections() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut flags = NO_RATE_LIMITS.to_vec();
    flags.extend(CONNECTION_LIMITS);
    let (server, honest) = attacked_server(tmp.path(), &flags);

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
        until_slowloris_is_cut_off(&cut_off);
        honest_submissions_get_receipts(&server, &honest);
    });
    server.stop();
}

/// Connections of each flood, each sending its next envelope as soon as the
/// last is answered.
const FLOODERS: usize = 2;

/// What one flood's envelopes were answered with: the error code of each
/// refusal, or the status of anything else.
#[derive(Default)]
struct FloodAnswers(std::sync::Mutex<std::collections::BTreeMap<String, u64>>);

impl FloodAnswers {
    fn count(&self, answer: &Answer) {
        let what = match serde_json::from_slice::<serde_json::Value>(&answer.body) {
            Ok(v) if answer.status >= 400 => match v["error"]["code"].as_str() {
                Some(code) => format!("{} {code}", answer.status),
                None => answer.status.to_string(),
            },
            _ => answer.status.to_string(),
        };
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(what)
            .or_default() += 1;
    }

    fn seen(&self) -> std::collections::BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// POST `envelopes` round and round until `stop`, counting the answers;
/// connections the server drops are opened again.
fn flood(url: &str, envelopes: &[Vec<u8>], stop: &AtomicBool, answers: &FloodAnswers) {
    let client = agent(PATIENCE);
    for envelope in envelopes.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(answer) = post(&client, url, envelope) {
            answers.count(&answer);
        }
    }
}

/// `envelope` with every signature replaced by 64 bytes that sign nothing: it
/// still names its signers' key IDs.
fn with_garbage_signatures(envelope: &[u8]) -> Vec<u8> {
    let mut e = Envelope::from_json(envelope).expect("a genuine envelope");
    for s in &mut e.signatures {
        s.sig = vec![0x5a; 64];
    }
    e.to_canonical_json()
}

/// Wait until every flood has had an answer, so that each reached the server
/// while the honest submissions went through.
fn until_answered(floods: &[&FloodAnswers]) {
    let deadline = Instant::now() + PATIENCE;
    while floods.iter().any(|f| f.seen().is_empty()) {
        assert!(Instant::now() < deadline, "a flood got no answer");
        std::thread::yield_now();
    }
}

#[test]
fn honest_receipts_flow_through_held_connections_and_forged_and_unknown_signer_floods() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    // The per-signer limit is real here: the honest signer's burst holds its
    // own submissions with room for retries and little more, so a flood
    // charged to the key ID it names (about a thousand envelopes a run)
    // would leave it nothing (`429`) and fail the honest submissions.
    let burst = (SETUP_ENTRIES + 3 * HONEST).to_string();
    let mut flags = vec![
        "--ip-rate-per-sec",
        "1000000000",
        "--ip-burst",
        "1000000000",
        "--signer-rate-per-sec",
        "1",
        "--signer-burst",
        &burst,
    ];
    flags.extend(CONNECTION_LIMITS);
    let (server, honest) = attacked_server(tmp.path(), &flags);
    let forged: Vec<Vec<u8>> = (0..32)
        .map(|i| with_garbage_signatures(&honest.envelope(0, &format!("forged {i}"))))
        .collect();
    let strangers = Submitters::unregistered(tmp.path(), 4).expect("unregistered keys");
    let unknown: Vec<Vec<u8>> = (0..32)
        .map(|i| strangers.envelope(i, &format!("unknown {i}")))
        .collect();

    let stop = AtomicBool::new(false);
    let cut_off = AtomicU64::new(0);
    let (forged_answers, unknown_answers) = (FloodAnswers::default(), FloodAnswers::default());
    std::thread::scope(|scope| {
        for _ in 0..SLOWLORIS {
            scope.spawn(|| slowloris(&server.url, &stop, &cut_off));
        }
        for _ in 0..NON_READERS {
            scope.spawn(|| non_reader(&server.url, &stop));
        }
        for _ in 0..FLOODERS {
            scope.spawn(|| flood(&server.url, &forged, &stop, &forged_answers));
            scope.spawn(|| flood(&server.url, &unknown, &stop, &unknown_answers));
        }
        let _stop = StopOnDrop(&stop);
        until_slowloris_is_cut_off(&cut_off);
        honest_submissions_get_receipts(&server, &honest);
        until_answered(&[&forged_answers, &unknown_answers]);
    });
    // Nothing of either flood was logged or queued: every answer was a refusal
    // for the signature or the unknown signer.
    let forged_seen = forged_answers.seen();
    let unknown_seen = unknown_answers.seen();
    eprintln!("floods answered: forged {forged_seen:?}, unknown {unknown_seen:?}");
    assert!(
        forged_seen.keys().all(|k| k == "403 bad_signature"),
        "forged signatures were answered {forged_seen:?}"
    );
    assert!(
        unknown_seen.keys().all(|k| k == "403 unknown_key"),
        "unknown signers were answered {unknown_seen:?}"
    );
    server.stop();
}
