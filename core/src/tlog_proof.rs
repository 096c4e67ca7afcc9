//! C2SP tlog-proof: an offline-verifiable proof that an entry is in a log
//! (<https://c2sp.org/tlog-proof>, `c2sp.org/tlog-proof@v1`).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64 opaque data>]
//! index <decimal leaf index>
//! <base64 inclusion-proof hash, leaf's sibling first>
//! …
//! <empty line>
//! <signed checkpoint, verbatim>
//! ```
//!
//! Glassbox hands one to every submitter in its receipt, so an entry's inclusion can be
//! checked with nothing but the log's verifier key. The extra data is not
//! authenticated (tlog-proof §Format) and Glassbox never writes or trusts it; it is
//! kept only so a proof round-trips byte for byte.

use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::merkle::{leaf_hash, verify_inclusion, Hash, ProofError};
use crate::note::{
    decode_base64, decode_base64_array, encode_base64_into, NoteVerifier, MAX_NOTE_BYTES,
};

/// First line of every v1 proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Most inclusion-proof hashes a proof may hold: a tree of at most 2^64 leaves is 64
/// levels deep.
pub const MAX_PROOF_HASHES: usize = 64;

/// Largest proof [`TlogProof::parse`] accepts, in bytes: room for the largest note,
/// 64 hashes and some extra data.
pub const MAX_TLOG_PROOF_BYTES: usize = 2 * MAX_NOTE_BYTES;

/// A parsed tlog-proof. Nothing in it is trusted until [`TlogProof::verify`] succeeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data (`extra` line), if present.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry in the log.
    pub index: u64,
    /// RFC 6962 §2.1.1 inclusion proof, from the leaf's sibling up to the root's child.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note the proof is made against, byte for byte.
    pub checkpoint: Vec<u8>,
}

/// Why a tlog-proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProofError {
    /// The proof is larger than [`MAX_TLOG_PROOF_BYTES`].
    #[error("tlog-proof is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The proof's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("not a c2sp.org/tlog-proof@v1 proof")]
    WrongHeader,
    /// A line (1-based) is malformed.
    #[error("tlog-proof line {line} is malformed: {reason}")]
    MalformedLine {
        /// The offending line, 1-based.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The index is not a decimal `u64` without leading zeroes.
    #[error("tlog-proof index {value:?} is not a decimal number without leading zeroes")]
    InvalidIndex {
        /// The index line as written.
        value: String,
    },
    /// More than [`MAX_PROOF_HASHES`] proof hashes.
    #[error("tlog-proof has more than {limit} proof hashes")]
    TooManyHashes {
        /// The limit.
        limit: usize,
    },
    /// The empty line and checkpoint after the proof hashes are missing.
    #[error("tlog-proof has no checkpoint after its proof hashes")]
    MissingCheckpoint,
    /// The checkpoint is malformed, not signed by the log, or for another log.
    #[error("tlog-proof checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead from the leaf to the checkpoint's root.
    #[error("tlog-proof inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
}

