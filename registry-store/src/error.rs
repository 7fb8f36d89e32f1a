//! `RegistryError`: every way a registry operation can fail, with Confluent's wording where it has one.

use std::sync::Arc;

use registry_core::compat::{CompatError, CompatReport};
use registry_core::{SchemaError, SchemaId, Subject, SubjectError, ValidateError, Version};

/// Why a registry operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The subject has no versions (or none that the read admits).
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(Subject),
    /// The subject has no such version.
    #[error("Version {version} not found.")]
    VersionNotFound {
        /// The subject.
        subject: Subject,
        /// The version asked for.
        version: Version,
    },
    /// The subject has no version with this semantic version.
    #[error("Version {semver} not found.")]
    SemVerNotFound {
        /// The subject.
        subject: Subject,
        /// The semantic version asked for.
        semver: crate::records::SemVer,
    },
    /// No schema has this id.
    #[error("Schema {0} not found")]
    SchemaNotFound(SchemaId),
    /// A config change that cannot be made.
    #[error("{0}")]
    InvalidSettings(crate::records::InvalidSettings),
    /// No such KEK (by name) or DEK (by subject), or not one a read that excludes soft-deleted keys sees.
    #[error("Key '{0}' not found")]
    KeyNotFound(String),
    /// A permanent delete of a key not soft-deleted first.
    #[error("Key '{0}' was not deleted first before being permanently deleted")]
    KeyNotSoftDeleted(String),
    /// An undelete of a DEK whose KEK is soft-deleted.
    #[error("Key '{0}' must be undeleted first")]
    KekMustBeUndeleted(String),
    /// A key of that name (KEK) or place (DEK) exists already.
    #[error("Key '{0}' already exists; use a different value")]
    KeyExists(String),
    /// A key's field is missing or not valid.
    #[error("Invalid or missing value for field '{field}' of key{}", .why.map(|w| format!(": {w}")).unwrap_or_default())]
    InvalidKey {
        /// The field, in Confluent's JSON spelling.
        field: &'static str,
        /// Why, beyond Confluent's words, when there is more to say.
        why: Option<&'static str>,
    },
    /// A KEK cannot be deleted while DEKs it wraps are left.
    #[error("One or more references exist to the key '{0}'")]
    KeyReferenced(String),
    /// The registry holds as many KEKs (or DEKs) as it keeps.
    #[error("A maximum of {0} keys already exist")]
    TooManyKeys(usize),
    /// No schema has this GUID.
    #[error("Schema {0} not found")]
    GuidNotFound(registry_core::SchemaGuid),
    /// The subject exists but does not hold this schema.
    #[error("Schema not found in subject '{0}'")]
    SchemaNotInSubject(Subject),
    /// The subject is soft-deleted; a soft delete was asked again.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(Subject),
    /// A permanent delete was asked of a subject not soft-deleted first.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(Subject),
    /// The version is soft-deleted; a soft delete was asked again.
    #[error("Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted {
        /// The subject.
        subject: Subject,
        /// The version.
        version: Version,
    },
    /// A permanent delete was asked of a version not soft-deleted first.
    #[error("Subject '{subject}' Version {version} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted {
        /// The subject.
        subject: Subject,
        /// The version.
        version: Version,
    },
    /// The subject cannot be written to: its name is reserved.
    #[error("The specified subject '{subject}' is not valid: {reason}")]
    InvalidSubject {
        /// The subject.
        subject: Subject,
        /// Why.
        reason: SubjectError,
    },
    /// The subject has no compatibility level of its own.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelNotConfigured(Subject),
    /// The subject has no mode of its own.
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotConfigured(Subject),
    /// The schema is not compatible with the versions its subject's level names.
    #[error("Schema being registered is incompatible with an earlier schema for subject '{subject}', details: {}", describe_report(.report))]
    Incompatible {
        /// The subject.
        subject: Subject,
        /// Every violation, with the version it is against.
        report: CompatReport,
    },
    /// The schema is not valid.
    #[error("Invalid schema: {0}")]
    InvalidSchema(#[from] SchemaError),
    /// Data cannot be validated as asked (an unknown Protobuf message, a binary datum for a non-Avro schema).
    #[error("{0}")]
    CannotValidate(#[from] ValidateError),
    /// Compatibility could not be checked.
    #[error("{0}")]
    CompatibilityUnavailable(#[from] CompatError),
    /// The subject (or the whole registry) is in READONLY mode: it takes no writes.
    #[error("Subject '{0}' is in read-only mode")]
    ReadOnly(Subject),
    /// The registry is in READONLY (or READONLY_OVERRIDE) mode: its global settings take no writes.
    #[error("The registry is in read-only mode")]
    RegistryReadOnly,
    /// An id or version was given for a registration outside IMPORT mode.
    #[error("Subject '{0}' is not in import mode: an id or version can be given only in IMPORT mode")]
    NotImportMode(Subject),
    /// A version's lifecycle state cannot go from `from` to `to`; `allowed` are the states it can go to.
    #[error(
        "Version {version} of subject '{subject}' cannot go from {from} to {to}: from {from} it can go to {}",
        list_states(allowed)
    )]
    StateTransition {
        /// The subject.
        subject: Subject,
        /// The version.
        version: Version,
        /// Its state.
        from: crate::VersionState,
        /// The state asked for.
        to: crate::VersionState,
        /// The states it can go to.
        allowed: Vec<crate::VersionState>,
    },
    /// A context still has subjects, and cannot be deleted (or it is the default one, which never is).
    #[error("The specified context '{}' is not empty.", registry_core::qualify(.0, ""))]
    ContextNotEmpty(String),
    /// IMPORT mode was asked where schemas already exist, without `force`.
    #[error("Cannot import since found existing subjects; set force=true to switch to IMPORT anyway")]
    ImportNotEmpty,
    /// An import gave an id other than the one this schema already has.
    #[error("Overwrite new schema with id {given} is not permitted: this schema is already registered with id {known}")]
    IdMismatch {
        /// The id given.
        given: SchemaId,
        /// The id the schema has.
        known: SchemaId,
    },
    /// An import gave an id that is bound to a different schema.
    #[error("Overwrite new schema with id {0} is not permitted: id {0} is already bound to a different schema")]
    IdTaken(SchemaId),
    /// An import gave a version the subject already has.
    #[error("Version {version} already exists in subject '{subject}'")]
    VersionExists {
        /// The subject.
        subject: Subject,
        /// The version given.
        version: Version,
    },
    /// Outside IMPORT mode, a registration named a version other than the subject's next.
    #[error(
        "Version is not one more than previous version: subject '{subject}' would take version {next}, not {given}"
    )]
    VersionNotNext {
        /// The subject.
        subject: Subject,
        /// The version named.
        given: Version,
        /// The version it would take.
        next: Version,
    },
    /// The subject's versions have reached the largest version number.
    #[error("Subject '{0}' has no version numbers left")]
    VersionsExhausted(Subject),
    /// Every schema id has been handed out.
    #[error("schema ids are exhausted")]
    IdsExhausted,
    /// The registry is shutting down and takes no more writes.
    #[error("the registry is closing")]
    Closing,
    /// The subject kept gaining versions while a registration that takes its data contract (or its text) from
    /// the newest one was prepared: it was tried again, and every time the newest version had changed.
    #[error("Subject '{0}' kept changing while the registration was prepared; try again")]
    SubjectMoving(Subject),
    /// Another schema references this version.
    #[error("One or more references exist to the schema {{subject={subject},version={version}}}: referenced by ids {}", list_ids(.referrers))]
    ReferenceExists {
        /// The referenced subject.
        subject: Subject,
        /// The referenced version.
        version: Version,
        /// Ids of schemas that reference it.
        referrers: Vec<SchemaId>,
    },
    /// An explicit semantic version is not greater than the subject's latest.
    #[error("semantic version {given} for subject '{subject}' must be greater than its latest, {latest}")]
    SemVerNotIncreasing {
        /// The subject.
        subject: Subject,
        /// The version given.
        given: crate::SemVer,
        /// The subject's latest.
        latest: crate::SemVer,
    },
    /// The store failed.
    #[error("Error in the backend data store: {0}")]
    Storage(#[from] StorageError),
    /// A record on disk cannot be read.
    #[error("Corrupt data in the store: {0}")]
    Corrupt(String),
    /// A copy's target already holds a registry (and `force` was not given).
    #[error("the target store is not empty: copy into an empty one, or force it")]
    TargetNotEmpty,
    /// The store's address or settings cannot be used.
    #[error("cannot use the store: {0}")]
    InvalidStore(String),
    /// The embedded store's file is open in another process (a running server): one process at a time.
    #[error("{0} is open in another process (a running server?)")]
    InUse(String),
    /// The file was written by a newer release.
    #[error(
        "the store was written in on-disk format {found}; this build reads formats up to {supported}: upgrade the registry"
    )]
    UnsupportedFormat {
        /// The format found.
        found: u64,
        /// The newest this build reads.
        supported: u64,
    },
}

