//! Compatibility: the seven levels, the per-format reader/writer check, and the report of violations.
//!
//! Every level reduces to one question, `can_read(reader, writer)`: BACKWARD asks whether the candidate reads
//! data written with earlier versions, FORWARD whether earlier versions read the candidate's data, FULL both;
//! a `_TRANSITIVE` level asks it of every live version, the others of the latest only.

mod avro;
mod json;
mod protobuf;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::DataContract;

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
    /// JSON Schema: a schema appeared where the writer had none (e.g. an `items` schema).
    SchemaAdded,
    /// JSON Schema: the type narrowed (number to integer).
    TypeNarrowed,
    /// JSON Schema: the type changed to one that does not accept the writer's.
    TypeChanged,
    /// JSON Schema: `maxLength` was added.
    MaxLengthAdded,
    /// JSON Schema: `maxLength` decreased.
    MaxLengthDecreased,
    /// JSON Schema: `minLength` was added.
    MinLengthAdded,
    /// JSON Schema: `minLength` increased.
    MinLengthIncreased,
    /// JSON Schema: `pattern` was added.
    PatternAdded,
    /// JSON Schema: `pattern` changed.
    PatternChanged,
    /// JSON Schema: `maximum` was added.
    MaximumAdded,
    /// JSON Schema: `maximum` decreased.
    MaximumDecreased,
    /// JSON Schema: `minimum` was added.
    MinimumAdded,
    /// JSON Schema: `minimum` increased.
    MinimumIncreased,
    /// JSON Schema: `exclusiveMaximum` was added.
    ExclusiveMaximumAdded,
    /// JSON Schema: `exclusiveMaximum` decreased.
    ExclusiveMaximumDecreased,
    /// JSON Schema: `exclusiveMinimum` was added.
    ExclusiveMinimumAdded,
    /// JSON Schema: `exclusiveMinimum` increased.
    ExclusiveMinimumIncreased,
    /// JSON Schema: `multipleOf` was added.
    MultipleOfAdded,
    /// JSON Schema: `multipleOf` became a multiple of the writer's.
    MultipleOfExpanded,
    /// JSON Schema: `multipleOf` changed to an unrelated value.
    MultipleOfChanged,
    /// JSON Schema: an existing property became required, without a default.
    RequiredAttributeAdded,
    /// JSON Schema: `maxProperties` was added.
    MaxPropertiesAdded,
    /// JSON Schema: `maxProperties` decreased.
    MaxPropertiesDecreased,
    /// JSON Schema: `minProperties` was added.
    MinPropertiesAdded,
    /// JSON Schema: `minProperties` increased.
    MinPropertiesIncreased,
    /// JSON Schema: additional properties were allowed and no longer are.
    AdditionalPropertiesRemoved,
    /// JSON Schema: free additional properties became constrained by a schema.
    AdditionalPropertiesNarrowed,
    /// JSON Schema: a property dependency (`dependencies`/`dependentRequired`) was added.
    DependencyArrayAdded,
    /// JSON Schema: a property dependency requires more properties.
    DependencyArrayExtended,
    /// JSON Schema: a property dependency requires different properties.
    DependencyArrayChanged,
    /// JSON Schema: a schema dependency (`dependencies`/`dependentSchemas`) was added.
    DependencySchemaAdded,
    /// JSON Schema: a required property was added to an open content model.
    RequiredPropertyAddedToOpenContentModel,
    /// JSON Schema: a required property with a default was added to an open content model.
    RequiredPropertyWithDefaultAddedToOpenContentModel,
    /// JSON Schema: an optional property was added to an open content model, where the writer's data may carry it with any value.
    OptionalPropertyAddedToOpenContentModel,
    /// JSON Schema: a required property without a default was added to a closed or partially open content model.
    RequiredPropertyAddedToUnopenContentModel,
    /// JSON Schema: a property the writer allowed was removed from a closed content model.
    PropertyRemovedFromClosedContentModel,
    /// JSON Schema: a removed property is not accepted by the reader's `patternProperties`/`additionalProperties`.
    PropertyRemovedNotCoveredByPartiallyOpenContentModel,
    /// JSON Schema: an added property rejects values the writer's `patternProperties`/`additionalProperties` accepted.
    PropertyAddedNotCoveredByPartiallyOpenContentModel,
    /// JSON Schema: `unevaluatedProperties: false` was added.
    UnevaluatedPropertiesRemoved,
    /// JSON Schema: `unevaluatedProperties` became constrained by a schema.
    UnevaluatedPropertiesNarrowed,
    /// JSON Schema: `maxItems` was added.
    MaxItemsAdded,
    /// JSON Schema: `maxItems` decreased.
    MaxItemsDecreased,
    /// JSON Schema: `minItems` was added.
    MinItemsAdded,
    /// JSON Schema: `minItems` increased.
    MinItemsIncreased,
    /// JSON Schema: `maxContains` was added.
    MaxContainsAdded,
    /// JSON Schema: `maxContains` decreased.
    MaxContainsDecreased,
    /// JSON Schema: `minContains` was added.
    MinContainsAdded,
    /// JSON Schema: `minContains` increased.
    MinContainsIncreased,
    /// JSON Schema: `uniqueItems` was added.
    UniqueItemsAdded,
    /// JSON Schema: additional items were allowed and no longer are.
    AdditionalItemsRemoved,
    /// JSON Schema: free additional items became constrained by a schema.
    AdditionalItemsNarrowed,
    /// JSON Schema: `unevaluatedItems: false` was added.
    UnevaluatedItemsRemoved,
    /// JSON Schema: `unevaluatedItems` became constrained by a schema.
    UnevaluatedItemsNarrowed,
    /// JSON Schema: a tuple item was added to an open content model.
    ItemAddedToOpenContentModel,
    /// JSON Schema: a tuple item the writer allowed was removed from a closed content model.
    ItemRemovedFromClosedContentModel,
    /// JSON Schema: a removed tuple item is not accepted by the reader's additional items schema.
    ItemRemovedNotCoveredByPartiallyOpenContentModel,
    /// JSON Schema: an added tuple item rejects values the writer's additional items schema accepted.
    ItemAddedNotCoveredByPartiallyOpenContentModel,
    /// JSON Schema: `enum` lost values.
    EnumArrayNarrowed,
    /// JSON Schema: `enum`/`const` changed to values that do not include the writer's.
    EnumArrayChanged,
    /// JSON Schema: `allOf`/`anyOf`/`oneOf` changed criterion in a way that rejects data.
    CombinedTypeChanged,
    /// JSON Schema: `allOf` gained subschemas.
    ProductTypeExtended,
    /// JSON Schema: `anyOf`/`oneOf` lost subschemas.
    SumTypeNarrowed,
    /// JSON Schema: a subschema of `allOf`/`anyOf`/`oneOf` has no compatible counterpart.
    CombinedTypeSubschemasChanged,
    /// JSON Schema: the `not` schema now excludes more.
    NotTypeExtended,
    /// Any format (with `validateFields`): a field the newest version reserved is no longer reserved.
    ReservedFieldRemoved,
    /// Any format (with `validateFields`): the schema declares a top-level field its metadata reserves.
    FieldConflictsWithReservedField,
}

