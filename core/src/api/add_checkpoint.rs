//! The `add-checkpoint` request body (C2SP tlog-witness §add-checkpoint):
//!
//! ```text
//! old <decimal size>\n
//! <base64 hash>\n          (0 to 63 consistency proof lines)
//! \n
//! <signed checkpoint note>
//! ```
//!
//! Parsing is pure and strict: a witness answers a body that deviates from the grammar
//! with 400, and nothing about the log or the stored state is consulted here. The log
//! encodes the body it sends with [`encode_add_checkpoint`].

use crate::merkle::Hash;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Most consistency proof lines a client may send (tlog-witness: "MUST NOT send more
/// than 63"). A proof between trees of at most 2^64 leaves never needs more.
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// Size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// RFC 6962 §2.1.2 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, unparsed.
    pub checkpoint: Vec<u8>,
}

/// Why a request body is malformed (answered with 400 Bad Request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The first line is not `old <size>`.
    #[error("the body does not start with an `old <size>` line")]
    MissingOldLine,
    /// The old size is not ASCII decimal without a sign or leading zeroes.
    #[error("the old size {text:?} is not a decimal without leading zeroes")]
    BadOldSize {
        /// The size as sent.
        text: String,
    },
    /// A proof line does not decode to 32 bytes of standard base64.
    #[error("consistency proof line {line} is not a base64 SHA-256 hash")]
    BadProofLine {
        /// 1-based line number in the body.
        line: usize,
    },
    /// More than [`MAX_PROOF_LINES`] proof lines.
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    /// The body ends before the empty line that ends the proof.
    #[error("no empty line separates the proof from the checkpoint")]
    MissingSeparator,
}

/// Parses an `add-checkpoint` body.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpoint, BodyError> {
    let mut rest = body;
    let mut next_line = || -> Option<&[u8]> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let (line, tail) = rest.split_at(end);
        rest = &tail[1..];
        Some(line)
    };
    let old_line = next_line().ok_or(BodyError::MissingOldLine)?;
    let old_text = old_line
        .strip_prefix(b"old ")
        .ok_or(BodyError::MissingOldLine)?;
    let old_size = parse_size(old_text).ok_or_else(|| BodyError::BadOldSize {
        text: String::from_utf8_lossy(old_text).into_owned(),
    })?;
    let mut proof = Vec::new();
    loop {
        let line = next_line().ok_or(BodyError::MissingSeparator)?;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(BodyError::TooManyProofLines);
        }
        let line_no = proof.len() + 2;
        let bytes = STANDARD
            .decode(line)
            .map_err(|_| BodyError::BadProofLine { line: line_no })?;
        let hash: Hash = bytes
            .try_into()
            .map_err(|_| BodyError::BadProofLine { line: line_no })?;
        proof.push(hash);
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        checkpoint: rest.to_vec(),
    })
}

/// ASCII decimal, no sign, no leading zeroes unless the value is `0`.
fn parse_size(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if text.len() > 1 && text[0] == b'0' {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Encodes a request body (used by clients such as the log's witness task, and tests).
pub fn encode_add_checkpoint(old_size: u64, proof: &[Hash], checkpoint: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old_size}\n").into_bytes();
    for hash in proof {
        body.extend_from_slice(STANDARD.encode(hash).as_bytes());
        body.push(b'\n');
    }
    body.push(b'\n');
    body.extend_from_slice(checkpoint);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &[u8] = b"example.com/log\n2\nAAAA\n\n\xe2\x80\x94 example.com/log abc=\n";

    #[test]
    fn round_trips_a_body_with_proof() {
        let proof = [[1u8; 32], [2u8; 32]];
        let body = encode_add_checkpoint(20, &proof, NOTE);
        let parsed = parse_add_checkpoint(&body).unwrap();
        assert_eq!(parsed.old_size, 20);
        assert_eq!(parsed.proof, proof);
        assert_eq!(parsed.checkpoint, NOTE);
    }

    #[test]
    fn accepts_zero_and_empty_proof() {
        let parsed = parse_add_checkpoint(&encode_add_checkpoint(0, &[], NOTE)).unwrap();
        assert_eq!(parsed.old_size, 0);
        assert!(parsed.proof.is_empty());
    }

    #[test]
    fn refuses_leading_zero_sign_and_missing_prefix() {
        for bad in [
            &b"old 01\n\n"[..],
            b"old +1\n\n",
            b"old \n\n",
            b"new 1\n\n",
            b"old 1",
        ] {
            assert!(parse_add_checkpoint(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_short_hash_and_missing_separator() {
        assert_eq!(
            parse_add_checkpoint(b"old 1\nAAAA\n\n"),
            Err(BodyError::BadProofLine { line: 2 })
        );
        assert_eq!(
            parse_add_checkpoint(b"old 1\n"),
            Err(BodyError::MissingSeparator)
        );
    }

    #[test]
    fn refuses_sixty_four_proof_lines() {
        let proof = vec![[7u8; 32]; 64];
        assert_eq!(
            parse_add_checkpoint(&encode_add_checkpoint(1, &proof, NOTE)),
            Err(BodyError::TooManyProofLines)
        );
        let proof = vec![[7u8; 32]; 63];
        assert!(parse_add_checkpoint(&encode_add_checkpoint(1, &proof, NOTE)).is_ok());
    }
}
