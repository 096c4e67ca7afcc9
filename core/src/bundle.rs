//! Receipts and bundles: the units a client keeps to verify entries offline
//! (DESIGN §5).
//!
//! A [`Receipt`] is what the log answers to a submission and what it serves for one
//! entry: the canonical envelope, its index and a C2SP tlog-proof of its inclusion.
//! A [`Bundle`] gathers, for one artifact digest, every receipt a verifier needs —
//! the attestations naming the artifact, the source submissions and reviews of the
//! sources they name, and every key event up to the bundle's checkpoint — with all
//! proofs made against one signed checkpoint, so the bundle verifies with no network.

use serde::{Deserialize, Serialize};

/// Media type of a serialised [`Bundle`].
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.glassbox.bundle.v1+json";

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
    /// verifier can replay the registry (DESIGN §6 step 4).
    #[serde(rename = "keyEvents")]
    pub key_events: Vec<Receipt>,
}
