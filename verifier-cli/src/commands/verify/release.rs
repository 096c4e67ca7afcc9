//! `glassbox verify` of a release: several FILEs, directories or `--digest`s at once.
//!
//! Every item is hashed (in parallel), each distinct digest is checked once — the
//! engine run once, on a release bundle fetched once for the whole release — and the
//! report is one table row per item with a summary line, or one JSON document. A file that no build names is a row
//! of its own ("not covered"), never left out: a release verifies only when every
//! file in it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use glassbox_core::bundle::Bundle;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::index::IndexKey;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::verify::{Failure, Prepared, Verdict};
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
    /// The server, and the release bundles fetched from it so far: one proves every
    /// subject of the builds naming its artifact, so the rest of a release needs no
    /// fetch of its own.
    Online(LogClient, Vec<Bundle>),
    /// Bundle files as read, in the order given.
    Offline(Vec<(PathBuf, Bundle)>),
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
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::NotCovered => "not covered",
        }
    }
    fn code(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::NotCovered => "notCovered",
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
    let mut evidence = match &args.server {
        Some(server) => Evidence::Online(
            LogClient::new(server, Duration::from_secs(args.timeout))?,
            Vec::new(),
        ),
        None => Evidence::Offline(
            args.bundle
                .iter()
                .map(|path| Ok((path.clone(), read_bundle(path)?)))
                .collect::<anyhow::Result<_>>()?,
        ),
    };
    let items = items::collect(&args.files, &args.digests)?;
    let digests = hash(&items)?;

    // Each distinct digest once; the bar counts the files each one settles.
    let mut distinct: BTreeMap<Sha256Digest, u64> = BTreeMap::new();
    for digest in digests.iter().flatten() {
        *distinct.entry(*digest).or_default() += 1;
    }
    let progress = progress_bar(distinct.values().sum(), "checking", false);
    let mut judged = BTreeMap::new();
    for (digest, files) in distinct {
        judged.insert(digest, judge(&digest, &policy, &state, &mut evidence)?);
        progress.inc(files);
    }
    progress.finish_and_clear();

    let rows: Vec<Row> = items
        .iter()
        .zip(&digests)
        .map(|(item, digest)| Row::new(item, digest.map(|d| (d, &judged[&d]))))
        .collect();
    let summary = Summary::of(&rows);
    if args.json {
        let results = rows
            .iter()
            .map(Row::json)
            .collect::<anyhow::Result<Vec<_>>>()?;
        output::print_json(&json!({ "results": results, "summary": summary.json() }))?;
    } else {
        output::print(&format!("{}{}\n", table(&rows), summary.line()))?;
    }
    Ok(if summary.verified == rows.len() {
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
            What::File(path) => Some(path.clone()),
            _ => None,
        })
        .collect();
    let mut hashed = sha256_files(&files)?.into_iter();
    Ok(items
        .iter()
        .map(|item| match &item.what {
            What::File(_) => hashed.next().map(Sha256Digest),
            What::Digest(digest) => Some(*digest),
            What::NotFollowed(_) => None,
        })
        .collect())
}

/// Fetch (or pick) the evidence for `digest` and run the engine on it.
fn judge(
    digest: &Sha256Digest,
    policy: &TrustPolicy,
    state: &StateDir,
    evidence: &mut Evidence,
) -> anyhow::Result<Judged> {
    let judging = judging(evidence, policy, state)?;
    if judging.bundles.iter().any(|(_, p)| p.policy() != policy) {
        bail!("a release is judged against one policy");
    }
    let Judging {
        client,
        bundles,
        held,
    } = judging;
    match client {
        Some(client) => {
            if let Some((_, prepared)) = bundles.iter().find(|(_, p)| covers(p, digest)) {
                return finish(digest, prepared, held, client);
            }
            match client.release_bundle(&digest.to_string()) {
                Ok((bundle, _)) => {
                    let prepared = Prepared::owned(bundle, policy.clone());
                    let judged = finish(digest, &prepared, held, client);
                    bundles.push((None, prepared));
                    judged
                }
                // No build names this digest: the row says so, the others go on.
                Err(err) if err.status() == Some(404) => Ok(Judged {
                    verdict: not_covered(digest),
                    attested: Vec::new(),
                }),
                Err(err) => Err(err).with_context(|| format!("fetching the bundle of {digest}")),
            }
        }
        None => {
            // As `pick_bundle` picks for one file: the bundle made for the digest, else
            // one proving it, else the first.
            let (path, prepared) = bundles
                .iter()
                .find(|(_, p)| p.made_for() == Some(digest))
                .or_else(|| bundles.iter().find(|(_, p)| covers(p, digest)))
                .or_else(|| bundles.first())
                .context("give --server URL or --bundle FILE")?;
            let label = path.as_deref().map(|p| p.display().to_string());
            let offline = Offline(label.unwrap_or_default());
            finish(digest, prepared, held, &offline)
        }
    }
}

