//! Arguments of `glassbox rebuild`, and the build recipe flags it shares with
//! `glassbox attest build`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use glassbox_core::digest::Sha256Digest;
use glassbox_core::statement::BuildRecipe;

use crate::rebuild::{DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_SECS};

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Local repository path, or an https:// or file:// git URL.
    #[arg(long, value_name = "PATH|URL")]
    pub source: String,
    /// Commit (or branch, tag) to build.
    #[arg(long, value_name = "REV")]
    pub rev: String,
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Attested artifact digest; without it the output is built and reported.
    #[arg(long, value_name = "sha256:HEX")]
    pub expect: Option<Sha256Digest>,
    /// Attested dirHash of the source, checked before the command runs.
    #[arg(long, value_name = "HEX")]
    pub expect_dir_hash: Option<String>,
    /// Attested gitTree (the commit's root tree ID), checked before the command runs;
    /// it binds file modes, symbolic links and submodule pins, which dirHash omits.
    #[arg(long, value_name = "TREE", value_parser = parse_git_id)]
    pub expect_git_tree: Option<String>,
    /// The attested artifact file: diffoscope compares it with the output when they differ.
    #[arg(long, value_name = "FILE")]
    pub attested: Option<PathBuf>,
    /// Time limit of the build command in seconds; the whole process group is killed after it.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Largest output, and largest file the build may write, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT_BYTES)]
    pub max_output_bytes: u64,
    /// Scratch directory (created if missing, must be empty, kept) instead of a
    /// temporary one (removed when the build reproduces).
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A build recipe on the command line: what `attest build` records and what
/// `rebuild` re-runs (the build predicate's `externalParameters`).
#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// Build command, run by `/bin/sh -c` in --workdir.
    #[arg(long, value_name = "CMD")]
    pub command: String,
    /// Where the command writes the artifact, relative to the source root.
    #[arg(long, value_name = "PATH")]
    pub output_path: String,
    /// Working directory of the command, relative to the source root.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub workdir: String,
    /// Environment variable set for the build (repeatable); a rebuild inherits nothing else.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,
}

impl RecipeArgs {
    /// The recipe these flags describe; a variable given twice is an error.
    pub fn to_recipe(&self) -> anyhow::Result<BuildRecipe> {
        let mut recipe = BuildRecipe::new(&self.command, &self.output_path);
        recipe.working_directory = self.workdir.clone();
        if !self.env.is_empty() {
            let mut env = BTreeMap::new();
            for (k, v) in &self.env {
                if env.insert(k.clone(), v.clone()).is_some() {
                    anyhow::bail!("--env {k} is given twice");
                }
            }
            recipe.environment = Some(env);
        }
        Ok(recipe)
    }
}

fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected K=V, found {s:?}")),
    }
}

/// A git object ID as a statement carries one (docs/design.md §2): 40 hex digits in a SHA-1
/// repository, 64 in a SHA-256 one; any case.
fn parse_git_id(value: &str) -> Result<String, String> {
    if matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_owned())
    } else {
        Err("expected a git tree ID: 40 or 64 hex digits".to_owned())
    }
}
