//! The Confluent API's request and response bodies.

use std::borrow::Cow;

use registry_core::contract::{DataContract, Metadata, RuleSet};
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
    #[serde(default, deserialize_with = "scalar_as_string")]
    pub schema: Option<String>,
    #[serde(default, deserialize_with = "scalar_as_string")]
    pub schema_type: Option<String>,
    pub references: Option<Vec<ReferenceDto>>,
    #[serde(default, deserialize_with = "number_or_numeric_string")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "number_or_numeric_string")]
    pub version: Option<i64>,
    /// Read as JSON first, so that a value of the wrong shape (an unknown rule kind) is Confluent's 400.
    pub metadata: Option<serde_json::Value>,
    pub rule_set: Option<serde_json::Value>,
}

impl SchemaRequest {
    /// The schema it carries; an empty text is refused (`Empty schema`).
    pub fn to_unparsed(&self) -> Result<UnparsedSchema, ApiError> {
        if self.schema.as_deref().is_none_or(|text| text.trim().is_empty()) {
            return Err(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, 42201, "Empty schema"));
        }
        self.to_registration()
    }

    /// The schema it carries, whose text may be empty: a registration takes it from the subject's newest version.
    pub fn to_registration(&self) -> Result<UnparsedSchema, ApiError> {
        let text = self.schema.clone().unwrap_or_default();
        let schema_type = match self.schema_type.as_deref() {
            None | Some("") => SchemaType::Avro,
            Some(name) => name.parse()?,
        };
        let references =
            self.references.iter().flatten().map(ReferenceDto::to_reference).collect::<Result<Vec<_>, _>>()?;
        let contract =
            DataContract { metadata: contract_part(&self.metadata)?, rule_set: contract_part(&self.rule_set)? };
        Ok(UnparsedSchema { schema_type, text, references, contract, normalize: false })
    }
}

/// A `metadata` or `ruleSet` member: absent or `null` is none; a value of the wrong shape is a 400, as Jackson's
/// mapping errors are to Confluent.
pub(crate) fn contract_part<T: serde::de::DeserializeOwned>(
    value: &Option<serde_json::Value>,
) -> Result<Option<T>, ApiError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("invalid data contract in the request body: {e}"))),
    }
}

/// A schema object: `{"subject","version","id",` then the fields of [`SchemaById`].
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaObject<'a> {
    pub subject: &'a str,
    pub version: u32,
    pub id: u32,
    #[serde(flatten)]
    pub fields: SchemaById<'a>,
}

/// `GET /schemas/ids/{id}?subject=&fetchMaxId=`: `{"subject","version",` (a version holding the id, as the
/// subject names it) then the fields of [`SchemaById`], then `maxId` (the largest id of the schema's context).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HeldSchema<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(flatten)]
    pub fields: SchemaById<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_id: Option<u32>,
}

/// `GET /schemas/ids/{id}`: `{"schemaType"?,"schema","references"?,"guid","metadata"?,"ruleSet"?}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaById<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<&'static str>,
    pub schema: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<ReferenceDto>,
    pub guid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'a Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<&'a RuleSet>,
}

/// `schemaType` is omitted for AVRO.
pub(crate) fn schema_type_field(schema_type: SchemaType) -> Option<&'static str> {
    (schema_type != SchemaType::Avro).then_some(schema_type.as_str())
}

/// `PUT /mode` bodies.
#[derive(Debug, Deserialize)]
pub(crate) struct ModeRequest {
    #[serde(deserialize_with = "required_scalar_as_string")]
    pub mode: String,
}

/// A string member as Jackson reads one: a boolean or a number given there is taken as its text (so `true` where a
/// schema is expected is an invalid schema, not a malformed body).
fn scalar_as_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(scalar @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => Ok(Some(scalar.to_string())),
        Some(other) => Err(D::Error::custom(format!("expected a string, found {other}"))),
    }
}

/// [`scalar_as_string`] for a member that must be there.
fn required_scalar_as_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    use serde::de::Error;
    scalar_as_string(deserializer)?.ok_or_else(|| D::Error::custom("the member must not be null"))
}

/// An integer member as Jackson reads one: a number, or a string holding one (`"version": "1"`).
pub(super) fn number_or_numeric_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(number)) => {
            number.as_i64().map(Some).ok_or_else(|| D::Error::custom(format!("{number} is not an integer")))
        }
        Some(serde_json::Value::String(text)) => {
            text.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("'{text}' is not an integer")))
        }
        Some(other) => Err(D::Error::custom(format!("expected an integer, found {other}"))),
    }
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
    /// `GET /contexts`: keep the contexts whose name starts with this.
    pub context_prefix: Option<String>,
    pub latest_only: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub format: Option<String>,
    pub subject: Option<String>,
    /// `GET /schemas/ids/{id}`: add the largest id of the schema's context (`maxId`).
    pub fetch_max_id: Option<String>,
    /// `qualified`: references of a schema of a context other than the default one name their subjects whole.
    pub reference_format: Option<String>,
    /// `DELETE /mode/{context}`: the modes of the context's subjects too.
    pub recursive: Option<String>,
}
