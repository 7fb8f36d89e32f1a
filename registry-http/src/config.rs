//! The server's settings: command-line flags, each also settable by a `SCHEMA_REGISTRY_<NAME>` environment
//! variable or a TOML file (`--config`). A flag beats the environment, which beats the file, which beats the
//! default.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use clap::{Parser, Subcommand};
use registry_store::{StoreAddress, StoreOptions};
use serde::Deserialize;

/// An embeddable schema registry, run as a single-binary sidecar. Speaks the Confluent Schema Registry REST
/// API (existing Kafka clients work unchanged) and its own /api/v1 API.
#[derive(Debug, Parser)]
#[command(name = "schema-registry", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on [default: 127.0.0.1:8081].
    #[arg(long, env = "SCHEMA_REGISTRY_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory holding the registry's data; created if missing [default: ./registry-data].
    #[arg(long, env = "SCHEMA_REGISTRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the data lives, instead of the data directory: a `postgres://user@host/db` URL (a database that
    /// several instances share) or the path of a redb file [default: DATA_DIR/registry.redb].
    #[arg(long, env = "SCHEMA_REGISTRY_STORE")]
    pub store: Option<String>,
    /// A file holding the database password, for a URL without one (`SCHEMA_REGISTRY_STORE_PASSWORD` in the
    /// environment works too). The password is never logged.
    #[arg(long, env = "SCHEMA_REGISTRY_STORE_PASSWORD_FILE")]
    pub store_password_file: Option<PathBuf>,
    /// Connections to the database, per instance [default: 16].
    #[arg(long, env = "SCHEMA_REGISTRY_STORE_POOL_SIZE", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub store_pool_size: Option<u64>,
    /// Seconds to wait at start for the database to answer, logging each try [default: 60].
    #[arg(long, env = "SCHEMA_REGISTRY_STORE_WAIT_SECS")]
    pub store_wait_secs: Option<u64>,
    /// A TOML file with any of these settings (keys as the flags, with underscores: data_dir = "...").
    #[arg(long, env = "SCHEMA_REGISTRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Serve /metrics on this separate address too (it is always on the main listener).
    #[arg(long, env = "SCHEMA_REGISTRY_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// File of API keys, one `<role> <sha256-hex> [name]` a line (roles: reader, writer, admin). Turns auth
    /// on; without it auth is off. `schema-registry hash-key <KEY>` prints a key's hash.
    #[arg(long, env = "SCHEMA_REGISTRY_AUTH_KEYS")]
    pub auth_keys: Option<PathBuf>,
    /// PEM certificate chain (the server's certificate first): with --tls-key, the listener speaks only TLS
    /// (1.2 and 1.3), so keys sent as Basic or Bearer auth never cross the network in clear.
    #[arg(long, env = "SCHEMA_REGISTRY_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert's certificate.
    #[arg(long, env = "SCHEMA_REGISTRY_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Seconds to wait for a request's headers, on a new connection or an idle keep-alive one; then the
    /// connection is closed [default: 30].
    #[arg(long, env = "SCHEMA_REGISTRY_HEADER_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a request body may send nothing before the request fails and its connection closes [default: 30].
    #[arg(long, env = "SCHEMA_REGISTRY_BODY_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: Option<u64>,
    /// Connections held at once; one more is closed at once [default: 10000].
    #[arg(long, env = "SCHEMA_REGISTRY_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
    /// Largest request body accepted, in bytes [default: 4194304].
    #[arg(long, env = "SCHEMA_REGISTRY_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Memory, in MiB, that requests with large bodies (over 64 KiB) may take together, by estimate: each is
    /// read, then waits for its share (its body size times what parsing makes of it) before it is parsed
    /// [default: 192].
    #[arg(long, env = "SCHEMA_REGISTRY_MEMORY_BUDGET_MIB", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub memory_budget_mib: Option<u64>,
    /// Most documents in one validation batch (`items`); a larger batch gets 422 [default: 10000].
    #[arg(long, env = "SCHEMA_REGISTRY_MAX_VALIDATE_ITEMS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_validate_items: Option<u64>,
    /// Largest schema accepted, in bytes [default: 1048576].
    #[arg(long, env = "SCHEMA_REGISTRY_MAX_SCHEMA_BYTES")]
    pub max_schema_bytes: Option<usize>,
    /// Entries in each small-entry cache (text to fingerprint, subject and fingerprint to version, latest
    /// version, remembered registration answers), about 250 bytes each [default: 20000].
    #[arg(long, env = "SCHEMA_REGISTRY_CACHE_CAPACITY")]
    pub cache_capacity: Option<u64>,
    /// Memory, in MiB, for the caches bounded in bytes: pre-rendered `GET /schemas/ids` answers 1/5, and the
    /// registry's caches the other 4/5 (of which schema records 1/8, parsed schemas 3/8, compiled validators
    /// 1/4, the store's page cache 1/4) [default: 80].
    #[arg(long, env = "SCHEMA_REGISTRY_CACHE_MIB", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub cache_mib: Option<u64>,
    /// Let MCP callers write (`register_schema`, `set_compatibility`), as their keys' roles allow; off, the MCP
    /// tools only read and check (dry runs).
    #[arg(long, env = "SCHEMA_REGISTRY_MCP_WRITES")]
    pub mcp_writes: bool,
    /// A command other than serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands other than serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SHA-256 of an API key, as the keys file stores it.
    HashKey {
        /// The key.
        key: String,
    },
    /// Write a backup of the registry (the data directory's, or --store's) to a new redb file, as of one
    /// moment; while a server runs on the data directory, it makes the backup. Restore by starting on it:
    /// `schema-registry --store FILE`, or copy it to DATA_DIR/registry.redb.
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Check the registry (the data directory's, or --store's): every record decodes, every fingerprint is its
    /// schema's, ids are bound both ways, indexes and references resolve. Exits 1 if anything is wrong; while
    /// a server runs on the data directory, it runs the check.
    Check,
    /// Serve the Model Context Protocol over stdio (for an assistant that starts the registry itself), on the
    /// registry of the data directory or --store (`--mcp-writes` lets it register), or relayed to the `/mcp` of a
    /// running server with `--url`.
    Mcp {
        /// A running server to relay to (`http://host:port` or `https://...`) instead of opening a registry.
        #[arg(long)]
        url: Option<String>,
        /// The API key to present to that server (as `X-API-Key`).
        #[arg(long, env = "SCHEMA_REGISTRY_API_KEY")]
        api_key: Option<String>,
        /// A PEM certificate (or chain) to trust for an `https://` server.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Copy a whole registry between stores (redb files and PostgreSQL URLs), keeping ids, versions, soft
    /// deletes, references, compatibility levels and modes.
    Copy {
        /// The registry to copy: a redb file or a `postgres://` URL.
        #[arg(long)]
        from: String,
        /// Where to copy it: a redb file (created) or a `postgres://` URL. Must be empty unless `--force`.
        #[arg(long)]
        to: String,
        /// Copy into a store that already holds a registry (ids and versions must not clash).
        #[arg(long)]
        force: bool,
    },
}

