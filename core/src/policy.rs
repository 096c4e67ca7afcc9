//! The verifier's trust policy as plain data (docs/design.md §6).
//!
//! A trust policy says which log to believe, which witnesses must vouch for its
//! checkpoints, and whose reviews and builds count. This module only holds the
//! values and the rules that need no context (the shape of a key list); reading the
//! TOML file, pointing at the offending line and checking vkey strings is done by
//! `glassbox-keys`, so that this crate stays free of I/O.
//!
//! The types implement `Serialize` (for `--json` output) but deliberately not
//! `Deserialize`: the only way to obtain a policy from outside is the validating
//! parser in `glassbox-keys`.

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};

/// Distinct approving reviewers needed when the policy does not say (docs/design.md §6).
pub const DEFAULT_REVIEWERS_MIN: usize = 1;
/// Distinct builders that must agree when the policy does not say: the vendor plus one
/// independent rebuilder (docs/design.md §6 step 5).
pub const DEFAULT_BUILDERS_MIN: usize = 2;
/// Witness cosignatures needed when the policy does not say.
pub const DEFAULT_WITNESS_QUORUM: usize = 0;

/// Independent builders required when the policy does not say and `min` is at least
/// 2: "the vendor plus at least one independent rebuilder" (docs/design.md §6a).
pub const DEFAULT_INDEPENDENT_BUILDERS: usize = 1;

/// Everything a verifier trusts, and how much of it it demands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustPolicy {
    /// The log whose checkpoints are believed.
    pub log: LogPolicy,
    /// Witnesses that must cosign a checkpoint before it is believed.
    pub witnesses: WitnessPolicy,
    /// Whose source reviews count, and how many approvals are needed.
    pub reviewers: ReviewerPolicy,
    /// Whose builds count, and how many must agree.
    pub builders: BuilderPolicy,
    /// Which operator keys may vouch for participants. `Any` accepts the log's own
    /// registry (whoever its genesis event made operator); listing key IDs means only
    /// participants registered by a listed key count, and the genesis registration
    /// counts only if its key is listed.
    pub operators: KeySet,
}

impl TrustPolicy {
    /// A policy trusting the log with verifier key `log_vkey` and the defaults of
    /// docs/design.md §6 for everything else.
    pub fn with_log(log_vkey: impl Into<String>) -> Self {
        TrustPolicy {
            log: LogPolicy {
                vkey: log_vkey.into(),
                max_age: None,
                require_completeness: false,
            },
            witnesses: WitnessPolicy::default(),
            reviewers: ReviewerPolicy::default(),
            builders: BuilderPolicy::default(),
            operators: KeySet::Any,
        }
    }
}

/// The log to believe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogPolicy {
    /// The log's C2SP signed-note verifier key (`name+hash+base64`); the name is the
    /// checkpoint origin.
    pub vkey: String,
    /// Freshness (`[log] max_age`), in seconds: the evidence's checkpoint must carry
    /// the witness quorum's cosignatures made no longer ago than this. `None`: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// `[log] require_completeness`: evidence without index proofs (a version 1
    /// bundle) fails with `completenessUnproven` instead of passing with a warning.
    pub require_completeness: bool,
}

/// Parses a policy duration: a whole number followed by `s`, `m`, `h` or `d`
/// (`"90m"`, `"7d"`), into seconds. Zero is refused: a checkpoint is never that new.
pub fn parse_duration(text: &str) -> Option<u64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let number = &text[..text.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&secs| secs > 0)
}

/// Witness requirements (C2SP tlog-cosignature).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WitnessPolicy {
    /// C2SP cosignature/v1 verifier keys of the witnesses the verifier knows.
    pub vkeys: Vec<String>,
    /// How many distinct witnesses among `vkeys` must have cosigned; at most
    /// `vkeys.len()`.
    pub quorum: usize,
}

