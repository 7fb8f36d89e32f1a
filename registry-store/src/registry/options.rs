//! How a registry is set up, and the small types its operations take.

use std::time::Duration;

use registry_core::{Limits, SchemaId, Subject, Version};

use crate::RegistryError;
use crate::records::SemVer;

/// How a registry is set up.
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Bounds on schemas (size, nesting, references).
    pub limits: Limits,
    /// Entries in each small-entry cache (text -> fingerprint, (subject, fingerprint) -> version, subject ->
    /// latest version), about 250 bytes each (default 20,000).
    pub cache_capacity: u64,
    /// Bytes of schema records kept in memory by id (default 8 MiB).
    pub schema_cache_bytes: u64,
    /// Estimated bytes of parsed schemas kept by id, for compatibility checks (default 24 MiB).
    pub parsed_cache_bytes: u64,
    /// Estimated bytes of the compiled data validators kept (default 16 MiB).
    pub validator_cache_bytes: u64,
    /// redb's own page cache, in bytes (default 16 MiB); the operating system's page cache serves beyond it.
    pub store_cache_bytes: u64,
    /// How to reach a shared store (PostgreSQL); the embedded store ignores it.
    pub store: StoreOptions,
}

/// Where a registry's data lives: an embedded redb file, or a PostgreSQL database that instances share.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreAddress {
    /// A redb file, created if missing.
    Embedded(std::path::PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl StoreAddress {
    /// A `postgres://` or `postgresql://` URL names a database; anything else is a file path.
    pub fn parse(address: &str) -> Self {
        if address.starts_with("postgres://") || address.starts_with("postgresql://") {
            StoreAddress::Postgres(address.to_string())
        } else {
            StoreAddress::Embedded(address.into())
        }
    }
}

/// The address as it may be logged: a URL's password is replaced by `***`.
impl std::fmt::Display for StoreAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreAddress::Embedded(path) => write!(f, "{}", path.display()),
            StoreAddress::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                // The user information ends at the last '@' before the query: a password may hold a '/' or an
                // '@' written as is, a host never does (a stray '@' in the path only hides more).
                let query = rest.find('?').unwrap_or(rest.len());
                match rest[..query].rfind('@') {
                    Some(at) => {
                        let user = rest[..at].split(':').next().unwrap_or("");
                        let hidden = if rest[..at].contains(':') { ":***" } else { "" };
                        write!(f, "{scheme}://{user}{hidden}{}", &rest[at..])
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl std::fmt::Debug for StoreAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreAddress({self})")
    }
}

/// How the registry reaches a shared store (PostgreSQL, through `Registry::connect`).
#[derive(Clone)]
pub struct StoreOptions {
    /// Connections in the pool (default 16).
    pub pool_size: usize,
    /// How long `connect` keeps trying a database that does not answer yet, logging each try (default: one try).
    pub connect_wait: Duration,
    /// The password, when it is not in the URL (read from a file or the environment by the caller). Never logged.
    pub password: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { pool_size: 16, connect_wait: Duration::ZERO, password: None }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("pool_size", &self.pool_size)
            .field("connect_wait", &self.connect_wait)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            cache_capacity: 20_000,
            schema_cache_bytes: 0,
            parsed_cache_bytes: 0,
            validator_cache_bytes: 0,
            store_cache_bytes: 0,
            store: StoreOptions::default(),
        }
        .with_cache_budget(DEFAULT_CACHE_BUDGET)
    }
}

/// The default memory budget of the byte-bounded caches: 64 MiB.
pub const DEFAULT_CACHE_BUDGET: u64 = 64 << 20;

impl RegistryOptions {
    /// Splits `bytes` over the byte-bounded caches: an eighth to schema records, three eighths to parsed
    /// schemas (every compatibility check and registration reads the newest versions' trees), a quarter to
    /// compiled validators and a quarter to redb's page cache (the committer's and readers' B-tree pages).
    pub fn with_cache_budget(self, bytes: u64) -> Self {
        Self {
            schema_cache_bytes: bytes / 8,
            parsed_cache_bytes: bytes / 8 * 3,
            validator_cache_bytes: bytes / 4,
            store_cache_bytes: bytes / 4,
            ..self
        }
    }
}