impl ViolationKind {
    /// Every JSON Schema kind: the reference registry's difference types that make a change incompatible.
    pub const JSON: [ViolationKind; 64] = [
        ViolationKind::SchemaAdded,
        ViolationKind::TypeNarrowed,
        ViolationKind::TypeChanged,
        ViolationKind::MaxLengthAdded,
        ViolationKind::MaxLengthDecreased,
        ViolationKind::MinLengthAdded,
        ViolationKind::MinLengthIncreased,
        ViolationKind::PatternAdded,
        ViolationKind::PatternChanged,
        ViolationKind::MaximumAdded,
        ViolationKind::MaximumDecreased,
        ViolationKind::MinimumAdded,
        ViolationKind::MinimumIncreased,
        ViolationKind::ExclusiveMaximumAdded,
        ViolationKind::ExclusiveMaximumDecreased,
        ViolationKind::ExclusiveMinimumAdded,
        ViolationKind::ExclusiveMinimumIncreased,
        ViolationKind::MultipleOfAdded,
        ViolationKind::MultipleOfExpanded,
        ViolationKind::MultipleOfChanged,
        ViolationKind::RequiredAttributeAdded,
        ViolationKind::MaxPropertiesAdded,
        ViolationKind::MaxPropertiesDecreased,
        ViolationKind::MinPropertiesAdded,
        ViolationKind::MinPropertiesIncreased,
        ViolationKind::AdditionalPropertiesRemoved,
        ViolationKind::AdditionalPropertiesNarrowed,
        ViolationKind::DependencyArrayAdded,
        ViolationKind::DependencyArrayExtended,
        ViolationKind::DependencyArrayChanged,
        ViolationKind::DependencySchemaAdded,
        ViolationKind::RequiredPropertyAddedToOpenContentModel,
        ViolationKind::RequiredPropertyWithDefaultAddedToOpenContentModel,
        ViolationKind::OptionalPropertyAddedToOpenContentModel,
        ViolationKind::RequiredPropertyAddedToUnopenContentModel,
        ViolationKind::PropertyRemovedFromClosedContentModel,
        ViolationKind::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
        ViolationKind::PropertyAddedNotCoveredByPartiallyOpenContentModel,
        ViolationKind::UnevaluatedPropertiesRemoved,
        ViolationKind::UnevaluatedPropertiesNarrowed,
        ViolationKind::MaxItemsAdded,
        ViolationKind::MaxItemsDecreased,
        ViolationKind::MinItemsAdded,
        ViolationKind::MinItemsIncreased,
        ViolationKind::MaxContainsAdded,
        ViolationKind::MaxContainsDecreased,
        ViolationKind::MinContainsAdded,
        ViolationKind::MinContainsIncreased,
        ViolationKind::UniqueItemsAdded,
        ViolationKind::AdditionalItemsRemoved,
        ViolationKind::AdditionalItemsNarrowed,
        ViolationKind::UnevaluatedItemsRemoved,
        ViolationKind::UnevaluatedItemsNarrowed,
        ViolationKind::ItemAddedToOpenContentModel,
        ViolationKind::ItemRemovedFromClosedContentModel,
        ViolationKind::ItemRemovedNotCoveredByPartiallyOpenContentModel,
        ViolationKind::ItemAddedNotCoveredByPartiallyOpenContentModel,
        ViolationKind::EnumArrayNarrowed,
        ViolationKind::EnumArrayChanged,
        ViolationKind::CombinedTypeChanged,
        ViolationKind::ProductTypeExtended,
        ViolationKind::SumTypeNarrowed,
        ViolationKind::CombinedTypeSubschemasChanged,
        ViolationKind::NotTypeExtended,
    ];

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
            ViolationKind::SchemaAdded => "SCHEMA_ADDED",
            ViolationKind::TypeNarrowed => "TYPE_NARROWED",
            ViolationKind::TypeChanged => "TYPE_CHANGED",
            ViolationKind::MaxLengthAdded => "MAX_LENGTH_ADDED",
            ViolationKind::MaxLengthDecreased => "MAX_LENGTH_DECREASED",
            ViolationKind::MinLengthAdded => "MIN_LENGTH_ADDED",
            ViolationKind::MinLengthIncreased => "MIN_LENGTH_INCREASED",
            ViolationKind::PatternAdded => "PATTERN_ADDED",
            ViolationKind::PatternChanged => "PATTERN_CHANGED",
            ViolationKind::MaximumAdded => "MAXIMUM_ADDED",
            ViolationKind::MaximumDecreased => "MAXIMUM_DECREASED",
            ViolationKind::MinimumAdded => "MINIMUM_ADDED",
            ViolationKind::MinimumIncreased => "MINIMUM_INCREASED",
            ViolationKind::ExclusiveMaximumAdded => "EXCLUSIVE_MAXIMUM_ADDED",
            ViolationKind::ExclusiveMaximumDecreased => "EXCLUSIVE_MAXIMUM_DECREASED",
            ViolationKind::ExclusiveMinimumAdded => "EXCLUSIVE_MINIMUM_ADDED",
            ViolationKind::ExclusiveMinimumIncreased => "EXCLUSIVE_MINIMUM_INCREASED",
            ViolationKind::MultipleOfAdded => "MULTIPLE_OF_ADDED",
            ViolationKind::MultipleOfExpanded => "MULTIPLE_OF_EXPANDED",
            ViolationKind::MultipleOfChanged => "MULTIPLE_OF_CHANGED",
            ViolationKind::RequiredAttributeAdded => "REQUIRED_ATTRIBUTE_ADDED",
            ViolationKind::MaxPropertiesAdded => "MAX_PROPERTIES_ADDED",
            ViolationKind::MaxPropertiesDecreased => "MAX_PROPERTIES_DECREASED",
            ViolationKind::MinPropertiesAdded => "MIN_PROPERTIES_ADDED",
            ViolationKind::MinPropertiesIncreased => "MIN_PROPERTIES_INCREASED",
            ViolationKind::AdditionalPropertiesRemoved => "ADDITIONAL_PROPERTIES_REMOVED",
            ViolationKind::AdditionalPropertiesNarrowed => "ADDITIONAL_PROPERTIES_NARROWED",
            ViolationKind::DependencyArrayAdded => "DEPENDENCY_ARRAY_ADDED",
            ViolationKind::DependencyArrayExtended => "DEPENDENCY_ARRAY_EXTENDED",
            ViolationKind::DependencyArrayChanged => "DEPENDENCY_ARRAY_CHANGED",
            ViolationKind::DependencySchemaAdded => "DEPENDENCY_SCHEMA_ADDED",
            ViolationKind::RequiredPropertyAddedToOpenContentModel => "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            ViolationKind::RequiredPropertyWithDefaultAddedToOpenContentModel => {
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            ViolationKind::OptionalPropertyAddedToOpenContentModel => "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            ViolationKind::RequiredPropertyAddedToUnopenContentModel => {
                "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            ViolationKind::PropertyRemovedFromClosedContentModel => "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            ViolationKind::PropertyRemovedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            ViolationKind::PropertyAddedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            ViolationKind::UnevaluatedPropertiesRemoved => "UNEVALUATED_PROPERTIES_REMOVED",
            ViolationKind::UnevaluatedPropertiesNarrowed => "UNEVALUATED_PROPERTIES_NARROWED",
            ViolationKind::MaxItemsAdded => "MAX_ITEMS_ADDED",
            ViolationKind::MaxItemsDecreased => "MAX_ITEMS_DECREASED",
            ViolationKind::MinItemsAdded => "MIN_ITEMS_ADDED",
            ViolationKind::MinItemsIncreased => "MIN_ITEMS_INCREASED",
            ViolationKind::MaxContainsAdded => "MAX_CONTAINS_ADDED",
            ViolationKind::MaxContainsDecreased => "MAX_CONTAINS_DECREASED",
            ViolationKind::MinContainsAdded => "MIN_CONTAINS_ADDED",
            ViolationKind::MinContainsIncreased => "MIN_CONTAINS_INCREASED",
            ViolationKind::UniqueItemsAdded => "UNIQUE_ITEMS_ADDED",
            ViolationKind::AdditionalItemsRemoved => "ADDITIONAL_ITEMS_REMOVED",
            ViolationKind::AdditionalItemsNarrowed => "ADDITIONAL_ITEMS_NARROWED",
            ViolationKind::UnevaluatedItemsRemoved => "UNEVALUATED_ITEMS_REMOVED",
            ViolationKind::UnevaluatedItemsNarrowed => "UNEVALUATED_ITEMS_NARROWED",
            ViolationKind::ItemAddedToOpenContentModel => "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
            ViolationKind::ItemRemovedFromClosedContentModel => "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            ViolationKind::ItemRemovedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            ViolationKind::ItemAddedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            ViolationKind::EnumArrayNarrowed => "ENUM_ARRAY_NARROWED",
            ViolationKind::EnumArrayChanged => "ENUM_ARRAY_CHANGED",
            ViolationKind::CombinedTypeChanged => "COMBINED_TYPE_CHANGED",
            ViolationKind::ProductTypeExtended => "PRODUCT_TYPE_EXTENDED",
            ViolationKind::SumTypeNarrowed => "SUM_TYPE_NARROWED",
            ViolationKind::CombinedTypeSubschemasChanged => "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
            ViolationKind::NotTypeExtended => "NOT_TYPE_EXTENDED",
            ViolationKind::ReservedFieldRemoved => "RESERVED_FIELD_REMOVED",
            ViolationKind::FieldConflictsWithReservedField => "FIELD_CONFLICTS_WITH_RESERVED_FIELD",
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
    /// Every violation found against an earlier version.
    pub violations: Vec<VersionedViolation>,
    /// What the candidate does against the fields its metadata or the newest version's reserves
    /// ([`reserved_field_violations`]); checked only when the subject's `validateFields` is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<Violation>,
    /// Whether the subject's `validateFields` was on (Confluent names it in its last message).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_fields: bool,
}

