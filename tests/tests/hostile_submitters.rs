//! Submitters who try to deny the log to others, against the real server over
//! loopback: by spending a chosen signer's rate limit with signatures that name
//! its key ID but do not verify, and by filling the sequencer's queue with
//! envelopes from keys nobody registered. docs/threat-model.md lists both.
//! Only answers are asserted, never a wall-clock time.

use std::path::Path;

use ed25519_dalek::SigningKey;
use glassbox_core::dsse::Envelope;
use glassbox_tests::crash::{agent, post, Observed, Submitters, CLIENT_TIMEOUT, NO_RATE_LIMITS};
use glassbox_tests::server::Server;

/// `submitters` registered (vendor role) on a fresh server started with `flags`.
fn server(dir: &Path, flags: &[&str], submitters: usize) -> (Server, Submitters) {
    let server = Server::start_with(&dir.join("data"), flags);
    let operator = server
        .operator_key
        .clone()
        .expect("quickstart operator key");
    let registered = Submitters::register(
        dir,
        &operator,
        &server,
        submitters,
        &mut Observed::default(),
    )
    .expect("register the submitters");
    (server, registered)
}

/// `genuine` with its signature's first byte flipped: it still names the
/// signer's key ID, and no longer verifies with its key.
fn forged(genuine: &[u8]) -> Vec<u8> {
    let mut env = Envelope::from_json(genuine).expect("a genuine envelope");
    env.signatures[0].sig[0] ^= 1;
    env.to_canonical_json()
}

/// `genuine`'s statement, validly signed by a key the log never registered.
fn unregistered(genuine: &[u8], seed: u8) -> Vec<u8> {
    let env = Envelope::from_json(genuine).expect("a genuine envelope");
    Envelope::sign(
        &env.payload_type,
        &env.payload,
        &[&SigningKey::from_bytes(&[seed; 32])],
    )
    .expect("signing with a valid key")
    .to_canonical_json()
}

#[test]
fn a_flood_of_forged_signatures_naming_a_signer_does_not_spend_its_rate_limit() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    // Each signer may submit 3 entries, then one per 1000 s; the per-IP limit is
    // out of the way (every client here is 127.0.0.1).
    let flags = [
        "--signer-rate-per-sec",
        "0.001",
        "--signer-burst",
        "3",
        "--ip-rate-per-sec",
        "1000000000",
        "--ip-burst",
        "1000000000",
    ];
    let (server, victim) = server(tmp.path(), &flags, 1);
    let agent = agent(CLIENT_TIMEOUT);

    for i in 0..50 {
        let attack = forged(&victim.envelope(0, &format!("forged {i}")));
        let answer = post(&agent, &server.url, &attack).expect("an answer");
        assert_eq!(answer.status, 403, "forgery {i}: {}", answer.text());
        assert!(answer.text().contains("bad_signature"), "{}", answer.text());
    }
    for i in 0..3 {
        let genuine = victim.envelope(0, &format!("genuine {i}"));
        let answer = post(&agent, &server.url, &genuine).expect("an answer");
        assert_eq!(answer.status, 201, "genuine {i}: {}", answer.text());
    }
    // The budget was the genuine signer's to spend, and it is spent.
    let answer = post(&agent, &server.url, &victim.envelope(0, "one too many")).expect("an answer");
    assert_eq!(answer.status, 429, "{}", answer.text());
}

#[test]
fn unregistered_signers_are_refused_before_they_take_a_queue_slot() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    // A two-slot queue: were junk queued, eight flooding clients would keep it
    // full and the honest submitter would be answered 503.
    let mut flags = NO_RATE_LIMITS.to_vec();
    flags.extend(["--queue-size", "2"]);
    let (server, honest) = server(tmp.path(), &flags, 1);

    let (junk, genuine) = std::thread::scope(|scope| {
        let flooders: Vec<_> = (0..8u8)
            .map(|t| {
                let (url, honest) = (&server.url, &honest);
                scope.spawn(move || {
                    let agent = agent(CLIENT_TIMEOUT);
                    (0..40)
                        .map(|i| {
                            let body =
                                unregistered(&honest.envelope(0, &format!("junk {t} {i}")), t + 1);
                            post(&agent, url, &body).expect("an answer")
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let agent = agent(CLIENT_TIMEOUT);
        let genuine: Vec<_> = (0..20)
            .map(|i| {
                let body = honest.envelope(0, &format!("honest {i}"));
                post(&agent, &server.url, &body).expect("an answer")
            })
            .collect();
        let junk: Vec<_> = flooders
            .into_iter()
            .flat_map(|f| f.join().expect("flooder"))
            .collect();
        (junk, genuine)
    });
    assert_eq!(junk.len(), 320);
    for answer in &junk {
        assert_eq!(answer.status, 403, "{}", answer.text());
        assert!(answer.text().contains("unknown_key"), "{}", answer.text());
    }
    for (i, answer) in genuine.iter().enumerate() {
        assert_eq!(answer.status, 201, "honest {i}: {}", answer.text());
    }
}