/// Whose reviews count and how many independent approvals are needed.
///
/// Approvals are counted by registered organisation, never by key, and an approval
/// from an organisation that submitted or built the source as its vendor does not
/// count (docs/verification.md, "Independence").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewerPolicy {
    /// Which reviewer keys count.
    pub keys: KeySet,
    /// Distinct independent organisations whose approval is needed; at least 1.
    pub min: usize,
    /// Paths a partial-scope approval must cover to count. Empty: only `"full"`
    /// reviews count; a partial approval is shown, not counted.
    pub paths: Vec<String>,
}

impl Default for ReviewerPolicy {
    /// Any registered reviewer, one approval, full scope only.
    fn default() -> Self {
        ReviewerPolicy {
            keys: KeySet::Any,
            min: DEFAULT_REVIEWERS_MIN,
            paths: Vec::new(),
        }
    }
}

/// Whose builds count, how many organisations must agree, and how many of them must
/// be independent of the vendor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuilderPolicy {
    /// Which builder keys count.
    pub keys: KeySet,
    /// Distinct organisations (the customer's own `--rebuild` counting as one) that
    /// must attest the artifact from one source; at least 1.
    pub min: usize,
    /// How many of those must be organisations other than the vendor's; at most `min`.
    pub independent: usize,
}

impl BuilderPolicy {
    /// The default `independent` for a given `min`: one independent rebuilder as soon
    /// as more than one builder is required.
    pub fn default_independent(min: usize) -> usize {
        if min >= 2 {
            DEFAULT_INDEPENDENT_BUILDERS
        } else {
            0
        }
    }
}

impl Default for BuilderPolicy {
    /// Any registered builders: the vendor plus one independent rebuilder.
    fn default() -> Self {
        BuilderPolicy {
            keys: KeySet::Any,
            min: DEFAULT_BUILDERS_MIN,
            independent: DEFAULT_INDEPENDENT_BUILDERS,
        }
    }
}

/// A set of participant key IDs (lowercase hex SHA-256 of the public key, docs/design.md §2).
///
/// `Any` means every key the log registered with the needed role: the verifier then
/// trusts the operator's registry. `Listed` pins the keys themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeySet {
    /// Written `["*"]`.
    #[default]
    Any,
    /// Lowercase 64-hex key IDs.
    Listed(BTreeSet<String>),
}

/// Why a list of key-set entries is not a valid [`KeySet`]. `index` is the position
/// of the offending entry so a parser can point at it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The list has no entry.
    #[error("the key list is empty; list key IDs, or \"*\" for any registered key")]
    Empty,
    /// `"*"` appears beside other entries.
    #[error("\"*\" must be the only entry of a key list")]
    WildcardMixed {
        /// Position of the `"*"` entry, 0-based.
        index: usize,
    },
    /// An entry is not a 64-digit hex key ID.
    #[error("{value:?} is not a key ID (64 hexadecimal digits: the SHA-256 of the public key)")]
    BadKeyId {
        /// Position of the entry, 0-based.
        index: usize,
        /// The entry as written.
        value: String,
    },
    /// A key ID appears twice.
    #[error("key ID {key_id} is listed twice")]
    Duplicate {
        /// Position of the second occurrence, 0-based.
        index: usize,
        /// The repeated key ID.
        key_id: String,
    },
}

