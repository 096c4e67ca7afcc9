//! `glassbox history`: the regulators' query — every logged attestation matching the
//! filters, across all pages of the search API, as a table, JSON or CSV.

use std::time::Duration;

use anyhow::Context;
use glassbox_core::digest::Sha256Digest;

use glassbox_core::bundle::{Bundle, BundleIndex, BUNDLE_MEDIA_TYPE_V2};
use glassbox_core::dsse::Envelope;
use glassbox_core::export::ExportRow;
use glassbox_core::index::IndexKey;
use glassbox_core::policy::TrustPolicy;
use glassbox_core::statement::{Attestation, KeyEventPredicate};
use glassbox_core::verify::{verify_lookup, LookupRequest};

use super::verify::check::check_with;
use super::Outcome;
use crate::cli::{HistoryArgs, HistoryFormat};
use crate::client::{LogClient, SearchFilter, SearchHit};
use crate::output;
use crate::state::StateDir;
use crate::summary::summarise_value;

pub fn run(args: HistoryArgs) -> anyhow::Result<Outcome> {
    let digest = |name: &str, v: &Option<String>| -> anyhow::Result<Option<String>> {
        v.as_deref()
            .map(|v| {
                v.parse::<Sha256Digest>()
                    .map(|d| d.to_string())
                    .with_context(|| format!("--{name} {v:?}"))
            })
            .transpose()
    };
    let client = LogClient::new(&args.server.url, Duration::from_secs(args.server.timeout))?;
    let filter = SearchFilter {
        artifact: digest("artifact", &args.artifact)?,
        commit: args.commit.clone(),
        dirhash: digest("dirhash", &args.dirhash)?,
        repository: args.repository.clone(),
        signer: None,
        organisation: None,
        kind: args.kind.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let prover = match &args.policy {
        Some(policy) => {
            check_provable(&args)?;
            Some(Prover {
                policy: glassbox_keys::policy::load(policy)?,
                state: StateDir::resolve(args.state.as_deref())?,
                client: &client,
            })
        }
        None => None,
    };
    let mut proven = Vec::new();
    let mut failures = Vec::new();
    // The keys whose histories are joined: each --signer, or the organisation's.
    let mut keys: Vec<String> = Vec::new();
    for given in &args.signer {
        let id = full_key_id(&client, given)?;
        if !keys.contains(&id) {
            keys.push(id);
        }
    }
    if let Some(name) = &args.organisation {
        let registry = match &prover {
            Some(prover) => match prover.prove(IndexKey::Registry)? {
                Ok(p) => Some(p),
                Err(why) => return Ok(failed(&why)),
            },
            None => None,
        };
        let events = client
            .search(&SearchFilter {
                kind: Some("key-event".to_owned()),
                ..SearchFilter::default()
            })
            .context("reading the log's key events for --organisation")?;
        if let Some(registry) = registry {
            failures.extend(missing(&events, &registry));
            proven.push(registry);
        }
        keys = organisation_keys(&events, name)?;
    }
    let hits = if keys.is_empty() {
        if let Some(prover) = &prover {
            match prover.prove(proven_key(&filter)?)? {
                Ok(p) => proven.push(p),
                Err(why) => return Ok(failed(&why)),
            }
        }
        let hits = client.search(&filter).context("searching the log")?;
        for p in &proven {
            failures.extend(missing(&hits, p));
        }
        hits
    } else {
        // The union of the keys' histories, each proven and checked on its own:
        // a search for one key is compared with that key's list only.
        let mut union = std::collections::BTreeMap::new();
        for key in &keys {
            let one = match &prover {
                Some(prover) => match prover.prove(IndexKey::Signer(key.clone()))? {
                    Ok(p) => Some(p),
                    Err(why) => return Ok(failed(&why)),
                },
                None => None,
            };
            let hits = client
                .search(&SearchFilter {
                    signer: Some(key.clone()),
                    ..filter.clone()
                })
                .with_context(|| format!("searching the log for signer {key}"))?;
            if let Some(one) = one {
                failures.extend(missing(&hits, &one));
                proven.push(one);
            }
            for hit in hits {
                union.entry(hit.index).or_insert(hit);
            }
        }
        union.into_values().collect::<Vec<SearchHit>>()
    };
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("glassbox: ✗ {f}");
        }
        eprintln!(
            "glassbox: the history is NOT complete: the log's index lists {} entr{} the \
             search left out",
            failures.len(),
            if failures.len() == 1 { "y" } else { "ies" }
        );
        return Ok(Outcome::VerificationFailed);
    }
    match args.format {
        HistoryFormat::Json => output::print_json(&serde_json::to_value(rows(&hits))?)?,
        HistoryFormat::Csv => output::print(&csv(&hits))?,
        HistoryFormat::Table => {
            let mut text = table(&hits);
            for p in &proven {
                text.push_str(&format!(
                    "complete as of log size {}: the log's index lists {} entr{} under {}\n",
                    p.size,
                    p.indices.len(),
                    if p.indices.len() == 1 { "y" } else { "ies" },
                    p.key
                ));
            }
            output::print(&text)?
        }
    }
    Ok(Outcome::Success)
}

