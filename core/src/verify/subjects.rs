//! Where the counted builds name an artifact, found by lookup rather than by reading
//! every subject of every build: a release attested in one build names thousands of
//! files, and verifying the release asks about each of them.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::digest::Sha256Digest;
use crate::statement::Attestation;

use super::evidence::OpenedEntry;

/// The subjects of the builds among a list of entries, by digest and by name.
#[derive(Debug, Default)]
pub(super) struct Subjects {
    /// (digest, entry position, subject position) of every subject, sorted.
    by_digest: Vec<(Sha256Digest, usize, usize)>,
    /// (entry position, subject name) → the position of the first subject of that
    /// build with the name; made when first asked (only contradicting builds ask).
    by_name: OnceLock<HashMap<(usize, String), usize>>,
}

impl Subjects {
    pub(super) fn of(entries: &[OpenedEntry]) -> Subjects {
        let mut by_digest = Vec::new();
        for (at, entry) in entries.iter().enumerate() {
            if let Attestation::Build(build) = &entry.attestation {
                by_digest.extend(
                    build
                        .subjects
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s.sha256, at, i)),
                );
            }
        }
        by_digest.sort_unstable();
        Subjects {
            by_digest,
            by_name: OnceLock::new(),
        }
    }

    /// Where `artifact` is named.
    pub(super) fn naming(&self, artifact: &Sha256Digest) -> Naming<'_> {
        let start = self.by_digest.partition_point(|(d, _, _)| d < artifact);
        let end = start
            + self.by_digest[start..]
                .iter()
                .take_while(|(d, _, _)| d == artifact)
                .count();
        Naming(&self.by_digest[start..end])
    }

    /// The position of the first subject called `name` in the build at entry
    /// position `at` of `entries` (the list these subjects are of).
    pub(super) fn called(&self, entries: &[OpenedEntry], at: usize, name: &str) -> Option<usize> {
        let by_name = self.by_name.get_or_init(|| {
            let mut by_name = HashMap::new();
            for (at, entry) in entries.iter().enumerate() {
                if let Attestation::Build(build) = &entry.attestation {
                    for (i, subject) in build.subjects.iter().enumerate() {
                        by_name.entry((at, subject.name.clone())).or_insert(i);
                    }
                }
            }
            by_name
        });
        // A borrowed (usize, &str) cannot look up an owned (usize, String) key.
        by_name.get(&(at, name.to_owned())).copied()
    }
}

/// The subjects naming one artifact.
#[derive(Clone, Copy, Debug)]
pub(super) struct Naming<'a>(&'a [(Sha256Digest, usize, usize)]);

impl Naming<'_> {
    /// Every (entry position, subject position), in entry order and then subject order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.0.iter().map(|&(_, at, i)| (at, i))
    }

    /// Whether the build at entry position `at` is among them.
    pub(super) fn names(&self, at: usize) -> bool {
        self.0.iter().any(|&(_, e, _)| e == at)
    }
}
