//! The schema registry an application links: subjects, versions, content-hash dedup, deletes, config and
//! modes, with Confluent Schema Registry semantics.
//!
//! redb is the only source of truth; moka caches accelerate reads and the register-existing fast path and
//! are updated in the code path that commits. A write returns only after its commit is durable. The rules
//! themselves (parsing, identity, compatibility) live in `registry-core`; this crate decides nothing about
//! a schema's meaning, only where and under which version it is kept.
//!
//! ```
//! use registry_store::{Registry, RegistryOptions};
//! use registry_core::{SchemaType, Subject, UnparsedSchema};
//!
//! let registry = Registry::in_memory(RegistryOptions::default())?;
//! let subject = Subject::new("orders-value")?;
//! let schema = UnparsedSchema::new(SchemaType::Avro, r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]}"#);
//! let registered = registry.register(&subject, &schema)?;
//! assert_eq!(registered.version.get(), 1);
//! assert_eq!(registry.schema_by_id(registered.id)?.text, schema.text);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod cache;
mod codec;
mod commit;
mod error;
mod keys;
mod records;
mod registry;
mod store;

#[cfg(feature = "faults")]
pub use store::faults;

pub use cache::{CacheCounters, CacheStats};
pub use commit::CommitStats;
pub use error::{RegistryError, StorageError};
pub use keys::{Dek, DekAlgorithm, Kek};
pub use records::{
    InvalidMode, InvalidSemVer, InvalidSettings, InvalidState, Mode, Registered, SchemaVersion, ScopeConfig,
    ScopeSettings, SemVer, SettingsPatch, StoredSchema, SubjectVersion, VersionInfo, VersionState,
};
pub use registry::{
    AuditAction, AuditEntry, AuditPage, AuditVerdict, BrowsePage, BrowseQuery, CheckReport, Copied, Counts,
    DEFAULT_CACHE_BUDGET, Deleted, Deletion, KekUpdate, MAX_AUDIT_PAGE, MAX_BROWSE_PAGE, MAX_KEYS, MAX_SEARCH_PAGE,
    NewDek, NewKek, RegisterOptions, Registration, Registry, RegistryOptions, Scope, SearchHit, SearchMatch,
    SearchQuery, SearchResults, StoreAddress, StoreOptions, SubjectSummary,
};
pub use registry_core::compat::CompatibilityLevel;
