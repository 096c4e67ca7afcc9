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
    /// Builders whose attestations count towards the policy (and the customer's own
    /// reproducing rebuild, marked `local`).
    pub builds: Vec<BuildLink>,
    /// The source the counted builders agree on.
    pub source: Option<SourceLink>,
    /// Each trusted reviewer key's standing verdict on that source, counted or not.
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
    /// The build entry; for the customer's own rebuild, the entry whose recipe it ran.
    pub index: u64,
    /// Empty for the customer's own rebuild.
    pub key_id: String,
    /// Registered name and organisation of the signing key.
    pub signer: String,
    /// The registered organisation, as written at registration.
    pub organisation: String,
    /// Whether the organisation is outside the vendor's (see [`SourceLink::vendor`]).
    pub independent: bool,
    /// True for the customer's own reproducing rebuild (`verify --rebuild`).
    pub local: bool,
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
    /// The vendor's organisations: those that submitted this source, or attested the
    /// artifact with a vendor-role key. Neither their builds nor their reviews count as
    /// independent.
    pub vendor: Vec<String>,
}

/// A trusted reviewer key's standing verdict on the source.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewLink {
    pub index: u64,
    pub key_id: String,
    pub signer: String,
    /// The registered organisation, as written at registration.
    pub organisation: String,
    pub verdict: String,
    /// `full`, or the reviewed paths joined by `, `.
    pub scope: String,
    /// Whether this approval counts towards `[reviewers] min` (rejections never do;
    /// they fail verification).
    pub counted: bool,
    /// Why an approval is not counted, or what happened to the key since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    /// Newer than before, but no proof could be had: offline (a warning), or a server
    /// that did not prove it (a failure).
    Unproven { previous_size: u64, size: u64 },
    /// Older than the checkpoint this client already verified: evidence from the past
    /// never verifies, whatever a proof says.
    Stale { previous_size: u64, size: u64 },
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
    #[error("the log showed this client tree size {previous_size} before and now shows size {size}, but did not prove the larger tree extends the smaller ({detail}); a log that cannot prove consistency may be forking")]
    ConsistencyUnproven {
        previous_size: u64,
        size: u64,
        detail: String,
    },
    #[error("stale evidence: it is proven against tree size {size}, older than size {remembered_size} this client already verified; {}", if *offline { "fetch a fresh bundle (glassbox bundle --artifact … --server URL) or verify online" } else { "the server is behind what this client has seen, or rolling back; retry, and report it if it persists" })]
    Stale {
        size: u64,
        remembered_size: u64,
        /// Whether the evidence came from a bundle file rather than a server.
        offline: bool,
    },
    #[error("entry {index} is listed after entry {previous}: evidence must be in strictly increasing log order, each entry once (a reordered or repeated bundle is tampering)")]
    EvidenceOrder { index: u64, previous: u64 },
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
    #[error("entry {index}: signer {key_id} was registered by operator(s) {} — none of them among the operator keys your policy pins", registered_by.join(", "))]
    SignerNotVouched {
        index: u64,
        key_id: String,
        registered_by: Vec<String>,
    },
    #[error("entry {index}: signer {key_id} was registered by operator {operator}, revoked as compromised at log index {at}; that registration is void")]
    SignerVoided {
        index: u64,
        key_id: String,
        operator: String,
        at: u64,
    },
    #[error("key event {index}: {detail}")]
    BadKeyEvent { index: u64, detail: String },
    #[error("no logged build attestation names this artifact")]
    NoBuild,
    #[error("builds of this artifact from one source by {have} distinct organisation(s) with trusted builder keys; the policy requires {need}")]
    TooFewBuilders { have: usize, need: usize },
    #[error("{have} of the builder organisations attesting this artifact are independent of the vendor ({}); the policy requires {need}", vendor.join(", "))]
    TooFewIndependentBuilders {
        have: usize,
        need: usize,
        /// The vendor's organisations.
        vendor: Vec<String>,
    },
    #[error("entry {index}: trusted builder {key_id} built source {dir_hash} with the same recipe as entry {recipe_index} and got {got} for {subject:?}, not {expected}: the build is not reproducible")]
    Irreproducible {
        dir_hash: String,
        /// The contradicting build.
        index: u64,
        key_id: String,
        subject: String,
        /// This artifact.
        expected: String,
        /// What the contradicting build got.
        got: String,
        /// The counted build with the same recipe.
        recipe_index: u64,
    },
    #[error("your rebuild with the recipe of entry {recipe_index} diverged ({stage}): {detail}")]
    RebuildDiverged {
        recipe_index: u64,
        /// Where it diverged: `source_hash`, `source_tree`, `build_failed`, `output_hash`, …
        stage: String,
        detail: String,
    },
    #[error("trusted builders disagree on the source of this artifact: dirHash {dir_hashes:?}")]
    BuildersDisagree { dir_hashes: Vec<String> },
    #[error("source {dir_hash}: its git identities disagree between entries ({detail})")]
    SourceIdentityMismatch { dir_hash: String, detail: String },
    #[error("no trusted reviewer independent of the vendor approved source {dir_hash} in a scope the policy counts")]
    NoApprovedReview { dir_hash: String },
    #[error(
        "{have} independent organisations approved source {dir_hash}; the policy requires {need}"
    )]
    TooFewReviewers {
        dir_hash: String,
        have: usize,
        need: usize,
    },
    #[error("entry {index}: trusted reviewer {key_id} rejected source {dir_hash}{}", revoked_at.map(|at| format!(" (the key has since been revoked, at log index {at}; a rejection stands whatever happens to the key after it)")).unwrap_or_default())]
    ReviewRejected {
        index: u64,
        key_id: String,
        dir_hash: String,
        /// Set when the reviewer's key was revoked after the rejection was logged.
        revoked_at: Option<u64>,
    },
}
