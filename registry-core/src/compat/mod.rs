//! Compatibility: the seven levels, the per-format reader/writer check, and the report of violations.
//!
//! Every level reduces to one question, `can_read(reader, writer)`: BACKWARD asks whether the candidate reads
//! data written with earlier versions, FORWARD whether earlier versions read the candidate's data, FULL both;
//! a `_TRANSITIVE` level asks it of every live version, the others of the latest only.

mod avro;
mod protobuf;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::FormatSchema;
use crate::{ParsedSchema, SchemaType, Version};

/// How a subject's new versions must relate to its earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    /// No check.
    None,
    /// The new version reads data written with the latest version.
    #[default]
    Backward,
    /// The new version reads data written with every live version.
    BackwardTransitive,
    /// The latest version reads data written with the new version.
    Forward,
    /// Every live version reads data written with the new version.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every live version.
    FullTransitive,
}

impl CompatibilityLevel {
    /// Every level, in Confluent's order.
    pub const ALL: [CompatibilityLevel; 7] = [
        CompatibilityLevel::None,
        CompatibilityLevel::Backward,
        CompatibilityLevel::BackwardTransitive,
        CompatibilityLevel::Forward,
        CompatibilityLevel::ForwardTransitive,
        CompatibilityLevel::Full,
        CompatibilityLevel::FullTransitive,
    ];

    /// Confluent's spelling, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::None => "NONE",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::BackwardTransitive => "BACKWARD_TRANSITIVE",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::ForwardTransitive => "FORWARD_TRANSITIVE",
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether the new version must read older data.
    pub fn checks_backward(self) -> bool {
        use CompatibilityLevel::*;
        matches!(self, Backward | BackwardTransitive | Full | FullTransitive)
    }

    /// Whether older versions must read the new version's data.
    pub fn checks_forward(self) -> bool {
        use CompatibilityLevel::*;
        matches!(self, Forward | ForwardTransitive | Full | FullTransitive)
    }

    /// Whether every live version is checked, not only the latest.
    pub fn is_transitive(self) -> bool {
        use CompatibilityLevel::*;
        matches!(self, BackwardTransitive | ForwardTransitive | FullTransitive)
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compatibility level name that is not one of the seven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid compatibility level '{0}': use NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE"
)]
pub struct InvalidLevel(pub String);

impl std::str::FromStr for CompatibilityLevel {
    type Err = InvalidLevel;

    /// Accepts Confluent's spelling in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CompatibilityLevel::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| InvalidLevel(s.to_string()))
    }
}

/// The kind of an incompatibility. Variants match the difference types of the reference registry, so its
/// verbose messages map one to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ViolationKind {
    /// The two schemas are of different formats.
    SchemaTypeChanged,
    /// Avro: a named type's name differs and no alias bridges it.
    NameMismatch,
    /// Avro: a fixed type's size differs.
    FixedSizeMismatch,
    /// Avro: the writer has enum symbols the reader lacks, and the reader has no enum default.
    MissingEnumSymbols,
    /// Avro: the reader has a field the writer lacks, with no default.
    ReaderFieldMissingDefaultValue,
    /// Avro: the writer's type cannot be read as the reader's type.
    TypeMismatch,
    /// Avro: a union lacks a branch for what the other side can write.
    MissingUnionBranch,
    /// Protobuf: the file's package changed.
    PackageChanged,
    /// Protobuf: a message type the writer declares is missing from the reader.
    MessageRemoved,
    /// Protobuf: a field changed between scalar (or enum), message and map.
    FieldKindChanged,
    /// Protobuf: a scalar field's type moved outside its wire-compatible group.
    FieldScalarKindChanged,
    /// Protobuf: a message field's type is another message, or an imported one changed incompatibly.
    FieldNamedTypeChanged,
    /// Protobuf: a numeric field's label (optional, required, repeated) changed.
    FieldNumericLabelChanged,
    /// Protobuf: the reader has a required field the writer lacks.
    RequiredFieldAdded,
    /// Protobuf: the writer's required field is missing from the reader.
    RequiredFieldRemoved,
    /// Protobuf: a field left a oneof whose other fields remain.
    OneofFieldRemoved,
    /// Protobuf: several independent fields moved into one oneof.
    MultipleFieldsMovedToOneof,
    /// Protobuf: a field joined a oneof holding fields it was independent of.
    FieldMovedToExistingOneof,
}

