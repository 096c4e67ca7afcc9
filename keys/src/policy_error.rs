//! Errors of the trust-policy file: each names the file, the line and column, and
//! the dotted field (`builders.min`), the way a compiler points at a source line.

use std::fmt;
use std::path::PathBuf;

use glassbox_core::note::KeyError as NoteKeyError;
use glassbox_core::policy::KeySetError;

/// A 1-based line and column (in characters) within the policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the end of the text).
    pub(crate) fn of_offset(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a trust policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("cannot read trust policy {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The file is not TOML at all.
    #[error("{file}{}: invalid TOML: {message}", at(.position))]
    Syntax {
        file: String,
        position: Option<Position>,
        message: String,
    },

    /// The file is TOML but not a valid policy. `position` is `None` only when the
    /// problem is something absent from the whole file (a missing `[log]` table).
    #[error("{file}{}: {field}: {problem}", at(.position))]
    Invalid {
        file: String,
        position: Option<Position>,
        /// Dotted path of the offending field, e.g. `witnesses.vkeys[1]`.
        field: String,
        problem: PolicyProblem,
    },
}

impl PolicyError {
    /// The structured problem, for callers and tests that branch on it.
    pub fn problem(&self) -> Option<&PolicyProblem> {
        match self {
            PolicyError::Invalid { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

fn at(position: &Option<Position>) -> String {
    position.map(|p| format!(":{p}")).unwrap_or_default()
}

/// What is wrong with one field of a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// Unknown keys are errors so that a typo (`quorom`) cannot silently weaken a policy.
    #[error("unknown key (expected one of: {})", allowed.join(", "))]
    UnknownKey { allowed: &'static [&'static str] },

    #[error("missing {what}")]
    Missing { what: &'static str },

    #[error("must be {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },

    #[error("must be a non-negative integer, found {value}")]
    OutOfRange { value: String },

    #[error("not a C2SP Ed25519 verifier key (algorithm 0x01): {cause}")]
    BadLogVkey { cause: NoteKeyError },

    #[error("{value:?} is not a duration (a whole number of s, m, h or d, more than 0: \"7d\", \"36h\")")]
    BadDuration { value: String },

    #[error("not a C2SP cosignature/v1 verifier key (algorithm 0x04): {cause}")]
    BadWitnessVkey { cause: NoteKeyError },

    /// One witness listed twice, under the same name or with the same key, would count
    /// twice towards the quorum.
    #[error("witness {name:?} is already listed (same name or same key)")]
    DuplicateWitness { name: String },

    #[error(
        "quorum {quorum} is more than the {witnesses} witness key(s) listed in witnesses.vkeys"
    )]
    QuorumTooLarge { quorum: usize, witnesses: usize },

    #[error(transparent)]
    KeyList(KeySetError),

    #[error("must be at least 1")]
    MinTooSmall,

    #[error("{min} distinct keys can never agree: only {listed} key ID(s) are listed in keys")]
    MinAboveListed { min: usize, listed: usize },

    #[error("{independent} independent builders can never be found among {min}: independent must be at most min")]
    IndependentAboveMin { independent: usize, min: usize },

    #[error("{path:?} is not a path inside the source tree ({reason})")]
    BadPath { path: String, reason: &'static str },
}
