//! The typed errors of `registry-core`, each saying what was wrong in words a user can act on.

use crate::{ResolveError, SchemaType};

/// A subject name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The name is empty.
    #[error("subject name must not be empty")]
    Empty,
    /// The name is longer than allowed.
    #[error("subject name is {len} bytes long; the limit is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The name holds a control character.
    #[error("subject name contains a control character at character {position}")]
    ControlCharacter {
        /// Index (in characters) of the first control character.
        position: usize,
    },
    /// The name is one Confluent keeps for itself (`__GLOBAL`, `__EMPTY`): it can be read, not written to.
    #[error("subject name '{0}' is reserved")]
    Reserved(String),
}

/// A version number or selector that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// Not `latest`, `-1` or a number.
    #[error("'{0}' is not a version: use a number from 1 to 2147483647, 'latest' or -1")]
    NotANumber(String),
    /// A number outside 1..=2147483647.
    #[error("version {0} is out of range: use a number from 1 to 2147483647, 'latest' or -1")]
    OutOfRange(String),
}

/// A schema that cannot be accepted: unknown format, invalid text, bad references, or over a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The text is empty and there is no earlier version to take it from (Confluent's wording).
    #[error("Empty schema")]
    Empty,
    /// The format name is not one of AVRO, JSON, PROTOBUF.
    #[error("unknown schema type '{0}': use AVRO, JSON or PROTOBUF")]
    UnknownSchemaType(String),
    /// The data contract's rule set is not well formed (Confluent's 42210).
    #[error("{0}")]
    InvalidRuleSet(#[from] crate::contract::RuleError),
    /// The text is larger than `Limits::max_schema_bytes`.
    #[error("schema is {size} bytes; the limit is {max}")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The text nests deeper than `Limits::max_depth`.
    #[error("schema nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The text is not a valid schema of its format.
    #[error("invalid {format} schema: {message}")]
    Invalid {
        /// The format it was parsed as.
        format: SchemaType,
        /// What is wrong, with the line/column or path where the parser gives one.
        message: String,
    },
    /// A reference could not be found.
    #[error("reference '{name}' cannot be resolved: {source}")]
    ReferenceNotResolved {
        /// The reference's name.
        name: String,
        /// Why.
        source: ResolveError,
    },
    /// A reference is malformed or conflicts with another.
    #[error("invalid reference '{name}': {reason}")]
    InvalidReference {
        /// The reference's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// References form a cycle.
    #[error("references form a cycle: {chain}")]
    ReferenceCycle {
        /// The cycle, as `subject/version -> ...`.
        chain: String,
    },
    /// The chain of references is deeper than `Limits::max_reference_depth`.
    #[error("references nest deeper than {max} levels")]
    ReferencesTooDeep {
        /// The limit.
        max: usize,
    },
    /// More schemas are referenced (transitively) than `Limits::max_references`.
    #[error("schema pulls in more than {max} referenced schemas")]
    TooManyReferences {
        /// The limit.
        max: usize,
    },
}

impl SchemaError {
    pub(crate) fn invalid(format: SchemaType, message: impl Into<String>) -> Self {
        SchemaError::Invalid { format, message: message.into() }
    }
}