/// Says why the log's answer proves nothing, and fails.
fn failed(why: &str) -> Outcome {
    eprintln!("glassbox: ✗ {why}");
    Outcome::VerificationFailed
}

/// The key IDs the registry's events register under the organisation `name`,
/// spelled exactly so — any role, revoked keys included — in log order. A name no
/// registration uses is an error naming the ones that are.
fn organisation_keys(events: &[SearchHit], name: &str) -> anyhow::Result<Vec<String>> {
    let mut known = std::collections::BTreeSet::new();
    let mut keys = Vec::new();
    for hit in events {
        let Ok(envelope) = Envelope::from_value(&hit.entry) else {
            continue;
        };
        let Ok(Attestation::KeyEvent(event)) = Attestation::of_envelope(&envelope) else {
            continue;
        };
        if let KeyEventPredicate::Register(r) = &event.predicate {
            if r.organisation == name && !keys.contains(&event.key_id) {
                keys.push(event.key_id.clone());
            }
            known.insert(r.organisation.clone());
        }
    }
    if keys.is_empty() {
        let known: Vec<String> = known.iter().map(|o| format!("{o:?}")).collect();
        anyhow::bail!(
            "--organisation {name:?}: no key in this log is registered under that name (it \
             must match exactly); the registered organisations are {} (the log's /keys page \
             lists them with their keys)",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(keys)
}

/// The full key ID `given` names: itself when it is 64 hex digits, else the one
/// registered key ID it starts (the tables print the first 12 digits). None, or
/// more than one, is an error that says so.
fn full_key_id(client: &LogClient, given: &str) -> anyhow::Result<String> {
    let prefix = given.trim().to_ascii_lowercase();
    if !prefix.bytes().all(|b| b.is_ascii_hexdigit()) || prefix.is_empty() {
        anyhow::bail!("--signer {given:?}: a key ID is hex digits (all 64, or the first few)");
    }
    if prefix.len() == 64 {
        return Ok(prefix);
    }
    let keys = client
        .keys()
        .context("fetching the log's registered keys to complete --signer")?;
    let registered: Vec<&str> = keys["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| k["keyId"].as_str()).collect())
        .unwrap_or_default();
    one_key_starting(given, &prefix, &registered)
}

/// The one of `registered` that starts with `prefix` (`given`, as typed).
fn one_key_starting(given: &str, prefix: &str, registered: &[&str]) -> anyhow::Result<String> {
    let ids: Vec<&str> = registered
        .iter()
        .copied()
        .filter(|id| id.starts_with(prefix))
        .collect();
    match ids.as_slice() {
        [id] => Ok((*id).to_owned()),
        [] => {
            anyhow::bail!("--signer {given}: no key registered in this log has an ID starting so")
        }
        many => anyhow::bail!(
            "--signer {given} is ambiguous: {} registered key IDs start so ({}); give more digits",
            many.len(),
            many.iter()
                .map(|id| &id[..(prefix.len() + 4).min(id.len())])
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A key's complete list of entries, as the log's index proved it.
struct Proven {
    key: IndexKey,
    /// The list is complete for entries below this.
    size: u64,
    indices: Vec<u64>,
}

/// With --policy, only the filters whose keys the log's index lists may be given:
/// one --artifact or --dirhash, or --signer (repeatable), or --organisation.
fn check_provable(args: &HistoryArgs) -> anyhow::Result<()> {
    let others = [
        ("--repository", args.repository.is_some()),
        ("--commit", args.commit.is_some()),
        ("--kind", args.kind.is_some()),
        ("--since", args.since.is_some()),
        ("--until", args.until.is_some()),
    ];
    if let Some((flag, _)) = others.iter().find(|(_, given)| *given) {
        anyhow::bail!(
            "--policy proves the complete history of what the log's index lists: give one of \
             --artifact or --dirhash, or --signer (repeatable), or --organisation, without {flag}"
        );
    }
    let kinds = [
        args.artifact.is_some(),
        args.dirhash.is_some(),
        !args.signer.is_empty(),
        args.organisation.is_some(),
    ];
    if kinds.iter().filter(|&&k| k).count() != 1 {
        anyhow::bail!(
            "--policy proves the complete history of what the log's index lists: give exactly \
             one of --artifact, --dirhash, --signer (repeatable) or --organisation"
        );
    }
    Ok(())
}

/// The one index key of an --artifact or --dirhash history.
fn proven_key(filter: &SearchFilter) -> anyhow::Result<IndexKey> {
    let hex = |v: &Option<String>| {
        v.as_deref()
            .map(|d| d.trim_start_matches("sha256:").to_owned())
    };
    let key = hex(&filter.artifact)
        .map(IndexKey::Artifact)
        .or_else(|| hex(&filter.dirhash).map(IndexKey::Source))
        .context("--policy needs --artifact, --dirhash, --signer or --organisation")?;
    let text = key.to_string();
    text.parse::<IndexKey>().with_context(|| {
        format!("{text} is not an index key (a full 64-hex key ID or digest is needed)")
    })
}

/// Appends to `answer`'s list the pages that follow it when it was too long for
/// one answer. Nothing here is trusted: the whole list is checked against the
/// answer's proof afterwards, so a page that leaves out, adds or reorders an entry
/// fails that check. Here each page must go on past the last index, below the
/// commitment, so a hostile server cannot keep the client paging for ever; the
/// inner `Err` says how a page failed to.
fn fetch_rest_of_list(
    client: &LogClient,
    key: &IndexKey,
    answer: &mut glassbox_core::api::IndexAnswer,
) -> anyhow::Result<Result<(), String>> {
    let size = answer.commitment.index + 1;
    let shown = key.to_string();
    let mut next = answer.next_after.take();
    while let Some(after) = next {
        let page = client
            .index_page(&shown, size, after)
            .with_context(|| format!("fetching {key}'s list after entry {after}"))?;
        // Each page starts past `after` and, when another follows, ends where it
        // starts: `after` grows with every page and stays below the commitment.
        let advances = page.indices.first().is_none_or(|&first| first > after)
            && page
                .indices
                .last()
                .is_none_or(|&last| last < answer.commitment.index)
            && page
                .next_after
                .is_none_or(|n| page.indices.last() == Some(&n));
        if !advances {
            return Ok(Err(format!(
                "the log's page of {key}'s list after entry {after} does not go on past it \
                 within the checkpoint of {size} entries"
            )));
        }
        next = page.next_after;
        answer.lookup.indices.extend(page.indices);
    }
    Ok(Ok(()))
}

/// What proves a key's list: the customer's policy, the client's remembered
/// checkpoint, and the log.
struct Prover<'a> {
    policy: TrustPolicy,
    state: StateDir,
    client: &'a LogClient,
}

impl Prover<'_> {
    /// Fetches the key's index answer and checks it as `verify` checks a bundle,
    /// against the policy and the client's remembered checkpoint (which it then
    /// advances). The inner `Err` says why the answer proves nothing.
    fn prove(&self, key: IndexKey) -> anyhow::Result<Result<Proven, String>> {
        let (policy, client) = (&self.policy, self.client);
        let mut answer = client
            .index(&key.to_string())
            .context("fetching the log's index lookup")?;
        if let Err(why) = fetch_rest_of_list(client, &key, &mut answer)? {
            return Ok(Err(why));
        }
        let bundle = Bundle {
            media_type: BUNDLE_MEDIA_TYPE_V2.to_owned(),
            artifact: String::new(),
            checkpoint: answer.checkpoint,
            entries: Vec::new(),
            key_events: Vec::new(),
            index: Some(BundleIndex {
                commitment: answer.commitment,
                lookups: vec![answer.lookup],
            }),
        };
        let checked = check_with(&bundle, policy, &self.state, client, |previous| {
            verify_lookup(LookupRequest {
                key: &key,
                bundle: &bundle,
                policy,
                previous,
                now: super::verify::unix_now(),
            })
        })?;
        let verdict = checked.verdict;
        if let Some(dir) = &checked.evidence {
            eprintln!(
                "glassbox: split view: both checkpoints and the proof are saved in {}",
                dir.display()
            );
        }
        Ok(match (&verdict.completeness, verdict.failures.as_slice()) {
            (Some(c), []) => Ok(Proven {
                key,
                size: c.size,
                indices: bundle
                    .index
                    .map(|i| i.lookups.into_iter().flat_map(|l| l.indices).collect())
                    .unwrap_or_default(),
            }),
            (_, failures) => {
                let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
                Err(format!(
                    "the log's answer for {key} does not prove a complete history: {}",
                    reasons.join("; ")
                ))
            }
        })
    }
}

/// What the index lists but the search left out (or showed and the index does not).
fn missing(hits: &[SearchHit], proven: &Proven) -> Vec<String> {
    let shown: std::collections::BTreeSet<u64> = hits
        .iter()
        .map(|h| h.index)
        .filter(|&i| i < proven.size)
        .collect();
    let listed: std::collections::BTreeSet<u64> = proven.indices.iter().copied().collect();
    let mut out: Vec<String> = listed
        .difference(&shown)
        .map(|i| {
            format!(
                "entry {i} is filed under {} but the search left it out",
                proven.key
            )
        })
        .collect();
    out.extend(shown.difference(&listed).map(|i| {
        format!(
            "entry {i} was shown for {} but the log's index does not list it",
            proven.key
        )
    }));
    out
}

/// The hits as the export endpoint writes its rows ([`ExportRow`]): the envelope
/// and its decoded statement. The leaf is the envelope's canonical form, as the
/// log hashes it.
fn rows(hits: &[SearchHit]) -> Vec<ExportRow> {
    hits.iter()
        .map(|hit| {
            let leaf = Envelope::from_value(&hit.entry)
                .map(|e| e.to_canonical_json())
                .unwrap_or_else(|_| hit.entry.to_string().into_bytes());
            ExportRow::of_leaf(
                hit.index,
                hit.integrated_time.clone(),
                hit.kind.clone(),
                hit.signers.clone(),
                &leaf,
            )
        })
        .collect()
}

/// The export endpoint's CSV (`GET /api/v1/export?format=csv`), written by the
/// same function: the same columns, CRLF line ends, RFC 4180 quoting and
/// formula-starting cells neutralised ([`glassbox_core::csv`]).
pub fn csv(hits: &[SearchHit]) -> String {
    let mut out = ExportRow::csv_header();
    for row in rows(hits) {
        out.push_str(&row.csv_record());
    }
    out
}

/// One line per entry under a header naming every column; the last column
/// (detail) is free text and left unpadded.
fn table(hits: &[SearchHit]) -> String {
    const COLUMNS: usize = 7;
    let one_line = |text: String| text.replace(['\n', '\r'], " ");
    let rows: Vec<[String; COLUMNS]> = hits
        .iter()
        .map(|hit| {
            let s = summarise_value(&hit.entry);
            let signers = hit
                .signers
                .iter()
                .map(|k| k.get(..12).unwrap_or(k))
                .collect::<Vec<_>>()
                .join(",");
            [
                hit.index.to_string(),
                hit.integrated_time.clone(),
                hit.kind.clone(),
                signers,
                one_line(s.subject),
                one_line(s.digest),
                one_line(s.detail),
            ]
        })
        .collect();
    let header = [
        "INDEX", "TIME", "KIND", "SIGNERS", "SUBJECT", "DIGEST", "DETAIL",
    ]
    .map(str::to_owned);
    let mut widths = [0usize; COLUMNS - 1];
    for row in rows.iter().chain(std::iter::once(&header)) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (w, cell) in widths.iter().zip(row) {
            line.push_str(&format!("{cell:<w$}  "));
        }
        line.push_str(&row[COLUMNS - 1]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no matching entries)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testlog::TestLog;

    #[test]
    fn a_short_signer_id_names_its_one_key_or_says_why_not() {
        let ids = ["ab12".repeat(16), "ab34".repeat(16), "cd56".repeat(16)];
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(one_key_starting("AB3", "ab3", &ids).unwrap(), ids[1]);
        let err = one_key_starting("ab", "ab", &ids).unwrap_err().to_string();
        assert!(
            err.contains(
                "--signer ab is ambiguous: 2 registered key IDs start so (ab12ab, ab34ab)"
            ),
            "{err}"
        );
        let err = one_key_starting("ef", "ef", &ids).unwrap_err().to_string();
        assert!(err.contains("no key registered in this log"), "{err}");
    }

    /// The entries of a test log's story as search hits, each signed by `signers`.
    fn story_hits(signers: &[&str]) -> Vec<SearchHit> {
        let mut log = TestLog::new();
        log.story(Sha256Digest::of(b"app"));
        log.leaves
            .iter()
            .enumerate()
            .map(|(i, leaf)| SearchHit {
                index: i as u64,
                kind: "k".to_owned(),
                integrated_time: "2026-01-01T00:00:00.000Z".to_owned(),
                signers: signers.iter().map(|s| s.to_string()).collect(),
                entry: serde_json::from_slice(leaf).expect("json"),
            })
            .collect()
    }

    #[test]
    fn csv_has_a_header_and_one_record_per_entry() {
        let hits = story_hits(&["aa", "bb"]);
        let text = csv(&hits);
        assert!(text.ends_with("\r\n"), "{text}");
        let header = text.split("\r\n").next().unwrap();
        assert_eq!(
            header,
            "index,integratedTime,kind,signers,subjects,artifacts,repositories,commits,\
             dirHashes,leafHash,product,version,verdict,scope,findings,builder"
        );
        // The review's line: its repository, verdict and scope decoded.
        let review = text
            .split("\r\n")
            .find(|l| l.contains(",approved,"))
            .expect("review line");
        assert!(
            review.contains("https://example.com/app.git") && review.contains(",approved,full,"),
            "{review}"
        );
        let json = serde_json::to_value(rows(&hits)).unwrap();
        let review = json
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["statement"]["kind"] == "source-review")
            .expect("review row");
        assert_eq!(review["statement"]["verdict"], "approved", "{review}");
        assert_eq!(
            review["entry"],
            hits[review["index"].as_u64().unwrap() as usize].entry
        );
        let t = table(&hits);
        assert!(t.starts_with("INDEX"), "{t}");
        assert_eq!(t.lines().count(), hits.len() + 1);
    }

    /// Every column of the table has its name in the header, and each cell
    /// starts where its name does.
    #[test]
    fn the_table_header_names_every_column() {
        let hits = story_hits(&["aa"]);
        let t = table(&hits);
        let header = t.lines().next().unwrap();
        let names: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(
            names,
            ["INDEX", "TIME", "KIND", "SIGNERS", "SUBJECT", "DIGEST", "DETAIL"],
            "{t}"
        );
        let review = t
            .lines()
            .find(|l| l.ends_with("approved"))
            .expect("review line");
        let at = |name: &str| header.find(name).unwrap();
        assert!(
            review[at("SUBJECT")..].starts_with("https://example.com/app.git "),
            "{t}"
        );
        let dir_hash = &review[at("DIGEST")..at("DETAIL")];
        assert!(
            dir_hash.trim_end().len() == 64
                && dir_hash.trim_end().bytes().all(|b| b.is_ascii_hexdigit()),
            "{t}"
        );
        assert_eq!(&review[at("DETAIL")..], "approved", "{t}");
    }
}
