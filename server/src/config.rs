//! Server configuration: a TOML file, `GLASSBOX_*` environment variables and
//! command-line flags, resolved in the order flags > environment > file > defaults
//! (docs/operations.md lists every setting).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use glassbox_edge::ConnLimits;
use serde::Deserialize;

use crate::http::client_ip::IpNet;
use crate::storage::cache::CacheBound;

/// Default origin (and log key name) of a fresh log.
pub const DEFAULT_ORIGIN: &str = "glassbox.localhost/log";
/// Default listen address: loopback only, so a first start exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "glassbox-data";

/// Command-line flags. Every flag can also come from its `GLASSBOX_*` variable;
/// clap gives the flag precedence over the variable.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "glassbox-server",
    version,
    about = "The Glassbox source-code transparency log",
    after_help = "Example:\n  glassbox-server --data ./glassbox-data --listen 127.0.0.1:8080\n\n\
                  A first start on an empty data directory creates the log, its key and a\n\
                  quickstart operator key, and prints the log's verifier key."
)]
pub struct Flags {
    /// TOML configuration file (settings there are overridden by flags and GLASSBOX_* variables).
    #[arg(long, env = "GLASSBOX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "GLASSBOX_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory holding the database and keys.
    #[arg(long, env = "GLASSBOX_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Log origin, also the name of the log's checkpoint key.
    #[arg(long, env = "GLASSBOX_ORIGIN")]
    pub origin: Option<String>,
    /// Operator public key files allowed to sign the genesis registration (repeatable;
    /// comma-separated in the variable). Without any, a quickstart operator key is created.
    #[arg(
        long = "operator-key",
        env = "GLASSBOX_OPERATOR_KEYS",
        value_delimiter = ',',
        value_name = "PUB"
    )]
    pub operator_keys: Vec<PathBuf>,
    /// Sequencing interval in milliseconds.
    #[arg(long, env = "GLASSBOX_BATCH_INTERVAL_MS")]
    pub batch_interval_ms: Option<u64>,
    /// Most entries sequenced in one batch.
    #[arg(long, env = "GLASSBOX_BATCH_SIZE")]
    pub batch_size: Option<usize>,
    /// Submissions that may wait for sequencing before the server answers 503.
    #[arg(long, env = "GLASSBOX_QUEUE_SIZE")]
    pub queue_size: Option<usize>,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "GLASSBOX_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Request timeout in milliseconds.
    #[arg(long, env = "GLASSBOX_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "GLASSBOX_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Milliseconds a client has to send a request's headers, and an idle
    /// kept-alive connection is kept.
    #[arg(long, env = "GLASSBOX_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// Longest pause in milliseconds between two pieces of a request body.
    #[arg(long, env = "GLASSBOX_BODY_READ_TIMEOUT_MS")]
    pub body_read_timeout_ms: Option<u64>,
    /// Milliseconds a response may wait for a client that reads nothing before
    /// the connection is closed.
    #[arg(long, env = "GLASSBOX_SEND_TIMEOUT_MS")]
    pub send_timeout_ms: Option<u64>,
    /// Requests one kept-alive connection may carry.
    #[arg(long, env = "GLASSBOX_MAX_REQUESTS_PER_CONNECTION")]
    pub max_requests_per_connection: Option<usize>,
    /// Exports streaming at once; one more is answered 503 busy.
    #[arg(long, env = "GLASSBOX_EXPORT_STREAMS")]
    pub export_streams: Option<usize>,
    /// Milliseconds an export may stream before it is cut off.
    #[arg(long, env = "GLASSBOX_EXPORT_TIME_LIMIT_MS")]
    pub export_time_limit_ms: Option<u64>,
    /// Sustained requests per second allowed from one client IP.
    #[arg(long, env = "GLASSBOX_IP_RATE")]
    pub ip_rate_per_sec: Option<f64>,
    /// Burst of requests allowed from one client IP.
    #[arg(long, env = "GLASSBOX_IP_BURST")]
    pub ip_burst: Option<f64>,
    /// Sustained submissions per second allowed per signing key ID.
    #[arg(long, env = "GLASSBOX_SIGNER_RATE")]
    pub signer_rate_per_sec: Option<f64>,
    /// Burst of submissions allowed per signing key ID.
    #[arg(long, env = "GLASSBOX_SIGNER_BURST")]
    pub signer_burst: Option<f64>,
    /// A reverse proxy (address or CIDR network) whose X-Forwarded-For names the
    /// client the per-IP limit counts (repeatable; comma-separated in the variable).
    #[arg(
        long = "trusted-proxy",
        env = "GLASSBOX_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP[/PREFIX]"
    )]
    pub trusted_proxies: Vec<String>,
    /// Read connections in the SQLite pool.
    #[arg(long, env = "GLASSBOX_READ_CONNECTIONS")]
    pub read_connections: Option<usize>,
    /// Memory for cached Merkle node hashes, in MiB (0 turns the cache off).
    /// Unset: every node of the log's tree (16 KiB per 256 entries), at least 64
    /// MiB and at most a quarter of the memory the server may use.
    #[arg(long, env = "GLASSBOX_HASH_CACHE_MIB", value_name = "MIB")]
    pub hash_cache_mib: Option<usize>,
    /// Storage backend: `sqlite` (the default: <data>/glassbox.db) or a
    /// `postgres://user@host:port/db` URL shared by several nodes (docs/postgres.md).
    #[arg(long, env = "GLASSBOX_STORAGE", value_name = "URL")]
    pub storage: Option<String>,
    /// Write tiles, entry bundles and the checkpoint to this directory in
    /// tlog-tiles layout as they are committed, for a static host or CDN.
    #[arg(long, env = "GLASSBOX_TILES_DIR", value_name = "DIR")]
    pub tiles_dir: Option<PathBuf>,
    /// URL at which the other nodes reach this one (PostgreSQL only; default
    /// http://<listen address>).
    #[arg(long, env = "GLASSBOX_ADVERTISE_URL", value_name = "URL")]
    pub advertise_url: Option<String>,
    /// Sequencer lease duration in milliseconds (PostgreSQL only).
    #[arg(long, env = "GLASSBOX_LEASE_TTL_MS")]
    pub lease_ttl_ms: Option<u64>,
    /// A witness to ask for cosignatures, as "URL VKEY" (repeatable; ';'-separated in
    /// the variable): its tlog-witness submission prefix and cosignature/v1 vkey.
    #[arg(
        long = "witness",
        env = "GLASSBOX_WITNESSES",
        value_delimiter = ';',
        value_name = "URL VKEY"
    )]
    pub witnesses: Vec<String>,
    /// Timeout of one add-checkpoint request to a witness, in milliseconds.
    #[arg(long, env = "GLASSBOX_WITNESS_TIMEOUT_MS")]
    pub witness_timeout_ms: Option<u64>,
    /// Attempts per witness and checkpoint (a 409 naming the witness's size, or a
    /// transport error, uses one).
    #[arg(long, env = "GLASSBOX_WITNESS_ATTEMPTS")]
    pub witness_attempts: Option<u32>,
    /// Seconds after which the log asks its witnesses to cosign the latest
    /// checkpoint again when no new one came (a fresh timestamp for verifiers'
    /// `max_age` on a quiet log).
    #[arg(long, env = "GLASSBOX_WITNESS_REFRESH_SECS")]
    pub witness_refresh_secs: Option<u64>,
}

