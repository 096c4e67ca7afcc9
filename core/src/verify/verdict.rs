//! What the verification engine concludes: the whole chain of evidence when an
//! artifact verifies, and every reason when it does not (DESIGN §6 step 7).

use serde::Serialize;

/// The outcome of verifying one artifact against a bundle and a trust policy.
///
/// `failures` empty ⇔ verified. The chain fields are filled as far as the
/// evidence allows even when verification fails, so a report can show what was
/// found as well as what was missing.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// `sha256:<hex>` of the artifact.
    pub artifact: String,
    /// The checkpoint the evidence is proven against, when its signature verified.
    pub checkpoint: Option<CheckpointSummary>,
    /// Builders whose attestations count towards the policy.
    pub builds: Vec<BuildLink>,
    /// The source the counted builders agree on.
    pub source: Option<SourceLink>,
    /// Reviews of that source by trusted reviewers.
    pub reviews: Vec<ReviewLink>,
    /// How the checkpoint relates to the newest one this client saw before.
    pub consistency: Consistency,
    /// Every reason the artifact does not verify; empty when it does.
    pub failures: Vec<Failure>,
    /// Things worth telling that do not fail verification.
    pub warnings: Vec<String>,
}

impl Verdict {
    /// True when no check failed.
    pub fn verified(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The log checkpoint the verdict rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointSummary {
    pub origin: String,
    pub size: u64,
    /// Root hash, lowercase hex.
    pub root: String,
    /// Names of the policy's witnesses whose cosignatures verified, with their timestamps.
    pub witnesses: Vec<WitnessSummary>,
}

/// One verified witness cosignature.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WitnessSummary {
    pub name: String,
    /// Seconds since the Unix epoch at which the witness cosigned.
    pub timestamp: u64,
}

/// A build attestation counted towards the builder quorum.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildLink {
    pub index: u64,
    pub key_id: String,
    /// Registered name and organisation of the signing key.
    pub signer: String,
    pub builder_id: String,
    pub dir_hash: String,
    pub command: String,
    pub output_path: String,
}

/// The source the builders agree on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceLink {
    pub repository: String,
    pub dir_hash: String,
    pub git_commit: Option<String>,
    pub git_tree: Option<String>,
    /// Log index of the vendor's source submission for this tree, if one is in the bundle.
    pub submission_index: Option<u64>,
    /// Product and version from that submission.
    pub product: Option<String>,
    pub version: Option<String>,
}

/// A trusted reviewer's verdict on the source.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewLink {
    pub index: u64,
    pub key_id: String,
    pub signer: String,
    pub verdict: String,
    /// `full`, or the reviewed paths joined by `, `.
    pub scope: String,
}

/// The relation between the bundle's checkpoint and the newest checkpoint this
/// client had verified before (DESIGN §6 step 3).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "status"
)]
pub enum Consistency {
    /// The client had seen no checkpoint of this log before.
    #[default]
    FirstSeen,
    /// Same tree as before.
    Same,
    /// Proven consistent: the client may now remember `size` as its newest.
    Proven { previous_size: u64, size: u64 },
    /// No proof was available (offline, bundle older or newer than the state).
    Unproven { previous_size: u64, size: u64 },
    /// Proven inconsistent: the log showed this client two different histories.
    SplitView,
}

/// One reason an artifact fails verification. Each names the evidence involved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "code"
)]
#[non_exhaustive]
pub enum Failure {
    #[error("the bundle's checkpoint does not verify with the log key in the policy: {detail}")]
    BadLogSignature { detail: String },
    #[error("{verified} of the policy's witnesses cosigned the checkpoint; the policy requires {quorum} (no valid cosignature from: {})", if missing.is_empty() { "-".to_owned() } else { missing.join(", ") })]
    WitnessQuorum {
        verified: usize,
        quorum: usize,
        /// Names of the policy's witnesses with no valid cosignature on the checkpoint.
        missing: Vec<String>,
    },
    #[error("split view: the log now shows tree size {size} with root {root}, inconsistent with size {previous_size} root {previous_root} seen before ({detail})")]
    SplitView {
        previous_size: u64,
        previous_root: String,
        size: u64,
        root: String,
        detail: String,
    },
    #[error("entry {index}: {detail}")]
    MalformedEntry { index: u64, detail: String },
    #[error("entry {index}: inclusion proof does not verify against the checkpoint: {detail}")]
    BadInclusionProof { index: u64, detail: String },
    #[error("entry {index}: signature by key {key_id} does not verify")]
    BadEntrySignature { index: u64, key_id: String },
    #[error("entry {index}: signer {key_id} was not registered at that log position")]
    SignerNotRegistered { index: u64, key_id: String },
    #[error(
        "entry {index}: signer {key_id} had been revoked at log index {revoked_at} ({reason})"
    )]
    SignerRevoked {
        index: u64,
        key_id: String,
        revoked_at: u64,
        reason: String,
    },
    #[error("entry {index}: signer {key_id} was compromised since {compromised_since}, and this entry claims time {claimed}")]
    SignerCompromised {
        index: u64,
        key_id: String,
        compromised_since: String,
        claimed: String,
    },
    #[error("entry {index}: signer {key_id} lacks the {needed} role for a {kind}")]
    WrongRole {
        index: u64,
        key_id: String,
        kind: String,
        needed: String,
    },
    #[error("key event {index}: {detail}")]
    BadKeyEvent { index: u64, detail: String },
    #[error("no logged build attestation names this artifact")]
    NoBuild,
    #[error("{have} distinct trusted builders attest this artifact from one source; the policy requires {need}")]
    TooFewBuilders { have: usize, need: usize },
    #[error("trusted builders disagree on the source of this artifact: dirHash {dir_hashes:?}")]
    BuildersDisagree { dir_hashes: Vec<String> },
    #[error("source {dir_hash}: its git identities disagree between entries ({detail})")]
    SourceIdentityMismatch { dir_hash: String, detail: String },
    #[error("no trusted reviewer approved source {dir_hash}")]
    NoApprovedReview { dir_hash: String },
    #[error("{have} trusted reviewers approved source {dir_hash}; the policy requires {need}")]
    TooFewReviewers {
        dir_hash: String,
        have: usize,
        need: usize,
    },
    #[error("entry {index}: trusted reviewer {key_id} rejected source {dir_hash}")]
    ReviewRejected {
        index: u64,
        key_id: String,
        dir_hash: String,
    },
}
