//! The `glassbox` command. Everything happens in [`commands::run`]; this file only maps
//! its outcome to the exit status docs/design.md §7 fixes: 0 success, 1 verification failed,
//! 2 usage or I/O error (clap exits 2 by itself on a usage error).

mod cli;
mod commands;
mod doc;
mod git;
mod hash;
mod next_step;
mod oci;
mod output;
mod rebuild;
mod source;
mod state;
mod summary;
#[cfg(test)]
mod testlog;
mod tree;

use clap::Parser;
use glassbox_cli::client;

use crate::cli::Cli;
use crate::commands::Outcome;

/// jemalloc: verifying a release allocates from several threads at once (bundles
/// read and opened while files are hashed, digests judged on every core), where
/// glibc's allocator grew and faulted in a heap per thread (docs/decisions.md).
#[cfg(all(feature = "jemalloc", not(test)))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(match commands::run(Cli::parse()) {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::VerificationFailed) => 1,
        Err(err) => {
            // One line, so scripts can show it and `wc -l` agrees.
            eprintln!("glassbox: error: {}", next_step::message(&err));
            2
        }
    })
}
