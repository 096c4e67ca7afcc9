//! Errors of key files and key strings.

use std::path::PathBuf;

/// Why a key file could not be created or loaded. Every variant about a file names it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key file {} does not exist", path.display())]
    Missing { path: PathBuf },

    #[error("cannot read key file {}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("refusing to overwrite existing file {}", path.display())]
    Exists { path: PathBuf },

    #[error("cannot write key file {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Like OpenSSH, a private key others can read is treated as already leaked.
    #[error(
        "permissions {mode:04o} for private key file {} are too open: it must not be \
         readable by group or others; fix with `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecurePermissions { path: PathBuf, mode: u32 },

    #[error("{}: {problem}", path.display())]
    Malformed {
        path: PathBuf,
        problem: KeyFormatError,
    },

    /// A key given as text rather than as a file (`parse_verifying_key`).
    #[error("invalid public key: {problem}")]
    MalformedText { problem: KeyFormatError },

    #[error("cannot get randomness from the operating system: {reason}")]
    Randomness { reason: String },
}

/// What is wrong with the contents of a key, independent of where it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFormatError {
    #[error("not a PEM file: {reason}")]
    NotPem { reason: String },

    /// A well-formed PEM holding a key of another algorithm (RSA, EC, X25519, …).
    #[error("key type is {found}, but Glassbox keys are Ed25519")]
    WrongKeyType { found: String },

    #[error("is {found}, but {expected} is needed")]
    WrongKind {
        /// With its article: "a public key".
        found: String,
        expected: &'static str,
    },

    #[error(
        "is a password-protected private key, which Glassbox cannot use; export it \
         without a password (`openssl pkey -in KEY -out PLAIN`) and protect the file instead"
    )]
    Encrypted,

    #[error("malformed Ed25519 key: {reason}")]
    InvalidKey { reason: String },

    #[error("neither a PEM public key nor the standard base64 of 32 raw Ed25519 public key bytes")]
    NotAPublicKey,
}
