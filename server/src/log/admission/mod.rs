//! Admission: what a submission must be before the sequencer logs it — a signed
//! envelope from registered keys (validate), an acceptable statement (facts),
//! and not a copy of a statement already logged (dedupe).

pub mod dedupe;
pub mod facts;
pub mod validate;
