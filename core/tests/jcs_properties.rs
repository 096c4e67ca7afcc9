//! Properties every RFC 8785 number and object serialisation must have.

use glassbox_core::jcs::{canonicalize_to_string, format_f64};
use proptest::prelude::*;
use serde_json::Value;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// ECMA-262 Number::toString output parses back to the same double and is never
    /// longer (in significant digits) than Rust's shortest round-trip form.
    #[test]
    fn number_text_round_trips_and_is_shortest(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        prop_assume!(f.is_finite());
        let text = format_f64(f).unwrap();
        let back: f64 = text.parse().unwrap();
        prop_assert!(back == f, "{text} != {f:e}");
        let sig = |s: &str| {
            let mantissa = s.split(['e', 'E']).next().unwrap_or("");
            mantissa.chars().filter(char::is_ascii_digit).collect::<String>()
                .trim_start_matches('0').trim_end_matches('0').len()
        };
        let rust_shortest = format!("{:e}", f.abs());
        prop_assert!(sig(&text) <= sig(&rust_shortest).max(1), "{} vs {}", text, rust_shortest);
    }

    /// Canonicalising parsed canonical text changes nothing.
    #[test]
    fn canonical_text_is_a_fixed_point(
        map in proptest::collection::btree_map("\\PC{0,6}", any::<i32>(), 0..8)
    ) {
        let value = serde_json::to_value(&map).unwrap();
        let once = canonicalize_to_string(&value).unwrap();
        let reparsed: Value = serde_json::from_str(&once).unwrap();
        prop_assert_eq!(canonicalize_to_string(&reparsed).unwrap(), once);
    }
}
