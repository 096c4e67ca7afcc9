//! `glassbox verify` of a release: several FILEs, directories or `--digest`s at once.
//!
//! Every item is hashed (in parallel), each distinct digest is checked once — the
//! engine run once, on a release bundle fetched once for the whole release — and the
//! report is one table row per item with a summary line, or one JSON document. A file that no build names is a row
//! of its own ("not covered"), never left out: a release verifies only when every
//! file in it does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use glassbox_core::digest::Sha256Digest;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::verify::{Failure, Prepared, PreviousCheckpoint, Verdict};
use rayon::prelude::*;
use serde_json::{json, Value};

use super::check::{Held, Offline, ProofSource};
use super::items::{self, Item, What};
use super::{read_bundle, verdict_json};
use crate::cli::VerifyArgs;
use crate::client::LogClient;
use crate::commands::Outcome;
use crate::hash::{progress_bar, sha256_files};
use crate::output;
use crate::state::StateDir;

/// Where the evidence for a digest comes from.
enum Evidence {
    /// The server: release bundles are fetched as digests need them (one proves
    /// every subject of the builds naming its artifact, so the rest of a release
    /// needs no fetch of its own).
    Online(LogClient),
    /// Bundle files as read and opened, in the order given.
    Offline(Vec<(PathBuf, Prepared<'static>)>),
    /// Either of the above once the first digest is judged (see [`Judging`]).
    Judging(Box<Judging>),
}

/// The evidence while a release is judged: each bundle opened once against the
/// policy (its signatures and proofs checked once, whatever the number of files it
/// proves), and the log's state locked until the release is judged.
struct Judging {
    /// Online: the server, for the bundles not fetched yet.
    client: Option<LogClient>,
    /// Each bundle with the file it was read from (`None`: fetched), in the order
    /// given or fetched.
    bundles: Vec<(Option<PathBuf>, Prepared<'static>)>,
    held: Held,
    /// The bundles (by position in `bundles`) judged in full against the state as it
    /// now is and that left it unchanged, with the remembered checkpoint and proof
    /// their judgment was given (see [`judge`]).
    settled: HashMap<usize, Arc<Option<PreviousCheckpoint>>>,
}

/// The engine's conclusion about one digest.
struct Judged {
    verdict: Verdict,
    /// The subject names the counted builds give this digest.
    attested: Vec<String>,
}

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Verified,
    Failed,
    /// No build in the evidence names the digest.
    NotCovered,
    /// An archive read with `--contents` that no build names as a whole: judged by
    /// its members, not a verdict of its own.
    Archive,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::NotCovered => "not covered",
            Status::Archive => "archive",
        }
    }
    fn code(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::NotCovered => "notCovered",
            Status::Archive => "archive",
        }
    }
}

