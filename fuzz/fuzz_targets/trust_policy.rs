//! The verifier's trust policy TOML (`glassbox_keys::policy::parse`) and participant
//! public keys (`glassbox_keys::parse_verifying_key`): a policy that parses, written
//! back in the file's own shape, parses to an equal policy (defaults, key-ID case and
//! ordering are normalised once and stay put); a key that parses formats to PEM that
//! parses to the same key.
#![no_main]

use glassbox_core::policy::TrustPolicy;
use glassbox_keys::policy;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use toml::{Table, Value};

fn value(v: &impl Serialize) -> Value {
    Value::try_from(v).expect("policy parts serialise to TOML values")
}

/// The policy as a policy file (docs/formats/keys-and-policy.md). `TrustPolicy`'s
/// `Serialize` is the `--json` shape, where `operators` is a bare key list; the file
/// has an `[operators]` table with `keys`.
fn file_form(p: &TrustPolicy) -> String {
    let mut operators = Table::new();
    operators.insert("keys".into(), value(&p.operators));
    let mut doc = Table::new();
    doc.insert("log".into(), value(&p.log));
    doc.insert("witnesses".into(), value(&p.witnesses));
    doc.insert("reviewers".into(), value(&p.reviewers));
    doc.insert("builders".into(), value(&p.builders));
    doc.insert("operators".into(), Value::Table(operators));
    toml::to_string(&doc).expect("a TOML table serialises")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = policy::parse(text, "fuzz.toml") {
        let written = file_form(&parsed);
        let again = policy::parse(&written, "written.toml").unwrap_or_else(|e| {
            panic!("policy written back as a file does not parse: {e}\n{written}")
        });
        assert_eq!(again, parsed, "policy changed through its file form");
    }
    if let Ok(key) = glassbox_keys::parse_verifying_key(text) {
        let pem = glassbox_keys::public_key_pem(&key);
        let again = glassbox_keys::parse_verifying_key(&pem).expect("public_key_pem output parses");
        assert_eq!(again, key);
    }
});
