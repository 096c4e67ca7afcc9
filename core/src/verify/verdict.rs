//! What the verification engine concludes: the whole chain of evidence when an
//! artifact verifies, and every reason when it does not (docs/design.md §6 step 7).

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
    /// The index keys proven complete, and as of which log size; `None` when the
    /// evidence carried no index proofs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
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

/// What the log's index proved complete.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completeness {
    /// Entries the index covers (log indices below this).
    pub size: u64,
    /// The keys whose every entry the evidence holds.
    pub keys: Vec<String>,
}

/// The log checkpoint the verdict rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointSummary {
    /// The log's origin line.
    pub origin: String,
    /// Tree size of the checkpoint.
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
    /// The witness's name in the policy.
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
    /// The builder identity the attestation names.
    pub builder_id: String,
    /// dirHash of the source that was built.
    pub dir_hash: String,
    /// The build command of the recipe.
    pub command: String,
    /// Path of the artifact in the build's output.
    pub output_path: String,
}

/// The source the builders agree on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceLink {
    /// Repository URL of the source.
    pub repository: String,
    /// dirHash of the source tree.
    pub dir_hash: String,
    /// git commit ID, when the entries name one.
    pub git_commit: Option<String>,
    /// git tree ID, when the entries name one.
    pub git_tree: Option<String>,
    /// Log index of the vendor's source submission for this tree, if one is in the bundle.
    pub submission_index: Option<u64>,
    /// Product and version from that submission.
    pub product: Option<String>,
    /// Version from that submission.
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
    /// Log index of the review entry.
    pub index: u64,
    /// The reviewer's key ID.
    pub key_id: String,
    /// Registered name and organisation of the reviewer's key.
    pub signer: String,
    /// The registered organisation, as written at registration.
    pub organisation: String,
    /// The review's verdict as logged: `approved`, `approved-with-findings` or `rejected`.
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
/// client had verified before (docs/design.md §6 step 3).
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
    Proven {
        /// Tree size of the checkpoint verified before.
        previous_size: u64,
        /// Tree size of the bundle's checkpoint.
        size: u64,
    },
    /// Newer than before, but no proof could be had: offline (a warning), or a server
    /// that did not prove it (a failure).
    Unproven {
        /// Tree size of the checkpoint verified before.
        previous_size: u64,
        /// Tree size of the bundle's checkpoint.
        size: u64,
    },
    /// Older than the checkpoint this client already verified: evidence from the past
    /// never verifies, whatever a proof says.
    Stale {
        /// Tree size of the checkpoint verified before.
        previous_size: u64,
        /// Tree size of the bundle's checkpoint.
        size: u64,
    },
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
    /// The checkpoint's log signature does not verify with the policy's log key.
    #[error("the bundle's checkpoint does not verify with the log key in the policy: {detail}")]
    BadLogSignature {
        /// Why the signature was rejected.
        detail: String,
    },
    /// Fewer policy witnesses cosigned the checkpoint than the policy requires.
    #[error("{verified} of the policy's witnesses cosigned the checkpoint; the policy requires {quorum} (no valid cosignature from: {})", if missing.is_empty() { "-".to_owned() } else { missing.join(", ") })]
    WitnessQuorum {
        /// Policy witnesses whose cosignatures verified.
        verified: usize,
        /// Cosignatures the policy requires.
        quorum: usize,
        /// Names of the policy's witnesses with no valid cosignature on the checkpoint.
        missing: Vec<String>,
    },
    /// Too few of the policy's witnesses cosigned the checkpoint recently enough
    /// for `[log] max_age`: the evidence may be a frozen view.
    #[error("the checkpoint is not fresh: {fresh} of the policy's witnesses cosigned it within the last {max_age} s (the policy's max_age), the quorum is {quorum}; the newest cosignature is from {}", newest.map(|t| format!("{t} (Unix time)")).unwrap_or_else(|| "-".to_owned()))]
    CheckpointTooOld {
        /// Cosignatures from policy witnesses no older than `max_age`.
        fresh: usize,
        /// Cosignatures the policy requires.
        quorum: usize,
        /// The policy's `max_age`, in seconds.
        max_age: u64,
        /// Unix time of the newest verified cosignature.
        newest: Option<u64>,
    },
    /// The log showed this client two histories that cannot both be true.
    #[error("split view: the log now shows tree size {size} with root {root}, inconsistent with size {previous_size} root {previous_root} seen before ({detail})")]
    SplitView {
        /// Tree size verified before.
        previous_size: u64,
        /// Root hash verified before, lowercase hex.
        previous_root: String,
        /// Tree size shown now.
        size: u64,
        /// Root hash shown now, lowercase hex.
        root: String,
        /// How the inconsistency was found.
        detail: String,
    },
    /// A larger tree came without a proof that it extends the one seen before.
    #[error("the log showed this client tree size {previous_size} before and now shows size {size}, but did not prove the larger tree extends the smaller ({detail}); a log that cannot prove consistency may be forking")]
    ConsistencyUnproven {
        /// Tree size verified before.
        previous_size: u64,
        /// Tree size shown now.
        size: u64,
        /// Why no proof could be had.
        detail: String,
    },
    /// The evidence is proven against a tree older than one this client verified.
    #[error("stale evidence: it is proven against tree size {size}, older than size {remembered_size} this client already verified; {}", if *offline { "fetch a fresh bundle (glassbox bundle --artifact … --server URL) or verify online" } else { "the server is behind what this client has seen, or rolling back; retry, and report it if it persists" })]
    Stale {
        /// Tree size of the evidence's checkpoint.
        size: u64,
        /// The newest tree size this client verified.
        remembered_size: u64,
        /// Whether the evidence came from a bundle file rather than a server.
        offline: bool,
    },
    /// The bundle's entries are not in strictly increasing log order.
    #[error("entry {index} is listed after entry {previous}: evidence must be in strictly increasing log order, each entry once (a reordered or repeated bundle is tampering)")]
    EvidenceOrder {
        /// The entry out of order.
        index: u64,
        /// The entry listed before it.
        previous: u64,
    },
    /// An entry does not parse as the envelope or statement it claims to be.
    #[error("entry {index}: {detail}")]
    MalformedEntry {
        /// Log index of the entry.
        index: u64,
        /// What is malformed.
        detail: String,
    },
    /// An entry's inclusion proof does not verify against the checkpoint.
    #[error("entry {index}: inclusion proof does not verify against the checkpoint: {detail}")]
    BadInclusionProof {
        /// Log index of the entry.
        index: u64,
        /// Why the proof was rejected.
        detail: String,
    },
    /// An entry's signature does not verify with its signer's key.
    #[error("entry {index}: signature by key {key_id} does not verify")]
    BadEntrySignature {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
    },
    /// An entry's signer was not registered at that log position.
    #[error("entry {index}: signer {key_id} was not registered at that log position")]
    SignerNotRegistered {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
    },
    /// An entry was signed by a key revoked before it.
    #[error(
        "entry {index}: signer {key_id} had been revoked at log index {revoked_at} ({reason})"
    )]
    SignerRevoked {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
        /// Log index of the revoking key event.
        revoked_at: u64,
        /// The reason given in the revocation.
        reason: String,
    },
    /// An entry claims a time after its signer was compromised.
    #[error("entry {index}: signer {key_id} was compromised since {compromised_since}, and this entry claims time {claimed}")]
    SignerCompromised {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
        /// RFC 3339 instant from which the key is compromised.
        compromised_since: String,
        /// RFC 3339 time the entry claims for itself.
        claimed: String,
    },
    /// An entry's signer lacks the role its kind needs.
    #[error("entry {index}: signer {key_id} lacks the {needed} role for a {kind}")]
    WrongRole {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
        /// The entry's kind.
        kind: String,
        /// The role that kind needs.
        needed: String,
    },
    /// An entry's signer was registered by no operator the policy pins.
    #[error("entry {index}: signer {key_id} was registered by operator(s) {} — none of them among the operator keys your policy pins ({})", registered_by.join(", "), pinned.join(", "))]
    SignerNotVouched {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
        /// Key IDs of the operators that registered it.
        registered_by: Vec<String>,
        /// The operator key IDs the policy pins.
        pinned: Vec<String>,
    },
    /// An entry's signer was registered by an operator later revoked as compromised.
    #[error("entry {index}: signer {key_id} was registered by operator {operator}, revoked as compromised at log index {at}; that registration is void")]
    SignerVoided {
        /// Log index of the entry.
        index: u64,
        /// The signer's key ID.
        key_id: String,
        /// The compromised operator key that registered it.
        operator: String,
        /// Log index of the compromise revocation.
        at: u64,
    },
    /// A key event in the bundle cannot be applied to the registry.
    #[error("key event {index}: {detail}")]
    BadKeyEvent {
        /// Log index of the key event.
        index: u64,
        /// Why it was refused.
        detail: String,
    },
    /// No build attestation in the bundle names the artifact.
    #[error("no logged build attestation names this artifact")]
    NoBuild,
    /// Fewer builder organisations with trusted keys agree on one source than the policy requires.
    #[error("builds of this artifact from one source by {have} distinct organisation(s) with trusted builder keys; the policy requires {need}")]
    TooFewBuilders {
        /// Distinct organisations counted.
        have: usize,
        /// Organisations the policy requires.
        need: usize,
    },
    /// Fewer builder organisations independent of the vendor than the policy requires.
    #[error("{have} of the builder organisations attesting this artifact are independent of the vendor ({}); the policy requires {need}", vendor.join(", "))]
    TooFewIndependentBuilders {
        /// Independent organisations counted.
        have: usize,
        /// Independent organisations the policy requires.
        need: usize,
        /// The vendor's organisations.
        vendor: Vec<String>,
    },
    /// A trusted builder got different bytes from the same source and recipe.
    #[error("entry {index}: trusted builder {key_id} built source {dir_hash} with the same recipe as entry {recipe_index} and got {got} for {subject:?}, not {expected}: the build is not reproducible")]
    Irreproducible {
        /// dirHash of the source both builds used.
        dir_hash: String,
        /// The contradicting build.
        index: u64,
        /// The contradicting builder's key ID.
        key_id: String,
        /// The artifact's name in the attestation's subject.
        subject: String,
        /// This artifact.
        expected: String,
        /// What the contradicting build got.
        got: String,
        /// The counted build with the same recipe.
        recipe_index: u64,
    },
    /// The customer's own rebuild did not reproduce the artifact.
    #[error("your rebuild with the recipe of entry {recipe_index} diverged ({stage}): {detail}")]
    RebuildDiverged {
        /// Log index of the build entry whose recipe was run.
        recipe_index: u64,
        /// Where it diverged: `source_hash`, `source_tree`, `build_failed`, `output_hash`, …
        stage: String,
        /// What happened at that stage.
        detail: String,
    },
    /// Trusted builders name different sources for this artifact.
    #[error("trusted builders disagree on the source of this artifact: dirHash {dir_hashes:?}")]
    BuildersDisagree {
        /// The dirHashes they name.
        dir_hashes: Vec<String>,
    },
    /// A source's git commit or tree differs between entries.
    #[error("source {dir_hash}: its git identities disagree between entries ({detail})")]
    SourceIdentityMismatch {
        /// dirHash of the source.
        dir_hash: String,
        /// Which git identities disagree.
        detail: String,
    },
    /// No independent trusted reviewer approved the source in a counted scope.
    #[error("no trusted reviewer independent of the vendor approved source {dir_hash} in a scope the policy counts")]
    NoApprovedReview {
        /// dirHash of the source.
        dir_hash: String,
    },
    /// Fewer independent organisations approved the source than the policy requires.
    #[error(
        "{have} independent organisations approved source {dir_hash}; the policy requires {need}"
    )]
    TooFewReviewers {
        /// dirHash of the source.
        dir_hash: String,
        /// Independent organisations that approved it.
        have: usize,
        /// Organisations the policy requires.
        need: usize,
    },
    /// The bundle's index commitment is not the log's commitment at the end of
    /// its checkpoint.
    #[error("index commitment: {detail}")]
    BadIndexCommitment {
        /// What is wrong with it.
        detail: String,
    },
    /// A key the verdict relies on has no lookup proof in the evidence.
    #[error("the evidence does not prove which entries are filed under {key}: an entry about it could have been left out")]
    CompletenessUnproven {
        /// The index key.
        key: String,
    },
    /// A lookup proof does not verify against the committed index root.
    #[error("index lookup for {key}: {detail}")]
    BadIndexProof {
        /// The index key.
        key: String,
        /// Why the proof was refused.
        detail: String,
    },
    /// The log's index lists an entry under a key the verdict relies on, and the
    /// evidence leaves it out.
    #[error("entry {index} is filed under {key} in the log's index but is missing from the evidence (left out: it may be a rejection, a revocation or a contradicting build)")]
    EntryWithheld {
        /// The index key.
        key: String,
        /// Log index of the missing entry.
        index: u64,
    },
    /// An entry in the evidence is about a key, by the documented mapping, but the
    /// log's committed index does not list it there: the log's index is wrong.
    #[error("entry {index} is about {key} but the log's committed index does not list it there: the log misbehaves")]
    IndexContradicted {
        /// The index key.
        key: String,
        /// Log index of the entry.
        index: u64,
    },
    /// A trusted reviewer rejected the source.
    #[error("entry {index}: trusted reviewer {key_id} rejected source {dir_hash}{}", revoked_at.map(|at| format!(" (the key has since been revoked, at log index {at}; a rejection stands whatever happens to the key after it)")).unwrap_or_default())]
    ReviewRejected {
        /// Log index of the rejecting review.
        index: u64,
        /// The reviewer's key ID.
        key_id: String,
        /// dirHash of the rejected source.
        dir_hash: String,
        /// Set when the reviewer's key was revoked after the rejection was logged.
        revoked_at: Option<u64>,
    },
}
