//! One module per command group; [`run`] dispatches the parsed command line.
//!
//! Each command takes its parsed arguments, does its work through the library crates
//! and the helpers in this crate, and returns an [`Outcome`] or an error whose chain
//! names the cause; `main` turns both into the exit status.

mod attest;
mod bundle;
mod completions;
mod hash;
mod history;
mod inspect;
mod key;
mod monitor;
mod rebuild;
mod submit;
mod verify;

use crate::cli::{Cli, Command};

/// How a command that did not hit an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0.
    Success,
    /// Exit status 1: the command ran, and what it checked does not hold.
    VerificationFailed,
}

/// Run the command `cli` describes.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Key(cmd) => key::run(cmd),
        Command::Hash(cmd) => hash::run(cmd),
        Command::Attest(cmd) => attest::run(cmd),
        Command::Inspect(args) => inspect::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Submit(args) => submit::run(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Verify(args) => verify::run(args),
        Command::History(args) => history::run(args),
        Command::Monitor(args) => monitor::run(args),
        Command::Rebuild(args) => rebuild::run(args),
    }
}
