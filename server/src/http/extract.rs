//! Query and path extractors whose rejections are [`AppError`]s, so malformed
//! parameters get the same JSON error shape as everything else, and the reading of
//! queries that combine the shared [`SearchFilter`] with a route's own keys.

use std::fmt;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use glassbox_core::api::SearchFilter;
use serde::de::Error as _;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::http::error::AppError;

/// Like [`axum::extract::Query`], rejecting with `400 bad_request`.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| AppError::BadRequest(e.body_text()))
    }
}

/// Like [`axum::extract::Path`], rejecting with `400 bad_request`.
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for P<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|e| AppError::BadRequest(path_error(&e)))
    }
}

/// What was wrong with a path, in the reader's words: `index: "abc" is not a whole
/// number (0 or more)` rather than the framework's `Cannot parse "abc" to a u64`.
fn path_error(e: &PathRejection) -> String {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(d) = e else {
        return e.body_text();
    };
    let form = |t: &str| match t {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        _ => "of the form this path takes",
    };
    match d.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => format!("{key}: {value:?} is not {}", form(expected_type)),
        ErrorKind::ParseError {
            value,
            expected_type,
        }
        | ErrorKind::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        } => format!("{value:?} is not {}", form(expected_type)),
        _ => e.body_text(),
    }
}

/// `a` followed by `b`: the keys a query accepts when they are a shared wire type's
/// and a route's own (checked at compile time to fill exactly `N`).
pub const fn concat_keys<const N: usize>(
    a: &[&'static str],
    b: &[&'static str],
) -> [&'static str; N] {
    assert!(a.len() + b.len() == N, "N must be the sum of the lengths");
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// Reads a query whose keys are [`SearchFilter::KEYS`] and a route's own, refusing
/// unknown and repeated keys with the errors `#[serde(deny_unknown_fields)]` gives.
/// serde cannot refuse unknown keys next to a flattened struct, so the keys are
/// read here one by one; `own` reads the value of each key of the route (listed in
/// `keys` after the filter's).
pub fn read_filter_query<'de, A: MapAccess<'de>>(
    mut map: A,
    keys: &'static [&'static str],
    mut own: impl FnMut(&'static str, &mut A) -> Result<(), A::Error>,
) -> Result<SearchFilter, A::Error> {
    let mut filter = serde_json::Map::new();
    while let Some(key) = map.next_key_seed(OneOf(keys))? {
        if !SearchFilter::KEYS.contains(&key) {
            own(key, &mut map)?;
        } else if filter.contains_key(key) {
            return Err(A::Error::duplicate_field(key));
        } else {
            filter.insert(key.to_owned(), map.next_value::<String>()?.into());
        }
    }
    // Every value is a string under a known key: SearchFilter's own reading cannot fail.
    serde_json::from_value(filter.into()).map_err(A::Error::custom)
}

/// Reads the value of `key` into `slot`, refusing a second one.
pub fn read_once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    key: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::duplicate_field(key));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// A query key that must be one of the listed names.
struct OneOf(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for OneOf {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for OneOf {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a query parameter name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        self.0
            .iter()
            .find(|k| **k == v)
            .copied()
            .ok_or_else(|| E::unknown_field(v, self.0))
    }
}
