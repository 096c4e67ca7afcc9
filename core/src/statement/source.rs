//! Source identity (docs/design.md §2) and review scope, shared by submissions, reviews and
//! builds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fields::{check_hex, check_relative_path, check_url, invalid};
use super::{StatementError, Subject};

/// The in-toto DigestSet naming a source tree: `dirHash` (SHA-256 based, the member
/// verification matches on) and optionally the git commit and tree IDs, which are
/// carried and cross-checked but never trusted alone (they may be SHA-1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceDigest {
    /// Commit ID: 40 (SHA-1) or 64 (SHA-256) lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Root tree ID of that commit, same length as `git_commit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_tree: Option<String>,
    /// [`crate::dirhash::dir_hash`] of the tree: 64 lowercase hex.
    pub dir_hash: String,
}

impl SourceDigest {
    /// A source identity from a directory or tarball, without git IDs.
    pub fn from_dir_hash(dir_hash: impl Into<String>) -> SourceDigest {
        SourceDigest {
            git_commit: None,
            git_tree: None,
            dir_hash: dir_hash.into(),
        }
    }

    /// A source identity from a git commit.
    pub fn from_git(
        git_commit: impl Into<String>,
        git_tree: impl Into<String>,
        dir_hash: impl Into<String>,
    ) -> SourceDigest {
        SourceDigest {
            git_commit: Some(git_commit.into()),
            git_tree: Some(git_tree.into()),
            dir_hash: dir_hash.into(),
        }
    }

    /// Checks the hex forms and that `gitCommit` and `gitTree` come together (and from
    /// the same hash algorithm). `path` is the JSON path of the DigestSet.
    pub fn validate(&self, path: &str) -> Result<(), StatementError> {
        check_hex(&format!("{path}.dirHash"), &self.dir_hash, &[64])?;
        match (&self.git_commit, &self.git_tree) {
            (None, None) => Ok(()),
            (Some(commit), Some(tree)) => {
                check_hex(&format!("{path}.gitCommit"), commit, &[40, 64])?;
                check_hex(&format!("{path}.gitTree"), tree, &[40, 64])?;
                if commit.len() != tree.len() {
                    return Err(invalid(
                        format!("{path}.gitTree"),
                        "gitCommit and gitTree must use the same hash algorithm (both 40 or both 64 hex digits)",
                    ));
                }
                Ok(())
            }
            (Some(_), None) => Err(invalid(
                format!("{path}.gitTree"),
                "required when gitCommit is present",
            )),
            (None, Some(_)) => Err(invalid(
                format!("{path}.gitCommit"),
                "required when gitTree is present",
            )),
        }
    }

    /// The DigestSet map as it appears in a subject.
    pub fn to_digest_set(&self) -> BTreeMap<String, String> {
        let mut set = BTreeMap::new();
        if let Some(c) = &self.git_commit {
            set.insert("gitCommit".to_owned(), c.clone());
        }
        if let Some(t) = &self.git_tree {
            set.insert("gitTree".to_owned(), t.clone());
        }
        set.insert("dirHash".to_owned(), self.dir_hash.clone());
        set
    }

    /// Reads a subject DigestSet; any algorithm other than the three is rejected.
    pub(crate) fn from_digest_set(
        path: &str,
        set: &BTreeMap<String, String>,
    ) -> Result<SourceDigest, StatementError> {
        for name in set.keys() {
            if !matches!(name.as_str(), "gitCommit" | "gitTree" | "dirHash") {
                return Err(invalid(
                    format!("{path}.{name}"),
                    "unexpected digest; a source is named by dirHash, gitCommit and gitTree",
                ));
            }
        }
        let dir_hash = set
            .get("dirHash")
            .ok_or_else(|| invalid(format!("{path}.dirHash"), "required"))?;
        let source = SourceDigest {
            git_commit: set.get("gitCommit").cloned(),
            git_tree: set.get("gitTree").cloned(),
            dir_hash: dir_hash.clone(),
        };
        source.validate(path)?;
        Ok(source)
    }
}

/// Reads the single `{"name": <repository URL>, "digest": <source DigestSet>}` subject
/// of a submission or review.
pub(crate) fn parse_source_subject(
    subjects: &[Subject],
) -> Result<(String, SourceDigest), StatementError> {
    let [subject] = subjects else {
        return Err(invalid(
            "subject",
            format!(
                "expected exactly one subject (the source tree), found {}",
                subjects.len()
            ),
        ));
    };
    check_url("subject[0].name", &subject.name)?;
    let source = SourceDigest::from_digest_set("subject[0].digest", &subject.digest)?;
    Ok((subject.name.clone(), source))
}

pub(crate) fn source_subject(repository: &str, source: &SourceDigest) -> Vec<Subject> {
    vec![Subject {
        name: repository.to_owned(),
        digest: source.to_digest_set(),
    }]
}

/// What was (or should be) reviewed: the whole tree, or a list of paths in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `"full"`.
    Full,
    /// A non-empty list of relative paths (files or directories).
    Paths(Vec<String>),
}

impl Scope {
    /// Checks a path list is non-empty, has no duplicates and holds only relative paths
    /// without `..`.
    pub fn validate(&self, path: &str) -> Result<(), StatementError> {
        let Scope::Paths(paths) = self else {
            return Ok(());
        };
        if paths.is_empty() {
            return Err(invalid(
                path,
                "expected \"full\" or a non-empty list of paths",
            ));
        }
        for (i, p) in paths.iter().enumerate() {
            check_relative_path(&format!("{path}[{i}]"), p)?;
            if paths[..i].contains(p) {
                return Err(invalid(
                    format!("{path}[{i}]"),
                    format!("duplicate path {p:?}"),
                ));
            }
        }
        Ok(())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Scope::Full => s.serialize_str("full"),
            Scope::Paths(paths) => paths.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Paths(Vec<String>),
        }
        let expected = "expected \"full\" or a list of paths";
        match Raw::deserialize(d).map_err(|_| serde::de::Error::custom(expected))? {
            Raw::Word(w) if w == "full" => Ok(Scope::Full),
            Raw::Word(_) => Err(serde::de::Error::custom(expected)),
            Raw::Paths(p) => Ok(Scope::Paths(p)),
        }
    }
}
