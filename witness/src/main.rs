//! `glassbox-witness`: run a C2SP tlog-witness that cosigns the checkpoints of the logs
//! it follows. Parses the flags into a [`ServeConfig`] and hands it to
//! [`serve::run_blocking`]; exit status 0 after SIGINT/SIGTERM, 2 on a usage error or
//! when the witness cannot start or stops on an error.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use glassbox_witness::serve::{self, ServeConfig};

/// Run a witness: an independent party that cosigns a log's checkpoints.
#[derive(Debug, Parser)]
#[command(
    name = "glassbox-witness",
    version,
    long_about = "\
Run a witness: an independent party that cosigns a log's checkpoints only after
checking each one is consistent with everything it cosigned before, so a log cannot
show two customers different histories without a quorum of witnesses catching it.
See docs/witness.md.

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
    glassbox key generate --out witness.pem
    glassbox-witness --key witness.pem --log 'glassbox.example/log+1a2b3c4d+AY...' \\
        --listen 0.0.0.0:7380 --data ./witness-data --name witness.example/w1"
)]
struct Flags {
    /// The witness's Ed25519 private key (PKCS#8 PEM from `glassbox key generate`).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// C2SP verifier key of a log to witness (repeatable); its name is the log's origin.
    #[arg(long = "log", value_name = "VKEY", required = true, num_args = 1..)]
    logs: Vec<String>,
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
    listen: SocketAddr,
    /// Directory for the witness state database.
    #[arg(long, value_name = "DIR", default_value = "witness-data")]
    data: PathBuf,
    /// Cosigner name (part of the vkey; keep it stable). Default: `<listen address>/witness`.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
}

impl Flags {
    fn into_config(self) -> ServeConfig {
        ServeConfig {
            key: self.key,
            logs: self.logs,
            listen: self.listen,
            data_dir: self.data,
            name: self.name,
        }
    }
}

fn main() {
    if let Err(err) = serve::run_blocking(Flags::parse().into_config()) {
        eprintln!("glassbox-witness: error: {err}");
        std::process::exit(2);
    }
}
