//! What to do about each failure of a verdict: the "what to do" column of the
//! failures table in docs/verification.md, read from that file (built into the
//! binary), so the advice printed and the advice documented are one text.

use std::collections::HashMap;
use std::sync::OnceLock;

use glassbox_core::verify::Failure;

/// The documentation the remedies are read from.
const VERIFICATION_MD: &str = include_str!("../../../../docs/verification.md");

/// Failure code → what to do, from the failures table.
fn remedies() -> &'static HashMap<String, String> {
    static TABLE: OnceLock<HashMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| parse(VERIFICATION_MD))
}

/// The rows `` | `code` | meaning | what to do | `` of the table under "## Failures".
fn parse(markdown: &str) -> HashMap<String, String> {
    let section = markdown
        .split("\n## Failures\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or("");
    section
        .lines()
        .filter_map(|row| {
            let row = row.strip_prefix("| `")?.strip_suffix(" |")?;
            let (code, rest) = row.split_once("` | ")?;
            let (_, what) = rest.rsplit_once(" | ")?;
            Some((code.to_owned(), what.replace('`', "")))
        })
        .collect()
}

/// The failure's stable code (its `--json` tag).
pub fn code(failure: &Failure) -> Option<String> {
    serde_json::to_value(failure)
        .ok()?
        .get("code")?
        .as_str()
        .map(str::to_owned)
}

/// What to do about `failure`, as docs/verification.md says.
pub fn remedy(failure: &Failure) -> Option<&'static str> {
    remedies().get(&code(failure)?).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant names of `Failure`, as their camelCase codes, read from its
    /// source: every one must have a row in the table, and every row a variant.
    fn failure_codes() -> Vec<String> {
        let source = include_str!("../../../../core/src/verify/verdict.rs");
        let body = source
            .split("pub enum Failure {")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("the Failure enum");
        body.lines()
            .filter_map(|l| {
                let name = l.strip_prefix("    ")?;
                let end = name.find([' ', ',', '('])?;
                let name = &name[..end];
                name.starts_with(|c: char| c.is_ascii_uppercase())
                    .then(|| name[..1].to_ascii_lowercase() + &name[1..])
            })
            .collect()
    }

    #[test]
    fn every_failure_has_what_to_do_and_the_table_names_no_other() {
        let mut codes = failure_codes();
        codes.sort();
        let mut documented: Vec<String> = remedies().keys().cloned().collect();
        documented.sort();
        assert!(codes.len() > 30, "{codes:?}");
        assert_eq!(codes, documented);
        assert!(remedies().values().all(|r| !r.trim().is_empty()));
    }

    #[test]
    fn a_failure_gets_its_documented_remedy() {
        let failure = Failure::NoBuild;
        assert_eq!(code(&failure).as_deref(), Some("noBuild"));
        assert!(remedy(&failure)
            .unwrap()
            .starts_with("The file is not what was released"));
    }
}
