//! Crash-safety harness (docs/reliability.md): the real `glassbox-server` under
//! concurrent submitters, killed with SIGKILL at a random moment each round and
//! restarted on the same data directory, with the log audited after every restart.
//!
//! The promise under test is docs/design.md §4's: a submitter is answered only after the
//! batch holding its entry committed, so *nothing acknowledged is lost and the log
//! never forks*. After every round the audit checks, from the outside, exactly what a
//! client or monitor could check:
//!
//! * every receipt any client ever received names an entry that is in the log at its
//!   index with the same leaf bytes (`GET /api/v1/entries/{index}` and the entry tiles);
//! * every checkpoint ever served — in a receipt's tlog-proof or by `/checkpoint` — is
//!   signed by the log, has the root the rebuilt tree has at its size, and is proven
//!   consistent with the newest (`/api/v1/proof/consistency`, verified with
//!   `core::merkle`); two checkpoints of one size have one root;
//! * indexes are dense (the entry tiles hold exactly `size` leaves) and no leaf is in
//!   the log twice;
//! * the root recomputed from `/tile/entries` equals the newest checkpoint's root;
//! * a submission that got no answer (the connection died with the server) is either
//!   absent or present exactly once, and re-submitting it (or any acknowledged
//!   envelope) answers `200` with the index it already has.
//!
//! Kill moments come from a seeded generator; the seed is printed so a failing run can
//! be repeated (`GLASSBOX_CRASH_SEED`). Thread scheduling still varies between runs,
//! so a repeat replays the same delays, not the same interleaving.

use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::{
    Attestation, KeyEvent, ReviewRequest, Role, Scope, SourceDigest, SourceSubmission,
    SubmissionPredicate,
};
use glassbox_keys::GeneratedKey;

use crate::server::Server;

mod audit;
mod client;

pub use audit::{audit, check_receipt, LogView, Observed};
pub use client::{agent, get, post, Answer};

/// Rounds in the CI run; `GLASSBOX_CRASH_ROUNDS` overrides (e.g. 500 for the long run).
pub const CI_ROUNDS: usize = 20;
/// How long a client waits for any answer before calling it a timeout.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A small deterministic generator (SplitMix64): the kill delays of a run follow from
/// its seed alone.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The seed in `var`, or a fresh one from the clock.
pub fn seed_from_env(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not an unsigned integer")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x006C_6173_7362_6F78),
    }
}

/// Server flags that take rate limiting out of the way: the harness tests
/// durability, not admission control (that is the load test's subject).
pub const NO_RATE_LIMITS: [&str; 8] = [
    "--ip-rate-per-sec",
    "1000000000",
    "--ip-burst",
    "1000000000",
    "--signer-rate-per-sec",
    "1000000000",
    "--signer-burst",
    "1000000000",
];

/// Vendor keys registered through the quickstart operator key, and distinct,
/// valid source-submission envelopes signed by them.
pub struct Submitters {
    keys: Vec<GeneratedKey>,
}

impl Submitters {
    /// Generate `n` keys in `dir` and register each with the vendor role, signed by
    /// the operator key at `operator_key`. Registration receipts go into `observed`.
    pub fn register(
        dir: &Path,
        operator_key: &Path,
        server: &Server,
        n: usize,
        observed: &mut Observed,
    ) -> Result<Submitters, String> {
        let operator = glassbox_keys::load_signing_key(operator_key)
            .map_err(|e| format!("operator key: {e}"))?;
        let vkey = parse_vkey(&server.vkey)?;
        let agent = agent(CLIENT_TIMEOUT);
        let mut keys = Vec::with_capacity(n);
        for i in 0..n {
            let key = glassbox_keys::generate_key_file(&dir.join(format!("submitter-{i}.pem")))
                .map_err(|e| format!("submitter key {i}: {e}"))?;
            let event = KeyEvent::register(
                &key.signing_key.verifying_key(),
                &format!("Crash submitter {i}"),
                "Glassbox crash harness",
                vec![Role::Vendor],
            )
            .map_err(|e| format!("registration {i}: {e}"))?;
            let leaf = Attestation::from(event)
                .sign(&[&operator])
                .map_err(|e| format!("signing registration {i}: {e}"))?
                .to_canonical_json();
            let answer = post(&agent, &server.url, &leaf)
                .map_err(|e| format!("registering submitter {i}: {e}"))?;
            if answer.status != 201 {
                return Err(format!(
                    "registering submitter {i}: status {} {}",
                    answer.status,
                    answer.text()
                ));
            }
            let receipt = check_receipt(&answer.body, &leaf, &vkey)?;
            observed.acknowledge(receipt.index, &leaf)?;
            observed.checkpoint(receipt.size, receipt.root)?;
            keys.push(key);
        }
        Ok(Submitters { keys })
    }