impl TlogProof {
    /// Parses a proof. The embedded checkpoint must be a well-formed signed checkpoint;
    /// its signatures are not checked here.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        if bytes.len() > MAX_TLOG_PROOF_BYTES {
            return Err(TlogProofError::TooLarge {
                size: bytes.len(),
                limit: MAX_TLOG_PROOF_BYTES,
            });
        }
        let mut lines = Lines {
            rest: bytes,
            line: 0,
        };

        if lines.next()? != TLOG_PROOF_HEADER {
            return Err(TlogProofError::WrongHeader);
        }
        let mut line = lines.next()?;
        let mut extra = None;
        if let Some(encoded) = line.strip_prefix("extra ") {
            extra = Some(
                decode_base64(encoded)
                    .ok_or(lines.malformed("extra data is not canonical base64"))?,
            );
            line = lines.next()?;
        }
        let value = line
            .strip_prefix("index ")
            .ok_or(lines.malformed("expected \"index <n>\""))?;
        let index = parse_decimal(value).ok_or_else(|| TlogProofError::InvalidIndex {
            value: value.to_owned(),
        })?;

        let mut hashes = Vec::new();
        loop {
            let line = lines
                .next()
                .map_err(|_| TlogProofError::MissingCheckpoint)?;
            if line.is_empty() {
                break;
            }
            if hashes.len() == MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes {
                    limit: MAX_PROOF_HASHES,
                });
            }
            let hash = decode_base64_array(line)
                .ok_or(lines.malformed("proof hash is not 32 bytes of canonical base64"))?;
            hashes.push(hash);
        }
        if lines.rest.is_empty() {
            return Err(TlogProofError::MissingCheckpoint);
        }
        SignedCheckpoint::parse_unverified(lines.rest)?;
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: lines.rest.to_vec(),
        })
    }

    /// Verifies the proof for `leaf_data` (the leaf bytes, not their hash) against the
    /// log's key and returns the checkpoint it is proven under.
    ///
    /// Checks, in order: the checkpoint's origin is the log key's name and the log
    /// signed it ([`SignedCheckpoint::open`]); the RFC 9162 §2.1.3.2 inclusion proof
    /// takes `SHA-256(0x00 || leaf_data)` at `index` to the checkpoint's root.
    /// Witness cosignatures are the caller's next step, on [`TlogProof::open`]'s note.
    pub fn verify(
        &self,
        leaf_data: &[u8],
        log: &dyn NoteVerifier,
    ) -> Result<Checkpoint, TlogProofError> {
        self.open(leaf_data, log).map(|signed| signed.checkpoint)
    }

    /// Like [`TlogProof::verify`], returning the whole signed checkpoint so that the
    /// caller can go on to count witness cosignatures on its note.
    pub fn open(
        &self,
        leaf_data: &[u8],
        log: &dyn NoteVerifier,
    ) -> Result<SignedCheckpoint, TlogProofError> {
        let signed = SignedCheckpoint::open(&self.checkpoint, log)?;
        verify_inclusion(
            &leaf_hash(leaf_data),
            self.index,
            signed.checkpoint.size,
            &self.hashes,
            &signed.checkpoint.root,
        )?;
        Ok(signed)
    }

    /// The proof's text. A proof from [`TlogProof::parse`] is reproduced byte for byte;
    /// checkpoint bytes that are not UTF-8 (possible only in a proof built by hand)
    /// are written lossily.
    pub fn to_text(&self) -> String {
        proof_text(
            self.extra.as_deref(),
            self.index,
            &self.hashes,
            &self.checkpoint,
        )
    }
}

/// The text of a tlog-proof made of these parts, for a caller that holds them
/// without a [`TlogProof`] (a server answering many receipts against one
/// checkpoint need not copy the checkpoint into each). Checkpoint bytes that are
/// not UTF-8 are written lossily, as in [`TlogProof::to_text`].
pub fn proof_text(extra: Option<&[u8]>, index: u64, hashes: &[Hash], checkpoint: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(64 + 45 * hashes.len() + checkpoint.len());
    text.push_str(TLOG_PROOF_HEADER);
    text.push('\n');
    if let Some(extra) = extra {
        text.push_str("extra ");
        encode_base64_into(extra, &mut text);
        text.push('\n');
    }
    // Writing to a String cannot fail.
    let _ = writeln!(text, "index {index}");
    for hash in hashes {
        encode_base64_into(hash, &mut text);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(checkpoint));
    text
}

/// Cursor over newline-terminated UTF-8 lines, counting them for error messages.
struct Lines<'a> {
    rest: &'a [u8],
    line: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Result<&'a str, TlogProofError> {
        self.line += 1;
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(self.malformed("missing newline"))?;
        let line =
            std::str::from_utf8(&self.rest[..end]).map_err(|_| self.malformed("not UTF-8"))?;
        if line.bytes().any(|b| b < 0x20) {
            return Err(self.malformed("control character"));
        }
        self.rest = &self.rest[end + 1..];
        Ok(line)
    }

    fn malformed(&self, reason: &'static str) -> TlogProofError {
        TlogProofError::MalformedLine {
            line: self.line,
            reason,
        }
    }
}

/// tlog-proof §Format: "ASCII decimal with no leading zeroes (unless the index is 0)".
fn parse_decimal(value: &str) -> Option<u64> {
    if value.is_empty()
        || !value.bytes().all(|b| b.is_ascii_digit())
        || (value.len() > 1 && value.starts_with('0'))
    {
        return None;
    }
    value.parse().ok()
}