pub fn run(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    if args.rebuild {
        bail!(
            "--rebuild rebuilds one FILE, and this verification names several artifacts \
             (files, a directory or --digest): drop --rebuild, or run \
             `glassbox verify FILE --rebuild --source …` for each file to rebuild"
        );
    }
    let policy = glassbox_keys::policy::load(&args.policy)?;
    let state = StateDir::resolve(args.state.as_deref())?;
    let client = args
        .server
        .as_deref()
        .map(|server| LogClient::new(server, Duration::from_secs(args.timeout)))
        .transpose()?;
    let reading = items::Reading {
        contents: args.contents.then_some(items::Contents {
            max_unpacked: args.max_unpacked,
        }),
        oci: args.oci,
    };
    // Bundle files are read and opened (every signature and proof checked) while the
    // files are listed and hashed: neither needs the other.
    let (evidence, hashed) = std::thread::scope(|scope| {
        let opening = scope.spawn(|| open_bundles(&args.bundle, &policy));
        let hashed = items::collect(&args.files, &args.digests, reading).and_then(|items| {
            let digests = hash(&items)?;
            Ok((items, digests))
        });
        let opened = opening
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (opened, hashed)
    });
    let mut evidence = match client {
        Some(client) => Evidence::Online(client),
        None => Evidence::Offline(evidence?),
    };
    let (items, digests) = hashed?;

    // Each distinct digest once; the bar counts the files each one settles.
    let mut distinct: BTreeMap<Sha256Digest, u64> = BTreeMap::new();
    for digest in digests.iter().flatten() {
        *distinct.entry(*digest).or_default() += 1;
    }
    let progress = progress_bar(distinct.values().sum(), "checking", false);
    let mut judged = HashMap::with_capacity(distinct.len());
    let mut later = Vec::new();
    for (digest, files) in distinct {
        match judge(&digest, &policy, &state, &mut evidence)? {
            Step::Judged(verdict) => {
                judged.insert(digest, *verdict);
                progress.inc(files);
            }
            Step::Later { bundle, previous } => later.push((digest, files, bundle, previous)),
        }
    }
    // What is left needs neither the state nor the network: the engine on an opened
    // bundle against the remembered checkpoint its first digest was judged against.
    if let Evidence::Judging(judging) = &evidence {
        let now = super::unix_now();
        let done: Vec<(Sha256Digest, Judged)> = later
            .into_par_iter()
            .map(|(digest, files, bundle, previous)| {
                let prepared = &judging.bundles[bundle].1;
                let verdict = prepared.verify(&digest, previous.as_ref().as_ref(), None, now);
                progress.inc(files);
                (digest, judged_by(&digest, prepared, verdict))
            })
            .collect();
        judged.extend(done);
    }
    progress.finish_and_clear();
    let mut rows: Vec<Row> = items
        .iter()
        .zip(&digests)
        .map(|(item, digest)| Row::new(item, digest.map(|d| (d, &judged[&d]))))
        .collect();
    judge_archives(&mut rows);
    let summary = Summary::of(&rows);
    if args.json {
        let results = rows
            .iter()
            .map(Row::json)
            .collect::<anyhow::Result<Vec<_>>>()?;
        output::print_json(&json!({ "results": results, "summary": summary.json() }))?;
    } else {
        output::print(&format!(
            "{}{}{}\n",
            table(&rows),
            warnings(&rows),
            summary.line()
        ))?;
    }
    let passes = summary.passes();
    // The process ends when this returns. Freeing every verdict and every opened
    // bundle — hundreds of thousands of allocations for a large release — took a
    // tenth of the time of verifying one (docs/performance.md) and gives nothing
    // back: they are left to the exit. The state lock is released first.
    drop(rows);
    if let Evidence::Judging(judging) = evidence {
        let Judging { held, bundles, .. } = *judging;
        drop(held);
        std::mem::forget(bundles);
    }
    std::mem::forget((items, judged));
    Ok(if passes {
        Outcome::Success
    } else {
        Outcome::VerificationFailed
    })
}