impl KeySet {
    /// Builds a key set from the entries of a policy key list: `"*"` alone, or
    /// 64-hex key IDs in any letter case (normalised to lowercase) without repeats.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = &'a str>,
    ) -> Result<KeySet, KeySetError> {
        let entries: Vec<&str> = entries.into_iter().collect();
        if entries.is_empty() {
            return Err(KeySetError::Empty);
        }
        if let Some(index) = entries.iter().position(|e| *e == "*") {
            if entries.len() == 1 {
                return Ok(KeySet::Any);
            }
            return Err(KeySetError::WildcardMixed { index });
        }
        let mut ids = BTreeSet::new();
        for (index, entry) in entries.iter().enumerate() {
            if entry.len() != 64 || !entry.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(KeySetError::BadKeyId {
                    index,
                    value: entry.to_string(),
                });
            }
            let key_id = entry.to_ascii_lowercase();
            if !ids.insert(key_id.clone()) {
                return Err(KeySetError::Duplicate { index, key_id });
            }
        }
        Ok(KeySet::Listed(ids))
    }

    /// Whether `key_id` (lowercase hex, as `digest::key_id_hex` produces) is in the set.
    /// `Any` contains every key; the caller still checks the key's registered role.
    pub fn contains(&self, key_id: &str) -> bool {
        match self {
            KeySet::Any => true,
            KeySet::Listed(ids) => ids.contains(key_id),
        }
    }

    /// The number of listed keys, or `None` for `Any`.
    pub fn listed_len(&self) -> Option<usize> {
        match self {
            KeySet::Any => None,
            KeySet::Listed(ids) => Some(ids.len()),
        }
    }
}

/// Serialised as in the policy file: `["*"]` or the list of key IDs.
impl Serialize for KeySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            KeySet::Any => ["*"].serialize(serializer),
            KeySet::Listed(ids) => ids.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const ID_B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn wildcard_alone_is_any() {
        assert_eq!(KeySet::from_entries(["*"]), Ok(KeySet::Any));
        assert!(KeySet::Any.contains(ID_A));
    }

    #[test]
    fn listed_ids_are_lowercased_and_matched_exactly() {
        let set = KeySet::from_entries([ID_A, &ID_B.to_uppercase()]).unwrap();
        assert!(set.contains(ID_A));
        assert!(set.contains(ID_B));
        assert!(!set.contains(&ID_A[..63]));
        assert_eq!(set.listed_len(), Some(2));
    }

    #[test]
    fn wildcard_mixed_with_ids_is_refused() {
        assert_eq!(
            KeySet::from_entries([ID_A, "*"]),
            Err(KeySetError::WildcardMixed { index: 1 })
        );
    }

    #[test]
    fn empty_key_list_is_refused() {
        assert_eq!(KeySet::from_entries([]), Err(KeySetError::Empty));
    }

    #[test]
    fn short_or_non_hex_key_id_is_refused() {
        let short = &ID_A[..40];
        assert!(matches!(
            KeySet::from_entries([short]),
            Err(KeySetError::BadKeyId { index: 0, .. })
        ));
        let non_hex = format!("{}g", &ID_A[..63]);
        assert!(matches!(
            KeySet::from_entries([ID_B, &non_hex]),
            Err(KeySetError::BadKeyId { index: 1, .. })
        ));
    }

    #[test]
    fn duplicate_key_id_in_other_case_is_refused() {
        let upper = ID_B.to_uppercase();
        assert_eq!(
            KeySet::from_entries([ID_B, ID_A, &upper]),
            Err(KeySetError::Duplicate {
                index: 2,
                key_id: ID_B.to_string()
            })
        );
    }

    #[test]
    fn defaults_follow_design_section_6() {
        let policy = TrustPolicy::with_log("log+01234567+AAAA");
        assert_eq!(policy.reviewers.min, 1);
        assert!(policy.reviewers.paths.is_empty());
        assert_eq!(policy.builders.min, 2);
        assert_eq!(policy.builders.independent, 1);
        assert_eq!(BuilderPolicy::default_independent(1), 0);
        assert_eq!(BuilderPolicy::default_independent(3), 1);
        assert_eq!(policy.witnesses.quorum, 0);
        assert!(policy.witnesses.vkeys.is_empty());
        assert_eq!(policy.operators, KeySet::Any);
    }

    #[test]
    fn key_set_serialises_like_the_policy_file() {
        let json = serde_json::to_string(&BuilderPolicy::default()).unwrap();
        assert_eq!(json, r#"{"keys":["*"],"min":2,"independent":1}"#);
        let listed = KeySet::from_entries([ID_A]).unwrap();
        assert_eq!(
            serde_json::to_string(&listed).unwrap(),
            format!("[\"{ID_A}\"]")
        );
    }
}
