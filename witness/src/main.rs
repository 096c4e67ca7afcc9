//! `glassbox-witness`: run a C2SP tlog-witness that cosigns the checkpoints of the logs
//! it follows. Parses the flags into a [`ServeConfig`] and hands it to
//! [`serve::run_blocking`]; exit status 0 after SIGINT/SIGTERM, 2 on a usage error or
//! when the witness cannot start or stops on an error.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use clap::Parser;
use glassbox_edge::{ConnLimits, RateLimit};
use glassbox_witness::limit::DEFAULT_IP_LIMIT;
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
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, value_name = "N", default_value_t = ConnLimits::default().max_connections)]
    max_connections: usize,
    /// Milliseconds a client has to send a request's headers (and an idle
    /// kept-alive connection is kept).
    #[arg(long, value_name = "MS", default_value_t = millis(ConnLimits::default().header_read_timeout))]
    header_read_timeout_ms: u64,
    /// Longest pause in milliseconds between two pieces of a request body.
    #[arg(long, value_name = "MS", default_value_t = millis(ConnLimits::default().body_read_timeout))]
    body_read_timeout_ms: u64,
    /// Milliseconds a response may wait on a client that reads nothing.
    #[arg(long, value_name = "MS", default_value_t = millis(ConnLimits::default().send_timeout))]
    send_timeout_ms: u64,
    /// Requests one kept-alive connection may carry.
    #[arg(long, value_name = "N", default_value_t = ConnLimits::default().max_requests_per_connection)]
    max_requests_per_connection: usize,
    /// Sustained requests per second allowed from one client address (an IPv6 /64).
    #[arg(long, value_name = "RATE", default_value_t = DEFAULT_IP_LIMIT.rate_per_sec)]
    ip_rate_per_sec: f64,
    /// Burst of requests allowed from one client address.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_IP_LIMIT.burst)]
    ip_burst: f64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Flags {
    fn into_config(self) -> ServeConfig {
        ServeConfig {
            key: self.key,
            logs: self.logs,
            listen: self.listen,
            data_dir: self.data,
            name: self.name,
            conn: ConnLimits {
                max_connections: self.max_connections,
                header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
                body_read_timeout: Duration::from_millis(self.body_read_timeout_ms),
                send_timeout: Duration::from_millis(self.send_timeout_ms),
                max_requests_per_connection: self.max_requests_per_connection,
            },
            ip_limit: RateLimit {
                rate_per_sec: self.ip_rate_per_sec,
                burst: self.ip_burst,
            },
        }
    }
}

fn main() {
    if let Err(err) = serve::run_blocking(Flags::parse().into_config()) {
        eprintln!(
            "glassbox-witness: error: {}",
            glassbox_core::error_line::causes(&err)
        );
        std::process::exit(2);
    }
}
