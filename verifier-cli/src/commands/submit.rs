//! `glassbox submit ENVELOPE…`: log envelopes and keep the receipts, checking each
//! receipt's tlog-proof when the log's key is known (C2SP tlog-proof).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use glassbox_core::bundle::Receipt;
use glassbox_core::checkpoint::Checkpoint;
use glassbox_core::dsse::Envelope;
use glassbox_core::note::NoteVerifierKey;
use glassbox_core::tlog_proof::TlogProof;
use serde_json::json;

use super::Outcome;
use crate::cli::SubmitArgs;
use crate::client::LogClient;
use crate::output;

/// Largest envelope file read (the server's default body limit is 1 MiB).
const MAX_ENVELOPE_BYTES: u64 = 16 << 20;

pub fn run(args: SubmitArgs) -> anyhow::Result<Outcome> {
    if args.output.is_some() && args.envelopes.len() > 1 {
        bail!("-o names one receipt file; give one ENVELOPE, or omit -o to save each receipt beside its envelope");
    }
    let log_key = match (&args.log_vkey, &args.policy) {
        (Some(vkey), _) => {
            Some(NoteVerifierKey::parse(vkey).with_context(|| format!("--log-vkey {vkey:?}"))?)
        }
        (None, Some(path)) => {
            let policy = glassbox_keys::policy::load(path)?;
            Some(NoteVerifierKey::parse(&policy.log.vkey).context("the policy's log vkey")?)
        }
        (None, None) => None,
    };
    // Read and check everything before sending anything.
    let mut jobs = Vec::new();
    for path in &args.envelopes {
        let bytes = read_limited(path)?;
        let envelope = Envelope::from_json(&bytes)
            .with_context(|| format!("{}: not a DSSE envelope", path.display()))?;
        let target = args.output.clone().unwrap_or_else(|| receipt_path(path));
        // An existing receipt is kept, not refused, when it is this statement's:
        // decided once the server has answered (it is contacted first).
        let kept = if target.exists() && !args.force {
            Some(read_limited(&target)?)
        } else {
            output::check_writable(&target, args.force)?;
            None
        };
        jobs.push((path, bytes, envelope, target, kept));
    }

    let client = LogClient::new(&args.server.url, Duration::from_secs(args.server.timeout))?;
    let mut outcome = Outcome::Success;
    let mut json_out = Vec::new();
    for (path, bytes, envelope, target, kept) in jobs {
        let submitted = client
            .submit(&bytes)
            .with_context(|| format!("submitting {}", path.display()))?;
        let receipt = submitted.receipt;
        match &kept {
            Some(existing) => check_kept(&target, existing, &envelope)?,
            None => {
                let mut text =
                    serde_json::to_vec_pretty(&receipt).context("encoding the receipt")?;
                text.push(b'\n');
                output::write_file(&target, &text, args.force)?;
            }
        }
        let check = log_key
            .as_ref()
            .map(|key| check_receipt(&receipt, &envelope, key));
        if matches!(check, Some(Err(_))) {
            outcome = Outcome::VerificationFailed;
        }
        if args.json {
            json_out.push(json!({
                "envelope": path.display().to_string(),
                "receiptFile": target.display().to_string(),
                "receiptKept": kept.is_some(),
                "created": submitted.created,
                "tlogProof": match &check {
                    None => "not-checked".to_owned(),
                    Some(Ok(_)) => "verified".to_owned(),
                    Some(Err(e)) => format!("failed: {e}"),
                },
                "receipt": receipt,
            }));
            continue;
        }
        let mut line = format!(
            "logged {} at index {} ({}) → {}{}\n",
            path.display(),
            receipt.index,
            if submitted.created {
                "new"
            } else {
                "already logged"
            },
            target.display(),
            if kept.is_some() {
                " (kept: it is this statement's receipt)"
            } else {
                ""
            }
        );
        line.push_str(&match check {
            None => {
                "  tlog-proof not checked (give --log-vkey or --policy to check it)\n".to_owned()
            }
            Some(Ok(cp)) => format!(
                "  tlog-proof verified: entry {} is in {} at tree size {}\n",
                receipt.index, cp.origin, cp.size
            ),
            Some(Err(e)) => format!("  ✗ tlog-proof does not verify: {e}\n"),
        });
        output::print(&line)?;
    }
    if args.json {
        output::print_json(&json_out.into())?;
    }
    Ok(outcome)
}

/// Whether the receipt file already at `target` (`existing`, its bytes) may stay:
/// only when it is a receipt of `envelope`'s statement. Anything else there is an
/// error that says what it is and how to replace it.
fn check_kept(target: &Path, existing: &[u8], envelope: &Envelope) -> anyhow::Result<()> {
    let replace = "use --force to replace it, or -o to save the receipt elsewhere";
    let old: Receipt = serde_json::from_slice(existing).map_err(|e| {
        anyhow::anyhow!(
            "{} exists and is not a receipt ({e}); {replace}",
            target.display()
        )
    })?;
    let logged = Envelope::from_value(&old.entry).map_err(|e| {
        anyhow::anyhow!(
            "{} exists and its entry is not an envelope ({e}); {replace}",
            target.display()
        )
    })?;
    if logged.statement_digest() != envelope.statement_digest() {
        bail!(
            "{} exists and is the receipt of another statement (log entry {}); {replace}",
            target.display(),
            old.index
        );
    }
    Ok(())
}

