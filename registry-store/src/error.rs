//! `RegistryError`: every way a registry operation can fail, with Confluent's wording where it has one.

use registry_core::compat::{CompatError, CompatReport};
use registry_core::{SchemaError, SchemaId, Subject, ValidateError, Version};

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
    /// No schema has this id.
    #[error("Schema {0} not found")]
    SchemaNotFound(SchemaId),
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
    /// The operation is refused in the current mode or state.
    #[error("{0}")]
    OperationNotPermitted(String),
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
    Storage(String),
    /// A record on disk cannot be read.
    #[error("Corrupt data in the store: {0}")]
    Corrupt(String),
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
    let parts: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join("; "))
}

fn list_ids(ids: &[SchemaId]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

macro_rules! storage_error {
    ($($t:ty),*) => {$(
        impl From<$t> for RegistryError {
            fn from(e: $t) -> Self {
                RegistryError::Storage(e.to_string())
            }
        }
    )*};
}

storage_error!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError
);
