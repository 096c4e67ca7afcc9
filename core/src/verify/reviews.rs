//! Step 5 of docs/design.md §6, the reviews: did enough independent organisations approve the
//! source the builders agree on, and does any trusted reviewer's rejection stand?
//!
//! The rules, in the order they apply:
//! - Only keys the policy trusts as reviewers are read at all.
//! - Each key's *latest* review of the source, in log order, is its verdict. Evidence
//!   order is enforced (see `evidence`), so "latest" cannot be rearranged.
//! - A rejection is judged as the registry stood when it was logged: a revocation of
//!   the reviewer's key logged after it — with or without `compromisedSince` — or the
//!   voiding of its registration does not withdraw it. Only a later review of the same
//!   source by the same key does. An approval that the registry no longer accepts
//!   (a compromise window, a void) neither counts nor supersedes a rejection, so a
//!   stolen key cannot sign its way past its owner's rejection.
//! - An approval counts when its scope is `full`, or covers every path of
//!   `[reviewers] paths`; and when its organisation is not the vendor's. Counting is by
//!   organisation.

use std::collections::BTreeMap;

use crate::policy::TrustPolicy;
use crate::registry::KeyRecord;
use crate::statement::{Attestation, Scope, SourceReview};

use super::builds::Chosen;
use super::evidence::{Evidence, OpenedEntry};
use super::organisation::Organisations;
use super::{Failure, ReviewLink, Verdict};

/// One trusted reviewer key's latest standing review.
struct Standing<'a> {
    entry: &'a OpenedEntry,
    review: &'a SourceReview,
    signer: &'a KeyRecord,
}

/// Checks the reviewer quorum and rejections for the chosen source; returns the
/// trusted review entries read (for the git-identity cross-check).
pub(super) fn evaluate<'a>(
    chosen: &Chosen<'_>,
    evidence: &'a Evidence,
    policy: &TrustPolicy,
    verdict: &mut Verdict,
) -> Vec<&'a OpenedEntry> {
    let dir_hash = chosen.dir_hash.as_str();
    let mut read = Vec::new();
    let mut latest: BTreeMap<&str, Standing<'a>> = BTreeMap::new();
    for (entry, authorised_now) in in_log_order(evidence) {
        let Attestation::SourceReview(review) = &entry.attestation else {
            continue;
        };
        if review.source.dir_hash != dir_hash {
            continue;
        }
        if !authorised_now && review.predicate.verdict.is_approval() {
            continue;
        }
        let mut trusted = false;
        for signer in &entry.signers {
            if policy.reviewers.keys.contains(&signer.key_id) {
                trusted = true;
                latest.insert(
                    &signer.key_id,
                    Standing {
                        entry,
                        review,
                        signer,
                    },
                );
            }
        }
        if trusted {
            read.push(entry);
        }
    }

    let mut approvals = Organisations::default();
    for standing in latest.values() {
        let Standing {
            entry,
            review,
            signer,
        } = standing;
        let revoked_since = signer
            .revocation
            .as_ref()
            .map(|r| r.index)
            .filter(|&at| at > entry.index);
        let mut link = ReviewLink {
            index: entry.index,
            key_id: signer.key_id.clone(),
            signer: signer.display_name(),
            organisation: signer.organisation.clone(),
            verdict: review.predicate.verdict.as_str().to_owned(),
            scope: match &review.predicate.scope {
                Scope::Full => "full".to_owned(),
                Scope::Paths(paths) => paths.join(", "),
            },
            counted: false,
            note: revoked_since
                .map(|at| format!("the key was revoked afterwards, at log index {at}")),
        };
        if !review.predicate.verdict.is_approval() {
            verdict.failures.push(Failure::ReviewRejected {
                index: entry.index,
                key_id: signer.key_id.clone(),
                dir_hash: dir_hash.to_owned(),
                revoked_at: revoked_since,
            });
        } else if !scope_counts(&review.predicate.scope, &policy.reviewers.paths) {
            link.note = Some(if policy.reviewers.paths.is_empty() {
                "partial scope: the policy counts only full reviews".to_owned()
            } else {
                format!(
                    "partial scope does not cover every path the policy requires ({})",
                    policy.reviewers.paths.join(", ")
                )
            });
        } else if chosen.vendor.contains(signer) {
            link.note =
                Some("same organisation as the vendor: not counted as independent".to_owned());
        } else {
            link.counted = true;
            approvals.insert(signer);
        }
        if let Some(note) = link
            .note
            .as_ref()
            .filter(|_| !link.counted && link.verdict != "rejected")
        {
            verdict.warnings.push(format!(
                "approval by {} (entry {}) not counted: {note}",
                link.signer, link.index
            ));
        }
        verdict.reviews.push(link);
    }
    verdict.reviews.sort_by_key(|r| r.index);

    let have = approvals.len();
    if have == 0 {
        verdict.failures.push(Failure::NoApprovedReview {
            dir_hash: dir_hash.to_owned(),
        });
    } else if have < policy.reviewers.min {
        verdict.failures.push(Failure::TooFewReviewers {
            dir_hash: dir_hash.to_owned(),
            have,
            need: policy.reviewers.min,
        });
    }
    read
}

/// The entries that count now and those that counted when logged, merged in log
/// order, each with whether it counts now.
fn in_log_order(evidence: &Evidence) -> Vec<(&OpenedEntry, bool)> {
    let mut all: Vec<(&OpenedEntry, bool)> = evidence
        .entries
        .iter()
        .map(|e| (e, true))
        .chain(evidence.as_logged.iter().map(|e| (e, false)))
        .collect();
    // Both lists are in strictly increasing log order and disjoint; merging by index
    // interleaves them without reordering either.
    all.sort_by_key(|(e, _)| e.index);
    all
}

/// Whether an approval of this scope counts: `full` always; a list of paths only when
/// it covers every path the policy requires.
fn scope_counts(scope: &Scope, required: &[String]) -> bool {
    match scope {
        Scope::Full => true,
        Scope::Paths(paths) => {
            !required.is_empty()
                && required
                    .iter()
                    .all(|need| paths.iter().any(|have| path_covers(have, need)))
        }
    }
}

/// `have` covers `need` when it is the same path or a directory above it, compared
/// component by component (`src` covers `src/crypto/aes.rs`, not `srcfoo`).
fn path_covers(have: &str, need: &str) -> bool {
    let norm = |p: &str| -> String {
        p.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect::<Vec<_>>()
            .join("/")
    };
    let (have, need) = (norm(have), norm(need));
    have.is_empty() || have == need || need.starts_with(&format!("{have}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_covers_what_is_below_it_by_component() {
        assert!(path_covers("src", "src/crypto/aes.rs"));
        assert!(path_covers("./src/", "src"));
        assert!(path_covers(".", "anything"));
        assert!(!path_covers("src", "srcfoo/x"));
        assert!(!path_covers("src/crypto", "src"));
    }

    #[test]
    fn a_partial_scope_counts_only_when_the_policy_names_paths_it_covers() {
        let partial = Scope::Paths(vec!["src/crypto".into(), "src/net".into()]);
        assert!(!scope_counts(&partial, &[]));
        assert!(scope_counts(&partial, &["src/crypto/aes.rs".into()]));
        assert!(!scope_counts(
            &partial,
            &["src/crypto".into(), "src/ui".into()]
        ));
        assert!(scope_counts(&Scope::Full, &[]));
    }
}
