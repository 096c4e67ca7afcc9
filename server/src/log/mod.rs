//! The log itself: admission of submissions, the sequencer that commits them,
//! receipts, the key registry, leadership, witnessing and the checks run at
//! start. Nothing here knows about HTTP; errors are the log's own.

pub mod admission;
pub mod batcher;
pub mod clock;
mod commit;
pub mod datadir;
pub mod error;
pub mod integrity;
pub mod leader;
pub mod receipt;
pub mod registry;
pub mod sequencer;
pub mod shared_index;
pub mod tiles_dir;
pub mod witnessing;
