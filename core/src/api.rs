//! The JSON shapes of the log's HTTP API (docs/api.md), defined once for the server
//! that writes them and the clients that read them, and the body of the witness's
//! `add-checkpoint` request ([`add_checkpoint`]).
//!
//! These are plain data with serde attributes: nothing here is checked or trusted.
//! Base64 hashes stay strings and signed notes stay text; a client opens them with
//! [`crate::merkle`], [`crate::note`] and [`crate::checkpoint`] before anything counts.

pub mod add_checkpoint;

use serde::{Deserialize, Serialize};

/// The error body every non-2xx JSON answer carries:
/// `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code (docs/api.md, "Errors").
    pub code: String,
    /// Human-readable explanation; generic for 5xx answers.
    pub message: String,
}

/// The filters of `GET /api/v1/entries?…` (search) and `GET /api/v1/export?…`, as
/// query parameters; `None` leaves that facet unconstrained and is not sent. All
/// given filters must match. The server checks each value's form (docs/api.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilter {
    /// SHA-256 of a built artifact (build subjects), with or without `sha256:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// Git commit ID (40 or 64 hex digits) of a source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// dirHash of a source (submission and review subject, build source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirhash: Option<String>,
    /// Repository URL, matched with and without a trailing `/` and `.git`
    /// ([`crate::repository::normalise`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Key ID of any signature of the entry (and of the key events about it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Organisation name, matched exactly as registered: the entries of every key
    /// the key registry registered under it (any role, revoked ones included), and
    /// the key events about those keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Statement kind: `source-submission`, `source-review`, `build` or `key-event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Earliest integration time, inclusive, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Latest integration time, inclusive, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl SearchFilter {
    /// Every filter's query parameter name, in the order the fields are declared. A
    /// server that accepts these next to keys of its own checks unknown keys against
    /// this list: serde cannot refuse unknown fields of a flattened struct.
    pub const KEYS: [&'static str; 9] = [
        "artifact",
        "commit",
        "dirhash",
        "repository",
        "signer",
        "organisation",
        "kind",
        "since",
        "until",
    ];

    /// The given filters as query parameters, in the order the fields are declared.
    pub fn query_pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("artifact", &self.artifact),
            ("commit", &self.commit),
            ("dirhash", &self.dirhash),
            ("repository", &self.repository),
            ("signer", &self.signer),
            ("organisation", &self.organisation),
            ("kind", &self.kind),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// Log index of the entry.
    pub index: u64,
    /// Statement kind, as in [`SearchFilter::kind`].
    pub kind: String,
    /// When the entry was integrated, RFC 3339 with milliseconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: String,
    /// Key IDs of the envelope's signatures.
    pub signers: Vec<String>,
    /// The canonical DSSE envelope.
    pub entry: serde_json::Value,
}

/// One page of search results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// The hits, in increasing index order.
    pub entries: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(
        rename = "nextCursor",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub next_cursor: Option<String>,
}

/// One signed checkpoint of the log's history (`GET /api/v1/checkpoints`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointItem {
    /// Tree size of the checkpoint.
    pub size: u64,
    /// When the log signed it, RFC 3339.
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// The signed note text, with the cosignatures the log holds for it.
    pub checkpoint: String,
}

/// One page of the log's checkpoint history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPage {
    /// Checkpoints, oldest first.
    pub checkpoints: Vec<CheckpointItem>,
    /// Pass as `since` to continue; absent on the last page.
    #[serde(rename = "nextSince", skip_serializing_if = "Option::is_none", default)]
    pub next_since: Option<u64>,
}

/// `GET /api/v1/proof/inclusion?index=I&size=N` (RFC 9162 §2.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Log index of the entry.
    pub index: u64,
    /// Size of the tree the proof is for.
    pub size: u64,
    /// Base64 leaf hash of the entry.
    #[serde(rename = "leafHash")]
    pub leaf_hash: String,
    /// Base64 root of the tree of `size` entries.
    pub root: String,
    /// Base64 sibling hashes, leaf to root.
    pub hashes: Vec<String>,
}

/// `GET /api/v1/proof/consistency?from=M&to=N` (RFC 9162 §2.1.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Size of the older tree.
    pub from: u64,
    /// Size of the newer tree.
    pub to: u64,
    /// Base64 root of the older tree.
    #[serde(rename = "fromRoot")]
    pub from_root: String,
    /// Base64 root of the newer tree.
    #[serde(rename = "toRoot")]
    pub to_root: String,
    /// Base64 proof hashes.
    pub hashes: Vec<String>,
}

/// The answer of `GET /api/v1/index?key=…`: one key's complete list of log
/// entries, proven against the log's index commitment, which is proven against a
/// signed checkpoint whose last entry it is (docs/formats/index.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexAnswer {
    /// The signed checkpoint (with witness cosignatures) the answer is as of.
    pub checkpoint: String,
    /// The log's index commitment: the checkpoint's last entry, with its proof.
    pub commitment: crate::bundle::Receipt,
    /// The key's list and its proof against the commitment's root. When
    /// `next_after` is set, `lookup.indices` holds only the list's first entries.
    pub lookup: crate::bundle::IndexLookup,
    /// Set when the list is longer than one answer lists: the rest follows from
    /// `GET /api/v1/index/list?key=…&size=…&after=<this>` ([`IndexPage`]), and
    /// only the whole list, chained, matches the proven value.
    #[serde(rename = "nextAfter", default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

/// The answer of `GET /api/v1/index/list?key=…&size=…&after=…`: the next entries
/// of a key's list as of the checkpoint of `size`, after the log index `after`.
/// Unproven by itself: a client appends the pages to the first answer's list and
/// checks the whole against that answer's proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexPage {
    /// The index key, as asked.
    pub key: String,
    /// The checkpoint size the list is as of.
    pub size: u64,
    /// The next log indices under the key, increasing.
    pub indices: Vec<u64>,
    /// Set when the list may go on after this page: the `after` of the next one.
    #[serde(rename = "nextAfter", default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}