/// The configuration file. Unknown keys are an error so typos do not pass silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub origin: Option<String>,
    pub operator_keys: Option<Vec<PathBuf>>,
    pub batch_interval_ms: Option<u64>,
    pub batch_size: Option<usize>,
    pub queue_size: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub request_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub header_read_timeout_ms: Option<u64>,
    pub body_read_timeout_ms: Option<u64>,
    pub send_timeout_ms: Option<u64>,
    pub max_requests_per_connection: Option<usize>,
    pub export_streams: Option<usize>,
    pub export_time_limit_ms: Option<u64>,
    pub ip_rate_per_sec: Option<f64>,
    pub ip_burst: Option<f64>,
    pub signer_rate_per_sec: Option<f64>,
    pub signer_burst: Option<f64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub read_connections: Option<usize>,
    pub hash_cache_mib: Option<usize>,
    pub storage: Option<String>,
    pub tiles_dir: Option<PathBuf>,
    pub advertise_url: Option<String>,
    pub lease_ttl_ms: Option<u64>,
    pub witnesses: Option<Vec<WitnessEndpoint>>,
    pub witness_timeout_ms: Option<u64>,
    pub witness_attempts: Option<u32>,
    pub witness_refresh_secs: Option<u64>,
}

/// Where the log is stored.
#[derive(Clone, PartialEq, Eq)]
pub enum StorageBackend {
    /// `<data>/glassbox.db`, one node.
    Sqlite,
    /// A PostgreSQL database shared by any number of nodes.
    Postgres { url: String },
}

