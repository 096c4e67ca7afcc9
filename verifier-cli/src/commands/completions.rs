//! `glassbox completions SHELL`.

use clap::CommandFactory;

use super::Outcome;
use crate::cli::{Cli, CompletionsArgs};
use crate::output;

pub fn run(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "glassbox", &mut script);
    output::print(&String::from_utf8_lossy(&script))?;
    Ok(Outcome::Success)
}
