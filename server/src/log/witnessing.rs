//! The log's witness client (docs/design.md §4; C2SP tlog-witness §add-checkpoint).
//!
//! After the sequencer commits a checkpoint it publishes the new size on a watch
//! channel and goes on sequencing; this task — never the sequencer — asks every
//! configured witness, in parallel, to cosign it. Each request carries a
//! consistency proof from the size that witness last cosigned, which the task
//! remembers per witness (in memory: after a restart the first request says
//! `old 0`, and the witness's 409 `text/x.tlog.size` answer tells the size to
//! prove from). Every request has a timeout and a witness gets a bounded number of
//! attempts per checkpoint; whatever cosignatures arrive are verified with the
//! witness's configured vkey and stored with the checkpoint, and every later read of
//! that checkpoint (`/checkpoint`, bundles, history) carries them. No quorum is
//! applied here: verifiers decide how many cosignatures they need.
//!
//! Checkpoints that arrive while a round is running are coalesced: the next round
//! takes the newest, and a witness that cosigned it has, by consistency, vouched
//! for every earlier one. When no new checkpoint comes for `witness_refresh`, the
//! task asks every witness about the latest one again; each answers with a fresh
//! cosignature (tlog-witness: a checkpoint of the size it holds is cosigned anew),
//! which replaces its older one, so a quiet log's checkpoint stays fresh for
//! verifiers' `[log] max_age`.

use std::sync::Arc;
use std::time::Duration;

use glassbox_core::api::add_checkpoint::encode_add_checkpoint;
use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::merkle::{consistency_proof, Hash};
use glassbox_core::note::{Note, NoteSignature};
use tokio::sync::watch;

use crate::config::Config;
use crate::log::receipt::StorageReader;
use crate::storage::Storage;

/// Content type of a 409 answer that carries the witness's size.
const TLOG_SIZE: &str = "text/x.tlog.size";

/// One witness: where to send requests and the key its cosignatures must verify with.
struct Witness {
    url: String,
    vkey: CosignatureVerifierKey,
    agent: ureq::Agent,
}

/// What one add-checkpoint request came back with.
enum Reply {
    Cosigned(NoteSignature),
    /// 409 with the size the witness last cosigned.
    SizeConflict(u64),
    /// Any other refusal (403, 404, 400, 422, or 409 for an equal-size fork).
    Refused {
        status: u16,
        body: String,
    },
    /// Transport error, timeout or 5xx: worth another attempt.
    Unavailable(String),
}

/// Starts the witnessing task if any witness is configured. It follows `committed`
/// (the sequencer's newest committed size, starting with the current one) and stops
/// when the sequencer is gone.
pub fn spawn(
    config: &Config,
    storage: Arc<dyn Storage>,
    committed: watch::Receiver<u64>,
) -> Option<tokio::task::JoinHandle<()>> {
    let witnesses: Vec<Arc<Witness>> = config
        .witnesses
        .iter()
        .filter_map(|w| {
            // Config::validate already checked every vkey.
            let vkey = CosignatureVerifierKey::parse(&w.vkey).ok()?;
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(config.witness_timeout))
                .http_status_as_error(false)
                .user_agent(concat!("glassbox-server/", env!("CARGO_PKG_VERSION")))
                .build()
                .into();
            Some(Arc::new(Witness {
                url: format!("{}/add-checkpoint", w.url.trim_end_matches('/')),
                vkey,
                agent,
            }))
        })
        .collect();
    if witnesses.is_empty() {
        return None;
    }
    let attempts = config.witness_attempts;
    let refresh = config.witness_refresh;
    Some(tokio::spawn(run(
        witnesses, attempts, refresh, storage, committed,
    )))
}

async fn run(
    witnesses: Vec<Arc<Witness>>,
    attempts: u32,
    refresh: Duration,
    storage: Arc<dyn Storage>,
    mut committed: watch::Receiver<u64>,
) {
    // The size each witness last cosigned, as far as this process knows.
    let mut known: Vec<Option<u64>> = vec![None; witnesses.len()];
    let mut again = false;
    loop {
        let size = *committed.borrow_and_update();
        round(&witnesses, attempts, &storage, size, &mut known, again).await;
        // A quiet log still needs fresh cosignatures: verifiers with `[log] max_age`
        // refuse a checkpoint its witnesses last vouched for too long ago.
        tokio::select! {
            changed = committed.changed() => {
                if changed.is_err() {
                    return;
                }
                again = false;
            }
            () = tokio::time::sleep(refresh) => again = true,
        }
    }
}

