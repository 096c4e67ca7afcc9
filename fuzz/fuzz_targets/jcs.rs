//! RFC 8785 canonicalisation (`jcs::canonicalize`) of any JSON serde_json accepts: the
//! canonical form must itself parse, canonicalise to the same bytes (idempotence) and
//! denote the same JSON value.
#![no_main]

use glassbox_core::jcs;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Equal as JSON values.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Integers must survive as the same integer (a reader may parse them as
        // such); anything else is compared as the double RFC 8785 treats it as.
        (Value::Number(x), Value::Number(y)) => match (x.as_i128(), y.as_i128()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(canonical) = jcs::canonicalize(&value) else {
        return;
    };
    let text = std::str::from_utf8(&canonical).expect("canonical JSON must be UTF-8");
    let reparsed: Value = serde_json::from_str(text).expect("canonical JSON must parse");
    let again = jcs::canonicalize(&reparsed)
        .unwrap_or_else(|e| panic!("canonical output {text} does not canonicalise again: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&again),
        text,
        "canonicalisation is not idempotent"
    );
    assert!(
        same_json(&value, &reparsed),
        "canonical form denotes a different value: {text}"
    );
});