impl std::fmt::Debug for StorageBackend {
    // Never print the URL: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageBackend::Sqlite => f.write_str("Sqlite"),
            StorageBackend::Postgres { .. } => f.write_str("Postgres { url: <hidden> }"),
        }
    }
}

impl StorageBackend {
    fn parse(value: &str) -> Result<Self, ConfigError> {
        if value == "sqlite" {
            Ok(StorageBackend::Sqlite)
        } else if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Ok(StorageBackend::Postgres {
                url: value.to_string(),
            })
        } else {
            Err(ConfigError::Invalid {
                setting: "storage",
                reason: "must be \"sqlite\" or a postgres://… URL".into(),
            })
        }
    }
}

/// A witness the log asks to cosign its checkpoints (C2SP tlog-witness).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessEndpoint {
    /// Submission prefix: requests go to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature/v1 verifier key.
    pub vkey: String,
}

impl WitnessEndpoint {
    /// Parses the flag form "URL VKEY".
    pub fn parse_flag(text: &str) -> Result<WitnessEndpoint, ConfigError> {
        let mut parts = text.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(url), Some(vkey), None) => Ok(WitnessEndpoint {
                url: url.to_string(),
                vkey: vkey.to_string(),
            }),
            _ => Err(ConfigError::Invalid {
                setting: "witness",
                reason: format!("{text:?} is not \"URL VKEY\""),
            }),
        }
    }
}