/// Each item's digest: files hashed (in parallel, with progress), `--digest` as given,
/// `None` for what is not followed.
fn hash(items: &[Item]) -> anyhow::Result<Vec<Option<Sha256Digest>>> {
    let files: Vec<PathBuf> = items
        .iter()
        .filter_map(|i| match &i.what {
            What::File(path) | What::Linked { target: path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    let mut hashed = sha256_files(&files)?.into_iter();
    Ok(items
        .iter()
        .map(|item| match &item.what {
            What::File(_) | What::Linked { .. } => hashed.next().map(Sha256Digest),
            What::Digest(digest) | What::Member { digest, .. } => Some(*digest),
            What::NotFollowed(_) => None,
        })
        .collect())
}

/// What [`judge`] did with a digest.
enum Step {
    Judged(Box<Judged>),
    /// Nothing the judgment could change is left to it: the engine on bundle
    /// `bundle` (of [`Judging::bundles`]) given `previous` gives its verdict, and
    /// that may run on any core.
    Later {
        bundle: usize,
        previous: Arc<Option<PreviousCheckpoint>>,
    },
}

/// Fetch (or pick) the evidence for `digest` and judge it against the state, or,
/// when an earlier digest was judged on the same bundle against the same state and
/// left it as it was, say what the verdict depends on.
///
/// A digest's verdict is the engine's on (its bundle, the remembered checkpoint
/// with the consistency proof to it), and the state changes only where the
/// bundle's checkpoint is trusted and newer than the remembered one — which does not
/// depend on the digest. So, digest by digest in order, each bundle is judged in
/// full (locked state, consistency proof, split-view evidence) until it leaves the
/// state unchanged; every later digest on it would meet the same remembered
/// checkpoint and get the same proof, and is left for the parallel pass. The
/// verdicts are those of judging every digest one after the other.
fn judge(
    digest: &Sha256Digest,
    policy: &TrustPolicy,
    state: &StateDir,
    evidence: &mut Evidence,
) -> anyhow::Result<Step> {
    let judging = judging(evidence, policy, state)?;
    if judging.bundles.iter().any(|(_, p)| p.policy() != policy) {
        bail!("a release is judged against one policy");
    }
    let Judging {
        client,
        bundles,
        held,
        settled,
    } = judging;
    let at = match client {
        Some(client) => match bundles.iter().position(|(_, p)| p.serves(digest)) {
            Some(at) => at,
            None => match client.release_bundle(&digest.to_string()) {
                Ok((bundle, _)) => {
                    bundles.push((None, Prepared::owned(bundle, policy.clone())));
                    bundles.len() - 1
                }
                // No build names this digest: the row says so, the others go on.
                Err(err) if err.status() == Some(404) => {
                    return Ok(Step::Judged(Box::new(Judged {
                        verdict: not_covered(digest),
                        attested: Vec::new(),
                    })))
                }
                Err(err) => {
                    return Err(err).with_context(|| format!("fetching the bundle of {digest}"))
                }
            },
        },
        // As `pick_bundle` picks for one file: the bundle made for the digest, else
        // one proving it, else the first.
        None => bundles
            .iter()
            .position(|(_, p)| p.made_for() == Some(digest))
            .or_else(|| bundles.iter().position(|(_, p)| p.serves(digest)))
            .or_else(|| (!bundles.is_empty()).then_some(0))
            .context("give --server URL or --bundle FILE")?,
    };
    if let Some(previous) = settled.get(&at) {
        return Ok(Step::Later {
            bundle: at,
            previous: previous.clone(),
        });
    }
    let (path, prepared) = &bundles[at];
    let offline;
    let proofs: &dyn ProofSource = match client {
        Some(client) => client,
        None => {
            offline = Offline(
                path.as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            );
            &offline
        }
    };
    let checked = held.check(digest, prepared, proofs, None)?;
    if let Some(dir) = &checked.evidence {
        eprintln!(
            "glassbox: split view: both checkpoints and the proof are saved in {}",
            dir.display()
        );
    }
    if checked.remembered {
        // The state moved: every bundle meets a new remembered checkpoint.
        settled.clear();
    } else {
        settled.insert(at, Arc::new(checked.previous));
    }
    Ok(Step::Judged(Box::new(judged_by(
        digest,
        prepared,
        checked.verdict,
    ))))
}

/// The bundle files given, each read on a thread of its own, then opened against
/// the policy (opening one checks every signature and proof in it; the release
/// bundles of one release hold the same entries, opened once for all of them).
fn open_bundles(
    paths: &[PathBuf],
    policy: &TrustPolicy,
) -> anyhow::Result<Vec<(PathBuf, Prepared<'static>)>> {
    let bundles = std::thread::scope(|scope| {
        let reading: Vec<_> = paths
            .iter()
            .map(|path| scope.spawn(move || read_bundle(path)))
            .collect();
        reading
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    Ok(paths
        .iter()
        .cloned()
        .zip(Prepared::owned_all(bundles, policy))
        .collect())
}

/// The evidence as [`Judging`]: on the first call, the state is locked.
fn judging<'e>(
    evidence: &'e mut Evidence,
    policy: &TrustPolicy,
    state: &StateDir,
) -> anyhow::Result<&'e mut Judging> {
    let judging = match std::mem::replace(evidence, Evidence::Offline(Vec::new())) {
        Evidence::Judging(judging) => judging,
        Evidence::Online(client) => Box::new(Judging {
            held: Held::lock(state, policy)?,
            client: Some(client),
            bundles: Vec::new(),
            settled: HashMap::new(),
        }),
        Evidence::Offline(opened) => Box::new(Judging {
            held: Held::lock(state, policy)?,
            client: None,
            bundles: opened.into_iter().map(|(p, b)| (Some(p), b)).collect(),
            settled: HashMap::new(),
        }),
    };
    *evidence = Evidence::Judging(judging);
    let Evidence::Judging(judging) = evidence else {
        unreachable!("the evidence was set just above")
    };
    Ok(judging)
}

/// The verdict with the subject names the counted builds give the digest.
fn judged_by(digest: &Sha256Digest, prepared: &Prepared<'_>, verdict: Verdict) -> Judged {
    let mut attested = BTreeSet::new();
    for link in verdict.builds.iter().filter(|b| !b.local) {
        attested.extend(
            prepared
                .subject_names(link.index, digest)
                .into_iter()
                .map(str::to_owned),
        );
    }
    Judged {
        verdict,
        attested: attested.into_iter().collect(),
    }
}

fn not_covered(digest: &Sha256Digest) -> Verdict {
    Verdict {
        artifact: digest.to_string(),
        failures: vec![Failure::NoBuild],
        ..Verdict::default()
    }
}

/// Settle what `--contents` changes. An archive that no build names is judged by its
/// members. A member that no build names (a file, or a link or device with no
/// digest of its own) is covered by its archive when the archive verified: its bytes
/// are the archive's. A member some build names keeps that verdict, failing or not.
fn judge_archives(rows: &mut [Row]) {
    for at in 0..rows.len() {
        if rows[at].item.members.is_some() && rows[at].status == Status::NotCovered {
            rows[at].status = Status::Archive;
        }
        if let Some(archive) = rows[at].item.within {
            // Not named by any build: a member file, or a link or device (no digest).
            let unnamed = rows[at].status == Status::NotCovered || rows[at].judged.is_none();
            if unnamed && rows[archive].status == Status::Verified {
                rows[at].status = Status::Verified;
                rows[at].via_archive = true;
            }
        }
    }
}

/// One item with its verdict.
struct Row<'a> {
    item: &'a Item,
    judged: Option<(Sha256Digest, &'a Judged)>,
    status: Status,
    /// Verified because the verified archive holding it is (`--contents`).
    via_archive: bool,
}

impl<'a> Row<'a> {
    fn new(item: &'a Item, judged: Option<(Sha256Digest, &'a Judged)>) -> Row<'a> {
        let status = match judged {
            Some((_, j)) if j.verdict.verified() => Status::Verified,
            Some((_, j))
                if j.verdict
                    .failures
                    .iter()
                    .any(|f| matches!(f, Failure::NoBuild)) =>
            {
                Status::NotCovered
            }
            _ => Status::Failed,
        };
        Row {
            item,
            judged,
            status,
            via_archive: false,
        }
    }

    /// The attested subject names when none is this file's path in its directory.
    fn renamed(&self) -> Option<&'a [String]> {
        let relative = self.item.relative.as_deref()?;
        let (_, judged) = self.judged?;
        (!judged.attested.is_empty() && !judged.attested.iter().any(|n| n == relative))
            .then_some(judged.attested.as_slice())
    }

    fn cells(&self) -> [String; 7] {
        let short = |d: &Sha256Digest| d.hex()[..12].to_owned();
        let Some((digest, judged)) = self.judged else {
            let why = match &self.item.what {
                What::NotFollowed(why) => why.clone(),
                _ => String::new(),
            };
            let dash = || "-".to_owned();
            return [
                self.item.label.clone(),
                dash(),
                self.status.word().to_owned(),
                dash(),
                dash(),
                dash(),
                why,
            ];
        };
        let v = &judged.verdict;
        let source = v.source.as_ref().map_or("-".to_owned(), |s| {
            let id = s.git_commit.as_deref().unwrap_or(&s.dir_hash);
            format!("{}@{}", s.repository, &id[..id.len().min(12)])
        });
        let reviewers = join(
            v.reviews
                .iter()
                .filter(|r| r.counted)
                .map(|r| r.organisation.clone()),
        );
        let builders = join(v.builds.iter().map(|b| {
            if b.local {
                "you".to_owned()
            } else {
                b.organisation.clone()
            }
        }));
        let mut reasons: Vec<String> = Vec::new();
        if let Some(note) = self.item.what.note() {
            reasons.push(note.to_owned());
        }
        match self.status {
            Status::Archive => reasons.push(format!(
                "no build names the archive itself: judged by its {} members",
                self.item.members.unwrap_or_default()
            )),
            _ if self.via_archive => reasons.push("inside the verified archive".to_owned()),
            _ => reasons.extend(
                v.failures
                    .iter()
                    .filter_map(super::remedy::code)
                    .collect::<BTreeSet<_>>(),
            ),
        }
        if let Some(names) = self.renamed() {
            reasons.push(format!("attested as {}", names.join(", ")));
        }
        [
            self.item.label.clone(),
            short(&digest),
            self.status.word().to_owned(),
            source,
            reviewers,
            builders,
            if reasons.is_empty() {
                "-".to_owned()
            } else {
                reasons.join("; ")
            },
        ]
    }

    /// The verdict document `verify --json` prints for one file, with `path`, `status`
    /// and what the builds call it.
    fn json(&self) -> anyhow::Result<Value> {
        let path = match &self.item.what {
            What::Digest(_) => Value::Null,
            _ => self.item.label.clone().into(),
        };
        let mut value = match self.judged {
            Some((_, judged)) => {
                let mut value = verdict_json(&judged.verdict, None)?;
                if let Some(object) = value.as_object_mut() {
                    object.insert("attestedAs".to_owned(), json!(judged.attested));
                    if let Some(relative) = &self.item.relative {
                        object.insert("relativePath".to_owned(), relative.clone().into());
                        object.insert("pathDiffers".to_owned(), self.renamed().is_some().into());
                    }
                }
                value
            }
            None => {
                let reason = match &self.item.what {
                    What::NotFollowed(why) => why.clone(),
                    _ => String::new(),
                };
                json!({ "artifact": null, "relativePath": self.item.relative, "reason": reason })
            }
        };
        if let Some(object) = value.as_object_mut() {
            object.insert("path".to_owned(), path);
            object.insert("status".to_owned(), self.status.code().into());
            if let Some(archive) = self.item.within {
                object.insert("withinVerifiedArchive".to_owned(), self.via_archive.into());
                object.insert("archiveIndex".to_owned(), archive.into());
            }
            if let Some(note) = self.item.what.note() {
                object.insert("note".to_owned(), note.into());
            }
        }
        Ok(value)
    }
}

