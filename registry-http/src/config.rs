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
    #[arg(long, global = true, env = "SCHEMA_REGISTRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the data lives, instead of the data directory: a `postgres://user@host/db` URL (a database that
    /// several instances share) or the path of a redb file [default: DATA_DIR/registry.redb].
    #[arg(long, global = true, env = "SCHEMA_REGISTRY_STORE")]
    pub store: Option<String>,
    /// A file holding the database password, for a URL without one (`SCHEMA_REGISTRY_STORE_PASSWORD` in the
    /// environment works too). The password is never logged.
    #[arg(long, global = true, env = "SCHEMA_REGISTRY_STORE_PASSWORD_FILE")]
    pub store_password_file: Option<PathBuf>,
    /// Connections to the database, per instance [default: 16].
    #[arg(long, env = "SCHEMA_REGISTRY_STORE_POOL_SIZE", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub store_pool_size: Option<u64>,
    /// Seconds to wait at start for the database to answer, logging each try [default: 60].
    #[arg(long, env = "SCHEMA_REGISTRY_STORE_WAIT_SECS")]
    pub store_wait_secs: Option<u64>,
    /// A TOML file with any of these settings (keys as the flags, with underscores: data_dir = "...").
    #[arg(long, global = true, env = "SCHEMA_REGISTRY_CONFIG")]
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
    #[arg(long, global = true, env = "SCHEMA_REGISTRY_MCP_WRITES")]
    pub mcp_writes: bool,
    /// Serve no web console at /ui.
    #[arg(long, env = "SCHEMA_REGISTRY_NO_UI")]
    pub no_ui: bool,
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
        /// A PEM certificate (or chain) to trust for an `https://` server [default: the public authorities].
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
    /// Copy a running Confluent-compatible registry (Confluent, Karapace, this one) into this one, over its REST
    /// API: every subject, version, id, type, reference, soft delete, compatibility level and mode, ids and
    /// versions kept (the target in IMPORT mode meanwhile). Into the server at `--to`, or the data directory's
    /// registry (or --store's) when no `--to` is given. Re-running skips what is there; a verification pass
    /// compares both sides at the end.
    Migrate(MigrateArgs),
    /// Check a schema file's compatibility offline (for CI): against older schema files, or against a subject's
    /// versions in a running registry. Exits 0 when compatible, 1 when not, 2 on an error.
    Compat(CompatArgs),
    /// Validate data files (JSON documents) against a schema file offline. Exits 0 when all are valid, 1 when
    /// one is not, 2 on an error.
    Validate(ValidateArgs),
    /// Ask a running server whether it is healthy (`GET /health`); exits 0 when it answers 200. For container
    /// health checks, where no HTTP client may exist.
    Health {
        /// The server [default: this configuration's own listener (--listen, SCHEMA_REGISTRY_LISTEN; loopback
        /// for 0.0.0.0), over https when --tls-cert is set, taking any certificate for that loopback probe].
        #[arg(long)]
        url: Option<String>,
        /// A PEM certificate (or chain) to trust for an `https://` server [default: the public authorities].
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout (`schema-registry man > schema-registry.1`), or write it and one page
    /// per command (`schema-registry-migrate.1`, ...) into a directory.
    Man {
        /// The directory to write every page into (created if missing).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `schema-registry migrate`'s arguments.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The registry to copy from: its base URL (`http://host:8081`, `https://...`).
    #[arg(long)]
    pub from: String,
    /// The registry to copy into: a running server's base URL. Without it, the data directory's registry (or
    /// --store's) is opened and written directly (no server may run on it).
    #[arg(long)]
    pub to: Option<String>,
    /// Basic auth for the source, `user:password` (also `SCHEMA_REGISTRY_FROM_BASIC`).
    #[arg(long, env = "SCHEMA_REGISTRY_FROM_BASIC", hide_env_values = true, conflicts_with = "from_bearer")]
    pub from_basic: Option<String>,
    /// A bearer token for the source (also `SCHEMA_REGISTRY_FROM_BEARER`).
    #[arg(long, env = "SCHEMA_REGISTRY_FROM_BEARER", hide_env_values = true)]
    pub from_bearer: Option<String>,
    /// A PEM certificate (or chain) to trust for an `https://` source [default: the public authorities].
    #[arg(long)]
    pub from_ca: Option<PathBuf>,
    /// Basic auth for the target, `user:password` (also `SCHEMA_REGISTRY_TO_BASIC`).
    #[arg(long, env = "SCHEMA_REGISTRY_TO_BASIC", hide_env_values = true, conflicts_with = "to_bearer")]
    pub to_basic: Option<String>,
    /// A bearer token (this server: an API key) for the target (also `SCHEMA_REGISTRY_TO_BEARER`).
    #[arg(long, env = "SCHEMA_REGISTRY_TO_BEARER", hide_env_values = true)]
    pub to_bearer: Option<String>,
    /// A PEM certificate (or chain) to trust for an `https://` target [default: the public authorities].
    #[arg(long)]
    pub to_ca: Option<PathBuf>,
    /// List what would be copied and changed, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the final pass that compares every version, id, level and mode on both sides.
    #[arg(long)]
    pub no_verify: bool,
}

/// `schema-registry compat`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CompatArgs {
    /// The compatibility level: BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL,
    /// FULL_TRANSITIVE or NONE [default: the subject's level with --subject, else BACKWARD].
    #[arg(long)]
    pub level: Option<String>,
    /// Check against this subject's versions in the registry at --registry, instead of older files.
    #[arg(long, requires = "registry")]
    pub subject: Option<String>,
    /// A running Confluent-compatible registry's base URL, for --subject.
    #[arg(long, requires = "subject")]
    pub registry: Option<String>,
    /// The API key to present to --registry (as `X-API-Key`, as this registry takes it).
    #[arg(long, env = "SCHEMA_REGISTRY_API_KEY", hide_env_values = true, conflicts_with_all = ["basic", "bearer"])]
    pub api_key: Option<String>,
    /// Basic auth for --registry, `user:password` (Confluent's `key:secret`; also `SCHEMA_REGISTRY_BASIC`).
    #[arg(long, env = "SCHEMA_REGISTRY_BASIC", hide_env_values = true, conflicts_with = "bearer")]
    pub basic: Option<String>,
    /// A bearer token for --registry (also `SCHEMA_REGISTRY_BEARER`).
    #[arg(long, env = "SCHEMA_REGISTRY_BEARER", hide_env_values = true)]
    pub bearer: Option<String>,
    /// A PEM certificate (or chain) to trust for an `https://` registry [default: the public authorities].
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The schemas' type: AVRO, JSON or PROTOBUF [default: from the extension: .avsc, .json, .proto].
    #[arg(long = "type")]
    pub schema_type: Option<String>,
    /// A referenced schema, `name=path` (the name as the schema imports or names it: an Avro full name, a JSON
    /// Schema `$ref`, a Protobuf import path); repeatable. Every schema file may use each of them.
    #[arg(long = "ref")]
    pub refs: Vec<String>,
    /// Print the verdict as JSON instead of text: the server's verbose answer (`is_compatible`, `messages`) and
    /// /api/v1's (`compatible`, `level`, `violations`) in one object, with the versions `checked`.
    #[arg(long)]
    pub json: bool,
    /// The schema files: the older versions, oldest first (the first is version 1), then the new one; with
    /// --subject, the new one alone.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `schema-registry validate`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The schema file (.avsc, .json or .proto).
    #[arg(long)]
    pub schema: PathBuf,
    /// The schema's type: AVRO, JSON or PROTOBUF [default: from the extension].
    #[arg(long = "type")]
    pub schema_type: Option<String>,
    /// For Protobuf, the message type the data is [default: the schema's first message].
    #[arg(long)]
    pub message: Option<String>,
    /// A referenced schema, `name=path` (the name as the schema imports or names it); repeatable.
    #[arg(long = "ref")]
    pub refs: Vec<String>,
    /// Print the reports as JSON instead of text: the server's batch answer (`results`, each with `valid` and
    /// `errors`), each result with its `file`, and whether all are `valid`.
    #[arg(long)]
    pub json: bool,
    /// The data files, each one JSON document (for Avro its JSON encoding, for Protobuf the proto3 JSON mapping).
    #[arg(required = true)]
    pub data: Vec<PathBuf>,
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
    no_ui: Option<bool>,
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
    /// Whether the web console is served at /ui.
    pub console: bool,
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
            console: !(self.no_ui || file.no_ui.unwrap_or(false)),
        })
    }
}
