//! Key material and trust configuration of Glassbox, at the edge between the pure
//! `glassbox-core` and the file system.
//!
//! - Participant keys are Ed25519 (docs/design.md §2), stored as PKCS#8 PEM files readable
//!   only by their owner, with the public half in `<file>.pub`
//!   ([`generate_key_file`], [`load_signing_key`], [`load_verifying_key`]).
//! - A key ID is the lowercase hex SHA-256 of the 32-byte public key
//!   ([`glassbox_core::digest::key_id_hex`]).
//! - Logs and witnesses are named by C2SP verifier-key strings ([`note_vkey`]).
//! - The verifier's trust policy is a TOML file ([`policy`]).
//!
//! The formats are documented in `docs/formats/keys-and-policy.md`.

mod error;
mod key_file;
mod key_pem;
pub mod policy;
mod policy_error;
mod vkey;

pub use error::{KeyError, KeyFormatError};
pub use glassbox_core::digest::key_id_hex;
pub use key_file::{
    generate_key_file, load_signing_key, load_verifying_key, public_key_path, GeneratedKey,
};
pub use key_pem::{parse_verifying_key, public_key_pem};
pub use vkey::{note_vkey, try_note_vkey};