/// The settings a TOML file may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    store: Option<String>,
    store_password_file: Option<PathBuf>,
    store_pool_size: Option<u64>,
    store_wait_secs: Option<u64>,
    metrics_addr: Option<SocketAddr>,
    auth_keys: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    header_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    max_connections: Option<u64>,
    max_validate_items: Option<u64>,
    memory_budget_mib: Option<u64>,
    max_schema_bytes: Option<usize>,
    cache_capacity: Option<u64>,
    cache_mib: Option<u64>,
    mcp_writes: Option<bool>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the data lives.
    pub data_dir: PathBuf,
    /// The store: the data directory's redb file, another redb file, or a PostgreSQL database.
    pub store: StoreAddress,
    /// How to reach a PostgreSQL store.
    pub store_options: StoreOptions,
    /// A separate metrics listener.
    pub metrics_addr: Option<SocketAddr>,
    /// The keys file, if auth is on.
    pub auth_keys: Option<PathBuf>,
    /// The certificate chain and private key files, if the listener speaks TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Documents per validation batch.
    pub max_validate_items: usize,
    /// What large requests may take together, in bytes.
    pub memory_budget_bytes: usize,
    /// Timeouts and the connection limit.
    pub serve: crate::serve::ServeLimits,
    /// Schema size limit.
    pub max_schema_bytes: usize,
    /// Entries per small-entry cache.
    pub cache_capacity: u64,
    /// Bytes for the byte-bounded caches.
    pub cache_bytes: u64,
    /// Whether MCP callers may write.
    pub mcp_writes: bool,
}

