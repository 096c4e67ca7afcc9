use super::Outcome;
use crate::cli::KeyCommand;

pub fn run(_: KeyCommand) -> anyhow::Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
