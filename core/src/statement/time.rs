//! RFC 3339 timestamps, validated by hand because glassbox-core has no clock and no
//! date crate.
//!
//! Accepted: RFC 3339 §5.6 `date-time`, i.e. `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`,
//! with the calendar checked (month lengths, leap years) and a leap second (`:60`)
//! allowed. Glassbox is stricter than §5.6's note in one way: the separators `T` and
//! `Z` must be uppercase, as every in-toto and SLSA example writes them, so one instant
//! has fewer spellings in signed statements.

/// Checks `s` is an RFC 3339 date-time (see the module docs); the error says why not.
pub fn check_rfc3339(s: &str) -> Result<(), String> {
    rfc3339_to_unix(s).map(|_| ())
}

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 date-time (fraction truncated;
/// a leap second counts as the following second). Lets callers order timestamps, e.g.
/// a revocation's `compromisedSince` against a statement's `submittedAt`.
pub fn rfc3339_to_unix(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let expected = "expected an RFC 3339 date-time like 2025-01-31T12:00:00Z";
    if b.len() < 20 {
        return Err(expected.to_owned());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = &b[range];
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        } else {
            Err(expected.to_owned())
        }
    };
    let sep_ok = b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
    if !sep_ok {
        return Err(expected.to_owned());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is not 01..12"));
    }
    let dim = days_in_month(year, month);
    if day < 1 || day > dim {
        return Err(format!("day {day} is not 01..{dim}"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!(
            "time {hour:02}:{minute:02}:{second:02} is out of range"
        ));
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err("a fraction of a second needs at least one digit".to_owned());
        }
        rest = &rest[1 + digits..];
    }
    let offset_minutes = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(expected.to_owned());
            }
            let oh = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
            let om = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if oh > 23 || om > 59 {
                return Err(format!("offset {oh:02}:{om:02} is out of range"));
            }
            let total = oh * 60 + om;
            if *sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return Err(format!("{expected} (time zone must be Z or ±HH:MM)")),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_forms() {
        assert_eq!(rfc3339_to_unix("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(rfc3339_to_unix("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(rfc3339_to_unix("2024-02-29T23:59:60.5Z"), Ok(1_709_251_200));
        assert_eq!(rfc3339_to_unix("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(rfc3339_to_unix("1969-12-31T23:00:00-01:00"), Ok(0));
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "2025-01-01",
            "2025-01-01 00:00:00Z",
            "2025-01-01t00:00:00z",
            "2025-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00+0100",
            "2025-01-01T00:00:00+24:00",
            "２025-01-01T00:00:00Z",
        ] {
            assert!(check_rfc3339(bad).is_err(), "{bad:?}");
        }
    }
}
