//! Field checks shared by the predicate kinds. Each takes the JSON path of the field so
//! that an error names exactly what is wrong (`predicate.repository: …`).

use super::StatementError;

pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> StatementError {
    StatementError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

/// Lowercase hex of one of the given lengths.
pub(crate) fn check_hex(path: &str, value: &str, lengths: &[usize]) -> Result<(), StatementError> {
    let is_hex = value
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if is_hex && lengths.contains(&value.len()) {
        return Ok(());
    }
    let lens: Vec<String> = lengths.iter().map(usize::to_string).collect();
    Err(invalid(
        path,
        format!(
            "expected {} lowercase hex digits, found {value:?}",
            lens.join(" or ")
        ),
    ))
}

/// A one-line human label: non-empty, no control characters.
pub(crate) fn check_label(path: &str, value: &str) -> Result<(), StatementError> {
    if value.trim().is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(path, "must not contain control characters"));
    }
    Ok(())
}

/// Free text (may span lines): non-empty and without control characters other than
/// newline and tab.
pub(crate) fn check_text(path: &str, value: &str) -> Result<(), StatementError> {
    if value.trim().is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(path, "must not contain control characters"));
    }
    Ok(())
}

/// A URL of the form `scheme://rest` (RFC 3986 scheme syntax), without whitespace or
/// control characters. Repository and builder locations are compared as exact strings,
/// so no normalisation is attempted.
pub(crate) fn check_url(path: &str, value: &str) -> Result<(), StatementError> {
    let bad = || {
        invalid(
            path,
            format!("expected a URL like https://host/path, found {value:?}"),
        )
    };
    let (scheme, rest) = value.split_once("://").ok_or_else(bad)?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok(())
}

/// A relative slash-separated path inside a tree: non-empty, not absolute, no `..`
/// component, no backslash, NUL or control character.
pub(crate) fn check_relative_path(path: &str, value: &str) -> Result<(), StatementError> {
    if value.is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    if value.starts_with('/') {
        return Err(invalid(path, format!("must be relative, found {value:?}")));
    }
    if value.split('/').any(|c| c == "..") {
        return Err(invalid(
            path,
            format!("must not contain '..', found {value:?}"),
        ));
    }
    if value.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid(
            path,
            "must not contain backslashes or control characters",
        ));
    }
    Ok(())
}

pub(crate) fn check_timestamp(path: &str, value: &str) -> Result<(), StatementError> {
    super::time::check_rfc3339(value).map_err(|reason| invalid(path, reason))
}
