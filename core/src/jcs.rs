//! RFC 8785 JSON Canonicalization Scheme (JCS) of a [`serde_json::Value`].
//!
//! Glassbox stores every log entry as the JCS form of its DSSE envelope (docs/design.md §3), so
//! two byte-different submissions of the same envelope become the same Merkle leaf and
//! re-submission is idempotent. The rules, by RFC 8785 section:
//!
//! - §3.2.1: no whitespace between tokens.
//! - §3.2.2.1: `null`, `true`, `false` as literals.
//! - §3.2.2.2: strings keep every code point as UTF-8 except `"` → `\"`, `\` → `\\`,
//!   U+0008/09/0A/0C/0D → `\b \t \n \f \r`, and the other controls below U+0020 →
//!   `\u00xx` with lowercase hex. Nothing else is escaped (not `/`, not U+007F, not
//!   U+2028).
//! - §3.2.2.3: numbers are serialised as ECMAScript `Number.prototype.toString` would.
//! - §3.2.3: object members are sorted by their names compared as arrays of UTF-16 code
//!   units, independent of locale; array order is kept.
//!
//! # Numbers (a documented choice)
//!
//! `serde_json::Value` (without its `arbitrary_precision` feature) holds a number as a
//! `u64`, an `i64` or an `f64`:
//!
//! - An `f64` is serialised with the ECMAScript shortest round-trip algorithm
//!   (ECMA-262 `Number::toString`): the shortest digit string that parses back to the
//!   same double (Rust's `{:e}` formatter computes exactly that digit string), placed in
//!   plain or exponential notation by ECMAScript's rules. `-0` becomes `0`. NaN and
//!   infinities cannot occur in a `Value`, but are rejected by [`format_f64`].
//! - A `u64`/`i64` is emitted verbatim when its magnitude is at most 2^53 − 1 (the I-JSON
//!   "safe integer" range of RFC 7493 §2.2), where it equals what ECMAScript prints for
//!   the same double. A larger integer is emitted only when its text is exactly the
//!   ECMAScript text of the nearest double (so the canonical text of `1e16`
//!   canonicalises to itself); any other integer is rejected with [`JcsError::UnsafeInteger`] rather than
//!   silently rounded: a canonicaliser that changes a signed value is worse than one
//!   that refuses it.

use serde_json::Value;
use std::cmp::Ordering;

/// The largest integer magnitude that every IEEE-754 double consumer reads exactly
/// (RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no RFC 8785 canonical form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// An integer outside ±(2^53 − 1), which a double cannot represent exactly.
    #[error("integer {value} is outside the I-JSON safe range ±(2^53 - 1) (RFC 7493 §2.2)")]
    UnsafeInteger {
        /// The integer as written.
        value: String,
    },
    /// NaN or ±Infinity, which JSON cannot carry (RFC 8785 §3.2.2.3).
    #[error("number {value} is not finite")]
    NonFinite {
        /// The value as Rust prints it.
        value: String,
    },
}

/// The RFC 8785 canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, JcsError> {
    canonicalize_to_string(value).map(String::into_bytes)
}

/// [`canonicalize`], returned as a `String` (canonical JSON is always valid UTF-8).
pub fn canonicalize_to_string(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value_str(value, &mut out)?;
    Ok(out)
}

fn write_value_str(value: &Value, out: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&format_number(n)?),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value_str(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| cmp_utf16(a.0, b.0));
            out.push('{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_value_str(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Compares two strings as sequences of UTF-16 code units (RFC 8785 §3.2.3). This
/// differs from byte order only when a supplementary-plane character (a surrogate pair,
/// 0xD800–0xDBFF) meets a BMP character at or above U+E000.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Appends `s` as a JSON string literal with RFC 8785 §3.2.2.2 escaping.
pub(crate) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn format_number(n: &serde_json::Number) -> Result<String, JcsError> {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE_INTEGER {
            return Ok(u.to_string());
        }
        // Beyond 2^53 - 1 an integer is canonical only if its decimal text is exactly
        // what ECMAScript prints for the nearest double (e.g. `1e16` is written
        // `10000000000000000`), so the canonicaliser accepts its own output and never
        // respells an integer (2^60 is printed `1152921504606847000`, not its value).
        let text = u.to_string();
        if format_f64(u as f64).as_deref() == Ok(text.as_str()) {
            return Ok(text);
        }
        return Err(JcsError::UnsafeInteger {
            value: u.to_string(),
        });
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE_INTEGER {
            return Ok(i.to_string());
        }
        let text = i.to_string();
        if format_f64(i as f64).as_deref() == Ok(text.as_str()) {
            return Ok(text);
        }
        return Err(JcsError::UnsafeInteger {
            value: i.to_string(),
        });
    }
    match n.as_f64() {
        Some(f) => format_f64(f),
        None => Err(JcsError::NonFinite {
            value: n.to_string(),
        }),
    }
}

/// Serialises a double as ECMAScript `Number.prototype.toString` (ECMA-262
/// `Number::toString`, radix 10), as RFC 8785 §3.2.2.3 requires.
pub fn format_f64(f: f64) -> Result<String, JcsError> {
    if !f.is_finite() {
        return Err(JcsError::NonFinite {
            value: f.to_string(),
        });
    }
    if f == 0.0 {
        // Both +0 and -0 print as "0".
        return Ok("0".to_owned());
    }
    let (digits, exp) = shortest_digits(f.abs());
    let k = digits.len() as i64;
    // ECMA-262: the value is 0.digits × 10^n.
    let n = exp + 1;
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    Ok(out)
}

/// The decimal digits (no leading or trailing zeros) and exponent `e` of the ECMAScript
/// choice for `f > 0`, so that `f ≈ d.ddd × 10^e`.
///
/// ECMA-262 `Number::toString` step 5: take the fewest digits k that round-trip; among
/// k-digit candidates take the one closest to the exact value, and on a tie the even
/// one. Rust's `{:e}` gives the fewest digits but may break the tie upwards (RFC 8785
/// Appendix B, `43143ff3c1cb0959`: `…206.25` must print `…206.2`), so the correctly
/// rounded k-digit form (`{:.*e}`, exact, ties to even) is preferred whenever it also
/// round-trips.
fn shortest_digits(f: f64) -> (String, i64) {
    let shortest = split_sci(&format!("{f:e}"));
    let k = shortest.0.len();
    let nearest = format!("{:.*e}", k - 1, f);
    if nearest.parse::<f64>() == Ok(f) {
        let (digits, exp) = split_sci(&nearest);
        let trimmed = digits.trim_end_matches('0');
        if !trimmed.is_empty() {
            return (trimmed.to_owned(), exp);
        }
    }
    shortest
}

/// Splits Rust's `d[.ddd]e[-]x` into ("dddd", x).
fn split_sci(sci: &str) -> (String, i64) {
    // A finite double always prints with an exponent; the fallback is never taken.
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}
