//! `glassbox witness serve`: a thin command over `glassbox_witness::serve` (the
//! witness is its own crate so this CLI's other commands carry no server code path;
//! docs/decisions.md, "Witness").

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use glassbox_witness::serve::{run_blocking, ServeConfig};

use super::Outcome;

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Serve POST /add-checkpoint (C2SP tlog-witness) for the given logs.
    #[command(
        long_about = "\
Serve the C2SP tlog-witness API: POST /add-checkpoint cosigns a log's checkpoint
(tlog-cosignature v1) after checking its signature and a consistency proof from the
last checkpoint this witness cosigned; GET /checkpoint/<origin> returns that latest
cosigned checkpoint for monitors. State (per log: latest size, root, checkpoint) is
kept in DIR/witness.db and written durably before any cosignature is returned.

On start it prints `witness vkey: <vkey>` (the cosigner verifier key, signature type
0x04, to put in trust policies and in the log's witness list) and
`listening on http://ADDR`.",
        after_long_help = "\
EXAMPLES:
    glassbox witness serve --key witness.pem --log 'glassbox.example/log+1a2b3c4d+AY...' \\
        --listen 0.0.0.0:7380 --data ./witness-data --name witness.example/w1"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The witness's Ed25519 private key (PKCS#8 PEM from `glassbox key generate`).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// C2SP verifier key of a log to witness (repeatable); its name is the log's origin.
    #[arg(long = "log", value_name = "VKEY", required = true, num_args = 1..)]
    pub logs: Vec<String>,
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
    pub listen: SocketAddr,
    /// Directory for the witness state database.
    #[arg(long, value_name = "DIR", default_value = "witness-data")]
    pub data: PathBuf,
    /// Cosigner name (part of the vkey; keep it stable). Default: `<listen address>/witness`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

pub fn run(cmd: WitnessCommand) -> anyhow::Result<Outcome> {
    match cmd {
        WitnessCommand::Serve(args) => {
            run_blocking(ServeConfig {
                key: args.key,
                logs: args.logs,
                listen: args.listen,
                data_dir: args.data,
                name: args.name,
            })
            .context("witness")?;
            Ok(Outcome::Success)
        }
    }
}
