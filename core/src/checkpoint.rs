//! C2SP tlog-checkpoint: the signed tree head of a transparency log
//! (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is the text of a signed note:
//!
//! ```text
//! <origin>
//! <tree size in decimal>
//! <base64 root hash>
//! [extension lines…]
//! ```
//!
//! Parsing is strict (tlog-checkpoint §Note text): at least three lines, every line
//! non-empty and newline-terminated, the size in decimal without leading zeroes and
//! within `u64`, the root exactly 32 bytes of canonical base64. A checkpoint is what a
//! verifier compares across time and across witnesses; two spellings of one tree head
//! would make "the same checkpoint" ambiguous.
//!
//! Glassbox's log signs with key name = origin, and [`SignedCheckpoint::open`] insists
//! on it (tlog-checkpoint §Signatures: the key name SHOULD match the origin line), so a
//! log key can never vouch for another log's tree.

use crate::merkle::Hash;
use crate::note::{self, encode_base64, Note, NoteError, NoteSigner, NoteVerifier};

/// The body of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `glassbox.example/log`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree of `size` leaves.
    pub root: Hash,
    /// Opaque extension lines, without their newlines. Glassbox writes none.
    pub extensions: Vec<String>,
}

/// Why a checkpoint was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text does not end with a newline.
    #[error("checkpoint text does not end with a newline")]
    MissingFinalNewline,
    /// Fewer than the three mandatory lines.
    #[error("checkpoint has {found} line(s); origin, size and root hash are required")]
    MissingLines {
        /// Lines present, counting the final one.
        found: usize,
    },
    /// A line (1-based) is empty; tlog-checkpoint allows no empty lines.
    #[error("checkpoint line {line} is empty")]
    EmptyLine {
        /// The empty line, 1-based.
        line: usize,
    },
    /// A line contains a control character other than its newline.
    #[error("checkpoint line {line} contains a control character")]
    ControlCharacter {
        /// The offending line, 1-based.
        line: usize,
    },
    /// The size line is not a decimal number without leading zeroes.
    #[error("checkpoint size {value:?} is not a decimal number without leading zeroes")]
    InvalidSize {
        /// The size line as written.
        value: String,
    },
    /// The size does not fit in 64 bits.
    #[error("checkpoint size {value:?} does not fit in 64 bits")]
    SizeOverflow {
        /// The size line as written.
        value: String,
    },
    /// The root hash line is not canonical base64.
    #[error("checkpoint root hash {value:?} is not canonical base64")]
    InvalidRootEncoding {
        /// The root hash line as written.
        value: String,
    },
    /// The root hash decodes to the wrong number of bytes.
    #[error("checkpoint root hash is {len} bytes, expected 32")]
    WrongRootLength {
        /// Bytes the root hash decodes to.
        len: usize,
    },
    /// The note around the checkpoint is malformed or its signature does not verify.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The log key's name is not the checkpoint's origin.
    #[error("checkpoint origin {origin:?} is not the log key name {key_name:?}")]
    OriginMismatch {
        /// The checkpoint's first line.
        origin: String,
        /// The name of the log key it was checked with.
        key_name: String,
    },
}

impl Checkpoint {
    /// Parses checkpoint text (the note text: final newline included, no blank line,
    /// no signatures).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyLine { line: i + 1 });
            }
            if line.bytes().any(|b| b < 0x20) {
                return Err(CheckpointError::ControlCharacter { line: i + 1 });
            }
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::MissingLines { found: lines.len() });
        };
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
            extensions: extensions.iter().map(|l| (*l).to_owned()).collect(),
        })
    }

    /// The checkpoint text, ending in a newline. Writes the fields as they are; a
    /// checkpoint built by hand should pass [`Checkpoint::validate`] first.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            encode_base64(&self.root)
        );
        for ext in &self.extensions {
            text.push_str(ext);
            text.push('\n');
        }
        text
    }

    /// Checks that [`Checkpoint::to_text`] yields text that parses back to `self`
    /// (no empty or multi-line origin or extension lines).
    pub fn validate(&self) -> Result<(), CheckpointError> {
        let lines =
            std::iter::once(self.origin.as_str()).chain(self.extensions.iter().map(String::as_str));
        for (i, line) in lines.enumerate() {
            let line_no = if i == 0 { 1 } else { i + 3 };
            if line.is_empty() {
                return Err(CheckpointError::EmptyLine { line: line_no });
            }
            if line.bytes().any(|b| b < 0x20) {
                return Err(CheckpointError::ControlCharacter { line: line_no });
            }
        }
        Ok(())
    }

    /// Signs the checkpoint as its log: the signer's key name must be the origin.
    pub fn sign(&self, log: &NoteSigner) -> Result<Vec<u8>, CheckpointError> {
        self.validate()?;
        if log.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: log.name().to_owned(),
            });
        }
        Ok(note::sign_note(&self.to_text(), &[log])?)
    }
}

/// A checkpoint together with the signed note that carries it (log signature and any
/// witness cosignatures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed note text.
    pub checkpoint: Checkpoint,
    /// The note, all signature lines included (verified or not).
    pub note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint, checks that its origin is the log key's name and
    /// that the log key signed it. Other signatures (cosignatures, rotated log keys)
    /// are kept but not checked; see [`crate::cosignature::verify_cosignatures`].
    pub fn open(bytes: &[u8], log: &dyn NoteVerifier) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        if checkpoint.origin != log.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key_name: log.name().to_owned(),
            });
        }
        note.verify(&[log])?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Parses a signed checkpoint without verifying any signature — for display and
    /// diagnostics only; nothing in it may be trusted.
    pub fn parse_unverified(bytes: &[u8]) -> Result<SignedCheckpoint, CheckpointError> {
        let note = Note::parse(bytes)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// The signed note bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }
}

/// tlog-checkpoint §Note text: "ASCII decimal … with no leading zeroes (unless the
/// tree is empty, in which case the tree size is `0`)". `u64::from_str` would also
/// take a `+` sign, so the digits are checked first.
fn parse_size(value: &str) -> Result<u64, CheckpointError> {
    let invalid = || CheckpointError::InvalidSize {
        value: value.to_owned(),
    };
    if !value.bytes().all(|b| b.is_ascii_digit()) || (value.len() > 1 && value.starts_with('0')) {
        return Err(invalid());
    }
    value.parse().map_err(|_| CheckpointError::SizeOverflow {
        value: value.to_owned(),
    })
}

fn parse_root(value: &str) -> Result<Hash, CheckpointError> {
    let decoded =
        note::decode_base64(value).ok_or_else(|| CheckpointError::InvalidRootEncoding {
            value: value.to_owned(),
        })?;
    let len = decoded.len();
    decoded
        .try_into()
        .map_err(|_| CheckpointError::WrongRootLength { len })
}