impl ViolationKind {
    /// The name in the reference registry's spelling, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationKind::SchemaTypeChanged => "SCHEMA_TYPE_CHANGED",
            ViolationKind::NameMismatch => "NAME_MISMATCH",
            ViolationKind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            ViolationKind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            ViolationKind::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            ViolationKind::TypeMismatch => "TYPE_MISMATCH",
            ViolationKind::MissingUnionBranch => "MISSING_UNION_BRANCH",
            ViolationKind::PackageChanged => "PACKAGE_CHANGED",
            ViolationKind::MessageRemoved => "MESSAGE_REMOVED",
            ViolationKind::FieldKindChanged => "FIELD_KIND_CHANGED",
            ViolationKind::FieldScalarKindChanged => "FIELD_SCALAR_KIND_CHANGED",
            ViolationKind::FieldNamedTypeChanged => "FIELD_NAMED_TYPE_CHANGED",
            ViolationKind::FieldNumericLabelChanged => "FIELD_NUMERIC_LABEL_CHANGED",
            ViolationKind::RequiredFieldAdded => "REQUIRED_FIELD_ADDED",
            ViolationKind::RequiredFieldRemoved => "REQUIRED_FIELD_REMOVED",
            ViolationKind::OneofFieldRemoved => "ONEOF_FIELD_REMOVED",
            ViolationKind::MultipleFieldsMovedToOneof => "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
            ViolationKind::FieldMovedToExistingOneof => "FIELD_MOVED_TO_EXISTING_ONEOF",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a reader cannot read a writer's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// What kind of change.
    pub kind: ViolationKind,
    /// Where: a JSON pointer into the reader schema (Avro, JSON Schema) or `package.Message.field` (Protobuf).
    pub path: String,
    /// A sentence a person understands.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.kind, if self.path.is_empty() { "/" } else { &self.path }, self.message)
    }
}

/// Which way a violation was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The candidate, as reader, cannot read an earlier version's data.
    Backward,
    /// An earlier version, as reader, cannot read the candidate's data.
    Forward,
}

/// A violation against one earlier version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedViolation {
    /// The earlier version it is against.
    pub version: Version,
    /// Which way.
    pub direction: Direction,
    /// What and where.
    pub violation: Violation,
}

impl fmt::Display for VersionedViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let against = match self.direction {
            Direction::Backward => "the new schema cannot read data written with version",
            Direction::Forward => "data written with the new schema cannot be read by version",
        };
        write!(f, "{against} {}: {}", self.version, self.violation)
    }
}

/// The outcome of checking a candidate against earlier versions at a level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatReport {
    /// The level checked.
    pub level: CompatibilityLevel,
    /// Every violation found; empty means compatible.
    pub violations: Vec<VersionedViolation>,
}

impl CompatReport {
    /// No violation.
    pub fn is_compatible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// A compatibility question this engine cannot answer yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompatError {
    /// Rules for this format are not implemented; nothing was checked.
    #[error(
        "compatibility checking for {0} schemas is not supported yet; set the subject's level to NONE to register without a check"
    )]
    Unsupported(SchemaType),
}

/// The violations that stop `reader` from reading data written with `writer`; empty when it can.
pub fn can_read(reader: &ParsedSchema, writer: &ParsedSchema) -> Result<Vec<Violation>, CompatError> {
    match (reader.kind(), writer.kind()) {
        (FormatSchema::Avro(r), FormatSchema::Avro(w)) => Ok(avro::can_read(r, w)),
        (FormatSchema::Json(_), FormatSchema::Json(_)) => Err(CompatError::Unsupported(SchemaType::Json)),
        (FormatSchema::Protobuf(r), FormatSchema::Protobuf(w)) => Ok(protobuf::can_read(r, w)),
        _ => Ok(vec![Violation {
            kind: ViolationKind::SchemaTypeChanged,
            path: String::new(),
            message: format!("the schema type changed from {} to {}", writer.schema_type(), reader.schema_type()),
        }]),
    }
}

/// Checks `candidate` at `level` against earlier versions, given newest first.
///
/// Non-transitive levels look at the first (newest) entry only. NONE checks nothing.
pub fn check(
    level: CompatibilityLevel,
    candidate: &ParsedSchema,
    previous_newest_first: &[(Version, &ParsedSchema)],
) -> Result<CompatReport, CompatError> {
    let against = match level {
        CompatibilityLevel::None => &[][..],
        level if level.is_transitive() => previous_newest_first,
        _ => &previous_newest_first[..previous_newest_first.len().min(1)],
    };
    let mut violations = Vec::new();
    for (version, previous) in against {
        if level.checks_backward() {
            violations.extend(can_read(candidate, previous)?.into_iter().map(|violation| VersionedViolation {
                version: *version,
                direction: Direction::Backward,
                violation,
            }));
        }
        if level.checks_forward() {
            violations.extend(can_read(previous, candidate)?.into_iter().map(|violation| VersionedViolation {
                version: *version,
                direction: Direction::Forward,
                violation,
            }));
        }
    }
    Ok(CompatReport { level, violations })
}
