//! C2SP signed notes: text signed by one or more keys (<https://c2sp.org/signed-note>).
//!
//! A signed note is a text ending in a newline, a blank line, and one or more
//! signature lines `— <key name> <base64(4-byte key ID || signature)>`. Checkpoints,
//! witness cosignatures and tlog-proofs are all built on this format, so this module is
//! strict: it accepts exactly the notes the specification describes and nothing a
//! careless producer might emit, because every byte of a note is signed and a
//! verifier that accepted two spellings of one note would hand an attacker a choice.
//!
//! Verification follows C2SP signed-note §Signatures: signatures from keys the caller
//! does not know are ignored (so logs can rotate keys and collect cosignatures without
//! breaking old clients); a signature whose name *and* key ID match a known key must
//! verify, or the whole note is rejected; and at least one known key must have signed.
//!
//! Deliberate tightenings relative to Go's `golang.org/x/mod/sumdb/note`, each of which
//! only rejects notes that no honest Glassbox or C2SP producer emits:
//! * two signature lines for the same key (name and key ID) are an error, where Go
//!   keeps the first and ignores the rest;
//! * the text may not end with a blank line, and key names may not hold ASCII control
//!   characters;
//! * base64 must be canonical (padding present, unused bits zero).
//!
//! Ed25519 (signature type 0x01) lives in [`key`]; timestamped witness cosignatures
//! (type 0x04) in [`crate::cosignature`].

mod b64;
mod key;

pub(crate) use b64::{decode as decode_base64, decode_array as decode_base64_array};
pub(crate) use b64::{encode as encode_base64, encode_into as encode_base64_into};
pub(crate) use key::{
    ed25519_signer_from, ed25519_verifier_from, ed25519_verify, format_key_string,
    format_private_key_string, split_key_string, split_private_key_string,
};
pub use key::{
    is_valid_key_name, key_id, KeyError, KeyStringKind, NoteSigner, NoteVerifierKey, ALG_ED25519,
};

/// Largest note, in bytes, that [`Note::parse`] accepts. Generous: a checkpoint with
/// 100 post-quantum cosignatures of ~3.3 kB base64 each fits.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Most signature lines a note may carry. C2SP signed-note §Format requires accepting
/// at least 16; Go's reference implementation stops at 100, and so do we.
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that open every signature line (C2SP signed-note §Format).
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A key that can check note signatures.
///
/// The pair (`name`, `key_id`) selects which signature lines this key is asked about;
/// `verify` receives the note text (final newline included) and the signature bytes
/// after the 4-byte key ID.
pub trait NoteVerifier {
    /// Key name as it appears in signature lines.
    fn name(&self) -> &str;
    /// Key ID as it prefixes signatures.
    fn key_id(&self) -> u32;
    /// Whether `sig` is a valid signature by this key over `msg`.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool;
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID (the first four bytes of the decoded signature, big-endian).
    pub key_id: u32,
    /// The signature proper, after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line without its final newline: `— <name> <base64(id || sig)>`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}", self.name, b64::encode(&raw))
    }

    /// Parses one signature line as [`to_line`](Self::to_line) writes it (no final
    /// newline); `None` if it is not one.
    pub fn from_line(line: &str) -> Option<NoteSignature> {
        parse_signature_line(line).ok()
    }
}

/// A signed note: its text and its signature lines, verified or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline but not the blank separator line.
    pub text: String,
    /// Signature lines in the order they appear.
    pub signatures: Vec<NoteSignature>,
}

/// Most keys a [`NoteError::NoVerifiedSignature`] names on each side: a note may carry
/// many signatures, and the message must stay one readable line.
pub const KEYS_NAMED: usize = 8;

/// `a, b, c` or `-` for none.
fn key_list(keys: &[String]) -> String {
    if keys.is_empty() {
        "-".to_owned()
    } else {
        keys.join(", ")
    }
}