/// Token-bucket parameters, shared with the witness.
pub use glassbox_edge::RateLimit;

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub origin: String,
    pub operator_keys: Vec<PathBuf>,
    pub batch_interval: Duration,
    pub batch_size: usize,
    pub queue_size: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// What one client connection may cost: timeouts, the connection cap,
    /// keep-alive bounds (glassbox_edge).
    pub conn: ConnLimits,
    /// Exports streaming at once, and how long each may stream.
    pub export_streams: usize,
    pub export_time_limit: Duration,
    pub ip_limit: RateLimit,
    pub signer_limit: RateLimit,
    /// Peers whose `X-Forwarded-For` is read for the client address (none: the
    /// header is ignored).
    pub trusted_proxies: Vec<IpNet>,
    pub read_connections: usize,
    /// Bound of the node hash cache in front of storage (storage/cache.rs);
    /// `Fixed(0)`: none.
    pub hash_cache: CacheBound,
    pub storage: StorageBackend,
    pub tiles_dir: Option<PathBuf>,
    pub advertise_url: Option<String>,
    pub lease_ttl: Duration,
    /// Witnesses asked to cosign every new checkpoint (none: checkpoints are
    /// published with the log's signature only).
    pub witnesses: Vec<WitnessEndpoint>,
    pub witness_timeout: Duration,
    pub witness_attempts: u32,
    /// How long the latest checkpoint goes without a witnessing round before the
    /// log asks its witnesses again.
    pub witness_refresh: Duration,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is invalid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting {setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("default listen address is valid"),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            origin: DEFAULT_ORIGIN.to_string(),
            operator_keys: Vec::new(),
            batch_interval: Duration::from_millis(100),
            batch_size: 256,
            queue_size: 4096,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(30),
            conn: ConnLimits::default(),
            export_streams: crate::http::routes::export::DEFAULT_EXPORT_STREAMS,
            export_time_limit: crate::http::routes::export::DEFAULT_EXPORT_TIME_LIMIT,
            ip_limit: RateLimit {
                rate_per_sec: 200.0,
                burst: 1000.0,
            },
            signer_limit: RateLimit {
                rate_per_sec: 50.0,
                burst: 500.0,
            },
            trusted_proxies: Vec::new(),
            read_connections: 4,
            hash_cache: CacheBound::SizedToTree {
                ceiling: default_cache_ceiling(),
            },
            storage: StorageBackend::Sqlite,
            tiles_dir: None,
            advertise_url: None,
            lease_ttl: Duration::from_secs(3),
            witnesses: Vec::new(),
            witness_timeout: Duration::from_secs(5),
            witness_attempts: 3,
            witness_refresh: Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// Resolve flags (already merged with the environment by clap) over the file
    /// named by `--config`, if any, over the defaults.
    pub fn resolve(flags: Flags) -> Result<Config, ConfigError> {
        let file = match &flags.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        Config::merge(flags, file)
    }

    /// Merge already-loaded sources; flags win over the file, the file over defaults.
    pub fn merge(flags: Flags, file: FileConfig) -> Result<Config, ConfigError> {
        let d = Config::default();
        let operator_keys = if flags.operator_keys.is_empty() {
            file.operator_keys.unwrap_or_default()
        } else {
            flags.operator_keys
        };
        let witnesses = if flags.witnesses.is_empty() {
            file.witnesses.unwrap_or_default()
        } else {
            flags
                .witnesses
                .iter()
                .map(|w| WitnessEndpoint::parse_flag(w))
                .collect::<Result<_, _>>()?
        };
        let trusted_proxies = if flags.trusted_proxies.is_empty() {
            file.trusted_proxies.unwrap_or_default()
        } else {
            flags.trusted_proxies
        }
        .iter()
        .map(|p| {
            p.parse::<IpNet>().map_err(|reason| ConfigError::Invalid {
                setting: "trusted_proxies",
                reason,
            })
        })
        .collect::<Result<_, _>>()?;
        let config = Config {
            listen: flags.listen.or(file.listen).unwrap_or(d.listen),
            data_dir: flags.data.or(file.data).unwrap_or(d.data_dir),
            origin: flags.origin.or(file.origin).unwrap_or(d.origin),
            operator_keys,
            batch_interval: flags
                .batch_interval_ms
                .or(file.batch_interval_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.batch_interval),
            batch_size: flags.batch_size.or(file.batch_size).unwrap_or(d.batch_size),
            queue_size: flags.queue_size.or(file.queue_size).unwrap_or(d.queue_size),
            max_body_bytes: flags
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(d.max_body_bytes),
            request_timeout: flags
                .request_timeout_ms
                .or(file.request_timeout_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.request_timeout),
            conn: ConnLimits {
                max_connections: flags
                    .max_connections
                    .or(file.max_connections)
                    .unwrap_or(d.conn.max_connections),
                header_read_timeout: flags
                    .header_read_timeout_ms
                    .or(file.header_read_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.conn.header_read_timeout),
                body_read_timeout: flags
                    .body_read_timeout_ms
                    .or(file.body_read_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.conn.body_read_timeout),
                send_timeout: flags
                    .send_timeout_ms
                    .or(file.send_timeout_ms)
                    .map(Duration::from_millis)
                    .unwrap_or(d.conn.send_timeout),
                max_requests_per_connection: flags
                    .max_requests_per_connection
                    .or(file.max_requests_per_connection)
                    .unwrap_or(d.conn.max_requests_per_connection),
            },
            export_streams: flags
                .export_streams
                .or(file.export_streams)
                .unwrap_or(d.export_streams),
            export_time_limit: flags
                .export_time_limit_ms
                .or(file.export_time_limit_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.export_time_limit),
            ip_limit: RateLimit {
                rate_per_sec: flags
                    .ip_rate_per_sec
                    .or(file.ip_rate_per_sec)
                    .unwrap_or(d.ip_limit.rate_per_sec),
                burst: flags.ip_burst.or(file.ip_burst).unwrap_or(d.ip_limit.burst),
            },
            signer_limit: RateLimit {
                rate_per_sec: flags
                    .signer_rate_per_sec
                    .or(file.signer_rate_per_sec)
                    .unwrap_or(d.signer_limit.rate_per_sec),
                burst: flags
                    .signer_burst
                    .or(file.signer_burst)
                    .unwrap_or(d.signer_limit.burst),
            },
            trusted_proxies,
            read_connections: flags
                .read_connections
                .or(file.read_connections)
                .unwrap_or(d.read_connections),
            hash_cache: match flags.hash_cache_mib.or(file.hash_cache_mib) {
                Some(mib) => {
                    CacheBound::Fixed(mib.checked_mul(1 << 20).ok_or(ConfigError::Invalid {
                        setting: "hash_cache_mib",
                        reason: format!("{mib} MiB does not fit in memory addresses"),
                    })?)
                }
                None => d.hash_cache,
            },
            storage: match flags.storage.or(file.storage) {
                Some(v) => StorageBackend::parse(&v)?,
                None => d.storage,
            },
            tiles_dir: flags.tiles_dir.or(file.tiles_dir),
            advertise_url: flags.advertise_url.or(file.advertise_url),
            lease_ttl: flags
                .lease_ttl_ms
                .or(file.lease_ttl_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.lease_ttl),
            witnesses,
            witness_timeout: flags
                .witness_timeout_ms
                .or(file.witness_timeout_ms)
                .map(Duration::from_millis)
                .unwrap_or(d.witness_timeout),
            witness_attempts: flags
                .witness_attempts
                .or(file.witness_attempts)
                .unwrap_or(d.witness_attempts),
            witness_refresh: flags
                .witness_refresh_secs
                .or(file.witness_refresh_secs)
                .map(Duration::from_secs)
                .unwrap_or(d.witness_refresh),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, reason: &str| {
            Err(ConfigError::Invalid {
                setting,
                reason: reason.to_string(),
            })
        };
        if !valid_origin(&self.origin) {
            return invalid(
                "origin",
                "must be non-empty printable ASCII without spaces or '+' (it names the checkpoint key)",
            );
        }
        if self.batch_size == 0 {
            return invalid("batch_size", "must be at least 1");
        }
        if self.queue_size == 0 {
            return invalid("queue_size", "must be at least 1");
        }
        if self.batch_interval.is_zero() {
            return invalid("batch_interval_ms", "must be at least 1");
        }
        if self.lease_ttl < Duration::from_millis(300) {
            return invalid("lease_ttl_ms", "must be at least 300");
        }
        if self.read_connections == 0 {
            return invalid("read_connections", "must be at least 1");
        }
        if self.export_streams == 0 {
            return invalid("export_streams", "must be at least 1");
        }
        if self.export_time_limit.is_zero() {
            return invalid("export_time_limit_ms", "must be at least 1");
        }
        if let Some(setting) = self.conn.invalid() {
            return invalid(setting, "must be at least 1");
        }
        if self.witness_timeout.is_zero() {
            return invalid("witness_timeout_ms", "must be at least 1");
        }
        if self.witness_attempts == 0 {
            return invalid("witness_attempts", "must be at least 1");
        }
        if self.witness_refresh.is_zero() {
            return invalid("witness_refresh_secs", "must be at least 1");
        }
        for w in &self.witnesses {
            if let Err(e) = glassbox_core::cosignature::CosignatureVerifierKey::parse(&w.vkey) {
                return Err(ConfigError::Invalid {
                    setting: "witness",
                    reason: format!(
                        "vkey {:?} is not a cosignature/v1 verifier key: {e}",
                        w.vkey
                    ),
                });
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    setting: "witness",
                    reason: format!("URL {:?} must start with http:// or https://", w.url),
                });
            }
        }
        for (name, limit) in [
            ("ip rate limit", self.ip_limit),
            ("signer rate limit", self.signer_limit),
        ] {
            if !limit.is_valid() {
                return Err(ConfigError::Invalid {
                    setting: "rate limits",
                    reason: format!("{name}: rate must be > 0 and burst >= 1"),
                });
            }
        }
        Ok(())
    }
}