/// Which versions a read admits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Deleted {
    /// Live versions only (the default).
    #[default]
    Exclude,
    /// Live and soft-deleted versions.
    Include,
    /// Soft-deleted versions only.
    Only,
}

impl Deleted {
    /// Whether a version with this deleted flag is admitted.
    pub(crate) fn admits(self, deleted: bool) -> bool {
        match self {
            Deleted::Exclude => !deleted,
            Deleted::Include => true,
            Deleted::Only => deleted,
        }
    }
}

/// How much a registry holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Subjects with at least one live version.
    pub subjects: u64,
    /// Schema ids used by at least one version.
    pub schemas: u64,
}

/// Soft or permanent delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Hide the version; it can still be read with `Deleted::Include`, and deleted permanently later.
    Soft,
    /// Remove a soft-deleted version for good. Its schema id is never reused.
    Permanent,
}

impl Deletion {
    /// `soft` or `permanent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deletion::Soft => "soft",
            Deletion::Permanent => "permanent",
        }
    }
}

/// Where a config or mode applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole registry.
    Global,
    /// One subject.
    Subject(&'a Subject),
}

/// The key of the global scope in the store's settings (a subject's name is never empty).
pub(crate) const GLOBAL_SCOPE: &str = "";

impl Scope<'_> {
    /// The scope's key in the store's settings.
    pub(crate) fn key(&self) -> &str {
        match self {
            Scope::Global => GLOBAL_SCOPE,
            Scope::Subject(subject) => subject.as_str(),
        }
    }

    /// Refuses a scope that settings cannot be written to (a reserved subject name).
    pub(crate) fn writable(&self) -> Result<(), RegistryError> {
        match self {
            Scope::Global => Ok(()),
            Scope::Subject(subject) => writable(subject),
        }
    }
}

/// Refuses a subject no schema can be registered under ([`Subject::check_registrable`]).
pub(crate) fn registrable(subject: &Subject) -> Result<(), RegistryError> {
    subject.check_registrable().map_err(|reason| RegistryError::InvalidSubject { subject: subject.clone(), reason })
}

/// Refuses a subject that nothing can be written to (a reserved name).
pub(crate) fn writable(subject: &Subject) -> Result<(), RegistryError> {
    subject.check_writable().map_err(|reason| RegistryError::InvalidSubject { subject: subject.clone(), reason })
}

/// Options of a registration beyond the schema itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterOptions {
    /// The id to register under (IMPORT mode only).
    pub id: Option<SchemaId>,
    /// The version to register as: any free one in IMPORT mode; outside it, only the subject's next version (a
    /// check that no other version landed first).
    pub version: Option<Version>,
    /// Outside IMPORT mode, the request named a version (a number, or -1 for whichever comes next): the
    /// registered metadata's `confluent:version` property is set to the version it gets, as Confluent does.
    pub versioned: bool,
    /// The semantic version to give it; must be greater than the subject's latest. Computed when absent.
    pub semver: Option<SemVer>,
    /// Registered as a DRAFT: not the latest, nor checked against, until it is activated
    /// ([`Registry::set_state`]). A schema the subject already has answers as it is.
    pub draft: bool,
    /// The caller reads the registered schema right after (a server answering with it): the record of a new
    /// schema goes into the record cache as the registration lands, rather than being read back from the store.
    /// Off, a bulk load leaves the record cache to reads.
    pub cache_record: bool,
}

impl RegisterOptions {
    /// Whether an id or a version is given: the schema is registered there or not at all, so no other version
    /// holding it answers.
    pub(crate) fn is_explicit(&self) -> bool {
        self.id.is_some() || self.version.is_some()
    }
}
