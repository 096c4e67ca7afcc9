//! RFC 8785 known answers.
//!
//! The IEEE-754 vectors are RFC 8785 Appendix B. The object/array/string cases are the
//! `testdata/input` → `testdata/output` pairs of the JCS authors' reference repository
//! (github.com/cyberphone/json-canonicalization, Apache-2.0), reproduced as data.

use glassbox_core::jcs::{canonicalize, canonicalize_to_string, format_f64, JcsError};
use serde_json::{json, Value};

fn canon(input: &str) -> String {
    let value: Value = serde_json::from_str(input).unwrap();
    canonicalize_to_string(&value).unwrap()
}

/// RFC 8785 Appendix B: bit pattern of a double → its canonical text.
const APPENDIX_B: &[(u64, &str)] = &[
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"),
    (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"),
    (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
    (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"),
    (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"),
    (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
];

#[test]
fn appendix_b_numbers() {
    for (bits, want) in APPENDIX_B {
        let f = f64::from_bits(*bits);
        assert_eq!(format_f64(f).unwrap(), *want, "bits {bits:016x}");
        // The same double inside a Value goes through the same path.
        let value = Value::from(f);
        assert_eq!(canonicalize_to_string(&value).unwrap(), *want);
    }
}

#[test]
fn appendix_b_nan_and_infinity_are_rejected() {
    for bits in [0x7fffffffffffffffu64, 0x7ff0000000000000] {
        let err = format_f64(f64::from_bits(bits)).unwrap_err();
        assert!(matches!(err, JcsError::NonFinite { .. }), "{err}");
    }
}

#[test]
fn small_and_large_exponent_boundaries() {
    assert_eq!(format_f64(1e-6).unwrap(), "0.000001");
    assert_eq!(format_f64(1e-7).unwrap(), "1e-7");
    assert_eq!(format_f64(1e20).unwrap(), "100000000000000000000");
    assert_eq!(format_f64(1e21).unwrap(), "1e+21");
    assert_eq!(format_f64(123.456).unwrap(), "123.456");
    assert_eq!(format_f64(-1.5).unwrap(), "-1.5");
    assert_eq!(format_f64(56.0).unwrap(), "56");
}

#[test]
fn reference_values() {
    let input = r#"{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
    let want = "{\"escaping\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\",\"literals\":[null,true,false],\"numbers\":[1e+30,4.5,333333333.3333333,0.002,1e-27]}";
    assert_eq!(canon(input), want);
}

#[test]
fn reference_structures() {
    let input = r#"{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ { } ],
  "A": { }
}"#;
    let want =
        r#"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}"#;
    assert_eq!(canon(input), want);
}

#[test]
fn reference_arrays() {
    let input = "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]";
    assert_eq!(canon(input), r#"[56,{"1":[],"10":null,"d":true}]"#);
}

#[test]
fn reference_french_ignores_locale() {
    let input = r#"{
  "peach": "This sorting order",
  "péché": "is wrong according to French",
  "pêche": "but canonicalization MUST",
  "sin":   "ingnore locale"
}"#;
    let want = r#"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ingnore locale"}"#;
    assert_eq!(canon(input), want);
}

#[test]
fn reference_unicode_is_not_normalised() {
    let input = r#"{"Unnormalized Unicode":"\u1e0d\u0307"}"#;
    assert_eq!(
        canon(input),
        "{\"Unnormalized Unicode\":\"\u{1e0d}\u{0307}\"}"
    );
}

#[test]
fn reference_weird_sorts_by_utf16_code_units() {
    let input = r#"{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}"#;
    // U+1F602 (surrogates D83D DE02) sorts before U+FB33 in UTF-16 but after it in UTF-8.
    let want = "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7f}\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f602}\":\"Smiley\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canon(input), want);
}

#[test]
fn control_characters_use_short_or_lowercase_u_escapes() {
    let value = json!("\u{8}\t\n\u{c}\r\u{0}\u{1f}\u{7f}\u{2028}/");
    assert_eq!(
        canonicalize_to_string(&value).unwrap(),
        "\"\\b\\t\\n\\f\\r\\u0000\\u001f\u{7f}\u{2028}/\""
    );
}

#[test]
fn safe_integers_are_written_verbatim() {
    let value = json!([0, -1, 9007199254740991u64, -9007199254740991i64]);
    assert_eq!(
        canonicalize(&value).unwrap(),
        b"[0,-1,9007199254740991,-9007199254740991]"
    );
}

#[test]
fn integer_beyond_2_pow_53_that_is_no_double_is_rejected() {
    for value in [
        json!(9007199254740993u64),
        json!(-9007199254740993i64),
        json!(u64::MAX),
        json!(i64::MAX),
    ] {
        let err = canonicalize(&value).unwrap_err();
        assert!(matches!(err, JcsError::UnsafeInteger { .. }), "{err}");
    }
}

#[test]
fn integer_beyond_2_pow_53_that_is_a_double_is_its_ecmascript_text() {
    assert_eq!(
        canonicalize(&json!(9007199254740992u64)).unwrap(),
        b"9007199254740992"
    );
    assert_eq!(
        canonicalize(&json!(-9007199254740992i64)).unwrap(),
        b"-9007199254740992"
    );
    assert_eq!(
        canonicalize(&json!(10_000_000_000_000_000u64)).unwrap(),
        b"10000000000000000"
    );
}

#[test]
fn canonical_form_is_a_fixed_point() {
    let input = r#"{"b":[1,2.5,{"z":null,"y":"\u00e9"}],"a":"x"}"#;
    let once = canon(input);
    assert_eq!(canon(&once), once);
}
