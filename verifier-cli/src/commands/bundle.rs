//! `glassbox bundle`: save everything needed to verify one artifact offline.

use std::time::Duration;

use anyhow::Context;
use glassbox_core::checkpoint::SignedCheckpoint;
use glassbox_core::digest::Sha256Digest;

use super::Outcome;
use crate::cli::BundleArgs;
use crate::client::LogClient;
use crate::output;

pub fn run(args: BundleArgs) -> anyhow::Result<Outcome> {
    let artifact: Sha256Digest = args
        .artifact
        .parse()
        .with_context(|| format!("--artifact {:?}", args.artifact))?;
    output::check_writable(&args.output, args.force)?;
    let client = LogClient::new(&args.server.url, Duration::from_secs(args.server.timeout))?;
    let fetched = if args.release {
        client.release_bundle(&artifact.to_string())
    } else {
        client.bundle(&artifact.to_string())
    };
    let (bundle, bytes) = fetched.context("fetching the bundle")?;
    // Saved byte for byte as served; the summary is for the person running this.
    output::write_file(&args.output, &bytes, args.force)?;
    let size = SignedCheckpoint::parse_unverified(bundle.checkpoint.as_bytes())
        .map(|c| c.checkpoint.size.to_string())
        .unwrap_or_else(|_| "unreadable".to_owned());
    output::print(&format!(
        "wrote {}: {} entries, {} key events, checkpoint size {size}\n",
        args.output.display(),
        bundle.entries.len(),
        bundle.key_events.len(),
    ))?;
    Ok(Outcome::Success)
}
