//! C2SP verifier-key strings (`name+hash+base64`, c2sp.org/signed-note §"Verifier
//! keys") for Ed25519 note keys (algorithm 0x01) and tlog-cosignature keys (0x04).

use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use glassbox_core::digest::Sha256Digest;

/// Signed-note signature algorithm byte of plain Ed25519 (c2sp.org/signed-note).
const ALG_ED25519: u8 = 0x01;
/// Signature algorithm byte of timestamped cosignatures (c2sp.org/tlog-cosignature).
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The C2SP signed-note verifier key of an Ed25519 key under `name`, as a log
/// publishes it and a trust policy's `[log] vkey` holds it.
pub fn note_vkey(name: &str, key: &VerifyingKey) -> String {
    format_vkey(name, ALG_ED25519, key)
}

/// Checks that `vkey` is a well-formed Ed25519 signed-note verifier key.
pub(crate) fn check_note_vkey(vkey: &str) -> Result<(), String> {
    check_vkey(
        vkey,
        ALG_ED25519,
        "an Ed25519 signed-note key (algorithm 0x01)",
    )
}

/// Checks that `vkey` is a well-formed tlog-cosignature/v1 verifier key.
pub(crate) fn check_cosignature_vkey(vkey: &str) -> Result<(), String> {
    check_vkey(
        vkey,
        ALG_COSIGNATURE_V1,
        "a cosignature/v1 key (algorithm 0x04)",
    )
}

fn format_vkey(name: &str, alg: u8, key: &VerifyingKey) -> String {
    let mut blob = vec![alg];
    blob.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{:08x}+{}",
        key_hash(name, &blob),
        base64::engine::general_purpose::STANDARD.encode(&blob)
    )
}

/// First four bytes, big-endian, of SHA-256(name || "\n" || alg || key).
fn key_hash(name: &str, blob: &[u8]) -> u32 {
    let mut input = Vec::with_capacity(name.len() + 1 + blob.len());
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(blob);
    let digest = Sha256Digest::of(&input).0;
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn check_vkey(vkey: &str, alg: u8, what: &str) -> Result<(), String> {
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a verifier key has the form <name>+<hash>+<base64 key>".to_string());
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(format!("key name {name:?} is empty or contains whitespace"));
    }
    if hash.len() != 8 || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!("key hash {hash:?} is not 8 lowercase hex digits"));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| "the key is not standard base64".to_string())?;
    if blob.first() != Some(&alg) || blob.len() != 33 {
        return Err(format!("the key is not {what}"));
    }
    let bytes: [u8; 32] = blob[1..]
        .try_into()
        .map_err(|_| format!("the key is not {what}"))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| "the key is not a valid Ed25519 point".to_string())?;
    let want = format!("{:08x}", key_hash(name, &blob));
    if hash != want {
        return Err(format!(
            "key hash {hash} does not match name and key (expected {want})"
        ));
    }
    Ok(())
}
