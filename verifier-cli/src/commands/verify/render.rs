//! The human report of `glassbox verify` (docs/design.md §6 step 7).
//!
//! The format is stable so that scripts and tests can rely on it (docs/verification.md):
//! the first line is exactly `VERIFIED` or `NOT VERIFIED`; then one line per failure,
//! starting `  ✗ `, each followed by what to do about it, starting `    → `
//! (docs/verification.md's failures table); then the chain as far as it was established, one labelled line per
//! link (`  artifact`, `  built by`, `  source`, `  reviewed`, `  log`, `  witnesses`,
//! `  complete`), and finally warnings, each starting `  ! `.

use chrono::DateTime;
use glassbox_core::verify::{Consistency, Verdict};

/// A labelled extra line (rebuild result, evidence path) appended to the chain.
pub struct Extra {
    pub label: &'static str,
    pub text: String,
}

/// The report for `verdict` about `file`.
pub fn render(verdict: &Verdict, file: &str, extra: &[Extra]) -> String {
    let verified = verdict.verified();
    let mut out = String::new();
    out.push_str(if verified {
        "VERIFIED\n"
    } else {
        "NOT VERIFIED\n"
    });
    for failure in &verdict.failures {
        line(&mut out, "✗", &failure.to_string());
        if let Some(what) = super::remedy::remedy(failure) {
            out.push_str(&format!("    → {}\n", one_line(what)));
        }
    }

    labelled(
        &mut out,
        "artifact",
        &format!("{}  {file}", verdict.artifact),
    );
    for b in &verdict.builds {
        let text = if b.local {
            format!(
                "you: this verification rebuilt it with the recipe of entry {} (independent)",
                b.index
            )
        } else {
            format!(
                "{} [{}] as {} (entry {}){}",
                b.signer,
                short(&b.key_id),
                b.builder_id,
                b.index,
                if b.independent {
                    ""
                } else {
                    " — the vendor's organisation"
                }
            )
        };
        labelled(&mut out, "built by", &text);
    }
    if let Some(s) = &verdict.source {
        let mut text = s.repository.clone();
        if let Some(commit) = &s.git_commit {
            text.push_str(&format!(" commit {commit}"));
        }
        text.push_str(&format!(" dirHash {}", s.dir_hash));
        match (&s.product, &s.version, s.submission_index) {
            (Some(p), Some(v), Some(i)) => text.push_str(&format!(" ({p} {v}, entry {i})")),
            (_, _, Some(i)) => text.push_str(&format!(" (entry {i})")),
            _ => text.push_str(" (no vendor submission in the bundle)"),
        }
        labelled(&mut out, "source", &text);
    }
    for r in &verdict.reviews {
        let mut text = format!(
            "{} [{}] {}, scope {} (entry {})",
            r.signer,
            short(&r.key_id),
            r.verdict,
            r.scope,
            r.index
        );
        if let Some(note) = &r.note {
            text.push_str(&format!(" — {note}"));
        }
        if r.verdict != "rejected" && !r.counted {
            text.push_str(" [not counted]");
        }
        labelled(&mut out, "reviewed", &text);
    }
    if let Some(cp) = &verdict.checkpoint {
        labelled(
            &mut out,
            "log",
            &format!(
                "{} checkpoint size {} root {}; {}",
                cp.origin,
                cp.size,
                short(&cp.root),
                consistency(&verdict.consistency)
            ),
        );
        let witnesses = if cp.witnesses.is_empty() {
            "none".to_owned()
        } else {
            cp.witnesses
                .iter()
                .map(|w| format!("{} (cosigned {})", w.name, time(w.timestamp)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        labelled(&mut out, "witnesses", &witnesses);
    }
    if let Some(c) = &verdict.completeness {
        let keys = if c.keys.is_empty() {
            "nothing".to_owned()
        } else {
            c.keys.join(", ")
        };
        labelled(
            &mut out,
            "complete",
            &format!(
                "as of log size {}, proven by the log's index: {keys}",
                c.size
            ),
        );
    }
    for e in extra {
        labelled(&mut out, e.label, &e.text);
    }
    for warning in &verdict.warnings {
        line(&mut out, "!", warning);
    }
    out
}

fn line(out: &mut String, mark: &str, text: &str) {
    out.push_str(&format!("  {mark} {}\n", one_line(text)));
}

fn labelled(out: &mut String, label: &str, text: &str) {
    out.push_str(&format!("  {label:<10} {}\n", one_line(text)));
}

/// Reasons never span lines, so that "one failure per line" holds for any input.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn short(hex: &str) -> &str {
    hex.get(..16).unwrap_or(hex)
}

fn time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map_or_else(|| unix.to_string(), |t| t.to_rfc3339())
}

fn consistency(c: &Consistency) -> String {
    match c {
        Consistency::FirstSeen => "the first checkpoint of this log this client has seen".into(),
        Consistency::Same => "the same checkpoint as seen before".into(),
        Consistency::Proven {
            previous_size,
            size,
        } => format!("proven consistent with size {previous_size} seen before (now {size})"),
        Consistency::Unproven {
            previous_size,
            size,
        } => format!("NOT proven consistent with size {previous_size} seen before (now {size})"),
        Consistency::Stale {
            previous_size,
            size,
        } => format!("OLDER than size {previous_size} this client already verified (now {size})"),
        Consistency::SplitView => {
            "SPLIT VIEW: inconsistent with what this client saw before".into()
        }
    }
}
