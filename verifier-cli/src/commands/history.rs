//! `glassbox history`: the regulators' query — every logged attestation matching the
//! filters, across all pages of the search API, as a table, JSON or CSV.

use std::time::Duration;

use anyhow::Context;
use glassbox_core::digest::Sha256Digest;

use super::Outcome;
use crate::cli::{HistoryArgs, HistoryFormat};
use crate::client::{LogClient, SearchFilter, SearchHit};
use crate::output;
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
    let filter = SearchFilter {
        artifact: digest("artifact", &args.artifact)?,
        commit: args.commit.clone(),
        dirhash: digest("dirhash", &args.dirhash)?,
        repository: args.repository.clone(),
        signer: args.signer.clone(),
        kind: args.kind.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let client = LogClient::new(&args.server.url, Duration::from_secs(args.server.timeout))?;
    let hits = client.search(&filter).context("searching the log")?;
    match args.format {
        HistoryFormat::Json => output::print_json(&serde_json::to_value(&hits)?)?,
        HistoryFormat::Csv => output::print(&csv(&hits))?,
        HistoryFormat::Table => output::print(&table(&hits))?,
    }
    Ok(Outcome::Success)
}

const CSV_HEADER: [&str; 7] = [
    "index",
    "integratedTime",
    "kind",
    "signers",
    "subject",
    "digest",
    "detail",
];

/// RFC 4180 with LF line ends: a header line, fields quoted when they hold a comma,
/// quote or line break (quotes doubled), and formula-starting cells neutralised
/// ([`glassbox_core::csv`]).
pub fn csv(hits: &[SearchHit]) -> String {
    let mut out = csv_line(CSV_HEADER.iter().map(|s| s.to_string()));
    for hit in hits {
        let s = summarise_value(&hit.entry);
        out.push_str(&csv_line([
            hit.index.to_string(),
            hit.integrated_time.clone(),
            hit.kind.clone(),
            hit.signers.join(";"),
            s.subject,
            s.digest,
            s.detail,
        ]));
    }
    out
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let fields: Vec<String> = fields.into_iter().collect();
    glassbox_core::csv::record(fields.iter().map(String::as_str), "\n")
}

fn table(hits: &[SearchHit]) -> String {
    let rows: Vec<[String; 5]> = hits
        .iter()
        .map(|hit| {
            let s = summarise_value(&hit.entry);
            let signers = hit
                .signers
                .iter()
                .map(|k| k.get(..12).unwrap_or(k))
                .collect::<Vec<_>>()
                .join(",");
            let mut subject = s.subject;
            for part in [s.digest, s.detail] {
                if !part.is_empty() {
                    subject.push_str("  ");
                    subject.push_str(&part);
                }
            }
            [
                hit.index.to_string(),
                hit.integrated_time.clone(),
                hit.kind.clone(),
                signers,
                subject.replace(['\n', '\r'], " "),
            ]
        })
        .collect();
    let header = ["INDEX", "TIME", "KIND", "SIGNERS", "SUBJECT"].map(str::to_owned);
    let mut widths = [0usize; 4];
    for row in rows.iter().chain(std::iter::once(&header)) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(&row[4]);
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
    fn csv_neutralises_a_hostile_subject_name() {
        let hit = SearchHit {
            index: 7,
            kind: "build".to_owned(),
            integrated_time: "2026-01-01T00:00:00.000Z".to_owned(),
            signers: vec!["aa".to_owned()],
            entry: serde_json::json!({}),
        };
        let line = csv_line(["=cmd|' /C calc'!A0".to_owned(), "ok".to_owned()]);
        assert_eq!(line, "'=cmd|' /C calc'!A0,ok\n");
        assert!(csv(&[hit]).lines().nth(1).unwrap().starts_with("7,"));
    }

    #[test]
    fn csv_has_a_header_and_one_record_per_entry() {
        let mut log = TestLog::new();
        log.story(Sha256Digest::of(b"app"));
        let hits: Vec<SearchHit> = log
            .leaves
            .iter()
            .enumerate()
            .map(|(i, leaf)| SearchHit {
                index: i as u64,
                kind: "k".to_owned(),
                integrated_time: "2026-01-01T00:00:00.000Z".to_owned(),
                signers: vec!["aa".to_owned(), "bb".to_owned()],
                entry: serde_json::from_slice(leaf).expect("json"),
            })
            .collect();
        let text = csv(&hits);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "index,integratedTime,kind,signers,subject,digest,detail"
        );
        assert_eq!(lines.len(), hits.len() + 1);
        // The key-event detail "register Vendor (V Inc) as vendor" has no comma; the
        // operator's roles list is one role. Signers join with ';' so never quote.
        assert!(
            lines[2].starts_with("1,2026-01-01T00:00:00.000Z,k,aa;bb,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].ends_with(",,register Vendor (V Inc) as vendor"),
            "{}",
            lines[2]
        );
        let review = lines
            .iter()
            .find(|l| l.ends_with(",approved"))
            .expect("review line");
        assert!(review.contains("https://example.com/app.git"), "{review}");
        let t = table(&hits);
        assert!(t.starts_with("INDEX"), "{t}");
        assert_eq!(t.lines().count(), hits.len() + 1);
    }
}
