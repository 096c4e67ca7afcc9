//! `glassbox inspect FILE`: recognise what a Glassbox file is, print it readably, and
//! say which signatures verify against the keys given. Nothing here is a trust
//! decision — that is `glassbox verify` with a policy (docs/design.md §6).

mod bundle;
mod envelope;
mod note;

use std::path::Path;

use anyhow::{bail, Context};
use ed25519_dalek::VerifyingKey;
use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::{NoteVerifier, NoteVerifierKey};
use glassbox_core::tlog_proof::TLOG_PROOF_HEADER;

use super::Outcome;
use crate::cli::InspectArgs;
use crate::output;

/// Largest file `inspect` reads; bundles are the biggest thing it understands.
const MAX_FILE_BYTES: u64 = 256 << 20;

pub fn run(args: InspectArgs) -> anyhow::Result<Outcome> {
    let keys = Keys::load(&args.key, &args.vkey)?;
    let bytes = read_limited(&args.file)?;
    let mut tally = Tally::default();
    let name = args.file.display();
    let doc = if bytes.trim_ascii_start().starts_with(b"{") {
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{name}: invalid JSON"))?;
        if value.get("payloadType").is_some() {
            envelope::inspect(&value, &keys, &mut tally).with_context(|| format!("{name}"))?
        } else if value.get("mediaType").is_some() || value.get("keyEvents").is_some() {
            bundle::inspect_bundle(value, &keys, &mut tally).with_context(|| format!("{name}"))?
        } else if value.get("tlogProof").is_some() {
            bundle::inspect_receipt(value, &keys, &mut tally).with_context(|| format!("{name}"))?
        } else {
            bail!("{name}: JSON, but not a DSSE envelope, receipt or bundle");
        }
    } else if bytes.starts_with(format!("{TLOG_PROOF_HEADER}\n").as_bytes()) {
        note::inspect_tlog_proof(&bytes, &keys, &mut tally).with_context(|| format!("{name}"))?
    } else {
        note::inspect_note(&bytes, &keys, &mut tally).with_context(|| {
            format!(
                "{name}: not an envelope, receipt, bundle or tlog-proof, nor a valid signed note"
            )
        })?
    };

    if args.json {
        let mut json = doc.to_json();
        if keys.any() {
            json["verified"] = tally.verified.into();
            json["failed"] = tally.failed.into();
        }
        output::print_json(&json)?;
    } else {
        let mut text = doc.render();
        if keys.any() {
            text.push_str(&format!(
                "result: {} signature(s) or proof(s) verified, {} failed\n",
                tally.verified, tally.failed
            ));
        }
        output::print(&text)?;
    }
    Ok(if keys.any() && (tally.failed > 0 || tally.verified == 0) {
        Outcome::VerificationFailed
    } else {
        Outcome::Success
    })
}

fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{} is {} bytes, more than inspect reads ({MAX_FILE_BYTES})",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// How many checks passed and failed; with keys given, success needs one pass and no
/// failure.
#[derive(Debug, Default)]
pub struct Tally {
    pub verified: usize,
    pub failed: usize,
}

impl Tally {
    /// Record a check and describe it.
    fn record<E: std::fmt::Display>(&mut self, result: Result<String, E>) -> String {
        match result {
            Ok(what) => {
                self.verified += 1;
                what
            }
            Err(e) => {
                self.failed += 1;
                format!("FAILED: {e}")
            }
        }
    }
}

/// A signed-note verifier key given with `--vkey`: a log key or a witness key.
pub enum VKey {
    Log(NoteVerifierKey),
    Cosigner(CosignatureVerifierKey),
}

impl VKey {
    fn as_verifier(&self) -> &dyn NoteVerifier {
        match self {
            VKey::Log(k) => k,
            VKey::Cosigner(k) => k,
        }
    }
}

/// The keys given on the command line.
pub struct Keys {
    /// (key ID, key) of each `--key`.
    pub participants: Vec<(String, VerifyingKey)>,
    pub vkeys: Vec<VKey>,
}

impl Keys {
    fn load(key_files: &[std::path::PathBuf], vkeys: &[String]) -> anyhow::Result<Keys> {
        let mut participants = Vec::new();
        for path in key_files {
            let key = glassbox_keys::load_verifying_key(path)?;
            participants.push((glassbox_keys::key_id_hex(&key), key));
        }
        let vkeys = vkeys
            .iter()
            .map(|text| match NoteVerifierKey::parse(text) {
                Ok(k) => Ok(VKey::Log(k)),
                Err(log_err) => CosignatureVerifierKey::parse(text)
                    .map(VKey::Cosigner)
                    .map_err(|_| anyhow::anyhow!("invalid --vkey {text:?}: {log_err}")),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Keys {
            participants,
            vkeys,
        })
    }

    fn any(&self) -> bool {
        !self.participants.is_empty() || !self.vkeys.is_empty()
    }

    fn participant(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.participants
            .iter()
            .find(|(id, _)| id == key_id)
            .map(|(_, k)| k)
    }

    fn vkey(&self, name: &str, key_id: u32) -> Option<&VKey> {
        self.vkeys.iter().find(|k| {
            let v = k.as_verifier();
            v.name() == name && v.key_id() == key_id
        })
    }

    /// Log keys named `origin`: the keys a checkpoint of that log must be signed by.
    fn log_keys(&self, origin: &str) -> Vec<&NoteVerifierKey> {
        self.vkeys
            .iter()
            .filter_map(|k| match k {
                VKey::Log(k) if k.name() == origin => Some(k),
                _ => None,
            })
            .collect()
    }
}

/// What a signature line says when nothing was checked.
const NOT_CHECKED: &str = "not checked (no matching key given)";

fn hex_id(id: u32) -> String {
    format!("{id:08x}")
}
