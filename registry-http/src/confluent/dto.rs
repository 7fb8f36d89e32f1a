//! The Confluent API's request and response bodies.

use std::borrow::Cow;

use registry_core::{SchemaReference, SchemaType, Subject, UnparsedSchema, Version};
use serde::{Deserialize, Serialize};

use crate::ApiError;

/// A reference as Confluent writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReferenceDto {
    pub name: String,
    pub subject: String,
    pub version: i64,
}

impl ReferenceDto {
    pub fn from_reference(r: &SchemaReference) -> Self {
        Self { name: r.name.clone(), subject: r.subject.to_string(), version: i64::from(r.version.get()) }
    }

    pub fn to_reference(&self) -> Result<SchemaReference, ApiError> {
        let version = u32::try_from(self.version).ok().and_then(|v| Version::new(v).ok()).ok_or_else(|| {
            ApiError::unprocessable(format!("reference '{}' has an invalid version {}", self.name, self.version))
        })?;
        Ok(SchemaReference { name: self.name.clone(), subject: Subject::new(&self.subject)?, version })
    }
}

/// The body of register, lookup and compatibility requests.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaRequest {
    pub schema: Option<String>,
    pub schema_type: Option<String>,
    pub references: Option<Vec<ReferenceDto>>,
    pub id: Option<i64>,
    pub version: Option<i64>,
}

impl SchemaRequest {
    pub fn to_unparsed(&self) -> Result<UnparsedSchema, ApiError> {
        let text = match self.schema.as_deref() {
            Some(text) if !text.trim().is_empty() => text.to_string(),
            _ => {
                return Err(crate::error::ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    42201,
                    "Empty schema",
                ));
            }
        };
        let schema_type = match self.schema_type.as_deref() {
            None | Some("") => SchemaType::Avro,
            Some(name) => name.parse()?,
        };
        let references =
            self.references.iter().flatten().map(ReferenceDto::to_reference).collect::<Result<Vec<_>, _>>()?;
        Ok(UnparsedSchema { schema_type, text, references, contract: Default::default() })
    }
}

/// A schema object: `{"subject","version","id","schemaType"?,"schema","references"?}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaObject<'a> {
    pub subject: &'a str,
    pub version: u32,
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<&'static str>,
    pub schema: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ReferenceDto>,
}

/// `GET /schemas/ids/{id}`: `{"schema","schemaType"?,"references"?}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaById<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<&'static str>,
    pub schema: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ReferenceDto>,
}

/// `schemaType` is omitted for AVRO.
pub(crate) fn schema_type_field(schema_type: SchemaType) -> Option<&'static str> {
    (schema_type != SchemaType::Avro).then_some(schema_type.as_str())
}

/// `PUT /config` bodies.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigRequest {
    pub compatibility: Option<String>,
    #[serde(rename = "compatibilityLevel")]
    pub compatibility_level: Option<String>,
}

/// `PUT /mode` bodies.
#[derive(Debug, Deserialize)]
pub(crate) struct ModeRequest {
    pub mode: String,
}

/// Query flags shared by many routes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Flags {
    pub deleted: Option<String>,
    pub deleted_only: Option<String>,
    pub deleted_as_negative: Option<String>,
    pub permanent: Option<String>,
    pub normalize: Option<String>,
    pub verbose: Option<String>,
    pub default_to_global: Option<String>,
    pub force: Option<String>,
    pub subject_prefix: Option<String>,
    pub latest_only: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub format: Option<String>,
    pub subject: Option<String>,
}