/// The engine's warnings (freshness resting on this client's state, an unproven
/// completeness, …), each once however many rows share it, as `  ! ` lines with the
/// number of rows it concerns.
fn warnings(rows: &[Row]) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (_, judged) in rows.iter().filter_map(|r| r.judged) {
        for warning in &judged.verdict.warnings {
            match seen.iter_mut().find(|(w, _)| w == warning) {
                Some((_, count)) => *count += 1,
                None => seen.push((warning, 1)),
            }
        }
    }
    seen.iter()
        .map(|(warning, count)| {
            let rows = if *count == 1 { "row" } else { "rows" };
            format!("  ! {warning} ({count} {rows})\n")
        })
        .collect()
}

/// Distinct values in order of first appearance, joined; `-` when there are none.
fn join(values: impl Iterator<Item = String>) -> String {
    let mut seen = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    if seen.is_empty() {
        "-".to_owned()
    } else {
        seen.join(", ")
    }
}

const HEADER: [&str; 7] = [
    "PATH",
    "SHA256",
    "VERDICT",
    "SOURCE",
    "REVIEWERS",
    "BUILDERS",
    "REASON",
];

/// The rows under a header, columns padded to their widest cell.
fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 7]> = rows.par_iter().map(Row::cells).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 7]| {
        let mut line = String::with_capacity(widths.iter().sum::<usize>() + 2 * widths.len());
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = width - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        line
    };
    let mut out = line(&HEADER.map(str::to_owned));
    out.extend(cells.par_iter().map(line).collect::<Vec<_>>());
    out
}

