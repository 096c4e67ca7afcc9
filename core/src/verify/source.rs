//! Step 5 of docs/design.md §6, the source: which release it is, and do the entries that name
//! its git identity agree?
//!
//! Only trusted statements speak here, so an entry the policy does not count can
//! neither fail a verdict nor decorate it:
//! - the git identities (gitCommit, gitTree) cross-checked are those of the counted
//!   builds, of the trusted reviewers' reviews, and of the vendor's submissions; a
//!   review and a build that name the same dirHash but different trees disagree about
//!   what was reviewed (dirHash does not bind symlinks, file modes or submodules);
//! - product and version come from a submission of the source signed by an
//!   organisation that also built the artifact — the vendor's own claim, not a
//!   stranger's label.

use crate::statement::{Attestation, SourceDigest};

use super::builds::Chosen;
use super::evidence::{Evidence, OpenedEntry};
use super::organisation::Organisations;
use super::{Failure, SourceLink, Verdict};

pub(super) fn link(
    chosen: &Chosen<'_>,
    evidence: &Evidence,
    reviews: &[&OpenedEntry],
    verdict: &mut Verdict,
) {
    let mut builders = Organisations::default();
    for build in &chosen.builds {
        builders.insert(build.signer);
    }
    let mut source = SourceLink {
        repository: chosen.repository.clone(),
        dir_hash: chosen.dir_hash.clone(),
        git_commit: None,
        git_tree: None,
        submission_index: None,
        product: None,
        version: None,
        vendor: chosen.vendor.names(),
    };
    let mut identities: Vec<(u64, &SourceDigest)> = chosen
        .builds
        .iter()
        .map(|b| (b.entry.index, b.source))
        .collect();
    for entry in reviews {
        if let Attestation::SourceReview(review) = &entry.attestation {
            identities.push((entry.index, &review.source));
        }
    }
    for entry in &evidence.entries {
        let Attestation::SourceSubmission(sub) = &entry.attestation else {
            continue;
        };
        if sub.source.dir_hash != chosen.dir_hash
            || !entry.signers.iter().any(|s| builders.contains(s))
        {
            continue;
        }
        identities.push((entry.index, &sub.source));
        if source.submission_index.is_none() {
            source.submission_index = Some(entry.index);
            source.product = Some(sub.predicate.product.clone());
            source.version = Some(sub.predicate.version.clone());
        }
    }
    identities.sort_by_key(|(index, _)| *index);
    check_identities(&chosen.dir_hash, &identities, &mut source, verdict);
    verdict.source = Some(source);
}

/// Git identities are carried beside the dirHash and cross-checked: every trusted
/// entry that names them must name the same commit and tree.
fn check_identities(
    dir_hash: &str,
    identities: &[(u64, &SourceDigest)],
    source: &mut SourceLink,
    verdict: &mut Verdict,
) {
    let mut commit: Option<(u64, &str)> = None;
    let mut tree: Option<(u64, &str)> = None;
    for (index, digest) in identities {
        for (seen, value, what) in [
            (&mut commit, digest.git_commit.as_deref(), "gitCommit"),
            (&mut tree, digest.git_tree.as_deref(), "gitTree"),
        ] {
            let Some(value) = value else { continue };
            match seen {
                None => *seen = Some((*index, value)),
                Some((first, known)) if !known.eq_ignore_ascii_case(value) => {
                    verdict.failures.push(Failure::SourceIdentityMismatch {
                        dir_hash: dir_hash.to_owned(),
                        detail: format!(
                            "entry {first} names {what} {known}, entry {index} names {value}"
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
    source.git_commit = commit.map(|(_, c)| c.to_owned());
    source.git_tree = tree.map(|(_, t)| t.to_owned());
}
