//! C2SP checkpoints (`checkpoint::Checkpoint::parse`, `SignedCheckpoint`): accepted text
//! re-encodes byte for byte and parses back equal; opening against the log key never
//! panics and only succeeds for a note whose origin is the key name.
#![no_main]

use glassbox_core::checkpoint::{Checkpoint, SignedCheckpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            checkpoint
                .validate()
                .expect("a parsed checkpoint must validate");
            let again = checkpoint.to_text();
            assert_eq!(
                again, text,
                "a parsed checkpoint does not re-encode byte for byte"
            );
            assert_eq!(Checkpoint::parse(&again).as_ref(), Ok(&checkpoint));
        }
    }
    if let Ok(signed) = SignedCheckpoint::parse_unverified(data) {
        assert_eq!(
            String::from_utf8_lossy(&signed.to_bytes()),
            String::from_utf8_lossy(data),
            "a parsed signed checkpoint does not re-encode byte for byte"
        );
        let log = glassbox_fuzz::log_key();
        if let Ok(opened) = SignedCheckpoint::open(data, &log) {
            assert_eq!(opened, signed);
            assert_eq!(opened.checkpoint.origin, log.name());
        }
    }
});
