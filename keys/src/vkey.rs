//! C2SP verifier-key strings (`name+hash+base64`, c2sp.org/signed-note §"Verifier
//! keys") of logs (Ed25519, algorithm 0x01) and witnesses (tlog-cosignature/v1, 0x04).
//! The encoding itself lives in `glassbox_core::note` and `glassbox_core::cosignature`;
//! this module is the thin layer the command line and the policy file use.

use ed25519_dalek::VerifyingKey;
use glassbox_core::note::{KeyError as NoteKeyError, NoteVerifierKey};

/// The C2SP signed-note verifier key of an Ed25519 key under `name`, as a log
/// publishes it and a trust policy's `[log] vkey` holds it.
///
/// # Panics
///
/// If `name` is not a valid note key name (empty, or containing whitespace, `+` or
/// control characters). A log's name is its checkpoint origin, which the server
/// validates when it builds its `NoteSigner`; use [`try_note_vkey`] for names that
/// have not been checked.
pub fn note_vkey(name: &str, key: &VerifyingKey) -> String {
    match try_note_vkey(name, key) {
        Ok(vkey) => vkey,
        Err(err) => panic!("note_vkey: {err}"),
    }
}

/// Like [`note_vkey`], reporting an invalid name as an error.
pub fn try_note_vkey(name: &str, key: &VerifyingKey) -> Result<String, NoteKeyError> {
    NoteVerifierKey::new(name, *key).map(|vkey| vkey.to_string())
}