fn describe_report(report: &CompatReport) -> String {
    format!("[{}]", report.messages().join("; "))
}

fn list_states(states: &[crate::VersionState]) -> String {
    states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn list_ids(ids: &[SchemaId]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl RegistryError {
    /// Whether a write failed at its commit, which may have landed all the same.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, RegistryError::Storage(e) if e.is_outcome_unknown())
    }

    /// Whether this is a refusal by the registry's rules (a mode, an import's id or version), which the
    /// reference registry answers as "operation not permitted".
    pub fn is_not_permitted(&self) -> bool {
        matches!(
            self,
            RegistryError::ReadOnly(_)
                | RegistryError::RegistryReadOnly
                | RegistryError::NotImportMode(_)
                | RegistryError::ImportNotEmpty
                | RegistryError::IdMismatch { .. }
                | RegistryError::IdTaken(_)
                | RegistryError::VersionExists { .. }
                | RegistryError::VersionsExhausted(_)
        )
    }
}

/// A failure of the store underneath: what was being done, and the store's own error as its source.
#[derive(Debug, Clone)]
pub struct StorageError {
    store: &'static str,
    unavailable: bool,
    outcome_unknown: bool,
    source: Arc<dyn std::error::Error + Send + Sync>,
}

impl StorageError {
    /// A failure of `store` (e.g. "redb"), keeping `source`.
    pub fn new(store: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { store, unavailable: false, outcome_unknown: false, source: Arc::new(source) }
    }

    /// `store` cannot be reached now (a database down or refusing connections): the operation may succeed
    /// once it is back, and nothing was written.
    pub fn unavailable(store: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { store, unavailable: true, outcome_unknown: false, source: Arc::new(source) }
    }

    /// Whether the store could not be reached, rather than failing on its own.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }

    /// The same failure, of a commit that was sent and whose outcome is unknown.
    pub fn outcome_unknown(self) -> Self {
        Self { outcome_unknown: true, ..self }
    }

    /// Whether the write failed at its commit, which may have landed all the same (registering again is safe:
    /// it answers the same id and version).
    pub fn is_outcome_unknown(&self) -> bool {
        self.outcome_unknown
    }

    /// A failure described only by a message.
    pub fn message(store: &'static str, message: impl Into<String>) -> Self {
        Self::new(store, Message(message.into()))
    }

    /// `store` cannot serve now, for the reason `message` gives.
    pub fn down(store: &'static str, message: impl Into<String>) -> Self {
        Self::unavailable(store, Message(message.into()))
    }

    /// Which store failed.
    pub fn store(&self) -> &'static str {
        self.store
    }
}

/// The store, its error, and each error beneath it ("postgres: error connecting to server: Connection refused").
impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.store, self.source)?;
        let mut cause = self.source.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        if self.outcome_unknown {
            f.write_str(" (during the commit: the write may have landed)")?;
        }
        Ok(())
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// An error that is only a message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);
