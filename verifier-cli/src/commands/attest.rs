use super::Outcome;
use crate::cli::AttestCommand;

pub fn run(_: AttestCommand) -> anyhow::Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
