//! SHA-256 digests as typed by users and sent on the wire (`digest::Sha256Digest`
//! FromStr): an accepted string differs from its Display form only in letter case and
//! the optional `sha256:` prefix, and Display parses back equal.
#![no_main]

use glassbox_core::digest::Sha256Digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(digest) = text.parse::<Sha256Digest>() else {
        return;
    };
    let shown = digest.to_string();
    assert_eq!(shown.parse::<Sha256Digest>(), Ok(digest));
    assert!(
        shown.eq_ignore_ascii_case(text) || shown["sha256:".len()..].eq_ignore_ascii_case(text),
        "accepted {text:?} is not a spelling of {shown}"
    );
});
