//! Reading the verifier's trust-policy TOML file (docs/design.md §6, plus `[operators]`).
//!
//! The file is walked by hand over toml's spanned document tree rather than through
//! a serde derive, so that every error — unknown key, wrong type, failed validation —
//! can name the exact field and the line and column it sits on. A policy decides what
//! a verifier accepts; a mistake in it must be loud and easy to fix, never silently
//! defaulted. The format is documented in `docs/formats/keys-and-policy.md`.

use std::ops::Range;
use std::path::Path;

use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::policy::{
    parse_duration, BuilderPolicy, KeySet, KeySetError, LogPolicy, ReviewerPolicy, WitnessPolicy,
    DEFAULT_BUILDERS_MIN, DEFAULT_REVIEWERS_MIN, DEFAULT_WITNESS_QUORUM,
};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub use crate::policy_error::{PolicyError, PolicyProblem, Position};
pub use glassbox_core::policy::TrustPolicy;

/// Loads and validates the trust policy at `path`.
pub fn load(path: &Path) -> Result<TrustPolicy, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates a trust policy; `source_name` (usually the file name) starts
/// every error message.
pub fn parse(text: &str, source_name: &str) -> Result<TrustPolicy, PolicyError> {
    let doc = DeTable::parse(text).map_err(|e| PolicyError::Syntax {
        file: source_name.to_string(),
        position: e.span().map(|s| Position::of_offset(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let cx = Context {
        file: source_name,
        text,
    };
    cx.policy(doc.get_ref())
}

/// `TrustPolicy::load(path)` / `TrustPolicy::parse(text, name)` for callers that
/// prefer associated functions; the type itself lives in `glassbox-core`.
pub trait TrustPolicyFile: Sized {
    fn load(path: &Path) -> Result<Self, PolicyError>;
    fn parse(text: &str, source_name: &str) -> Result<Self, PolicyError>;
}

impl TrustPolicyFile for TrustPolicy {
    fn load(path: &Path) -> Result<Self, PolicyError> {
        load(path)
    }
    fn parse(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        parse(text, source_name)
    }
}

type Item<'i> = Spanned<DeValue<'i>>;

const TOP_LEVEL: &[&str] = &["log", "witnesses", "reviewers", "builders", "operators"];
const LOG_KEYS: &[&str] = &["vkey", "max_age", "require_completeness"];
const WITNESS_KEYS: &[&str] = &["vkeys", "quorum"];
const REVIEWER_KEYS: &[&str] = &["keys", "min", "paths"];
const BUILDER_KEYS: &[&str] = &["keys", "min", "independent"];
const OPERATOR_KEYS: &[&str] = &["keys"];

struct Context<'a> {
    file: &'a str,
    text: &'a str,
}

/// The entries of one table that passed the unknown-key check, with the table's span
/// for "missing" errors.
struct Fields<'t, 'i> {
    path: String,
    span: Option<Range<usize>>,
    entries: Vec<(&'t str, &'t Item<'i>)>,
}

impl<'t, 'i> Fields<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Item<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }
}

impl Context<'_> {
    fn error(
        &self,
        span: Option<Range<usize>>,
        field: String,
        problem: PolicyProblem,
    ) -> PolicyError {
        PolicyError::Invalid {
            file: self.file.to_string(),
            position: span.map(|s| Position::of_offset(self.text, s.start)),
            field,
            problem,
        }
    }

    fn policy(&self, root: &DeTable<'_>) -> Result<TrustPolicy, PolicyError> {
        let top = self.fields(root, None, String::new(), TOP_LEVEL)?;

        let log = match top.get("log") {
            Some(item) => self.log(&self.table(item, "log".into(), LOG_KEYS)?)?,
            None => {
                return Err(self.error(
                    None,
                    "log".into(),
                    PolicyProblem::Missing {
                        what: "a [log] table with the log's verifier key",
                    },
                ))
            }
        };
        let witnesses = match top.get("witnesses") {
            Some(item) => self.witnesses(&self.table(item, "witnesses".into(), WITNESS_KEYS)?)?,
            None => WitnessPolicy::default(),
        };
        let reviewers = match top.get("reviewers") {
            Some(item) => {
                self.reviewers(&self.table(item, "reviewers".into(), REVIEWER_KEYS)?)?
            }
            None => ReviewerPolicy::default(),
        };
        let builders = match top.get("builders") {
            Some(item) => self.builders(&self.table(item, "builders".into(), BUILDER_KEYS)?)?,
            None => BuilderPolicy::default(),
        };
        let operators = match top.get("operators") {
            Some(item) => {
                let fields = self.table(item, "operators".into(), OPERATOR_KEYS)?;
                self.key_set(&fields)?
            }
            None => KeySet::Any,
        };
        Ok(TrustPolicy {
            log,
            witnesses,
            reviewers,
            builders,
            operators,
        })
    }

    fn log(&self, fields: &Fields<'_, '_>) -> Result<LogPolicy, PolicyError> {
        let Some(item) = fields.get("vkey") else {
            return Err(self.error(
                fields.span.clone(),
                fields.field("vkey"),
                PolicyProblem::Missing {
                    what: "the log's C2SP verifier key (`vkey = \"name+hash+base64\"`)",
                },
            ));
        };
        let vkey = self.string(item, fields.field("vkey"))?;
        // Stored in canonical form (lowercase key hash), as core's parser re-prints it.
        let parsed = NoteVerifierKey::parse(vkey).map_err(|cause| {
            self.error(
                Some(item.span()),
                fields.field("vkey"),
                PolicyProblem::BadLogVkey { cause },
            )
        })?;
        let max_age = match fields.get("max_age") {
            None => None,
            Some(item) => {
                let text = self.string(item, fields.field("max_age"))?;
                Some(parse_duration(text).ok_or_else(|| {
                    self.error(
                        Some(item.span()),
                        fields.field("max_age"),
                        PolicyProblem::BadDuration {
                            value: text.to_string(),
                        },
                    )
                })?)
            }
        };
        let require_completeness = match fields.get("require_completeness") {
            None => false,
            Some(item) => self.boolean(item, fields.field("require_completeness"))?,
        };
        Ok(LogPolicy {
            vkey: parsed.to_string(),
            max_age,
            require_completeness,
        })
    }

    fn witnesses(&self, fields: &Fields<'_, '_>) -> Result<WitnessPolicy, PolicyError> {
        let mut witnesses: Vec<CosignatureVerifierKey> = Vec::new();
        if let Some(item) = fields.get("vkeys") {
            for (i, entry) in self.array(item, fields.field("vkeys"))?.iter().enumerate() {
                let field = format!("{}[{i}]", fields.field("vkeys"));
                let vkey = self.string(entry, field.clone())?;
                let parsed = CosignatureVerifierKey::parse(vkey).map_err(|cause| {
                    self.error(
                        Some(entry.span()),
                        field.clone(),
                        PolicyProblem::BadWitnessVkey { cause },
                    )
                })?;
                if witnesses
                    .iter()
                    .any(|w| w.name() == parsed.name() || w.public_key() == parsed.public_key())
                {
                    let name = parsed.name().to_string();
                    return Err(self.error(
                        Some(entry.span()),
                        field,
                        PolicyProblem::DuplicateWitness { name },
                    ));
                }
                witnesses.push(parsed);
            }
        }
        let vkeys: Vec<String> = witnesses.iter().map(ToString::to_string).collect();
        let quorum = match fields.get("quorum") {
            Some(item) => {
                let quorum = self.count(item, fields.field("quorum"))?;
                if quorum > vkeys.len() {
                    return Err(self.error(
                        Some(item.span()),
                        fields.field("quorum"),
                        PolicyProblem::QuorumTooLarge {
                            quorum,
                            witnesses: vkeys.len(),
                        },
                    ));
                }
                quorum
            }
            None => DEFAULT_WITNESS_QUORUM,
        };
        Ok(WitnessPolicy { vkeys, quorum })
    }

    fn reviewers(&self, fields: &Fields<'_, '_>) -> Result<ReviewerPolicy, PolicyError> {
        let (keys, min) = self.trusted(fields, DEFAULT_REVIEWERS_MIN)?;
        let mut paths = Vec::new();
        if let Some(item) = fields.get("paths") {
            for (i, entry) in self.array(item, fields.field("paths"))?.iter().enumerate() {
                let field = format!("{}[{i}]", fields.field("paths"));
                let path = self.string(entry, field.clone())?;
                let bad = |reason| {
                    self.error(
                        Some(entry.span()),
                        field.clone(),
                        PolicyProblem::BadPath {
                            path: path.to_owned(),
                            reason,
                        },
                    )
                };
                if path.is_empty() {
                    return Err(bad("empty"));
                }
                if path.starts_with('/') {
                    return Err(bad("absolute"));
                }
                if path.split('/').any(|c| c == "..") {
                    return Err(bad("contains .."));
                }
                if paths.iter().any(|p| p == path) {
                    return Err(bad("listed twice"));
                }
                paths.push(path.to_owned());
            }
        }
        Ok(ReviewerPolicy { keys, min, paths })
    }

    fn builders(&self, fields: &Fields<'_, '_>) -> Result<BuilderPolicy, PolicyError> {
        let (keys, min) = self.trusted(fields, DEFAULT_BUILDERS_MIN)?;
        let independent = match fields.get("independent") {
            Some(item) => {
                let independent = self.count(item, fields.field("independent"))?;
                if independent > min {
                    return Err(self.error(
                        Some(item.span()),
                        fields.field("independent"),
                        PolicyProblem::IndependentAboveMin { independent, min },
                    ));
                }
                independent
            }
            None => BuilderPolicy::default_independent(min),
        };
        Ok(BuilderPolicy {
            keys,
            min,
            independent,
        })
    }

    /// `keys` and `min` of a `[reviewers]` or `[builders]` table.
    fn trusted(
        &self,
        fields: &Fields<'_, '_>,
        default_min: usize,
    ) -> Result<(KeySet, usize), PolicyError> {
        let keys = self.key_set(fields)?;
        let (min, min_span) = match fields.get("min") {
            Some(item) => (self.count(item, fields.field("min"))?, Some(item.span())),
            None => (default_min, None),
        };
        if min == 0 {
            return Err(self.error(min_span, fields.field("min"), PolicyProblem::MinTooSmall));
        }
        if let Some(listed) = keys.listed_len().filter(|listed| min > *listed) {
            // With no explicit `min` the default is what cannot be met: point at the list.
            let span = min_span.or_else(|| fields.get("keys").map(Spanned::span));
            return Err(self.error(
                span,
                fields.field("min"),
                PolicyProblem::MinAboveListed { min, listed },
            ));
        }
        Ok((keys, min))
    }

    /// `keys = ["*"]` or a list of key IDs; absent means `"*"` (docs/design.md §6).
    fn key_set(&self, fields: &Fields<'_, '_>) -> Result<KeySet, PolicyError> {
        let Some(item) = fields.get("keys") else {
            return Ok(KeySet::Any);
        };
        let array = self.array(item, fields.field("keys"))?;
        let mut entries = Vec::with_capacity(array.len());
        for (i, entry) in array.iter().enumerate() {
            entries.push(self.string(entry, format!("{}[{i}]", fields.field("keys")))?);
        }
        KeySet::from_entries(entries.iter().copied()).map_err(|problem| {
            let index = match &problem {
                KeySetError::WildcardMixed { index }
                | KeySetError::BadKeyId { index, .. }
                | KeySetError::Duplicate { index, .. } => Some(*index),
                _ => None,
            };
            let (span, field) = match index.and_then(|i| array.get(i).map(|e| (i, e))) {
                Some((i, entry)) => (entry.span(), format!("{}[{i}]", fields.field("keys"))),
                None => (item.span(), fields.field("keys")),
            };
            self.error(Some(span), field, PolicyProblem::KeyList(problem))
        })
    }

    /// The entries of `table` in file order, refusing keys not in `allowed`.
    fn fields<'t, 'i>(
        &self,
        table: &'t DeTable<'i>,
        span: Option<Range<usize>>,
        path: String,
        allowed: &'static [&'static str],
    ) -> Result<Fields<'t, 'i>, PolicyError> {
        let mut entries: Vec<(&Spanned<_>, &Item<'i>)> = table.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        let mut known = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let name: &str = key.get_ref();
            if !allowed.contains(&name) {
                let field = if path.is_empty() {
                    name.to_string()
                } else {
                    format!("{path}.{name}")
                };
                return Err(self.error(
                    Some(key.span()),
                    field,
                    PolicyProblem::UnknownKey { allowed },
                ));
            }
            known.push((name, value));
        }
        Ok(Fields {
            path,
            span,
            entries: known,
        })
    }

    fn table<'t, 'i>(
        &self,
        item: &'t Item<'i>,
        path: String,
        allowed: &'static [&'static str],
    ) -> Result<Fields<'t, 'i>, PolicyError> {
        match item.get_ref() {
            DeValue::Table(table) => self.fields(table, Some(item.span()), path, allowed),
            other => Err(self.wrong_type(item, path, "a table", other)),
        }
    }

    fn array<'t, 'i>(
        &self,
        item: &'t Item<'i>,
        field: String,
    ) -> Result<&'t [Item<'i>], PolicyError> {
        match item.get_ref() {
            DeValue::Array(array) => Ok(array),
            other => Err(self.wrong_type(item, field, "an array", other)),
        }
    }

    fn string<'t>(&self, item: &'t Item<'_>, field: String) -> Result<&'t str, PolicyError> {
        match item.get_ref() {
            DeValue::String(s) => Ok(s),
            other => Err(self.wrong_type(item, field, "a string", other)),
        }
    }

    fn boolean(&self, item: &Item<'_>, field: String) -> Result<bool, PolicyError> {
        match item.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.wrong_type(item, field, "true or false", other)),
        }
    }

    fn count(&self, item: &Item<'_>, field: String) -> Result<usize, PolicyError> {
        let DeValue::Integer(integer) = item.get_ref() else {
            return Err(self.wrong_type(item, field, "an integer", item.get_ref()));
        };
        i128::from_str_radix(integer.as_str(), integer.radix())
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                self.error(
                    Some(item.span()),
                    field,
                    PolicyProblem::OutOfRange {
                        value: integer.to_string(),
                    },
                )
            })
    }

    fn wrong_type(
        &self,
        item: &Item<'_>,
        field: String,
        expected: &'static str,
        found: &DeValue<'_>,
    ) -> PolicyError {
        self.error(
            Some(item.span()),
            field,
            PolicyProblem::WrongType {
                expected,
                found: found.type_str(),
            },
        )
    }
}