/// Checks that `receipt` proves `submitted`'s statement, signed by every key
/// that signed `submitted`, is in the log `log` signs. The log keeps a statement
/// once, at its first position, and answers a re-submission with that first copy
/// (docs/api.md), so the logged envelope may differ from the submitted one in
/// the order of its signatures or in having more of them.
pub fn check_receipt(
    receipt: &Receipt,
    submitted: &Envelope,
    log: &NoteVerifierKey,
) -> Result<Checkpoint, String> {
    let logged = Envelope::from_value(&receipt.entry).map_err(|e| format!("entry: {e}"))?;
    if logged.statement_digest() != submitted.statement_digest() {
        return Err("the logged entry is not the submitted statement".to_owned());
    }
    if let Some(missing) = submitted
        .signatures
        .iter()
        .find(|s| logged.signatures.iter().all(|l| l.keyid != s.keyid))
    {
        return Err(format!(
            "the logged entry lacks the submitted signature of {}",
            missing.keyid
        ));
    }
    let leaf = logged.to_canonical_json();
    let proof = TlogProof::parse(receipt.tlog_proof.as_bytes()).map_err(|e| e.to_string())?;
    if proof.index != receipt.index {
        return Err(format!(
            "the receipt says index {} but its proof is for index {}",
            receipt.index, proof.index
        ));
    }
    proof.verify(&leaf, log).map_err(|e| e.to_string())
}

/// `x.dsse.json` → `x.receipt.json`, `x.json` → `x.receipt.json`, else `x.receipt.json`
/// appended.
pub fn receipt_path(envelope: &Path) -> PathBuf {
    let name = envelope
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".dsse.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    envelope.with_file_name(format!("{stem}.receipt.json"))
}

fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_ENVELOPE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_ENVELOPE_BYTES {
        bail!(
            "{}: larger than {MAX_ENVELOPE_BYTES} bytes, not an envelope",
            path.display()
        );
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testlog::{TestLog, REPO};
    use glassbox_core::statement::Attestation;

    fn logged() -> (TestLog, Envelope, Receipt) {
        let mut log = TestLog::new();
        let review = log.review(glassbox_core::statement::Verdict::Approved);
        let envelope = review.sign(&[&log.reviewer]).expect("sign");
        let index = log.append(&envelope);
        let receipt = log.receipt(index, &log.checkpoint());
        (log, envelope, receipt)
    }

    #[test]
    fn receipt_for_the_submitted_envelope_verifies() {
        let (log, envelope, receipt) = logged();
        let cp = check_receipt(&receipt, &envelope, &log.signer.verifier()).expect("verifies");
        assert_eq!(cp.size, log.tree.size());
        assert!(REPO.starts_with("https://"));
    }

    #[test]
    fn receipt_for_another_envelope_is_refused() {
        let (log, _, receipt) = logged();
        let other = log
            .review(glassbox_core::statement::Verdict::Rejected)
            .sign(&[&log.reviewer])
            .expect("sign");
        let err = check_receipt(&receipt, &other, &log.signer.verifier()).expect_err("other");
        assert!(err.contains("not the submitted statement"), "{err}");
    }

    /// The first copy of a co-signed review, logged, and its receipt.
    fn cosigned() -> (TestLog, Attestation, Receipt) {
        let mut log = TestLog::new();
        let review = log.review(glassbox_core::statement::Verdict::Approved);
        let first = review.sign(&[&log.reviewer, &log.vendor]).expect("sign");
        let index = log.append(&first);
        let receipt = log.receipt(index, &log.checkpoint());
        (log, review, receipt)
    }

    #[test]
    fn the_first_copy_answers_a_reordered_or_smaller_resubmission() {
        let (log, review, receipt) = cosigned();
        for keys in [vec![&log.vendor, &log.reviewer], vec![&log.vendor]] {
            let resubmitted = review.sign(&keys).expect("sign");
            check_receipt(&receipt, &resubmitted, &log.signer.verifier()).expect("verifies");
        }
    }

    #[test]
    fn a_first_copy_without_a_submitted_signer_is_refused() {
        let (log, review, receipt) = cosigned();
        let more = review
            .sign(&[&log.reviewer, &log.builder, &log.vendor])
            .expect("sign");
        let err = check_receipt(&receipt, &more, &log.signer.verifier()).expect_err("lacks");
        assert!(err.contains(&crate::testlog::key_id(&log.builder)), "{err}");
    }

    #[test]
    fn receipt_signed_by_another_log_key_is_refused() {
        let (_, envelope, receipt) = logged();
        let other = TestLog::with_log_key(crate::testlog::key(101));
        let err = check_receipt(&receipt, &envelope, &other.signer.verifier()).expect_err("key");
        assert!(err.contains("checkpoint"), "{err}");
    }

    #[test]
    fn receipt_with_a_wrong_index_is_refused() {
        let (log, envelope, mut receipt) = logged();
        receipt.index -= 1;
        let err = check_receipt(&receipt, &envelope, &log.signer.verifier()).expect_err("index");
        assert!(err.contains("index"), "{err}");
    }

    #[test]
    fn receipt_paths_sit_beside_the_envelope() {
        assert_eq!(
            receipt_path(Path::new("d/review.dsse.json")),
            Path::new("d/review.receipt.json")
        );
        assert_eq!(
            receipt_path(Path::new("x.json")),
            Path::new("x.receipt.json")
        );
        assert_eq!(
            receipt_path(Path::new("env")),
            Path::new("env.receipt.json")
        );
    }
}
