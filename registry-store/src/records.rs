//! The records the registry hands out: immutable, shared behind `Arc` on hot paths.

use std::fmt;
use std::sync::Arc;

use registry_core::contract::DataContract;
use registry_core::{Fingerprint, SchemaGuid, SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version};
use serde::{Deserialize, Serialize};

/// A registered schema, by its global id. Immutable: an id never changes meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSchema {
    /// The global id.
    pub id: SchemaId,
    /// The format.
    pub schema_type: SchemaType,
    /// The text as first registered.
    pub text: String,
    /// The schemas it references.
    pub references: Vec<SchemaReference>,
    /// Its identity.
    pub fingerprint: Fingerprint,
    /// Its metadata and rules, as registered.
    #[serde(default)]
    pub contract: DataContract,
}

impl StoredSchema {
    /// Its GUID, as Confluent derives it: of its text, references and contract.
    pub fn guid(&self) -> SchemaGuid {
        let contract = &self.contract;
        SchemaGuid::compute(&self.text, &self.references, contract.metadata.as_ref(), contract.rule_set.as_ref())
    }

    /// The schema as an `UnparsedSchema`, to parse or register again.
    pub fn to_unparsed(&self) -> UnparsedSchema {
        UnparsedSchema {
            schema_type: self.schema_type,
            text: self.text.clone(),
            references: self.references.clone(),
            contract: self.contract.clone(),
        }
    }
}

/// The outcome of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The global id of the schema.
    pub id: SchemaId,
    /// The subject's version that holds it.
    pub version: Version,
    /// Its semantic version within the subject.
    pub semver: SemVer,
    /// True when the subject already had this schema and nothing was written.
    pub deduplicated: bool,
    /// True when the schema registered is not the request as sent: it took its text, metadata or rule set from the
    /// subject's newest version. The same request can then be answered otherwise once the subject has a newer
    /// version, so the answer is not one to remember by the request alone.
    pub inherited: bool,
}

/// A subject and one of its versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: Subject,
    /// The version.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// One entry of a subject's version list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// The schema id it holds.
    pub id: SchemaId,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// A semantic version of a subject's schema: the first is 1.0.0; a compatible change bumps the minor, a
/// change that breaks backward compatibility (possible only under NONE) bumps the major.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SemVer {
    /// Breaking changes.
    pub major: u32,
    /// Compatible changes.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

impl SemVer {
    /// 1.0.0, every subject's first version.
    pub const FIRST: SemVer = SemVer { major: 1, minor: 0, patch: 0 };

    /// The next minor version: x.(y+1).0.
    pub fn bump_minor(self) -> SemVer {
        SemVer { major: self.major, minor: self.minor.saturating_add(1), patch: 0 }
    }

    /// The next major version: (x+1).0.0.
    pub fn bump_major(self) -> SemVer {
        SemVer { major: self.major.saturating_add(1), minor: 0, patch: 0 }
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A semantic version that is not `MAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semantic version '{0}': use MAJOR.MINOR.PATCH, e.g. 1.2.0")]
pub struct InvalidSemVer(pub String);

impl std::str::FromStr for SemVer {
    type Err = InvalidSemVer;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSemVer(s.to_string());
        let mut parts = s.split('.').map(|p| p.parse::<u32>().map_err(|_| invalid()));
        let (Some(major), Some(minor), Some(patch), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        Ok(SemVer { major: major?, minor: minor?, patch: patch? })
    }
}

/// One version of a subject with its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The subject.
    pub subject: Subject,
    /// The version number.
    pub version: Version,
    /// Its semantic version.
    pub semver: SemVer,
    /// Whether it is soft-deleted.
    pub deleted: bool,
    /// The schema.
    pub schema: Arc<StoredSchema>,
}

/// What writes a subject (or the whole registry) accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Registrations and deletes are accepted (the default).
    #[default]
    Readwrite,
    /// Nothing is written.
    Readonly,
    /// Registrations may carry their own id and version, and are not checked for compatibility.
    Import,
}

impl Mode {
    /// Confluent's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::Import => "IMPORT",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = InvalidMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Mode::Readwrite, Mode::Readonly, Mode::Import]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| InvalidMode(s.to_string()))
    }
}

/// A mode name that is not READWRITE, READONLY or IMPORT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mode '{0}': use READWRITE, READONLY or IMPORT")]
pub struct InvalidMode(pub String);
