use super::Outcome;
use crate::cli::InspectArgs;

pub fn run(_: InspectArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