/// A key name in a C2SP signed note is non-empty, has no whitespace and no `+`.
fn valid_origin(origin: &str) -> bool {
    !origin.is_empty() && origin.bytes().all(|b| b.is_ascii_graphic() && b != b'+')
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// The default ceiling of the node hash cache: a quarter of the memory this
/// process may use — the machine's, or its cgroup's limit when lower — or 1 GiB
/// where neither can be read. Every tile of a 10^7-entry log takes ≈ 640 MiB.
fn default_cache_ceiling() -> usize {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let limits = [
        read("/proc/meminfo").as_deref().and_then(meminfo_total),
        read("/sys/fs/cgroup/memory.max")
            .as_deref()
            .and_then(cgroup_limit),
        read("/sys/fs/cgroup/memory/memory.limit_in_bytes")
            .as_deref()
            .and_then(cgroup_limit),
    ];
    let memory = limits.into_iter().flatten().min().unwrap_or(4 << 30);
    usize::try_from(memory / 4).unwrap_or(usize::MAX)
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A cgroup memory limit file's value in bytes; `None` for `max` (no limit).
fn cgroup_limit(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_without_any_source() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.origin, DEFAULT_ORIGIN);
        assert_eq!(c.batch_interval, Duration::from_millis(100));
    }

    #[test]
    fn flag_overrides_file_and_file_overrides_default() {
        let file: FileConfig =
            toml::from_str("origin = \"file.example/log\"\nbatch_size = 7\n").unwrap();
        let flags = Flags {
            origin: Some("flag.example/log".into()),
            ..Flags::default()
        };
        let c = Config::merge(flags, file).unwrap();
        assert_eq!(c.origin, "flag.example/log");
        assert_eq!(c.batch_size, 7);
    }

    #[test]
    fn hash_cache_is_sized_to_the_tree_by_default_and_set_in_mib() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        let CacheBound::SizedToTree { ceiling } = c.hash_cache else {
            panic!("default {:?}", c.hash_cache);
        };
        assert!(
            ceiling >= 256 << 20,
            "a quarter of this machine's memory: {ceiling}"
        );
        let file: FileConfig = toml::from_str("hash_cache_mib = 0\n").unwrap();
        assert_eq!(
            Config::merge(Flags::default(), file).unwrap().hash_cache,
            CacheBound::Fixed(0)
        );
        let flags = Flags {
            hash_cache_mib: Some(3),
            ..Flags::default()
        };
        let c = Config::merge(flags, FileConfig::default()).unwrap();
        assert_eq!(c.hash_cache, CacheBound::Fixed(3 << 20));
    }

    #[test]
    fn memory_limits_are_read_from_meminfo_and_cgroups() {
        assert_eq!(
            meminfo_total("MemTotal:       24683784 kB\nMemFree: 1 kB\n"),
            Some(24683784 << 10)
        );
        assert_eq!(meminfo_total("nothing here"), None);
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("2147483648\n"), Some(2 << 30));
        // cgroup v1 writes a huge number for "no limit".
        assert_eq!(
            cgroup_limit("9223372036854771712\n"),
            Some(9223372036854771712)
        );
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_zero() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(c.conn, ConnLimits::default());
        let file: FileConfig =
            toml::from_str("max_connections = 7\nheader_read_timeout_ms = 250\n").unwrap();
        let c = Config::merge(Flags::default(), file).unwrap();
        assert_eq!(c.conn.max_connections, 7);
        assert_eq!(c.conn.header_read_timeout, Duration::from_millis(250));
        let flags = Flags {
            send_timeout_ms: Some(0),
            ..Flags::default()
        };
        assert!(matches!(
            Config::merge(flags, FileConfig::default()),
            Err(ConfigError::Invalid {
                setting: "send_timeout_ms",
                ..
            })
        ));
    }

    #[test]
    fn export_limits_have_defaults_and_refuse_zero_streams() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(c.export_streams, 8);
        assert_eq!(c.export_time_limit, Duration::from_secs(1800));
        let file: FileConfig = toml::from_str("export_streams = 0\n").unwrap();
        assert!(matches!(
            Config::merge(Flags::default(), file),
            Err(ConfigError::Invalid {
                setting: "export_streams",
                ..
            })
        ));
    }

    #[test]
    fn unknown_file_key_is_refused() {
        assert!(toml::from_str::<FileConfig>("litsen = \"127.0.0.1:1\"").is_err());
    }

    #[test]
    fn origin_with_plus_is_refused() {
        let flags = Flags {
            origin: Some("a+b".into()),
            ..Flags::default()
        };
        assert!(matches!(
            Config::merge(flags, FileConfig::default()),
            Err(ConfigError::Invalid {
                setting: "origin",
                ..
            })
        ));
    }

    #[test]
    fn storage_url_selects_postgres_and_sqlite_stays_the_default() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert_eq!(c.storage, StorageBackend::Sqlite);
        let file: FileConfig =
            toml::from_str("storage = \"postgres://log:secret@db/glassbox\"\n").unwrap();
        let c = Config::merge(Flags::default(), file).unwrap();
        assert!(matches!(c.storage, StorageBackend::Postgres { .. }));
        assert!(!format!("{c:?}").contains("secret"));
        let flags = Flags {
            storage: Some("mysql://x".into()),
            ..Flags::default()
        };
        assert!(Config::merge(flags, FileConfig::default()).is_err());
    }

    #[test]
    fn trusted_proxies_come_from_flags_or_the_file_and_must_be_networks() {
        let c = Config::merge(Flags::default(), FileConfig::default()).unwrap();
        assert!(c.trusted_proxies.is_empty());
        let file: FileConfig =
            toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        let c = Config::merge(Flags::default(), file).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let flags = Flags::try_parse_from([
            "glassbox-server",
            "--trusted-proxy",
            "192.0.2.1,192.0.2.2",
            "--trusted-proxy",
            "2001:db8::/48",
        ])
        .unwrap();
        let c = Config::merge(flags, FileConfig::default()).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        let flags = Flags {
            trusted_proxies: vec!["proxy.example".into()],
            ..Flags::default()
        };
        assert!(matches!(
            Config::merge(flags, FileConfig::default()),
            Err(ConfigError::Invalid {
                setting: "trusted_proxies",
                ..
            })
        ));
    }

    #[test]
    fn environment_variable_is_read_when_flag_is_absent() {
        let flags = Flags::try_parse_from(["glassbox-server", "--batch-size", "9"]).unwrap();
        assert_eq!(flags.batch_size, Some(9));
    }
}
