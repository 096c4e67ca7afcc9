//! Fixed keys shared by the Glassbox fuzz targets (docs/fuzzing.md).
//!
//! The targets verify fuzzed notes, checkpoints, cosignatures and tlog-proofs against
//! these keys so that the verification paths run on hostile input too. The committed
//! seeds (`fuzz/seeds/`) carry valid signatures by the same keys, so mutations start
//! from inputs that get past parsing and into signature and proof checks.

use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::NoteVerifierKey;

/// golang.org/x/mod sumdb/note test key; signs the `note` seeds.
pub const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

/// Log key (Ed25519 seed `[3; 32]`, name `example.com/fancylog`); signs the checkpoint,
/// tlog-proof and bundle seeds.
pub const LOG_VKEY: &str =
    "example.com/fancylog+2faed7c5+Ae1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR";

/// Witness key (Ed25519 seed `00 01 … 1f`, name `witness.example/w1`, the
/// core/tests/cosignature_v1.rs vector); cosigns the `cosignature` seeds.
pub const WITNESS_VKEY: &str =
    "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";

/// The Go test vector note key.
pub fn peter() -> NoteVerifierKey {
    NoteVerifierKey::parse(PETER_VKEY).expect("PETER_VKEY is a valid vkey")
}

/// The seeds' log key.
pub fn log_key() -> NoteVerifierKey {
    NoteVerifierKey::parse(LOG_VKEY).expect("LOG_VKEY is a valid vkey")
}

/// The seeds' witness key.
pub fn witness() -> CosignatureVerifierKey {
    CosignatureVerifierKey::parse(WITNESS_VKEY).expect("WITNESS_VKEY is a valid vkey")
}