impl CompatReport {
    /// No violation of either kind.
    pub fn is_compatible(&self) -> bool {
        self.violations.is_empty() && self.reserved.is_empty()
    }

    /// Every violation as a sentence: the reserved fields' first (Confluent's order), then those against earlier
    /// versions.
    pub fn messages(&self) -> Vec<String> {
        let reserved = self.reserved.iter().map(ToString::to_string);
        reserved.chain(self.violations.iter().map(ToString::to_string)).collect()
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
    can_read_under(CompatibilityPolicy::Strict, reader, writer)
}

/// [`can_read`] under a policy: the changes it tolerates are not violations.
pub fn can_read_under(
    policy: CompatibilityPolicy,
    reader: &ParsedSchema,
    writer: &ParsedSchema,
) -> Result<Vec<Violation>, CompatError> {
    match (reader.kind(), writer.kind()) {
        (FormatSchema::Avro(r), FormatSchema::Avro(w)) => Ok(avro::can_read(r, w)),
        (FormatSchema::Json(r), FormatSchema::Json(w)) => Ok(json::can_read(r, w, policy.tolerated_json())),
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
    check_under(level, CompatibilityPolicy::Strict, candidate, previous_newest_first)
}

/// [`check`] under a policy (a subject's `compatibilityPolicy`).
pub fn check_under(
    level: CompatibilityLevel,
    policy: CompatibilityPolicy,
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
            violations.extend(
                can_read_under(policy, candidate, previous)?.into_iter().map(|violation| VersionedViolation {
                    version: *version,
                    direction: Direction::Backward,
                    violation,
                }),
            );
        }
        if level.checks_forward() {
            violations.extend(
                can_read_under(policy, previous, candidate)?.into_iter().map(|violation| VersionedViolation {
                    version: *version,
                    direction: Direction::Forward,
                    violation,
                }),
            );
        }
    }
    Ok(CompatReport { level, violations, reserved: Vec::new(), validate_fields: false })
}

