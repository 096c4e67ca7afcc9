//! Where the monitor reads from — the log and its witnesses — and what it trusts.
//! The round ([`super::round`]) and the witness comparison ([`super::witnesses`]) are
//! written against these; [`super::fetch`] implements them over HTTP, the tests over
//! an in-memory log.

use glassbox_core::cosignature::CosignatureVerifierKey;
use glassbox_core::note::NoteVerifierKey;

use crate::commands::verify::check::ProofSource;

/// Where the monitor reads the log from.
pub trait LogSource: ProofSource {
    fn checkpoint(&self) -> anyhow::Result<Vec<u8>>;
    fn entries(&self, start: u64, end: u64) -> anyhow::Result<Vec<Vec<u8>>>;
    /// The signed checkpoint of exactly `size` from the log's history, if it kept one.
    fn checkpoint_at(&self, size: u64) -> anyhow::Result<Option<Vec<u8>>>;
}

/// What the monitor trusts.
pub struct Trust {
    pub log: NoteVerifierKey,
    pub witnesses: Vec<CosignatureVerifierKey>,
    pub quorum: usize,
}

/// Where the monitor reads one witness's latest checkpoint of a log.
pub trait WitnessSource {
    /// Names the witness in reports.
    fn url(&self) -> &str;
    /// The signed note the witness last cosigned for `origin`; `None` when it has
    /// cosigned none. `Err` when the witness cannot be reached.
    fn latest(&self, origin: &str) -> anyhow::Result<Option<Vec<u8>>>;
}
