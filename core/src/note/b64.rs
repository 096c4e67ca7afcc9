//! The one base64 dialect every Glassbox text format uses.
//!
//! C2SP signed-note, tlog-checkpoint and tlog-proof all say "the standard Base 64
//! encoding specified in RFC 4648, Section 4". We decode it strictly — padding
//! required, no trailing bits set, no whitespace — so that every accepted string has
//! exactly one byte sequence and every byte sequence exactly one accepted string.
//! Signed text is compared byte for byte, so a lenient decoder would let two different
//! notes mean the same thing.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

const STRICT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Encodes `data` as padded RFC 4648 §4 base64.
pub(crate) fn encode(data: &[u8]) -> String {
    STRICT_STANDARD.encode(data)
}

/// Appends `data` as padded RFC 4648 §4 base64 to `out`.
pub(crate) fn encode_into(data: &[u8], out: &mut String) {
    STRICT_STANDARD.encode_string(data, out)
}

/// Decodes canonical padded RFC 4648 §4 base64; `None` for anything else.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    STRICT_STANDARD.decode(text).ok()
}

/// Decodes canonical base64 that must hold exactly `N` bytes.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}
