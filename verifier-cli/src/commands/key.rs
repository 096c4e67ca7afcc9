//! `glassbox key generate` and `glassbox key id` (docs/design.md §2: a key ID is the lowercase
//! hex SHA-256 of the 32-byte Ed25519 public key).

use serde_json::json;

use super::Outcome;
use crate::cli::{KeyCommand, KeyGenerateArgs, KeyIdArgs};
use crate::output;

pub fn run(cmd: KeyCommand) -> anyhow::Result<Outcome> {
    match cmd {
        KeyCommand::Generate(args) => generate(args),
        KeyCommand::Id(args) => id(args),
    }
}

fn generate(args: KeyGenerateArgs) -> anyhow::Result<Outcome> {
    let key = glassbox_keys::generate_key_file(&args.out)?;
    if args.json {
        output::print_json(&json!({
            "keyId": key.key_id,
            "privateKey": key.private_path.to_string_lossy(),
            "publicKey": key.public_path.to_string_lossy(),
        }))?;
    } else {
        output::print(&format!("{}\n", key.key_id))?;
    }
    Ok(Outcome::Success)
}

fn id(args: KeyIdArgs) -> anyhow::Result<Outcome> {
    let key = glassbox_keys::load_verifying_key(&args.file)?;
    let key_id = glassbox_keys::key_id_hex(&key);
    if args.json {
        output::print_json(&json!({ "keyId": key_id }))?;
    } else {
        output::print(&format!("{key_id}\n"))?;
    }
    Ok(Outcome::Success)
}