    /// Generate `n` keys in `dir` and register none of them: their envelopes are
    /// validly signed by signers the log does not know.
    pub fn unregistered(dir: &Path, n: usize) -> Result<Submitters, String> {
        let keys = (0..n)
            .map(|i| {
                glassbox_keys::generate_key_file(&dir.join(format!("stranger-{i}.pem")))
                    .map_err(|e| format!("unregistered key {i}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Submitters { keys })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The canonical bytes (= leaf = request body) of a source submission signed by
    /// key `key % len`; distinct `label`s give distinct envelopes.
    pub fn envelope(&self, key: usize, label: &str) -> Vec<u8> {
        let digest = |what: &str| Sha256Digest::of(format!("{what} {label}").as_bytes()).hex();
        let source = SourceDigest::from_git(
            &digest("commit")[..40],
            &digest("tree")[..40],
            digest("dirhash"),
        );
        let submission = SourceSubmission::new(
            source,
            SubmissionPredicate {
                repository: "https://git.example.com/crash.git".into(),
                product: "crash".into(),
                version: "1.0".into(),
                review_request: ReviewRequest {
                    scope: Scope::Full,
                    notes: None,
                },
                submitted_at: "2026-01-01T00:00:00Z".into(),
            },
        )
        .expect("a well-formed submission");
        Attestation::from(submission)
            .sign(&[&self.keys[key % self.keys.len()].signing_key])
            .expect("signing with a valid key")
            .to_canonical_json()
    }
}

/// Parse the log's verifier key as printed at start-up.
pub fn parse_vkey(text: &str) -> Result<glassbox_core::note::NoteVerifierKey, String> {
    text.parse()
        .map_err(|e| format!("log vkey {text:?} does not parse: {e}"))
}

/// Parameters of a crash run.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    pub rounds: usize,
    /// Concurrent submitter threads.
    pub threads: usize,
    /// Registered submitter keys (threads share them round-robin).
    pub keys: usize,
    /// Envelopes pre-signed per thread per round; a thread that runs out stops.
    pub per_thread: usize,
    /// Kill delays are drawn uniformly from `0..=max_kill_delay`.
    pub max_kill_delay: Duration,
    /// A submitter also polls `/checkpoint` before every `poll_every`-th submission.
    pub poll_every: usize,
    /// Acknowledged envelopes re-submitted after each restart (expecting `200`).
    pub resubmit_sample: usize,
    pub seed: u64,
}

impl CrashConfig {
    /// The CI settings, with `GLASSBOX_CRASH_ROUNDS` and `GLASSBOX_CRASH_SEED` applied.
    pub fn from_env() -> CrashConfig {
        let rounds = match std::env::var("GLASSBOX_CRASH_ROUNDS") {
            Ok(v) => v
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("GLASSBOX_CRASH_ROUNDS={v:?} is not a number")),
            Err(_) => CI_ROUNDS,
        };
        CrashConfig {
            rounds,
            threads: 16,
            keys: 4,
            per_thread: 48,
            max_kill_delay: Duration::from_millis(400),
            poll_every: 8,
            resubmit_sample: 8,
            seed: seed_from_env("GLASSBOX_CRASH_SEED"),
        }
    }
}

/// Totals of a finished run.
#[derive(Debug, Default, Clone)]
pub struct CrashSummary {
    pub rounds: usize,
    pub acknowledged: u64,
    pub unanswered: u64,
    /// Unanswered submissions found in the log after the restart.
    pub unanswered_present: u64,
    pub log_size: u64,
    pub checkpoints_seen: usize,
}

/// What one submitter thread saw in one round.
#[derive(Default)]
struct ThreadLog {
    /// (leaf, receipt body) of every `201`.
    acked: Vec<(Vec<u8>, Vec<u8>)>,
    /// Leaves whose POST got no HTTP answer at all.
    unanswered: Vec<Vec<u8>>,
    /// Signed notes from `/checkpoint`.
    checkpoints: Vec<Vec<u8>>,
    /// Any other HTTP answer: a failure of the run.
    unexpected: Vec<String>,
}

/// Post `envelopes` in order until they run out or the server stops answering.
fn submit_until_killed(base: &str, envelopes: Vec<Vec<u8>>, poll_every: usize) -> ThreadLog {
    let agent = agent(CLIENT_TIMEOUT);
    let mut log = ThreadLog::default();
    for (i, leaf) in envelopes.into_iter().enumerate() {
        if i % poll_every.max(1) == 0 {
            match get(&agent, &format!("{base}/checkpoint")) {
                Ok(a) if a.status == 200 => log.checkpoints.push(a.body),
                Ok(a) => log
                    .unexpected
                    .push(format!("GET /checkpoint: {} {}", a.status, a.text())),
                Err(_) => break,
            }
        }
        match post(&agent, base, &leaf) {
            Ok(a) if a.status == 201 => log.acked.push((leaf, a.body)),
            Ok(a) => {
                log.unexpected
                    .push(format!("POST /api/v1/entries: {} {}", a.status, a.text()))
            }
            Err(_) => {
                log.unanswered.push(leaf);
                break;
            }
        }
    }
    log
}

/// Run the whole harness in a fresh temporary directory.
pub fn run(config: &CrashConfig) -> Result<CrashSummary, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let data = tmp.path().join("data");
    let mut rng = Rng::new(config.seed);
    let mut observed = Observed::default();
    let mut summary = CrashSummary::default();

    let server = Server::start_with(&data, &NO_RATE_LIMITS);
    let vkey = parse_vkey(&server.vkey)?;
    let operator_key = server
        .operator_key
        .clone()
        .ok_or("the first start printed no quickstart operator key")?;
    let submitters = Arc::new(Submitters::register(
        tmp.path(),
        &operator_key,
        &server,
        config.keys,
        &mut observed,
    )?);
    let mut server = Some(server);
    let mut unanswered: Vec<Vec<u8>> = Vec::new();

    for round in 0..=config.rounds {
        let current = match server.take() {
            Some(s) => s,
            None => Server::start_with(&data, &NO_RATE_LIMITS),
        };
        if parse_vkey(&current.vkey)? != vkey {
            return Err(format!(
                "round {round}: the log key changed across a restart"
            ));
        }
        let agent = agent(CLIENT_TIMEOUT);
        let context = |e: String| format!("seed {} round {round}: {e}", config.seed);

        // Audit what survived the last kill, then settle last round's unanswered
        // submissions and re-submit some acknowledged ones.
        let view = audit(&agent, &current.url, &vkey, &mut observed, &mut rng).map_err(context)?;
        let present = resubmit(
            &agent,
            &current.url,
            &vkey,
            &view,
            &unanswered,
            &mut observed,
        )
        .map_err(context)?;
        summary.unanswered_present += present;
        summary.unanswered += unanswered.len() as u64;
        unanswered.clear();
        resubmit_acknowledged(&agent, &current.url, &vkey, &mut observed, &mut rng, config)
            .map_err(context)?;
        summary.log_size = view.size;
        if round == config.rounds {
            // Last pass: everything re-submitted must also pass an audit.
            let view =
                audit(&agent, &current.url, &vkey, &mut observed, &mut rng).map_err(context)?;
            summary.log_size = view.size;
            break;
        }

        // Load, then SIGKILL at a random moment.
        let batches: Vec<Vec<Vec<u8>>> = (0..config.threads)
            .map(|t| {
                (0..config.per_thread)
                    .map(|i| submitters.envelope(t, &format!("{} {round} {t} {i}", config.seed)))
                    .collect()
            })
            .collect();
        let delay = Duration::from_millis(rng.below(config.max_kill_delay.as_millis() as u64 + 1));
        let started = Instant::now();
        let handles: Vec<_> = batches
            .into_iter()
            .map(|envelopes| {
                let base = current.url.clone();
                let poll_every = config.poll_every;
                thread::spawn(move || submit_until_killed(&base, envelopes, poll_every))
            })
            .collect();
        thread::sleep(delay); // the one timed wait: the random kill moment
        current.stop();
        let mut acked = 0;
        let mut lost = 0;
        for handle in handles {
            let log = handle
                .join()
                .map_err(|_| context("a submitter panicked".into()))?;
            if let Some(e) = log.unexpected.first() {
                return Err(context(format!("unexpected answer: {e}")));
            }
            for (leaf, body) in &log.acked {
                let receipt = check_receipt(body, leaf, &vkey).map_err(context)?;
                observed.acknowledge(receipt.index, leaf).map_err(context)?;
                observed
                    .checkpoint(receipt.size, receipt.root)
                    .map_err(context)?;
                acked += 1;
            }
            for note in &log.checkpoints {
                observed.checkpoint_note(note, &vkey).map_err(context)?;
            }
            lost += log.unanswered.len();
            unanswered.extend(log.unanswered);
        }
        summary.acknowledged += acked;
        summary.rounds += 1;
        println!(
            "crash round {round}: kill after {delay:?} (ran {:?}), {acked} acknowledged, \
             {lost} unanswered, log size before the round {}",
            started.elapsed(),
            view.size
        );
    }
    summary.checkpoints_seen = observed.checkpoints_seen();
    Ok(summary)
}

/// Re-submit last round's unanswered envelopes: one already in the log must come back
/// `200` at the index it holds; one that is not must be logged now (`201`).
/// Returns how many were already present.
fn resubmit(
    agent: &ureq::Agent,
    base: &str,
    vkey: &glassbox_core::note::NoteVerifierKey,
    view: &LogView,
    unanswered: &[Vec<u8>],
    observed: &mut Observed,
) -> Result<u64, String> {
    let mut present = 0;
    for leaf in unanswered {
        let answer = post(agent, base, leaf).map_err(|e| format!("re-submission: {e}"))?;
        let receipt = check_receipt(&answer.body, leaf, vkey)?;
        match view.index_of(leaf) {
            Some(index) => {
                present += 1;
                if answer.status != 200 || receipt.index != index {
                    return Err(format!(
                        "an unanswered submission logged at {index} was re-submitted and \
                         answered {} at index {}",
                        answer.status, receipt.index
                    ));
                }
            }
            None => {
                if answer.status != 201 || receipt.index < view.size {
                    return Err(format!(
                        "an unanswered submission absent from the log was re-submitted and \
                         answered {} at index {} (log size {})",
                        answer.status, receipt.index, view.size
                    ));
                }
            }
        }
        observed.acknowledge(receipt.index, leaf)?;
        observed.checkpoint(receipt.size, receipt.root)?;
    }
    Ok(present)
}

/// Re-submit a random sample of acknowledged envelopes: each must answer `200` with
/// the index its first receipt gave (idempotence survives restarts).
fn resubmit_acknowledged(
    agent: &ureq::Agent,
    base: &str,
    vkey: &glassbox_core::note::NoteVerifierKey,
    observed: &mut Observed,
    rng: &mut Rng,
    config: &CrashConfig,
) -> Result<(), String> {
    for (index, leaf) in observed.sample(rng, config.resubmit_sample) {
        let answer = post(agent, base, &leaf).map_err(|e| format!("re-submission: {e}"))?;
        let receipt = check_receipt(&answer.body, &leaf, vkey)?;
        if answer.status != 200 || receipt.index != index {
            return Err(format!(
                "re-submitting the envelope acknowledged at {index} answered {} at index {}",
                answer.status, receipt.index
            ));
        }
        observed.checkpoint(receipt.size, receipt.root)?;
    }
    Ok(())
}