struct Summary {
    verified: usize,
    failed: usize,
    not_covered: usize,
    /// Archives judged by their members (`--contents`).
    archives: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Summary {
        let count = |status| rows.iter().filter(|r| r.status == status).count();
        Summary {
            verified: count(Status::Verified),
            failed: count(Status::Failed),
            not_covered: count(Status::NotCovered),
            archives: count(Status::Archive),
        }
    }
    /// Every row verified, or is an archive judged by its (verified) members.
    fn passes(&self) -> bool {
        self.failed == 0 && self.not_covered == 0 && self.verified > 0
    }
    fn line(&self) -> String {
        let mut line = format!(
            "{} verified, {} failed, {} not covered",
            self.verified, self.failed, self.not_covered
        );
        if self.archives > 0 {
            line.push_str(&format!(
                ", {} {} judged by {}",
                self.archives,
                if self.archives == 1 {
                    "archive"
                } else {
                    "archives"
                },
                if self.archives == 1 {
                    "its members"
                } else {
                    "their members"
                },
            ));
        }
        line
    }
    fn json(&self) -> Value {
        json!({
            "verified": self.verified,
            "failed": self.failed,
            "notCovered": self.not_covered,
            "archives": self.archives,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str, relative: Option<&str>) -> Item {
        Item::new(
            label.to_owned(),
            relative.map(str::to_owned),
            What::File(PathBuf::from(label)),
        )
    }

    #[test]
    fn rows_are_aligned_under_the_header_and_the_summary_counts_each_kind() {
        let digest = Sha256Digest([0xab; 32]);
        let good = Judged {
            verdict: Verdict {
                artifact: digest.to_string(),
                ..Verdict::default()
            },
            attested: vec!["bin/app".to_owned()],
        };
        let missing = Judged {
            verdict: not_covered(&digest),
            attested: Vec::new(),
        };
        let (renamed, extra) = (item("r/bin/tool", Some("bin/tool")), item("x", None));
        let link = Item::new(
            "r/l".to_owned(),
            Some("l".to_owned()),
            What::NotFollowed("symbolic link to /etc/passwd, not followed".to_owned()),
        );
        let rows = vec![
            Row::new(&renamed, Some((digest, &good))),
            Row::new(&extra, Some((digest, &missing))),
            Row::new(&link, None),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        let column = |line: &str| line.find("VERDICT").or_else(|| line.find("verified"));
        assert_eq!(column(lines[0]), column(lines[1]), "{text}");
        assert!(lines[1].contains("attested as bin/app"), "{text}");
        assert!(
            lines[2].contains("not covered") && lines[2].contains("noBuild"),
            "{text}"
        );
        assert!(
            lines[3].contains("failed") && lines[3].ends_with("not followed"),
            "{text}"
        );
        assert_eq!(
            Summary::of(&rows).line(),
            "1 verified, 1 failed, 1 not covered"
        );
    }

    #[test]
    fn a_verified_archive_covers_unnamed_members_but_not_ones_a_failing_build_names() {
        let digest = Sha256Digest([0xcd; 32]);
        let verified = Judged {
            verdict: Verdict {
                artifact: digest.to_string(),
                ..Verdict::default()
            },
            attested: Vec::new(),
        };
        let missing = Judged {
            verdict: not_covered(&digest),
            attested: Vec::new(),
        };
        let failing = Judged {
            verdict: Verdict {
                artifact: digest.to_string(),
                failures: vec![Failure::ReviewRejected {
                    index: 7,
                    key_id: "ab".repeat(32),
                    dir_hash: "cd".repeat(32),
                    revoked_at: None,
                }],
                ..Verdict::default()
            },
            attested: Vec::new(),
        };
        let member = |label: &str, what: What| {
            let mut item = Item::new(label.to_owned(), Some(label.to_owned()), what);
            item.within = Some(0);
            item
        };
        let mut archive = item("a.tar", None);
        archive.members = Some(3);
        let file = member("a.tar!/x", What::Member { digest, note: None });
        let device = member("a.tar!/dev", What::NotFollowed("a device file".to_owned()));
        let named = member("a.tar!/y", What::Member { digest, note: None });

        // The archive verified: what no build names is covered by it, a failing
        // build's verdict stands.
        let mut rows = vec![
            Row::new(&archive, Some((digest, &verified))),
            Row::new(&file, Some((digest, &missing))),
            Row::new(&device, None),
            Row::new(&named, Some((digest, &failing))),
        ];
        judge_archives(&mut rows);
        let status: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(
            status,
            [
                Status::Verified,
                Status::Verified,
                Status::Verified,
                Status::Failed
            ]
        );
        assert!(rows[1].cells()[6].contains("inside the verified archive"));
        assert!(!Summary::of(&rows).passes());

        // No build names the archive: it is judged by its members, which must each
        // verify on their own.
        let mut rows = vec![
            Row::new(&archive, Some((digest, &missing))),
            Row::new(&file, Some((digest, &missing))),
            Row::new(&named, Some((digest, &verified))),
        ];
        judge_archives(&mut rows);
        let status: Vec<Status> = rows.iter().map(|r| r.status).collect();
        assert_eq!(
            status,
            [Status::Archive, Status::NotCovered, Status::Verified]
        );
        let summary = Summary::of(&rows);
        assert!(!summary.passes());
        assert_eq!(
            summary.line(),
            "1 verified, 0 failed, 1 not covered, 1 archive judged by its members"
        );
    }
}