/// Why a note was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("note is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The note's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The note is not UTF-8.
    #[error("note is not valid UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The note contains an ASCII control character other than newline.
    #[error("note contains control character 0x{byte:02x} at byte {offset}")]
    ControlCharacter {
        /// Byte offset of the character.
        offset: usize,
        /// The control character.
        byte: u8,
    },
    /// No blank line separates text from signatures, or no signature line follows it.
    #[error("note has no signature block (a blank line followed by signature lines)")]
    MissingSignatureBlock,
    /// The text is empty, lacks its final newline or ends with a blank line.
    #[error("note text is malformed: {reason}")]
    MalformedText {
        /// What is wrong with the text.
        reason: &'static str,
    },
    /// A line of the signature block is not `— <name> <base64>`.
    #[error("line {line} of the note is not a valid signature line: {reason}")]
    MalformedSignatureLine {
        /// The offending line of the note, 1-based.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signature names a key with an invalid name.
    #[error("signature key name {name:?} is invalid")]
    InvalidKeyName {
        /// The key name as written.
        name: String,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {count} signatures, more than the limit of {limit}")]
    TooManySignatures {
        /// Signature lines found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Two signature lines for the same key.
    #[error("note has more than one signature by key {name}+{key_id:08x}")]
    DuplicateSignature {
        /// The key's name.
        name: String,
        /// The key's 32-bit key ID.
        key_id: u32,
    },
    /// Nothing to sign with, or a note with no signatures.
    #[error("a signed note needs at least one signature")]
    NoSignatures,
    /// Two of the caller's verifiers claim the same name and key ID.
    #[error("more than one trusted key is named {name}+{key_id:08x}")]
    AmbiguousVerifier {
        /// The shared key name.
        name: String,
        /// The shared 32-bit key ID.
        key_id: u32,
    },
    /// A signature by a trusted key does not verify: the note is rejected whole.
    #[error("invalid signature by trusted key {name}+{key_id:08x}")]
    InvalidSignature {
        /// The key's name.
        name: String,
        /// The key's 32-bit key ID.
        key_id: u32,
    },
    /// No signature is by a trusted key.
    #[error(
        "none of the note's {signatures} signature(s) is by a trusted key: signed by {}; trusted: {}",
        key_list(found),
        key_list(expected)
    )]
    NoVerifiedSignature {
        /// Signature lines the note carries.
        signatures: usize,
        /// The keys that signed, as `name+keyid` (at most [`KEYS_NAMED`]).
        found: Vec<String>,
        /// The keys the caller trusts, as `name+keyid` (at most [`KEYS_NAMED`]).
        expected: Vec<String>,
    },
}

