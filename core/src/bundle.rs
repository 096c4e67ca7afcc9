//! Receipts and bundles: the units a client keeps to verify entries offline
//! (docs/design.md §5).
//!
//! A [`Receipt`] is what the log answers to a submission and what it serves for one
//! entry: the canonical envelope, its index and a C2SP tlog-proof of its inclusion.
//! A [`Bundle`] gathers, for one artifact digest, every receipt a verifier needs —
//! the attestations naming the artifact, the source submissions and reviews of the
//! sources they name, and every key event up to the bundle's checkpoint — with all
//! proofs made against one signed checkpoint, so the bundle verifies with no network.
//!
//! Version 2 adds [`BundleIndex`]: the log's index commitment (the checkpoint's last
//! entry) and lookup proofs showing that the bundle holds *every* entry filed under
//! the artifact, the sources its builds name, and the key registry. A version 1
//! bundle (no `index` member) is still read; the verifier then warns that nothing
//! proves an entry was not left out.

use serde::{Deserialize, Serialize};

use crate::index::IndexProof;

/// Media type of a serialised [`Bundle`] without index proofs (version 1).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.glassbox.bundle.v1+json";
/// Media type of a serialised [`Bundle`] with index proofs (version 2).
pub const BUNDLE_MEDIA_TYPE_V2: &str = "application/vnd.glassbox.bundle.v2+json";

/// One logged entry with the proof of its inclusion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Zero-based position of the entry in the log.
    pub index: u64,
    /// The DSSE envelope as stored; the Merkle leaf is its RFC 8785 canonical form.
    pub entry: serde_json::Value,
    /// C2SP tlog-proof (`c2sp.org/tlog-proof@v1`) text for this entry.
    #[serde(rename = "tlogProof")]
    pub tlog_proof: String,
}

/// Everything needed to verify one artifact offline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_MEDIA_TYPE`].
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The artifact digest the bundle was assembled for, `sha256:<hex>`.
    pub artifact: String,
    /// The signed checkpoint (C2SP signed note text, with any witness
    /// cosignatures) that every tlog-proof in the bundle is made against.
    pub checkpoint: String,
    /// Build attestations for the artifact, then submissions and reviews of the
    /// sources those builds name, in log order.
    pub entries: Vec<Receipt>,
    /// Every key event in the log up to the checkpoint, in log order, so the
    /// verifier can replay the registry (docs/design.md §6 step 4).
    #[serde(rename = "keyEvents")]
    pub key_events: Vec<Receipt>,
    /// Version 2: proof that the lists above are complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<BundleIndex>,
}

/// The completeness evidence of a version 2 bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleIndex {
    /// The log's index commitment: the last entry of the bundle's checkpoint, with
    /// its proof against that checkpoint.
    pub commitment: Receipt,
    /// One lookup per key the verifier relies on, proven against the commitment's root.
    pub lookups: Vec<IndexLookup>,
}

/// One key's complete list of log entries, with its proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexLookup {
    /// The index key (`artifact:<hex>`, `source:<hex>`, `signer:<hex>`, `registry`).
    pub key: String,
    /// Log indices of every entry filed under the key, increasing.
    pub indices: Vec<u64>,
    /// Proof of the key's value against the commitment's root (base64 of the binary form).
    pub proof: IndexProof,
}

impl Bundle {
    /// The media type this bundle should carry: version 2 when it has index proofs.
    pub fn expected_media_type(&self) -> &'static str {
        if self.index.is_some() {
            BUNDLE_MEDIA_TYPE_V2
        } else {
            BUNDLE_MEDIA_TYPE
        }
    }
}