/// The evidence as [`Judging`]: on the first call, every bundle given is opened and
/// the state is locked.
fn judging<'e>(
    evidence: &'e mut Evidence,
    policy: &TrustPolicy,
    state: &StateDir,
) -> anyhow::Result<&'e mut Judging> {
    // Each bundle on a core of its own: opening one checks every signature and proof in it.
    let open = |bundles: Vec<(Option<PathBuf>, Bundle)>| {
        bundles
            .into_par_iter()
            .map(|(path, bundle)| (path, Prepared::owned(bundle, policy.clone())))
            .collect()
    };
    let judging = match std::mem::replace(evidence, Evidence::Offline(Vec::new())) {
        Evidence::Judging(judging) => judging,
        Evidence::Online(client, fetched) => Box::new(Judging {
            held: Held::lock(state, policy)?,
            client: Some(client),
            bundles: open(fetched.into_iter().map(|b| (None, b)).collect()),
        }),
        Evidence::Offline(read) => Box::new(Judging {
            held: Held::lock(state, policy)?,
            client: None,
            bundles: open(read.into_iter().map(|(p, b)| (Some(p), b)).collect()),
        }),
    };
    *evidence = Evidence::Judging(judging);
    let Evidence::Judging(judging) = evidence else {
        unreachable!("the evidence was set just above")
    };
    Ok(judging)
}

/// Whether the opened bundle was made for `digest` or carries the lookup of its
/// index key (as [`covers`](super::covers) decides for a bundle).
fn covers(prepared: &Prepared<'_>, digest: &Sha256Digest) -> bool {
    prepared.made_for() == Some(digest) || prepared.proves(&IndexKey::Artifact(digest.hex()))
}

fn finish(
    digest: &Sha256Digest,
    prepared: &Prepared<'_>,
    held: &mut Held,
    proofs: &dyn ProofSource,
) -> anyhow::Result<Judged> {
    let checked = held.check(digest, prepared, proofs, None)?;
    if let Some(dir) = &checked.evidence {
        eprintln!(
            "glassbox: split view: both checkpoints and the proof are saved in {}",
            dir.display()
        );
    }
    let mut attested = BTreeSet::new();
    for link in checked.verdict.builds.iter().filter(|b| !b.local) {
        attested.extend(
            prepared
                .subject_names(link.index, digest)
                .into_iter()
                .map(str::to_owned),
        );
    }
    Ok(Judged {
        verdict: checked.verdict,
        attested: attested.into_iter().collect(),
    })
}

fn not_covered(digest: &Sha256Digest) -> Verdict {
    Verdict {
        artifact: digest.to_string(),
        failures: vec![Failure::NoBuild],
        ..Verdict::default()
    }
}

/// One item with its verdict.
struct Row<'a> {
    item: &'a Item,
    judged: Option<(Sha256Digest, &'a Judged)>,
    status: Status,
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
        let mut reasons: Vec<String> = v
            .failures
            .iter()
            .filter_map(super::remedy::code)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
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
        }
        Ok(value)
    }
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
    let cells: Vec<[String; 7]> = rows.iter().map(Row::cells).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = HEADER.map(str::to_owned);
    for row in std::iter::once(&header).chain(&cells) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

struct Summary {
    verified: usize,
    failed: usize,
    not_covered: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Summary {
        let count = |status| rows.iter().filter(|r| r.status == status).count();
        Summary {
            verified: count(Status::Verified),
            failed: count(Status::Failed),
            not_covered: count(Status::NotCovered),
        }
    }
    fn line(&self) -> String {
        format!(
            "{} verified, {} failed, {} not covered",
            self.verified, self.failed, self.not_covered
        )
    }
    fn json(&self) -> Value {
        json!({
            "verified": self.verified,
            "failed": self.failed,
            "notCovered": self.not_covered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str, relative: Option<&str>) -> Item {
        Item {
            label: label.to_owned(),
            relative: relative.map(str::to_owned),
            what: What::File(PathBuf::from(label)),
        }
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
        let link = Item {
            label: "r/l".to_owned(),
            relative: Some("l".to_owned()),
            what: What::NotFollowed("symbolic link to /etc/passwd, not followed".to_owned()),
        };
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
}