/// The metadata property naming a schema's reserved fields, comma-separated: fields it must not declare at its top
/// level, and that later versions must keep reserved (honoured when a subject's `validateFields` is on).
pub const RESERVED_FIELDS: &str = "confluent:reserved";

/// The fields `contract` reserves: its `confluent:reserved` property split at commas, trimmed, empty names dropped.
pub fn reserved_fields(contract: &DataContract) -> BTreeSet<String> {
    let listed = contract.metadata.as_ref().and_then(|m| m.properties.get(RESERVED_FIELDS));
    listed
        .map(|list| list.split(',').map(str::trim).filter(|f| !f.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

/// What `candidate` does against its reserved fields, as Confluent's `validateFields` checks them (in its words): a
/// field the newest live version (`newest`, its contract) reserved that the candidate no longer reserves, and a
/// reserved field the candidate declares at its top level.
pub fn reserved_field_violations(candidate: &ParsedSchema, newest: Option<&DataContract>) -> Vec<Violation> {
    let reserved = reserved_fields(candidate.contract());
    let mut found = Vec::new();
    if let Some(newest) = newest {
        for field in reserved_fields(newest).difference(&reserved) {
            found.push(Violation {
                kind: ViolationKind::ReservedFieldRemoved,
                path: String::new(),
                message: format!(
                    "The new schema has reserved field {field} removed from its metadata which is present in the \
                     old schema's metadata."
                ),
            });
        }
    }
    for field in reserved.iter().filter(|f| candidate.has_top_level_field(f)) {
        found.push(Violation {
            kind: ViolationKind::FieldConflictsWithReservedField,
            path: String::new(),
            message: format!("The new schema has field that conflicts with the reserved field {field}."),
        });
    }
    found
}

/// How strictly changes are judged, as a subject's `compatibilityPolicy` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CompatibilityPolicy {
    /// Every change that makes the reader reject the writer's data counts.
    #[default]
    Strict,
    /// JSON Schema: changes to what an object accepts beyond its declared properties (additional and unevaluated
    /// properties narrowed or closed, properties added to or removed from an open, closed or partially open
    /// content model) are tolerated, as Confluent's lenient policy tolerates them. Other formats: strict.
    Lenient,
    /// Strict. (Confluent also checks the logical types of Flink and Iceberg under this policy; this registry does
    /// not know them, so it judges as strictly as `Strict` does.)
    Logical,
}

impl CompatibilityPolicy {
    /// The policy named `name` (any case); `None` for a name Confluent does not know, which it treats as unset.
    pub fn named(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "STRICT" => Some(CompatibilityPolicy::Strict),
            "LENIENT" => Some(CompatibilityPolicy::Lenient),
            "LOGICAL" => Some(CompatibilityPolicy::Logical),
            _ => None,
        }
    }

    /// The JSON Schema kinds this policy does not count.
    fn tolerated_json(self) -> &'static [ViolationKind] {
        match self {
            CompatibilityPolicy::Lenient => &LENIENT_JSON,
            CompatibilityPolicy::Strict | CompatibilityPolicy::Logical => &[],
        }
    }
}

/// The JSON Schema changes Confluent's lenient policy adds to the strict policy's compatible ones.
const LENIENT_JSON: [ViolationKind; 9] = [
    ViolationKind::AdditionalPropertiesNarrowed,
    ViolationKind::AdditionalPropertiesRemoved,
    ViolationKind::UnevaluatedPropertiesNarrowed,
    ViolationKind::UnevaluatedPropertiesRemoved,
    ViolationKind::RequiredPropertyWithDefaultAddedToOpenContentModel,
    ViolationKind::OptionalPropertyAddedToOpenContentModel,
    ViolationKind::PropertyRemovedFromClosedContentModel,
    ViolationKind::PropertyAddedNotCoveredByPartiallyOpenContentModel,
    ViolationKind::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
];
