//! The records the registry hands out: immutable, shared behind `Arc` on hot paths.

use std::fmt;
use std::sync::Arc;

use registry_core::{Fingerprint, SchemaId, SchemaReference, SchemaType, Subject, UnparsedSchema, Version};
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
}

impl StoredSchema {
    /// The schema as an `UnparsedSchema`, to parse or register again.
    pub fn to_unparsed(&self) -> UnparsedSchema {
        UnparsedSchema { schema_type: self.schema_type, text: self.text.clone(), references: self.references.clone() }
    }
}

/// The outcome of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The global id of the schema.
    pub id: SchemaId,
    /// The subject's version that holds it.
    pub version: Version,
    /// True when the subject already had this schema and nothing was written.
    pub deduplicated: bool,
}

/// A subject and one of its versions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: Subject,
    /// The version.
    pub version: Version,
}

/// One version of a subject with its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The subject.
    pub subject: Subject,
    /// The version number.
    pub version: Version,
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
