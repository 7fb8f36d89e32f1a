//! The identities and the as-given form of a schema: `SchemaType`, `SchemaId`, `SchemaReference`,
//! `UnparsedSchema`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::DataContract;
use crate::{SchemaError, Subject, Version};

/// The format of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SchemaType {
    /// Apache Avro.
    #[serde(rename = "AVRO")]
    Avro,
    /// JSON Schema.
    #[serde(rename = "JSON")]
    Json,
    /// Protocol Buffers.
    #[serde(rename = "PROTOBUF")]
    Protobuf,
}

impl SchemaType {
    /// Every format, in the order Confluent lists them.
    pub const ALL: [SchemaType; 3] = [SchemaType::Json, SchemaType::Protobuf, SchemaType::Avro];

    /// The name in Confluent's spelling: `AVRO`, `JSON`, `PROTOBUF`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
            SchemaType::Protobuf => "PROTOBUF",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SchemaType {
    type Err = SchemaError;

    /// Accepts `AVRO`, `JSON`, `PROTOBUF` in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemaType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SchemaError::UnknownSchemaType(s.to_string()))
    }
}

/// A schema's global id: the same schema has the same id in every subject, and an id never changes meaning.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemaId(pub u32);

impl fmt::Display for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for SchemaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A schema's reference to another registered schema: imported as `name`, found at `subject`/`version`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    /// How the referring schema names it: an Avro full name, a JSON Schema `$ref` URI, a Protobuf import path.
    pub name: String,
    /// The subject the referenced schema is registered under.
    pub subject: Subject,
    /// Its version there.
    pub version: Version,
}

/// A schema as a caller gave it: format, text, references and data contract, not yet checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnparsedSchema {
    /// The format.
    pub schema_type: SchemaType,
    /// The text as given.
    pub text: String,
    /// The registered schemas it refers to.
    pub references: Vec<SchemaReference>,
    /// Its metadata and rules (part of its identity).
    #[serde(default)]
    pub contract: DataContract,
    /// Parse it normalized, as Confluent's `normalize=true` does: Avro properties and aliases sorted, JSON Schema
    /// keys sorted, Protobuf fields, enum values and imports in order, references sorted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub normalize: bool,
}

impl UnparsedSchema {
    /// A schema with no references.
    pub fn new(schema_type: SchemaType, text: impl Into<String>) -> Self {
        Self {
            schema_type,
            text: text.into(),
            references: Vec::new(),
            contract: DataContract::default(),
            normalize: false,
        }
    }

    /// The same schema, to be parsed normalized or not.
    pub fn normalized(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// The same schema with this data contract.
    pub fn with_contract(mut self, contract: DataContract) -> Self {
        self.contract = contract;
        self
    }

    /// The same schema with these references.
    pub fn with_references(mut self, references: Vec<SchemaReference>) -> Self {
        self.references = references;
        self
    }
}