/// The server's default cache budget: the registry's default (64 MiB) and a fifth more for ready answers.
pub const DEFAULT_CACHE_BYTES: u64 = registry_store::DEFAULT_CACHE_BUDGET / 4 * 5;

/// How the server's cache budget is shared: (the registry's, the pre-rendered answers'), four fifths and one.
pub const fn split_cache_bytes(total: u64) -> (u64, u64) {
    (total / 5 * 4, total / 5)
}

impl Cli {
    /// Merges flags and environment (already merged by clap) over the config file over the defaults.
    pub fn settings(&self) -> Result<Settings, String> {
        let file = match &self.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
                toml::from_str::<FileSettings>(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let data_dir = self.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("./registry-data"));
        let store = match self.store.clone().or(file.store) {
            Some(address) => StoreAddress::parse(&address),
            None => StoreAddress::Embedded(data_dir.join("registry.redb")),
        };
        let password_file = self.store_password_file.clone().or(file.store_password_file);
        let password = match password_file {
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
            None => std::env::var("SCHEMA_REGISTRY_STORE_PASSWORD").ok(),
        };
        let store_options = StoreOptions {
            pool_size: self.store_pool_size.or(file.store_pool_size).map_or(16, |n| n as usize),
            connect_wait: Duration::from_secs(self.store_wait_secs.or(file.store_wait_secs).unwrap_or(60)),
            password,
        };
        let tls = match (self.tls_cert.clone().or(file.tls_cert), self.tls_key.clone().or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)".into()),
        };
        Ok(Settings {
            tls,
            listen: self.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8081))),
            data_dir,
            store,
            store_options,
            metrics_addr: self.metrics_addr.or(file.metrics_addr),
            auth_keys: self.auth_keys.clone().or(file.auth_keys),
            max_body_bytes: self.max_body_bytes.or(file.max_body_bytes).unwrap_or(crate::DEFAULT_MAX_BODY_BYTES),
            serve: {
                let defaults = crate::serve::ServeLimits::default();
                let secs = |flag: Option<u64>, file: Option<u64>, default: Duration| {
                    flag.or(file).map_or(default, Duration::from_secs)
                };
                crate::serve::ServeLimits {
                    header_timeout: secs(self.header_timeout_secs, file.header_timeout_secs, defaults.header_timeout),
                    body_timeout: secs(self.body_timeout_secs, file.body_timeout_secs, defaults.body_timeout),
                    max_connections: self
                        .max_connections
                        .or(file.max_connections)
                        .map_or(defaults.max_connections, |n| usize::try_from(n).unwrap_or(usize::MAX)),
                }
            },
            max_validate_items: self
                .max_validate_items
                .or(file.max_validate_items)
                .map_or(crate::DEFAULT_MAX_VALIDATE_ITEMS, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            memory_budget_bytes: self
                .memory_budget_mib
                .or(file.memory_budget_mib)
                .map_or(crate::DEFAULT_MEMORY_BUDGET_BYTES, |mib| usize::try_from(mib << 20).unwrap_or(usize::MAX)),
            max_schema_bytes: self.max_schema_bytes.or(file.max_schema_bytes).unwrap_or(1 << 20),
            cache_capacity: self
                .cache_capacity
                .or(file.cache_capacity)
                .unwrap_or(registry_store::RegistryOptions::default().cache_capacity),
            cache_bytes: self.cache_mib.or(file.cache_mib).map_or(DEFAULT_CACHE_BYTES, |mib| mib << 20),
            mcp_writes: self.mcp_writes || file.mcp_writes.unwrap_or(false),
        })
    }
}
