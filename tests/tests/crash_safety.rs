//! Crash safety (docs/reliability.md, "Crash safety"): ≥16 concurrent submitters,
//! SIGKILL at random moments, restart on the same data dir, audit after every round.
//!
//! CI runs 20 rounds; `GLASSBOX_CRASH_ROUNDS=500` is the long mode, and
//! `GLASSBOX_CRASH_SEED=N` repeats the kill delays of a printed seed.

use glassbox_tests::crash::{run, CrashConfig};

#[test]
fn sigkill_under_load_never_loses_an_acknowledged_entry_nor_forks_the_log() {
    let config = CrashConfig::from_env();
    println!(
        "crash harness: seed {} (repeat with GLASSBOX_CRASH_SEED={}), {} rounds, {} submitters",
        config.seed, config.seed, config.rounds, config.threads
    );
    assert!(config.threads >= 16);
    let summary = match run(&config) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n(repeat with GLASSBOX_CRASH_SEED={})", config.seed),
    };
    println!("crash harness summary: {summary:?}");
    assert_eq!(summary.rounds, config.rounds);
    assert!(
        summary.acknowledged > 0,
        "no submission was ever acknowledged: the harness tested nothing"
    );
}