impl Note {
    /// Parses a signed note without verifying any signature.
    ///
    /// The text is everything up to the *last* blank line (C2SP signed-note §Format:
    /// "the text is separated from the signatures by the last empty line").
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        let all = std::str::from_utf8(bytes).map_err(|e| NoteError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_no_controls(all)?;
        let split = all.rfind("\n\n").ok_or(NoteError::MissingSignatureBlock)?;
        let (text, block) = (&all[..split + 1], &all[split + 2..]);
        check_text(text)?;
        if block.is_empty() {
            return Err(NoteError::MissingSignatureBlock);
        }
        let first_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        let mut rest = block;
        while !rest.is_empty() {
            let line_no = first_line + signatures.len();
            let malformed = |reason| NoteError::MalformedSignatureLine {
                line: line_no,
                reason,
            };
            let (line, tail) = rest
                .split_once('\n')
                .ok_or(malformed("missing final newline"))?;
            rest = tail;
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    count: block.matches('\n').count(),
                    limit: MAX_SIGNATURES,
                });
            }
            signatures.push(parse_signature_line(line).map_err(|e| match e {
                LineError::Malformed(reason) => malformed(reason),
                LineError::Name(name) => NoteError::InvalidKeyName { name },
            })?);
        }
        check_duplicates(&signatures)?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Checks that [`Note::to_bytes`] would write a note [`Note::parse`] accepts back
    /// unchanged.
    pub fn validate(&self) -> Result<(), NoteError> {
        check_no_controls(&self.text)?;
        check_text(&self.text)?;
        check_signatures(&self.signatures)?;
        let size = self.encoded_len();
        if size > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                size,
                limit: MAX_NOTE_BYTES,
            });
        }
        Ok(())
    }

    /// Serialises the note: text, blank line, one line per signature. Writes the fields
    /// as they are; call [`Note::validate`] first for a note built by hand.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.encoded_len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Adds a signature line, replacing any existing line by the same key (name and
    /// key ID) — re-signing, or a witness re-cosigning, never duplicates a line.
    pub fn add_signature(&mut self, sig: NoteSignature) -> Result<(), NoteError> {
        if !is_valid_key_name(&sig.name) {
            return Err(NoteError::InvalidKeyName { name: sig.name });
        }
        if let Some(slot) = self
            .signatures
            .iter_mut()
            .find(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            *slot = sig;
            return Ok(());
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count: self.signatures.len() + 1,
                limit: MAX_SIGNATURES,
            });
        }
        self.signatures.push(sig);
        Ok(())
    }

    /// Verifies the note against the caller's trusted keys (C2SP signed-note
    /// §Signatures) and returns the signatures that verified, in note order.
    ///
    /// Signatures whose (name, key ID) matches no verifier are ignored. A matching
    /// signature that fails to verify rejects the note. If none verifies, the note is
    /// rejected.
    pub fn verify(
        &self,
        verifiers: &[&dyn NoteVerifier],
    ) -> Result<Vec<&NoteSignature>, NoteError> {
        self.validate()?;
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let mut matching = verifiers
                .iter()
                .filter(|v| v.name() == sig.name && v.key_id() == sig.key_id);
            let Some(verifier) = matching.next() else {
                continue;
            };
            if matching.next().is_some() {
                return Err(NoteError::AmbiguousVerifier {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !verifier.verify(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            verified.push(sig);
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature {
                signatures: self.signatures.len(),
                found: self
                    .signatures
                    .iter()
                    .take(KEYS_NAMED)
                    .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                    .collect(),
                expected: verifiers
                    .iter()
                    .take(KEYS_NAMED)
                    .map(|v| format!("{}+{:08x}", v.name(), v.key_id()))
                    .collect(),
            });
        }
        Ok(verified)
    }

    fn encoded_len(&self) -> usize {
        let sigs: usize = self
            .signatures
            .iter()
            .map(|s| {
                SIGNATURE_PREFIX.len()
                    + s.name.len()
                    + 1
                    + (4 + s.signature.len()).div_ceil(3) * 4
                    + 1
            })
            .sum();
        self.text.len() + 1 + sigs
    }
}

/// Signs `text` with every signer and returns the encoded note.
///
/// `text` must be a valid note text: non-empty, newline-terminated, not ending in a
/// blank line, free of control characters other than newline.
pub fn sign_note(text: &str, signers: &[&NoteSigner]) -> Result<Vec<u8>, NoteError> {
    let note = Note {
        text: text.to_owned(),
        signatures: signers.iter().map(|s| s.sign(text.as_bytes())).collect(),
    };
    note.validate()?;
    Ok(note.to_bytes())
}

fn check_no_controls(s: &str) -> Result<(), NoteError> {
    match s.bytes().enumerate().find(|&(_, b)| b < 0x20 && b != b'\n') {
        Some((offset, byte)) => Err(NoteError::ControlCharacter { offset, byte }),
        None => Ok(()),
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    let reason = if text.is_empty() {
        "text is empty"
    } else if !text.ends_with('\n') {
        "text does not end with a newline"
    } else if text == "\n" || text.ends_with("\n\n") {
        "text ends with a blank line"
    } else {
        return Ok(());
    };
    Err(NoteError::MalformedText { reason })
}

fn check_signatures(signatures: &[NoteSignature]) -> Result<(), NoteError> {
    if signatures.is_empty() {
        return Err(NoteError::NoSignatures);
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            count: signatures.len(),
            limit: MAX_SIGNATURES,
        });
    }
    if let Some(sig) = signatures.iter().find(|s| !is_valid_key_name(&s.name)) {
        return Err(NoteError::InvalidKeyName {
            name: sig.name.clone(),
        });
    }
    if signatures.iter().any(|s| s.signature.is_empty()) {
        return Err(NoteError::MalformedSignatureLine {
            line: 0,
            reason: "empty signature",
        });
    }
    check_duplicates(signatures)
}

fn check_duplicates(signatures: &[NoteSignature]) -> Result<(), NoteError> {
    let mut seen = std::collections::HashSet::new();
    for sig in signatures {
        if !seen.insert((sig.name.as_str(), sig.key_id)) {
            return Err(NoteError::DuplicateSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
            });
        }
    }
    Ok(())
}

enum LineError {
    Malformed(&'static str),
    Name(String),
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, LineError> {
    let body = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(LineError::Malformed(
            "does not start with an em dash and a space",
        ))?;
    let (name, encoded) = body.split_once(' ').ok_or(LineError::Malformed(
        "expected a key name, a space and a signature",
    ))?;
    if !is_valid_key_name(name) {
        return Err(LineError::Name(name.to_owned()));
    }
    let raw =
        b64::decode(encoded).ok_or(LineError::Malformed("signature is not canonical base64"))?;
    if raw.len() < 5 {
        return Err(LineError::Malformed(
            "signature is shorter than a key ID and one byte",
        ));
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        signature: raw[4..].to_vec(),
    })
}
