//! Inputs found by the cargo-fuzz targets in `fuzz/` (docs/fuzzing.md), minimised and
//! kept here so that every finding stays fixed without a fuzzer. Each test is named
//! after the property the input broke and holds the input bytes inline; the target
//! that found it is named in its doc comment.
//!
//! A finding is fixed in the same change that adds its test.

use glassbox_core::jcs::{canonicalize_to_string, format_f64};
use serde_json::Value;

/// Canonicalises `json`, parses the canonical text back and canonicalises that: RFC
/// 8785 output must be a fixed point of the canonicaliser.
fn assert_canonical_fixed_point(json: &str) {
    let value: Value = serde_json::from_str(json).expect("test input is JSON");
    let once = canonicalize_to_string(&value).expect("input has a canonical form");
    let reparsed: Value = serde_json::from_str(&once).expect("canonical text is JSON");
    let twice = canonicalize_to_string(&reparsed)
        .unwrap_or_else(|e| panic!("canonical text {once} does not canonicalise again: {e}"));
    assert_eq!(twice, once);
}

/// Found by `fuzz/fuzz_targets/jcs.rs` (minimised from a 174-byte crash). The double
/// 1e16 is written `10000000000000000` (ECMAScript `Number::toString`), which
/// serde_json reads back as a `u64` above 2^53 − 1 that `jcs::canonicalize` then
/// rejects as `UnsafeInteger`: the canonicaliser refuses its own output.
#[test]
fn jcs_output_for_1e16_canonicalises_again() {
    assert_canonical_fixed_point("1e16");
}

/// Same finding, through RFC 8785 Appendix B's own vector `0x4340000000000000`
/// (2^53), whose canonical text `9007199254740992` is one past the safe-integer range.
#[test]
fn jcs_output_for_appendix_b_two_pow_53_canonicalises_again() {
    assert_eq!(
        format_f64(f64::from_bits(0x4340000000000000)).unwrap(),
        "9007199254740992"
    );
    assert_canonical_fixed_point("9007199254740992.0");
    assert_canonical_fixed_point("[-1e18]");
}

/// The part of the same finding that is right today and must stay right: an integer
/// that is not exactly a double has no canonical form (jcs.rs module docs).
#[test]
fn jcs_integer_that_is_no_double_is_still_rejected() {
    let value: Value = serde_json::from_str("9007199254740993").unwrap();
    assert!(canonicalize_to_string(&value).is_err());
}

/// Found by `fuzz/fuzz_targets/jcs.rs` within seconds of running it over the first
/// fix of the finding above (input `833650509919199191.5`). A double beyond 2^53 is
/// written with ECMAScript's shortest digits, zero-padded: 2^60 becomes
/// `1152921504606847000`. Read back, that integer is not exactly a double (it lies 24
/// above 2^60), so `format_number` refuses it and the canonicaliser again rejects its
/// own output.
#[test]
fn jcs_output_for_two_pow_60_canonicalises_again() {
    assert_canonical_fixed_point("833650509919199191.5");
    assert_canonical_fixed_point("1.152921504606847e18");
    assert_canonical_fixed_point("[-1.152921504606847e18]");
}

/// The other half of the same finding: the integer literal `1152921504606846976` is
/// exactly 2^60, but its canonical text would be `1152921504606847000` — a different
/// integer to any reader that parses integers. Per the jcs.rs module docs the
/// canonicaliser must refuse it rather than respell a signed value.
#[test]
fn jcs_integer_is_refused_rather_than_respelt() {
    for input in ["1152921504606846976", "-1152921504606846976"] {
        let value: Value = serde_json::from_str(input).unwrap();
        if let Ok(text) = canonicalize_to_string(&value) {
            assert_eq!(text, input, "canonicalisation respelt the integer {input}");
        }
    }
}
