//! `glassbox hash file` and `glassbox hash tree` (docs/design.md §2).

use serde_json::json;

use super::Outcome;
use crate::cli::{HashCommand, HashFileArgs, HashTreeArgs};
use crate::source;
use crate::{hash, output};

pub fn run(cmd: HashCommand) -> anyhow::Result<Outcome> {
    match cmd {
        HashCommand::File(args) => file(args),
        HashCommand::Tree(args) => tree(args),
    }
}

fn file(args: HashFileArgs) -> anyhow::Result<Outcome> {
    let digests = hash::sha256_files(&args.files)?;
    if args.json {
        let list: Vec<_> = args
            .files
            .iter()
            .zip(&digests)
            .map(|(path, d)| json!({"path": path.to_string_lossy(), "digest": format!("sha256:{}", hex::encode(d))}))
            .collect();
        output::print_json(&serde_json::Value::Array(list))?;
    } else {
        let text: String = args
            .files
            .iter()
            .zip(&digests)
            .map(|(path, d)| format!("sha256:{}  {}\n", hex::encode(d), path.display()))
            .collect();
        output::print(&text)?;
    }
    Ok(Outcome::Success)
}

fn tree(args: HashTreeArgs) -> anyhow::Result<Outcome> {
    let identity = match (&args.dir, &args.repo, &args.rev) {
        (_, Some(repo), Some(rev)) => source::from_repo(repo, rev)?,
        (Some(dir), _, _) => source::from_dir(dir)?,
        // clap's argument group makes DIR or --repo/--rev mandatory.
        _ => anyhow::bail!("give a directory, or --repo and --rev"),
    };
    if args.json {
        let mut value = json!({"dirHash": identity.dir_hash});
        if let (Some(commit), Some(tree)) = (&identity.git_commit, &identity.git_tree) {
            value["gitCommit"] = json!(commit);
            value["gitTree"] = json!(tree);
        }
        output::print_json(&value)?;
    } else {
        let mut text = format!("dirHash: {}\n", identity.dir_hash);
        if let (Some(commit), Some(tree)) = (&identity.git_commit, &identity.git_tree) {
            text.push_str(&format!("gitCommit: {commit}\ngitTree: {tree}\n"));
        }
        output::print(&text)?;
    }
    Ok(Outcome::Success)
}