/// Asks every witness that has not yet cosigned the checkpoint of `size` — or,
/// with `again`, every witness: each cosigns the checkpoint it holds afresh, with
/// a new timestamp, which replaces its older cosignature.
async fn round(
    witnesses: &[Arc<Witness>],
    attempts: u32,
    storage: &Arc<dyn Storage>,
    size: u64,
    known: &mut [Option<u64>],
    again: bool,
) {
    let record = {
        let storage = storage.clone();
        tokio::task::spawn_blocking(move || storage.checkpoint_at(size)).await
    };
    let note = match record {
        Ok(Ok(Some(record))) => record.note,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::error!(size, error = %e, "witnessing: reading the checkpoint");
            return;
        }
        Err(e) => {
            tracing::error!(size, error = %e, "witnessing: reading task failed");
            return;
        }
    };
    let Ok(parsed) = Note::parse(&note) else {
        tracing::error!(
            size,
            "witnessing: the stored checkpoint note does not parse"
        );
        return;
    };
    let note = Arc::new(note);
    let mut tasks = Vec::new();
    for (i, witness) in witnesses.iter().enumerate() {
        let already = parsed
            .signatures
            .iter()
            .any(|s| s.name == witness.vkey.name() && s.key_id == witness.vkey.key_id());
        if already && !again {
            continue;
        }
        let (witness, storage, note, start) =
            (witness.clone(), storage.clone(), note.clone(), known[i]);
        tasks.push((
            i,
            tokio::task::spawn_blocking(move || {
                ask(&witness, attempts, storage.as_ref(), &note, size, start)
            }),
        ));
    }
    let mut cosignatures = Vec::new();
    for (i, task) in tasks {
        match task.await {
            Ok((now_known, cosignature)) => {
                known[i] = now_known;
                cosignatures.extend(cosignature);
            }
            Err(e) => tracing::error!(error = %e, "witnessing: request task failed"),
        }
    }
    tracing::info!(
        size,
        cosigned = cosignatures.len(),
        witnesses = witnesses.len(),
        "witnessing round finished"
    );
    if cosignatures.is_empty() {
        return;
    }
    let storage = storage.clone();
    match tokio::task::spawn_blocking(move || storage.add_cosignatures(size, &cosignatures)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(size, error = %e, "witnessing: storing cosignatures"),
        Err(e) => tracing::error!(size, error = %e, "witnessing: storing task failed"),
    }
}

/// Up to `attempts` add-checkpoint requests to one witness (blocking). Returns the
/// size the witness is now known to hold and its verified cosignature, if any.
fn ask(
    witness: &Witness,
    attempts: u32,
    storage: &dyn Storage,
    note: &[u8],
    size: u64,
    mut known: Option<u64>,
) -> (Option<u64>, Option<NoteSignature>) {
    for attempt in 0..attempts {
        let old = known.unwrap_or(0);
        if old > size {
            // The witness holds a larger tree than this checkpoint: it cannot cosign
            // it (a newer round will catch up, or this log has been forked).
            tracing::warn!(url = %witness.url, old, size, "witness is ahead of this checkpoint");
            return (known, None);
        }
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            match consistency_proof(old, size, &StorageReader(storage)) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(old, size, error = %e, "witnessing: consistency proof");
                    return (known, None);
                }
            }
        };
        match post(witness, old, &proof, note) {
            Reply::Cosigned(sig) => return (Some(size), Some(sig)),
            Reply::SizeConflict(stored) if known != Some(stored) => known = Some(stored),
            Reply::SizeConflict(stored) => {
                tracing::warn!(url = %witness.url, stored, "witness keeps answering 409 for its own size");
                return (known, None);
            }
            Reply::Refused { status, body } => {
                // 422 or 409 here means the witness holds a view this log's history
                // does not extend: evidence of a fork, worth an operator's attention.
                tracing::warn!(url = %witness.url, status, %body, size, "witness refused the checkpoint");
                return (known, None);
            }
            Reply::Unavailable(reason) => {
                tracing::warn!(url = %witness.url, attempt, %reason, "witness unavailable");
                if attempt + 1 < attempts {
                    std::thread::sleep(Duration::from_millis(100 << attempt.min(6)));
                }
            }
        }
    }
    (known, None)
}

/// One `POST <prefix>/add-checkpoint`.
fn post(witness: &Witness, old: u64, proof: &[Hash], note: &[u8]) -> Reply {
    let body = encode_add_checkpoint(old, proof, note);
    let response = witness
        .agent
        .post(&witness.url)
        .header("content-type", "text/plain")
        .send(&body[..]);
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return Reply::Unavailable(e.to_string()),
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = match response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
    {
        Ok(t) => t,
        Err(e) => return Reply::Unavailable(e.to_string()),
    };
    match status {
        200 => match cosignature_from(witness, note, &text) {
            Some(sig) => Reply::Cosigned(sig),
            None => Reply::Refused {
                status,
                body: "no valid cosignature by the configured key in the response".into(),
            },
        },
        409 if content_type.starts_with(TLOG_SIZE) => match text.trim_end().parse() {
            Ok(size) => Reply::SizeConflict(size),
            Err(_) => Reply::Refused { status, body: text },
        },
        500..=599 => Reply::Unavailable(format!("HTTP {status}")),
        _ => Reply::Refused { status, body: text },
    }
}

/// The witness's cosignature among the response's signature lines, verified over
/// the checkpoint text with the configured vkey (tlog-witness: "the client MAY
/// concatenate it to the checkpoint, and use a note verification function").
fn cosignature_from(witness: &Witness, note: &[u8], response: &str) -> Option<NoteSignature> {
    let text = Note::parse(note).ok()?.text;
    let combined = format!("{text}\n{response}");
    let lines = Note::parse(combined.as_bytes()).ok()?;
    lines.signatures.into_iter().find(|s| {
        s.name == witness.vkey.name()
            && s.key_id == witness.vkey.key_id()
            && witness
                .vkey
                .verify_timestamped(text.as_bytes(), &s.signature)
                .is_ok()
    })
}
